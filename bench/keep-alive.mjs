#!/usr/bin/env node
// Keep-alive benchmark (issue 5): 100,000 NATed bindings restored from the store, all of them
// "behind" one responder (bench/ping-responder.mjs, its own process) that answers every OPTIONS with 200 OK.
// Two runs on a fresh server each — keep-alive off, then on (30 s interval) — with the same
// REGISTER load (REGISTER → 401 → REGISTER with digest → 200, distinct accounts, at a fixed
// rate), timed end to end by this process. Reports REGISTER latency (p50/p95/p99) of both
// runs, and for the run with keep-alive how the pings arrived: per second and per 100 ms
// (the largest 100 ms bucket against the mean says whether they came in bursts).
//
// With --rounds N (default 3) the pair runs N times, off and on alternating, and the summary
// takes the median of each figure per mode: on a shared machine one run's p95 moves by more
// than the effect being measured, and alternating puts both modes through the same noise.
//
// With --pin this process (the REGISTER load and its clock) runs alone on CPU 0, the server
// and the responder on CPU 1 (taskset). The responder stands in for the phones, which in real
// life are other machines; on a 2-core guest it has to share a core with something, and
// sharing the load generator's would delay the very clock that measures the latency. Sharing
// the server's is the pessimistic choice for the server: its answers to 3,333 pings a second
// are CPU the server does not get. Each run also reports the server's CPU time over the load
// window (utime + stime from /proc).
//
//   npm run build && node bench/keep-alive.mjs [--bindings 100000] [--rate 1000] [--duration 20] [--rounds 3] [--pin]

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const { openSqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const { computeHa1 } = await import(join(ROOT, 'dist/auth/digest.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const N = Number(arg('bindings', '100000'));
const RATE = Number(arg('rate', '1000'));
const DURATION = Number(arg('duration', '20'));
const INTERVAL = Number(arg('interval', '30'));
const ROUNDS = Number(arg('rounds', '3'));
const PIN = process.argv.includes('--pin');
if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const CALLERS = 5000; // accounts the REGISTER load uses (their own, not the pinged ones)
const DOMAIN = 'bench.local';
const md5 = (s) => createHash('md5').update(s).digest('hex');

// The responder (its own process): every pinged binding's received address.
const responderProc = PIN
  ? spawn('taskset', ['-c', '1', process.execPath, join(ROOT, 'bench/ping-responder.mjs'), '127.0.0.2'], { stdio: ['pipe', 'pipe', 'inherit'] })
  : spawn(process.execPath, [join(ROOT, 'bench/ping-responder.mjs'), '127.0.0.2'], { stdio: ['pipe', 'pipe', 'inherit'] });
const replies = [];
let waiting = null;
let outBuf = '';
responderProc.stdout.setEncoding('utf8');
responderProc.stdout.on('data', (c) => {
  outBuf += c;
  let nl;
  while ((nl = outBuf.indexOf('\n')) >= 0) {
    const rec = JSON.parse(outBuf.slice(0, nl));
    outBuf = outBuf.slice(nl + 1);
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(rec);
    } else replies.push(rec);
  }
});
const nextReply = () => (replies.length > 0 ? Promise.resolve(replies.shift()) : new Promise((r) => (waiting = r)));
const responderPort = (await nextReply()).port;

/** A data dir with every account and the pinged bindings, as received on local port `port`. */
function prepare(port) {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-ka-bench-'));
  const dataDir = join(dir, 'data');
  const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  const accounts = [];
  for (let i = 1; i <= N; i++) accounts.push({ username: `p${i}`, domain: DOMAIN, customer: null, ha1Md5: '0'.repeat(32), ha1Sha256: '0'.repeat(64) });
  for (let i = 1; i <= CALLERS; i++) accounts.push({ username: `c${i}`, domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', `c${i}`, DOMAIN, `pw${i}`), ha1Sha256: computeHa1('SHA-256', `c${i}`, DOMAIN, `pw${i}`) });
  store.accounts.addMany(accounts);
  const now = Date.now();
  const ops = [];
  for (let i = 1; i <= N; i++) {
    ops.push({
      op: 'put-binding',
      binding: {
        id: i, aor: `sip:p${i}@${DOMAIN}`, username: `p${i}`, domain: DOMAIN,
        contact: `sip:p${i}@192.168.${(i >> 8) & 255}.${i & 255}:5060`, instance: null, regId: null, q: null,
        callId: `k${i}@bench`, cseq: 2, expires: 3600, expiresAt: now + 3_000_000 + (i % 600) * 1000,
        registeredAt: now - 1000, refreshedAt: now - 1000, sourceAddress: '127.0.0.2', sourcePort: responderPort,
        transport: 'UDP', localAddress: '127.0.0.1', localPort: port, userAgent: 'bench', path: [], nat: true,
      },
      lastRequest: Buffer.from(`REGISTER sip:${DOMAIN} SIP/2.0\r\n`.padEnd(500, 'x')),
      lastResponse: Buffer.from('SIP/2.0 200 OK\r\n'.padEnd(300, 'y')),
    });
  }
  store.bindings.applyNow(ops);
  store.close();
  return { dir, dataDir };
}

function startServer(dataDir, port, keepAlive) {
  const args = [CLI, 'serve', '--data-dir', dataDir, '--listen', `udp:127.0.0.1:${port}`, '--http', 'off', '--domain', DOMAIN,
    '--set', `nat.keepAlive.enabled=${keepAlive}`, '--set', `nat.keepAlive.interval=${INTERVAL}`];
  const profile = keepAlive && process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', join(tmpdir(), 'rollcall-ka-profile')] : [];
  const child = PIN
    ? spawn('taskset', ['-c', '1', process.execPath, ...profile, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [...profile, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line);
          if (rec.msg === 'Rollcall is ready') res(child);
          if (rec.level >= 50) console.error('server:', line);
        } catch {}
      }
    });
    child.on('exit', (code) => rej(new Error(`server exited ${code}`)));
  });
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** REGISTER → 401 → REGISTER with digest → 200 for `count` callers at `rate`/s; latencies in ms. */
async function load(port, rate, seconds) {
  const sock = createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const me = sock.address().port;
  const pending = new Map(); // Call-ID → { start, user, n }
  const lat = [];
  let failed = 0;
  const request = (user, n, callId, cseq, auth) =>
    [
      `REGISTER sip:${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${DOMAIN}>;tag=${n}`,
      `To: <sip:${user}@${DOMAIN}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${user}@127.0.0.1:${me}>`,
      'Expires: 3600',
      ...(auth ? [`Authorization: ${auth}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  sock.on('message', (buf) => {
    const text = buf.toString('latin1');
    const callId = /^Call-ID: *(.*)$/im.exec(text)?.[1]?.trim();
    const p = pending.get(callId);
    if (p === undefined) return;
    const status = Number(text.slice(8, 11));
    if (status === 401) {
      const nonce = /nonce="([^"]+)"/.exec(text)[1];
      const ha1 = md5(`${p.user}:${DOMAIN}:pw${p.n}`);
      const response = md5(`${ha1}:${nonce}:${md5(`REGISTER:sip:${DOMAIN}`)}`);
      const auth = `Digest username="${p.user}", realm="${DOMAIN}", nonce="${nonce}", uri="sip:${DOMAIN}", response="${response}", algorithm=MD5`;
      sock.send(request(p.user, p.n, callId, 2, auth), port, '127.0.0.1');
      return;
    }
    pending.delete(callId);
    if (status === 200) lat.push(performance.now() - p.start);
    else failed++;
  });
  const total = rate * seconds;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const n = (i % CALLERS) + 1;
    const user = `c${n}`;
    const callId = `${i}-${randomBytes(4).toString('hex')}@bench`;
    pending.set(callId, { start: performance.now(), user, n });
    sock.send(request(user, n, callId, 1, null), port, '127.0.0.1');
  }
  await new Promise((r) => setTimeout(r, 2000));
  failed += pending.size;
  sock.close();
  lat.sort((a, b) => a - b);
  const pct = (p) => Number(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]?.toFixed(2));
  return { ok: lat.length, failed, p50: pct(50), p95: pct(95), p99: pct(99), max: Number(lat.at(-1)?.toFixed(2)) };
}

/** An authenticated REGISTER of account c1 from the responder's address. */
async function trustResponder(port) {
  const sock = createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.2', r));
  const me = sock.address().port;
  const reg = (cseq, auth) =>
    [`REGISTER sip:${DOMAIN} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:${me};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`, 'Max-Forwards: 70',
      `From: <sip:c1@${DOMAIN}>;tag=t`, `To: <sip:c1@${DOMAIN}>`, 'Call-ID: trust@bench', `CSeq: ${cseq} REGISTER`, `Contact: <sip:c1@127.0.0.2:${me}>`, 'Expires: 60',
      ...(auth ? [`Authorization: ${auth}`] : []), 'Content-Length: 0', '', ''].join('\r\n');
  const answer = () => new Promise((r) => sock.once('message', (b) => r(b.toString('latin1'))));
  sock.send(reg(1, null), port, '127.0.0.1');
  const challenge = await answer();
  const nonce = /nonce="([^"]+)"/.exec(challenge)[1];
  const response = md5(`${md5(`c1:${DOMAIN}:pw1`)}:${nonce}:${md5(`REGISTER:sip:${DOMAIN}`)}`);
  sock.send(reg(2, `Digest username="c1", realm="${DOMAIN}", nonce="${nonce}", uri="sip:${DOMAIN}", response="${response}", algorithm=MD5`), port, '127.0.0.1');
  const ok = await answer();
  sock.close();
  if (!ok.startsWith('SIP/2.0 200')) throw new Error(`responder not trusted: ${ok.split('\r\n')[0]}`);
}

function freePort() {
  const s = createSocket('udp4');
  return new Promise((r) => s.bind(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => r(p));
  }));
}

const runs = { off: [], on: [] };
for (let round = 1; round <= ROUNDS; round++) for (const keepAlive of [false, true]) {
  // Pings leave from the socket a binding came in on: the bindings name the server's port.
  const port = await freePort();
  const { dir, dataDir } = prepare(port);
  const server = await startServer(dataDir, port, keepAlive);
  // Phones behind a NAT address authenticate from it, which makes it a trusted source (its
  // answers pass the rate limit for new sources): one REGISTER from the responder does that.
  await trustResponder(port);
  await new Promise((r) => setTimeout(r, 3000)); // let the first slots of the ring pass
  responderProc.stdin.write('mark\n');
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const r = await load(port, RATE, DURATION);
  const serverCpuPct = Number((((cpuSeconds(server.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100).toFixed(1));
  responderProc.stdin.write('report\n');
  const seen = await nextReply();
  const inWindow = seen.per100ms;
  const mean = inWindow.reduce((a, b) => a + b, 0) / Math.max(1, inWindow.length);
  const result = {
    ...r,
    serverCpuPct,
    pingsPerSecond: Math.round(seen.pings / seen.seconds),
    per100ms: keepAlive ? { mean: Number(mean.toFixed(1)), max: Math.max(0, ...inWindow), min: Math.min(...inWindow) } : null,
  };
  runs[keepAlive ? 'on' : 'off'].push(result);
  console.log(JSON.stringify({ round, keepAlive, ...result }));
  server.kill('SIGTERM');
  await new Promise((res) => server.on('exit', res));
  rmSync(dir, { recursive: true, force: true });
}
responderProc.stdin.write('exit\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (list) => ({
  p50: median(list.map((r) => r.p50)),
  p95: median(list.map((r) => r.p95)),
  p99: median(list.map((r) => r.p99)),
  failed: list.reduce((a, r) => a + r.failed, 0),
  cpu: median(list.map((r) => r.serverCpuPct)),
});
const off = summary(runs.off);
const on = summary(runs.on);
const pings = runs.on.map((r) => r.per100ms);
const pct = (a, b) => `${(((b - a) / a) * 100).toFixed(1)} %`;
console.log(`median of ${ROUNDS} rounds — REGISTER latency p50 ${off.p50} → ${on.p50} ms (${pct(off.p50, on.p50)}), p95 ${off.p95} → ${on.p95} ms (${pct(off.p95, on.p95)}), ` +
  `p99 ${off.p99} → ${on.p99} ms; failed ${off.failed} / ${on.failed}; server CPU ${off.cpu} → ${on.cpu} %; pings ${median(runs.on.map((r) => r.pingsPerSecond))}/s, ` +
  `per 100 ms mean ${median(pings.map((p) => p.mean))}, largest ${Math.max(...pings.map((p) => p.max))}`);
