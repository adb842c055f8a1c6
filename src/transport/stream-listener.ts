// TCP and TLS (RFC 3261 §18.3, §26; RFC 5630): a listening socket plus the connections it
// accepted or opened. The two differ only in how a socket is made, so one listener takes a
// socket factory (plain `net` or `tls`) and does the rest the same way: messages framed by
// Content-Length, connections reused for later messages to the same address:port (§18.2.2,
// RFC 5626 flows), CRLFCRLF keep-alives answered with CRLF, idle connections closed.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { TlsCredentials } from '../config/tls-credentials.js';
import { StreamFramer, type FramerEvent } from '../sip/stream-framer.js';
import { listenServer } from './listen-server.js';
import { PongClock } from './pong-clock.js';
import type { Connection, Flow, InboundHandler, Listener } from './transport.js';

export type StreamTransport = 'TCP' | 'TLS';

/** How sockets of one stream transport are made. */
export interface StreamSockets {
  readonly transport: StreamTransport;
  /** A server handing each accepted socket, ready for SIP bytes (after the TLS handshake). */
  createServer(onSocket: (socket: Socket) => void): Server;
  /** An outgoing connection; bytes written before it is up are queued. */
  connect(host: string, port: number, localAddress: string | undefined): Socket;
}

export const tcpSockets: StreamSockets = {
  transport: 'TCP',
  createServer: (onSocket) => createServer({ noDelay: true }, onSocket),
  connect: (host, port, localAddress) => createConnection({ host, port, localAddress, noDelay: true }),
};

export function tlsSockets(credentials: TlsCredentials): StreamSockets {
  return {
    transport: 'TLS',
    createServer: (onSocket) => {
      // Phones are not asked for a certificate (requestCert off): they authenticate by digest.
      const server = createTlsServer({ cert: credentials.cert, key: credentials.key, noDelay: true }, onSocket);
      // A failed handshake (a scanner, a phone that does not trust our certificate) is an
      // ordinary event on a public port, not an error of the listener.
      server.on('tlsClientError', (_err, socket) => socket.destroy());
      return server;
    },
    connect: (host, port, localAddress) =>
      tlsConnect({
        // The TCP connection made first: tls.connect itself takes no local address.
        socket: createConnection({ host, port, localAddress, noDelay: true }),
        // We only connect out when a phone's own connection has gone (a request to it must
        // still get there, §18.2.2). Phones have no certificate a CA signed, usually none
        // at all: verifying it would make every such connection fail. The peer was
        // authenticated by digest when it registered; TLS here protects the bytes in transit.
        rejectUnauthorized: false,
      }),
  };
}

export interface StreamListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageSize: number;
  /** Seconds without traffic before a connection is closed; 0 keeps it forever. */
  readonly idleTimeout: number;
  readonly onMessage: InboundHandler;
  /**
   * A framing error the connection cannot recover from; it is closed after this (after what
   * the handler sent on it). `head` is the offending message's header section when it was
   * read whole, so that the request can be answered (400, 513).
   */
  readonly onFramingError: (reason: string, flow: Flow, status: 400 | 513, head: Buffer | null) => void;
  readonly onError: (err: Error) => void;
  /** A connection closed (either side, or an error): its flow is gone (RFC 5626 §4.4.1). */
  readonly onConnectionClosed?: (conn: Connection) => void;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
let nextConnectionId = 1;

class StreamConnection implements Connection {
  readonly id = nextConnectionId++;
  readonly transport: StreamTransport;
  readonly remoteAddress: string;
  readonly remotePort: number;
  localAddress: string;
  localPort: number;
  closed = false;
  readonly flow: Flow;
  readonly pong = new PongClock();
  readonly pongRequired = false;

  constructor(
    readonly socket: Socket,
    listener: StreamListener,
    remoteAddress: string,
    remotePort: number,
  ) {
    this.transport = listener.transport;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
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
    this.socket.write(buf);
    return true;
  }

  ping(): void {
    if (this.send(CRLFCRLF)) this.pong.pinged(Date.now());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.socket.destroySoon?.();
  }
}

export class StreamListener implements Listener {
  readonly transport: StreamTransport;
  localAddress = '';
  localPort = 0;
  private readonly server: Server;
  /** Open connections by `address|port` of the peer, for reuse. */
  private readonly connections = new Map<string, StreamConnection>();

  private constructor(
    private readonly sockets: StreamSockets,
    private readonly opts: StreamListenerOptions,
  ) {
    this.transport = sockets.transport;
    this.server = sockets.createServer((socket) => {
      if (socket.remoteAddress === undefined || socket.remotePort === undefined) {
        socket.destroy();
        return;
      }
      this.adopt(socket, socket.remoteAddress, socket.remotePort);
    });
  }

  static async open(sockets: StreamSockets, opts: StreamListenerOptions): Promise<StreamListener> {
    const listener = new StreamListener(sockets, opts);
    const bound = await listenServer(listener.server, opts.host, opts.port, opts.onError);
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
    const existing = this.connections.get(`${address}|${port}`);
    if (existing && !existing.closed) {
      existing.send(buf);
      return;
    }
    const wildcard = this.localAddress === '0.0.0.0' || this.localAddress === '::';
    const socket = this.sockets.connect(address, port, wildcard ? undefined : this.localAddress);
    const conn = this.adopt(socket, address, port);
    conn.send(buf);
  }

  private adopt(socket: Socket, remoteAddress: string, remotePort: number): StreamConnection {
    const conn = new StreamConnection(socket, this, remoteAddress, remotePort);
    const key = `${remoteAddress}|${remotePort}`;
    this.connections.get(key)?.close();
    this.connections.set(key, conn);
    const { onMessage, onFramingError } = this.opts;
    const framer = new StreamFramer(this.opts.maxMessageSize, (ev: FramerEvent) => {
      switch (ev.type) {
        case 'message':
          onMessage(ev.buf, conn.flow);
          break;
        case 'ping':
          conn.send(CRLF);
          break;
        case 'pong':
          conn.pong.ponged(Date.now());
          break;
        case 'error':
          onFramingError(ev.reason, conn.flow, ev.status, ev.head);
          conn.close();
          break;
      }
    });
    // An outgoing socket learns its local address once connected (a TLS socket over a
    // connection of its own says so with 'secureConnect').
    const connected = () => {
      conn.localAddress = socket.localAddress ?? conn.localAddress;
      conn.localPort = socket.localPort ?? conn.localPort;
    };
    socket.on('connect', connected);
    socket.on('secureConnect', connected);
    socket.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      framer.push(chunk);
      // A lone CRLF is held as maybe half of a CRLFCRLF ping; while a ping of ours waits
      // for its answer it is taken as that answer (RFC 5626 §4.4.1's pong).
      if (conn.pong.unanswered > 0) framer.flush();
    });
    socket.on('error', () => {
      // Resets, refused connects and failed handshakes are ordinary on the Internet; 'close' follows.
    });
    socket.on('close', () => {
      conn.closed = true;
      if (this.connections.get(key) === conn) this.connections.delete(key);
      this.opts.onConnectionClosed?.(conn);
    });
    if (this.opts.idleTimeout > 0) {
      socket.setTimeout(this.opts.idleTimeout * 1000, () => socket.destroy());
    }
    return conn;
  }

  close(): Promise<void> {
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
