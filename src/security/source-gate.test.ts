import { beforeEach, describe, expect, it } from 'vitest';
import { AddressList } from './address-list.js';
import { ACCEPT, BUSY, DROP, FORBID, SourceGate, rateKey, type Admission, type GateSettings } from './source-gate.js';

const T0 = 1_800_000_000_000;
const ATTACKER = '203.0.113.9';
const OFFICE = '198.51.100.7';

type RateLimitSettings = GateSettings['rateLimit'];

/** Small limits so that each tier runs out within a few calls. */
const RATE_LIMIT: RateLimitSettings = {
  enabled: true,
  requestRate: 4,
  requestBurst: 6,
  registerRate: 2,
  registerBurst: 3,
  action: 'drop',
  newSourceRate: 1,
  newSourceBurst: 2,
  trustTime: 60,
};

let settings: { rateLimit: RateLimitSettings; floodBlock: GateSettings['floodBlock']; unauthorizedResponse: 'drop' | '403' };
let gate: SourceGate;

beforeEach(() => {
  settings = { rateLimit: { ...RATE_LIMIT }, floodBlock: { enabled: false, threshold: 10, window: 10 }, unauthorizedResponse: 'drop' };
  gate = new SourceGate(() => settings);
});

function list(...cidrs: string[]): AddressList<unknown> {
  return AddressList.build(cidrs.map((cidr) => ({ cidr, value: null })));
}

/** The verdicts of `n` messages from `address` at `nowMs`. */
function admitMany(address: string, n: number, isRegister: boolean, nowMs: number): Admission[] {
  return Array.from({ length: n }, () => gate.admit(address, isRegister, nowMs));
}

describe('SourceGate: verdict values', () => {
  it('are 0 accept, 1 drop, 2 403, 3 503 (the transport layer answers by these numbers)', () => {
    expect([ACCEPT, DROP, FORBID, BUSY]).toEqual([0, 1, 2, 3]);
  });
});

describe('SourceGate: blocked addresses', () => {
  it('drops a blocked address when unauthorizedResponse is drop', () => {
    gate.block(ATTACKER, null);
    expect(gate.admit(ATTACKER, true, T0)).toBe(DROP);
    expect(gate.lastRefusal).toBe('blocked-address');
    expect(gate.admit(OFFICE, true, T0)).toBe(ACCEPT);
  });

  it('forbids a blocked address when unauthorizedResponse is 403', () => {
    settings.unauthorizedResponse = '403';
    gate.block(ATTACKER, null);
    expect(gate.admit(ATTACKER, false, T0)).toBe(FORBID);
    expect(gate.lastRefusal).toBe('blocked-address');
  });

  it('a block ends at its time: refused 1 ms before, accepted at it', () => {
    gate.block(ATTACKER, T0 + 10_000);
    expect(gate.isBlocked(ATTACKER, T0 + 9_999)).toBe(true);
    expect(gate.admit(ATTACKER, true, T0 + 9_999)).toBe(DROP);
    expect(gate.admit(ATTACKER, true, T0 + 10_000)).toBe(ACCEPT);
    expect(gate.isBlocked(ATTACKER, T0 + 10_000)).toBe(false);
  });

  it('a block with until null never ends', () => {
    gate.block(ATTACKER, null);
    expect(gate.admit(ATTACKER, true, T0 + 10 * 365 * 86_400_000)).toBe(DROP);
  });

  it('unblock lets the address in at once', () => {
    gate.block(ATTACKER, null);
    gate.unblock(ATTACKER);
    expect(gate.isBlocked(ATTACKER, T0)).toBe(false);
    expect(gate.admit(ATTACKER, true, T0)).toBe(ACCEPT);
  });

  it('setBlocks replaces the blocks in force', () => {
    gate.block(OFFICE, null);
    gate.setBlocks(new Map([[ATTACKER, T0 + 1000]]));
    expect(gate.admit(OFFICE, true, T0)).toBe(ACCEPT);
    expect(gate.admit(ATTACKER, true, T0)).toBe(DROP);
  });

  it('a change of unauthorizedResponse applies to the next message', () => {
    gate.block(ATTACKER, null);
    expect(gate.admit(ATTACKER, true, T0)).toBe(DROP);
    settings.unauthorizedResponse = '403';
    expect(gate.admit(ATTACKER, true, T0)).toBe(FORBID);
  });
});

describe('SourceGate: deny list', () => {
  it('drops an address inside a denied block (drop) and forbids it (403)', () => {
    gate.setLists(list(), list('203.0.113.0/24', '2001:db8:bad::/48'));
    expect(gate.admit('203.0.113.200', true, T0)).toBe(DROP);
    expect(gate.lastRefusal).toBe('blocked-address');
    expect(gate.admit('2001:db8:bad::1', true, T0)).toBe(DROP);
    expect(gate.admit('203.0.114.1', true, T0)).toBe(ACCEPT);
    settings.unauthorizedResponse = '403';
    expect(gate.admit('203.0.113.200', false, T0)).toBe(FORBID);
  });
});

describe('SourceGate: allow list', () => {
  it('accepts an allow-listed address even when blocked and deny-listed', () => {
    gate.setLists(list('198.51.100.0/24'), list('198.51.100.0/16'));
    gate.block(OFFICE, null);
    expect(gate.isAllowListed(OFFICE)).toBe(true);
    expect(gate.admit(OFFICE, true, T0)).toBe(ACCEPT);
  });

  it('accepts an allow-listed address past every rate limit', () => {
    gate.setLists(list(OFFICE), list());
    const verdicts = admitMany(OFFICE, 1000, true, T0);
    expect(verdicts.every((v) => v === ACCEPT)).toBe(true);
  });

  it('empty lists allow and deny nothing', () => {
    gate.setLists(list(), list());
    expect(gate.isAllowListed(OFFICE)).toBe(false);
    expect(gate.admit(OFFICE, true, T0)).toBe(ACCEPT);
  });
});

describe('SourceGate: untrusted sources', () => {
  it('get newSourceBurst messages at once, then drop (action drop)', () => {
    expect(admitMany(ATTACKER, 3, true, T0)).toEqual([ACCEPT, ACCEPT, DROP]);
    expect(gate.lastRefusal).toBe('rate-limited');
  });

  it('count every method against the one small bucket', () => {
    expect([gate.admit(ATTACKER, false, T0), gate.admit(ATTACKER, true, T0), gate.admit(ATTACKER, false, T0)]).toEqual([ACCEPT, ACCEPT, DROP]);
  });

  it('refill at newSourceRate per second', () => {
    admitMany(ATTACKER, 2, true, T0);
    expect(gate.admit(ATTACKER, true, T0 + 999)).toBe(DROP);
    expect(gate.admit(ATTACKER, true, T0 + 1000)).toBe(ACCEPT);
    expect(gate.admit(ATTACKER, true, T0 + 1000)).toBe(DROP);
    // A long idle time refills up to the burst, no more.
    expect(admitMany(ATTACKER, 3, true, T0 + 60_000)).toEqual([ACCEPT, ACCEPT, DROP]);
  });

  it('each source has its own bucket', () => {
    admitMany(ATTACKER, 3, true, T0);
    expect(gate.admit('203.0.113.10', true, T0)).toBe(ACCEPT);
  });

  it('answer 503 (BUSY) with Retry-After of at least 1 s when action is 503', () => {
    settings.rateLimit = { ...RATE_LIMIT, action: '503', newSourceRate: 0.1 };
    expect(admitMany(ATTACKER, 3, true, T0)).toEqual([ACCEPT, ACCEPT, BUSY]);
    expect(gate.lastRefusal).toBe('rate-limited');
    // One token at 0.1 per second: 10 s.
    expect(gate.retryAfter(ATTACKER, T0)).toBe(10);
    expect(gate.retryAfter(ATTACKER, T0 + 9_500)).toBe(1);
  });

  it('a source with tokens left is told 1 s', () => {
    expect(gate.retryAfter(ATTACKER, T0)).toBe(1);
  });
});

describe('SourceGate: trusted sources', () => {
  it('trust() lifts a source from the small limit to requestRate and registerRate', () => {
    expect(admitMany(OFFICE, 3, false, T0)).toEqual([ACCEPT, ACCEPT, DROP]);
    gate.trust(OFFICE, T0);
    // requestBurst 6 for other methods.
    expect(admitMany(OFFICE, 7, false, T0)).toEqual([ACCEPT, ACCEPT, ACCEPT, ACCEPT, ACCEPT, ACCEPT, DROP]);
  });

  it('a REGISTER takes from the register bucket as well as the request bucket', () => {
    gate.trust(OFFICE, T0);
    // registerBurst 3 runs out first.
    expect(admitMany(OFFICE, 4, true, T0)).toEqual([ACCEPT, ACCEPT, ACCEPT, DROP]);
    expect(gate.lastRefusal).toBe('rate-limited');
    // The four REGISTERs took four request tokens (the refused one too): two left of six.
    expect(admitMany(OFFICE, 3, false, T0)).toEqual([ACCEPT, ACCEPT, DROP]);
  });

  it('other methods take only from the request bucket', () => {
    gate.trust(OFFICE, T0);
    admitMany(OFFICE, 3, false, T0);
    // Three request tokens left, the register bucket untouched (3).
    expect(admitMany(OFFICE, 4, true, T0)).toEqual([ACCEPT, ACCEPT, ACCEPT, DROP]);
  });

  it('refill at requestRate and registerRate per second', () => {
    gate.trust(OFFICE, T0);
    admitMany(OFFICE, 3, true, T0);
    expect(gate.admit(OFFICE, true, T0)).toBe(DROP);
    // registerRate 2: one token after 500 ms.
    expect(gate.admit(OFFICE, true, T0 + 499)).toBe(DROP);
    expect(gate.admit(OFFICE, true, T0 + 500)).toBe(ACCEPT);
  });

  it('Retry-After of a trusted source is the longer of its two buckets', () => {
    settings.rateLimit = { ...RATE_LIMIT, action: '503', registerRate: 0.25 };
    gate.trust(OFFICE, T0);
    expect(admitMany(OFFICE, 4, true, T0)).toEqual([ACCEPT, ACCEPT, ACCEPT, BUSY]);
    // Register bucket empty at 0.25 per second: 4 s; the request bucket still has tokens.
    expect(gate.retryAfter(OFFICE, T0)).toBe(4);
  });

  it('trust ends after trustTime: back to the small limit', () => {
    gate.trust(OFFICE, T0);
    expect(admitMany(OFFICE, 6, false, T0 + 59_999)).toEqual(Array(6).fill(ACCEPT));
    // At trustTime the source is new again; its small bucket is still full.
    expect(admitMany(OFFICE, 3, false, T0 + 60_000)).toEqual([ACCEPT, ACCEPT, DROP]);
  });

  it('trust again extends it from the new time', () => {
    gate.trust(OFFICE, T0);
    gate.trust(OFFICE, T0 + 50_000);
    expect(admitMany(OFFICE, 4, false, T0 + 100_000)).toEqual([ACCEPT, ACCEPT, ACCEPT, ACCEPT]);
  });

  it('trust does not lift a block', () => {
    gate.trust(ATTACKER, T0);
    gate.block(ATTACKER, null);
    expect(gate.admit(ATTACKER, true, T0)).toBe(DROP);
  });
});

describe('SourceGate: rate limiting off', () => {
  it('accepts every message when rateLimit.enabled is false', () => {
    settings.rateLimit = { ...RATE_LIMIT, enabled: false };
    expect(admitMany(ATTACKER, 100, true, T0).every((v) => v === ACCEPT)).toBe(true);
  });

  it('still refuses blocked and deny-listed sources', () => {
    settings.rateLimit = { ...RATE_LIMIT, enabled: false };
    gate.block(ATTACKER, null);
    gate.setLists(list(), list('192.0.2.0/24'));
    expect(gate.admit(ATTACKER, true, T0)).toBe(DROP);
    expect(gate.admit('192.0.2.5', true, T0)).toBe(DROP);
  });

  it('a change of the settings applies to the next message', () => {
    expect(admitMany(ATTACKER, 3, true, T0)).toEqual([ACCEPT, ACCEPT, DROP]);
    settings.rateLimit = { ...RATE_LIMIT, enabled: false };
    expect(gate.admit(ATTACKER, true, T0)).toBe(ACCEPT);
    settings.rateLimit = { ...RATE_LIMIT, action: '503' };
    expect(gate.admit(ATTACKER, true, T0)).toBe(BUSY);
  });
});

describe('rateKey', () => {
  it('keeps IPv4 addresses, maps IPv4-mapped IPv6 to IPv4, and keys IPv6 by its /64', () => {
    expect(rateKey('192.0.2.7')).toBe('192.0.2.7');
    expect(rateKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(rateKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(rateKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(rateKey('2001:0DB8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(rateKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateKey('::1')).toBe('0:0:0:0::/64');
    expect(rateKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('an attacker rotating through one /64 shares one bucket', () => {
    const gate = new SourceGate(() => ({
      rateLimit: { enabled: true, requestRate: 1000, requestBurst: 1000, registerRate: 1000, registerBurst: 1000, action: 'drop', newSourceRate: 1, newSourceBurst: 3, trustTime: 60 },
      floodBlock: { enabled: false, threshold: 1000, window: 10 },
      unauthorizedResponse: 'drop',
    }));
    const verdicts = [1, 2, 3, 4, 5].map((i) => gate.admit(`2001:db8:1:2::${i}`, true, 1_000));
    expect(verdicts).toEqual([ACCEPT, ACCEPT, ACCEPT, DROP, DROP]);
    expect(gate.admit('2001:db8:1:3::1', true, 1_000)).toBe(ACCEPT);
  });
});

describe('flood blocking', () => {
  it('reports an untrusted source once its rate-limit refusals reach the threshold', () => {
    settings.floodBlock = { enabled: true, threshold: 10, window: 10 };
    const floods: string[] = [];
    gate.onFlood = (a) => floods.push(a);
    // newSourceBurst 2: the first two pass, the next ten are refused, the tenth refusal is a flood.
    const verdicts = admitMany(ATTACKER, 12, true, T0);
    expect(verdicts.filter((v) => v === DROP)).toHaveLength(10);
    expect(floods).toEqual([ATTACKER]);
  });

  it('never reports a trusted source, however far past its limit', () => {
    settings.floodBlock = { enabled: true, threshold: 10, window: 10 };
    const floods: string[] = [];
    gate.onFlood = (a) => floods.push(a);
    gate.trust(OFFICE, T0);
    const verdicts = admitMany(OFFICE, 100, true, T0);
    expect(verdicts.filter((v) => v === DROP).length).toBeGreaterThan(50);
    expect(floods).toEqual([]);
  });
});

describe('SourceGate: refuses (what a keep-alive answer is held to)', () => {
  it('is true for a blocked or deny-listed address, false once its block ends', () => {
    gate.block(ATTACKER, T0 + 1000);
    gate.setLists(list(), list('192.0.2.0/24'));
    expect(gate.refuses(ATTACKER, T0)).toBe(true);
    expect(gate.refuses('192.0.2.77', T0)).toBe(true);
    expect(gate.refuses(ATTACKER, T0 + 1000)).toBe(false);
  });

  it('is false for an allow-listed address, even blocked and deny-listed', () => {
    gate.setLists(list(OFFICE), list(OFFICE));
    gate.block(OFFICE, null);
    expect(gate.refuses(OFFICE, T0)).toBe(false);
  });

  it('ignores the rate: a new source past its limit is not refused by it, and it takes no token', () => {
    expect(admitMany(OFFICE, 3, false, T0)).toEqual([ACCEPT, ACCEPT, DROP]);
    expect(gate.refuses(OFFICE, T0)).toBe(false);
    // Asking took nothing: one second on, exactly one new token is there.
    for (let i = 0; i < 100; i++) gate.refuses(OFFICE, T0 + 1000);
    expect(admitMany(OFFICE, 2, false, T0 + 1000)).toEqual([ACCEPT, DROP]);
  });
});
