// A thread of its own that reads a UDP listener's response socket (native/udp-threads/
// udp_receiver.c): the keep-alive's answers, thousands a second at 100,000 endpoints, are
// read there in batches and kept as records that the keep-alive takes on its timer in one
// call, rather than each waking the event loop for a recvmsg, a Buffer and a callback that a
// REGISTER arriving meanwhile waits for (bench/keep-alive.mjs). Any other datagram that
// reaches the socket is handed to the listener's handler as it came.

import type { UdpAddon } from './udp-native.js';

/** A ping answer as the thread recorded it. */
export type PingAnswerHandler = (seq: number, atMs: number, address: string, port: number) => void;

/** Record: u32 sequence number, f64 arrival (ms since the epoch), u16 port, u8 address length, the address. */
const RECORD_HEAD = 15;
const TAKE_BYTES = 65536;

export class UdpReceiverThread {
  private readonly out = Buffer.allocUnsafe(TAKE_BYTES);
  private stopped = false;

  private constructor(
    private readonly addon: UdpAddon,
    private readonly receiver: object,
  ) {}

  /** Reads socket `fd`, which it owns from now on: stop() closes it. */
  static start(addon: UdpAddon, fd: number, onDatagram: (buf: Buffer, address: string, port: number) => void): UdpReceiverThread {
    return new UdpReceiverThread(addon, addon.startReceiver(fd, onDatagram));
  }

  /**
   * How the keep-alive's ping branches start, before the sequence number (keep-alive.ts):
   * from now on the answers to them are kept for takePingAnswers(). Until then every
   * datagram goes to the listener's handler.
   */
  setPingMarker(marker: Buffer, seqLimit: number): void {
    if (!this.stopped) this.addon.setPingMarker(this.receiver, marker, seqLimit);
  }

  /** Hands every ping answer kept since the last call to `onAnswer`; returns how many. */
  takePingAnswers(onAnswer: PingAnswerHandler): number {
    if (this.stopped) return 0;
    const b = this.out;
    let count = 0;
    for (;;) {
      const n = this.addon.takePingAnswers(this.receiver, b);
      if (n === 0) return count;
      let at = 0;
      while (at < n) {
        const len = b[at + 14]!;
        onAnswer(b.readUInt32LE(at), b.readDoubleLE(at + 4), b.toString('latin1', at + RECORD_HEAD, at + RECORD_HEAD + len), b.readUInt16LE(at + 12));
        at += RECORD_HEAD + len;
        count++;
      }
    }
  }

  /** Ping answers kept, datagrams handed to the listener, and dropped (a queue full). */
  counters(): { pingAnswers: number; forwarded: number; dropped: number } {
    const [pingAnswers, forwarded, dropped] = this.addon.receiverCounters(this.receiver);
    return { pingAnswers, forwarded, dropped };
  }

  /** Ends the thread and closes its socket. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.addon.stopReceiver(this.receiver);
  }
}
