// The native UDP addon (native/udp-threads, Linux): a listener's two sockets on one port, the
// sender thread that sends keep-alive pings from one (udp-sender-thread.ts) and the receiver
// thread that reads their answers from the other (udp-receiver-thread.ts). At 100,000
// endpoints pings and answers are thousands of datagrams a second each way; on the event loop
// every one of them is work a REGISTER arriving meanwhile waits for (bench/keep-alive.mjs).
//
// The addon is built at install (`npm ci` runs node-gyp). Where it is not (no compiler, not
// Linux), nativeUdp() says why and the listener is one node:dgram socket, pings and answers
// on the event loop as before.

import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface UdpAddon {
  openSockets(address: string, port: number, ipv6Only: boolean, receiveBuffer: number): [number, number];
  startSender(fd: number, pollMs?: number, ring?: Float64Array): object;
  sendBatch(sender: object, buf: Buffer, length: number, ticket?: number): void;
  stopSender(sender: object): void;
  senderCounters(sender: object): [number, number, number];
  startReceiver(fd: number, onDatagram: (buf: Buffer, address: string, port: number) => void): object;
  setPingMarker(receiver: object, marker: Buffer, seqLimit: number): void;
  takePingAnswers(receiver: object, out: Buffer): number;
  stopReceiver(receiver: object): void;
  receiverCounters(receiver: object): [number, number, number];
}

/** From dist/transport and src/transport alike. */
const ADDON_PATH = '../../native/udp-threads/build/Release/udp_threads.node';

let loaded: { addon: UdpAddon | null; reason: string } | null = null;

/** The addon, or null and why not (once per process). */
export function nativeUdp(): { addon: UdpAddon | null; reason: string } {
  if (loaded !== null) return loaded;
  if (process.platform !== 'linux') return (loaded = { addon: null, reason: `not on Linux (${process.platform})` });
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as UdpAddon;
    loaded = { addon, reason: 'built' };
  } catch (err) {
    loaded = { addon: null, reason: `not built (${(err as Error).message.split('\n')[0]}); run npm rebuild, with a C compiler, python3 and make` };
  }
  return loaded;
}

/**
 * A listener's two bound, non-blocking sockets on one port (native/udp-threads/udp_socket.c):
 * requests arrive on the first, which node:dgram wraps (bind({ fd })) and the sender thread
 * sends from; responses arrive on the second, which the receiver thread reads. Errors look
 * like node:dgram's bind errors.
 */
export function openUdpSockets(addon: UdpAddon, host: string, port: number, ipv6Only: boolean, receiveBuffer: number): { request: number; response: number } {
  try {
    const [request, response] = addon.openSockets(host, port, ipv6Only, receiveBuffer);
    return { request, response };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const out = new Error(`${e.syscall ?? 'bind'} ${e.code ?? 'EINVAL'} ${host.includes(':') ? `[${host}]` : host}:${port}`) as NodeJS.ErrnoException & { address: string; port: number };
    out.code = e.code ?? 'EINVAL';
    out.syscall = e.syscall ?? 'bind';
    out.address = host;
    out.port = port;
    throw out;
  }
}

/** Closes a descriptor from openUdpSockets that nothing took. */
export function closeUdpSocket(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
