// WebSocket and secure WebSocket (RFC 7118), for browser softphones: an HTTP (or HTTPS)
// server of its own on the listener's port that upgrades any path to a WebSocket speaking the
// `sip` subprotocol. Each frame carries exactly one SIP message (§5.3), text or binary; a
// frame of only CRLFCRLF is an RFC 5626 keep-alive and gets a CRLF frame back. A browser
// cannot be connected to, so everything for a WS binding goes over the connection it opened.

import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TlsCredentials } from '../config/tls-credentials.js';
import { listenServer } from './listen-server.js';
import { PongClock } from './pong-clock.js';
import type { Connection, Flow, InboundHandler, Listener } from './transport.js';

export type WsTransport = 'WS' | 'WSS';

/** The WebSocket subprotocol of SIP (RFC 7118 §4.1). */
export const SIP_SUBPROTOCOL = 'sip';

export interface WsListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Largest frame accepted; a larger one closes the connection with 1009 (Message Too Big). */
  readonly maxMessageSize: number;
  /** Seconds without traffic before a connection is closed; 0 keeps it forever. */
  readonly idleTimeout: number;
  /** Certificate and key: a wss listener when given, else ws. */
  readonly credentials: TlsCredentials | null;
  readonly onMessage: InboundHandler;
  readonly onError: (err: Error) => void;
  /** A connection closed (either side, or an error): its flow is gone (RFC 5626 §4.4.1). */
  readonly onConnectionClosed?: (conn: Connection) => void;
}

const CRLF = Buffer.from('\r\n');
let nextConnectionId = 1;

class WsConnection implements Connection {
  readonly id = nextConnectionId++;
  readonly transport: WsTransport;
  readonly localAddress: string;
  readonly localPort: number;
  closed = false;
  readonly flow: Flow;
  readonly pong = new PongClock();
  // RFC 6455 §5.5.2: a ping frame must be answered with a pong; browsers do it themselves.
  readonly pongRequired = true;

  constructor(
    readonly ws: WebSocket,
    listener: WsListener,
    readonly remoteAddress: string,
    readonly remotePort: number,
    socket: Duplex & { localAddress?: string; localPort?: number },
  ) {
    this.transport = listener.transport;
    this.localAddress = socket.localAddress ?? listener.localAddress;
    this.localPort = socket.localPort ?? listener.localPort;
    this.flow = {
      transport: listener.transport,
      remoteAddress,
      remotePort,
      localAddress: this.localAddress,
      localPort: this.localPort,
      listener,
      connection: this,
    };
  }

  send(buf: Buffer): boolean {
    if (this.closed) return false;
    // A text frame must be UTF-8 or the browser drops the connection (RFC 6455 §8.1); SIP
    // almost always is, and JavaScript stacks expect text. Anything else goes as binary.
    this.ws.send(buf, { binary: !isUtf8(buf) });
    return true;
  }

  ping(): void {
    if (this.closed) return;
    this.ws.ping();
    this.pong.pinged(Date.now());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(1000);
  }
}

export class WsListener implements Listener {
  readonly transport: WsTransport;
  localAddress = '';
  localPort = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** Open connections by `address|port` of the peer: the only way to reach it. */
  private readonly connections = new Map<string, WsConnection>();

  private constructor(private readonly opts: WsListenerOptions) {
    this.transport = opts.credentials !== null ? 'WSS' : 'WS';
    if (opts.credentials !== null) {
      this.http = createHttpsServer({ cert: opts.credentials.cert, key: opts.credentials.key });
      // A failed TLS handshake is an ordinary event on a public port, not a listener error.
      this.http.on('tlsClientError', (_err: Error, socket: Duplex) => socket.destroy());
    } else {
      this.http = createHttpServer();
    }
    // Plain HTTP requests get nothing here but the hint to upgrade.
    this.http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'close' });
      res.end('SIP over WebSocket (RFC 7118): connect with the "sip" subprotocol\n');
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxMessageSize,
      clientTracking: false,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  static async open(opts: WsListenerOptions): Promise<WsListener> {
    const listener = new WsListener(opts);
    const bound = await listenServer(listener.http, opts.host, opts.port, opts.onError);
    listener.localAddress = bound.address;
    listener.localPort = bound.port;
    return listener;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** The open connection to a peer, if any. */
  connectionTo(address: string, port: number): Connection | null {
    const c = this.connections.get(`${address}|${port}`);
    return c && !c.closed ? c : null;
  }

  sendTo(buf: Buffer, address: string, port: number): void {
    const c = this.connections.get(`${address}|${port}`);
    if (c === undefined || c.closed) {
      throw new Error(`no ${this.transport} connection from ${address}:${port}: a WebSocket client cannot be connected to`);
    }
    c.send(buf);
  }

  /**
   * The handshake (RFC 7118 §4.1): any path, but the client must offer `sip` among its
   * subprotocols; `handleProtocols` alone would complete the handshake without one.
   */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {
      // A reset during the handshake; nothing to answer.
    });
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SIP_SUBPROTOCOL)) {
      const body = 'the "sip" WebSocket subprotocol is required (RFC 7118)\n';
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const remoteAddress = req.socket.remoteAddress;
    const remotePort = req.socket.remotePort;
    if (remoteAddress === undefined || remotePort === undefined) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, remoteAddress, remotePort, req.socket));
  }

  private adopt(ws: WebSocket, remoteAddress: string, remotePort: number, socket: IncomingMessage['socket']): void {
    const conn = new WsConnection(ws, this, remoteAddress, remotePort, socket);
    const key = `${remoteAddress}|${remotePort}`;
    this.connections.get(key)?.close();
    this.connections.set(key, conn);
    const onMessage = this.opts.onMessage;
    ws.on('message', (data: Buffer) => {
      if (conn.closed) return;
      if (isKeepAlive(data)) {
        // RFC 5626 §4.4.1 over WebSocket: CRLFCRLF is a ping, a lone CRLF its pong.
        if (data.length === 4) ws.send(CRLF, { binary: false });
        else conn.pong.ponged(Date.now());
        return;
      }
      onMessage(data, conn.flow);
    });
    ws.on('pong', () => conn.pong.ponged(Date.now()));
    ws.on('error', () => {
      // Protocol errors (oversized or invalid frames) close the connection with their code; 'close' follows.
    });
    ws.on('close', () => {
      conn.closed = true;
      if (this.connections.get(key) === conn) this.connections.delete(key);
      this.opts.onConnectionClosed?.(conn);
    });
    if (this.opts.idleTimeout > 0) {
      socket.setTimeout(this.opts.idleTimeout * 1000, () => socket.destroy());
    }
  }

  close(): Promise<void> {
    for (const c of this.connections.values()) c.ws.terminate();
    this.connections.clear();
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }
}

/** CRLFCRLF (a ping) or CRLF (a pong): the only frames that are not SIP messages. */
function isKeepAlive(data: Buffer): boolean {
  return (data.length === 4 && data[0] === 13 && data[1] === 10 && data[2] === 13 && data[3] === 10) || (data.length === 2 && data[0] === 13 && data[1] === 10);
}
