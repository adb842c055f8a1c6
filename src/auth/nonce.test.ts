import { describe, expect, it } from 'vitest';
import { NonceService } from './nonce.js';

const secret = Buffer.alloc(32, 7);
const T0 = 1_800_000_000_000;

describe('NonceService', () => {
  it('accepts its own fresh nonce once per nonce-count', () => {
    const n = new NonceService({ secret, lifetime: 300 }, T0);
    const nonce = n.issue(T0);
    expect(n.check(nonce, 1, T0 + 1000, true)).toBe('ok');
    expect(n.check(nonce, 1, T0 + 2000, true)).toBe('replay');
    expect(n.check(nonce, 2, T0 + 2000, true)).toBe('ok');
    expect(n.check(nonce, 2, T0 + 2000, true)).toBe('replay');
  });

  it('does not burn the nonce-count when not committing (wrong password)', () => {
    const n = new NonceService({ secret, lifetime: 300 }, T0);
    const nonce = n.issue(T0);
    expect(n.check(nonce, 1, T0, false)).toBe('ok');
    expect(n.check(nonce, 1, T0, true)).toBe('ok');
  });

  it('is stale after its lifetime', () => {
    const n = new NonceService({ secret, lifetime: 30 }, T0);
    const nonce = n.issue(T0);
    expect(n.check(nonce, 1, T0 + 29_000, false)).toBe('ok');
    expect(n.check(nonce, 1, T0 + 30_000, false)).toBe('stale');
  });

  it('rejects a tampered nonce and one signed with another secret', () => {
    const n = new NonceService({ secret, lifetime: 300 }, T0);
    const nonce = n.issue(T0);
    const flipped = (nonce[5] === 'A' ? 'B' : 'A');
    expect(n.check(nonce.slice(0, 5) + flipped + nonce.slice(6), 1, T0, false)).toBe('invalid');
    const other = new NonceService({ secret: Buffer.alloc(32, 8), lifetime: 300 }, T0);
    expect(n.check(other.issue(T0), 1, T0, false)).toBe('invalid');
    expect(n.check('garbage', 1, T0, false)).toBe('invalid');
    expect(n.check('', 1, T0, false)).toBe('invalid');
  });

  it('treats nonces from before a restart as stale (their replay state is gone)', () => {
    const before = new NonceService({ secret, lifetime: 300 }, T0);
    const nonce = before.issue(T0);
    const after = new NonceService({ secret, lifetime: 300 }, T0 + 5000);
    expect(after.check(nonce, 1, T0 + 5000, false)).toBe('stale');
  });

  it('treats a nonce whose replay slot was recycled as stale', () => {
    const n = new NonceService({ secret, lifetime: 300, slotBits: 4 }, T0);
    const first = n.issue(T0);
    for (let i = 0; i < 16; i++) n.issue(T0);
    expect(n.check(first, 1, T0, false)).toBe('stale');
    const recent = n.issue(T0);
    expect(n.check(recent, 1, T0, false)).toBe('ok');
  });

  it('gives every challenge a different nonce', () => {
    const n = new NonceService({ secret, lifetime: 300 }, T0);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(n.issue(T0));
    expect(seen.size).toBe(1000);
  });
});
