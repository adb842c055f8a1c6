import { beforeEach, describe, expect, it } from 'vitest';
import { echoOf } from '../sip/parse-error.js';
import { parseMessage } from '../sip/parser.js';
import { withReceived } from '../sip/via.js';
import type { AccountRecord, FailureRecord } from '../store/store.js';
import type { InboundRequest } from '../transport/transport-layer.js';
import type { Flow, Listener, TransportName } from '../transport/transport.js';
import { AddressList } from './address-list.js';
import type { AuthFailurePolicy } from './auth-failure-tracker.js';
import { RegistrationGuard } from './registration-guard.js';
import { ACCEPT, DROP, SourceGate, type GateSettings } from './source-gate.js';

const T0 = 1_800_000_000_000;
const PHONE = '198.51.100.7';
const ATTACKER = '203.0.113.9';

const listener: Listener = { transport: 'UDP', localAddress: '192.0.2.1', localPort: 5060, sendTo() {}, close: async () => {} };

function flow(address: string, port = 5062, transport: TransportName = 'UDP'): Flow {
  return { transport, remoteAddress: address, remotePort: port, localAddress: '192.0.2.1', localPort: 5060, listener, connection: null };
}

function account(over: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id: 1,
    username: '1001',
    domain: 'example.com',
    customer: null,
    ha1Md5: '0'.repeat(32),
    ha1Sha256: '0'.repeat(64),
    enabled: true,
    minExpires: null,
    maxExpires: null,
    maxBindings: null,
    authMode: 'password',
    allowedNetworks: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

let branch = 0;

/** A REGISTER from `f`, parsed as the transport layer hands it up. */
function register(f: Flow, callId = 'call-1@phone', userAgent: string | null = 'Yealink SIP-T46U 108.86.0.20'): InboundRequest {
  const text = [
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/${f.transport} 10.0.0.2:5062;branch=z9hG4bK-${++branch}`,
    'Max-Forwards: 70',
    'From: <sip:1001@example.com>;tag=a1',
    'To: <sip:1001@example.com>',
    `Call-ID: ${callId}`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:1001@10.0.0.2:5062>',
    ...(userAgent === null ? [] : [`User-Agent: ${userAgent}`]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const msg = parseMessage(Buffer.from(text), 'datagram');
  if (msg.kind !== 'request') throw new Error(`test request does not parse: ${JSON.stringify(msg)}`);
  const via = [withReceived(msg.via[0]!, f.remoteAddress, f.remotePort, true), ...msg.via.slice(1)];
  return { msg, flow: f, via, echo: { ...echoOf(msg), via }, receivedAt: state.now };
}

function list(...cidrs: string[]): AddressList<unknown> {
  return AddressList.build(cidrs.map((cidr) => ({ cidr, value: null })));
}

/** The policy as the tests change it between calls. */
type Policy = { -readonly [K in keyof AuthFailurePolicy]: AuthFailurePolicy[K] } & { duration: number };

interface State {
  now: number;
  policy: Policy;
  gateSettings: GateSettings;
  failures: FailureRecord[];
  blocks: Array<[kind: 'address' | 'username', value: string, reason: string, until: number | null]>;
  gate: SourceGate;
  guard: RegistrationGuard;
}

let state: State;

beforeEach(() => {
  const s = {
    now: T0,
    policy: { maxFailures: 3, window: 60, perUsername: false, maxUsernameFailures: 5, maxAttemptsPerCallId: 10, duration: 600 } satisfies Policy as Policy,
    gateSettings: {
      rateLimit: {
        enabled: true,
        requestRate: 100,
        requestBurst: 100,
        registerRate: 100,
        registerBurst: 100,
        action: 'drop',
        newSourceRate: 1,
        newSourceBurst: 2,
        trustTime: 3600,
      },
      floodBlock: { enabled: false, threshold: 1000, window: 10 },
      unauthorizedResponse: 'drop',
    } satisfies GateSettings as GateSettings,
    failures: [] as FailureRecord[],
    blocks: [] as State['blocks'],
  };
  const gate = new SourceGate(() => s.gateSettings);
  const guard = new RegistrationGuard({
    gate,
    policy: () => s.policy,
    recordFailure: (f) => s.failures.push(f),
    block: (kind, value, reason, until) => s.blocks.push([kind, value, reason, until]),
    now: () => s.now,
  });
  state = Object.assign(s, { gate, guard });
});

/** `n` wrong passwords from `f`, each with its own Call-ID unless one is given; the verdicts. */
function failMany(n: number, f: Flow, opts: { callId?: string; username?: string; customer?: string | null } = {}): Array<'challenge' | 'forbid'> {
  const out: Array<'challenge' | 'forbid'> = [];
  for (let i = 0; i < n; i++) {
    const req = register(f, opts.callId ?? `call-${f.remoteAddress}-${state.failures.length}`);
    out.push(state.guard.authFailed(req, opts.username ?? '1001', 'example.com', opts.customer ?? null, 'wrong-password', null));
  }
  return out;
}

describe('RegistrationGuard.sourceAllowed: auth modes', () => {
  it('password without allowedNetworks: from anywhere', () => {
    const a = account();
    expect(state.guard.sourceAllowed(a, flow(PHONE))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('2001:db8::7'))).toBe(true);
  });

  it('password with allowedNetworks: only from inside them', () => {
    const a = account({ allowedNetworks: ['198.51.100.0/24', '2001:db8:1::/48'] });
    expect(state.guard.sourceAllowed(a, flow('198.51.100.250'))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('2001:db8:1::99'))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('198.51.101.1'))).toBe(false);
    expect(state.guard.sourceAllowed(a, flow('2001:db8:2::1'))).toBe(false);
  });

  it('ip: only from allowedNetworks, any port', () => {
    const a = account({ authMode: 'ip', allowedNetworks: [PHONE] });
    expect(state.guard.sourceAllowed(a, flow(PHONE, 5062))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow(PHONE, 40000))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('198.51.100.8'))).toBe(false);
  });

  it('ip without allowedNetworks: from nowhere', () => {
    expect(state.guard.sourceAllowed(account({ authMode: 'ip', allowedNetworks: null }), flow(PHONE))).toBe(false);
    expect(state.guard.sourceAllowed(account({ authMode: 'ip', allowedNetworks: [] }), flow(PHONE))).toBe(false);
  });

  it('ip-port: ADDR:PORT matches that address and port only', () => {
    const a = account({ authMode: 'ip-port', allowedNetworks: [`${PHONE}:5062`] });
    expect(state.guard.sourceAllowed(a, flow(PHONE, 5062))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow(PHONE, 5060))).toBe(false);
    expect(state.guard.sourceAllowed(a, flow('198.51.100.8', 5062))).toBe(false);
  });

  it('ip-port: [v6]:PORT matches that IPv6 address and port only', () => {
    const a = account({ authMode: 'ip-port', allowedNetworks: ['[2001:db8::7]:5060'] });
    expect(state.guard.sourceAllowed(a, flow('2001:db8::7', 5060))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('2001:db8::7', 5061))).toBe(false);
    expect(state.guard.sourceAllowed(a, flow('2001:db8::8', 5060))).toBe(false);
  });

  it('ip-port: an entry without a port matches any port of that network', () => {
    const a = account({ authMode: 'ip-port', allowedNetworks: ['192.0.2.5:5060', '198.51.100.0/24', '2001:db8:5::/64'] });
    expect(state.guard.sourceAllowed(a, flow('198.51.100.77', 1234))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('2001:db8:5::1', 1234))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('192.0.2.5', 5060))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow('192.0.2.5', 1234))).toBe(false);
  });

  it('ip-and-password: only from allowedNetworks', () => {
    const a = account({ authMode: 'ip-and-password', allowedNetworks: ['198.51.100.0/24'] });
    expect(state.guard.sourceAllowed(a, flow(PHONE))).toBe(true);
    expect(state.guard.sourceAllowed(a, flow(ATTACKER))).toBe(false);
  });

  it('an IPv4-mapped source matches its IPv4 network', () => {
    const a = account({ authMode: 'ip', allowedNetworks: ['198.51.100.0/24'] });
    expect(state.guard.sourceAllowed(a, flow(`::ffff:${PHONE}`))).toBe(true);
  });
});

describe('RegistrationGuard.sourceAllowed: customer lists', () => {
  it("refuses a source in the customer's deny list, even for a password account allowed anywhere", () => {
    state.guard.setCustomerLists(new Map([['acme', { allow: list(), deny: list('198.51.100.0/24') }]]));
    expect(state.guard.sourceAllowed(account({ customer: 'acme' }), flow(PHONE))).toBe(false);
    expect(state.guard.sourceAllowed(account({ customer: 'acme' }), flow(ATTACKER))).toBe(true);
  });

  it("the customer's allow list overrides its deny list", () => {
    state.guard.setCustomerLists(new Map([['acme', { allow: list(PHONE), deny: list('198.51.100.0/24') }]]));
    expect(state.guard.sourceAllowed(account({ customer: 'acme' }), flow(PHONE))).toBe(true);
    expect(state.guard.sourceAllowed(account({ customer: 'acme' }), flow('198.51.100.8'))).toBe(false);
  });

  it("another customer's lists and accounts without a customer are not affected", () => {
    state.guard.setCustomerLists(new Map([['acme', { allow: list(), deny: list('198.51.100.0/24') }]]));
    expect(state.guard.sourceAllowed(account({ customer: 'globex' }), flow(PHONE))).toBe(true);
    expect(state.guard.sourceAllowed(account({ customer: null }), flow(PHONE))).toBe(true);
  });

  it("the customer's allow list does not widen an account's allowedNetworks", () => {
    state.guard.setCustomerLists(new Map([['acme', { allow: list(ATTACKER), deny: list() }]]));
    const a = account({ customer: 'acme', authMode: 'ip', allowedNetworks: [PHONE] });
    expect(state.guard.sourceAllowed(a, flow(ATTACKER))).toBe(false);
  });
});

describe('RegistrationGuard.failed', () => {
  it("writes one failure with the flow's address, port and transport, username, User-Agent, reason and detail", () => {
    state.now = T0 + 5;
    state.guard.failed(register(flow(ATTACKER, 40123, 'TCP'), 'c1', 'friendly-scanner'), '1001', 'unknown-user', 'no such account');
    expect(state.failures).toEqual([
      {
        time: T0 + 5,
        sourceAddress: ATTACKER,
        sourcePort: 40123,
        transport: 'TCP',
        username: '1001',
        userAgent: 'friendly-scanner',
        reason: 'unknown-user',
        detail: 'no such account',
        count: 1,
      },
    ]);
  });

  it('a request without User-Agent and without username is logged with nulls', () => {
    state.guard.failed(register(flow(ATTACKER), 'c1', null), null, 'malformed', null);
    expect(state.failures.map((f) => [f.username, f.userAgent, f.detail])).toEqual([[null, null, null]]);
  });
});

describe('RegistrationGuard.authFailed: source lockout', () => {
  it('logs every failure and blocks the source at maxFailures, once, in the gate and through deps.block', () => {
    expect(failMany(2, flow(ATTACKER))).toEqual(['challenge', 'challenge']);
    expect(state.blocks).toEqual([]);
    expect(state.gate.admit(ATTACKER, true, T0)).toBe(ACCEPT);
    expect(failMany(1, flow(ATTACKER))).toEqual(['challenge']);
    expect(state.blocks).toEqual([['address', ATTACKER, '3 failed authentications within 60 s', T0 + 600_000]]);
    expect(state.gate.isBlocked(ATTACKER, T0)).toBe(true);
    expect(state.gate.admit(ATTACKER, true, T0)).toBe(DROP);
    expect(state.failures.map((f) => [f.sourceAddress, f.reason])).toEqual(Array(3).fill([ATTACKER, 'wrong-password']));
  });

  it('the block ends after lockout duration', () => {
    failMany(3, flow(ATTACKER));
    expect(state.gate.admit(ATTACKER, true, T0 + 599_999)).toBe(DROP);
    expect(state.gate.admit(ATTACKER, true, T0 + 600_000)).toBe(ACCEPT);
  });

  it('duration 0 blocks until removed (until null)', () => {
    state.policy.duration = 0;
    failMany(3, flow(ATTACKER));
    expect(state.blocks).toEqual([['address', ATTACKER, '3 failed authentications within 60 s', null]]);
    expect(state.gate.admit(ATTACKER, true, T0 + 365 * 86_400_000)).toBe(DROP);
  });

  it('counts per source: failures from other addresses do not add up', () => {
    failMany(2, flow(ATTACKER));
    failMany(2, flow('203.0.113.10'));
    expect(state.blocks).toEqual([]);
  });

  it('failures older than the window no longer count', () => {
    failMany(2, flow(ATTACKER));
    state.now = T0 + 60_000;
    failMany(2, flow(ATTACKER));
    expect(state.blocks).toEqual([]);
  });

  it('maxFailures 0 never blocks', () => {
    state.policy.maxFailures = 0;
    failMany(20, flow(ATTACKER));
    expect(state.blocks).toEqual([]);
  });
});

describe('RegistrationGuard.authFailed: retry limit per Call-ID', () => {
  it("answers 'forbid' past maxAttemptsPerCallId failures of one Call-ID, and logs retry-limit", () => {
    state.policy.maxAttemptsPerCallId = 2;
    state.policy.maxFailures = 100;
    expect(failMany(4, flow(PHONE), { callId: 'same@phone' })).toEqual(['challenge', 'challenge', 'forbid', 'forbid']);
    // One row per failed request; the ones over the limit are logged as retry-limit.
    expect(state.failures.map((f) => f.reason)).toEqual(['wrong-password', 'wrong-password', 'retry-limit', 'retry-limit']);
    expect(state.failures[2]!.detail).toBe('wrong-password; more than 2 failed attempts with Call-ID same@phone');
    expect(state.failures[2]!.count).toBe(1);
  });

  it('other Call-IDs from the same source are still challenged', () => {
    state.policy.maxAttemptsPerCallId = 1;
    state.policy.maxFailures = 100;
    expect(failMany(2, flow(PHONE), { callId: 'a@phone' })).toEqual(['challenge', 'forbid']);
    expect(failMany(1, flow(PHONE), { callId: 'b@phone' })).toEqual(['challenge']);
  });

  it('a success forgets the Call-ID count', () => {
    state.policy.maxAttemptsPerCallId = 2;
    state.policy.maxFailures = 100;
    failMany(2, flow(PHONE), { callId: 'same@phone' });
    state.guard.authSucceeded(register(flow(PHONE), 'same@phone'), '1001', 'example.com');
    expect(failMany(1, flow(PHONE), { callId: 'same@phone' })).toEqual(['challenge']);
  });
});

describe('RegistrationGuard.authFailed: username lockout', () => {
  beforeEach(() => {
    state.policy.perUsername = true;
    state.policy.maxUsernameFailures = 4;
  });

  it('blocks the username at maxUsernameFailures across addresses', () => {
    for (let i = 1; i <= 3; i++) failMany(1, flow(`203.0.113.${i}`));
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(false);
    failMany(1, flow('203.0.113.4'));
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(true);
    expect(state.guard.usernameBlocked('1002', 'example.com')).toBe(false);
    expect(state.guard.usernameBlocked('1001', 'example.org')).toBe(false);
    expect(state.blocks).toEqual([['username', '1001@example.com', '4 failed authentications within 60 s', T0 + 600_000]]);
  });

  it('the username block ends at its time', () => {
    for (let i = 1; i <= 4; i++) failMany(1, flow(`203.0.113.${i}`));
    state.now = T0 + 599_999;
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(true);
    state.now = T0 + 600_000;
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(false);
  });

  it('a username block with until null lasts, and forgetUsername lifts it', () => {
    state.guard.setBlockedUsernames(new Map([['1001@example.com', null]]));
    state.now = T0 + 365 * 86_400_000;
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(true);
    state.guard.forgetUsername('1001@example.com');
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(false);
  });

  it('perUsername off never blocks a username', () => {
    state.policy.perUsername = false;
    for (let i = 1; i <= 10; i++) failMany(1, flow(`203.0.113.${i}`));
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(false);
    expect(state.blocks).toEqual([]);
  });
});

describe('RegistrationGuard.authFailed: trusted sources', () => {
  it('a source in the global allow list is logged but never counted or blocked', () => {
    state.policy.perUsername = true;
    state.policy.maxUsernameFailures = 2;
    state.policy.maxAttemptsPerCallId = 1;
    state.gate.setLists(list('198.51.100.0/24'), list());
    expect(failMany(10, flow(PHONE), { callId: 'same@phone' })).toEqual(Array(10).fill('challenge'));
    expect(state.blocks).toEqual([]);
    expect(state.guard.usernameBlocked('1001', 'example.com')).toBe(false);
    expect(state.failures).toHaveLength(10);
  });

  it("a source in the account's customer allow list is never counted", () => {
    state.guard.setCustomerLists(new Map([['acme', { allow: list(PHONE), deny: list() }]]));
    expect(failMany(5, flow(PHONE), { customer: 'acme' })).toEqual(Array(5).fill('challenge'));
    expect(state.blocks).toEqual([]);
    expect(state.failures).toHaveLength(5);
  });

  it("another customer's allow list does not protect the source", () => {
    state.guard.setCustomerLists(new Map([['acme', { allow: list(PHONE), deny: list() }]]));
    failMany(3, flow(PHONE), { customer: 'globex' });
    expect(state.blocks).toEqual([['address', PHONE, '3 failed authentications within 60 s', T0 + 600_000]]);
  });
});

describe('RegistrationGuard.authSucceeded', () => {
  it('trusts the source in the gate: it gets the higher rate limits', () => {
    // newSourceBurst 2: a third message from an untrusted source is dropped.
    expect([state.gate.admit(PHONE, true, T0), state.gate.admit(PHONE, true, T0), state.gate.admit(PHONE, true, T0)]).toEqual([ACCEPT, ACCEPT, DROP]);
    state.guard.authSucceeded(register(flow(PHONE)), '1001', 'example.com');
    const verdicts = Array.from({ length: 50 }, () => state.gate.admit(PHONE, true, T0));
    expect(verdicts.every((v) => v === ACCEPT)).toBe(true);
  });

  it("does not forget the source's failures: one right password does not excuse a spray", () => {
    failMany(2, flow(ATTACKER));
    state.guard.authSucceeded(register(flow(ATTACKER)), '1001', 'example.com');
    failMany(1, flow(ATTACKER));
    expect(state.blocks.map((b) => b[0])).toEqual(['address']);
  });

  it("forgetSource clears the source's count (an operator unblocked it)", () => {
    failMany(2, flow(ATTACKER));
    state.guard.forgetSource(ATTACKER);
    failMany(2, flow(ATTACKER));
    expect(state.blocks).toEqual([]);
  });
});
