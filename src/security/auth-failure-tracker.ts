// Brute-force counting for SIP digest authentication (SPEC §7): failed authentications are
// counted per source address, per username across addresses, and per registration attempt
// (Call-ID), and each failure gets a verdict: block the source, block the username, answer
// 403 instead of a new challenge. The caller stores and enforces the blocks; this only counts.
// Pure: the clock is passed in, the policy is read on every call.
//
// Windows slide: a rule counts the failures of the last `window` seconds, whenever they came,
// so an attacker cannot fit twice the limit around a fixed window's boundary. A key keeps at
// most its limit's worth of failure times.

export interface AuthFailurePolicy {
  /** Failures from one source address within `window` that block it (0: never). */
  readonly maxFailures: number;
  /** Seconds over which failures count. */
  readonly window: number;
  /** Also count failures per username, from any address. */
  readonly perUsername: boolean;
  /** Failures for one username within `window` that block it (0: never). */
  readonly maxUsernameFailures: number;
  /** A registration attempt (same Call-ID) failing more than this within `window` → 403. */
  readonly maxAttemptsPerCallId: number;
}

export interface FailureVerdict {
  /** The source reached maxFailures: block it (the caller stores the block). */
  readonly blockSource: boolean;
  /** The username reached maxUsernameFailures (perUsername on): block the username. */
  readonly blockUsername: boolean;
  /** This Call-ID failed more than maxAttemptsPerCallId times: answer 403, not a new challenge. */
  readonly forbid: boolean;
}

// Every verdict is one of these eight: fail() allocates none.
const VERDICTS: readonly FailureVerdict[] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ blockSource: (i & 1) !== 0, blockUsername: (i & 2) !== 0, forbid: (i & 4) !== 0 }),
);

export class AuthFailureTracker {
  private readonly sources: FailureCounts;
  private readonly usernames: FailureCounts;
  private readonly callIds: FailureCounts;

  /** `maxKeys` bounds each of the three count tables (sources, usernames, Call-IDs). */
  constructor(
    private readonly policy: () => AuthFailurePolicy,
    maxKeys = 200_000,
  ) {
    const max = Math.max(1, Math.floor(maxKeys));
    this.sources = new FailureCounts(max);
    this.usernames = new FailureCounts(max);
    this.callIds = new FailureCounts(max);
  }

  /**
   * Records one failed authentication. Reaching a block limit says so once and starts that
   * count again from zero: the caller blocks, and should failures still come (the block
   * ended, or was lifted), the next `max` of them cross again. An empty username or Call-ID
   * is not counted under that rule.
   */
  fail(source: string, username: string, callId: string, nowMs: number): FailureVerdict {
    const p = this.policy();
    const windowMs = p.window * 1000;
    const maxFailures = Math.floor(p.maxFailures);
    const maxUsernameFailures = Math.floor(p.maxUsernameFailures);
    const allowed = Math.max(0, Math.floor(p.maxAttemptsPerCallId));
    let verdict = 0;

    if (maxFailures >= 1 && this.sources.add(source, nowMs, windowMs, maxFailures) >= maxFailures) {
      this.sources.delete(source);
      verdict |= 1;
    }
    if (p.perUsername && username !== '' && maxUsernameFailures >= 1 && this.usernames.add(username, nowMs, windowMs, maxUsernameFailures) >= maxUsernameFailures) {
      this.usernames.delete(username);
      verdict |= 2;
    }
    // Not reset when over: every further failure of that attempt is refused, until its
    // failures age out of the window.
    if (callId !== '' && this.callIds.add(callId, nowMs, windowMs, allowed + 1) > allowed) verdict |= 4;
    return VERDICTS[verdict]!;
  }

  /** A successful authentication forgets that Call-ID's count and the username's count (not
   * the source's: one right password does not excuse a spray of guesses at other accounts
   * from the same address). */
  succeed(_source: string, username: string, callId: string): void {
    this.usernames.delete(username);
    this.callIds.delete(callId);
  }

  /** Keys counted, over the three tables (each holds at most `maxKeys`). */
  get size(): number {
    return this.sources.size + this.usernames.size + this.callIds.size;
  }

  /** Forget a source's count (an operator unblocked it). */
  forgetSource(source: string): void {
    this.sources.delete(source);
  }

  /** Forget a username's count (an operator unblocked it). */
  forgetUsername(username: string): void {
    this.usernames.delete(username);
  }
}

/**
 * Failure times per key, oldest first. The Map is kept in order of each key's latest failure
 * (a key is moved to the end when it fails), so that the keys whose counts expired, and
 * after them the least recently failed, are the first ones met when it must make room.
 */
class FailureCounts {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly maxKeys: number) {}

  /** Adds a failure at `nowMs`; returns how many fell within the window, at most `keep`. */
  add(key: string, nowMs: number, windowMs: number, keep: number): number {
    let t = this.times.get(key);
    if (t === undefined) {
      if (this.times.size >= this.maxKeys) this.makeRoom(nowMs, windowMs);
      t = [];
    } else {
      this.times.delete(key);
    }
    const from = nowMs - windowMs;
    while (t.length > 0 && t[0]! <= from) t.shift();
    t.push(nowMs);
    while (t.length > keep) t.shift();
    this.times.set(key, t);
    return t.length;
  }

  delete(key: string): void {
    this.times.delete(key);
  }

  get size(): number {
    return this.times.size;
  }

  /**
   * A table full of live counts (failures from very many addresses, or a spray of Call-IDs)
   * drops counts rather than refuse to count or throw: the expired first, then the least
   * recently failed, down to 90 % so that this runs once per tenth of the table.
   */
  private makeRoom(nowMs: number, windowMs: number): void {
    const target = Math.min(this.maxKeys - 1, Math.floor(this.maxKeys * 0.9));
    const from = nowMs - windowMs;
    for (const [key, t] of this.times) {
      if (this.times.size <= target && t[t.length - 1]! > from) break;
      this.times.delete(key);
    }
  }
}
