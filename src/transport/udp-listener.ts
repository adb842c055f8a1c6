// A UDP socket: one datagram is one message (RFC 3261 §18.1.1, §18.2.1).

import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Flow, InboundHandler, Listener } from './transport.js';
import { closeUdpSocket, nativeUdp, openUdpSocket, UdpSenderThread } from './udp-sender-thread.js';

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
   * Give the socket a sender thread (udp-sender-thread.ts) for sendSoon(), when the native
   * addon is built. Without one, sendSoon() is sendTo().
   */
  readonly senderThread?: boolean;
}

export class UdpListener implements Listener {
  readonly transport = 'UDP' as const;
  localAddress = '';
  localPort = 0;
  private readonly socket: Socket;
  #senderThread: UdpSenderThread | null = null;

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
    // With a sender thread the socket is opened natively, so that the thread has its
    // descriptor; node:dgram wraps it (bind({ fd })) and everything else is as without.
    const addon = opts.senderThread === true ? nativeUdp().addon : null;
    let fd = -1;
    try {
      if (addon !== null) fd = openUdpSocket(addon, opts.host, opts.port, isIPv6(opts.host));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        if (fd >= 0) closeUdpSocket(fd);
        reject(err);
      };
      socket.once('error', failed);
      const bound = () => {
        socket.off('error', failed);
        if (addon !== null) listener.#senderThread = UdpSenderThread.start(addon, fd);
        socket.on('error', opts.onError);
        const a = socket.address();
        listener.localAddress = a.address;
        listener.localPort = a.port;
        const onMessage = opts.onMessage;
        const admit = opts.admit;
        socket.on('message', (buf, rinfo) => {
          if (admit !== undefined && !admit(buf, rinfo.address, rinfo.port)) return;
          const flow: Flow = {
            transport: 'UDP',
            remoteAddress: rinfo.address,
            remotePort: rinfo.port,
            localAddress: listener.localAddress,
            localPort: listener.localPort,
            listener,
            connection: null,
          };
          onMessage(buf, flow);
        });
        resolve(listener);
      };
      try {
        if (fd >= 0) socket.bind({ fd }, bound);
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
    // The thread sends on this socket's descriptor: it ends before the descriptor is closed.
    this.#senderThread?.stop();
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
