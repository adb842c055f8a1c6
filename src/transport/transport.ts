// The transport layer's contract (RFC 3261 §18): listeners that receive messages and send
// bytes, and the flow a message arrived on so the answer can go back the same way.
// TLS and WebSocket listeners plug in here later with the same shapes.

export type TransportName = 'UDP' | 'TCP';

/** A stream connection (TCP now; TLS and WS later). */
export interface Connection {
  readonly id: number;
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly closed: boolean;
  /** Queues bytes on the connection; false when it is already closed. */
  send(buf: Buffer): boolean;
  close(): void;
}

/** Where a message came from: enough to answer it and to reach the sender later. */
export interface Flow {
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly listener: Listener;
  /** The connection it arrived on, for stream transports; null for datagrams. */
  readonly connection: Connection | null;
}

export interface Listener {
  readonly transport: TransportName;
  /** The address actually bound (port resolved when 0 was asked). */
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * Sends bytes to address:port: a datagram on UDP; on stream transports over an existing
   * connection to that address if there is one, else a new connection.
   */
  sendTo(buf: Buffer, address: string, port: number): void;
  close(): Promise<void>;
}

/** What listeners hand up: exactly one message's bytes and the flow it came on. */
export type InboundHandler = (buf: Buffer, flow: Flow) => void;

export interface TransportCounters {
  received: number;
  sent: number;
  parseErrors: number;
  sendErrors: number;
  /** Messages refused by the security guard (dropped or answered 403/503). */
  refused: number;
}
