// The transport layer: owns the listeners, turns their bytes into parsed messages, stamps
// received/rport on requests (RFC 3261 §18.2.1, RFC 3581), answers unparseable requests
// statelessly with 400 when it can, and sends responses back per §18.2.2.

import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { ListenAddress } from '../config/listen-address.js';
import { getParam, type SipRequest, type SipResponse, type Via } from '../sip/message.js';
import { parseMessage } from '../sip/parser.js';
import { echoOf, parseError, type ResponseEcho, type SipParseError } from '../sip/parse-error.js';
import { serializeResponse } from '../sip/serializer.js';
import { withReceived } from '../sip/via.js';
import { responseTarget, type ResponseTarget } from './response-target.js';
import type { TlsCredentials } from '../config/tls-credentials.js';
import { StreamListener, tcpSockets, tlsSockets } from './stream-listener.js';
import type { Connection, Flow, Listener, TransportCounters } from './transport.js';
import { UdpListener } from './udp-listener.js';
import { WsListener } from './ws-listener.js';

/** A request as the layers above see it: parsed, with its flow and the stamped Via. */
export interface InboundRequest {
  readonly msg: SipRequest;
  readonly flow: Flow;
  /** The request's Via list with received/rport added to the top one. */
  readonly via: readonly Via[];
  /** What a response copies from this request (with the stamped Via). */
  readonly echo: ResponseEcho;
  /** When it arrived (epoch ms). */
  readonly receivedAt: number;
}

/** A guard's verdict on a message (src/security/source-gate.ts): 0 accept, 1 drop, 2 403, 3 503. */
export type GuardVerdict = 0 | 1 | 2 | 3;

/**
 * Security checks the transport layer runs (SPEC §7): `admit` before a message is parsed (its
 * source address only), `screen` on a parsed request (its User-Agent). A refused request is
 * answered here, statelessly, or dropped: it never reaches a transaction.
 */
export interface InboundGuard {
  admit(address: string, port: number, transport: string, isRegister: boolean, nowMs: number): GuardVerdict;
  /** Blocked or deny-listed (and not allow-listed): refused whatever its rate. */
  refuses(address: string, nowMs: number): boolean;
  screen(msg: SipRequest, flow: Flow, nowMs: number): GuardVerdict;
  retryAfter(flow: Flow, nowMs: number): number;
}

export interface TransportLayerOptions {
  readonly listen: readonly ListenAddress[];
  readonly maxMessageSize: number;
  readonly udpReceiveBuffer: number;
  readonly udpSendBuffer: number;
  /**
   * Give each UDP listener keep-alive threads when the addon is built (udp-native.ts): pings
   * sent by sendSoon() and their answers read off the event loop (takePingAnswers()).
   */
  readonly udpKeepAliveThreads?: boolean;
  /** Seconds before an idle TCP, TLS or WebSocket connection is closed (0: never). */
  readonly tcpIdleTimeout: number;
  /** Certificate and key of the tls and wss listeners (config/tls-credentials.ts); null without them. */
  readonly tls?: TlsCredentials | null;
  readonly forceRport: boolean;
  readonly serverHeader: string;
  readonly onRequest: (req: InboundRequest) => void;
  readonly onResponse: (res: SipResponse, flow: Flow) => void;
  /**
   * A look at a response's raw bytes before it is parsed: true when it was consumed there
   * (the keep-alive's answers, thousands a second, need only their branch).
   */
  readonly onRawResponse?: (buf: Buffer) => boolean;
  readonly log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  /** Clock, injectable for tests. */
  readonly now?: () => number;
  readonly guard?: InboundGuard;
  /** A stream connection closed: bindings whose flow it was are now unreachable by it. */
  readonly onConnectionClosed?: (conn: Connection) => void;
}

export class TransportLayer {
  readonly listeners: Listener[] = [];
  readonly counters: TransportCounters = { received: 0, sent: 0, parseErrors: 0, sendErrors: 0, refused: 0 };
  private readonly now: () => number;
  private readonly extraHeaders: ReadonlyArray<readonly [string, string]>;

  private constructor(private readonly opts: TransportLayerOptions) {
    this.now = opts.now ?? Date.now;
    this.extraHeaders = opts.serverHeader ? [['Server', opts.serverHeader]] : [];
  }

  static async start(opts: TransportLayerOptions): Promise<TransportLayer> {
    const layer = new TransportLayer(opts);
    const onConnectionClosed = opts.onConnectionClosed !== undefined ? { onConnectionClosed: opts.onConnectionClosed } : {};
    try {
      for (const a of opts.listen) {
        const onError = (err: Error) => opts.log.warn({ err, listen: a }, 'socket error');
        if (a.transport === 'udp') {
          layer.listeners.push(
            await UdpListener.open({
              host: a.host,
              port: a.port,
              receiveBuffer: opts.udpReceiveBuffer,
              sendBuffer: opts.udpSendBuffer,
              threads: opts.udpKeepAliveThreads === true,
              // With a guard, the datagram went through admitDatagram first: its verdict comes along.
              onMessage: (buf, flow) => layer.inbound(buf, flow, 'datagram', opts.guard !== undefined ? layer.udpVerdict : null),
              onError,
              ...(opts.guard !== undefined ? { admit: (buf: Buffer, address: string, port: number) => layer.admitDatagram(buf, address, port) } : {}),
            }),
          );
        } else if (a.transport === 'tcp' || a.transport === 'tls') {
          layer.listeners.push(
            await StreamListener.open(a.transport === 'tls' ? tlsSockets(layer.credentials(a)) : tcpSockets, {
              host: a.host,
              port: a.port,
              maxMessageSize: opts.maxMessageSize,
              idleTimeout: opts.tcpIdleTimeout,
              onMessage: (buf, flow) => layer.inbound(buf, flow, 'stream'),
              onFramingError: (reason, flow, status, head) => layer.framingError(reason, flow, status, head),
              onError,
              ...onConnectionClosed,
            }),
          );
        } else {
          layer.listeners.push(
            await WsListener.open({
              host: a.host,
              port: a.port,
              maxMessageSize: opts.maxMessageSize,
              idleTimeout: opts.tcpIdleTimeout,
              credentials: a.transport === 'wss' ? layer.credentials(a) : null,
              // One message per frame (RFC 7118 §5.3): the frame is the boundary, as a
              // datagram's is, so Content-Length is not needed to find the end.
              onMessage: (buf, flow) => layer.inbound(buf, flow, 'datagram'),
              onError,
              ...onConnectionClosed,
            }),
          );
        }
      }
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  /** The certificate for a tls or wss listener; the caller checked it is there (tls-credentials.ts). */
  private credentials(a: ListenAddress): TlsCredentials {
    const c = this.opts.tls;
    if (c == null) throw new Error(`${a.transport} listener without a certificate (sip.tls.cert, sip.tls.key)`);
    return c;
  }

  /**
   * Tells the UDP listeners' receiver threads how the keep-alive's ping branches start
   * (before the sequence number): from now on they keep the answers for takePingAnswers().
   */
  setPingMarker(marker: Buffer, seqLimit: number): void {
    for (const l of this.listeners) if (l instanceof UdpListener) l.receiverThread?.setPingMarker(marker, seqLimit);
  }

  /**
   * The ping answers the receiver threads kept since the last call, each to `onAnswer` with
   * its sequence number and arrival time — those from blocked or denied sources left out, as
   * admitDatagram leaves them out on the event loop.
   */
  takePingAnswers(onAnswer: (seq: number, atMs: number) => void): void {
    const guard = this.opts.guard;
    const now = this.now();
    for (const l of this.listeners) {
      if (!(l instanceof UdpListener) || l.receiverThread === null) continue;
      this.counters.received += l.receiverThread.takePingAnswers((seq, atMs, address) => {
        if (guard === undefined || !guard.refuses(address, now)) onAnswer(seq, atMs);
      });
    }
  }

  /**
   * Every address that means "this server": the bound addresses, and for wildcard binds
   * every address of the machine's interfaces.
   */
  ownAddresses(): Set<string> {
    const out = new Set<string>();
    let wildcard = false;
    for (const l of this.listeners) {
      if (l.localAddress === '0.0.0.0' || l.localAddress === '::') wildcard = true;
      else out.add(l.localAddress.toLowerCase());
    }
    if (wildcard) {
      for (const list of Object.values(networkInterfaces())) {
        for (const i of list ?? []) out.add(i.address.toLowerCase());
      }
    }
    return out;
  }

  /** The guard's verdict on the datagram being delivered (set by admitDatagram just before). */
  private udpVerdict: GuardVerdict = 0;

  /**
   * UDP's pre-check, before a flow is even built for the datagram: false for refused ones and
   * for keep-alive answers, which are taken here.
   */
  private admitDatagram(buf: Buffer, address: string, port: number): boolean {
    this.counters.received++;
    const guard = this.opts.guard!;
    const now = this.now();
    // A keep-alive answer is done with here, before the listener builds a flow for it: at
    // 100,000 endpoints there are thousands a second, and all they need is their bytes. It
    // was asked for, so it is not held to its source's rate limit: a NAT with a thousand
    // phones behind it answers a thousand pings an interval, and right after a restart none
    // of them has authenticated yet — limited, the answers would be lost and the address
    // blocked as a flood, locking the whole site out. Blocked and denied sources stay out.
    if (buf[0] === 0x53 && buf[3] === 0x2f && this.opts.onRawResponse !== undefined && !guard.refuses(address, now) && this.opts.onRawResponse(buf)) return false;
    // "REGISTER " — known from the first bytes, before anything is parsed.
    const isRegister = buf[0] === 0x52 && buf[1] === 0x45 && buf[2] === 0x47 && buf[8] === 0x20;
    const v = guard.admit(address, port, 'UDP', isRegister, now);
    if (v === 1) {
      this.counters.refused++;
      return false;
    }
    this.counters.received--; // counted again by inbound()
    this.udpVerdict = v;
    return true;
  }

  private inbound(buf: Buffer, flow: Flow, framing: 'datagram' | 'stream', admitted: GuardVerdict | null = null): void {
    this.counters.received++;
    // Keep-alive bytes on UDP (RFC 5626 §3.5.1 allows STUN or CRLF; phones send CRLF).
    if (framing === 'datagram' && buf.length <= 4 && (buf[0] === 13 || buf[0] === 10 || buf[0] === 0)) return;
    const guard = this.opts.guard;
    let verdict: GuardVerdict = 0;
    if (guard !== undefined) {
      if (admitted !== null) {
        verdict = admitted;
        this.udpVerdict = 0;
      } else {
        const isRegister = buf[0] === 0x52 && buf[1] === 0x45 && buf[2] === 0x47 && buf[8] === 0x20;
        verdict = guard.admit(flow.remoteAddress, flow.remotePort, flow.transport, isRegister, this.now());
        if (verdict === 1) {
          this.counters.refused++;
          return;
        }
      }
    }
    // "SIP/2.0 " — a response (one that went through admitDatagram was looked at there).
    if (verdict === 0 && admitted === null && buf[0] === 0x53 && buf[3] === 0x2f && this.opts.onRawResponse !== undefined && this.opts.onRawResponse(buf)) return;
    const msg = parseMessage(buf, framing);
    if (msg.kind === 'parse-error') {
      if (verdict === 0) this.rejectUnparseable(msg, flow);
      return;
    }
    if (msg.kind === 'response') {
      if (verdict === 0) this.opts.onResponse(msg, flow);
      return;
    }
    if (guard !== undefined && verdict === 0) verdict = guard.screen(msg, flow, this.now());
    if (verdict !== 0) {
      this.counters.refused++;
      if (verdict !== 1 && msg.method !== 'ACK') this.refuse(msg, flow, verdict);
      return;
    }
    this.opts.onRequest(inboundRequest(msg, flow, this.opts.forceRport, this.now()));
  }

  /** A stateless 403 or 503 (with Retry-After) to a request the guard refused. */
  private refuse(msg: SipRequest, flow: Flow, verdict: GuardVerdict): void {
    const req = inboundRequest(msg, flow, this.opts.forceRport, this.now());
    const headers: Array<readonly [string, string]> = [...this.extraHeaders];
    if (verdict === 3) headers.unshift(['Retry-After', String(this.opts.guard!.retryAfter(flow, this.now()))]);
    const buf = verdict === 3 ? serializeResponse(req.echo, 503, 'Service Unavailable', headers, null) : serializeResponse(req.echo, 403, 'Forbidden', headers, null);
    this.sendResponse(flow, responseTarget(req.via[0]!, flow), buf);
  }

  /**
   * A stream that cannot be framed any more (the listener closes it next). When the bad
   * message's header section was read whole, the request is answered first — 513 when it
   * is too large (RFC 3261 §18.3), 400 for a missing or bad Content-Length — unless the
   * guard refuses its source.
   */
  private framingError(reason: string, flow: Flow, status: 400 | 513, head: Buffer | null): void {
    this.opts.log.debug({ reason, from: `${flow.remoteAddress}:${flow.remotePort}` }, 'stream framing error, connection closed');
    if (head === null || (this.opts.guard !== undefined && this.opts.guard.admit(flow.remoteAddress, flow.remotePort, flow.transport, false, this.now()) !== 0)) {
      this.counters.parseErrors++;
      return;
    }
    // Read as a datagram: the header section alone, whatever its Content-Length says.
    const m = parseMessage(head, 'datagram');
    const echo = m.kind === 'parse-error' ? m.echo : m.kind === 'request' ? echoOf(m, m.via) : null;
    this.rejectUnparseable(parseError(reason, status, echo), flow);
  }

  private rejectUnparseable(err: SipParseError, flow: Flow): void {
    this.counters.parseErrors++;
    const echo = err.echo;
    if (echo === null || echo.method === 'ACK') return; // nothing to answer, or never answered
    const top = echo.via[0];
    if (top === undefined) return;
    const via = [withReceived(top, flow.remoteAddress, flow.remotePort, true), ...echo.via.slice(1)];
    const reason = err.status === 505 ? 'Version Not Supported' : err.status === 513 ? 'Message Too Large' : `Bad Request (${sanitizeReason(err.reason)})`;
    const buf = serializeResponse({ ...echo, via }, err.status, reason, this.extraHeaders, null);
    this.sendResponse(flow, responseTarget(via[0]!, flow), buf);
  }

  /**
   * Sends a response to a request that came in on `flow` (§18.2.2): on its connection if
   * that still stands, else to the target computed from the top Via.
   */
  sendResponse(flow: Flow, t: ResponseTarget, buf: Buffer): void {
    this.counters.sent++;
    const conn = flow.connection;
    if (conn !== null && conn.send(buf)) return;
    try {
      flow.listener.sendTo(buf, t.address, t.port);
    } catch (err) {
      this.counters.sendErrors++;
      this.opts.log.debug({ err, to: `${t.address}:${t.port}` }, 'response not sent');
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners.length = 0;
  }
}

/**
 * A parsed request as the layers above get it: the top Via stamped with received/rport
 * (RFC 3261 §18.2.1, RFC 3581 §4) when the source address differs from sent-by, when the
 * client asked for rport, or always with `forceRport`.
 */
export function inboundRequest(msg: SipRequest, flow: Flow, forceRport: boolean, receivedAt: number): InboundRequest {
  let via = msg.via;
  const top = via[0]!;
  const rportAsked = getParam(top.params, 'rport') !== undefined;
  if (forceRport || rportAsked || !sameHost(top.host, flow.remoteAddress)) {
    const stamped = via.slice();
    stamped[0] = withReceived(top, flow.remoteAddress, flow.remotePort, forceRport || rportAsked);
    via = stamped;
  }
  return { msg, flow, via, echo: echoOf(msg, via), receivedAt };
}

function sameHost(viaHost: string, address: string): boolean {
  if (viaHost === address) return true;
  // ::ffff:a.b.c.d as seen on dual-stack sockets
  return isIP(viaHost) === 4 && address === `::ffff:${viaHost}`;
}

/** Reason phrases are text on the wire: keep them to printable ASCII and short. */
function sanitizeReason(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
