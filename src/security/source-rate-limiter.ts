// Per-source token buckets (SPEC §7 rate limiting): each source address may send `burst`
// messages at once and `rate` per second after that. Checked for every datagram before it is
// parsed, so a known source costs one Map lookup and some arithmetic. Pure: the clock is
// passed in; the limit is read on every call, so a change applies at once.

export interface RateLimit {
  /** Tokens added per second. */
  readonly rate: number;
  /** Bucket size: the most messages a source may send at once. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms); also when the source was last seen. */
  stampMs: number;
}

/** The most a Retry-After says: a limit of rate 0 would otherwise say "never". */
const MAX_RETRY_AFTER = 3600;

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxSources: number;

  constructor(
    private readonly limit: () => RateLimit,
    maxSources = 200_000,
  ) {
    this.maxSources = Math.max(1, Math.floor(maxSources));
  }

  /** Takes one token for `source` (an IP string); false when the bucket is empty. */
  take(source: string, nowMs: number): boolean {
    const l = this.limit();
    const b = this.buckets.get(source);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSources) this.evict(nowMs, l);
      // A new source starts full: the bucket it would have had if it had been idle.
      const ok = l.burst >= 1;
      this.buckets.set(source, { tokens: ok ? l.burst - 1 : l.burst, stampMs: nowMs });
      return ok;
    }
    refill(b, nowMs, l);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until `source` has a token again (≥ 1), for Retry-After. */
  retryAfter(source: string, nowMs: number): number {
    const l = this.limit();
    const b = this.buckets.get(source);
    const tokens = b === undefined ? l.burst : refilled(b, nowMs, l);
    if (tokens >= 1) return 1;
    if (l.burst < 1 || !(l.rate > 0)) return MAX_RETRY_AFTER;
    return Math.min(MAX_RETRY_AFTER, Math.max(1, Math.ceil((1 - tokens) / l.rate)));
  }

  /** Sources with a bucket. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Makes room when the table is full (a flood from many addresses, perhaps spoofed): first
   * buckets that are full again, which lose nothing since a new bucket starts full; then the
   * least recently seen. Down to 90 % of the maximum, so that the O(n) pass runs once per
   * tenth of the table's worth of new sources, not for each.
   */
  private evict(nowMs: number, l: RateLimit): void {
    const target = Math.min(this.maxSources - 1, Math.floor(this.maxSources * 0.9));
    for (const [source, b] of this.buckets) {
      if (refilled(b, nowMs, l) >= l.burst) this.buckets.delete(source);
    }
    const excess = this.buckets.size - target;
    if (excess <= 0) return;
    const stamps = new Float64Array(this.buckets.size);
    let i = 0;
    for (const b of this.buckets.values()) stamps[i++] = b.stampMs;
    stamps.sort();
    const cutoff = stamps[excess - 1]!;
    let left = excess;
    for (const [source, b] of this.buckets) {
      if (b.stampMs < cutoff) {
        this.buckets.delete(source);
        left--;
      }
    }
    // Ties at the cutoff: as many as are still needed, oldest inserted first.
    for (const [source, b] of this.buckets) {
      if (left <= 0) break;
      if (b.stampMs === cutoff) {
        this.buckets.delete(source);
        left--;
      }
    }
  }
}

/** The bucket's tokens at `nowMs`, without changing it. */
function refilled(b: Bucket, nowMs: number, l: RateLimit): number {
  const elapsed = nowMs - b.stampMs;
  // A clock stepping back adds nothing; a lowered burst caps what is already there.
  const tokens = elapsed > 0 && l.rate > 0 ? b.tokens + (elapsed * l.rate) / 1000 : b.tokens;
  return tokens < l.burst ? tokens : l.burst;
}

function refill(b: Bucket, nowMs: number, l: RateLimit): void {
  b.tokens = refilled(b, nowMs, l);
  if (nowMs > b.stampMs) b.stampMs = nowMs;
}
