// SIP over WebSocket (RFC 7118): the `sip` subprotocol is required, each frame is one
// message, CRLFCRLF frames get a CRLF frame back, oversized frames close with 1009, ping()
// is a WebSocket ping, and a peer without a connection cannot be sent to.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HAS_OPENSSL, makeTestCertificate, OPENSSL_SKIP_REASON, type TestCertificate } from '../config/test-certificate.fixture.js';
import type { Connection, Flow } from './transport.js';
import { WsListener, type WsListenerOptions } from './ws-listener.js';

let listener: WsListener | null = null;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await listener?.close();
  listener = null;
});

const options = (o: Partial<WsListenerOptions> = {}): WsListenerOptions => ({
  host: '127.0.0.1',
  port: 0,
  maxMessageSize: 65535,
  idleTimeout: 0,
  credentials: null,
  onMessage: () => {},
  onError: () => {},
  ...o,
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

function open(url: string, protocols: string[] = ['sip'], o: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, o);
    clients.push(ws);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const nextFrame = (ws: WebSocket): Promise<{ data: string; binary: boolean }> =>
  new Promise((r) => ws.once('message', (d: Buffer, binary: boolean) => r({ data: d.toString(), binary })));

const REGISTER = (n: number) =>
  `REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK${n}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: c${n}\r\nCSeq: ${n} REGISTER\r\nContact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n`;

describe('WebSocket listener', () => {
  it('accepts the sip subprotocol on any path and hands one message per frame, text or binary, with flow transport WS', async () => {
    const got: Array<{ text: string; flow: Flow }> = [];
    listener = await WsListener.open(options({ onMessage: (buf, flow) => got.push({ text: buf.toString(), flow }) }));
    expect(listener.transport).toBe('WS');
    const ws = await open(`ws://127.0.0.1:${listener.localPort}/any/path?x=1`, ['chat', 'sip']);
    expect(ws.protocol).toBe('sip');
    ws.send(REGISTER(1));
    ws.send(Buffer.from(REGISTER(2)), { binary: true });
    await until(() => got.length === 2, 'two messages');
    expect(got.map((g) => g.text)).toEqual([REGISTER(1), REGISTER(2)]);
    expect(got[0]!.flow).toMatchObject({ transport: 'WS', remoteAddress: '127.0.0.1', localPort: listener.localPort });
    expect(got[0]!.flow.connection).toBe(got[1]!.flow.connection);
    expect(got[0]!.flow.connection!.transport).toBe('WS');
  });

  it('refuses a handshake without the sip subprotocol', async () => {
    listener = await WsListener.open(options());
    const url = `ws://127.0.0.1:${listener.localPort}/`;
    await expect(open(url, [])).rejects.toThrow(/Unexpected server response: 400/);
    await expect(open(url, ['chat'])).rejects.toThrow(/Unexpected server response: 400/);
    expect(listener.connectionCount).toBe(0);
    const res = await fetch(`http://127.0.0.1:${listener.localPort}/`);
    expect(res.status).toBe(426);
  });

  it('answers a CRLFCRLF frame with a CRLF frame and hands neither up', async () => {
    const got: string[] = [];
    listener = await WsListener.open(options({ onMessage: (buf) => got.push(buf.toString()) }));
    const ws = await open(`ws://127.0.0.1:${listener.localPort}`);
    const pong = nextFrame(ws);
    ws.send('\r\n\r\n');
    expect(await pong).toEqual({ data: '\r\n', binary: false });
    ws.send('\r\n');
    ws.send(REGISTER(3));
    await until(() => got.length === 1, 'the message');
    expect(got).toEqual([REGISTER(3)]);
  });

  it('closes a connection with 1009 when a frame is larger than the largest message', async () => {
    const closed: Connection[] = [];
    listener = await WsListener.open(options({ maxMessageSize: 2000, onConnectionClosed: (c) => closed.push(c) }));
    const ws = await open(`ws://127.0.0.1:${listener.localPort}`);
    const code = new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
    ws.send('x'.repeat(2001));
    expect(await code).toBe(1009);
    await until(() => closed.length === 1, 'the close');
    expect(closed[0]!.transport).toBe('WS');
  });

  it('ping() sends a WebSocket ping frame, not a CRLFCRLF message', async () => {
    const conns: Connection[] = [];
    listener = await WsListener.open(options({ onMessage: (_b, flow) => conns.push(flow.connection!) }));
    const ws = await open(`ws://127.0.0.1:${listener.localPort}`);
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString()));
    ws.send(REGISTER(4));
    await until(() => conns.length === 1, 'the message');
    const pinged = new Promise<void>((r) => ws.once('ping', () => r()));
    conns[0]!.ping();
    await pinged;
    await new Promise((r) => setTimeout(r, 30));
    expect(frames).toEqual([]);
    // The client's pong (RFC 6455 §5.5.3, sent by the ws library as a browser does) is timed;
    // a WebSocket peer must answer, so an unanswered ping counts.
    await until(() => conns[0]!.pong.unanswered === 0, 'the pong');
    expect(conns[0]!.pong.rttMs).toBeGreaterThanOrEqual(0);
    expect(conns[0]!.pongRequired).toBe(true);
  });

  it('sends to a peer over its connection as a text frame; without one it throws (nothing to connect to)', async () => {
    const flows: Flow[] = [];
    listener = await WsListener.open(options({ onMessage: (_b, flow) => flows.push(flow) }));
    const ws = await open(`ws://127.0.0.1:${listener.localPort}`);
    ws.send(REGISTER(5));
    await until(() => flows.length === 1, 'the message');
    const frame = nextFrame(ws);
    listener.sendTo(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), flows[0]!.remoteAddress, flows[0]!.remotePort);
    expect(await frame).toEqual({ data: 'SIP/2.0 200 OK\r\n\r\n', binary: false });
    // Bytes that are not UTF-8 cannot go in a text frame.
    const binary = nextFrame(ws);
    flows[0]!.connection!.send(Buffer.from([0x53, 0x49, 0x50, 0xff]));
    expect((await binary).binary).toBe(true);
    expect(() => listener!.sendTo(Buffer.from('x'), '127.0.0.1', 1)).toThrow(/no WS connection from 127\.0\.0\.1:1/);
  });

  it('reports a closed connection once, and forgets it', async () => {
    const closed: Connection[] = [];
    const flows: Flow[] = [];
    listener = await WsListener.open(options({ onMessage: (_b, flow) => flows.push(flow), onConnectionClosed: (c) => closed.push(c) }));
    const ws = await open(`ws://127.0.0.1:${listener.localPort}`);
    ws.send(REGISTER(6));
    await until(() => flows.length === 1, 'the message');
    ws.close(1000);
    await until(() => closed.length === 1, 'the close');
    await new Promise((r) => setTimeout(r, 30));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toBe(flows[0]!.connection);
    expect(closed[0]!.closed).toBe(true);
    expect(flows[0]!.connection!.send(Buffer.from('late'))).toBe(false);
    expect(listener.connectionCount).toBe(0);
    expect(() => listener!.sendTo(Buffer.from('x'), flows[0]!.remoteAddress, flows[0]!.remotePort)).toThrow();
  });

  it('closes a connection idle for longer than the idle timeout', async () => {
    const closed: Connection[] = [];
    listener = await WsListener.open(options({ idleTimeout: 1, onConnectionClosed: (c) => closed.push(c) }));
    const ws = await open(`ws://127.0.0.1:${listener.localPort}`);
    const gone = new Promise<void>((r) => ws.once('close', () => r()));
    await gone;
    await until(() => closed.length === 1, 'the close');
  });

  it('listens on IPv6 [::1]', async () => {
    const got: Flow[] = [];
    listener = await WsListener.open(options({ host: '::1', onMessage: (_b, flow) => got.push(flow) }));
    expect(listener.localAddress).toBe('::1');
    const ws = await open(`ws://[::1]:${listener.localPort}`);
    ws.send(REGISTER(7));
    await until(() => got.length === 1, 'the message');
    expect(got[0]).toMatchObject({ transport: 'WS', remoteAddress: '::1' });
  });
});

if (!HAS_OPENSSL) console.warn(`skipping the secure WebSocket listener tests: ${OPENSSL_SKIP_REASON}`);

describe.skipIf(!HAS_OPENSSL)('secure WebSocket listener', () => {
  let cert: TestCertificate;
  beforeAll(() => {
    cert = makeTestCertificate();
  });

  it('speaks wss with the certificate, flow transport WSS', async () => {
    const got: Flow[] = [];
    listener = await WsListener.open(options({ credentials: cert, onMessage: (_b, flow) => got.push(flow) }));
    expect(listener.transport).toBe('WSS');
    const ws = await open(`wss://localhost:${listener.localPort}/ws`, ['sip'], { ca: cert.cert });
    const pong = nextFrame(ws);
    ws.send('\r\n\r\n');
    expect((await pong).data).toBe('\r\n');
    ws.send(REGISTER(8));
    await until(() => got.length === 1, 'the message');
    expect(got[0]).toMatchObject({ transport: 'WSS', remoteAddress: '127.0.0.1' });
    expect(got[0]!.connection!.transport).toBe('WSS');
  });

  it('refuses a wss handshake without the sip subprotocol too', async () => {
    listener = await WsListener.open(options({ credentials: cert }));
    await expect(open(`wss://localhost:${listener.localPort}/`, [], { ca: cert.cert })).rejects.toThrow(/400/);
  });
});
