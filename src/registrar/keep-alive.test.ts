import { describe, expect, it } from 'vitest';
import { parseMessage } from '../sip/parser.js';
import { headerValues, type SipRequest, type SipResponse } from '../sip/message.js';
import { PongClock } from '../transport/pong-clock.js';
import type { Connection } from '../transport/transport.js';
import { Binding } from './binding.js';
import { KEEP_ALIVE_TICK_MS, KeepAlive, type KeepAliveSettings } from './keep-alive.js';

const T0 = 1_800_000_000_000;

function binding(id: number, nat: boolean, path: string[] = []): Binding {
  const b = new Binding(id, `sip:u${id}@example.com`, `u${id}`, 'example.com', `sip:u${id}@192.168.1.${id}:5060`, null, null, null, `c${id}`, 1, 600, T0 + 600_000, T0, T0, '203.0.113.9', 40000 + id, 'UDP', '198.51.100.1', 5060, null, path, nat);
  b.inTable = true;
  return b;
}

/** queued: the pings go out later, each with a ticket, and have waited sendDelay(ticket) ms. */
function harness(settings: Partial<KeepAliveSettings> = {}, queued?: { sendDelay: (ticket: number) => number }) {
  const s: KeepAliveSettings = { enabled: true, target: 'nat', interval: 1, maxMisses: 3, ...settings };
  let now = T0;
  const sent: Array<{ b: Binding; msg: SipRequest; text: string }> = [];
  const changes: string[] = [];
  const ka = new KeepAlive({
    settings: () => s,
    sendDatagram: (b, buf) => {
      const msg = parseMessage(buf, 'datagram');
      if (msg.kind !== 'request') throw new Error(`not a request: ${buf.toString()}`);
      sent.push({ b, msg, text: buf.toString() });
      return queued === undefined ? -1 : 100 + sent.length;
    },
    sendDelay: queued === undefined ? undefined : (ticket) => queued.sendDelay(ticket),
    localHost: () => '198.51.100.1',
    onUnreachable: (b, reason) => changes.push(`unreachable ${b.id} (${reason})`),
    onReachable: (b) => changes.push(`reachable ${b.id}`),
    userAgent: () => 'Rollcall',
    now: () => now,
    random: () => 0.5,
  });
  /** One whole interval (interval 1 s: 1000 / KEEP_ALIVE_TICK_MS ticks). */
  const turn = () => {
    for (let i = 0; i < 1000 / KEEP_ALIVE_TICK_MS; i++) {
      ka.tick();
      now += KEEP_ALIVE_TICK_MS;
    }
  };
  const answerText = (req: SipRequest, status = 200, cseq = 'CSeq: 1 OPTIONS'): Buffer =>
    Buffer.from([`SIP/2.0 ${status} OK`, `Via: ${req.via[0]!.raw};received=203.0.113.9`, `From: <sip:keepalive@example.com>;tag=x`, `To: <sip:u@192.168.1.1>;tag=y`, `Call-ID: ${req.callId}`, cseq, 'Content-Length: 0', '', ''].join('\r\n'));
  const answer = (req: SipRequest, status = 200): SipResponse => {
    const res = parseMessage(answerText(req, status), 'datagram');
    if (res.kind !== 'response') throw new Error('bad response');
    return res;
  };
  return { ka, s, sent, changes, turn, answer, answerText, advance: (ms: number) => (now += ms) };
}

describe('KeepAlive', () => {
  it('pings only NATed bindings with target nat, every binding with target all, none behind a Path by default', () => {
    const h = harness();
    const natted = binding(1, true);
    const direct = binding(2, false);
    const proxied = binding(3, true, ['<sip:edge.example.com;lr>']);
    for (const b of [natted, direct, proxied]) h.ka.track(b);
    h.turn();
    expect(h.sent.map((p) => p.b.id)).toEqual([1]);
    Object.assign(h.s, { target: 'all' });
    for (const b of [natted, direct, proxied]) h.ka.track(b);
    h.sent.length = 0;
    h.turn();
    expect(h.sent.map((p) => p.b.id).sort()).toEqual([1, 2]);
  });

  it('with throughPath, pings an endpoint behind an edge proxy with its Path as the Route set, to where its REGISTER came from', () => {
    const h = harness({ throughPath: true });
    const path = ['<sip:edge1.example.com;lr>', '<sip:10.0.0.9:5070;lr;ob>'];
    const proxied = binding(3, true, path);
    const direct = binding(2, false, path.slice(0, 1));
    for (const b of [proxied, direct]) h.ka.track(b);
    h.turn();
    // The target still decides: with `nat`, the proxied endpoint flagged NAT only.
    expect(h.sent.map((p) => p.b.id)).toEqual([3]);
    const { msg, text } = h.sent[0]!;
    expect(text.split('\r\n')[0]).toBe('OPTIONS sip:u3@192.168.1.3:5060 SIP/2.0');
    expect(headerValues(msg, 'route')).toEqual([path.join(', ')]);
    expect(text).toContain('\r\nRoute: <sip:edge1.example.com;lr>, <sip:10.0.0.9:5070;lr;ob>\r\n');
    // The rest is the usual ping, so the proxy's forwarding of the answer is matched as usual.
    expect(msg.callId).toMatch(/^z9hG4bK-rcka-[0-9a-f]+-\d+@198\.51\.100\.1$/);
    h.advance(3);
    expect(h.ka.onRawResponse(h.answerText(msg))).toBe(true);
    h.ka.settle(proxied);
    expect(proxied.reachable).toBe(true);
    // Off (the default), the proxy is left to keep them: nothing is sent.
    Object.assign(h.s, { throughPath: false });
    h.ka.track(proxied);
    h.sent.length = 0;
    h.turn();
    expect(h.sent).toEqual([]);
  });

  it('with throughPath, a proxy\'s connection carries an OPTIONS for the endpoint behind it, not a CRLF ping, and its answer is what counts', () => {
    const h = harness({ throughPath: true, maxMisses: 2 });
    const b = binding(1, true, ['<sip:edge.example.com;transport=tcp;lr>']);
    let pings = 0;
    const onConn: Buffer[] = [];
    const conn = { id: 8, closed: false, send: (buf: Buffer) => (onConn.push(buf), true), ping: () => void pings++, pong: new PongClock(), pongRequired: false } as unknown as Connection;
    b.connection = conn;
    b.transport = 'TCP';
    h.ka.track(b);
    h.turn();
    expect(pings).toBe(0);
    expect(h.sent).toEqual([]); // not a datagram
    expect(onConn).toHaveLength(1);
    const req = parseMessage(onConn[0]!, 'stream');
    if (req.kind !== 'request') throw new Error('not a request');
    expect(req.method).toBe('OPTIONS');
    expect(req.via[0]!.raw).toMatch(/^SIP\/2\.0\/TCP 198\.51\.100\.1:5060;branch=/);
    expect(headerValues(req, 'route')).toEqual(['<sip:edge.example.com;transport=tcp;lr>']);
    // The connection being open is not an answer: unanswered, the endpoint is unreachable.
    expect(b.reachable).toBe(null);
    h.turn();
    h.turn();
    expect(h.changes).toEqual(['unreachable 1 (no answer to 2 OPTIONS pings)']);
    const last = parseMessage(onConn.at(-1)!, 'stream');
    if (last.kind !== 'request') throw new Error('not a request');
    expect(h.ka.onResponse(h.answer(last))).toBe(true);
    expect(h.changes).toEqual(['unreachable 1 (no answer to 2 OPTIONS pings)', 'reachable 1']);
  });

  it('sends an OPTIONS to the contact, with rport, and an answer of any status marks it reachable with its RTT', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const { msg, text } = h.sent[0]!;
    expect(msg.method).toBe('OPTIONS');
    expect(text.split('\r\n')[0]).toBe('OPTIONS sip:u1@192.168.1.1:5060 SIP/2.0');
    expect(msg.via[0]!.raw).toMatch(/^SIP\/2\.0\/UDP 198\.51\.100\.1:5060;branch=z9hG4bK-rcka-[0-9a-f]+-\w+;rport$/);
    h.advance(40);
    expect(h.ka.onResponse(h.answer(msg, 405))).toBe(true);
    h.ka.settle(b);
    expect(b.reachable).toBe(true);
    expect(b.rttMs).toBeGreaterThanOrEqual(40);
    expect(b.misses).toBe(0);
    // The same answer again (a retransmission) matches nothing.
    expect(h.ka.onResponse(h.answer(msg))).toBe(false);
  });

  it('leaves out of the RTT the time a ping waited to go out after it was queued, known by its ticket', () => {
    const asked: number[] = [];
    const h = harness({}, { sendDelay: (ticket) => (asked.push(ticket), 4.4) });
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const { msg } = h.sent[0]!;
    const seen = h.advance(7) - b.pingSentAt;
    expect(seen).toBeGreaterThanOrEqual(7);
    expect(h.ka.onRawResponse(h.answerText(msg))).toBe(true);
    expect(asked).toEqual([101]);
    h.ka.settle(b);
    // What the clock saw since the visit, less the 4.4 ms in the queue, in whole ms.
    expect(b.rttMs).toBe(Math.round(seen - 4.4));
    // A wait longer than the clock saw (a coarser clock) is never a negative RTT.
    const late = harness({}, { sendDelay: () => 1e6 });
    const c = binding(2, true);
    late.ka.track(c);
    late.turn();
    expect(late.ka.onResponse(late.answer(late.sent[0]!.msg))).toBe(true);
    late.ka.settle(c);
    expect(c.rttMs).toBe(0);
  });

  it('takes an answer from its raw bytes (no parse); what it cannot be sure of is left to the parser', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const { msg } = h.sent[0]!;
    // Another process's ping (another tag, in Via and Call-ID), a request, a rewritten CSeq: not taken here.
    const other = h.answerText(msg).toString('latin1').replace(/rcka-[0-9a-f]+-/g, 'rcka-00000000-');
    expect(h.ka.onRawResponse(Buffer.from(other))).toBe(false);
    expect(h.ka.onRawResponse(Buffer.from(h.answerText(msg).toString('latin1').replace('SIP/2.0 200 OK', 'OPTIONS sip:x SIP/2.0')))).toBe(false);
    expect(h.ka.onRawResponse(h.answerText(msg, 200, 'CSeq:   1   OPTIONS'))).toBe(false);
    expect(b.reachable).toBe(null);
    h.advance(25);
    expect(h.ka.onRawResponse(h.answerText(msg, 404))).toBe(true);
    h.ka.settle(b);
    expect(b).toMatchObject({ reachable: true, misses: 0, pingSeq: -1 });
    expect(b.rttMs).toBeGreaterThanOrEqual(25);
    expect(h.ka.counters.answers).toBe(1);
    // Answered once: a retransmission matches nothing, raw or parsed.
    expect(h.ka.onRawResponse(h.answerText(msg))).toBe(false);
    expect(h.ka.onResponse(h.answer(msg))).toBe(false);
  });

  it('takes an answer a receiver thread recognised by its sequence number, timed by its arrival', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const seq = b.pingSeq;
    expect(seq).toBeGreaterThanOrEqual(0);
    const sentAt = b.pingSentAt;
    // Arrived 30.7 ms after the ping was sent, taken later: the arrival counts, in whole ms.
    h.advance(200);
    expect(h.ka.onPingAnswer(seq + 1, sentAt + 30.7)).toBe(false);
    expect(h.ka.onPingAnswer(seq, sentAt + 30.7)).toBe(true);
    h.ka.settle(b);
    expect(b).toMatchObject({ reachable: true, misses: 0, pingSeq: -1, rttMs: 30, lastSeenAt: sentAt + 30 });
    expect(h.ka.counters.answers).toBe(1);
    // Answered once: the same number again matches nothing.
    expect(h.ka.onPingAnswer(seq, sentAt + 31)).toBe(false);
    // The marker the threads look for is this process's branch start.
    expect(h.sent[0]!.msg.via[0]!.raw).toContain(`branch=${h.ka.branchStartBytes.toString('latin1')}${seq};`);
  });

  it('holds an answer in the ledger until the endpoint\'s next visit or settle(), and judges the ping answered', () => {
    const h = harness({ maxMisses: 1 });
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const first = b.pingSentAt;
    expect(h.ka.onPingAnswer(b.pingSeq, first + 5)).toBe(true);
    // Held: the binding is not touched by the answer itself.
    expect(b).toMatchObject({ reachable: null, rttMs: null, lastSeenAt: T0 });
    expect(h.ka.settle(b)).toBe(true);
    expect(b).toMatchObject({ reachable: true, rttMs: 5, lastSeenAt: first + 5, pingSeq: -1 });
    h.turn();
    const seq = b.pingSeq;
    const sentAt = b.pingSentAt;
    expect(h.ka.settle(b)).toBe(false); // not answered yet
    expect(h.ka.onPingAnswer(seq, sentAt + 40)).toBe(true);
    expect(h.ka.counters.answers).toBe(2);
    expect(b).toMatchObject({ rttMs: 5, lastSeenAt: first + 5, pingSeq: seq });
    // Answered once: the same number again matches nothing, nor does a parsed retransmission.
    expect(h.ka.onPingAnswer(seq, sentAt + 41)).toBe(false);
    expect(h.ka.onResponse(h.answer(h.sent.at(-1)!.msg))).toBe(false);
    // Left for the visit: the visit applies it, and it is no miss (maxMisses 1).
    h.turn();
    expect(b).toMatchObject({ reachable: true, misses: 0, rttMs: 40, lastSeenAt: sentAt + 40 });
    expect(h.ka.counters.misses).toBe(0);
    expect(h.changes).toEqual([]);
  });

  it('an answer held when the endpoint stops being pinged (keep-alive turned off) is applied, not lost', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const sentAt = b.pingSentAt;
    h.ka.onPingAnswer(b.pingSeq, sentAt + 9);
    Object.assign(h.s, { enabled: false });
    h.ka.track(b);
    expect(h.ka.size).toBe(0);
    expect(b).toMatchObject({ reachable: true, rttMs: 9, lastSeenAt: sentAt + 9, pingSeq: -1 });
  });

  it('never moves last-seen back: a REGISTER after the held answer is the later news', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const answeredAt = b.pingSentAt + 7;
    h.ka.onPingAnswer(b.pingSeq, answeredAt);
    b.lastSeenAt = answeredAt + 500; // the registrar, on a refresh
    h.ka.settle(b);
    expect(b.rttMs).toBe(7);
    expect(b.lastSeenAt).toBe(answeredAt + 500);
  });

  it('flags an endpoint unreachable after maxMisses unanswered pings, once, and reachable again when it answers', () => {
    const h = harness({ maxMisses: 3 });
    const b = binding(1, true);
    h.ka.track(b);
    h.turn(); // ping 1
    h.turn(); // ping 1 missed, ping 2
    h.turn(); // ping 2 missed, ping 3
    expect(h.changes).toEqual([]);
    expect(b.misses).toBe(2);
    h.turn(); // ping 3 missed → unreachable, ping 4
    expect(h.changes).toEqual(['unreachable 1 (no answer to 3 OPTIONS pings)']);
    expect(b.reachable).toBe(false);
    h.turn(); // still silent: no second event
    expect(h.changes).toHaveLength(1);
    expect(h.ka.onResponse(h.answer(h.sent.at(-1)!.msg))).toBe(true);
    expect(h.changes).toEqual(['unreachable 1 (no answer to 3 OPTIONS pings)', 'reachable 1']);
    expect(b.misses).toBe(0);
  });

  it('visits a slot in batches when asked: tick(n) pings n, work(n) the next n, and one removed meanwhile is skipped', () => {
    const h = harness({ interval: 1 });
    const bs = [1, 2, 3, 4, 5].map((i) => binding(i, true));
    for (const b of bs) h.ka.track(b); // random 0.5: all in one slot
    let more = false;
    for (let i = 0; i < 1000 / KEEP_ALIVE_TICK_MS && h.sent.length === 0; i++) more = h.ka.tick(2);
    expect(h.sent.map((p) => p.b.id)).toEqual([1, 2]);
    expect(more).toBe(true);
    bs[2]!.inTable = false;
    h.ka.untrack(bs[2]!);
    expect(h.ka.work(2)).toBe(true); // 3 skipped (it counts), 4 sent
    expect(h.sent.map((p) => p.b.id)).toEqual([1, 2, 4]);
    expect(h.ka.work(2)).toBe(false);
    expect(h.sent.map((p) => p.b.id)).toEqual([1, 2, 4, 5]);
    expect(h.ka.work(2)).toBe(false);
    expect(h.sent).toHaveLength(4);
  });

  it('a removed binding is not pinged any more and its late answer matches nothing', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    b.inTable = false;
    h.ka.untrack(b);
    h.sent.length = 0;
    h.turn();
    expect(h.sent).toEqual([]);
    expect(h.ka.size).toBe(0);
  });

  it('a connection flow gets its ping (CRLFCRLF or a WebSocket ping frame); a closed connection counts as misses', () => {
    const h = harness({ maxMisses: 2 });
    const b = binding(1, true);
    let pings = 0;
    const conn = { id: 7, closed: false, send: () => true, ping: () => void pings++, pong: new PongClock(), pongRequired: false } as unknown as Connection;
    b.connection = conn;
    b.transport = 'TCP';
    h.ka.track(b);
    h.turn();
    expect(pings).toBe(1);
    expect(b.reachable).toBe(true);
    (conn as { closed: boolean }).closed = true;
    h.turn();
    h.turn();
    expect(h.changes).toEqual(['unreachable 1 (connection closed)']);
    expect(h.sent).toEqual([]); // never an OPTIONS on a connection flow
  });

  it('an endpoint that moved from UDP to a connection has its OPTIONS answer applied, and its entry dropped, at the first visit there', () => {
    const h = harness();
    const b = binding(1, true);
    h.ka.track(b);
    h.turn();
    const seq = b.pingSeq;
    h.ka.onPingAnswer(seq, b.pingSentAt + 6);
    b.connection = { id: 7, closed: false, send: () => true, ping: () => {}, pong: new PongClock(), pongRequired: false } as unknown as Connection;
    b.transport = 'TCP';
    h.turn();
    expect(b).toMatchObject({ pingSeq: -1, rttMs: 6, reachable: true });
    expect(h.ka.onPingAnswer(seq, b.pingSentAt + 7)).toBe(false);
  });

  /** A connection whose ping() is timed by the harness's clock, as the listeners' by theirs. */
  function timedConnection(h: ReturnType<typeof harness>, pongRequired: boolean) {
    const pong = new PongClock();
    const conn = { id: 9, closed: false, send: () => true, ping: () => pong.pinged(h.advance(0)), pong, pongRequired } as unknown as Connection;
    return { conn, pong };
  }

  /** A binding over such a connection (TCP, or WS whose peer must answer), tracked. */
  function overConnection(transport: 'TCP' | 'WS') {
    const h = harness({ maxMisses: 2 });
    const b = binding(1, true);
    const { conn, pong } = timedConnection(h, transport === 'WS');
    b.connection = conn;
    b.transport = transport;
    h.ka.track(b);
    return { h, b, pong };
  }

  it('a pong on a connection flow gives the binding its round-trip time and last-seen; on TCP a missing one is no miss', () => {
    const { h, b, pong } = overConnection('TCP');
    h.turn();
    expect(pong.unanswered).toBe(1);
    expect(b.rttMs).toBe(null);
    // A client that answers CRLFCRLF: its CRLF 12 ms after the ping.
    const pongAt = pong.waitingSince + 12;
    pong.ponged(pongAt);
    h.turn();
    expect(b.rttMs).toBe(12);
    expect(b.lastSeenAt).toBe(pongAt);
    expect(h.ka.counters.answers).toBe(1);
    // One that does not answer: still reachable while the connection is open.
    h.turn();
    h.turn();
    expect(b.reachable).toBe(true);
    expect(h.changes).toEqual([]);
  });

  it('a WebSocket flow whose pings go unanswered is flagged unreachable after maxMisses, and reachable when a pong comes again', () => {
    const { h, b, pong } = overConnection('WS');
    h.turn();
    expect(b.reachable).toBe(true);
    // The far end went away without closing (a NAT dropped its mapping): no pong, ever.
    h.turn();
    expect(b.misses).toBe(1);
    h.turn();
    expect(h.changes).toEqual(['unreachable 1 (no answer to 2 WebSocket pings)']);
    // It answers after all, 2.9 s after the first of the pings it had not answered.
    pong.ponged(pong.waitingSince + 2900);
    h.turn();
    expect(h.changes).toEqual(['unreachable 1 (no answer to 2 WebSocket pings)', 'reachable 1']);
    expect(b.rttMs).toBe(2900);
  });

  it('a WebSocket flow with two bindings: a ping sent for one is not a miss for the other', () => {
    const h = harness({ maxMisses: 1 });
    const a = binding(1, true);
    const c = binding(2, true);
    const { conn, pong } = timedConnection(h, true);
    for (const b of [a, c]) {
      b.connection = conn;
      b.transport = 'WS';
      h.ka.track(b);
    }
    // Both visited in each turn (interval 1 s), each pinging; the browser answers between turns.
    h.turn();
    pong.ponged(h.advance(0));
    h.turn();
    expect(h.changes).toEqual([]);
    expect([a.reachable, c.reachable]).toEqual([true, true]);
    // Unanswered for a whole turn: a miss for both.
    pong.ponged(h.advance(0));
    h.turn();
    h.turn();
    expect(h.changes).toEqual(['unreachable 1 (no answer to 1 WebSocket pings)', 'unreachable 2 (no answer to 1 WebSocket pings)']);
  });

  it('a connection with many bindings (a PBX\'s lines) is pinged once per visit round, not once per binding, and every binding follows its answers', () => {
    const h = harness({ maxMisses: 2 });
    const { conn, pong } = timedConnection(h, true);
    let pings = 0;
    (conn as { ping: () => void }).ping = () => {
      pings++;
      pong.pinged(h.advance(0));
    };
    const lines: Binding[] = [];
    for (let id = 1; id <= 50; id++) {
      const b = binding(id, true);
      b.connection = conn;
      b.transport = 'WS';
      h.ka.track(b);
      lines.push(b);
    }
    h.turn();
    expect(pings).toBe(1);
    expect(h.ka.counters.pings).toBe(1);
    // The PBX answers 7 ms after the ping: every line has that round-trip time.
    pong.ponged(pong.waitingSince + 7);
    h.turn();
    expect(pings).toBe(2);
    expect(lines.every((b) => b.rttMs === 7 && b.reachable === true)).toBe(true);
    // It stops answering: every line is flagged after maxMisses turns, each once.
    h.turn();
    h.turn();
    expect(pings).toBe(4);
    expect(h.changes).toHaveLength(50);
    expect(h.changes[0]).toBe('unreachable 1 (no answer to 2 WebSocket pings)');
  });

  it('a connection with one binding is pinged at each of its visits, however the ticks fall', () => {
    const { h, pong } = overConnection('TCP');
    for (let i = 0; i < 5; i++) {
      h.turn();
      pong.ponged(h.advance(3));
    }
    expect(h.ka.counters.pings).toBe(5);
  });
});
