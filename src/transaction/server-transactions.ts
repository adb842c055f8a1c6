// Server transactions (RFC 3261 §17.2). A retransmitted request is matched to its
// transaction and gets the same response again (or nothing while it is still being
// processed); it never reaches the usage twice. Non-INVITE transactions linger for Timer J
// (64·T1 on UDP, none on reliable transports); INVITE ones retransmit their final response
// on UDP (Timer G) until the ACK arrives or Timer H fires.
//
// A completed transaction keeps only what a retransmission needs, the response bytes, not
// the request: at 20,000 transactions a second lingering 32 s, holding parsed requests would
// cost gigabytes (see CompletedResponses).

import { getHeapStatistics } from 'node:v8';
import { getParam, type Via } from '../sip/message.js';
import { ownString } from '../sip/own-string.js';
import { responseTarget, type ResponseTarget } from '../transport/response-target.js';
import { CompletedResponses } from './completed-responses.js';
import type { Flow } from '../transport/transport.js';
import type { InboundRequest } from '../transport/transport-layer.js';

export const T1 = 500;
export const T2 = 4000;
export const T4 = 5000;
const TIMER_J = 64 * T1;
const TIMER_H = 64 * T1;

const MAGIC_COOKIE = 'z9hG4bK';

export interface ServerTransaction {
  readonly key: string;
  readonly req: InboundRequest;
  /** Sends a response; a final one (>= 200) completes the transaction. */
  respond(status: number, buf: Buffer): void;
}

/**
 * Sends response bytes back along a request's path (§18.2.2): over the request's own
 * connection when it still stands, else to `target`.
 */
export type ResponseSender = (flow: Flow, target: ResponseTarget, buf: Buffer) => void;

export interface TransactionLayerOptions {
  readonly send: ResponseSender;
  /** A request that starts a new transaction (every method but ACK). */
  readonly onRequest: (tx: ServerTransaction) => void;
  /** An ACK that matches no transaction (an ACK for a 2xx, end to end). */
  readonly onStrayAck?: (req: InboundRequest) => void;
  /** Cap on completed transactions remembered; past it the oldest are forgotten early. */
  readonly maxCompleted?: number;
  /** Cap on the bytes of their responses (default: a quarter of V8's heap limit, at most 1 GB). */
  readonly maxCompletedBytes?: number;
  readonly now?: () => number;
}

/** A transaction whose request is being processed. */
class Pending implements ServerTransaction {
  /** Last provisional response sent, repeated to retransmissions. */
  provisional: Buffer | null = null;
  done = false;

  constructor(
    readonly key: string,
    readonly req: InboundRequest,
    private readonly layer: TransactionLayer,
  ) {}

  respond(status: number, buf: Buffer): void {
    if (this.done) return;
    const req = this.req;
    this.layer.send(req.flow, responseTarget(req.via[0]!, req.flow), buf);
    if (status < 200) {
      this.provisional = buf;
      return;
    }
    this.done = true;
    this.layer.onFinal(this, buf);
  }
}

/** An INVITE transaction that has sent its final (non-2xx) response and awaits the ACK. */
class CompletedInvite {
  /** The ACK arrived (absorb retransmissions silently). */
  confirmed = false;
  /** Over UDP: Timer G and its current interval. */
  retransmit: NodeJS.Timeout | null = null;
  interval = T1;

  constructor(
    readonly key: string,
    readonly response: Buffer,
    readonly flow: Flow,
    readonly target: ResponseTarget,
  ) {}
}

export class TransactionLayer {
  /**
   * Every transaction by key, whatever its state: one lookup per request. A Pending is
   * being processed; a number is a completed non-INVITE over UDP whose response
   * CompletedResponses keeps for Timer J; a CompletedInvite awaits its ACK (Timer H). A
   * key is in one state at a time: completing a transaction replaces its entry.
   */
  private readonly byKey = new Map<string, Pending | CompletedInvite | number>();
  private readonly completed: CompletedResponses;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  readonly send: ResponseSender;
  /** Retransmissions absorbed or answered from the table (for metrics and tests). */
  retransmissions = 0;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.send = opts.send;
    this.completed = new CompletedResponses(
      TIMER_J,
      opts.maxCompleted ?? 2_000_000,
      this.byKey,
      opts.maxCompletedBytes ?? Math.min(2 ** 30, Math.floor(getHeapStatistics().heap_size_limit / 4)),
    );
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(() => this.completed.sweep(this.now()), 1000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.byKey.size;
  }

  receive(req: InboundRequest): void {
    const method = req.msg.method;
    const key = transactionKey(req, method === 'ACK' ? 'INVITE' : method);
    const known = this.byKey.get(key);
    if (method === 'ACK') {
      if (known instanceof CompletedInvite) {
        // ACK for our non-2xx final response: stop retransmitting, absorb (Timer I).
        if (!known.confirmed) {
          known.confirmed = true;
          this.stopRetransmit(known);
          this.scheduleRemoval(known, req.flow.transport === 'UDP' ? T4 : 0);
        }
      } else if (!(known instanceof Pending)) {
        this.opts.onStrayAck?.(req);
      }
      return;
    }
    if (known === undefined) {
      const created = new Pending(key, req, this);
      this.byKey.set(key, created);
      this.opts.onRequest(created);
      return;
    }
    // A retransmission is answered where it came from: after a NAT rebinding, or when a
    // request first sent over UDP is retried over TCP, that is not where the original was.
    this.retransmissions++;
    let response: Buffer | null;
    if (typeof known === 'number') response = this.completed.at(known);
    else if (known instanceof Pending) response = known.provisional;
    else response = known.confirmed ? null : known.response;
    if (response !== null) this.send(req.flow, responseTarget(req.via[0]!, req.flow), response);
  }

  /** Whether the INVITE a CANCEL refers to (same key, §9.2) is still known. */
  hasInviteFor(cancel: InboundRequest): boolean {
    const known = this.byKey.get(transactionKey(cancel, 'INVITE'));
    return known instanceof Pending || known instanceof CompletedInvite;
  }

  /** Called by a pending transaction when it sends its final response. */
  onFinal(p: Pending, response: Buffer): void {
    const req = p.req;
    const reliable = req.flow.transport !== 'UDP';
    if (req.msg.method === 'INVITE') {
      const c = new CompletedInvite(p.key, response, req.flow, responseTarget(req.via[0]!, req.flow));
      this.byKey.set(p.key, c);
      // Wait for the ACK (Timer H); on UDP retransmit the response meanwhile (Timer G).
      if (!reliable) this.armRetransmit(c);
      this.scheduleRemoval(c, TIMER_H);
      return;
    }
    // Timer J is zero on reliable transports.
    if (reliable) this.byKey.delete(p.key);
    else this.completed.put(p.key, response, this.now());
  }

  private armRetransmit(c: CompletedInvite): void {
    c.retransmit = setTimeout(() => {
      if (c.confirmed) return;
      this.send(c.flow, c.target, c.response);
      c.interval = Math.min(c.interval * 2, T2);
      this.armRetransmit(c);
    }, c.interval);
    c.retransmit.unref();
  }

  private stopRetransmit(c: CompletedInvite): void {
    if (c.retransmit !== null) clearTimeout(c.retransmit);
    c.retransmit = null;
  }

  private scheduleRemoval(c: CompletedInvite, ms: number): void {
    const t = setTimeout(() => {
      this.stopRetransmit(c);
      if (this.byKey.get(c.key) === c) this.byKey.delete(c.key);
    }, ms);
    t.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const t of this.byKey.values()) if (t instanceof CompletedInvite) this.stopRetransmit(t);
    this.completed.clear();
    this.byKey.clear();
  }
}

/**
 * RFC 3261 §17.2.3: branch + sent-by + method when the branch has the magic cookie (plus
 * Call-ID and CSeq number, which a true retransmission repeats too: a client that reuses a
 * branch for a new request then gets a new transaction, not another request's answer);
 * otherwise the RFC 2543 rules (Request-URI, tags, Call-ID, CSeq, top Via).
 */
export function transactionKey(req: InboundRequest, method: string): string {
  const msg = req.msg;
  const top: Via = msg.via[0]!;
  const branch = getParam(top.params, 'branch');
  if (branch && branch.startsWith(MAGIC_COOKIE)) {
    // Owned: a key built from slices of the packet would keep the packet for Timer J.
    return ownString(`${branch}|${top.host}:${top.port ?? ''}|${method}|${msg.callId}|${msg.cseq.seq}`);
  }
  // The ACK of a non-2xx carries the To tag of our response, which the INVITE lacked.
  const toTag = method === 'INVITE' && msg.method === 'ACK' ? '' : (getParam(msg.to.params, 'tag') ?? '');
  return ownString(`2543|${msg.uriText}|${getParam(msg.from.params, 'tag') ?? ''}|${toTag}|${msg.callId}|${msg.cseq.seq}|${method}|${top.raw}`);
}
