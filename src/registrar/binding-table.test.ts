import { describe, expect, it } from 'vitest';
import { Binding } from './binding.js';
import { BindingTable } from './binding-table.js';

const T0 = 1_800_000_000_000;
function binding(id: number, aor: string, expires = 600): Binding {
  return new Binding(id, aor, 'u', 'example.com', `sip:u@10.0.0.${id}`, null, null, null, `c${id}`, 1, expires, T0 + expires * 1000, T0, T0, '10.0.0.1', 5060, 'UDP', '10.0.0.254', 5060, null, [], false);
}

describe('BindingTable', () => {
  it('keeps one or several bindings per AOR and removes them in any order', () => {
    const t = new BindingTable(T0, () => 0.1);
    const [a, b, c] = [binding(1, 'sip:u@example.com'), binding(2, 'sip:u@example.com'), binding(3, 'sip:u@example.com')];
    t.put(a);
    expect(t.of('sip:u@example.com')).toEqual([a]);
    t.put(b);
    t.put(c);
    t.put(b); // a refresh is not a second entry
    expect(t.of('sip:u@example.com')).toEqual([a, b, c]);
    expect(t.size).toBe(3);
    expect(t.remove(b)).toBe(true);
    expect(t.remove(b)).toBe(false);
    expect(t.of('sip:u@example.com')).toEqual([a, c]);
    t.remove(a);
    expect(t.of('sip:u@example.com')).toEqual([c]);
    t.remove(c);
    expect(t.of('sip:u@example.com')).toEqual([]);
    expect(t.size).toBe(0);
    expect(t.aorCount).toBe(0);
  });

  it('lists every binding of every AOR', () => {
    const t = new BindingTable(T0, () => 0.1);
    t.put(binding(1, 'sip:a@example.com'));
    t.put(binding(2, 'sip:b@example.com'));
    t.put(binding(3, 'sip:b@example.com'));
    expect([...t.all()].map((b) => b.id).sort()).toEqual([1, 2, 3]);
  });

  it('reports Expiring once, then expiry, and removes the expired binding', () => {
    const t = new BindingTable(T0, () => 0.1);
    const b = binding(1, 'sip:a@example.com', 100);
    t.put(b);
    expect(t.tick(T0 + 89_000)).toEqual({ expiring: [], expired: [] });
    expect(t.tick(T0 + 91_000)).toEqual({ expiring: [b], expired: [] });
    expect(t.tick(T0 + 95_000)).toEqual({ expiring: [], expired: [] });
    expect(t.tick(T0 + 100_000)).toEqual({ expiring: [], expired: [b] });
    expect(t.size).toBe(0);
  });
});
