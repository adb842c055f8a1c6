import { describe, expect, it } from 'vitest';
import { LoginLockout, addressKey, userKey, type LockoutPolicy } from './login-lockout.js';

const T0 = 1_800_000_000_000;
const POLICY: LockoutPolicy = { maxFailures: 3, window: 60, duration: 300 };

const alice = userKey('alice');
const here = addressKey('198.51.100.7');

function lockout(policy: LockoutPolicy = POLICY): LoginLockout {
  return new LoginLockout(() => policy);
}

describe('LoginLockout', () => {
  it('locks a user at the Nth failure within the window, for the policy duration', () => {
    const l = lockout();
    expect(l.fail([alice], T0)).toBe(0);
    expect(l.fail([alice], T0 + 10_000)).toBe(0);
    expect(l.lockedFor([alice], T0 + 10_000)).toBe(0);
    expect(l.fail([alice], T0 + 20_000)).toBe(300);
    expect(l.lockedFor([alice], T0 + 20_000)).toBe(300);
  });

  it('reports the seconds left rounded up', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    expect(l.lockedFor([alice], T0 + 1)).toBe(300);
    expect(l.lockedFor([alice], T0 + 1_500)).toBe(299);
    expect(l.lockedFor([alice], T0 + 299_001)).toBe(1);
  });

  it('the lock ends after its duration', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    expect(l.lockedFor([alice], T0 + 299_999)).toBe(1);
    expect(l.lockedFor([alice], T0 + 300_000)).toBe(0);
    expect(l.lockedFor([alice], T0 + 10_000_000)).toBe(0);
  });

  it('failures older than the window do not count', () => {
    const l = lockout();
    l.fail([alice], T0);
    l.fail([alice], T0 + 30_000);
    // The first failure is exactly 60 s old now: out of the window.
    expect(l.fail([alice], T0 + 60_000)).toBe(0);
    expect(l.lockedFor([alice], T0 + 60_000)).toBe(0);
    // T0+30 s and T0+60 s are still in it: a third one locks.
    expect(l.fail([alice], T0 + 89_999)).toBe(300);
  });

  it('failures spread wider than the window never lock', () => {
    const l = lockout();
    for (let i = 0; i < 20; i++) expect(l.fail([alice], T0 + i * 31_000)).toBe(0);
    expect(l.lockedFor([alice], T0 + 20 * 31_000)).toBe(0);
  });

  it('after a lock ends, counting starts again from zero', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    const after = T0 + 300_000;
    expect(l.fail([alice], after)).toBe(0);
    expect(l.fail([alice], after + 1_000)).toBe(0);
    expect(l.lockedFor([alice], after + 1_000)).toBe(0);
    expect(l.fail([alice], after + 2_000)).toBe(300);
  });

  it('a successful login clears the user\'s count', () => {
    const l = lockout();
    l.fail([alice], T0);
    l.fail([alice], T0 + 1_000);
    l.succeed(alice);
    expect(l.fail([alice], T0 + 2_000)).toBe(0);
    expect(l.fail([alice], T0 + 3_000)).toBe(0);
    expect(l.lockedFor([alice], T0 + 3_000)).toBe(0);
    expect(l.fail([alice], T0 + 4_000)).toBe(300);
  });

  it('a successful login does not lift a lock', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    l.succeed(alice);
    expect(l.lockedFor([alice], T0 + 1_000)).toBe(299);
  });

  it('a successful login after an earlier lock has ended clears the count too', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    const after = T0 + 300_000;
    l.fail([alice], after);
    l.fail([alice], after + 1_000);
    l.succeed(alice);
    expect(l.fail([alice], after + 2_000)).toBe(0);
    expect(l.lockedFor([alice], after + 2_000)).toBe(0);
  });

  it('failures are counted per source address too: guesses at many users lock the address', () => {
    const l = lockout();
    expect(l.fail([userKey('a'), here], T0)).toBe(0);
    expect(l.fail([userKey('b'), here], T0)).toBe(0);
    expect(l.fail([userKey('c'), here], T0)).toBe(300);
    expect(l.lockedFor([userKey('d'), here], T0)).toBe(300);
    // The users guessed at are not locked, nor is the address elsewhere.
    expect(l.lockedFor([userKey('a')], T0)).toBe(0);
    expect(l.lockedFor([userKey('a'), addressKey('203.0.113.1')], T0)).toBe(0);
  });

  it('a user is locked whatever address the guesses came from', () => {
    const l = lockout();
    l.fail([alice, addressKey('192.0.2.1')], T0);
    l.fail([alice, addressKey('192.0.2.2')], T0);
    expect(l.fail([alice, addressKey('192.0.2.3')], T0)).toBe(300);
    expect(l.lockedFor([alice, addressKey('203.0.113.50')], T0)).toBe(300);
    expect(l.lockedFor([addressKey('192.0.2.1')], T0)).toBe(0);
  });

  it('a success clears the user\'s count but not the address\'s', () => {
    const l = lockout();
    l.fail([alice, here], T0);
    l.fail([alice, here], T0);
    l.succeed(alice);
    expect(l.fail([userKey('bob'), here], T0)).toBe(300);
    expect(l.lockedFor([here], T0)).toBe(300);
    expect(l.lockedFor([alice], T0)).toBe(0);
  });

  it('lockedFor gives the longest lock among the keys', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    for (let i = 0; i < 3; i++) l.fail([here], T0 + 100_000);
    expect(l.lockedFor([alice, here], T0 + 100_000)).toBe(300);
    expect(l.lockedFor([alice], T0 + 100_000)).toBe(200);
    expect(l.lockedFor([], T0)).toBe(0);
    expect(l.lockedFor([userKey('nobody')], T0)).toBe(0);
  });

  it('clear lifts a lock and forgets the count', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    l.clear(alice);
    expect(l.lockedFor([alice], T0)).toBe(0);
    expect(l.fail([alice], T0)).toBe(0);
    expect(l.fail([alice], T0)).toBe(0);
    expect(l.fail([alice], T0)).toBe(300);
  });

  it('clear of one key leaves the others alone', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice, here], T0);
    l.clear(alice);
    expect(l.lockedFor([alice], T0)).toBe(0);
    expect(l.lockedFor([here], T0)).toBe(300);
  });

  it('reads the policy at each failure, so a changed setting applies at once', () => {
    let policy: LockoutPolicy = POLICY;
    const l = new LoginLockout(() => policy);
    l.fail([alice], T0);
    policy = { maxFailures: 2, window: 60, duration: 30 };
    expect(l.fail([alice], T0)).toBe(30);
    expect(l.lockedFor([alice], T0)).toBe(30);
  });

  it('a policy of one failure locks at the first', () => {
    const l = lockout({ maxFailures: 1, window: 60, duration: 10 });
    expect(l.fail([alice], T0)).toBe(10);
    expect(l.lockedFor([alice], T0 + 9_000)).toBe(1);
  });

  it('forgets stale tallies when full, but keeps live locks', () => {
    const l = lockout();
    for (let i = 0; i < 99_999; i++) l.fail([addressKey(`k${i}`)], T0);
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    // 100,000 keys now; a new one a window later sweeps the stale ones.
    const later = T0 + 61_000;
    expect(l.fail([userKey('newcomer')], later)).toBe(0);
    expect(l.lockedFor([alice], later)).toBe(239);
    expect(l.fail([addressKey('k1')], later)).toBe(0);
    expect(l.fail([addressKey('k1')], later)).toBe(0);
    expect(l.fail([addressKey('k1')], later)).toBe(300);
  });
});

describe('lockout keys', () => {
  it('user keys ignore the case of the name', () => {
    expect(userKey('Alice')).toBe('user:alice');
    expect(userKey('ALICE')).toBe(userKey('alice'));
  });

  it('address keys keep the address as given and never collide with user keys', () => {
    expect(addressKey('2001:db8::1')).toBe('addr:2001:db8::1');
    expect(addressKey('198.51.100.7')).not.toBe(userKey('198.51.100.7'));
  });

  it('a spray of failures from 150,000 addresses does not lift a lock in force', () => {
    const l = lockout();
    for (let i = 0; i < 3; i++) l.fail([alice], T0);
    for (let i = 0; i < 150_000; i++) l.fail([addressKey(`2001:db8::${i.toString(16)}`)], T0 + 1000);
    expect(l.lockedFor([alice], T0 + 2000)).toBe(298);
  });
});
