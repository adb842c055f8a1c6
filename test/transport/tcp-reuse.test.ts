// TCP flows: a message for a peer that already has a connection to us goes over that
// connection (RFC 3261 §18.2.2, RFC 5626 flows), not a new one.

import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpListener } from '../../src/transport/tcp-listener.js';

let listener: TcpListener | null = null;
afterEach(async () => {
  await listener?.close();
});

describe('TCP listener', () => {
  it('sends to a peer over the connection that peer opened', async () => {
    const received: string[] = [];
    listener = await TcpListener.open({
      host: '127.0.0.1',
      port: 0,
      maxMessageSize: 65535,
      idleTimeout: 0,
      onMessage: (buf) => received.push(buf.toString()),
      onFramingError: () => {},
      onError: () => {},
    });
    const peer: Socket = connect({ host: '127.0.0.1', port: listener.localPort });
    await new Promise<void>((r) => peer.once('connect', () => r()));
    const got = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    // Wait until the listener has the accepted connection.
    for (let i = 0; i < 100 && listener.connectionCount === 0; i++) await new Promise((r) => setTimeout(r, 5));
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
    listener = await TcpListener.open({ host: '127.0.0.1', port: 0, maxMessageSize: 65535, idleTimeout: 0, onMessage: () => {}, onFramingError: () => {}, onError: () => {} });
    listener.sendTo(Buffer.from('one;'), '127.0.0.1', port);
    listener.sendTo(Buffer.from('two;'), '127.0.0.1', port);
    for (let i = 0; i < 100 && chunks.join('') !== 'one;two;'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(chunks.join('')).toBe('one;two;');
    expect(accepted).toBe(1);
    remote.close();
  });

  it('answers a CRLFCRLF keep-alive with CRLF (RFC 5626 §4.4.1)', async () => {
    listener = await TcpListener.open({ host: '127.0.0.1', port: 0, maxMessageSize: 65535, idleTimeout: 0, onMessage: () => {}, onFramingError: () => {}, onError: () => {} });
    const peer = connect({ host: '127.0.0.1', port: listener.localPort });
    await new Promise<void>((r) => peer.once('connect', () => r()));
    const got = new Promise<string>((r) => peer.once('data', (d) => r(d.toString())));
    peer.write('\r\n\r\n');
    expect(await got).toBe('\r\n');
    peer.destroy();
  });
});
