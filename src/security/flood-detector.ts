// Flood detection (SPEC §7): a source whose requests keep being refused for its rate limit is
// not a phone having a bad minute but a flood, and is worth blocking outright — a block is
// cheaper than a rate check, and with the kernel filter (kernel-filter.ts) costs this process
// nothing at all. Counts refusals, not requests: a source within its limit is never counted.
// Pure: the clock is passed in, the policy read on every call.
//
// Fixed windows per source are enough here: the threshold is far above anything a
// misconfigured phone produces (one that retries too fast sends tens a second, not hundreds),
// so the window's edge cannot turn a phone into a flood.

export interface FloodPolicy {
  readonly enabled: boolean;
  /** Refusals within `window` that make a flood. */
  readonly threshold: number;
  /** Seconds over which refusals count. */
  readonly window: number;
}

interface Count {
  startMs: number;
  n: number;
}

export class FloodDetector {
  private readonly counts = new Map<string, Count>();
  private readonly maxSources: number;
  /** When the table was last swept: a full table of live counts is swept once a second at most. */
  private sweptMs = -Infinity;

  constructor(
    private readonly policy: () => FloodPolicy,
    maxSources = 100_000,
  ) {
    this.maxSources = Math.max(1, Math.floor(maxSources));
  }

  /**
   * Records one rate-limit refusal for `source`. True exactly once when its refusals reach
   * the threshold within the window; the count then starts again, so a source whose block
   * is lifted while it still floods is caught again.
   */
  refused(source: string, nowMs: number): boolean {
    const p = this.policy();
    if (!p.enabled) return false;
    const windowMs = p.window * 1000;
    let c = this.counts.get(source);
    if (c === undefined || nowMs - c.startMs >= windowMs) {
      if (c === undefined && this.counts.size >= this.maxSources && !this.evict(nowMs, windowMs)) return false;
      c = { startMs: nowMs, n: 0 };
      this.counts.set(source, c);
    }
    if (++c.n < p.threshold) return false;
    this.counts.delete(source);
    return true;
  }

  /** Sources being counted. */
  get size(): number {
    return this.counts.size;
  }

  /** Forgets counts whose window has ended; false when none had (the newcomer is not counted). */
  private evict(nowMs: number, windowMs: number): boolean {
    if (nowMs - this.sweptMs < 1000) return false;
    this.sweptMs = nowMs;
    for (const [s, c] of this.counts) if (nowMs - c.startMs >= windowMs) this.counts.delete(s);
    return this.counts.size < this.maxSources;
  }
}
