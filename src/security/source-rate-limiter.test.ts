import { describe, expect, it } from 'vitest';
import { SourceRateLimiter, type RateLimit } from './source-rate-limiter.js';

const T0 = 1_800_000_000_000;
const A = '198.51.100.7';
const B = '203.0.113.9';

function limiter(limit: RateLimit, maxSources?: number): SourceRateLimiter {
  return new SourceRateLimiter(() => limit, maxSources);
}

/** How many of `n` takes at one instant succeed. */
function takes(l: SourceRateLimiter, source: string, n: number, nowMs: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (l.take(source, nowMs)) ok++;
  return ok;
}

describe('SourceRateLimiter: buckets', () => {
  it('a new source starts with a full bucket: burst messages at once, then refused', () => {
    const l = limiter({ rate: 1, burst: 3 });
    expect(l.take(A, T0)).toBe(true);
    expect(l.take(A, T0)).toBe(true);
    expect(l.take(A, T0)).toBe(true);
    expect(l.take(A, T0)).toBe(false);
    expect(l.take(A, T0)).toBe(false);
  });

  it('refills continuously at rate tokens per second', () => {
    const l = limiter({ rate: 2, burst: 2 });
    expect(takes(l, A, 2, T0)).toBe(2);
    expect(l.take(A, T0 + 499)).toBe(false);
    expect(l.take(A, T0 + 500)).toBe(true);
    expect(l.take(A, T0 + 500)).toBe(false);
    // Refused takes do not throw away what accrued: 250 ms + 250 ms make a token.
    expect(l.take(A, T0 + 750)).toBe(false);
    expect(l.take(A, T0 + 1_000)).toBe(true);
  });

  it('a fractional rate: one token every four seconds', () => {
    const l = limiter({ rate: 0.25, burst: 1 });
    expect(l.take(A, T0)).toBe(true);
    expect(l.take(A, T0 + 3_999)).toBe(false);
    expect(l.take(A, T0 + 4_000)).toBe(true);
  });

  it('refill stops at burst however long the source was idle', () => {
    const l = limiter({ rate: 10, burst: 5 });
    expect(takes(l, A, 5, T0)).toBe(5);
    expect(takes(l, A, 100, T0 + 3_600_000)).toBe(5);
  });

  it('a steady sender at the rate is never refused; one above it is held to the rate', () => {
    const l = limiter({ rate: 10, burst: 20 });
    for (let i = 0; i < 1_000; i++) expect(l.take(A, T0 + i * 100)).toBe(true);
    // 50 per second for 10 s: the burst plus 10 per second.
    let ok = 0;
    for (let i = 0; i < 500; i++) if (l.take(B, T0 + i * 20)) ok++;
    expect(ok).toBe(20 + 100 - 1);
  });

  it('sources have their own buckets', () => {
    const l = limiter({ rate: 1, burst: 2 });
    expect(takes(l, A, 5, T0)).toBe(2);
    expect(takes(l, B, 5, T0)).toBe(2);
    expect(takes(l, '2001:db8::1', 5, T0)).toBe(2);
    expect(l.size).toBe(3);
  });

  it('a clock stepping back adds no tokens and does not throw', () => {
    const l = limiter({ rate: 1, burst: 1 });
    expect(l.take(A, T0)).toBe(true);
    expect(l.take(A, T0 - 10_000)).toBe(false);
    expect(l.take(A, T0 + 999)).toBe(false);
    expect(l.take(A, T0 + 1_000)).toBe(true);
  });
});

describe('SourceRateLimiter: a changed limit applies at once', () => {
  it('a lower burst caps a bucket that was fuller', () => {
    let limit: RateLimit = { rate: 1, burst: 10 };
    const l = new SourceRateLimiter(() => limit);
    expect(l.take(A, T0)).toBe(true); // 9 left
    limit = { rate: 1, burst: 2 };
    expect(takes(l, A, 10, T0)).toBe(2);
  });

  it('a higher rate refills faster from the next call', () => {
    let limit: RateLimit = { rate: 1, burst: 1 };
    const l = new SourceRateLimiter(() => limit);
    expect(l.take(A, T0)).toBe(true);
    expect(l.take(A, T0 + 100)).toBe(false);
    limit = { rate: 100, burst: 1 };
    expect(l.take(A, T0 + 110)).toBe(true);
  });

  it('a higher burst lets a bucket fill further, not at once', () => {
    let limit: RateLimit = { rate: 1, burst: 1 };
    const l = new SourceRateLimiter(() => limit);
    expect(l.take(A, T0)).toBe(true);
    limit = { rate: 1, burst: 5 };
    expect(takes(l, A, 10, T0)).toBe(0);
    expect(takes(l, A, 10, T0 + 60_000)).toBe(5);
  });

  it('rate 0 never refills; a burst below 1 refuses everything', () => {
    const none = limiter({ rate: 0, burst: 2 });
    expect(takes(none, A, 5, T0)).toBe(2);
    expect(none.take(A, T0 + 86_400_000)).toBe(false);
    const closed = limiter({ rate: 100, burst: 0 });
    expect(closed.take(A, T0)).toBe(false);
    expect(closed.take(A, T0 + 60_000)).toBe(false);
  });
});

describe('SourceRateLimiter: Retry-After', () => {
  it('1 for an unknown source and for one with a token', () => {
    const l = limiter({ rate: 0.5, burst: 2 });
    expect(l.retryAfter(A, T0)).toBe(1);
    l.take(A, T0);
    expect(l.retryAfter(A, T0)).toBe(1);
  });

  it('the seconds until the next token, rounded up', () => {
    const l = limiter({ rate: 0.25, burst: 1 });
    l.take(A, T0);
    expect(l.retryAfter(A, T0)).toBe(4);
    expect(l.retryAfter(A, T0 + 1_000)).toBe(3);
    expect(l.retryAfter(A, T0 + 3_500)).toBe(1);
    expect(l.retryAfter(A, T0 + 4_000)).toBe(1);
  });

  it('never below 1 for fast rates', () => {
    const l = limiter({ rate: 1_000, burst: 1 });
    l.take(A, T0);
    expect(l.take(A, T0)).toBe(false);
    expect(l.retryAfter(A, T0)).toBe(1);
  });

  it('does not use a token', () => {
    const l = limiter({ rate: 1, burst: 1 });
    for (let i = 0; i < 5; i++) l.retryAfter(A, T0);
    expect(l.take(A, T0)).toBe(true);
  });

  it('an hour when the bucket can never refill', () => {
    const none = limiter({ rate: 0, burst: 1 });
    none.take(A, T0);
    expect(none.retryAfter(A, T0)).toBe(3600);
    expect(limiter({ rate: 1, burst: 0.5 }).retryAfter(A, T0)).toBe(3600);
    const slow = limiter({ rate: 0.0001, burst: 1 });
    slow.take(A, T0);
    expect(slow.retryAfter(A, T0)).toBe(3600);
  });
});

describe('SourceRateLimiter: memory bound', () => {
  it('a full table drops buckets that are full again first', () => {
    const l = limiter({ rate: 1, burst: 2 }, 10);
    // Five idle sources (one take each, refilled after a second) and five busy ones (empty).
    for (let i = 0; i < 5; i++) l.take(`10.0.0.${i}`, T0);
    for (let i = 0; i < 5; i++) takes(l, `10.0.1.${i}`, 2, T0 + 900);
    expect(l.size).toBe(10);
    expect(l.take('10.0.2.0', T0 + 1_000)).toBe(true);
    expect(l.size).toBe(6);
    // The busy ones kept their empty buckets.
    for (let i = 0; i < 5; i++) expect(l.take(`10.0.1.${i}`, T0 + 1_000)).toBe(false);
  });

  it('then the least recently seen, down to 90 % of the maximum', () => {
    const l = limiter({ rate: 1, burst: 1 }, 20);
    for (let i = 0; i < 20; i++) l.take(`10.0.0.${i}`, T0 + i);
    // Seen again recently, so no longer among the oldest.
    l.take('10.0.0.0', T0 + 30);
    expect(l.take('10.0.1.0', T0 + 40)).toBe(true);
    // Down to 18 (two least recently seen, 10.0.0.1 and 10.0.0.2, dropped), then the new one.
    expect(l.size).toBe(19);
    expect(l.take('10.0.0.0', T0 + 40)).toBe(false);
    for (let i = 3; i < 20; i++) expect(l.take(`10.0.0.${i}`, T0 + 40)).toBe(false);
    expect(l.take('10.0.0.1', T0 + 40)).toBe(true);
    expect(l.take('10.0.0.2', T0 + 40)).toBe(true);
    expect(l.size).toBe(19);
  });

  it('a flooder stays limited while a spray of new sources churns the table', () => {
    const l = limiter({ rate: 1, burst: 5 }, 100);
    let flooderOk = 0;
    for (let i = 0; i < 10_000; i++) {
      const now = T0 + i;
      if (l.take(A, now)) flooderOk++;
      l.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, now);
      expect(l.size).toBeLessThanOrEqual(100);
    }
    // 9.999 s: the burst and nine refills; never a fresh bucket.
    expect(flooderOk).toBe(5 + 9);
  });

  it('never throws, even with a table of one', () => {
    const one = limiter({ rate: 1, burst: 1 }, 1);
    for (let i = 0; i < 100; i++) expect(one.take(`10.0.0.${i}`, T0)).toBe(true);
    expect(one.size).toBe(1);
    const zero = limiter({ rate: 1, burst: 1 }, 0);
    expect(zero.take(A, T0)).toBe(true);
    expect(zero.take(B, T0)).toBe(true);
    expect(zero.size).toBe(1);
  });

  it('holds the default bound of 200,000 under 300,000 distinct sources, in bounded time', () => {
    // Slow refill: no bucket is full again, so every sweep must drop the least recently seen.
    const l = new SourceRateLimiter(() => ({ rate: 0.001, burst: 20 }));
    const started = performance.now();
    for (let i = 0; i < 300_000; i++) {
      l.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0 + i);
      l.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0 + i);
    }
    expect(l.size).toBeLessThanOrEqual(200_000);
    expect(l.size).toBeGreaterThan(180_000);
    // Amortised: a sweep per 20,000 new sources, not per source.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
