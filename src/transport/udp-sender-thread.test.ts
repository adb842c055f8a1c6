// The UDP sender thread (native/udp-threads) on real sockets: datagrams queued in one task
// leave from the listener's own port, so a NAT pinhole opened by the phone's REGISTER is the
// one the ping goes through; the socket still receives; errors look like node:dgram's.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from './transport.js';
import { UdpListener } from './udp-listener.js';
import { closeUdpSocket, nativeUdp, openUdpSockets } from './udp-native.js';
import { UdpSenderThread } from './udp-sender-thread.js';

const native = nativeUdp();
// Built by `npm ci` (scripts/build-native.mjs) wherever there is a compiler; on Linux its
// absence is a failure here, elsewhere there is no such thread to test.
if (process.platform !== 'linux') console.log(`udp-sender-thread tests skipped: ${native.reason}`);
const linux = process.platform === 'linux';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function listener(host: string, threads: boolean, onMessage: (buf: Buffer, flow: Flow) => void = () => {}): Promise<UdpListener> {
  const l = await UdpListener.open({ host, port: 0, receiveBuffer: 1 << 20, sendBuffer: 1 << 20, onMessage, onError: () => {}, threads });
  open.push(l);
  return l;
}

async function receiver(type: 'udp4' | 'udp6', host: string): Promise<{ socket: Socket; got: Array<{ text: string; from: RemoteInfo }>; port: number }> {
  // Room for a whole test's datagrams: over loopback they arrive as fast as they are sent.
  const socket = createSocket({ type, recvBufferSize: 4 << 20 });
  const got: Array<{ text: string; from: RemoteInfo }> = [];
  socket.on('message', (m, from) => got.push({ text: m.toString('latin1'), from }));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  open.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, got, port: socket.address().port };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

describe.runIf(linux)('UDP sender thread', () => {
  it('is built', () => {
    expect(native.reason).toBe('built');
    expect(native.addon).not.toBeNull();
  });

  it('sends what one task queued from the listener own port, more than one batch buffer of it', async () => {
    const l = await listener('127.0.0.1', true);
    expect(l.senderThread).not.toBeNull();
    const r = await receiver('udp4', '127.0.0.1');
    // 400 datagrams of ~300 bytes: about two 64 KB batches handed over.
    const pad = 'x'.repeat(280);
    for (let i = 0; i < 400; i++) l.sendSoon(Buffer.from(`ping ${i} ${pad}`), '127.0.0.1', r.port);
    // Nothing leaves before the task ends.
    expect(r.got.length).toBe(0);
    await until(() => r.got.length === 400);
    expect(r.got.length).toBe(400);
    expect(new Set(r.got.map((g) => g.text.split(' ')[1])).size).toBe(400);
    for (const g of r.got) {
      expect(g.from.port).toBe(l.localPort);
      expect(g.from.address).toBe('127.0.0.1');
    }
    await until(() => l.senderThread!.counters().sent === 400);
    expect(l.senderThread!.counters()).toEqual({ sent: 400, dropped: 0, late: 0 });
  });

  it('sends at once after a long idle spell, when the thread sleeps until it is signalled', async () => {
    const l = await listener('127.0.0.1', true);
    const r = await receiver('udp4', '127.0.0.1');
    // Idle for over a second: the thread stopped looking every 5 ms and waits for a signal.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const sentAt = Date.now();
    l.sendSoon(Buffer.from('wake up'), '127.0.0.1', r.port);
    await until(() => r.got.length === 1);
    expect(r.got[0]?.text).toBe('wake up');
    expect(Date.now() - sentAt).toBeLessThan(500);
  });

  it('works over IPv6', async () => {
    const l = await listener('::1', true);
    const r = await receiver('udp6', '::1');
    l.sendSoon(Buffer.from('OPTIONS over v6'), '::1', r.port);
    await until(() => r.got.length === 1);
    expect(r.got[0]?.text).toBe('OPTIONS over v6');
    expect(r.got[0]?.from.port).toBe(l.localPort);
  });

  it('drops a datagram to an address it cannot parse and counts it, and sends the rest', async () => {
    const l = await listener('127.0.0.1', true);
    const r = await receiver('udp4', '127.0.0.1');
    l.sendSoon(Buffer.from('one'), '127.0.0.1', r.port);
    l.sendSoon(Buffer.from('lost'), 'phone.example', r.port);
    l.sendSoon(Buffer.from('two'), '127.0.0.1', r.port);
    await until(() => r.got.length === 2 && l.senderThread!.counters().dropped === 1);
    expect(r.got.map((g) => g.text)).toEqual(['one', 'two']);
    expect(l.senderThread!.counters()).toEqual({ sent: 2, dropped: 1, late: 0 });
  });

  it('leaves receiving requests to the event loop: a datagram to the socket reaches onMessage with its source', async () => {
    const seen: Array<{ text: string; port: number }> = [];
    const l = await listener('127.0.0.1', true, (buf, flow) => seen.push({ text: buf.toString(), port: flow.remotePort }));
    const r = await receiver('udp4', '127.0.0.1');
    for (let i = 0; i < 20; i++) r.socket.send(`REGISTER ${i}`, l.localPort, '127.0.0.1');
    await until(() => seen.length === 20);
    expect(seen.length).toBe(20);
    expect(seen.every((s) => s.port === r.port)).toBe(true);
  });

  it('sends what was queued before close, then closes the socket', async () => {
    const l = await listener('127.0.0.1', true);
    const r = await receiver('udp4', '127.0.0.1');
    for (let i = 0; i < 50; i++) l.sendSoon(Buffer.from(`last ${i}`), '127.0.0.1', r.port);
    await l.close();
    open.splice(open.indexOf(l), 1);
    await until(() => r.got.length === 50);
    expect(r.got.length).toBe(50);
    // The port is free again: the descriptor was closed, once.
    const again = await UdpListener.open({ host: '127.0.0.1', port: l.localPort, receiveBuffer: 65536, sendBuffer: 65536, onMessage: () => {}, onError: () => {}, threads: true });
    open.push(again);
    expect(again.localPort).toBe(l.localPort);
  });

  it('runs at SCHED_IDLE, so that it never takes the core from the event loop', async () => {
    await listener('127.0.0.1', true);
    // /proc/self/task/TID/stat: field 41 is the scheduling policy (SCHED_IDLE is 5).
    const policies: number[] = [];
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'rc-udp-sender') continue;
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        policies.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]));
      } catch {
        // the thread ended meanwhile
      }
    }
    expect(policies.length).toBeGreaterThan(0);
    expect(policies.every((p) => p === 5)).toBe(true);
  });

  /** A sender thread on a socket of its own that looks for work every pollMs, and a receiver. */
  async function threadAndReceiver(pollMs: number) {
    const addon = native.addon!;
    const fds = openUdpSockets(addon, '127.0.0.1', 0, false, 65536);
    const t = UdpSenderThread.start(addon, fds.request, pollMs);
    open.push({ close: () => (t.stop(), closeUdpSocket(fds.request), closeUdpSocket(fds.response)) });
    return { t, r: await receiver('udp4', '127.0.0.1') };
  }

  it('has the event loop send what waited 50 ms for a starved thread, and counts it late', async () => {
    // A thread that looks for work once a minute stands in for one that gets no core.
    const { t, r } = await threadAndReceiver(60_000);
    const first = t.queue(Buffer.from('first'), '127.0.0.1', r.port);
    t.flush();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(r.got.length).toBe(0);
    // The next hand-over finds the first batch 50 ms old: both leave from here, now.
    const second = t.queue(Buffer.from('second'), '127.0.0.1', r.port);
    t.flush();
    expect(t.counters()).toEqual({ sent: 2, dropped: 0, late: 2 });
    // Their waits are known at once: the first's the whole 80 ms, the second's next to none.
    expect(t.sendDelay(first)).toBeGreaterThanOrEqual(75);
    expect(t.sendDelay(second)).toBeLessThan(50);
    await until(() => r.got.length === 2);
    expect(r.got.map((g) => g.text)).toEqual(['first', 'second']);
  });

  it('tells how long each batch waited to go out, by the ticket queue() gave it', async () => {
    // The thread's first look comes 200 ms after its start: the first batch waits that long.
    const { t, r } = await threadAndReceiver(200);
    const a = t.queue(Buffer.from('a'), '127.0.0.1', r.port);
    // Queued in the same task: the same batch, the same ticket.
    expect(t.queue(Buffer.from('b'), '127.0.0.1', r.port)).toBe(a);
    expect(a).toBeGreaterThanOrEqual(0);
    await Promise.resolve();
    // Handed over, not sent: nothing known yet.
    expect(t.sendDelay(a)).toBe(0);
    await until(() => r.got.length === 2);
    expect(r.got.map((g) => g.text)).toEqual(['a', 'b']);
    expect(t.sendDelay(a)).toBeGreaterThanOrEqual(150);
    expect(t.sendDelay(a)).toBeLessThan(2000);
    // The next task's datagram is the next batch, with a wait of its own.
    const c = t.queue(Buffer.from('c'), '127.0.0.1', r.port);
    expect(c).toBe(a + 1);
    await until(() => r.got.length === 3);
    expect(t.sendDelay(c)).toBeGreaterThan(0);
    expect(t.sendDelay(c)).toBeLessThan(2000);
  });

  it('sends what is still queued when stopped, without waiting for the thread to look', async () => {
    const addon = native.addon!;
    const fds = openUdpSockets(addon, '127.0.0.1', 0, false, 65536);
    const t = UdpSenderThread.start(addon, fds.request, 60_000);
    const r = await receiver('udp4', '127.0.0.1');
    t.queue(Buffer.from('at stop'), '127.0.0.1', r.port);
    t.flush();
    const began = Date.now();
    t.stop();
    closeUdpSocket(fds.request);
    closeUdpSocket(fds.response);
    expect(Date.now() - began).toBeLessThan(1000);
    await until(() => r.got.length === 1);
    expect(r.got[0]?.text).toBe('at stop');
  });

  it('refuses a port in use with an error like node:dgram, naming the address', async () => {
    const l = await listener('127.0.0.1', true);
    const err = await UdpListener.open({ host: '127.0.0.1', port: l.localPort, receiveBuffer: 65536, sendBuffer: 65536, onMessage: () => {}, onError: () => {}, threads: true }).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('EADDRINUSE');
    expect(err?.message).toBe(`bind EADDRINUSE 127.0.0.1:${l.localPort}`);
  });
});

describe('UDP listener without a sender thread', () => {
  it('sends sendSoon() datagrams at once from the event loop', async () => {
    const l = await listener('127.0.0.1', false);
    expect(l.senderThread).toBeNull();
    const r = await receiver('udp4', '127.0.0.1');
    expect(l.sendSoon(Buffer.from('direct'), '127.0.0.1', r.port)).toBe(-1);
    expect(l.sendDelay(-1)).toBe(0);
    await until(() => r.got.length === 1);
    expect(r.got[0]?.text).toBe('direct');
    expect(r.got[0]?.from.port).toBe(l.localPort);
  });
});
