// Keep-alive and online check (SPEC §6): registered endpoints — those behind NAT, or all —
// are pinged once per interval: a SIP OPTIONS over UDP (any answer, even an error, says the
// endpoint is there and refreshes its NAT binding), a ping on a connection flow — CRLFCRLF on
// TCP/TLS (RFC 5626 §4.4.1), a ping frame on WebSocket (Connection.ping). On TCP/TLS the
// connection still being open is the answer (a lost one is reported by the listener at once);
// a WebSocket peer must answer with a pong, and not answering is a miss. A pong, where one
// comes, gives the round-trip time.
// An endpoint registered through an edge proxy (Path, RFC 3327) is left to that proxy unless
// `throughPath` asks for it: then it gets an OPTIONS with its Path as the Route set, sent to
// the proxy the REGISTER came from on the same flow, and the proxy's forwarding of the
// endpoint's answer is the answer.
// A ping not answered by the time of the next one is a miss; `maxMisses` in a row flag the
// endpoint unreachable, and an answer flags it reachable again. Every transition goes to the
// owner, which records the event and, if configured, removes the binding.
//
// No timers per ping: the ring (ping-ring.ts) visits each endpoint once per interval, and
// that visit both judges the last ping and sends the next. An OPTIONS answer is written into
// the ledger (ping-ledger.ts), not into the binding, which is cold by then: the binding takes
// it at that visit, or when it is about to be read (settle). Only an endpoint flagged
// unreachable takes its answer at once, so that the event saying it is back is as prompt as
// the answer that makes it.

import { randomBytes } from 'node:crypto';
import { getParam, type SipResponse } from '../sip/message.js';
import type { Connection } from '../transport/transport.js';
import type { Binding } from './binding.js';
import { OptionsPingWriter, PING_BRANCH_PREFIX, PING_SEQ_LIMIT, pingSeqIn, routeLines } from './options-ping.js';
import { PingLedger } from './ping-ledger.js';
import { PingRing } from './ping-ring.js';

export interface KeepAliveSettings {
  readonly enabled: boolean;
  readonly target: 'nat' | 'all';
  /** Also ping bindings with a Path, through the proxy (false when absent). */
  readonly throughPath?: boolean;
  /** Seconds between two pings of one endpoint. */
  readonly interval: number;
  readonly maxMisses: number;
}

export interface KeepAliveDeps {
  readonly settings: () => KeepAliveSettings;
  /**
   * Sends a datagram to the binding's received address and port, from the socket its REGISTER
   * came in on. Returns a ticket (≥ 0) when the datagram was queued to go out a little later,
   * for sendDelay(); -1 when it went out at once, or could not.
   */
  readonly sendDatagram: (b: Binding, buf: Buffer) => number;
  /**
   * How long, in ms, the datagram sendDatagram() gave this ticket for waited to go out: not
   * part of the round-trip time. 0 when not known.
   */
  readonly sendDelay?: (ticket: number) => number;
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

export interface KeepAliveCounters {
  pings: number;
  answers: number;
  misses: number;
}

export class KeepAlive {
  private readonly ring: PingRing<Binding>;
  /** OPTIONS pings and their answers, by sequence number (the end of their branch), until their endpoint's next visit. */
  private readonly ledger = new PingLedger();
  /** Pings to endpoints flagged unreachable, by sequence number: their answers are taken at once. */
  private readonly prompt = new Map<number, Binding>();
  private seq = 0;
  /** Endpoints whose slot came up and that are not visited yet, from `dueAt` on. */
  private due: Binding[] = [];
  private dueAt = 0;
  /** Random per process: an answer to another process's ping can never match one of ours. */
  private readonly tag = randomBytes(4).toString('hex');
  /** How our branches start, up to the sequence number. */
  private readonly branchStart = `${PING_BRANCH_PREFIX}${this.tag}-`;
  /** The same as bytes, to search a raw response for (and for the UDP receiver threads, udp-receiver-thread.ts). */
  readonly branchStartBytes = Buffer.from(this.branchStart, 'latin1');
  private readonly writer = new OptionsPingWriter(this.tag);
  /** Route lines by Path (a binding's Path is one array until its next REGISTER). */
  private readonly routes = new WeakMap<readonly string[], Buffer>();
  readonly counters: KeepAliveCounters = { pings: 0, answers: 0, misses: 0 };

  constructor(private readonly deps: KeepAliveDeps) {
    this.ring = new PingRing(slotsFor(deps.settings().interval), deps.random);
  }

  /** Endpoints being pinged. */
  get size(): number {
    return this.ring.size;
  }

  /** Endpoints being pinged and the counters, a copy: what `rollcall status` and the stats show. */
  summary(): { endpoints: number } & KeepAliveCounters {
    return { endpoints: this.ring.size, ...this.counters };
  }

  /** A binding was added or refreshed: it is pinged when the settings say so. */
  track(b: Binding): void {
    if (this.wanted(b)) this.ring.add(b);
    else this.untrack(b);
  }

  /** A binding is gone (or no longer to be pinged). */
  untrack(b: Binding): void {
    this.ring.remove(b);
    // An answer that came is still news, whatever happens to the pinging.
    if (!this.settle(b)) this.forget(b);
  }

  /** Drops the binding's awaited ping, answered or not. */
  private forget(b: Binding): void {
    const seq = b.pingSeq;
    b.pingSeq = -1;
    const e = this.ledger.find(seq);
    if (e >= 0) this.ledger.clear(e);
    if (this.prompt.size > 0) this.prompt.delete(seq);
  }

  /**
   * Applies to the binding the answer its last ping got, if one came: its last-seen, RTT and
   * miss count are then current. For whatever reads them (the API) and for the visit.
   * Returns false while that ping still awaits an answer.
   */
  settle(b: Binding): boolean {
    const seq = b.pingSeq;
    if (seq < 0) return true;
    const e = this.ledger.find(seq);
    // Overwritten by a ping two intervals younger (the ledger was outgrown): not judged.
    if (e < 0) {
      this.forget(b);
      return true;
    }
    const at = this.ledger.answeredAt(e);
    if (at === 0) return false;
    const rtt = this.ledger.rttMs(e);
    this.forget(b);
    this.answered(b, at, rtt);
    return true;
  }

  private wanted(b: Binding): boolean {
    const s = this.deps.settings();
    if (!s.enabled || !b.inTable) return false;
    // Behind an edge proxy (Path), keeping the endpoint's NAT open is that proxy's job.
    if (b.path.length > 0 && s.throughPath !== true) return false;
    return s.target === 'all' || b.nat;
  }

  /**
   * Turns the ring one slot: its endpoints are due — each one's last ping is judged and the
   * next sent — and up to `max` of the due ones are visited now; true when some are left for
   * work(). The owner visits the rest in small batches with I/O in between (a REGISTER that
   * arrives meanwhile waits for one batch, not for the whole slot: bench/keep-alive.mjs).
   */
  tick(max = Infinity): boolean {
    this.ring.resize(slotsFor(this.deps.settings().interval));
    const next = this.ring.next();
    if (this.dueAt === this.due.length) {
      this.due = next;
      this.dueAt = 0;
    } else for (let i = 0; i < next.length; i++) this.due.push(next[i]!);
    return this.work(max);
  }

  /** Visits up to `max` due endpoints; true when some are still due. */
  work(max: number): boolean {
    const s = this.deps.settings();
    const end = Math.min(this.due.length, this.dueAt + max);
    while (this.dueAt < end) {
      const b = this.due[this.dueAt++]!;
      // Gone from the ring since its slot came up (removed, or no longer to be pinged).
      if (b.pingSlot < 0) continue;
      if (!this.wanted(b)) {
        this.untrack(b);
        continue;
      }
      this.visit(b, s);
    }
    if (this.dueAt < this.due.length) return true;
    this.due = [];
    this.dueAt = 0;
    return false;
  }

  private visit(b: Binding, s: KeepAliveSettings): void {
    const conn = b.connection;
    const proxied = b.path.length > 0;
    if (conn !== null) {
      // A connection flow: closed is a miss (and the owner's lost-connection handling has
      // usually dealt with it already).
      if (conn.closed) {
        this.miss(b, s, 'connection closed');
        return;
      }
      // Open means there — unless it is a proxy's connection, whose being open says nothing
      // of the endpoint behind it: that one gets an OPTIONS, below.
      if (!proxied) {
        this.visitConnection(b, conn, s);
        return;
      }
    }
    if (!this.settle(b)) {
      this.forget(b);
      this.miss(b, s, `no answer to ${s.maxMisses} OPTIONS pings`);
      if (!b.inTable) return; // the owner removed it
    }
    const seq = this.seq;
    this.seq = (seq + 1) % PING_SEQ_LIMIT;
    const buf = this.writer.write(b, seq, this.deps.localHost(b), this.deps.userAgent(), proxied ? this.route(b.path) : null);
    const now = this.deps.now();
    b.pingSeq = seq;
    b.pingSentAt = now;
    this.counters.pings++;
    let ticket = -1;
    if (conn === null) ticket = this.deps.sendDatagram(b, buf);
    else conn.send(buf);
    this.ledger.reserve(this.ring.size);
    this.ledger.sent(seq, now, ticket);
    if (b.reachable === false) this.prompt.set(seq, b);
  }

  /**
   * A connection flow's visit. The answer to the last ping, if it came since this binding's
   * last visit, gives the round-trip time and last-seen: a pong frame on WebSocket, a CRLF on
   * TCP/TLS from a client that answers. A WebSocket peer must answer (RFC 6455 §5.5.2), so an
   * unanswered ping is a miss there: that finds a connection whose far end went away without
   * a word (a NAT that dropped its mapping), which an open socket does not. On TCP/TLS an
   * open connection is the answer.
   */
  private visitConnection(b: Binding, conn: Connection, s: KeepAliveSettings): void {
    // An OPTIONS from before the endpoint registered over this connection: its answer, if
    // one came, is applied; its entry is not left to wait for an overwrite.
    if (!this.settle(b)) this.forget(b);
    const pong = conn.pong;
    // Unanswered since before this binding's last visit (a ping sent for another binding on
    // the same connection since then is not yet a miss).
    if (conn.pongRequired && pong.unanswered > 0 && pong.waitingSince <= b.pingSentAt) {
      this.miss(b, s, `no answer to ${s.maxMisses} WebSocket pings`);
      if (!b.inTable) return; // the owner removed it
    } else {
      if (pong.rttMs !== null && pong.pongAt >= b.pingSentAt) {
        this.counters.answers++;
        b.rttMs = pong.rttMs;
        if (pong.pongAt > b.lastSeenAt) b.lastSeenAt = pong.pongAt;
      }
      this.answered(b, 0, null);
    }
    // One ping keeps the flow alive for every binding on it (RFC 5626 §4.4: keep-alives are
    // per flow): a PBX registering 500 lines over one connection would otherwise get 500
    // pings an interval. At most one per half interval, so that a connection with a single
    // binding, visited once an interval give or take a tick, is still pinged at every visit.
    const now = this.deps.now();
    b.pingSentAt = now;
    if (pong.pingedAt > 0 && now - pong.pingedAt < s.interval * 500) return;
    this.counters.pings++;
    conn.ping();
  }

  private route(path: readonly string[]): Buffer {
    let r = this.routes.get(path);
    if (r === undefined) this.routes.set(path, (r = routeLines(path)));
    return r;
  }

  private miss(b: Binding, s: KeepAliveSettings, reason: string): void {
    this.counters.misses++;
    b.misses++;
    if (b.misses >= s.maxMisses && b.reachable !== false) {
      b.reachable = false;
      this.deps.onUnreachable(b, reason);
    }
  }

  private answered(b: Binding, atMs: number, rttMs: number | null): void {
    b.misses = 0;
    if (rttMs !== null) {
      b.rttMs = rttMs;
      // A REGISTER since the answer is later news.
      if (atMs > b.lastSeenAt) b.lastSeenAt = atMs;
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
    if (this.ledger.size === 0) return false;
    const seq = pingSeqIn(buf, this.branchStartBytes);
    return seq >= 0 && isOptionsAnswer(buf) && this.onPingAnswer(seq, this.deps.now());
  }

  /**
   * An answer a UDP receiver thread recognised (the same test as onRawResponse, in C) and
   * timed when it arrived (to the microsecond; kept in whole ms, as the clock here is): true
   * when its ping is still awaited.
   */
  onPingAnswer(seq: number, atMs: number): boolean {
    const e = this.ledger.awaiting(seq);
    if (e < 0) return false;
    this.counters.answers++;
    // Timed from the visit; a ping queued for the sender thread left later than that.
    const ticket = this.ledger.ticket(e);
    this.ledger.answer(e, Math.floor(atMs), ticket >= 0 && this.deps.sendDelay !== undefined ? this.deps.sendDelay(ticket) : 0);
    if (this.prompt.size > 0) {
      const b = this.prompt.get(seq);
      if (b !== undefined) this.settle(b);
    }
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
    if (typeof branch !== 'string' || !branch.startsWith(this.branchStart)) return false;
    const digits = branch.slice(this.branchStart.length);
    if (!/^\d{1,10}$/.test(digits)) return false;
    const seq = Number(digits);
    return seq < PING_SEQ_LIMIT && this.onPingAnswer(seq, this.deps.now());
  }
}

const SIP_2_0 = Buffer.from('SIP/2.0 ', 'latin1');
const CSEQ_OPTIONS = Buffer.from(': 1 OPTIONS\r\n', 'latin1');
const CRLF_CSEQ = '\r\ncseq';

/**
 * A status line and our ping's CSeq as we wrote it (the header name in any case); a phone
 * that rewrites it goes the long way (the parser).
 */
function isOptionsAnswer(buf: Buffer): boolean {
  if (buf.length < 8) return false;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIP_2_0[i]) return false;
  const at = buf.indexOf(CSEQ_OPTIONS);
  if (at < 6) return false;
  for (let i = 0; i < 6; i++) if ((buf[at - 6 + i]! | (i >= 2 ? 0x20 : 0)) !== CRLF_CSEQ.charCodeAt(i)) return false;
  return true;
}

function slotsFor(intervalSeconds: number): number {
  return Math.max(1, Math.round((intervalSeconds * 1000) / KEEP_ALIVE_TICK_MS));
}
