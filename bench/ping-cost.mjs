#!/usr/bin/env node
// In-process benchmark of what one keep-alive ping costs the server's event loop, without
// sockets: the ring's tick building each OPTIONS (src/registrar/keep-alive.ts) and the raw
// answer being matched, for 100,000 NATed bindings. Reports CPU time and bytes allocated per
// ping (V8's sampling heap profiler, collected objects included): allocation is what brings
// the young-generation collections whose pauses every REGISTER waiting behind them feels.
// Since the answers are kept in the ledger (src/registrar/ping-ledger.ts), matching one only
// records it; applying it to its binding happens at the binding's next visit, so it counts
// in "build and send" (from the second turn on).
//
//   npm run build && node bench/ping-cost.mjs [bindings] [turns]

import { Session } from 'node:inspector/promises';
import { Binding } from '../dist/registrar/binding.js';
import { KEEP_ALIVE_TICK_MS, KeepAlive } from '../dist/registrar/keep-alive.js';

const N = Number(process.argv[2] ?? 100_000);
const TURNS = Number(process.argv[3] ?? 5);
const INTERVAL = 30;
const T0 = Date.now();

const bindings = [];
for (let i = 1; i <= N; i++) {
  const b = new Binding(i, `sip:p${i}@bench.local`, `p${i}`, 'bench.local', `sip:p${i}@192.168.${(i >> 8) & 255}.${i & 255}:5060`, null, null, null, `k${i}@bench`, 2, 3600,
    T0 + 3_600_000, T0, T0, '203.0.113.9', 1024 + (i % 60000), 'UDP', '198.51.100.1', 5060, 'bench', [], true);
  b.inTable = true;
  bindings.push(b);
}

/** A phone's answer to one ping: its Via (with received), From, To (with a tag), Call-ID and CSeq echoed. */
function answerTo(buf) {
  const text = buf.toString('latin1');
  const line = (name) => {
    const i = text.indexOf(`\r\n${name}:`);
    return text.slice(i + 2, text.indexOf('\r\n', i + 2));
  };
  return Buffer.from(`SIP/2.0 200 OK\r\n${line('Via')};received=203.0.113.9\r\n${line('From')}\r\n${line('To')};tag=p\r\n${line('Call-ID')}\r\n${line('CSeq')}\r\nContent-Length: 0\r\n\r\n`, 'latin1');
}

const sent = new Array(N);
let nSent = 0;
const settings = { enabled: true, target: 'nat', interval: INTERVAL, maxMisses: 3 };
// As with the sender thread: each ping gets its batch's ticket, and the answer looks up the
// batch's wait in a ring of (ticket, ms) pairs (src/transport/udp-sender-thread.ts).
const waits = new Float64Array(2 * 4096).fill(-1);
let ticket = 0;
const ka = new KeepAlive({
  settings: () => settings,
  sendDatagram: (b, buf) => {
    sent[nSent++] = buf;
    const at = 2 * (ticket % 4096);
    waits[at] = ticket;
    waits[at + 1] = 0.5;
    return ticket;
  },
  sendDelay: (b, t) => (waits[2 * (t % 4096)] === t ? waits[2 * (t % 4096) + 1] : 0),
  localHost: (b) => b.localAddress,
  onUnreachable: () => {},
  onReachable: () => {},
  userAgent: () => 'Rollcall',
  now: Date.now,
});
for (const b of bindings) ka.track(b);
const ticks = (INTERVAL * 1000) / KEEP_ALIVE_TICK_MS;

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
/**
 * Runs `f` timed (CPU) on even turns, under the sampling heap profiler on odd ones (which
 * slows allocation down): returns [CPU µs, bytes allocated], one of them 0.
 */
async function measured(f, profiled) {
  if (!profiled) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    return [c.user + c.system, 0];
  }
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  f();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let bytes = 0;
  const walk = (n) => {
    bytes += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  return [0, bytes];
}

const total = { send: [0, 0], answer: [0, 0], pings: [0, 0] };
for (let r = 0; r <= 2 * TURNS; r++) {
  const profiled = r % 2 === 0;
  nSent = 0;
  const send = await measured(() => {
    for (let t = 0; t < ticks; t++) {
      ka.tick();
      ticket = (ticket + 1) % (1 << 30);
    }
  }, profiled);
  const answers = sent.slice(0, nSent).map(answerTo); // not measured: the phones' work
  const answer = await measured(() => {
    for (let i = 0; i < answers.length; i++) if (!ka.onRawResponse(answers[i])) throw new Error('an answer did not match its ping');
  }, profiled);
  if (r === 0) continue; // the first turn warms the JIT up
  total.send[0] += send[0];
  total.send[1] += send[1];
  total.answer[0] += answer[0];
  total.answer[1] += answer[1];
  total.pings[profiled ? 1 : 0] += nSent;
}
session.disconnect();
const per = ([us, bytes]) => `${((us / total.pings[0]) * 1000).toFixed(0)} ns CPU, ${Math.round(bytes / total.pings[1])} bytes`;
console.log(`${N} bindings, ${TURNS} turns timed and ${TURNS} profiled: per ping — build and send ${per(total.send)}; match the answer ${per(total.answer)}`);
