import { describe, expect, it } from 'vitest';
import type { FailureRecord } from '../store/store.js';
import { FailureAggregator } from './failure-aggregator.js';

const T0 = 1_800_000_000_000;

function sorted(rows: FailureRecord[]): FailureRecord[] {
  return [...rows].sort((a, b) => a.reason.localeCompare(b.reason) || a.sourceAddress.localeCompare(b.sourceAddress));
}

describe('FailureAggregator', () => {
  it('drains nothing when nothing was refused', () => {
    expect(new FailureAggregator().drain()).toEqual([]);
  });

  it('one refusal is one row with count 1 and no detail', () => {
    const a = new FailureAggregator();
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0);
    expect(a.drain()).toEqual([
      {
        time: T0,
        sourceAddress: '203.0.113.9',
        sourcePort: 5060,
        transport: 'UDP',
        username: null,
        userAgent: null,
        reason: 'rate-limited',
        detail: null,
        count: 1,
      },
    ]);
  });

  it('counts repeats of a (reason, source) pair in one row: first time, last port, count in detail', () => {
    const a = new FailureAggregator();
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0);
    a.note('203.0.113.9', 5061, 'UDP', 'rate-limited', T0 + 100);
    a.note('203.0.113.9', 5062, 'UDP', 'rate-limited', T0 + 200);
    expect(a.drain()).toEqual([
      {
        time: T0,
        sourceAddress: '203.0.113.9',
        sourcePort: 5062,
        transport: 'UDP',
        username: null,
        userAgent: null,
        reason: 'rate-limited',
        detail: '3 messages refused in this second',
        count: 3,
      },
    ]);
  });

  it('keeps one row per pair: sources and reasons apart', () => {
    const a = new FailureAggregator();
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0);
    a.note('203.0.113.9', 5060, 'UDP', 'blocked-address', T0 + 1);
    a.note('203.0.113.10', 5070, 'TCP', 'rate-limited', T0 + 2);
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0 + 3);
    a.note('203.0.113.9', 5060, 'UDP', 'blocked-address', T0 + 4);
    a.note('203.0.113.9', 5060, 'UDP', 'blocked-address', T0 + 5);
    const rows = sorted(a.drain());
    expect(rows.map((r) => [r.reason, r.sourceAddress, r.sourcePort, r.transport, r.count, r.time])).toEqual([
      ['blocked-address', '203.0.113.9', 5060, 'UDP', 3, T0 + 1],
      ['rate-limited', '203.0.113.10', 5070, 'TCP', 1, T0 + 2],
      ['rate-limited', '203.0.113.9', 5060, 'UDP', 2, T0],
    ]);
  });

  it('drain empties it: the next drain starts from zero', () => {
    const a = new FailureAggregator();
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0);
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0);
    expect(a.drain()).toHaveLength(1);
    expect(a.drain()).toEqual([]);
    a.note('203.0.113.9', 5060, 'UDP', 'rate-limited', T0 + 1000);
    expect(a.drain().map((r) => [r.time, r.count, r.detail])).toEqual([[T0 + 1000, 1, null]]);
  });

  it('past 10,000 distinct pairs counts the rest in one row from source "*"', () => {
    const a = new FailureAggregator();
    for (let i = 0; i < 10_000; i++) a.note(`10.0.${i >> 8}.${i & 255}`, 5060, 'UDP', 'rate-limited', T0);
    a.note('10.200.0.1', 5060, 'UDP', 'rate-limited', T0 + 10);
    a.note('10.200.0.2', 5060, 'UDP', 'rate-limited', T0 + 20);
    a.note('10.200.0.1', 5060, 'UDP', 'rate-limited', T0 + 30);
    // A pair already held still counts in its own row.
    a.note('10.0.0.0', 5060, 'UDP', 'rate-limited', T0 + 40);
    const rows = a.drain();
    expect(rows).toHaveLength(10_001);
    expect(rows.find((r) => r.sourceAddress === '10.0.0.0')?.count).toBe(2);
    expect(rows.filter((r) => r.sourceAddress.startsWith('10.200.'))).toEqual([]);
    expect(rows[rows.length - 1]).toEqual({
      time: T0 + 10,
      sourceAddress: '*',
      sourcePort: 0,
      transport: '*',
      username: null,
      userAgent: null,
      reason: 'rate-limited',
      detail: '3 messages from more than 10000 other sources',
      count: 3,
    });
  });

  it('the overflow is emptied by drain too', () => {
    const a = new FailureAggregator();
    for (let i = 0; i < 10_001; i++) a.note(`10.0.${i >> 8}.${i & 255}`, 5060, 'UDP', 'rate-limited', T0);
    expect(a.drain().filter((r) => r.sourceAddress === '*')).toHaveLength(1);
    a.note('10.200.0.1', 5060, 'UDP', 'rate-limited', T0 + 1000);
    expect(a.drain().map((r) => r.sourceAddress)).toEqual(['10.200.0.1']);
  });
});
