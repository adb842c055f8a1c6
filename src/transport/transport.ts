// The transport layer's contract (RFC 3261 §18): listeners that receive messages and send
// bytes, and the flow a message arrived on so the answer can go back the same way.
// UDP (udp-listener.ts), TCP and TLS (stream-listener.ts), WS and WSS (ws-listener.ts) all
// have these shapes.

/** The transport token as written in a Via (RFC 3261 §20.42, RFC 7118 §5.1). */
export type TransportName = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

/** A connection-oriented flow: a TCP or TLS connection, or a WebSocket. */
import type { PongClock } from './pong-clock.js';

export interface Connection {
  readonly id: number;
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly closed: boolean;
  /** Queues one message's bytes on the connection; false when it is already closed. */
  send(buf: Buffer): boolean;
  /**
   * A keep-alive ping (RFC 5626 §4.4.1): CRLFCRLF on TCP/TLS; a WebSocket ping frame on WS/WSS,
   * which browsers answer by themselves, where a CRLFCRLF text frame would reach the SIP
   * stack of a JavaScript client as a malformed message.
   */
  ping(): void;
  /** The answers to ping() (pong-clock.ts). */
  readonly pong: PongClock;
  /**
   * Whether the peer must answer ping() (WebSocket: RFC 6455 §5.5.2), so that a ping left
   * unanswered is a miss; on TCP/TLS answering a CRLFCRLF is up to the client.
   */
  readonly pongRequired: boolean;
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
   * Sends bytes to address:port: a datagram on UDP; on TCP/TLS over an existing connection to
   * that address if there is one, else a new connection. On WS/WSS only over an existing
   * connection (a server cannot open a WebSocket to a browser): throws when there is none,
   * which the caller counts as a send error.
   */
  sendTo(buf: Buffer, address: string, port: number): void;
  /**
   * UDP: sends a datagram that can wait until the current task ends, with the others queued
   * in it, from a sender thread when the socket has one (udp-sender-thread.ts). Returns a
   * ticket for sendDelay(), -1 when the datagram went out at once.
   */
  sendSoon?(buf: Buffer, address: string, port: number): number;
  /** UDP: how long, in ms, the datagram with this sendSoon() ticket waited to go out (0: not known). */
  sendDelay?(ticket: number): number;
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
