import { afterEach, describe, expect, it, vi } from 'vitest';
import { echoOf } from '../sip/parse-error.js';
import { parseMessage } from '../sip/parser.js';
import { withReceived } from '../sip/via.js';
import type { InboundRequest } from '../transport/transport-layer.js';
import type { Flow, Listener } from '../transport/transport.js';
import { CompletedResponses } from './completed-responses.js';
import { TransactionLayer, type ServerTransaction } from './server-transactions.js';

const listener: Listener = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, sendTo() {}, close: async () => {} };
const udp = (port = 5062): Flow => ({ transport: 'UDP', remoteAddress: '127.0.0.1', remotePort: port, localAddress: '127.0.0.1', localPort: 5060, listener, connection: null });
const tcp = (): Flow => ({ ...udp(), transport: 'TCP' });

function req(method: string, opts: { branch?: string; cseq?: number; callId?: string; flow?: Flow; toTag?: string } = {}): InboundRequest {
  const f = opts.flow ?? udp();
  const text = [
    `${method} sip:example.com SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.1:5062${opts.branch === '' ? '' : `;branch=${opts.branch ?? 'z9hG4bKaaa'}`}`,
    'From: <sip:a@example.com>;tag=f',
    `To: <sip:a@example.com>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId ?? 'c1'}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const msg = parseMessage(Buffer.from(text), 'datagram');
  if (msg.kind !== 'request') throw new Error('bad test request');
  const via = [withReceived(msg.via[0]!, f.remoteAddress, f.remotePort, true)];
  return { msg, flow: f, via, echo: { ...echoOf(msg), via }, receivedAt: 0 };
}

let layer: TransactionLayer | null = null;
afterEach(() => {
  layer?.close();
  vi.useRealTimers();
});

function setup(now = () => 0) {
  const sent: Array<{ port: number; bytes: string }> = [];
  const started: ServerTransaction[] = [];
  layer = new TransactionLayer({
    send: (flow, target, buf) => sent.push({ port: flow.connection ? flow.remotePort : target.port, bytes: buf.toString() }),
    onRequest: (tx) => started.push(tx),
    now,
  });
  return { sent, started, layer };
}

describe('server transactions', () => {
  it('a retransmission while the request is processed reaches nobody and gets nothing', () => {
    const { sent, started, layer } = setup();
    layer.receive(req('REGISTER'));
    layer.receive(req('REGISTER'));
    expect(started).toHaveLength(1);
    expect(sent).toHaveLength(0);
    expect(layer.retransmissions).toBe(1);
  });

  it('a retransmission after the final response gets the same bytes, where it came from', () => {
    const { sent, started, layer } = setup();
    layer.receive(req('REGISTER'));
    started[0]!.respond(200, Buffer.from('SIP/2.0 200 OK\r\n\r\n'));
    layer.receive(req('REGISTER', { flow: udp(6000) }));
    expect(started).toHaveLength(1);
    expect(sent).toEqual([
      { port: 5062, bytes: 'SIP/2.0 200 OK\r\n\r\n' },
      { port: 6000, bytes: 'SIP/2.0 200 OK\r\n\r\n' },
    ]);
  });

  it('a new branch, Call-ID or CSeq is a new transaction', () => {
    const { started, layer } = setup();
    layer.receive(req('REGISTER'));
    layer.receive(req('REGISTER', { branch: 'z9hG4bKbbb' }));
    layer.receive(req('REGISTER', { callId: 'c2' }));
    layer.receive(req('REGISTER', { cseq: 2 }));
    expect(started).toHaveLength(4);
  });

  it('without the magic cookie, RFC 2543 matching applies', () => {
    const { started, layer } = setup();
    layer.receive(req('REGISTER', { branch: '' }));
    layer.receive(req('REGISTER', { branch: '' }));
    layer.receive(req('REGISTER', { branch: '', cseq: 9 }));
    expect(started).toHaveLength(2);
  });

  it('on TCP nothing lingers after the final response (Timer J is zero)', () => {
    const { started, layer } = setup();
    layer.receive(req('REGISTER', { flow: tcp() }));
    started[0]!.respond(200, Buffer.from('x'));
    expect(layer.size).toBe(0);
  });

  it('forgets completed UDP transactions after Timer J', () => {
    vi.useFakeTimers();
    let now = 0;
    const { started, layer } = setup(() => now);
    layer.receive(req('REGISTER'));
    started[0]!.respond(401, Buffer.from('401'));
    expect(layer.size).toBe(1);
    now = 31_000;
    vi.advanceTimersByTime(31_000);
    expect(layer.size).toBe(1);
    now = 34_000;
    vi.advanceTimersByTime(3_000);
    expect(layer.size).toBe(0);
    layer.receive(req('REGISTER'));
    expect(started).toHaveLength(2);
  });

  it('retransmits a final INVITE response on UDP until the ACK (Timer G), then absorbs the ACK', () => {
    vi.useFakeTimers();
    const { sent, started, layer } = setup();
    layer.receive(req('INVITE'));
    started[0]!.respond(404, Buffer.from('404'));
    vi.advanceTimersByTime(500 + 1000 + 2000);
    expect(sent).toHaveLength(4);
    layer.receive(req('ACK', { toTag: 'x' }));
    vi.advanceTimersByTime(8000);
    expect(sent).toHaveLength(4);
    expect(started).toHaveLength(1);
  });

  it('finds the INVITE a CANCEL refers to', () => {
    const { layer } = setup();
    layer.receive(req('INVITE'));
    expect(layer.hasInviteFor(req('CANCEL'))).toBe(true);
    expect(layer.hasInviteFor(req('CANCEL', { branch: 'z9hG4bKzzz' }))).toBe(false);
  });
});

describe('CompletedResponses', () => {
  it('returns exactly the bytes stored and expires whole slabs in order', () => {
    const c = new CompletedResponses(1000, 1_000_000);
    for (let i = 0; i < 5000; i++) c.put(`k${i}`, Buffer.from(`response number ${i} `.repeat(i % 7 + 1)), i < 2500 ? 0 : 1500);
    expect(c.get('k42')!.toString()).toBe('response number 42 '.repeat(1));
    expect(c.get('k4999')!.toString()).toBe('response number 4999 '.repeat(4999 % 7 + 1));
    c.sweep(1999);
    expect(c.get('k10')).toBeNull();
    expect(c.get('k2600')).not.toBeNull();
    c.sweep(2600);
    expect(c.size).toBe(0);
  });

  it('keeps every byte value across sealing, in the open slab and in sealed ones', () => {
    const c = new CompletedResponses(32_000, 1_000_000);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    c.put('open', bytes, 0);
    expect(c.get('open')!.equals(bytes)).toBe(true);
    c.sweep(1000); // a second old: sealed
    expect(c.get('open')!.equals(bytes)).toBe(true);
    c.put('next', Buffer.from('SIP/2.0 200 OK\r\n\r\n'), 1000);
    expect(c.get('next')!.toString()).toBe('SIP/2.0 200 OK\r\n\r\n');
    expect(c.get('open')!.equals(bytes)).toBe(true);
    const huge = Buffer.alloc(300_000, 0xe9);
    c.put('huge', huge, 1000);
    c.put('after', Buffer.from('after'), 1000);
    expect(c.get('huge')!.equals(huge)).toBe(true);
    expect(c.get('after')!.toString()).toBe('after');
    expect(c.size).toBe(4);
    c.sweep(32_500);
    expect(c.get('open')).toBeNull();
    expect(c.get('huge')).not.toBeNull();
    c.sweep(33_000);
    expect(c.size).toBe(0);
  });

  it('finds entries across the wrap of slab sequence numbers', () => {
    const c = new CompletedResponses(10_000_000, 1_000_000);
    // A slab a second: 5,000 slabs, past the 4,096 that positions can tell apart.
    for (let i = 0; i < 5000; i++) c.put(`k${i}`, Buffer.from(`r${i}`), i * 1000);
    expect(c.get('k0')).toBeNull();
    expect(c.get('k4999')!.toString()).toBe('r4999');
    expect(c.get('k1000')!.toString()).toBe('r1000');
    expect(c.size).toBe(4096);
  });

  it('drops the oldest slabs past its byte cap, keeping the newest', () => {
    const c = new CompletedResponses(60_000, 1_000_000, new Map(), 1_000_000);
    const r = Buffer.alloc(1000, 120);
    for (let i = 0; i < 5000; i++) c.put(`k${i}`, r, 0);
    expect(c.bytes).toBeLessThanOrEqual(1_000_000 + 256 * 1024);
    expect(c.bytes).toBeGreaterThan(500_000);
    expect(c.get('k0')).toBeNull();
    expect(c.get('k4999')!.equals(r)).toBe(true);
    c.sweep(60_000);
    expect(c.bytes).toBe(0);
  });

  it('drops the oldest entries past its cap', () => {
    const c = new CompletedResponses(60_000, 1000);
    const big = Buffer.alloc(10_000, 97);
    for (let i = 0; i < 3000; i++) c.put(`k${i}`, big, 0);
    expect(c.size).toBeLessThanOrEqual(1000 + 7);
    expect(c.get('k2999')!.length).toBe(10_000);
  });
});
