import { describe, expect, it } from 'vitest';
import { FloodDetector, type FloodPolicy } from './flood-detector.js';

const T0 = 1_800_000_000_000;

function detector(policy: Partial<FloodPolicy> = {}, maxSources?: number): FloodDetector {
  const p: FloodPolicy = { enabled: true, threshold: 5, window: 10, ...policy };
  return new FloodDetector(() => p, maxSources);
}

/** The calls (1-based) at which `refused` said "flood", over `n` refusals `stepMs` apart. */
function floodsAt(d: FloodDetector, source: string, n: number, stepMs: number, start = T0): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (d.refused(source, start + (i - 1) * stepMs)) out.push(i);
  return out;
}

describe('FloodDetector', () => {
  it('says flood exactly at the threshold-th refusal within the window, then counts afresh', () => {
    expect(floodsAt(detector(), '203.0.113.1', 12, 1)).toEqual([5, 10]);
  });

  it('refusals spread wider than the window never make a flood', () => {
    // 4 refusals per 10 s window (one every 2.5 s), threshold 5.
    expect(floodsAt(detector(), '203.0.113.1', 40, 2500)).toEqual([]);
  });

  it('counts each source on its own', () => {
    const d = detector();
    for (let i = 0; i < 4; i++) {
      expect(d.refused('203.0.113.1', T0)).toBe(false);
      expect(d.refused('203.0.113.2', T0)).toBe(false);
    }
    expect(d.refused('203.0.113.1', T0)).toBe(true);
    expect(d.refused('203.0.113.2', T0)).toBe(true);
  });

  it('does nothing when disabled', () => {
    expect(floodsAt(detector({ enabled: false }), '203.0.113.1', 100, 1)).toEqual([]);
  });

  it('stays within its size bound: new sources past it are not counted until windows end', () => {
    const d = detector({ threshold: 2 }, 3);
    for (const s of ['a', 'b', 'c']) d.refused(s, T0);
    expect(d.size).toBe(3);
    expect(d.refused('d', T0 + 1)).toBe(false);
    expect(d.refused('d', T0 + 2)).toBe(false); // still not counted: the table is full
    expect(d.size).toBe(3);
    // Once the first windows ended, the sweep makes room.
    expect(d.refused('d', T0 + 10_000)).toBe(false);
    expect(d.refused('d', T0 + 10_001)).toBe(true);
    expect(d.size).toBeLessThanOrEqual(3);
  });
});
