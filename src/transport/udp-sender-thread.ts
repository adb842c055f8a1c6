// A thread of its own that sends datagrams from a UDP socket the event loop also uses
// (native/udp-threads/udp_sender.c, Linux). Keep-alive pings go through it: at 100,000 endpoints they are
// thousands of datagrams a second, and from the event loop each one costs a send call, a
// SendWrap and a system call (over loopback also the receiver's wake-up) that a REGISTER
// arriving meanwhile waits for (bench/keep-alive.mjs). Here the event loop copies a batch into
// one buffer and makes one call; the thread sends it with sendmmsg. The thread runs at
// SCHED_IDLE, so it never takes the core from a REGISTER; a batch that waits 50 ms for it (the
// core saturated) is sent by the event loop at its next hand-over and counted as late.
//

import type { UdpAddon } from './udp-native.js';

/**
 * Each entry: u16 payload length, u16 port, u8 address length, the address (latin1), the
 * payload — native/udp-threads/udp_sender.c reads it. 64 KB holds ~100 pings; a fuller batch
 * is handed over and a new one begun.
 */
const BATCH_BYTES = 65536;
const ENTRY_HEAD = 5;

/**
 * Batches whose wait is remembered: at ~100 hand-overs a second while pinging, the last 40 s
 * or so, longer than any answer is waited for at the default 30 s interval. A power of two
 * that divides TICKET_LIMIT, so that a ticket's place in the ring stays put when they wrap.
 */
const WAIT_RING = 4096;
/** Tickets wrap below 2^30, so that they stay small integers in V8 (no heap number per ping). */
const TICKET_LIMIT = 1 << 30;
/** sendDelay() of a ticket it knows nothing of. */
const NO_WAIT = 0;

export class UdpSenderThread {
  private readonly batch = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;
  /** The ticket of the batch being filled: its place in `waits`. */
  private ticket = 0;
  private flushQueued = false;
  private stopped = false;
  private readonly flushNow = () => this.flush();

  private constructor(
    private readonly addon: UdpAddon,
    private readonly sender: object,
    /** (ticket, ms the batch waited before it went out) pairs, written by the thread. */
    private readonly waits: Float64Array,
  ) {}

  /** pollMs: how often the thread looks for work (5 ms; longer only in tests). */
  static start(addon: UdpAddon, fd: number, pollMs?: number): UdpSenderThread {
    // -1: no ticket yet in any place, so that ticket 0 is not found before it is written.
    const waits = new Float64Array(2 * WAIT_RING).fill(-1);
    return new UdpSenderThread(addon, addon.startSender(fd, pollMs, waits), waits);
  }

  /**
   * Queues a datagram: it is handed to the thread when the current task ends, with every
   * other queued in it. Returns its batch's ticket, for sendDelay(); -1 when it cannot go this
   * way (too large, or stopped): send it from the event loop.
   */
  queue(buf: Buffer, address: string, port: number): number {
    const need = ENTRY_HEAD + address.length + buf.length;
    if (this.stopped || need > BATCH_BYTES || address.length > 63) return -1;
    if (this.used + need > BATCH_BYTES) this.flush();
    const b = this.batch;
    let at = this.used;
    b[at] = buf.length & 0xff;
    b[at + 1] = buf.length >>> 8;
    b[at + 2] = port & 0xff;
    b[at + 3] = port >>> 8;
    b[at + 4] = address.length;
    at += ENTRY_HEAD;
    at += b.write(address, at, 'latin1');
    at += buf.copy(b, at);
    this.used = at;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushNow);
    }
    return this.ticket;
  }

  /** Hands what is queued to the thread now. */
  flush(): void {
    this.flushQueued = false;
    if (this.used === 0 || this.stopped) return;
    this.addon.sendBatch(this.sender, this.batch, this.used, this.ticket);
    this.used = 0;
    this.ticket = (this.ticket + 1) % TICKET_LIMIT;
  }

  /**
   * How long, in ms, the batch with this ticket waited before its datagrams went out (for a
   * ping's round-trip time); 0 when that is not known (not sent yet, or so long ago that its
   * place in the ring has been taken).
   */
  sendDelay(ticket: number): number {
    const at = 2 * (ticket % WAIT_RING);
    // The thread writes the wait first and the ticket last: a matching ticket vouches for it.
    return this.waits[at] === ticket ? this.waits[at + 1]! : NO_WAIT;
  }

  /**
   * Datagrams sent, and dropped (no route, or the socket buffer stayed full); of those sent,
   * `late`: sent by the event loop because they had waited 50 ms for the thread.
   */
  counters(): { sent: number; dropped: number; late: number } {
    const [sent, dropped, late] = this.addon.senderCounters(this.sender);
    return { sent, dropped, late };
  }

  /** Sends what is queued and ends the thread; before the socket is closed. */
  stop(): void {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    this.addon.stopSender(this.sender);
  }
}
