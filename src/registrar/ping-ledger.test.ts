import { describe, expect, it } from 'vitest';
import { PingLedger } from './ping-ledger.js';

const T0 = 1_800_000_000_000;

describe('PingLedger', () => {
  it('keeps a ping until it is cleared: awaited until answered, then found with its answer and round-trip time', () => {
    const l = new PingLedger();
    expect(l.awaiting(7)).toBe(-1);
    l.sent(7, T0, 42);
    expect(l.size).toBe(1);
    const e = l.awaiting(7);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(l.ticket(e)).toBe(42);
    expect(l.answeredAt(e)).toBe(0);
    // Arrived 30 ms after the visit, of which 4.4 ms the ping waited in a queue.
    l.answer(e, T0 + 30, 4.4);
    expect(l.awaiting(7)).toBe(-1);
    expect(l.find(7)).toBe(e);
    expect(l.answeredAt(e)).toBe(T0 + 30);
    expect(l.rttMs(e)).toBe(26);
    l.clear(e);
    expect(l.find(7)).toBe(-1);
    expect(l.size).toBe(0);
    l.clear(e);
    expect(l.size).toBe(0);
  });

  it('a round-trip time is never negative (a queue wait longer than the clock saw)', () => {
    const l = new PingLedger();
    l.sent(1, T0, 0);
    const e = l.awaiting(1);
    l.answer(e, T0 + 2, 1e6);
    expect(l.rttMs(e)).toBe(0);
  });

  it('a ping one capacity younger takes the older one\'s place: the older is found no more', () => {
    const l = new PingLedger(1024);
    expect(l.capacity).toBe(1024);
    l.sent(5, T0, -1);
    l.sent(5 + 1024, T0 + 1, -1);
    expect(l.find(5)).toBe(-1);
    expect(l.awaiting(5 + 1024)).toBeGreaterThanOrEqual(0);
    expect(l.size).toBe(1);
  });

  it('reserve() grows it to twice the endpoints, keeping every entry and its answer', () => {
    const l = new PingLedger(1024);
    for (let seq = 0; seq < 1000; seq++) l.sent(seq, T0 + seq, seq);
    l.answer(l.awaiting(10), T0 + 50, 0);
    l.reserve(512);
    expect(l.capacity).toBe(1024);
    l.reserve(3000);
    expect(l.capacity).toBe(8192);
    expect(l.size).toBe(1000);
    const e = l.find(10);
    expect(l.answeredAt(e)).toBe(T0 + 50);
    expect(l.rttMs(e)).toBe(40);
    for (let seq = 0; seq < 1000; seq++) if (seq !== 10) expect(l.ticket(l.awaiting(seq))).toBe(seq);
  });
});
