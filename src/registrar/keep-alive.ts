// Keep-alive and online check (SPEC §6): registered endpoints — those behind NAT, or all —
// are pinged once per interval: a SIP OPTIONS over UDP (any answer, even an error, says the
// endpoint is there and refreshes its NAT binding), a ping on a connection flow — CRLFCRLF on
// TCP/TLS (RFC 5626 §4.4.1), a ping frame on WebSocket (Connection.ping) — where the
// connection still being open is the answer (a lost one is reported by the listener at once).
// A ping not answered by the time of the next one is a miss; `maxMisses` in a row flag the
// endpoint unreachable, and an answer flags it reachable again. Every transition goes to the
// owner, which records the event and, if configured, removes the binding.
//
// No timers per ping: the ring (ping-ring.ts) visits each endpoint once per interval, and
// that visit both judges the last ping and sends the next.

import { randomBytes } from 'node:crypto';
import { getParam, type SipResponse } from '../sip/message.js';
import type { Binding } from './binding.js';
import { PingRing } from './ping-ring.js';

export interface KeepAliveSettings {
  readonly enabled: boolean;
  readonly target: 'nat' | 'all';
  /** Seconds between two pings of one endpoint. */
  readonly interval: number;
  readonly maxMisses: number;
}

export interface KeepAliveDeps {
  readonly settings: () => KeepAliveSettings;
  /** Sends a datagram to the binding's received address and port, from the socket its REGISTER came in on. */
  readonly sendDatagram: (b: Binding, buf: Buffer) => boolean;
  /** The sent-by of our Via for a ping to `b` (the local address its REGISTER came in on). */
  readonly localHost: (b: Binding) => string;
  /** The endpoint answered no ping `maxMisses` times in a row (or its connection is gone). */
  readonly onUnreachable: (b: Binding, reason: string) => void;
  /** An endpoint flagged unreachable answered again. */
  readonly onReachable: (b: Binding) => void;
  readonly userAgent: () => string;
  readonly now: () => number;
  readonly random?: () => number;
}

/**
 * How often the ring turns one slot. Small, so that each turn sends few pings: at 100,000
 * endpoints and 30 s, 33 pings (~0.3 ms of work) every 10 ms rather than 333 every 100 ms,
 * which held REGISTERs up behind them (bench/keep-alive.mjs: p95 2.7 → 5.1 ms at 100 ms).
 */
export const KEEP_ALIVE_TICK_MS = 10;

const BRANCH_PREFIX = 'z9hG4bK-rcka-';

export interface KeepAliveCounters {
  pings: number;
  answers: number;
  misses: number;
}

export class KeepAlive {
  private readonly ring: PingRing<Binding>;
  /** Pings awaiting an answer, by Via branch. */
  private readonly pending = new Map<string, Binding>();
  private seq = 0;
  /** Random per process: an answer to another process's ping can never match one of ours. */
  private readonly tag = randomBytes(4).toString('hex');
  /** How our branches start, as bytes to search a raw response for. */
  private readonly branchStart = Buffer.from(`${BRANCH_PREFIX}${this.tag}-`);
  readonly counters: KeepAliveCounters = { pings: 0, answers: 0, misses: 0 };

  constructor(private readonly deps: KeepAliveDeps) {
    this.ring = new PingRing(slotsFor(deps.settings().interval), deps.random);
  }

  /** Endpoints being pinged. */
  get size(): number {
    return this.ring.size;
  }

  /** A binding was added or refreshed: it is pinged when the settings say so. */
  track(b: Binding): void {
    if (this.wanted(b)) this.ring.add(b);
    else this.untrack(b);
  }

  /** A binding is gone (or no longer to be pinged). */
  untrack(b: Binding): void {
    this.ring.remove(b);
    if (b.pingBranch !== null) {
      this.pending.delete(b.pingBranch);
      b.pingBranch = null;
    }
  }

  private wanted(b: Binding): boolean {
    const s = this.deps.settings();
    if (!s.enabled || !b.inTable) return false;
    // Behind an edge proxy (Path), keeping the endpoint's NAT open is that proxy's job.
    if (b.path.length > 0) return false;
    return s.target === 'all' || b.nat;
  }

  /** Turns the ring one slot: judges each endpoint's last ping and sends the next. */
  tick(): void {
    const s = this.deps.settings();
    this.ring.resize(slotsFor(s.interval));
    const due = this.ring.next();
    for (let i = 0; i < due.length; i++) {
      const b = due[i]!;
      if (!this.wanted(b)) {
        this.untrack(b);
        continue;
      }
      this.visit(b, s);
    }
  }

  private visit(b: Binding, s: KeepAliveSettings): void {
    const conn = b.connection;
    if (conn !== null) {
      // A connection flow: open means there; closed is a miss (and the owner's lost-connection
      // handling has usually dealt with it already).
      if (conn.closed) {
        this.miss(b, s, 'connection closed');
        return;
      }
      this.answered(b, null);
      this.counters.pings++;
      conn.ping();
      return;
    }
    if (b.pingBranch !== null) {
      this.pending.delete(b.pingBranch);
      b.pingBranch = null;
      this.miss(b, s, `no answer to ${s.maxMisses} OPTIONS pings`);
      if (!b.inTable) return; // the owner removed it
    }
    const branch = `${BRANCH_PREFIX}${this.tag}-${(this.seq++).toString(36)}`;
    const buf = optionsPing(b, branch, this.deps.localHost(b), this.tag, this.deps.userAgent());
    b.pingBranch = branch;
    b.pingSentAt = this.deps.now();
    this.pending.set(branch, b);
    this.counters.pings++;
    this.deps.sendDatagram(b, buf);
  }

  private miss(b: Binding, s: KeepAliveSettings, reason: string): void {
    this.counters.misses++;
    b.misses++;
    if (b.misses >= s.maxMisses && b.reachable !== false) {
      b.reachable = false;
      this.deps.onUnreachable(b, reason);
    }
  }

  private answered(b: Binding, rttMs: number | null): void {
    b.misses = 0;
    if (rttMs !== null) {
      b.rttMs = rttMs;
      b.lastSeenAt = this.deps.now();
    }
    const was = b.reachable;
    b.reachable = true;
    if (was === false) this.deps.onReachable(b);
  }

  /**
   * The raw bytes of a response, before anyone parses it: true when it answered one of our
   * pings. Only our branch is looked for (it is in the Via and the Call-ID we wrote, both
   * echoed) and the CSeq — at 100,000 endpoints these are thousands a second, and a full
   * parse of each cost more than sending the ping. The branch carries this process's random
   * tag, so nothing else matches; anything unsure goes to the parser.
   */
  onRawResponse(buf: Buffer): boolean {
    if (this.pending.size === 0) return false;
    const at = buf.indexOf(this.branchStart);
    if (at < 0) return false;
    let end = at + this.branchStart.length;
    while (end < buf.length && isToken(buf[end]!)) end++;
    const b = this.pending.get(buf.toString('latin1', at, end));
    if (b === undefined) return false;
    if (!isOptionsAnswer(buf)) return false;
    this.answer(b);
    return true;
  }

  /**
   * A response that arrived at the transport layer: true when it answered one of our pings.
   * Any status counts — a 404 or 405 comes from the endpoint as surely as a 200.
   */
  onResponse(res: SipResponse): boolean {
    const top = res.via[0];
    if (top === undefined || res.cseq.method !== 'OPTIONS') return false;
    const branch = getParam(top.params, 'branch');
    if (typeof branch !== 'string' || !branch.startsWith(BRANCH_PREFIX)) return false;
    const b = this.pending.get(branch);
    if (b === undefined) return false;
    this.answer(b);
    return true;
  }

  private answer(b: Binding): void {
    this.pending.delete(b.pingBranch!);
    b.pingBranch = null;
    this.counters.answers++;
    this.answered(b, Math.max(0, this.deps.now() - b.pingSentAt));
  }
}

/** RFC 3261 token characters (a branch is a token): alphanumerics and -.!%*_+`'~ */
function isToken(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x21 || c === 0x25 || c === 0x2a || c === 0x5f || c === 0x2b || c === 0x60 || c === 0x27 || c === 0x7e;
}

const CSEQ_OPTIONS = [Buffer.from('\r\nCSeq: 1 OPTIONS\r\n'), Buffer.from('\r\ncseq: 1 OPTIONS\r\n'), Buffer.from('\r\nCSEQ: 1 OPTIONS\r\n')];

/** A status line and our ping's CSeq as we wrote it; a phone that rewrites it goes the long way (the parser). */
function isOptionsAnswer(buf: Buffer): boolean {
  if (buf.toString('latin1', 0, 8) !== 'SIP/2.0 ') return false;
  for (const c of CSEQ_OPTIONS) if (buf.indexOf(c) > 0) return true;
  return false;
}

function slotsFor(intervalSeconds: number): number {
  return Math.max(1, Math.round((intervalSeconds * 1000) / KEEP_ALIVE_TICK_MS));
}

/**
 * An OPTIONS to the binding's contact (RFC 3261 §11), sent to its received address: Via with
 * rport (RFC 3581) so that the answer comes back through the same NAT mapping.
 */
export function optionsPing(b: Binding, branch: string, localHost: string, tag: string, userAgent: string): Buffer {
  const host = localHost.includes(':') ? `[${localHost}]` : localHost;
  const lines = [
    `OPTIONS ${b.contact} SIP/2.0`,
    `Via: SIP/2.0/${b.transport} ${host}:${b.localPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:keepalive@${b.domain}>;tag=${tag}`,
    `To: <${b.contact}>`,
    `Call-ID: ${branch}@${host}`,
    'CSeq: 1 OPTIONS',
  ];
  if (userAgent !== '') lines.push(`User-Agent: ${userAgent}`);
  lines.push('Content-Length: 0', '', '');
  return Buffer.from(lines.join('\r\n'));
}
