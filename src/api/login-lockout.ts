// Console login brute-force lockout: failed logins are counted per user name and per source
// address over a sliding window; at the limit that user (or address) is locked for a while,
// and even the right password is refused until it ends. Pure: the clock is passed in.

export interface LockoutPolicy {
  readonly maxFailures: number;
  /** Seconds over which failures count. */
  readonly window: number;
  /** Seconds a lock lasts. */
  readonly duration: number;
}

interface Tally {
  /** Times of failures within the window, oldest first. */
  failures: number[];
  lockedUntil: number;
}

/** Most keys tracked; an attacker spraying names or addresses cannot grow it without bound. */
const MAX_KEYS = 100_000;

export class LoginLockout {
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly policy: () => LockoutPolicy) {}

  /** Seconds until every given key is unlocked (0: none is locked). */
  lockedFor(keys: readonly string[], nowMs: number): number {
    let until = 0;
    for (const k of keys) until = Math.max(until, this.tallies.get(k)?.lockedUntil ?? 0);
    return until > nowMs ? Math.ceil((until - nowMs) / 1000) : 0;
  }

  /** Records a failure against every key; returns the seconds of a lock it started (0: none). */
  fail(keys: readonly string[], nowMs: number): number {
    const p = this.policy();
    let locked = 0;
    for (const k of keys) {
      let t = this.tallies.get(k);
      if (t === undefined) {
        if (this.tallies.size >= MAX_KEYS) this.sweep(nowMs);
        // Every slot holds a lock in force: this key goes uncounted rather than evict one.
        if (this.tallies.size >= MAX_KEYS) continue;
        t = { failures: [], lockedUntil: 0 };
        this.tallies.set(k, t);
      }
      if (t.lockedUntil <= nowMs) t.lockedUntil = 0; // an ended lock must not stop succeed() clearing the count
      const from = nowMs - p.window * 1000;
      while (t.failures.length > 0 && t.failures[0]! <= from) t.failures.shift();
      t.failures.push(nowMs);
      if (t.failures.length >= p.maxFailures) {
        t.lockedUntil = nowMs + p.duration * 1000;
        t.failures = [];
        locked = p.duration;
      }
    }
    return locked;
  }

  /** A successful login clears the user's count (not the address's: one good password does not
   * excuse a spray of guesses at other users from the same place). */
  succeed(key: string): void {
    const t = this.tallies.get(key);
    if (t !== undefined && t.lockedUntil === 0) this.tallies.delete(key);
  }

  /** Lifts a lock (an admin resetting a user). */
  clear(key: string): void {
    this.tallies.delete(key);
  }

  private sweep(nowMs: number): void {
    const from = nowMs - this.policy().window * 1000;
    for (const [k, t] of this.tallies) {
      if (t.lockedUntil <= nowMs && (t.failures.length === 0 || t.failures[t.failures.length - 1]! <= from)) this.tallies.delete(k);
    }
    // Still full of live counts (a spray from many addresses): drop counts, never locks, so
    // that flooding the table cannot lift a lock that is in force.
    if (this.tallies.size >= MAX_KEYS) {
      for (const [k, t] of this.tallies) if (t.lockedUntil <= nowMs) this.tallies.delete(k);
    }
  }
}

export function userKey(name: string): string {
  return `user:${name.toLowerCase()}`;
}

export function addressKey(address: string): string {
  return `addr:${address}`;
}
