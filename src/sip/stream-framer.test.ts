import { describe, expect, it } from 'vitest';
import { parseMessage } from './parser.js';
import { linphoneRegister, okWithBody, polycomRegister, sip } from './sip-messages.fixture.js';
import { StreamFramer, type FramerEvent } from './stream-framer.js';

type Seen = { type: 'message'; text: string } | { type: 'ping' } | { type: 'pong' } | { type: 'error'; reason: string; status: number; head: string | null };

function framer(max = 65535): { f: StreamFramer; seen: Seen[] } {
  const seen: Seen[] = [];
  const f = new StreamFramer(max, (ev: FramerEvent) => {
    if (ev.type === 'message') seen.push({ type: 'message', text: ev.buf.toString('latin1') });
    else if (ev.type === 'error') seen.push({ ...ev, head: ev.head === null ? null : ev.head.toString('latin1') });
    else seen.push({ ...ev });
  });
  return { f, seen };
}

const first = polycomRegister;
const second = okWithBody;
const both = Buffer.concat([first, second]);
const asMessages = (...bufs: Buffer[]): Seen[] => bufs.map((b) => ({ type: 'message', text: b.toString('latin1') }));

describe('StreamFramer', () => {
  it('delivers two concatenated messages whatever byte boundary splits them', () => {
    for (let k = 0; k <= both.length; k++) {
      const { f, seen } = framer();
      f.push(both.subarray(0, k));
      f.push(both.subarray(k));
      expect(seen, `split at ${k}`).toEqual(asMessages(first, second));
    }
  });

  it('delivers them when bytes arrive one at a time', () => {
    const { f, seen } = framer();
    for (let i = 0; i < both.length; i++) f.push(both.subarray(i, i + 1));
    expect(seen).toEqual(asMessages(first, second));
    expect(f.buffered).toBe(0);
  });

  it('delivers several messages from one chunk, each parseable on its own as a stream message', () => {
    const { f, seen } = framer();
    f.push(Buffer.concat([first, second, linphoneRegister, first]));
    expect(seen).toEqual(asMessages(first, second, linphoneRegister, first));
    for (const s of seen) if (s.type === 'message') expect(parseMessage(Buffer.from(s.text, 'latin1'), 'stream').kind).not.toBe('parse-error');
  });

  it('frames by Content-Length even when the body holds empty lines', () => {
    const tricky = sip(['MESSAGE sip:a@example.com SIP/2.0', 'Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKb', 'l: 10'], 'a\r\n\r\nb\r\n\r\n');
    const { f, seen } = framer();
    f.push(Buffer.concat([tricky, first]));
    expect(seen).toEqual(asMessages(tricky, first));
  });

  it('reports a CRLFCRLF keep-alive as ping and a lone CRLF between messages as pong', () => {
    const { f, seen } = framer();
    f.push(Buffer.from('\r\n\r\n'));
    f.push(Buffer.concat([Buffer.from('\r\n'), first, Buffer.from('\r\n\r\n\r\n\r\n')]));
    expect(seen).toEqual([{ type: 'ping' }, { type: 'pong' }, ...asMessages(first), { type: 'ping' }, { type: 'ping' }]);
  });

  it('recognises a ping split in two and holds a lone CRLF until it knows (or flush)', () => {
    const { f, seen } = framer();
    f.push(Buffer.from('\r\n'));
    expect(seen).toEqual([]);
    f.push(Buffer.from('\r\n'));
    expect(seen).toEqual([{ type: 'ping' }]);
    f.push(Buffer.from('\r'));
    f.push(Buffer.from('\n'));
    expect(seen).toHaveLength(1);
    f.flush();
    expect(seen).toEqual([{ type: 'ping' }, { type: 'pong' }]);
  });

  it('skips leading CRLFs and stray LFs before a message', () => {
    const { f, seen } = framer();
    f.push(Buffer.concat([Buffer.from('\n\n'), first]));
    expect(seen).toEqual(asMessages(first));
  });

  it('errors with 400 when a stream message has no Content-Length, and ignores everything after', () => {
    const { f, seen } = framer();
    const bad = sip(['OPTIONS sip:a@example.com SIP/2.0', 'Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKx']);
    f.push(bad);
    f.push(first);
    // The header section comes with it, so that the request can still be answered.
    expect(seen).toEqual([{ type: 'error', reason: 'missing Content-Length (mandatory on stream transports)', status: 400, head: bad.toString('latin1') }]);
    expect(f.failed).toBe(true);
  });

  it('errors with 400 on a malformed or repeated Content-Length', () => {
    for (const [lines, reason] of [
      [['Content-Length: -5'], 'malformed Content-Length header'],
      [['Content-Length: 5x'], 'malformed Content-Length header'],
      [['Content-Length: 99999999999'], 'malformed Content-Length header'],
      [['Content-Length: 0', 'l: 0'], 'more than one Content-Length header'],
    ] as const) {
      const { f, seen } = framer();
      const bad = sip(['OPTIONS sip:a@example.com SIP/2.0', ...lines]);
      f.push(bad);
      expect(seen).toEqual([{ type: 'error', reason, status: 400, head: bad.toString('latin1') }]);
    }
  });

  it('reads a folded Content-Length and the compact form in any case', () => {
    const a = sip(['MESSAGE sip:a@example.com SIP/2.0', 'CONTENT-LENGTH:', '   3'], 'abc');
    const b = sip(['MESSAGE sip:a@example.com SIP/2.0', 'L : 2'], 'de');
    const { f, seen } = framer();
    f.push(Buffer.concat([a, b]));
    expect(seen).toEqual(asMessages(a, b));
  });

  it('errors with 513 when the declared message is larger than the maximum, before buffering it', () => {
    const { f, seen } = framer(1000);
    const head = sip(['MESSAGE sip:a@example.com SIP/2.0', 'Content-Length: 5000']);
    f.push(head);
    expect(seen).toEqual([{ type: 'error', reason: `message of ${head.length + 5000} bytes larger than the maximum message size`, status: 513, head: head.toString('latin1') }]);
    expect(f.buffered).toBe(0);
  });

  it('errors with 513 when a header section never ends, holding no more than the maximum', () => {
    const { f, seen } = framer(1000);
    let peak = 0;
    for (let i = 0; i < 200 && seen.length === 0; i++) {
      f.push(Buffer.from(`X-Filler-${i}: ${'y'.repeat(20)}\r\n`));
      peak = Math.max(peak, f.buffered);
    }
    expect(seen).toEqual([{ type: 'error', reason: 'header section larger than the maximum message size', status: 513, head: null }]);
    expect(peak).toBeLessThanOrEqual(1000);
  });

  it('takes one huge chunk holding many messages without holding more than one message', () => {
    const chunk = Buffer.concat(Array.from({ length: 500 }, () => first));
    const { f, seen } = framer(first.length);
    f.push(chunk);
    expect(seen).toHaveLength(500);
    expect(seen.every((s) => s.type === 'message')).toBe(true);
  });
});
