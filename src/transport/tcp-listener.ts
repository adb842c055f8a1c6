// TCP: a listening socket plus the connections it accepted or opened. Messages are framed
// by Content-Length (RFC 3261 §18.3); connections are reused for later messages to the
// same address:port (§18.2.2, RFC 5626 flows), and CRLFCRLF keep-alives get a CRLF back.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { StreamFramer, type FramerEvent } from '../sip/stream-framer.js';
import type { Connection, Flow, InboundHandler, Listener } from './transport.js';

export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageSize: number;
  /** Seconds without traffic before a connection is closed; 0 keeps it forever. */
  readonly idleTimeout: number;
  readonly onMessage: InboundHandler;
  /** A framing error the connection cannot recover from; it is closed after this. */
  readonly onFramingError: (reason: string, flow: Flow) => void;
  readonly onError: (err: Error) => void;
  /** A connection closed (either side, or an error): its flow is gone (RFC 5626 §4.4.1). */
  readonly onConnectionClosed?: (conn: Connection) => void;
}

const CRLF = Buffer.from('\r\n');
let nextConnectionId = 1;

class TcpConnection implements Connection {
  readonly id = nextConnectionId++;
  readonly transport = 'TCP' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  localAddress: string;
  localPort: number;
  closed = false;
  readonly flow: Flow;

  constructor(
    readonly socket: Socket,
    listener: TcpListener,
    remoteAddress: string,
    remotePort: number,
  ) {
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.localAddress = socket.localAddress ?? listener.localAddress;
    this.localPort = socket.localPort ?? listener.localPort;
    this.flow = {
      transport: 'TCP',
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.socket.destroySoon?.();
  }
}

export class TcpListener implements Listener {
  readonly transport = 'TCP' as const;
  localAddress = '';
  localPort = 0;
  private readonly server: Server;
  /** Open connections by `address|port` of the peer, for reuse. */
  private readonly connections = new Map<string, TcpConnection>();

  private constructor(private readonly opts: TcpListenerOptions) {
    this.server = createServer({ noDelay: true }, (socket) => {
      if (socket.remoteAddress === undefined || socket.remotePort === undefined) {
        socket.destroy();
        return;
      }
      this.adopt(socket, socket.remoteAddress, socket.remotePort);
    });
  }

  static open(opts: TcpListenerOptions): Promise<TcpListener> {
    const listener = new TcpListener(opts);
    return new Promise((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen({ host: opts.host, port: opts.port, ipv6Only: opts.host.includes(':') }, () => {
        listener.server.off('error', reject);
        listener.server.on('error', opts.onError);
        const a = listener.server.address();
        if (a && typeof a === 'object') {
          listener.localAddress = a.address;
          listener.localPort = a.port;
        }
        resolve(listener);
      });
    });
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
    const socket = createConnection({ host: address, port, localAddress: this.localAddress === '0.0.0.0' || this.localAddress === '::' ? undefined : this.localAddress, noDelay: true });
    const conn = this.adopt(socket, address, port);
    conn.send(buf);
  }

  private adopt(socket: Socket, remoteAddress: string, remotePort: number): TcpConnection {
    const conn = new TcpConnection(socket, this, remoteAddress, remotePort);
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
          break;
        case 'error':
          onFramingError(ev.reason, conn.flow);
          conn.close();
          break;
      }
    });
    socket.on('connect', () => {
      conn.localAddress = socket.localAddress ?? conn.localAddress;
      conn.localPort = socket.localPort ?? conn.localPort;
    });
    socket.on('data', (chunk: Buffer) => {
      if (!conn.closed) framer.push(chunk);
    });
    socket.on('error', () => {
      // Resets and refused connects are ordinary on the Internet; 'close' follows.
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
