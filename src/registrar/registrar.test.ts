// Every step of RFC 3261 §10.3 through the registrar usage, with exact status codes and
// headers. Requests are parsed from text by the real parser; digest responses are computed
// here independently with createHash.

import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from '../auth/digest.js';
import { NonceService } from '../auth/nonce.js';
import { headerValue, headerValues, type SipResponse } from '../sip/message.js';
import { echoOf } from '../sip/parse-error.js';
import { parseMessage } from '../sip/parser.js';
import { withReceived } from '../sip/via.js';
import type { AccountRecord, BindingJournal, StoreOp } from '../store/store.js';
import type { ServerTransaction } from '../transaction/server-transactions.js';
import { PongClock } from '../transport/pong-clock.js';
import type { InboundRequest } from '../transport/transport-layer.js';
import type { Connection, Flow, Listener } from '../transport/transport.js';
import type { Binding } from './binding.js';
import { BindingTable } from './binding-table.js';
import { DomainResolver } from './domain-resolver.js';
import { Registrar, type RegistrarSettings } from './registrar.js';

const T0 = 1_800_000_000_000;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function account(username: string, password: string, over: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id: 1,
    username,
    domain: 'example.com',
    customer: null,
    ha1Md5: computeHa1('MD5', username, 'example.com', password),
    ha1Sha256: computeHa1('SHA-256', username, 'example.com', password),
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

const listener: Listener = { transport: 'UDP', localAddress: '192.0.2.1', localPort: 5060, sendTo() {}, close: async () => {} };

function flow(address = '198.51.100.7', port = 5062): Flow {
  return { transport: 'UDP', remoteAddress: address, remotePort: port, localAddress: '192.0.2.1', localPort: 5060, listener, connection: null };
}

interface Harness {
  now: number;
  settings: RegistrarSettings;
  accounts: Map<string, AccountRecord>;
  ops: StoreOp[];
  failCommit: boolean;
  kicked: Array<[Binding, Binding]>;
  table: BindingTable;
  registrar: Registrar;
  /** Sends a REGISTER; returns the response. */
  send(text: string, f?: Flow): SipResponse;
}

let h: Harness;

function makeHarness(): Harness {
  const state = {
    now: T0,
    settings: {
      policy: { defaultExpires: 3600, minExpires: 60, maxExpires: 7200, maxBindings: 1, replacePolicy: 'on', expirySpread: 0 },
      expiringShare: 0.1,
      algorithms: ['MD5', 'SHA-256'],
      recordRefreshes: true,
      serverHeader: 'Rollcall',
      flowTimer: 120,
    } as RegistrarSettings,
    accounts: new Map<string, AccountRecord>([
      ['1001@example.com', account('1001', 'secret')],
      ['1002@example.com', account('1002', 'other')],
    ]),
    ops: [] as StoreOp[],
    failCommit: false,
    kicked: [] as Array<[Binding, Binding]>,
  };
  const table = new BindingTable(T0, () => state.settings.expiringShare);
  const journal: BindingJournal = {
    submit(ops, done) {
      if (state.failCommit) return done(new Error('disk full'));
      state.ops.push(...ops);
      done(null);
    },
    close: async () => {},
  };
  const registrar = new Registrar({
    table,
    journal,
    accounts: { find: (u, d) => state.accounts.get(`${u}@${d}`) ?? null },
    nonces: new NonceService({ secret: Buffer.alloc(32, 1), lifetime: 300 }, T0 - 1000),
    domains: new DomainResolver({ configured: ['example.com'], defaultDomain: null, aliases: [], ownAddresses: new Set(['192.0.2.1', '2001:db8::1']), accountDomains: [] }),
    settings: () => state.settings,
    firstBindingId: 1,
    log: { error() {}, info() {}, debug() {} },
    now: () => state.now,
    random: () => 0.5,
    onKicked: (b, by) => state.kicked.push([b, by]),
  });
  return Object.assign(state, {
    table,
    registrar,
    send(text: string, f = flow()): SipResponse {
      const msg = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')), 'datagram');
      if (msg.kind !== 'request') throw new Error(`test request does not parse: ${JSON.stringify(msg)}`);
      const via = [withReceived(msg.via[0]!, f.remoteAddress, f.remotePort, true), ...msg.via.slice(1)];
      const req: InboundRequest = { msg, flow: f, via, echo: { ...echoOf(msg), via }, receivedAt: state.now };
      let out: Buffer | null = null;
      const tx: ServerTransaction = { key: 'k', req, respond: (_s, buf) => (out = buf) };
      registrar.handle(tx);
      if (out === null) throw new Error('no response');
      const res = parseMessage(out, 'datagram');
      if (res.kind !== 'response') throw new Error('response does not parse');
      return res;
    },
  });
}

let cseq = 1;
interface Reg {
  user?: string;
  uri?: string;
  to?: string;
  callId?: string;
  cseq?: number;
  contact?: string | string[] | null;
  expires?: number | null;
  extra?: string[];
  auth?: string | null;
}

function register(r: Reg = {}): string {
  const user = r.user ?? '1001';
  const contacts = r.contact === null ? [] : Array.isArray(r.contact) ? r.contact : [r.contact ?? `<sip:${user}@198.51.100.7:5062>`];
  return [
    `REGISTER ${r.uri ?? 'sip:example.com'} SIP/2.0`,
    'Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK' + Math.random().toString(36).slice(2) + ';rport',
    'Max-Forwards: 70',
    `From: <sip:${user}@example.com>;tag=f1`,
    `To: ${r.to ?? `<sip:${user}@example.com>`}`,
    `Call-ID: ${r.callId ?? 'call-1@198.51.100.7'}`,
    `CSeq: ${r.cseq ?? cseq++} REGISTER`,
    ...contacts.map((c) => `Contact: ${c}`),
    ...(r.expires === null || r.expires === undefined ? [] : [`Expires: ${r.expires}`]),
    'User-Agent: Test Phone 1.0',
    ...(r.auth ? [`Authorization: ${r.auth}`] : []),
    ...(r.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\n');
}

/** Digest credentials for a challenge, computed step by step (RFC 7616 §3.4.1). */
function credentials(challenge: SipResponse, user: string, password: string, alg: 'MD5' | 'SHA-256' = 'MD5', nc = '00000001', uri = 'sip:example.com'): string {
  const c = challenge.wwwAuthenticate.find((w) => (w.params.get('algorithm') ?? 'MD5') === alg)!;
  const H = alg === 'MD5' ? md5 : sha256;
  const nonce = c.params.get('nonce')!;
  const ha1 = H(`${user}:example.com:${password}`);
  const response = H(`${ha1}:${nonce}:${nc}:abcdef:auth:${H(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="example.com", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${alg}, qop=auth, nc=${nc}, cnonce="abcdef"`;
}

/** REGISTER → 401 → authenticated REGISTER; returns the final response. */
function authed(r: Reg = {}, password = 'secret', alg: 'MD5' | 'SHA-256' = 'MD5'): SipResponse {
  const challenge = h.send(register({ ...r, cseq: r.cseq }));
  expect(challenge.status).toBe(401);
  return h.send(register({ ...r, cseq: r.cseq === undefined ? undefined : r.cseq + 1, auth: credentials(challenge, r.user ?? '1001', password, alg) }));
}

function contactsOf(res: SipResponse): string[] {
  return res.contact === '*' ? ['*'] : res.contact.map((c) => `${c.uriText};expires=${c.params.find((p) => p[0] === 'expires')?.[1]}`);
}

beforeEach(() => {
  h = makeHarness();
});

describe('step 1: domain', () => {
  it('403 for a Request-URI domain that is not served', () => {
    const r = h.send(register({ uri: 'sip:other.net' }));
    expect(r.status).toBe(403);
    expect(r.reason).toBe('Forbidden (domain not served)');
  });

  it('a Request-URI naming our own address means the default domain', () => {
    expect(h.send(register({ uri: 'sip:192.0.2.1' })).status).toBe(401);
  });

  it('a To naming our own IPv6 address registers the AOR of the default domain', () => {
    const r = authed({ uri: 'sip:[2001:db8::1]', to: '<sip:1001@[2001:db8::1]>' });
    expect(r.status).toBe(200);
    expect(h.table.of('sip:1001@example.com')).toHaveLength(1);
  });
});

describe('step 2: Require', () => {
  it('420 Bad Extension with Unsupported listing what we lack', () => {
    const r = h.send(register({ extra: ['Require: path, foo, bar'] }));
    expect(r.status).toBe(420);
    expect(headerValue(r, 'unsupported')).toBe('foo, bar');
  });
});

describe('step 3: authentication', () => {
  it('over WebSocket, MD5 is the last challenge (browser softphones read only the last one); elsewhere the configured order', () => {
    const ws: Flow = { ...flow(), transport: 'WS' };
    expect(h.send(register(), ws).wwwAuthenticate.map((w) => w.params.get('algorithm'))).toEqual(['SHA-256', 'MD5']);
    expect(h.send(register(), { ...flow(), transport: 'WSS' }).wwwAuthenticate.map((w) => w.params.get('algorithm'))).toEqual(['SHA-256', 'MD5']);
    expect(h.send(register(), { ...flow(), transport: 'TLS' }).wwwAuthenticate.map((w) => w.params.get('algorithm'))).toEqual(['MD5', 'SHA-256']);
    h.settings = { ...h.settings, algorithms: ['SHA-256'] };
    expect(h.send(register(), ws).wwwAuthenticate.map((w) => w.params.get('algorithm'))).toEqual(['SHA-256']);
  });

  it('401 with one challenge per algorithm, a To tag, and the request echoed', () => {
    const req = register({ callId: 'echo-me@x', cseq: 77 });
    const r = h.send(req);
    expect(r.status).toBe(401);
    expect(r.wwwAuthenticate.map((w) => w.params.get('algorithm'))).toEqual(['MD5', 'SHA-256']);
    for (const w of r.wwwAuthenticate) {
      expect(w.scheme).toBe('Digest');
      expect(w.params.get('realm')).toBe('example.com');
      expect(w.params.get('qop')).toBe('auth');
      expect(w.params.has('stale')).toBe(false);
    }
    expect(r.callId).toBe('echo-me@x');
    expect(r.cseq).toEqual({ seq: 77, method: 'REGISTER' });
    expect(r.from.raw).toBe('<sip:1001@example.com>;tag=f1');
    expect(r.to.params.some((p) => p[0] === 'tag')).toBe(true);
    expect(r.via[0]!.params).toContainEqual(['received', '198.51.100.7']);
    expect(r.via[0]!.params).toContainEqual(['rport', '5062']);
  });

  it('200 with MD5 and with SHA-256 credentials', () => {
    expect(authed({}, 'secret', 'MD5').status).toBe(200);
    expect(authed({ user: '1002' }, 'other', 'SHA-256').status).toBe(200);
  });

  it('a wrong password and an unknown user get the same answer as a first REGISTER', () => {
    const first = h.send(register());
    const wrong = h.send(register({ auth: credentials(first, '1001', 'nope') }));
    const unknown = h.send(register({ user: '9999', auth: credentials(first, '9999', 'nope') }));
    const shape = (r: SipResponse) => ({
      status: r.status,
      reason: r.reason,
      headers: r.headers.map((x) => x.name),
      challenges: r.wwwAuthenticate.map((w) => [...w.params.keys()].join(',') + (w.params.get('algorithm') ?? '')),
    });
    expect(shape(wrong)).toEqual(shape(first));
    expect(shape(unknown)).toEqual(shape(first));
    const failures = h.ops.filter((o) => o.op === 'event' && o.event.type === 'auth-failed');
    expect(failures.map((o) => o.op === 'event' && o.event.reason)).toEqual(['wrong-password (username 1001)', 'unknown-user (username 9999)']);
  });

  it('a disabled account is refused like a wrong password', () => {
    h.accounts.set('1001@example.com', account('1001', 'secret', { enabled: false }));
    const first = h.send(register());
    expect(h.send(register({ auth: credentials(first, '1001', 'secret') })).status).toBe(401);
  });

  it('an expired nonce with the right password gets stale=true', () => {
    const first = h.send(register());
    h.now += 301_000;
    const r = h.send(register({ auth: credentials(first, '1001', 'secret') }));
    expect(r.status).toBe(401);
    expect(r.wwwAuthenticate[0]!.params.get('stale')).toBe('true');
  });

  it('a replayed nonce-count is refused; a higher one is accepted', () => {
    const first = h.send(register());
    expect(h.send(register({ auth: credentials(first, '1001', 'secret', 'MD5', '00000001') })).status).toBe(200);
    expect(h.send(register({ auth: credentials(first, '1001', 'secret', 'MD5', '00000001') })).status).toBe(401);
    expect(h.send(register({ auth: credentials(first, '1001', 'secret', 'MD5', '00000002') })).status).toBe(200);
  });

  it('400 for credentials without a response', () => {
    const r = h.send(register({ auth: 'Digest username="1001", realm="example.com", nonce="x", uri="sip:example.com"' }));
    expect(r.status).toBe(400);
  });
});

describe('step 4: authorization', () => {
  it('403 when the credentials belong to another account than the AOR', () => {
    const first = h.send(register({ user: '1002' }));
    const r = h.send(register({ user: '1002', auth: credentials(first, '1001', 'secret') }));
    expect(r.status).toBe(403);
    expect(r.reason).toBe('Forbidden (credentials do not match the address-of-record)');
  });
});

describe('step 5: To → AOR', () => {
  it('404 when To names a domain we do not serve', () => {
    expect(h.send(register({ to: '<sip:1001@elsewhere.org>' })).status).toBe(404);
  });
});

describe('steps 6–8: contacts', () => {
  it('200 lists the binding with its expiry and a Date; it is in the table and committed', () => {
    const r = authed({ expires: 1800 });
    expect(r.status).toBe(200);
    expect(contactsOf(r)).toEqual(['sip:1001@198.51.100.7:5062;expires=1800']);
    expect(headerValue(r, 'date')).toBe(new Date(T0).toUTCString());
    const [b] = h.table.of('sip:1001@example.com');
    expect(b).toMatchObject({ contact: 'sip:1001@198.51.100.7:5062', expires: 1800, sourceAddress: '198.51.100.7', sourcePort: 5062, transport: 'UDP', userAgent: 'Test Phone 1.0' });
    expect(h.ops.map((o) => (o.op === 'event' ? o.event.type : o.op))).toEqual(['put-binding', 'registered']);
  });

  it('a Contact expires param wins over the Expires header, which wins over the default', () => {
    expect(contactsOf(authed({ contact: '<sip:1001@198.51.100.7:5062>;expires=120', expires: 600 }))).toEqual(['sip:1001@198.51.100.7:5062;expires=120']);
    expect(contactsOf(authed({ expires: 600 }))).toEqual(['sip:1001@198.51.100.7:5062;expires=600']);
    expect(contactsOf(authed({}))).toEqual(['sip:1001@198.51.100.7:5062;expires=3600']);
  });

  it('423 Interval Too Brief with Min-Expires below the minimum', () => {
    const r = authed({ expires: 30 });
    expect(r.status).toBe(423);
    expect(headerValue(r, 'min-expires')).toBe('60');
    expect(h.table.size).toBe(0);
  });

  it('a per-account minimum overrides the global one', () => {
    h.accounts.set('1001@example.com', account('1001', 'secret', { minExpires: 300 }));
    const r = authed({ expires: 120 });
    expect(r.status).toBe(423);
    expect(headerValue(r, 'min-expires')).toBe('300');
  });

  it('an expiry above the maximum is clamped', () => {
    expect(contactsOf(authed({ expires: 86400 }))).toEqual(['sip:1001@198.51.100.7:5062;expires=7200']);
  });

  it('storm spreading grants up to expirySpread percent less', () => {
    h.settings = { ...h.settings, policy: { ...h.settings.policy, expirySpread: 20 } };
    // random() is 0.5 → 10 % below 3600
    expect(contactsOf(authed({ expires: 3600 }))).toEqual(['sip:1001@198.51.100.7:5062;expires=3240']);
  });

  it('a REGISTER without Contact is a query listing the current bindings', () => {
    authed({ expires: 600 });
    h.now += 10_000;
    const r = authed({ contact: null });
    expect(r.status).toBe(200);
    expect(contactsOf(r)).toEqual(['sip:1001@198.51.100.7:5062;expires=590']);
  });

  it('a refresh keeps one binding and restarts its expiry; refreshed is recorded', () => {
    authed({ expires: 600, cseq: 10 });
    h.now += 100_000;
    const r = authed({ expires: 900, cseq: 20 });
    expect(contactsOf(r)).toEqual(['sip:1001@198.51.100.7:5062;expires=900']);
    expect(h.table.of('sip:1001@example.com')).toHaveLength(1);
    expect(h.ops.filter((o) => o.op === 'event').map((o) => o.op === 'event' && o.event.type)).toEqual(['registered', 'refreshed']);
  });

  it('Expires: 0 removes the binding and the 200 lists none', () => {
    authed({ cseq: 10 });
    const r = authed({ expires: 0, cseq: 20 });
    expect(r.status).toBe(200);
    expect(r.contact).toEqual([]);
    expect(h.table.size).toBe(0);
    expect(h.ops.some((o) => o.op === 'event' && o.event.type === 'unregistered')).toBe(true);
  });

  it('Contact: * with Expires: 0 removes every binding of the AOR', () => {
    h.settings = { ...h.settings, policy: { ...h.settings.policy, maxBindings: 3 } };
    authed({ contact: ['<sip:1001@198.51.100.7:5062>', '<sip:1001@198.51.100.8:5062>'], cseq: 10 });
    expect(h.table.size).toBe(2);
    const r = authed({ contact: '*', expires: 0, cseq: 20 });
    expect(r.status).toBe(200);
    expect(h.table.size).toBe(0);
  });

  it('400 for Contact: * without Expires: 0', () => {
    const r = authed({ contact: '*', expires: 60 });
    expect(r.status).toBe(400);
  });

  it('400 for a CSeq not higher than the binding\'s on the same Call-ID; another Call-ID may update', () => {
    authed({ cseq: 50 });
    expect(authed({ cseq: 40 }).status).toBe(400);
    expect(authed({ cseq: 40, callId: 'new-call@x', expires: 120 }).status).toBe(200);
    expect(h.table.of('sip:1001@example.com')[0]!.callId).toBe('new-call@x');
  });

  it('the same +sip.instance replaces its binding even when the contact changed', () => {
    const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"';
    authed({ contact: `<sip:1001@198.51.100.7:5062>;${inst}`, cseq: 10 });
    const r = authed({ contact: `<sip:1001@203.0.113.9:6000>;${inst}`, cseq: 20 });
    expect(r.status).toBe(200);
    const list = h.table.of('sip:1001@example.com');
    expect(list).toHaveLength(1);
    expect(list[0]!.contact).toBe('sip:1001@203.0.113.9:6000');
    expect(list[0]!.instance).toBe('<urn:uuid:00000000-0000-1000-8000-aabbccddeeff>');
    expect(h.kicked).toHaveLength(0);
    expect(headerValues(r, 'contact')[0]).toContain('+sip.instance="<urn:uuid:00000000-0000-1000-8000-aabbccddeeff>"');
  });

  it('replace policy on: a new device kicks the oldest binding', () => {
    authed({ contact: '<sip:1001@198.51.100.7:5062>', cseq: 10 });
    h.now += 1000;
    const r = authed({ contact: '<sip:1001@203.0.113.9:6000>', callId: 'second-device@y', cseq: 1 });
    expect(r.status).toBe(200);
    expect(contactsOf(r)).toEqual(['sip:1001@203.0.113.9:6000;expires=3600']);
    expect(h.kicked.map(([k, by]) => [k.contact, by.contact])).toEqual([['sip:1001@198.51.100.7:5062', 'sip:1001@203.0.113.9:6000']]);
    expect(h.ops.some((o) => o.op === 'event' && o.event.type === 'kicked' && o.event.contact === 'sip:1001@198.51.100.7:5062')).toBe(true);
  });

  it('replace policy off: the new device gets 403 and the first binding stays', () => {
    h.settings = { ...h.settings, policy: { ...h.settings.policy, replacePolicy: 'off' } };
    authed({ contact: '<sip:1001@198.51.100.7:5062>', cseq: 10 });
    const r = authed({ contact: '<sip:1001@203.0.113.9:6000>', callId: 'second-device@y', cseq: 1 });
    expect(r.status).toBe(403);
    expect(r.reason).toBe('Forbidden (maximum of 1 binding reached)');
    expect(h.table.of('sip:1001@example.com').map((b) => b.contact)).toEqual(['sip:1001@198.51.100.7:5062']);
  });

  it('a higher max bindings lets several devices share an account', () => {
    h.accounts.set('1001@example.com', account('1001', 'secret', { maxBindings: 2 }));
    authed({ contact: '<sip:1001@198.51.100.7:5062>', cseq: 10 });
    const r = authed({ contact: '<sip:1001@203.0.113.9:6000>', callId: 'second@y', cseq: 1 });
    expect(contactsOf(r).sort()).toEqual(['sip:1001@198.51.100.7:5062;expires=3600', 'sip:1001@203.0.113.9:6000;expires=3600']);
  });

  it('Path is stored and returned when the client supports path', () => {
    const r = authed({ extra: ['Path: <sip:edge.example.com;lr>', 'Supported: path'] });
    expect(headerValues(r, 'path')).toEqual(['<sip:edge.example.com;lr>']);
    expect(h.table.of('sip:1001@example.com')[0]!.path).toEqual(['<sip:edge.example.com;lr>']);
  });

  it('500 with Retry-After when the change cannot be committed', () => {
    const challenge = h.send(register());
    h.failCommit = true;
    const r = h.send(register({ auth: credentials(challenge, '1001', 'secret') }));
    expect(r.status).toBe(500);
    expect(headerValue(r, 'retry-after')).toBe('5');
  });
});

describe('expiry and removal', () => {
  it('a binding turns Expiring, then expires, each recorded', () => {
    authed({ expires: 100 });
    const b = h.table.of('sip:1001@example.com')[0]!;
    h.now += 89_000;
    h.registrar.tick();
    expect(b.status(h.now, 0.1)).toBe('Registered');
    h.now += 2_000;
    h.registrar.tick();
    expect(b.status(h.now, 0.1)).toBe('Expiring');
    h.now += 10_000;
    h.registrar.tick();
    expect(h.table.size).toBe(0);
    expect(h.ops.filter((o) => o.op === 'event').map((o) => o.op === 'event' && o.event.type)).toEqual(['registered', 'expiring', 'expired']);
    expect(h.ops.some((o) => o.op === 'delete-binding' && o.id === b.id)).toBe(true);
  });

  it('force removal deletes the binding and records who did it', () => {
    authed({});
    let removed = -1;
    h.registrar.forceRemove('sip:1001@example.com', null, 'admin', (n) => (removed = n));
    expect(removed).toBe(1);
    expect(h.table.size).toBe(0);
    const e = h.ops.find((o) => o.op === 'event' && o.event.type === 'force-removed');
    expect(e && e.op === 'event' && e.event.reason).toBe('by admin');
  });
});

describe('NAT flag and RFC 5626 outbound', () => {
  /** An authenticated REGISTER that arrives from `from`. */
  function authedFrom(from: Flow, r: Reg = {}): SipResponse {
    const challenge = h.send(register(r), from);
    return h.send(register({ ...r, auth: credentials(challenge, r.user ?? '1001', 'secret') }), from);
  }
  const natOf = () => h.table.of('sip:1001@example.com')[0]!.nat;

  it('is not behind NAT when Contact and Via name the source', () => {
    expect(authedFrom(flow('198.51.100.7', 5062)).status).toBe(200);
    expect(natOf()).toBe(false);
  });

  it('is behind NAT when the Contact names a private address', () => {
    expect(authedFrom(flow('198.51.100.7', 5062), { contact: '<sip:1001@192.168.1.20:5062>' }).status).toBe(200);
    expect(natOf()).toBe(true);
  });

  it('is behind NAT when the Via (and Contact) name another port than the source', () => {
    // Via and Contact say 198.51.100.7:5062; the NAT mapped it to port 40312.
    expect(authedFrom(flow('198.51.100.7', 40312)).status).toBe(200);
    expect(natOf()).toBe(true);
  });

  it('is behind NAT when only the Via differs from the source', () => {
    expect(authedFrom(flow('203.0.113.50', 5062), { contact: '<sip:1001@203.0.113.50:5062>' }).status).toBe(200);
    expect(natOf()).toBe(true);
  });

  it('the NAT flag is stored with the binding', () => {
    authedFrom(flow('198.51.100.7', 40312));
    const put = h.ops.find((o) => o.op === 'put-binding');
    expect(put && put.op === 'put-binding' && put.binding.nat).toBe(true);
  });

  it('a registration using outbound gets Require: outbound and Flow-Timer; one without gets neither', () => {
    const outbound = authedFrom(flow(), {
      contact: '<sip:1001@198.51.100.7:5062;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>";reg-id=1',
      extra: ['Supported: outbound, path'],
    });
    expect(outbound.status).toBe(200);
    expect(outbound.headers.filter((x) => x.name === 'require').map((x) => x.value)).toEqual(['outbound']);
    expect(outbound.headers.filter((x) => x.name === 'flow-timer').map((x) => x.value)).toEqual(['120']);
    expect(contactsOf(outbound)[0]).toContain('sip:1001@198.51.100.7:5062;ob');
    const plain = authedFrom(flow(), { user: '1002', contact: '<sip:1002@198.51.100.7:5062>' });
    expect(plain.status).toBe(401); // 1002 has another password: a challenge, nothing else
    const again = authedFrom(flow(), { contact: '<sip:1001@198.51.100.7:5070>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e129>";reg-id=1' });
    // No Supported: outbound: reg-id means nothing, no Require.
    expect(again.status).toBe(200);
    expect(again.headers.some((x) => x.name === 'require' || x.name === 'flow-timer')).toBe(false);
  });

  it('flows are keyed by +sip.instance and reg-id, each binding holding the connection it came over', () => {
    const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"';
    const conn = (id: number, port: number) =>
      ({ id, transport: 'TCP', remoteAddress: '198.51.100.7', remotePort: port, localAddress: '192.0.2.1', localPort: 5060, closed: false, send: () => true, close: () => {}, ping: () => {}, pong: new PongClock(), pongRequired: false }) as Connection;
    const over = (c: Connection): Flow => ({ ...flow('198.51.100.7', c.remotePort), transport: 'TCP', connection: c });
    const ob = { extra: ['Supported: outbound'] };
    h.settings = { ...h.settings, policy: { ...h.settings.policy, maxBindings: 3 } };
    const a = conn(1, 40001);
    const b = conn(2, 40002);
    // Two flows of one instance (reg-id 1 and 2, RFC 5626 §4.2): two bindings.
    expect(authedFrom(over(a), { ...ob, contact: `<sip:1001@198.51.100.7:5062;transport=tcp;ob>;${inst};reg-id=1` }).status).toBe(200);
    expect(authedFrom(over(b), { ...ob, contact: `<sip:1001@198.51.100.7:5062;transport=tcp;ob>;${inst};reg-id=2` }).status).toBe(200);
    let list = h.table.of('sip:1001@example.com');
    expect(list.map((x) => [x.regId, x.connection?.id])).toEqual([[1, 1], [2, 2]]);
    // Flow 1 comes back over a new connection with another contact port: the same binding,
    // now on the new connection; flow 2 untouched.
    const c = conn(3, 40003);
    expect(authedFrom(over(c), { ...ob, contact: `<sip:1001@198.51.100.7:5099;transport=tcp;ob>;${inst};reg-id=1` }).status).toBe(200);
    list = h.table.of('sip:1001@example.com');
    expect(list).toHaveLength(2);
    const flow1 = list.find((x) => x.regId === 1)!;
    expect(flow1.connection?.id).toBe(3);
    expect(flow1.contact).toBe('sip:1001@198.51.100.7:5099;transport=tcp;ob');
    expect(list.find((x) => x.regId === 2)!.connection?.id).toBe(2);
  });

  it('through an edge proxy without outbound support (no ob on the first Path URI): 439; with it, outbound applies', () => {
    const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"';
    const contact = `<sip:1001@198.51.100.7:5062;ob>;${inst};reg-id=1`;
    const edgeVia = 'Via: SIP/2.0/UDP edge.example.com;branch=z9hG4bKedge1';
    const lacking = authedFrom(flow(), { contact, extra: ['Supported: outbound, path', edgeVia, 'Path: <sip:edge.example.com;lr>'] });
    expect(lacking.status).toBe(439);
    expect(lacking.reason).toBe('First Hop Lacks Outbound Support');
    expect(h.table.of('sip:1001@example.com')).toEqual([]);
    // No Path at all behind a proxy: the same.
    expect(authedFrom(flow(), { contact, extra: ['Supported: outbound', edgeVia] }).status).toBe(439);
    // The edge proxy supports outbound: accepted, and outbound is used.
    const ok = authedFrom(flow(), { contact, extra: ['Supported: outbound, path', edgeVia, 'Path: <sip:edge.example.com;lr;ob>'] });
    expect(ok.status).toBe(200);
    expect(ok.headers.filter((x) => x.name === 'require').map((x) => x.value)).toEqual(['outbound']);
    expect(h.table.of('sip:1001@example.com')[0]!.regId).toBe(1);
  });

  it('a REGISTER with reg-id registers one contact: two contacts being registered with it get 400', () => {
    const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"';
    h.settings = { ...h.settings, policy: { ...h.settings.policy, maxBindings: 3 } };
    const two = authedFrom(flow(), { contact: `<sip:1001@198.51.100.7:5062;ob>;${inst};reg-id=1, <sip:1001@198.51.100.7:5070>`, extra: ['Supported: outbound'] });
    expect(two.status).toBe(400);
    // Registering the flow while unregistering another contact is fine.
    const swap = authedFrom(flow(), { contact: `<sip:1001@198.51.100.7:5062;ob>;${inst};reg-id=1, <sip:1001@198.51.100.7:5070>;expires=0`, extra: ['Supported: outbound'] });
    expect(swap.status).toBe(200);
    // Without Supported: outbound the reg-id means nothing: two contacts are two bindings.
    expect(authedFrom(flow(), { contact: `<sip:1001@198.51.100.7:5064>;${inst};reg-id=1, <sip:1001@198.51.100.7:5072>` }).status).toBe(200);
  });

  it('Require: outbound from the client is accepted, not 420', () => {
    const r = authedFrom(flow(), { extra: ['Require: outbound', 'Supported: outbound'] });
    expect(r.status).toBe(200);
  });
});
