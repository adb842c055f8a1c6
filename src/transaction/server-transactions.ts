// Server transactions (RFC 3261 §17.2). A retransmitted request is matched to its
// transaction and gets the same response again (or nothing while it is still being
// processed); it never reaches the usage twice. Non-INVITE transactions linger for Timer J
// (64·T1 on UDP, none on reliable transports); INVITE ones retransmit their final response
// on UDP (Timer G) until the ACK arrives or Timer H fires.
//
// A completed transaction keeps only what a retransmission needs, the response bytes, not
// the request: at 20,000 transactions a second lingering 32 s, holding parsed requests would
// cost gigabytes (see CompletedResponses).

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
  /** Transactions whose request is being processed. */
  private readonly pending = new Map<string, Pending>();
  /** Completed non-INVITE transactions over UDP, for Timer J. */
  private readonly completed: CompletedResponses;
  /** Completed INVITE transactions waiting for their ACK (Timer H). */
  private readonly invites = new Map<string, CompletedInvite>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  readonly send: ResponseSender;
  /** Retransmissions absorbed or answered from the table (for metrics and tests). */
  retransmissions = 0;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.send = opts.send;
    this.completed = new CompletedResponses(TIMER_J, opts.maxCompleted ?? 2_000_000);
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(() => this.completed.sweep(this.now()), 1000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.pending.size + this.completed.size + this.invites.size;
  }

  receive(req: InboundRequest): void {
    const method = req.msg.method;
    const key = transactionKey(req, method === 'ACK' ? 'INVITE' : method);
    if (method === 'ACK') {
      const invite = this.invites.get(key);
      if (invite !== undefined) {
        // ACK for our non-2xx final response: stop retransmitting, absorb (Timer I).
        if (!invite.confirmed) {
          invite.confirmed = true;
          this.stopRetransmit(invite);
          this.scheduleRemoval(invite, req.flow.transport === 'UDP' ? T4 : 0);
        }
      } else if (!this.pending.has(key)) {
        this.opts.onStrayAck?.(req);
      }
      return;
    }
    // A retransmission is answered where it came from: after a NAT rebinding, or when a
    // request first sent over UDP is retried over TCP, that is not where the original was.
    const pending = this.pending.get(key);
    if (pending !== undefined) {
      this.retransmissions++;
      if (pending.provisional !== null) this.send(req.flow, responseTarget(req.via[0]!, req.flow), pending.provisional);
      return;
    }
    const stored = this.completed.get(key);
    if (stored !== null) {
      this.retransmissions++;
      this.send(req.flow, responseTarget(req.via[0]!, req.flow), stored);
      return;
    }
    const invite = this.invites.get(key);
    if (invite !== undefined) {
      this.retransmissions++;
      if (!invite.confirmed) this.send(req.flow, responseTarget(req.via[0]!, req.flow), invite.response);
      return;
    }
    const created = new Pending(key, req, this);
    this.pending.set(key, created);
    this.opts.onRequest(created);
  }

  /** Whether the INVITE a CANCEL refers to (same key, §9.2) is still known. */
  hasInviteFor(cancel: InboundRequest): boolean {
    const key = transactionKey(cancel, 'INVITE');
    return this.pending.has(key) || this.invites.has(key);
  }

  /** Called by a pending transaction when it sends its final response. */
  onFinal(p: Pending, response: Buffer): void {
    this.pending.delete(p.key);
    const req = p.req;
    const reliable = req.flow.transport !== 'UDP';
    if (req.msg.method === 'INVITE') {
      const c = new CompletedInvite(p.key, response, req.flow, responseTarget(req.via[0]!, req.flow));
      this.invites.set(p.key, c);
      // Wait for the ACK (Timer H); on UDP retransmit the response meanwhile (Timer G).
      if (!reliable) this.armRetransmit(c);
      this.scheduleRemoval(c, TIMER_H);
      return;
    }
    // Timer J is zero on reliable transports.
    if (!reliable) this.completed.put(p.key, response, this.now());
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
      if (this.invites.get(c.key) === c) this.invites.delete(c.key);
    }, ms);
    t.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.invites.values()) this.stopRetransmit(c);
    this.pending.clear();
    this.invites.clear();
    this.completed.clear();
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
