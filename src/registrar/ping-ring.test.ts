import { describe, expect, it } from 'vitest';
import { PingRing, type RingItem } from './ping-ring.js';

interface Item extends RingItem {
  readonly n: number;
}
const item = (n: number): Item => ({ n, pingSlot: -1 });

/** A deterministic uniform source (mulberry32). */
function lcg(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PingRing', () => {
  it('visits every item exactly once per turn', () => {
    const ring = new PingRing<Item>(300, lcg());
    const items = Array.from({ length: 10_000 }, (_, i) => item(i));
    for (const it of items) ring.add(it);
    const seen = new Map<number, number>();
    for (let t = 0; t < 300; t++) for (const it of ring.next()) seen.set(it.n, (seen.get(it.n) ?? 0) + 1);
    expect(seen.size).toBe(10_000);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
  });

  it('spreads 100,000 items registered at once over the whole turn: no slot far above the mean', () => {
    const ring = new PingRing<Item>(300, lcg(7)); // 30 s interval, 100 ms ticks
    for (let i = 0; i < 100_000; i++) ring.add(item(i));
    const perSlot = Array.from({ length: 300 }, () => ring.next().length);
    const mean = 100_000 / 300;
    expect(Math.max(...perSlot)).toBeLessThan(mean * 1.25);
    expect(Math.min(...perSlot)).toBeGreaterThan(mean * 0.75);
  });

  it('adding an item twice keeps one place; a removed item is not visited', () => {
    const ring = new PingRing<Item>(10, lcg());
    const a = item(1);
    const b = item(2);
    ring.add(a);
    const slot = a.pingSlot;
    ring.add(a);
    expect(a.pingSlot).toBe(slot);
    ring.add(b);
    expect(ring.size).toBe(2);
    ring.remove(b);
    expect(b.pingSlot).toBe(-1);
    expect(ring.size).toBe(1);
    const visited = Array.from({ length: 10 }, () => ring.next()).flat();
    expect(visited).toEqual([a]);
  });

  it('a new slot count places every item again, each still visited once per turn', () => {
    const ring = new PingRing<Item>(10, lcg());
    for (let i = 0; i < 100; i++) ring.add(item(i));
    ring.resize(50);
    expect(ring.slotCount).toBe(50);
    expect(ring.size).toBe(100);
    const visited = Array.from({ length: 50 }, () => ring.next()).flat();
    expect(new Set(visited.map((i) => i.n)).size).toBe(100);
    expect(visited).toHaveLength(100);
  });
});
