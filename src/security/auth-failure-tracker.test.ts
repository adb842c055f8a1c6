import { describe, expect, it } from 'vitest';
import { AuthFailureTracker, type AuthFailurePolicy, type FailureVerdict } from './auth-failure-tracker.js';

const T0 = 1_800_000_000_000;
const POLICY: AuthFailurePolicy = { maxFailures: 3, window: 60, perUsername: false, maxUsernameFailures: 5, maxAttemptsPerCallId: 2 };

const A = '198.51.100.7';
const B = '203.0.113.9';
const ALICE = 'alice@example.com';

const NONE: FailureVerdict = { blockSource: false, blockUsername: false, forbid: false };
const BLOCK_SOURCE: FailureVerdict = { blockSource: true, blockUsername: false, forbid: false };
const BLOCK_USERNAME: FailureVerdict = { blockSource: false, blockUsername: true, forbid: false };
const FORBID: FailureVerdict = { blockSource: false, blockUsername: false, forbid: true };

function tracker(policy: Partial<AuthFailurePolicy> = {}, maxKeys?: number): AuthFailureTracker {
  const p = { ...POLICY, ...policy };
  return new AuthFailureTracker(() => p, maxKeys);
}

/** A fresh Call-ID per call, so that only the rule under test fires. */
let n = 0;
function callId(): string {
  return `call-${++n}`;
}

describe('AuthFailureTracker: per source', () => {
  it('blocks the source at the Nth failure within the window', () => {
    const t = tracker();
    expect(t.fail(A, ALICE, callId(), T0)).toEqual(NONE);
    expect(t.fail(A, ALICE, callId(), T0 + 10_000)).toEqual(NONE);
    expect(t.fail(A, ALICE, callId(), T0 + 20_000)).toEqual(BLOCK_SOURCE);
  });

  it('says so once per crossing: the count starts again after it', () => {
    const t = tracker();
    for (let i = 0; i < 2; i++) t.fail(A, ALICE, callId(), T0);
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(true);
    expect(t.fail(A, ALICE, callId(), T0 + 1).blockSource).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0 + 2).blockSource).toBe(false);
    // Still failing (the block ended or was never enforced): a second crossing.
    expect(t.fail(A, ALICE, callId(), T0 + 3).blockSource).toBe(true);
  });

  it('the window slides: failures older than it do not count', () => {
    const t = tracker();
    t.fail(A, ALICE, callId(), T0);
    t.fail(A, ALICE, callId(), T0 + 30_000);
    // The first is exactly 60 s old now: out of the window.
    expect(t.fail(A, ALICE, callId(), T0 + 60_000).blockSource).toBe(false);
    // T0+30 s and T0+60 s are still in it.
    expect(t.fail(A, ALICE, callId(), T0 + 89_999).blockSource).toBe(true);
  });

  it('no fixed-window boundary to hide behind: N failures within any window block', () => {
    const t = tracker();
    // Two just before a minute boundary, one just after.
    t.fail(A, ALICE, callId(), T0 + 59_000);
    t.fail(A, ALICE, callId(), T0 + 59_500);
    expect(t.fail(A, ALICE, callId(), T0 + 60_500).blockSource).toBe(true);
  });

  it('failures spread wider than the window never block', () => {
    const t = tracker();
    for (let i = 0; i < 50; i++) expect(t.fail(A, ALICE, callId(), T0 + i * 30_001).blockSource).toBe(false);
  });

  it('sources are counted apart', () => {
    const t = tracker();
    t.fail(A, ALICE, callId(), T0);
    t.fail(A, ALICE, callId(), T0);
    t.fail(B, ALICE, callId(), T0);
    t.fail(B, ALICE, callId(), T0);
    expect(t.fail(B, ALICE, callId(), T0).blockSource).toBe(true);
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(true);
  });

  it('forgetSource starts the count again', () => {
    const t = tracker();
    t.fail(A, ALICE, callId(), T0);
    t.fail(A, ALICE, callId(), T0);
    t.forgetSource(A);
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(true);
  });

  it('a success does not forget the source\'s count', () => {
    const t = tracker();
    t.fail(A, 'bob', callId(), T0);
    t.fail(A, 'carol', callId(), T0);
    t.succeed(A, ALICE, callId());
    expect(t.fail(A, 'dave', callId(), T0).blockSource).toBe(true);
  });

  it('maxFailures 0 never blocks a source', () => {
    const t = tracker({ maxFailures: 0 });
    for (let i = 0; i < 100; i++) expect(t.fail(A, ALICE, callId(), T0)).toEqual(NONE);
  });

  it('maxFailures 1 blocks at the first failure', () => {
    const t = tracker({ maxFailures: 1 });
    expect(t.fail(A, ALICE, callId(), T0)).toEqual(BLOCK_SOURCE);
  });
});

describe('AuthFailureTracker: per username', () => {
  it('counts a username across addresses when perUsername is on', () => {
    const t = tracker({ perUsername: true, maxFailures: 10 });
    for (let i = 1; i <= 4; i++) expect(t.fail(`10.0.0.${i}`, ALICE, callId(), T0 + i)).toEqual(NONE);
    expect(t.fail('10.0.0.5', ALICE, callId(), T0 + 5)).toEqual(BLOCK_USERNAME);
    // Once per crossing.
    expect(t.fail('10.0.0.6', ALICE, callId(), T0 + 6)).toEqual(NONE);
  });

  it('source and username limits can cross on the same failure', () => {
    const t = tracker({ perUsername: true, maxFailures: 3, maxUsernameFailures: 3 });
    t.fail(A, ALICE, callId(), T0);
    t.fail(A, ALICE, callId(), T0);
    expect(t.fail(A, ALICE, callId(), T0)).toEqual({ blockSource: true, blockUsername: true, forbid: false });
  });

  it('usernames are counted apart, and only within the window', () => {
    const t = tracker({ perUsername: true, maxFailures: 100, maxUsernameFailures: 2 });
    t.fail(A, ALICE, callId(), T0);
    expect(t.fail(A, 'bob', callId(), T0).blockUsername).toBe(false);
    expect(t.fail(B, ALICE, callId(), T0 + 60_000).blockUsername).toBe(false);
    expect(t.fail(B, ALICE, callId(), T0 + 60_001).blockUsername).toBe(true);
  });

  it('nothing is counted per username when perUsername is off', () => {
    let policy: AuthFailurePolicy = { ...POLICY, perUsername: false, maxFailures: 100 };
    const t = new AuthFailureTracker(() => policy);
    for (let i = 0; i < 20; i++) expect(t.fail(`10.0.0.${i}`, ALICE, callId(), T0).blockUsername).toBe(false);
    // Turned on: the count starts from nothing.
    policy = { ...policy, perUsername: true };
    for (let i = 0; i < 4; i++) expect(t.fail(`10.0.1.${i}`, ALICE, callId(), T0).blockUsername).toBe(false);
    expect(t.fail('10.0.1.9', ALICE, callId(), T0).blockUsername).toBe(true);
  });

  it('a success forgets the username\'s count', () => {
    const t = tracker({ perUsername: true, maxFailures: 100, maxUsernameFailures: 3 });
    t.fail(A, ALICE, callId(), T0);
    t.fail(B, ALICE, callId(), T0);
    t.succeed(B, ALICE, callId());
    expect(t.fail(A, ALICE, callId(), T0).blockUsername).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0).blockUsername).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0).blockUsername).toBe(true);
  });

  it('forgetUsername starts the count again', () => {
    const t = tracker({ perUsername: true, maxFailures: 100, maxUsernameFailures: 2 });
    t.fail(A, ALICE, callId(), T0);
    t.forgetUsername(ALICE);
    expect(t.fail(A, ALICE, callId(), T0).blockUsername).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0).blockUsername).toBe(true);
  });

  it('usernames are compared exactly (the caller decides what names one account)', () => {
    const t = tracker({ perUsername: true, maxFailures: 100, maxUsernameFailures: 2 });
    t.fail(A, 'alice@example.com', callId(), T0);
    expect(t.fail(A, 'Alice@example.com', callId(), T0).blockUsername).toBe(false);
  });

  it('an empty username is not counted', () => {
    const t = tracker({ perUsername: true, maxFailures: 100, maxUsernameFailures: 1 });
    for (let i = 0; i < 5; i++) expect(t.fail(`10.0.0.${i}`, '', callId(), T0).blockUsername).toBe(false);
  });

  it('maxUsernameFailures 0 never blocks a username', () => {
    const t = tracker({ perUsername: true, maxFailures: 0, maxUsernameFailures: 0 });
    for (let i = 0; i < 50; i++) expect(t.fail(`10.0.0.${i}`, ALICE, callId(), T0)).toEqual(NONE);
  });
});

describe('AuthFailureTracker: per registration attempt (Call-ID)', () => {
  it('forbids once the Call-ID has failed more than maxAttemptsPerCallId times, and after', () => {
    const t = tracker({ maxFailures: 100 });
    expect(t.fail(A, ALICE, 'c1', T0)).toEqual(NONE);
    expect(t.fail(A, ALICE, 'c1', T0 + 1_000)).toEqual(NONE);
    expect(t.fail(A, ALICE, 'c1', T0 + 2_000)).toEqual(FORBID);
    expect(t.fail(A, ALICE, 'c1', T0 + 3_000)).toEqual(FORBID);
    expect(t.fail(A, ALICE, 'c1', T0 + 4_000)).toEqual(FORBID);
  });

  it('another Call-ID is another attempt', () => {
    const t = tracker({ maxFailures: 100 });
    for (let i = 0; i < 3; i++) t.fail(A, ALICE, 'c1', T0);
    expect(t.fail(A, ALICE, 'c2', T0)).toEqual(NONE);
  });

  it('an attempt\'s failures age out of the window', () => {
    const t = tracker({ maxFailures: 100 });
    for (let i = 0; i < 3; i++) t.fail(A, ALICE, 'c1', T0);
    expect(t.fail(A, ALICE, 'c1', T0 + 59_999).forbid).toBe(true);
    // The three at T0 are out; T0+59.999 s and now are two, not more than two.
    expect(t.fail(A, ALICE, 'c1', T0 + 60_000).forbid).toBe(false);
    expect(t.fail(A, ALICE, 'c1', T0 + 60_001).forbid).toBe(true);
  });

  it('forbidden failures still count toward the source\'s lockout', () => {
    const t = tracker({ maxFailures: 5 });
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(t.fail(A, ALICE, 'c1', T0 + i));
    expect(verdicts).toEqual([NONE, NONE, FORBID, FORBID, { blockSource: true, blockUsername: false, forbid: true }]);
  });

  it('a success forgets the Call-ID\'s count', () => {
    const t = tracker({ maxFailures: 100 });
    t.fail(A, ALICE, 'c1', T0);
    t.fail(A, ALICE, 'c1', T0);
    t.succeed(A, ALICE, 'c1');
    expect(t.fail(A, ALICE, 'c1', T0).forbid).toBe(false);
    expect(t.fail(A, ALICE, 'c1', T0).forbid).toBe(false);
    expect(t.fail(A, ALICE, 'c1', T0).forbid).toBe(true);
  });

  it('maxAttemptsPerCallId 0: the first failure is answered 403', () => {
    const t = tracker({ maxFailures: 100, maxAttemptsPerCallId: 0 });
    expect(t.fail(A, ALICE, 'c1', T0)).toEqual(FORBID);
  });

  it('an empty Call-ID is not counted', () => {
    const t = tracker({ maxFailures: 100, maxAttemptsPerCallId: 0 });
    expect(t.fail(A, ALICE, '', T0)).toEqual(NONE);
  });
});

describe('AuthFailureTracker: policy', () => {
  it('a changed policy applies at the next failure', () => {
    let policy: AuthFailurePolicy = { ...POLICY, maxFailures: 10 };
    const t = new AuthFailureTracker(() => policy);
    for (let i = 0; i < 3; i++) expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(false);
    policy = { ...policy, maxFailures: 3 };
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(true);
  });

  it('a shorter window applies at once', () => {
    let policy: AuthFailurePolicy = { ...POLICY, window: 600 };
    const t = new AuthFailureTracker(() => policy);
    t.fail(A, ALICE, callId(), T0);
    t.fail(A, ALICE, callId(), T0 + 100_000);
    policy = { ...policy, window: 60 };
    expect(t.fail(A, ALICE, callId(), T0 + 120_000).blockSource).toBe(false);
  });

  it('a fractional limit counts as the whole number below it', () => {
    const t = tracker({ maxFailures: 2.5 });
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(false);
    expect(t.fail(A, ALICE, callId(), T0).blockSource).toBe(true);
  });

  it('verdicts are shared frozen values (fail allocates none)', () => {
    const t = tracker({ maxFailures: 100 });
    const first = t.fail(A, ALICE, callId(), T0);
    expect(t.fail(B, ALICE, callId(), T0)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('AuthFailureTracker: memory bound', () => {
  it('a full table drops expired counts first', () => {
    const t = tracker({ maxFailures: 3 }, 10);
    // Old, expired counts from eight addresses; then A, live, twice.
    for (let i = 0; i < 8; i++) t.fail(`10.0.0.${i}`, '', '', T0);
    t.fail(A, '', '', T0 + 100_000);
    t.fail(A, '', '', T0 + 100_000);
    t.fail(B, '', '', T0 + 100_000);
    for (let i = 0; i < 5; i++) t.fail(`10.0.1.${i}`, '', '', T0 + 100_001);
    expect(t.size).toBeLessThanOrEqual(10);
    // A kept its two failures.
    expect(t.fail(A, '', '', T0 + 100_002).blockSource).toBe(true);
  });

  it('then the least recently failed: an active attacker keeps its count through a spray', () => {
    const t = tracker({ maxFailures: 500, window: 3600 }, 100);
    let blocked = false;
    for (let i = 0; i < 10_000 && !blocked; i++) {
      blocked = t.fail(A, '', '', T0 + i).blockSource;
      t.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '', '', T0 + i);
      expect(t.size).toBeLessThanOrEqual(100);
    }
    expect(blocked).toBe(true);
  });

  it('a count dropped for room starts again (and nothing throws)', () => {
    const t = tracker({ maxFailures: 3, window: 3600 }, 10);
    t.fail(A, '', '', T0);
    t.fail(A, '', '', T0);
    for (let i = 0; i < 20; i++) t.fail(`10.0.0.${i}`, '', '', T0 + 1 + i);
    expect(t.fail(A, '', '', T0 + 100).blockSource).toBe(false);
  });

  it('each table holds at most maxKeys (default 200,000) under 300,000 distinct keys, in bounded time', () => {
    const t = new AuthFailureTracker(() => ({ ...POLICY, perUsername: true, window: 3600 }));
    const started = performance.now();
    for (let i = 0; i < 300_000; i++) t.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `u${i}`, `c${i}`, T0 + i);
    expect(t.size).toBeLessThanOrEqual(600_000);
    expect(t.size).toBeGreaterThan(3 * 180_000);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
