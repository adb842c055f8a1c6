// TCP and TLS flows: messages framed by Content-Length, a message for a peer that already has
// a connection to us goes over that connection (RFC 3261 §18.2.2, RFC 5626 flows), CRLFCRLF
// keep-alives get CRLF back, and a closed connection is reported once.

import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAS_OPENSSL, makeTestCertificate, OPENSSL_SKIP_REASON, type TestCertificate } from '../config/test-certificate.fixture.js';
import { StreamListener, tcpSockets, tlsSockets, type StreamListenerOptions } from './stream-listener.js';
import type { Connection, Flow } from './transport.js';

let listener: StreamListener | null = null;
afterEach(async () => {
  await listener?.close();
  listener = null;
});

const quiet = { maxMessageSize: 65535, idleTimeout: 0, onMessage: () => {}, onFramingError: () => {}, onError: () => {} };
const options = (o: Partial<StreamListenerOptions> = {}): StreamListenerOptions => ({ host: '127.0.0.1', port: 0, ...quiet, ...o });

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const OPTIONS_MSG = (n: number) =>
  `OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${n}\r\nMax-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\nCall-ID: c${n}\r\nCSeq: ${n} OPTIONS\r\nContent-Length: 5\r\n\r\nbody${n}`;

describe('stream listener over TCP', () => {
  it('sends to a peer over the connection that peer opened', async () => {
    listener = await StreamListener.open(tcpSockets, options());
    expect(listener.transport).toBe('TCP');
    const peer: Socket = connect({ host: '127.0.0.1', port: listener.localPort });
    await new Promise<void>((r) => peer.once('connect', () => r()));
    const got = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    const l = listener;
    await until(() => l.connectionCount === 1, 'the accepted connection');
    expect(listener.connectionTo('127.0.0.1', peer.localPort!)).not.toBeNull();
    listener.sendTo(Buffer.from('OPTIONS-PING'), '127.0.0.1', peer.localPort!);
    expect(await got).toBe('OPTIONS-PING');
    expect(listener.connectionCount).toBe(1);
    peer.destroy();
  });

  it('opens a connection when there is none, and reuses it afterwards', async () => {
    let accepted = 0;
    const chunks: string[] = [];
    const remote = createServer((s) => {
      accepted++;
      s.on('data', (d) => chunks.push(d.toString()));
    });
    await new Promise<void>((r) => remote.listen(0, '127.0.0.1', () => r()));
    const port = (remote.address() as { port: number }).port;
    listener = await StreamListener.open(tcpSockets, options());
    listener.sendTo(Buffer.from('one;'), '127.0.0.1', port);
    listener.sendTo(Buffer.from('two;'), '127.0.0.1', port);
    await until(() => chunks.join('') === 'one;two;', 'both messages');
    expect(accepted).toBe(1);
    remote.close();
  });

  it('answers a CRLFCRLF keep-alive with CRLF (RFC 5626 §4.4.1)', async () => {
    listener = await StreamListener.open(tcpSockets, options());
    const peer = connect({ host: '127.0.0.1', port: listener.localPort });
    await new Promise<void>((r) => peer.once('connect', () => r()));
    const got = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    peer.write('\r\n\r\n');
    expect(await got).toBe('\r\n');
    peer.destroy();
  });

  it('ping() sends CRLFCRLF on the connection', async () => {
    const conns: Connection[] = [];
    listener = await StreamListener.open(tcpSockets, options({ onMessage: (_b, flow) => conns.push(flow.connection!) }));
    const peer = connect({ host: '127.0.0.1', port: listener.localPort });
    await new Promise<void>((r) => peer.once('connect', () => r()));
    peer.write(OPTIONS_MSG(1));
    await until(() => conns.length === 1, 'the message');
    const got = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    conns[0]!.ping();
    expect(await got).toBe('\r\n\r\n');
    expect(conns[0]!.pong.unanswered).toBe(1);
    expect(conns[0]!.pongRequired).toBe(false);
    // A client that answers (RFC 5626 §4.4.1's pong): the connection times it.
    peer.write('\r\n');
    await until(() => conns[0]!.pong.unanswered === 0, 'the pong');
    expect(conns[0]!.pong.rttMs).toBeGreaterThanOrEqual(0);
    expect(conns[0]!.pong.pongAt).toBeGreaterThan(0);
    peer.destroy();
  });
});

describe.skipIf(!HAS_OPENSSL)('stream listener over TLS', () => {
  let cert: TestCertificate;
  beforeAll(() => {
    cert = makeTestCertificate();
  });
  afterAll(() => {});

  const tlsPeer = (port: number, host = '127.0.0.1'): Promise<TLSSocket> =>
    new Promise((resolve, reject) => {
      const s = tlsConnect({ host, port, ca: cert.cert, servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });

  it('frames messages by Content-Length, however the bytes are cut, with flow transport TLS', async () => {
    const got: Array<{ text: string; flow: Flow }> = [];
    listener = await StreamListener.open(tlsSockets(cert), options({ onMessage: (buf, flow) => got.push({ text: buf.toString(), flow }) }));
    expect(listener.transport).toBe('TLS');
    const peer = await tlsPeer(listener.localPort);
    const both = OPTIONS_MSG(1) + OPTIONS_MSG(2);
    // Two messages in three writes that cut through headers and body.
    peer.write(both.slice(0, 40));
    peer.write(both.slice(40, OPTIONS_MSG(1).length + 10));
    peer.write(both.slice(OPTIONS_MSG(1).length + 10));
    await until(() => got.length === 2, 'two messages');
    expect(got.map((g) => g.text)).toEqual([OPTIONS_MSG(1), OPTIONS_MSG(2)]);
    expect(got[0]!.flow).toMatchObject({ transport: 'TLS', remoteAddress: '127.0.0.1', remotePort: peer.localPort });
    expect(got[0]!.flow.connection).toBe(got[1]!.flow.connection);
    expect(got[0]!.flow.connection!.transport).toBe('TLS');
    peer.destroy();
  });

  it('answers CRLFCRLF with CRLF, and ping() sends CRLFCRLF', async () => {
    const conns: Connection[] = [];
    listener = await StreamListener.open(tlsSockets(cert), options({ onMessage: (_b, flow) => conns.push(flow.connection!) }));
    const peer = await tlsPeer(listener.localPort);
    const pong = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    peer.write('\r\n\r\n');
    expect(await pong).toBe('\r\n');
    peer.write(OPTIONS_MSG(3));
    await until(() => conns.length === 1, 'the message');
    const ping = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    conns[0]!.ping();
    expect(await ping).toBe('\r\n\r\n');
    peer.destroy();
  });

  it('sends to a peer over its own TLS connection, and opens one (not verifying the peer) when there is none', async () => {
    listener = await StreamListener.open(tlsSockets(cert), options());
    const peer = await tlsPeer(listener.localPort);
    const l = listener;
    await until(() => l.connectionCount === 1, 'the accepted connection');
    const got = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    listener.sendTo(Buffer.from('over-yours'), '127.0.0.1', peer.localPort!);
    expect(await got).toBe('over-yours');
    expect(listener.connectionCount).toBe(1);
    peer.destroy();

    // A "phone" with a self-signed certificate of its own that no CA vouches for.
    let accepted = 0;
    const chunks: string[] = [];
    const phone = createTlsServer({ cert: cert.cert, key: cert.key }, (s) => {
      accepted++;
      s.on('data', (d) => chunks.push(d.toString()));
    });
    await new Promise<void>((r) => phone.listen(0, '127.0.0.1', () => r()));
    const port = (phone.address() as { port: number }).port;
    listener.sendTo(Buffer.from('one;'), '127.0.0.1', port);
    listener.sendTo(Buffer.from('two;'), '127.0.0.1', port);
    await until(() => chunks.join('') === 'one;two;', 'both messages');
    expect(accepted).toBe(1);
    expect(listener.connectionTo('127.0.0.1', port)?.transport).toBe('TLS');
    phone.close();
  });

  it('reports a closed connection once, whichever side closed it', async () => {
    const closed: Connection[] = [];
    listener = await StreamListener.open(tlsSockets(cert), options({ onConnectionClosed: (c) => closed.push(c) }));
    const peer = await tlsPeer(listener.localPort);
    const l = listener;
    await until(() => l.connectionCount === 1, 'the accepted connection');
    const peerPort = peer.localPort;
    peer.end();
    await until(() => closed.length === 1, 'the close');
    expect(closed[0]).toMatchObject({ transport: 'TLS', remotePort: peerPort, closed: true });
    expect(listener.connectionCount).toBe(0);

    const peer2 = await tlsPeer(listener.localPort);
    await until(() => l.connectionCount === 1, 'the second connection');
    listener.connectionTo('127.0.0.1', peer2.localPort!)!.close();
    await until(() => closed.length === 2, 'the second close');
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toHaveLength(2);
    peer2.destroy();
  });

  it('listens on IPv6 [::1]', async () => {
    const got: Flow[] = [];
    listener = await StreamListener.open(tlsSockets(cert), options({ host: '::1', onMessage: (_b, flow) => got.push(flow) }));
    expect(listener.localAddress).toBe('::1');
    const peer = await tlsPeer(listener.localPort, '::1');
    peer.write(OPTIONS_MSG(4));
    await until(() => got.length === 1, 'the message');
    expect(got[0]).toMatchObject({ transport: 'TLS', remoteAddress: '::1' });
    peer.destroy();
  });

  it('survives a client that is not speaking TLS', async () => {
    listener = await StreamListener.open(tlsSockets(cert), options());
    const peer = connect({ host: '127.0.0.1', port: listener.localPort });
    await new Promise<void>((r) => peer.once('connect', () => r()));
    const closed = new Promise<void>((r) => peer.once('close', () => r()));
    peer.on('error', () => {});
    peer.write('REGISTER sip:x SIP/2.0\r\n\r\n');
    await closed;
    const ok = await tlsPeer(listener.localPort);
    ok.destroy();
  });
});

if (!HAS_OPENSSL) console.warn(`skipping the TLS stream listener tests: ${OPENSSL_SKIP_REASON}`);
