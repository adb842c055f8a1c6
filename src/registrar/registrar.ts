// The registrar usage (RFC 3261 §10.3): takes REGISTER transactions through every step —
// domain, Require, AOR, authentication, authorization, contacts — applies the decision to
// the live table, makes it durable through the journal, and only then answers 200 OK.
// It also runs the expiry clock and records every transition as an event.

import { challengeValue, type DigestAlgorithm } from '../auth/digest.js';
import { selectCredentials, verifyCredentials } from '../auth/digest-credentials.js';
import type { NonceService } from '../auth/nonce.js';
import { isSipUri } from '../sip/message.js';
import { serializeResponse } from '../sip/serializer.js';
import type { AccountRecord, BindingJournal, EventType, FailureReason, RegistrationEvent, StoreOp } from '../store/store.js';
import type { ServerTransaction } from '../transaction/server-transactions.js';
import type { InboundRequest } from '../transport/transport-layer.js';
import type { Flow } from '../transport/transport.js';
import { ownString } from '../sip/own-string.js';
import { Binding } from './binding.js';
import { UserAgentPool } from './user-agent-pool.js';
import type { BindingTable } from './binding-table.js';
import { aorIn, type DomainResolver } from './domain-resolver.js';
import { registerBehindNat } from './nat-detection.js';
import { decideRegister, type RegisterPolicy } from './register-decision.js';

/** Option tags this registrar implements (RFC 3261 §8.2.2.3: anything else in Require → 420). */
export const SUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set(['path', 'outbound']);

/** The settings the registrar reads on every request, so run-time changes apply at once. */
export interface RegistrarSettings {
  readonly policy: RegisterPolicy;
  readonly expiringShare: number;
  readonly algorithms: readonly DigestAlgorithm[];
  readonly recordRefreshes: boolean;
  readonly serverHeader: string;
  /** Flow-Timer (RFC 5626 §4.4.1) in a 200 that uses outbound: seconds between the client's keep-alives. */
  readonly flowTimer: number;
}

/**
 * Security the registrar consults (src/security/registration-guard.ts): who may use an
 * account from where, failed authentications (lockout, retry limit) and the failure log.
 */
export interface RegistrarSecurity {
  /** Whether any account authenticates by source address (then the To user names it). */
  readonly ipAccounts: boolean;
  sourceAllowed(account: AccountRecord, flow: Flow): boolean;
  usernameBlocked(username: string, domain: string): boolean;
  authFailed(inbound: InboundRequest, username: string, domain: string, customer: string | null, reason: FailureReason, detail: string | null): 'challenge' | 'forbid';
  authSucceeded(inbound: InboundRequest, username: string, domain: string): void;
  failed(inbound: InboundRequest, username: string | null, reason: FailureReason, detail: string | null): void;
}

export interface AccountLookup {
  find(username: string, domain: string): AccountRecord | null;
}

export interface RegistrarDeps {
  readonly table: BindingTable;
  readonly journal: BindingJournal;
  readonly accounts: AccountLookup;
  readonly nonces: NonceService;
  readonly domains: DomainResolver;
  readonly settings: () => RegistrarSettings;
  /** First id to give a new binding (above every id ever stored). */
  readonly firstBindingId: number;
  readonly log: {
    error(obj: object, msg: string): void;
    info(obj: object, msg: string): void;
    debug(obj: object, msg: string): void;
  };
  readonly now?: () => number;
  readonly random?: () => number;
  /** Every recorded event, as it is recorded (live views). */
  readonly onEvent?: (e: RegistrationEvent) => void;
  /** A binding removed to make room for a new device (calls get torn down, §9). */
  readonly onKicked?: (b: Binding, by: Binding) => void;
  readonly security?: RegistrarSecurity;
}

export interface RegistrarCounters {
  registers: number;
  challenges: number;
  authFailures: number;
  accepted: number;
  rejected: number;
  commitFailures: number;
}

type Headers = Array<readonly [string, string]>;

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);
/** The Path of every binding registered without one. */
const NO_PATH: readonly string[] = Object.freeze([]);

export class Registrar {
  private readonly userAgents = new UserAgentPool();
  private nextId: number;
  private readonly now: () => number;
  private readonly random: () => number;
  readonly counters: RegistrarCounters = { registers: 0, challenges: 0, authFailures: 0, accepted: 0, rejected: 0, commitFailures: 0 };
  private tagPrefix = Math.floor(Math.random() * 0xffffffff).toString(16);
  private tagCounter = 0;
  private dateSecond = -1;
  private dateValue = '';

  constructor(private readonly deps: RegistrarDeps) {
    this.nextId = deps.firstBindingId;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
  }

  handle(tx: ServerTransaction): void {
    this.counters.registers++;
    const inbound = tx.req;
    const req = inbound.msg;
    const settings = this.deps.settings();
    const now = this.now();

    // Step 1: the Request-URI names a domain we serve.
    const uri = req.uri;
    if (!isSipUri(uri) || this.deps.domains.resolve(uri.host) === null) {
      return this.reject(tx, settings, 403, 'Forbidden (domain not served)', [], null, 'domain not served');
    }
    // Step 2: every extension the client requires is one we implement.
    const unsupported = req.require.length === 0 ? req.require : req.require.filter((t) => !SUPPORTED_EXTENSIONS.has(t));
    if (unsupported.length > 0) {
      return this.reject(tx, settings, 420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]], null, `unsupported extension ${unsupported.join(', ')}`);
    }
    // Step 5 (before auth: the realm is the AOR's domain): To must name an AOR of ours.
    const to = req.to.uri;
    const domain = isSipUri(to) && to.user !== null && to.user !== '' ? this.deps.domains.resolve(to.host) : null;
    if (domain === null || !isSipUri(to)) {
      return this.reject(tx, settings, 404, 'Not Found (address-of-record not served)', [], null, 'AOR not served');
    }
    // Step 3: authentication. Accounts in an IP auth mode are named by the To user and
    // authenticated by where the request comes from (SPEC §3).
    const security = this.deps.security;
    let acct: AccountRecord | null = null;
    if (security !== undefined && security.ipAccounts) {
      const a = this.deps.accounts.find(to.user!, domain);
      if (a !== null && (a.authMode === 'ip' || a.authMode === 'ip-port')) {
        const aor = ownString(aorIn(to, domain));
        if (!a.enabled) {
          security.failed(inbound, a.username, 'disabled-account', null);
          return this.reject(tx, settings, 403, 'Forbidden', NO_HEADERS, aor, 'account disabled');
        }
        if (!security.sourceAllowed(a, inbound.flow)) {
          security.failed(inbound, a.username, 'source-not-allowed', `${inbound.flow.remoteAddress}:${inbound.flow.remotePort}`);
          return this.reject(tx, settings, 403, 'Forbidden (source not allowed)', NO_HEADERS, aor, 'source not allowed for this account');
        }
        security.authSucceeded(inbound, a.username, domain);
        acct = a;
      }
    }
    if (acct === null) {
      const sel = selectCredentials(req.authorization, domain, settings.algorithms);
      if (sel.kind === 'none') return this.challenge(tx, settings, domain, false);
      // A flat copy: bindings keep it, and the table looks it up (a concatenation hashes and
      // compares more slowly than a flat string).
      const aor = ownString(aorIn(to, domain));
      if (sel.kind === 'malformed') {
        security?.failed(inbound, null, 'malformed', sel.reason);
        return this.reject(tx, settings, 400, `Bad Request (${sel.reason})`, NO_HEADERS, aor, sel.reason);
      }
      const creds = sel.credentials;
      if (security !== undefined && security.usernameBlocked(creds.username, domain)) {
        security.failed(inbound, creds.username, 'blocked-username', null);
        this.counters.authFailures++;
        return this.challenge(tx, settings, domain, false);
      }
      const account = this.deps.accounts.find(creds.username, domain);
      const outcome = verifyCredentials(creds, account, req.method, this.deps.nonces, now);
      if (outcome.kind === 'stale') {
        security?.failed(inbound, creds.username, 'stale-nonce', null);
        return this.challenge(tx, settings, domain, true);
      }
      if (outcome.kind === 'failed') {
        this.counters.authFailures++;
        this.recordOnly(inbound, 'auth-failed', aor, `${outcome.reason} (username ${creds.username})`, now);
        if (security !== undefined) {
          const reason: FailureReason = outcome.reason === 'disabled' ? 'disabled-account' : outcome.reason === 'unknown-user' ? 'unknown-user' : outcome.reason === 'wrong-password' ? 'wrong-password' : 'stale-nonce';
          const verdict = security.authFailed(inbound, creds.username, domain, account?.customer ?? null, reason, outcome.reason === 'replay' || outcome.reason === 'bad-nonce' ? outcome.reason : null);
          if (verdict === 'forbid') return this.reject(tx, settings, 403, 'Forbidden', NO_HEADERS, aor, 'too many failed attempts');
        }
        // Identical to the first challenge whatever the reason: no account enumeration.
        return this.challenge(tx, settings, domain, false);
      }
      acct = outcome.account;
      // Step 4: authorization — the credentials are those of the AOR's account.
      if (acct.username !== to.user) {
        security?.failed(inbound, creds.username, 'policy-reject', `credentials of ${acct.username} for ${aor}`);
        return this.reject(tx, settings, 403, 'Forbidden (credentials do not match the address-of-record)', NO_HEADERS, aor, `user ${acct.username} may not register ${aor}`);
      }
      if (security !== undefined) {
        if (!security.sourceAllowed(acct, inbound.flow)) {
          security.failed(inbound, acct.username, 'source-not-allowed', `${inbound.flow.remoteAddress}:${inbound.flow.remotePort}`);
          return this.reject(tx, settings, 403, 'Forbidden (source not allowed)', NO_HEADERS, aor, 'source not allowed for this account');
        }
        security.authSucceeded(inbound, acct.username, domain);
      }
    }
    const aor = ownString(aorIn(to, domain));

    // Steps 6–7: the contacts.
    const policy = accountPolicy(settings.policy, acct);
    const bindings = this.deps.table.of(aor);
    const decision = decideRegister({ req, bindings, policy, random: this.random });
    if (decision.kind === 'reject') {
      security?.failed(inbound, acct.username, 'policy-reject', decision.reason);
      return this.reject(tx, settings, decision.status, decision.reason, decision.headers, aor, decision.reason);
    }
    if (decision.kind === 'query') {
      this.counters.accepted++;
      tx.respond(200, this.ok(inbound, settings, aor, now));
      return;
    }

    // Apply to the live table, then make it durable, then answer (step 8). Strings from the
    // request are copied only where a binding or an event keeps them (see own-string.ts).
    const ops: StoreOp[] = [];
    const events: RegistrationEvent[] = [];
    const table = this.deps.table;
    const source = inbound.flow;
    let userAgent: string | null = null;
    const path = req.path.length === 0 ? NO_PATH : req.path.map((p) => ownString(p.raw));
    const changed: Binding[] = [];
    let newest: Binding | null = null;
    if (decision.removals.length > 0 || decision.kicks.length > 0) userAgent = this.userAgents.intern(req.userAgent);
    for (const b of decision.removals) {
      table.remove(b);
      ops.push({ op: 'delete-binding', id: b.id });
      events.push(this.event(now, 'unregistered', b, source, userAgent, null));
    }
    for (const b of decision.kicks) {
      table.remove(b);
      ops.push({ op: 'delete-binding', id: b.id });
    }
    const via = req.via[0]!;
    const connection = source.connection;
    for (const u of decision.upserts) {
      const expiresAt = now + u.expires * 1000;
      const curi = u.contact.uri;
      const nat = isSipUri(curi)
        ? registerBehindNat(curi.host, curi.port, via.host, via.port, source.remoteAddress, source.remotePort)
        : registerBehindNat(null, null, via.host, via.port, source.remoteAddress, source.remotePort);
      let b = u.existing;
      if (b === null) {
        if (userAgent === null) userAgent = this.userAgents.intern(req.userAgent);
        b = new Binding(
          this.nextId++,
          aor,
          acct.username,
          domain,
          ownString(u.contact.uriText),
          u.instance === null ? null : ownString(u.instance),
          u.regId,
          u.q,
          ownString(req.callId),
          req.cseq.seq,
          u.expires,
          expiresAt,
          now,
          now,
          source.remoteAddress,
          source.remotePort,
          source.transport,
          source.localAddress,
          source.localPort,
          userAgent,
          path,
          nat,
        );
        b.connection = connection;
        events.push(this.event(now, 'registered', b, source, userAgent, null));
        newest = b;
      } else {
        if (b.contact !== u.contact.uriText) b.contact = ownString(u.contact.uriText);
        if (b.callId !== req.callId) b.callId = ownString(req.callId);
        b.cseq = req.cseq.seq;
        b.q = u.q;
        b.expires = u.expires;
        b.expiresAt = expiresAt;
        b.refreshedAt = now;
        b.sourceAddress = source.remoteAddress;
        b.sourcePort = source.remotePort;
        b.transport = source.transport;
        b.localAddress = source.localAddress;
        b.localPort = source.localPort;
        if (b.userAgent !== req.userAgent) b.userAgent = this.userAgents.intern(req.userAgent);
        b.path = path;
        b.nat = nat;
        b.connection = connection;
        b.lastSeenAt = now;
        if (settings.recordRefreshes) events.push(this.event(now, 'refreshed', b, source, b.userAgent, null));
      }
      table.put(b);
      changed.push(b);
    }
    for (const k of decision.kicks) {
      const by = newest ?? changed[0]!;
      events.push(this.event(now, 'kicked', k, source, userAgent, `replaced by ${by.contact} from ${source.remoteAddress}:${source.remotePort}`));
      this.deps.onKicked?.(k, by);
    }

    // RFC 5626 §6: a registration that used outbound (Supported: outbound, +sip.instance and
    // reg-id) is told so, with how often its keep-alives are expected.
    let outbound = false;
    if (req.supported.length > 0 && req.supported.includes('outbound')) for (const u of decision.upserts) if (u.regId !== null) outbound = true;
    const response = this.ok(inbound, settings, aor, now, outbound);
    // The binding itself goes in the op (it is a BindingRecord), not a copy: the journal
    // encodes it when its batch is flushed (next turn, or when the batch in flight settles).
    // A later change to the same binding before then is encoded with it, which only writes
    // the newer state sooner; that change carries its own op and its own commit.
    for (const b of changed) ops.push({ op: 'put-binding', binding: b, lastRequest: req.raw, lastResponse: response });
    for (const e of events) ops.push({ op: 'event', event: e });
    this.counters.accepted++;
    this.deps.journal.submit(ops, (err) => {
      if (err !== null) {
        this.counters.commitFailures++;
        this.deps.log.error({ err, aor }, 'binding change not committed; answering 500');
        tx.respond(500, this.response(inbound, settings, 500, 'Server Internal Error (storage unavailable)', [['Retry-After', '5']]));
        return;
      }
      tx.respond(200, response);
      for (const e of events) this.deps.onEvent?.(e);
    });
  }

  /** Removes bindings on an operator's request (the endpoint is not told, SPEC §5). */
  forceRemove(aor: string, contact: string | null, who: string, done: (removed: number, err: Error | null) => void): void {
    const now = this.now();
    const victims = this.deps.table.of(aor).filter((b) => contact === null || b.contact === contact);
    if (victims.length === 0) {
      done(0, null);
      return;
    }
    const ops: StoreOp[] = [];
    const events: RegistrationEvent[] = [];
    for (const b of victims) {
      this.deps.table.remove(b);
      ops.push({ op: 'delete-binding', id: b.id });
      const e = this.event(now, 'force-removed', b, null, null, `by ${who}`);
      events.push(e);
      ops.push({ op: 'event', event: e });
    }
    this.deps.journal.submit(ops, (err) => {
      if (err === null) for (const e of events) this.deps.onEvent?.(e);
      done(victims.length, err);
    });
  }

  /**
   * A change of an endpoint's reachability (keep-alive, lost connection), recorded as an
   * event; with `remove`, its binding is removed too (a `removed` event).
   */
  reachability(b: Binding, type: 'reachable' | 'unreachable', reason: string, remove: boolean): void {
    if (!b.inTable) return;
    const now = this.now();
    const events = [this.event(now, type, b, null, null, reason)];
    const ops: StoreOp[] = [];
    if (remove && type === 'unreachable') {
      this.deps.table.remove(b);
      ops.push({ op: 'delete-binding', id: b.id });
      events.push(this.event(now, 'removed', b, null, null, reason));
    }
    for (const e of events) ops.push({ op: 'event', event: e });
    this.deps.journal.submit(ops, (err) => {
      if (err !== null) this.deps.log.error({ err }, 'reachability change not committed');
      else for (const e of events) this.deps.onEvent?.(e);
    });
  }

  /** The expiry clock: records Expiring transitions and removes expired bindings. */
  tick(): void {
    const now = this.now();
    const { expiring, expired } = this.deps.table.tick(now);
    if (expiring.length === 0 && expired.length === 0) return;
    const ops: StoreOp[] = [];
    const events: RegistrationEvent[] = [];
    for (const b of expiring) events.push(this.event(now, 'expiring', b, null, null, null));
    for (const b of expired) {
      ops.push({ op: 'delete-binding', id: b.id });
      events.push(this.event(b.expiresAt, 'expired', b, null, null, null));
    }
    for (const e of events) ops.push({ op: 'event', event: e });
    this.deps.journal.submit(ops, (err) => {
      if (err !== null) this.deps.log.error({ err }, 'expiry not committed');
      else for (const e of events) this.deps.onEvent?.(e);
    });
  }

  private challenge(tx: ServerTransaction, settings: RegistrarSettings, realm: string, stale: boolean): void {
    this.counters.challenges++;
    const nonce = this.deps.nonces.issue(this.now());
    const headers: Headers = [];
    let algorithms = settings.algorithms;
    const transport = tx.req.flow.transport;
    if ((transport === 'WS' || transport === 'WSS') && algorithms.length > 1 && algorithms.includes('MD5') && algorithms[algorithms.length - 1] !== 'MD5') {
      // Browser softphones (JsSIP, SIP.js) keep only the last WWW-Authenticate and know only
      // MD5: over WebSocket, MD5 goes last so that they can register with the defaults.
      algorithms = [...algorithms.filter((a) => a !== 'MD5'), 'MD5'];
    }
    for (let i = 0; i < algorithms.length; i++) headers.push(['WWW-Authenticate', challengeValue(realm, nonce, algorithms[i]!, stale)]);
    tx.respond(401, this.response(tx.req, settings, 401, 'Unauthorized', headers));
  }

  private reject(
    tx: ServerTransaction,
    settings: RegistrarSettings,
    status: number,
    reason: string,
    headers: ReadonlyArray<readonly [string, string]>,
    aor: string | null,
    why: string,
  ): void {
    this.counters.rejected++;
    this.recordOnly(tx.req, 'rejected', aor, `${status} ${why}`, this.now());
    tx.respond(status, this.response(tx.req, settings, status, reason, headers.slice()));
  }

  /** An event that changes no binding (rejections, failed authentications). */
  private recordOnly(inbound: InboundRequest, type: EventType, aor: string | null, reason: string, now: number): void {
    const src = inbound.flow;
    const contact = inbound.msg.contact;
    const e: RegistrationEvent = {
      time: now,
      type,
      aor,
      contact: contact === '*' ? '*' : (contact[0]?.uriText ?? null),
      bindingId: null,
      sourceAddress: src.remoteAddress,
      sourcePort: src.remotePort,
      transport: src.transport,
      userAgent: inbound.msg.userAgent,
      reason,
    };
    this.deps.journal.submit([{ op: 'event', event: e }], (err) => {
      if (err === null) this.deps.onEvent?.(e);
    });
  }

  private event(
    time: number,
    type: EventType,
    b: Binding,
    source: Flow | null,
    userAgent: string | null,
    reason: string | null,
  ): RegistrationEvent {
    return {
      time,
      type,
      aor: b.aor,
      contact: b.contact,
      bindingId: b.id,
      sourceAddress: source?.remoteAddress ?? b.sourceAddress,
      sourcePort: source?.remotePort ?? b.sourcePort,
      transport: source?.transport ?? b.transport,
      userAgent: userAgent ?? b.userAgent,
      reason,
    };
  }

  /** 200 OK with every current binding of the AOR and its remaining expiry (step 8). */
  private ok(inbound: InboundRequest, settings: RegistrarSettings, aor: string, now: number, outbound = false): Buffer {
    const headers: Headers = [];
    const bindings = this.deps.table.of(aor);
    for (let i = 0; i < bindings.length; i++) {
      const b = bindings[i]!;
      let v = `<${b.contact}>;expires=${b.remaining(now)}`;
      if (b.q !== null) v += `;q=${b.q}`;
      if (b.instance !== null) v += `;+sip.instance="${b.instance}"`;
      if (b.regId !== null) v += `;reg-id=${b.regId}`;
      headers.push(['Contact', v]);
    }
    const msg = inbound.msg;
    if (msg.path.length > 0 && msg.supported.includes('path')) for (const p of msg.path) headers.push(['Path', p.raw]);
    if (outbound) {
      headers.push(['Require', 'outbound']);
      headers.push(['Flow-Timer', String(settings.flowTimer)]);
    }
    headers.push(['Date', this.date(now)]);
    return this.response(inbound, settings, 200, 'OK', headers);
  }

  /** Serializes a response; `headers` is the caller's own array (the Server header goes on it). */
  private response(inbound: InboundRequest, settings: RegistrarSettings, status: number, reason: string, headers: Headers): Buffer {
    if (settings.serverHeader) headers.push(['Server', settings.serverHeader]);
    return serializeResponse(inbound.echo, status, reason, headers, this.toTag());
  }

  private toTag(): string {
    return `${this.tagPrefix}.${(this.tagCounter++).toString(36)}`;
  }

  private date(now: number): string {
    const s = Math.floor(now / 1000);
    if (s !== this.dateSecond) {
      this.dateSecond = s;
      this.dateValue = new Date(s * 1000).toUTCString();
    }
    return this.dateValue;
  }
}

/** The global policy with the account's own expiry range and binding limit applied. */
export function accountPolicy(global: RegisterPolicy, a: AccountRecord): RegisterPolicy {
  if (a.minExpires === null && a.maxExpires === null && a.maxBindings === null) return global;
  return {
    ...global,
    minExpires: a.minExpires ?? global.minExpires,
    maxExpires: a.maxExpires ?? global.maxExpires,
    maxBindings: a.maxBindings ?? global.maxBindings,
  };
}

