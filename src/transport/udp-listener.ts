// A UDP socket: one datagram is one message (RFC 3261 §18.1.1, §18.2.1).

import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Flow, InboundHandler, Listener } from './transport.js';
import { closeUdpSocket, nativeUdp, openUdpSockets } from './udp-native.js';
import { UdpReceiverThread } from './udp-receiver-thread.js';
import { UdpSenderThread } from './udp-sender-thread.js';

export interface UdpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly receiveBuffer: number;
  readonly sendBuffer: number;
  readonly onMessage: InboundHandler;
  readonly onError: (err: Error) => void;
  /**
   * A look at each datagram's source before anything is built for it: false drops it. Under a
   * flood most datagrams end here, so this is the cheapest place to refuse them.
   */
  readonly admit?: (buf: Buffer, address: string, port: number) => boolean;
  /**
   * Keep-alive threads, when the native addon is built (udp-native.ts): a sender thread for
   * sendSoon(), and responses on a socket of their own read by a receiver thread, which
   * keeps ping answers for takePingAnswers() and hands the rest to onMessage. Without them,
   * sendSoon() is sendTo() and every datagram goes to onMessage.
   */
  readonly threads?: boolean;
}

export class UdpListener implements Listener {
  readonly transport = 'UDP' as const;
  localAddress = '';
  localPort = 0;
  private readonly socket: Socket;
  #senderThread: UdpSenderThread | null = null;
  #receiverThread: UdpReceiverThread | null = null;
  #threadsUnavailable: string | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static open(opts: UdpListenerOptions): Promise<UdpListener> {
    const socket = createSocket({
      type: isIPv6(opts.host) ? 'udp6' : 'udp4',
      ipv6Only: isIPv6(opts.host),
      recvBufferSize: opts.receiveBuffer,
      sendBufferSize: opts.sendBuffer,
      lookup: literalFirstLookup,
    });
    const listener = new UdpListener(socket);
    // With threads the sockets are opened natively, so that the threads have their
    // descriptors; node:dgram wraps the request socket (bind({ fd })) and reads it as it
    // would a socket of its own.
    const native = opts.threads === true ? nativeUdp() : null;
    const addon = native?.addon ?? null;
    if (native !== null && addon === null) listener.#threadsUnavailable = native.reason;
    let fds: { request: number; response: number } | null = null;
    try {
      if (addon !== null) fds = openUdpSockets(addon, opts.host, opts.port, isIPv6(opts.host), opts.receiveBuffer);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.syscall === 'bind') return Promise.reject(e);
      // The kernel will not give two sockets one port with a program to choose between them
      // (before Linux 4.5, or a sandbox): one socket, everything on the event loop.
      listener.#threadsUnavailable = `this kernel refused the socket pair (${e.message})`;
    }
    const onMessage = opts.onMessage;
    const admit = opts.admit;
    const deliver = (buf: Buffer, address: string, port: number) => {
      if (admit !== undefined && !admit(buf, address, port)) return;
      const flow: Flow = {
        transport: 'UDP',
        remoteAddress: address,
        remotePort: port,
        localAddress: listener.localAddress,
        localPort: listener.localPort,
        listener,
        connection: null,
      };
      onMessage(buf, flow);
    };
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        if (addon !== null && fds !== null) {
          closeUdpSocket(fds.request);
          closeUdpSocket(fds.response);
        }
        reject(err);
      };
      socket.once('error', failed);
      const bound = () => {
        socket.off('error', failed);
        if (addon !== null && fds !== null) {
          listener.#senderThread = UdpSenderThread.start(addon, fds.request);
          listener.#receiverThread = UdpReceiverThread.start(addon, fds.response, deliver);
        }
        socket.on('error', opts.onError);
        const a = socket.address();
        listener.localAddress = a.address;
        listener.localPort = a.port;
        socket.on('message', (buf, rinfo) => deliver(buf, rinfo.address, rinfo.port));
        resolve(listener);
      };
      try {
        if (fds !== null) socket.bind({ fd: fds.request }, bound);
        else socket.bind(opts.port, opts.host, bound);
      } catch (err) {
        failed(err as Error);
      }
    });
  }

  /** Receive buffer the kernel actually granted (Linux doubles what was asked, up to rmem_max). */
  receiveBufferSize(): number {
    return this.socket.getRecvBufferSize();
  }

  /** Null: sendSoon() sends from the event loop. */
  get senderThread(): UdpSenderThread | null {
    return this.#senderThread;
  }

  /** Why the threads asked for (options.threads) are not running; null when they run or were not asked for. */
  get threadsUnavailable(): string | null {
    return this.#threadsUnavailable;
  }

  /** Null: every datagram, ping answers included, is read by the event loop. */
  get receiverThread(): UdpReceiverThread | null {
    return this.#receiverThread;
  }

  sendTo(buf: Buffer, address: string, port: number): void {
    this.socket.send(buf, port, address);
  }

  /**
   * Sends a datagram that can wait for the end of the current task: from the sender thread
   * when there is one (with the others queued in the same task, in one call), else at once.
   * Returns a ticket for sendDelay(), or -1 when it went out at once.
   */
  sendSoon(buf: Buffer, address: string, port: number): number {
    const ticket = this.#senderThread === null ? -1 : this.#senderThread.queue(buf, address, port);
    if (ticket < 0) this.socket.send(buf, port, address);
    return ticket;
  }

  /** How long, in ms, the datagram sendSoon() gave this ticket for waited to go out; 0 when not known. */
  sendDelay(ticket: number): number {
    return ticket < 0 || this.#senderThread === null ? 0 : this.#senderThread.sendDelay(ticket);
  }

  close(): Promise<void> {
    // The sender thread sends on this socket's descriptor: it ends before the descriptor is
    // closed. The receiver thread closes its own socket.
    this.#senderThread?.stop();
    this.#receiverThread?.stop();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * dgram resolves the destination of every send, and Node's default lookup answers even an
 * IP literal on the next tick. Responses go to IP addresses (the source of the request,
 * RFC 3581), so those are answered at once, which takes a deferred call off every send;
 * names still go to the resolver.
 */
export function literalFirstLookup(host: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(host);
  if (family !== 0) callback(null, host, family);
  else dnsLookup(host, options, callback);
}
