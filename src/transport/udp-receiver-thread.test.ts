// The UDP receiver thread and the listener's two sockets (native/udp-threads) on real
// sockets: responses reach the response socket and requests the event loop's; answers to our
// pings are kept for the keep-alive with their arrival time and source; every other datagram
// reaches onMessage as it came.

import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PING_SEQ_LIMIT } from '../registrar/options-ping.js';
import type { Flow } from './transport.js';
import { UdpListener } from './udp-listener.js';
import { nativeUdp } from './udp-native.js';

const linux = process.platform === 'linux';
if (!linux) console.log(`udp-receiver-thread tests skipped: ${nativeUdp().reason}`);

const MARKER = 'z9hG4bK-rcka-0badcafe-';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

interface Seen {
  text: string;
  address: string;
  port: number;
}

async function listener(host: string): Promise<{ l: UdpListener; seen: Seen[] }> {
  const seen: Seen[] = [];
  const onMessage = (buf: Buffer, flow: Flow) => seen.push({ text: buf.toString('latin1'), address: flow.remoteAddress, port: flow.remotePort });
  const l = await UdpListener.open({ host, port: 0, receiveBuffer: 1 << 20, sendBuffer: 1 << 20, onMessage, onError: () => {}, threads: true });
  open.push(l);
  return { l, seen };
}

async function phone(type: 'udp4' | 'udp6', host: string): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket({ type });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  open.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, port: socket.address().port };
}

function answer(seq: number | string, cseq = 'CSeq: 1 OPTIONS', status = '200 OK'): string {
  return (
    `SIP/2.0 ${status}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${MARKER}${seq};rport=5060\r\nFrom: <sip:ping@127.0.0.1>;tag=a\r\n` +
    `To: <sip:alice@127.0.0.1>;tag=b\r\nCall-ID: ${MARKER}${seq}@127.0.0.1\r\n${cseq}\r\nContent-Length: 0\r\n\r\n`
  );
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

function take(l: UdpListener): Array<{ seq: number; atMs: number; address: string; port: number }> {
  const out: Array<{ seq: number; atMs: number; address: string; port: number }> = [];
  l.receiverThread!.takePingAnswers((seq, atMs, address, port) => out.push({ seq, atMs, address, port }));
  return out;
}

describe.runIf(linux)('UDP receiver thread', () => {
  it('keeps answers to our pings, with source and arrival time, and leaves them out of onMessage', async () => {
    const { l, seen } = await listener('127.0.0.1');
    l.receiverThread!.setPingMarker(Buffer.from(MARKER, 'latin1'), PING_SEQ_LIMIT);
    const p = await phone('udp4', '127.0.0.1');
    const sentAt = Date.now();
    p.socket.send(answer(7), l.localPort, '127.0.0.1');
    p.socket.send(answer(8, 'cseq: 1 OPTIONS', '404 Not Found'), l.localPort, '127.0.0.1');
    await until(() => l.receiverThread!.counters().pingAnswers === 2);
    // Taken a while after they arrived: the time is the arrival's, not the taking's.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const got = take(l);
    expect(got.map((g) => g.seq)).toEqual([7, 8]);
    for (const g of got) {
      expect(g.address).toBe('127.0.0.1');
      expect(g.port).toBe(p.port);
      expect(g.atMs).toBeGreaterThanOrEqual(sentAt - 1);
      expect(g.atMs).toBeLessThan(Date.now() - 40);
    }
    expect(take(l)).toEqual([]);
    expect(seen).toEqual([]);
    expect(l.receiverThread!.counters()).toEqual({ pingAnswers: 2, forwarded: 0, dropped: 0 });
  });

  it('reads the socket itself when the answers are taken: one just arrived is there at once', async () => {
    const { l } = await listener('127.0.0.1');
    l.receiverThread!.setPingMarker(Buffer.from(MARKER, 'latin1'), PING_SEQ_LIMIT);
    const p = await phone('udp4', '127.0.0.1');
    for (let i = 0; i < 5; i++) {
      // Delivered into the socket's buffer by the time the send completes (loopback).
      await new Promise<void>((resolve) => p.socket.send(answer(300 + i), l.localPort, '127.0.0.1', () => resolve()));
      expect(take(l).map((g) => g.seq)).toEqual([300 + i]);
    }
  });

  it('keeps a burst of answers larger than one read, in order', async () => {
    const { l } = await listener('127.0.0.1');
    l.receiverThread!.setPingMarker(Buffer.from(MARKER, 'latin1'), PING_SEQ_LIMIT);
    const p = await phone('udp4', '127.0.0.1');
    for (let i = 0; i < 500; i++) p.socket.send(answer(1000 + i), l.localPort, '127.0.0.1');
    await until(() => l.receiverThread!.counters().pingAnswers === 500);
    const got = take(l);
    expect(got.length).toBe(500);
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: 500 }, (_, i) => 1000 + i));
  });

  it('hands every other response to onMessage with its source: not ours, rewritten, out of range, or before the marker is set', async () => {
    const { l, seen } = await listener('127.0.0.1');
    const p = await phone('udp4', '127.0.0.1');
    // No marker yet: even a ping answer goes to the event loop.
    p.socket.send(answer(1), l.localPort, '127.0.0.1');
    await until(() => seen.length === 1);
    l.receiverThread!.setPingMarker(Buffer.from(MARKER, 'latin1'), PING_SEQ_LIMIT);
    const others = [
      answer(2).replaceAll(MARKER, 'z9hG4bK-rcka-11111111-'), // another process's tag
      answer(3, 'CSeq:   1   OPTIONS'), // rewritten: the parser decides
      answer(4, 'CSeq: 1 INVITE'),
      answer(`${PING_SEQ_LIMIT}`),
      answer('5x'), // the number does not end the token
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n',
    ];
    for (const o of others) p.socket.send(o, l.localPort, '127.0.0.1');
    await until(() => seen.length === 1 + others.length);
    expect(seen.map((s) => s.text)).toEqual([answer(1), ...others]);
    expect(seen.every((s) => s.address === '127.0.0.1' && s.port === p.port)).toBe(true);
    expect(take(l)).toEqual([]);
    expect(l.receiverThread!.counters()).toEqual({ pingAnswers: 0, forwarded: 1 + others.length, dropped: 0 });
  });

  it('leaves requests, CRLF keep-alives and junk to the event loop socket', async () => {
    const { l, seen } = await listener('127.0.0.1');
    l.receiverThread!.setPingMarker(Buffer.from(MARKER, 'latin1'), PING_SEQ_LIMIT);
    const p = await phone('udp4', '127.0.0.1');
    const sent = ['REGISTER sip:example.com SIP/2.0\r\n\r\n', '\r\n\r\n', '\r\n', 'S', 'SIP', 'xSIP/2.0 200 OK'];
    for (const m of sent) p.socket.send(m, l.localPort, '127.0.0.1');
    await until(() => seen.length === sent.length);
    expect(seen.map((s) => s.text).sort()).toEqual([...sent].sort());
    expect(l.receiverThread!.counters().forwarded).toBe(0);
  });

  it('hands a response over at once after a quiet spell, when the thread waits on the socket', async () => {
    const { l, seen } = await listener('127.0.0.1');
    const p = await phone('udp4', '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const sentAt = Date.now();
    p.socket.send(answer(9, 'CSeq: 2 INVITE'), l.localPort, '127.0.0.1');
    await until(() => seen.length === 1);
    expect(seen.length).toBe(1);
    expect(Date.now() - sentAt).toBeLessThan(500);
  });

  it('names its thread rc-udp-receiver, for top -H', async () => {
    const names = () =>
      readdirSync('/proc/self/task').filter((tid) => {
        try {
          return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'rc-udp-receiver';
        } catch {
          return false; // the thread ended meanwhile
        }
      }).length;
    const before = names();
    await listener('127.0.0.1');
    expect(names()).toBe(before + 1);
  });

  it('works over IPv6', async () => {
    const { l, seen } = await listener('::1');
    l.receiverThread!.setPingMarker(Buffer.from(MARKER, 'latin1'), PING_SEQ_LIMIT);
    const p = await phone('udp6', '::1');
    p.socket.send(answer(42), l.localPort, '::1');
    p.socket.send('SIP/2.0 200 OK\r\n\r\n', l.localPort, '::1');
    await until(() => l.receiverThread!.counters().pingAnswers === 1 && seen.length === 1);
    expect(take(l)).toEqual([expect.objectContaining({ seq: 42, address: '::1', port: p.port })]);
    expect(seen[0]).toEqual({ text: 'SIP/2.0 200 OK\r\n\r\n', address: '::1', port: p.port });
  });

  it('is refused a port another socket holds, and leaves it free when closed', async () => {
    const other = await phone('udp4', '127.0.0.1');
    const err = await UdpListener.open({ host: '127.0.0.1', port: other.port, receiveBuffer: 65536, sendBuffer: 65536, onMessage: () => {}, onError: () => {}, threads: true }).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('EADDRINUSE');
    const { l } = await listener('127.0.0.1');
    const port = l.localPort;
    await l.close();
    open.splice(open.indexOf(l), 1);
    // Both sockets are closed: a plain bind, which SO_REUSEPORT sockets would refuse, succeeds.
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });
});
