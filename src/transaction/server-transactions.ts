// Server transactions (RFC 3261 §17.2). A retransmitted request is matched to its
// transaction and gets the same response again (or nothing while it is still being
// processed); it never reaches the usage twice. Non-INVITE transactions linger for Timer J
// (64·T1 on UDP, none on reliable transports); INVITE ones retransmit their final response
// on UDP (Timer G) until the ACK arrives or Timer H fires.
//
// A completed transaction keeps only what a retransmission needs (the response bytes and
// where to send them), not the request: at 20,000 transactions a second lingering 32 s,
// holding parsed requests would cost gigabytes.

import { getParam, type Via } from '../sip/message.js';
import { responseTarget, type ResponseTarget } from '../transport/response-target.js';
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
    this.layer.completed(this, buf);
  }
}

/** A transaction that has sent its final response. */
class Completed {
  expiresAt = 0;
  /** INVITE: the ACK arrived (absorb retransmissions silently). */
  confirmed = false;
  /** INVITE over UDP: Timer G and its current interval. */
  retransmit: NodeJS.Timeout | null = null;
  interval = T1;

  constructor(
    readonly key: string,
    readonly invite: boolean,
    readonly response: Buffer,
    readonly flow: Flow,
    readonly target: ResponseTarget,
  ) {}
}

export class TransactionLayer {
  private readonly table = new Map<string, Pending | Completed>();
  /** Completed non-INVITE transactions in completion order; all share one Timer J. */
  private readonly lingering: Completed[] = [];
  private lingerHead = 0;
  private readonly maxCompleted: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  readonly send: ResponseSender;
  /** Retransmissions absorbed or answered from the table (for metrics and tests). */
  retransmissions = 0;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.send = opts.send;
    this.maxCompleted = opts.maxCompleted ?? 500_000;
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.table.size;
  }

  receive(req: InboundRequest): void {
    const method = req.msg.method;
    const key = transactionKey(req, method === 'ACK' ? 'INVITE' : method);
    const tx = this.table.get(key);
    if (method === 'ACK') {
      if (tx instanceof Completed && !tx.confirmed) {
        // ACK for our non-2xx final response: stop retransmitting, absorb (Timer I).
        tx.confirmed = true;
        this.stopRetransmit(tx);
        this.scheduleRemoval(tx, req.flow.transport === 'UDP' ? T4 : 0);
      } else if (tx === undefined) {
        this.opts.onStrayAck?.(req);
      }
      return;
    }
    if (tx !== undefined) {
      this.retransmissions++;
      // Answer the retransmission where it came from: after a NAT rebinding, or when a
      // request first sent over UDP is retried over TCP, that is not where the original was.
      const response = tx instanceof Completed ? (tx.confirmed ? null : tx.response) : tx.provisional;
      if (response !== null) this.send(req.flow, responseTarget(req.via[0]!, req.flow), response);
      return;
    }
    const created = new Pending(key, req, this);
    this.table.set(key, created);
    this.opts.onRequest(created);
  }

  /** Whether the INVITE a CANCEL refers to (same key, §9.2) is still known. */
  hasInviteFor(cancel: InboundRequest): boolean {
    return this.table.has(transactionKey(cancel, 'INVITE'));
  }

  /** Called by a pending transaction when it sends its final response. */
  completed(p: Pending, response: Buffer): void {
    const req = p.req;
    const reliable = req.flow.transport !== 'UDP';
    const invite = req.msg.method === 'INVITE';
    if (reliable && !invite) {
      this.table.delete(p.key); // Timer J is zero on reliable transports
      return;
    }
    const c = new Completed(p.key, invite, response, req.flow, responseTarget(req.via[0]!, req.flow));
    this.table.set(p.key, c);
    if (invite) {
      // Wait for the ACK (Timer H); on UDP retransmit the response meanwhile (Timer G).
      if (!reliable) this.armRetransmit(c);
      this.scheduleRemoval(c, TIMER_H);
      return;
    }
    c.expiresAt = this.now() + TIMER_J;
    this.lingering.push(c);
    if (this.lingering.length - this.lingerHead > this.maxCompleted) this.forget(this.lingering[this.lingerHead++]!);
  }

  private armRetransmit(c: Completed): void {
    c.retransmit = setTimeout(() => {
      if (c.confirmed) return;
      this.send(c.flow, c.target, c.response);
      c.interval = Math.min(c.interval * 2, T2);
      this.armRetransmit(c);
    }, c.interval);
    c.retransmit.unref();
  }

  private stopRetransmit(c: Completed): void {
    if (c.retransmit !== null) clearTimeout(c.retransmit);
    c.retransmit = null;
  }

  private scheduleRemoval(c: Completed, ms: number): void {
    const t = setTimeout(() => {
      this.stopRetransmit(c);
      this.forget(c);
    }, ms);
    t.unref();
  }

  private forget(c: Completed): void {
    if (this.table.get(c.key) === c) this.table.delete(c.key);
  }

  /** Timer J: completed non-INVITE transactions expire in the order they completed. */
  private sweep(): void {
    const now = this.now();
    const q = this.lingering;
    let i = this.lingerHead;
    while (i < q.length && q[i]!.expiresAt <= now) this.forget(q[i++]!);
    if (i > 4096 && i * 2 > q.length) {
      q.splice(0, i);
      i = 0;
    }
    this.lingerHead = i;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const tx of this.table.values()) if (tx instanceof Completed) this.stopRetransmit(tx);
    this.table.clear();
    this.lingering.length = 0;
    this.lingerHead = 0;
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
    return `${branch}|${top.host}:${top.port ?? ''}|${method}|${msg.callId}|${msg.cseq.seq}`;
  }
  // The ACK of a non-2xx carries the To tag of our response, which the INVITE lacked.
  const toTag = method === 'INVITE' && msg.method === 'ACK' ? '' : (getParam(msg.to.params, 'tag') ?? '');
  return `2543|${msg.uriText}|${getParam(msg.from.params, 'tag') ?? ''}|${toTag}|${msg.callId}|${msg.cseq.seq}|${method}|${top.raw}`;
}
