// The transport layer with every kind of listener: each starts from its listen address, the
// kernel filter gets every port (TLS and WebSocket ones included, matched as TCP), and a
// response that cannot reach a WebSocket client is a counted send error, not a crash.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import { HAS_OPENSSL, makeTestCertificate, OPENSSL_SKIP_REASON, type TestCertificate } from '../config/test-certificate.fixture.js';
import { tableScript } from '../security/kernel-filter.js';
import type { SipResponse } from '../sip/message.js';
import { TransportLayer, type InboundRequest, type TransportLayerOptions } from './transport-layer.js';
import type { Connection } from './transport.js';

let layer: TransportLayer | null = null;
afterEach(async () => {
  await layer?.close();
  layer = null;
});

const listen = (...texts: string[]) => texts.map((t) => parseListenAddress(t) as ListenAddress);

function options(o: Partial<TransportLayerOptions>): TransportLayerOptions {
  return {
    listen: [],
    maxMessageSize: 65535,
    udpReceiveBuffer: 65536,
    udpSendBuffer: 65536,
    tcpIdleTimeout: 0,
    forceRport: true,
    serverHeader: '',
    onRequest: () => {},
    onResponse: (_res: SipResponse) => {},
    log: { warn() {}, debug() {} },
    ...o,
  };
}

const REGISTER = `REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n`;

if (!HAS_OPENSSL) console.warn(`skipping the transport layer tests with tls/wss listeners: ${OPENSSL_SKIP_REASON}`);

describe.skipIf(!HAS_OPENSSL)('transport layer with every listener kind', () => {
  let cert: TestCertificate;
  beforeAll(() => {
    cert = makeTestCertificate();
  });

  it('starts udp, tcp, tls, ws and wss listeners; the kernel filter matches all their ports', async () => {
    layer = await TransportLayer.start(options({ listen: listen('udp:127.0.0.1:0', 'tcp:127.0.0.1:0', 'tls:127.0.0.1:0', 'ws:127.0.0.1:0', 'wss:[::1]:0'), tls: cert }));
    expect(layer.listeners.map((l) => `${l.transport} ${l.localAddress}`)).toEqual(['UDP 127.0.0.1', 'TCP 127.0.0.1', 'TLS 127.0.0.1', 'WS 127.0.0.1', 'WSS ::1']);
    const ports = layer.listeners.map((l) => l.localPort);
    expect(ports.every((p) => p > 0)).toBe(true);
    // What rollcall-server.ts hands the kernel filter: TLS and WebSocket are TCP underneath,
    // and the rule matches tcp and udp alike.
    const script = tableScript('rollcall_1', ports);
    for (const p of ports) expect(script).toMatch(new RegExp(`meta l4proto \\{ tcp, udp \\} th dport \\{[^}]*\\b${p}\\b`));
  });

  it('refuses to start a tls or wss listener without a certificate', async () => {
    await expect(TransportLayer.start(options({ listen: listen('udp:127.0.0.1:0', 'wss:127.0.0.1:0') }))).rejects.toThrow(/wss listener without a certificate \(sip\.tls\.cert, sip\.tls\.key\)/);
  });

  it('answers a WebSocket client over its connection; once it is gone a response is a counted send error', async () => {
    const requests: InboundRequest[] = [];
    const closed: Connection[] = [];
    layer = await TransportLayer.start(
      options({ listen: listen('ws:127.0.0.1:0'), onRequest: (r) => requests.push(r), onConnectionClosed: (c) => closed.push(c) }),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${layer.listeners[0]!.localPort}`, 'sip');
    await new Promise<void>((r) => ws.once('open', () => r()));
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString()));
    ws.send(REGISTER);
    for (let i = 0; i < 200 && requests.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const req = requests[0]!;
    expect(req.flow.transport).toBe('WS');
    expect(req.via[0]!.params).toContainEqual(['received', '127.0.0.1']);
    const l = layer;
    l.sendResponse(req.flow, { address: req.flow.remoteAddress, port: req.flow.remotePort }, Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
    for (let i = 0; i < 200 && frames.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(frames).toEqual(['SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n']);

    ws.close();
    for (let i = 0; i < 200 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(closed[0]).toBe(req.flow.connection);
    expect(() => l.sendResponse(req.flow, { address: req.flow.remoteAddress, port: req.flow.remotePort }, Buffer.from('late'))).not.toThrow();
    expect(l.counters.sendErrors).toBe(1);
  });
});

describe('transport layer on a stream that cannot be framed', () => {
  /** Writes `bytes` on a fresh TCP connection; resolves with everything read until the server closes it. */
  async function exchange(bytes: string): Promise<string> {
    const { connect } = await import('node:net');
    const port = layer!.listeners[0]!.localPort;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect({ host: '127.0.0.1', port }, () => s.write(bytes));
      s.on('data', (c) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      setTimeout(() => s.destroy(new Error('the server did not close the connection')), 3000).unref();
    });
  }
  const TCP_REGISTER = REGISTER.replace('SIP/2.0/WS df7jal23ls0d.invalid', 'SIP/2.0/TCP 127.0.0.1:5099');

  it('answers a request larger than sip.maxMessageSize with 513 (RFC 3261 §18.3), then closes the connection', async () => {
    const requests: InboundRequest[] = [];
    layer = await TransportLayer.start(options({ listen: listen('tcp:127.0.0.1:0'), maxMessageSize: 2000, onRequest: (r) => requests.push(r) }));
    const reply = await exchange(TCP_REGISTER.replace('Content-Length: 0', 'Content-Length: 9999999'));
    expect(reply).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    expect(reply).toMatch(/\r\nCall-ID: c1\r\n/);
    expect(reply).toMatch(/\r\nCSeq: 1 REGISTER\r\n/);
    expect(requests).toEqual([]);
    expect(layer.counters.parseErrors).toBe(1);
  });

  it('answers a request without Content-Length with 400, then closes the connection', async () => {
    layer = await TransportLayer.start(options({ listen: listen('tcp:127.0.0.1:0') }));
    const reply = await exchange(TCP_REGISTER.replace('Content-Length: 0\r\n', ''));
    expect(reply).toMatch(/^SIP\/2\.0 400 Bad Request \(missing Content-Length \(mandatory on stream transports\)\)\r\n/);
    expect(reply).toMatch(/\r\nCall-ID: c1\r\n/);
  });

  it('a header section that never ends is not answered (nothing to answer with); the connection is closed', async () => {
    layer = await TransportLayer.start(options({ listen: listen('tcp:127.0.0.1:0'), maxMessageSize: 2000 }));
    expect(await exchange('REGISTER sip:example.com SIP/2.0\r\n' + 'X: y\r\n'.repeat(1000))).toBe('');
  });

  it('a refused source gets no answer to its unframeable request', async () => {
    layer = await TransportLayer.start(
      options({ listen: listen('tcp:127.0.0.1:0'), guard: { admit: () => 1, refuses: () => true, screen: () => 0, retryAfter: () => 0 } }),
    );
    expect(await exchange(TCP_REGISTER.replace('Content-Length: 0\r\n', ''))).toBe('');
  });
});

describe('UDP responses taken on their raw bytes', () => {
  const response = (branch: string) =>
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}\r\nFrom: <sip:ka@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\nCall-ID: k1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

  async function send(port: number, texts: string[]): Promise<void> {
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    for (const t of texts) await new Promise<void>((r) => s.send(t, port, '127.0.0.1', () => r()));
    s.close();
  }

  it('with the source gate in front: a response consumed raw in the pre-check reaches no one else and is counted once; one not consumed is parsed', async () => {
    const raw: string[] = [];
    const parsed: string[] = [];
    const admitted: string[] = [];
    layer = await TransportLayer.start(
      options({
        listen: listen('udp:127.0.0.1:0'),
        guard: { admit: (address) => (admitted.push(address), 0), refuses: () => false, screen: () => 0, retryAfter: () => 0 },
        onRawResponse: (buf) => {
          raw.push(buf.toString('latin1'));
          return buf.includes('branch=ours');
        },
        onResponse: (res) => parsed.push(res.callId),
      }),
    );
    await send(layer.listeners[0]!.localPort, [response('ours'), response('theirs')]);
    await expect.poll(() => parsed.length).toBe(1);
    expect(raw).toHaveLength(2);
    // Only the response that was not an answer to a ping was put to the rate limit.
    expect(admitted).toEqual(['127.0.0.1']);
    expect(layer.counters.received).toBe(2);
  });

  it('an answer to a ping is not held to its source rate limit: 50 answers from a source the gate would refuse all arrive', async () => {
    const taken: string[] = [];
    let limited = 0;
    layer = await TransportLayer.start(
      options({
        listen: listen('udp:127.0.0.1:0'),
        // A source over its limit (verdict 1: drop), neither blocked nor denied.
        guard: { admit: () => (limited++, 1), refuses: () => false, screen: () => 0, retryAfter: () => 0 },
        onRawResponse: (buf) => buf.includes('branch=ours') && (taken.push(buf.toString('latin1')), true),
      }),
    );
    await send(layer.listeners[0]!.localPort, [...Array.from({ length: 50 }, () => response('ours')), response('theirs')]);
    await expect.poll(() => layer!.counters.refused).toBe(1);
    expect(taken).toHaveLength(50);
    // The rate limit saw only the response that answered nothing of ours.
    expect(limited).toBe(1);
  });

  it('without a source gate the same happens after the flow is built', async () => {
    const raw: string[] = [];
    const parsed: string[] = [];
    layer = await TransportLayer.start(
      options({
        listen: listen('udp:127.0.0.1:0'),
        onRawResponse: (buf) => (raw.push(buf.toString('latin1')), buf.includes('branch=ours')),
        onResponse: (res) => parsed.push(res.callId),
      }),
    );
    await send(layer.listeners[0]!.localPort, [response('ours'), response('theirs')]);
    await expect.poll(() => parsed.length).toBe(1);
    expect(raw).toHaveLength(2);
    expect(layer.counters.received).toBe(2);
  });

  it('a blocked or denied source\'s response is not looked at', async () => {
    const raw: string[] = [];
    layer = await TransportLayer.start(
      options({
        listen: listen('udp:127.0.0.1:0'),
        // Blocked or denied: its answers count for nothing either.
        guard: { admit: () => 1, refuses: () => true, screen: () => 0, retryAfter: () => 0 },
        onRawResponse: (buf) => (raw.push(buf.toString('latin1')), true),
      }),
    );
    await send(layer.listeners[0]!.localPort, [response('ours')]);
    await expect.poll(() => layer!.counters.refused).toBe(1);
    expect(raw).toEqual([]);
  });
});

describe.runIf(process.platform === 'linux')('UDP ping answers read by the receiver threads', () => {
  const MARKER = 'z9hG4bK-rcka-5eedf00d-';
  const answer = (seq: number) =>
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${MARKER}${seq}\r\nFrom: <sip:ka@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\nCall-ID: ${MARKER}${seq}@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

  async function sendFrom(host: string, port: number, texts: string[]): Promise<void> {
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, host, r));
    for (const t of texts) await new Promise<void>((r) => s.send(t, port, '127.0.0.1', () => r()));
    s.close();
  }

  it('hands them over on request with their arrival time, counted as received, without those of blocked or denied sources; never to the rate limit', async () => {
    let limited = 0;
    const raw: string[] = [];
    layer = await TransportLayer.start(
      options({
        listen: listen('udp:127.0.0.1:0'),
        udpKeepAliveThreads: true,
        guard: { admit: () => (limited++, 1), refuses: (address) => address === '127.0.0.2', screen: () => 0, retryAfter: () => 0 },
        onRawResponse: (buf) => (raw.push(buf.toString('latin1')), false),
      }),
    );
    layer.setPingMarker(Buffer.from(MARKER, 'latin1'), 1 << 30);
    const port = layer.listeners[0]!.localPort;
    const before = Date.now();
    await sendFrom('127.0.0.1', port, [answer(1), answer(2)]);
    await sendFrom('127.0.0.2', port, [answer(3)]);
    const taken: Array<[number, number]> = [];
    // All three read (the thread reads on a 5 ms clock), two handed over.
    await expect.poll(() => (layer!.takePingAnswers((seq, atMs) => taken.push([seq, atMs])), layer!.counters.received)).toBe(3);
    expect(taken.map(([seq]) => seq)).toEqual([1, 2]);
    for (const [, atMs] of taken) expect(atMs).toBeGreaterThanOrEqual(before - 1);
    expect(layer.counters.received).toBe(3);
    // Taken by the thread: neither the event loop's raw look nor the rate limit saw them.
    expect(raw).toEqual([]);
    expect(limited).toBe(0);
  });
});
