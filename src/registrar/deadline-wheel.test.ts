import { describe, expect, it } from 'vitest';
import { DeadlineWheel } from './deadline-wheel.js';

const item = (name: string) => ({ name, wheelSlot: -1 });

describe('DeadlineWheel', () => {
  it('collects an item at its deadline, never before', () => {
    const w = new DeadlineWheel<ReturnType<typeof item>>(0);
    const a = item('a');
    w.schedule(a, 10_500);
    expect(w.collect(10_499)).toEqual([]);
    expect(w.collect(10_999)).toEqual([]);
    expect(w.collect(11_000)).toEqual([a]);
    expect(w.size).toBe(0);
    expect(a.wheelSlot).toBe(-1);
  });

  it('moves an item when rescheduled and forgets a cancelled one', () => {
    const w = new DeadlineWheel<ReturnType<typeof item>>(0);
    const a = item('a');
    const b = item('b');
    w.schedule(a, 5_000);
    w.schedule(b, 5_000);
    w.schedule(a, 20_000);
    w.cancel(b);
    expect(w.size).toBe(1);
    expect(w.collect(6_000)).toEqual([]);
    expect(w.collect(20_000)).toEqual([a]);
  });

  it('files a past deadline for the next collection', () => {
    const w = new DeadlineWheel<ReturnType<typeof item>>(100_000);
    const a = item('a');
    w.schedule(a, 1_000);
    expect(w.collect(100_000)).toEqual([a]);
  });

  it('catches up after a long pause in deadline order', () => {
    const w = new DeadlineWheel<ReturnType<typeof item>>(0);
    const items = [item('late'), item('early'), item('mid')];
    w.schedule(items[0]!, 9_000_000);
    w.schedule(items[1]!, 2_000);
    w.schedule(items[2]!, 50_000);
    expect(w.collect(10_000_000).map((i) => i.name)).toEqual(['early', 'mid', 'late']);
  });

  it('holds a million items without a timer each', () => {
    const w = new DeadlineWheel<ReturnType<typeof item>>(0);
    for (let i = 0; i < 1_000_000; i++) w.schedule(item(String(i)), 1000 + (i % 3600) * 1000);
    expect(w.size).toBe(1_000_000);
    let n = 0;
    for (let t = 1000; t <= 3_601_000; t += 1000) n += w.collect(t).length;
    expect(n).toBe(1_000_000);
  });
});
