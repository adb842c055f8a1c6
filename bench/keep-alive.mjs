#!/usr/bin/env node
// Keep-alive benchmark (issue 5): 100,000 NATed bindings restored from the store, all of them
// "behind" one responder (bench/ping-responder.mjs, its own process) that answers every
// OPTIONS with 200 OK. Two runs on a fresh server each — keep-alive off, then on (30 s
// interval) — with the same REGISTER load (REGISTER → 401 → REGISTER with digest → 200,
// 5,000 accounts, at a fixed rate), timed end to end by this process. The first --warmup
// seconds of load (default 5) are not counted: every account's first REGISTER and a cold JIT
// are a start-up cost of any server, and with them the first seconds of a run measured the
// warm-up, not the steady state. Reports REGISTER latency (p50/p95/p99) of both runs, server
// CPU (utime + stime of all its threads, from /proc) and per-CPU busy and steal over the
// window, and for the run with keep-alive how the pings arrived: per second and per 100 ms
// (the largest 100 ms bucket against the mean says whether they came in bursts).
//
// With --rounds N (default 3) the pair runs N times, off and on alternating, and the summary
// takes the median of each figure per mode: on a shared machine one run's p95 moves by more
// than the effect being measured, and alternating puts both modes through the same noise. A
// round where the hypervisor stole more than --max-steal % (default 2) of a CPU in either run
// is discarded and run again (at most N more rounds), and the summary says how many.
//
// With --pin this process (the REGISTER load and its clock) runs on CPU 0 and the server
// alone on CPU 1 (taskset). The responder stands in for the phones, which in real life are
// other machines; on a 2-core guest it has to share a core with something. It runs at nice
// 19 on CPU 0 (--responder-cpu 1: on the server's), so that whichever process it shares with
// gets the CPU when it wants it, and it is bench/ping-responder.c when the machine has a C
// compiler (recvmmsg/sendmmsg: ~4 % of a CPU for 3,333 answers a second, most of it the
// kernel delivering them over loopback, against ~9–11 % for bench/ping-responder.mjs, which
// --responder node picks). What still shows is loopback:
// the delivery of every ping to the responder is paid in the server's sendmsg.
//
// --trace-gc adds the server's main-thread collections in the window (count, pause time);
// --gc-log PREFIX keeps those lines (with --server-flag=--trace-gc-nvp, their phases);
// --timeline PREFIX writes every measured REGISTER's start and latency; --server-flag=F passes
// a Node/V8 flag to the server (e.g. --cpu-prof, --inspect); --server-set=KEY=VALUE a setting
// (e.g. store.synchronous=normal); --modes on|off runs one mode. Server CPU is given for the
// whole process and for its main thread (the event loop every REGISTER and ping goes through).
//
// --toggle SECONDS measures the other way: one server per round, keep-alive switched on and
// off through the API every SECONDS (--settle ms after each switch not counted, default half
// of SECONDS: a switch re-tracks every binding, and what that leaves behind, garbage above
// all, lands in the seconds after it in both phases alike, which dilutes the difference: the
// same build read -1.6 to +9.3 % at p95 with 500 ms, +7.9 to +26.2 % with 2500; RESULTS,
// fifth pass), so both modes
// share one process, its heap and JIT, and the same minutes of the guest. Fresh servers per
// mode differ by more than the effect: two servers both with keep-alive off, run as a pair,
// gave p95 +4, −13, +15 and +10 % (RESULTS, fourth pass). Rounds with steal are discarded as
// with fresh servers, and besides the pooled figures the median round's ratios are printed.
// Each toggled round prints its latencies as histograms (bench/latency-histogram.mjs), and the
// run ends with every kept REGISTER pooled per mode: p50, p95 and p99 on against off, each with
// a 95 % interval from resampling whole rounds. That interval is what says whether a run was
// long enough: one round's p95 moves by ±40 % on a 2-core guest, and 30 rounds of
// --duration 60 (~450,000 REGISTERs per mode at 1,000/s, ~40 minutes) narrowed the p95 ratio
// to ±9 % (RESULTS, eighth pass). bench/keep-alive-summary.mjs pools many runs' rounds alike.
// The server's data directory is made under the system's temporary directory: TMPDIR=/dev/shm
// puts it on tmpfs, which takes the disk's fsync out of both modes (p95 5.55 → 4.20 ms at
// 1,000/s there) and leaves the CPU, which is what the keep-alive competes for.
// --sched DIR (with --toggle) records the first round's measured window with `perf sched
// record` and leaves in DIR what bench/sched-waits.mjs needs to say which threads waited for a
// CPU, and behind which (RESULTS, eleventh pass).
// --responder-pace MS makes the C responder read every MS ms instead of being woken by each
// ping (a wake-up the server's send pays for on loopback; the responder's send pays the
// server's in return, so loopback does not overcharge the server by much: RESULTS, sixth
// pass).
// --responder-mode silent|deaf takes the answers, then the phones' reading, out of the
// measurement: the C responder reads every ping and answers none, or reads none (the kernel
// drops each ping at its full socket, waking no one), to tell the server's cost of sending
// from the rest (RESULTS, twelfth pass). --responder-idle runs it at SCHED_IDLE, not nice 19.
//
//   npm run build && node bench/keep-alive.mjs [--bindings 100000] [--rate 1000] [--duration 20] [--warmup 5]
//     [--rounds 3] [--max-steal 2] [--pin] [--responder-cpu 0|1] [--responder-mode answer|silent|deaf] [--responder-idle] [--trace-gc] [--toggle 5 --settle 2500] [--sched DIR]
//
// Issue 5's floor, as measured in RESULTS (eighth to thirteenth passes; 20 rounds at the least):
//   node bench/keep-alive.mjs --toggle 5 --settle 2500 --rounds 30 --duration 60

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { histogram, pooledRatio } from './latency-histogram.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const { openSqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const { computeHa1 } = await import(join(ROOT, 'dist/auth/digest.js'));
const { hashPassword } = await import(join(ROOT, 'dist/auth/password-hash.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const N = Number(arg('bindings', '100000'));
const RATE = Number(arg('rate', '1000'));
const DURATION = Number(arg('duration', '20'));
const WARMUP = Number(arg('warmup', '5'));
const MAX_STEAL = Number(arg('max-steal', '2'));
/** --gc-log PREFIX: the server's non-JSON output lines (GC traces) in the window, to PREFIX-MODE.log. */
const GC_LOG = arg('gc-log', null);
const INTERVAL = Number(arg('interval', '30'));
const ROUNDS = Number(arg('rounds', '3'));
const PIN = process.argv.includes('--pin');
/** With --pin, the CPU the responder runs on: 0 (the load generator's, the default) or 1 (the server's). */
const RESPONDER_CPU = arg('responder-cpu', '0');
/** --responder-pace MS: the C responder takes its datagrams every MS ms rather than being woken by each. */
const RESPONDER_PACE = Number(arg('responder-pace', '0'));
/**
 * --responder-mode answer|silent|deaf (the C responder): answer every ping (the default), read
 * them and answer none, or read none (bench/ping-responder.c). Without answers every ping is a
 * miss, so nat.keepAlive.maxMisses is raised out of reach: no endpoint is flagged unreachable.
 */
const RESPONDER_MODE = arg('responder-mode', 'answer');
if (!['answer', 'silent', 'deaf'].includes(RESPONDER_MODE)) throw new Error('--responder-mode: answer, silent or deaf');
const TRACE_GC = process.argv.includes('--trace-gc');
/** --server-flag F (repeatable): a Node/V8 flag for the server, e.g. --server-flag=--max-semi-space-size=32. */
const SERVER_FLAGS = process.argv.filter((a) => a.startsWith('--server-flag=')).map((a) => a.slice('--server-flag='.length));
/** --server-set=KEY=VALUE (repeatable): a config setting for the server, e.g. --server-set=store.synchronous=normal. */
const SERVER_SETS = process.argv.filter((a) => a.startsWith('--server-set=')).flatMap((a) => ['--set', a.slice('--server-set='.length)]);
if (RESPONDER_MODE !== 'answer') SERVER_SETS.push('--set', 'nat.keepAlive.maxMisses=1000000000');
/** --modes on or --modes off: only one of the pair (for profiling one mode). */
const MODES = arg('modes', 'off,on').split(',').map((m) => m === 'on');
/** --timeline PREFIX: every measured REGISTER's start and latency to PREFIX-ROUND-MODE.json. */
const TIMELINE = arg('timeline', null);
/**
 * --toggle SECONDS: one server per round, keep-alive switched on and off through the API
 * (PATCH /api/settings) every SECONDS; each REGISTER counts for the mode it started in, except
 * those that started within --settle ms (default: half a phase) of a switch.
 */
const TOGGLE = Number(arg('toggle', '0'));
/** --sched DIR: perf sched record of the first toggled round, for bench/sched-waits.mjs. */
const SCHED_DIR = arg('sched', null);
/** performance.now() plus this is CLOCK_MONOTONIC in ms, the clock perf sched records with (-k monotonic). */
const MONO_OFFSET = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const SETTLE = Number(arg('settle', String(TOGGLE * 500)));
const timeline = TIMELINE === null && TOGGLE === 0 ? null : [];
/**
 * With --trace-gc, the server's main-thread collections in the measured window: each pause
 * holds up every REGISTER that arrives during it. (The commit worker's heap is a few MB; the
 * main thread's, with 100,000 bindings, hundreds — that tells their lines apart.)
 */
const gc = { measuring: false, scavenges: 0, scavengeMs: 0, longestScavengeMs: 0, markCompacts: 0, markCompactMs: 0 };
function gcLine(line) {
  const m = /(Scavenge|Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \//.exec(line);
  if (!gc.measuring || m === null || Number(m[2]) < 50) return;
  const ms = Number(m[3]);
  if (m[1] === 'Scavenge') {
    gc.scavenges++;
    gc.scavengeMs += ms;
    gc.longestScavengeMs = Math.max(gc.longestScavengeMs, ms);
  } else {
    gc.markCompacts++;
    gc.markCompactMs += ms;
  }
}
const CALLERS = 5000; // accounts the REGISTER load uses (their own, not the pinged ones)
const DOMAIN = 'bench.local';
const md5 = (s) => createHash('md5').update(s).digest('hex');
if (process.argv.includes('--prepare-into')) {
  await writeStore(arg('prepare-into'), Number(arg('port')), Number(arg('responder-port')), arg('token', null));
  process.exit(0);
}
if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

// The responder (its own process): every pinged binding's received address.
/**
 * The responder: bench/ping-responder.c built with the machine's cc (batched system calls,
 * ~13 µs of CPU per answer with the loopback delivery), else — or with --responder node —
 * bench/ping-responder.mjs (~30 µs).
 */
function responderCommand() {
  if (arg('responder', 'c') !== 'node') {
    const built = mkdtempSync(join(tmpdir(), 'rollcall-responder-'));
    process.on('exit', () => rmSync(built, { recursive: true, force: true }));
    const exe = join(built, 'ping-responder');
    try {
      execFileSync('cc', ['-O2', '-o', exe, join(ROOT, 'bench/ping-responder.c')], { stdio: 'ignore' });
      return { kind: RESPONDER_MODE === 'answer' ? 'c' : `c (${RESPONDER_MODE})`, args: [exe, '127.0.0.2', String(RESPONDER_PACE), RESPONDER_MODE] };
    } catch {
      console.log('no C compiler (cc): the responder is bench/ping-responder.mjs');
    }
  }
  if (RESPONDER_MODE !== 'answer') throw new Error(`--responder-mode ${RESPONDER_MODE} needs the C responder (a C compiler, without --responder node)`);
  return { kind: 'node', args: [process.execPath, join(ROOT, 'bench/ping-responder.mjs'), '127.0.0.2'] };
}
const responder = responderCommand();
const responderArgs = responder.args;
// The responder stands in for phones on other machines: at the lowest priority (nice 19), so
// that on the core it shares the other process gets the CPU whenever it wants it; with
// --responder-idle at SCHED_IDLE (chrt --idle), below every ordinary thread.
const RESPONDER_IDLE = process.argv.includes('--responder-idle');
const lowest = RESPONDER_IDLE ? ['chrt', '--idle', '0'] : ['nice', '-n', '19'];
const responderProc = PIN
  ? spawn('taskset', ['-c', RESPONDER_CPU, ...lowest, ...responderArgs], { stdio: ['pipe', 'pipe', 'inherit'] })
  : spawn(lowest[0], [...lowest.slice(1), ...responderArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
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
const { port: responderPort, pid: responderPid } = await nextReply();

/** Data dirs not removed yet: removed when this process exits, a run that threw included. */
const dataDirs = new Set();
process.on('exit', () => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A data dir with every account and the pinged bindings, as received on local port `port`.
 * Made in a child process (this file with --prepare-into): building 100,000 accounts and
 * bindings here left this process, which times the REGISTERs, with a 100 MB heap whose
 * scavenges took 8–15 ms — stalls that the latencies it measured included.
 */
function prepare(port, token = null) {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-ka-bench-'));
  // Removed by the round when it ends; this is for a run that fails (a server that died)
  // before it does, which left ~100 MB behind on tmpfs.
  dataDirs.add(dir);
  const dataDir = join(dir, 'data');
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare-into', dataDir, '--port', String(port), '--responder-port', String(responderPort), '--bindings', String(N),
    ...(token === null ? [] : ['--token', token])], { stdio: 'inherit' });
  return { dir, dataDir };
}

async function writeStore(dataDir, port, responderPort, token) {
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
  if (token !== null) {
    // --toggle switches keep-alive through the API: an admin and a token of its own.
    const user = store.users.add({ name: 'bench', role: 'admin', passwordHash: await hashPassword(randomBytes(24).toString('base64url')) });
    store.tokens.add({ userId: user.id, name: 'bench', tokenHash: createHash('sha256').update(token).digest('hex') });
  }
  store.close();
}

function startServer(dataDir, port, keepAlive, http = 'off') {
  const args = [CLI, 'serve', '--data-dir', dataDir, '--listen', `udp:127.0.0.1:${port}`, '--http', http, '--domain', DOMAIN,
    '--set', `nat.keepAlive.enabled=${keepAlive}`, '--set', `nat.keepAlive.interval=${INTERVAL}`, ...SERVER_SETS];
  const profile = keepAlive && process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', join(tmpdir(), 'rollcall-ka-profile')] : [];
  if (TRACE_GC) profile.push('--trace-gc');
  profile.push(...SERVER_FLAGS);
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
        } catch {
          gcLine(line);
          if (GC_LOG !== null && gc.measuring) appendFileSync(`${GC_LOG}-${keepAlive ? 'on' : 'off'}.log`, `${line}\n`);
        }
      }
    });
    child.on('exit', (code) => rej(new Error(`server exited ${code}`)));
  });
}

/** Busy and total jiffies of each CPU so far (/proc/stat). */
function cpuTimes() {
  return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).map((l) => {
    const v = l.split(/\s+/).slice(1).map(Number);
    const idle = v[3] + v[4];
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total, steal: v[7] ?? 0 };
  });
}

/** Busy % of each CPU (and steal %) between two cpuTimes() readings. */
function cpuBusy(a, b) {
  return b.map((t, i) => {
    const d = Math.max(1, t.total - a[i].total);
    return { busy: Number((((t.busy - a[i].busy) / d) * 100).toFixed(1)), steal: Number((((t.steal - a[i].steal) / d) * 100).toFixed(1)) };
  });
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid, tid = null) {
  const f = readFileSync(tid === null ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * REGISTER → 401 → REGISTER with digest → 200 at `rate`/s for `warmup` + `seconds` seconds;
 * latencies (ms) and failures of the REGISTERs started after the warm-up only. `window` is
 * told when the measured part starts and when its last REGISTER is sent.
 */
async function load(port, rate, warmup, seconds, window) {
  // A buffer as large as the server's: the default (~208 KB, charged per datagram at far more
  // than its size) overflowed when this process stalled at 1,000/s, and the 401s and 200s
  // dropped were counted as failed REGISTERs (RESULTS, tenth pass).
  const sock = createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
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
    if (!p.measured) return;
    if (status === 200) {
      lat.push(performance.now() - p.start);
      timeline?.push([p.start, performance.now() - p.start]);
    } else failed++;
  });
  const first = rate * warmup;
  const total = first + rate * seconds;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    if (i === first) window.start();
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const n = (i % CALLERS) + 1;
    const user = `c${n}`;
    const callId = `${i}-${randomBytes(4).toString('hex')}@bench`;
    pending.set(callId, { start: performance.now(), user, n, measured: i >= first });
    sock.send(request(user, n, callId, 1, null), port, '127.0.0.1');
  }
  window.end();
  await new Promise((r) => setTimeout(r, 2000));
  for (const p of pending.values()) if (p.measured) failed++;
  sock.close();
  lat.sort((a, b) => a - b);
  const pct = (p) => percentile(lat, p);
  return { ok: lat.length, failed, p50: pct(50), p95: pct(95), p99: pct(99), max: Number(lat.at(-1)?.toFixed(2)), latencies: lat };
}

/** The p-th percentile of an ascending list, in ms to two decimals (the nearest-rank value). */
function percentile(sorted, p) {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]?.toFixed(2));
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
  const answer = () =>
    new Promise((r, j) => {
      const t = setTimeout(() => j(new Error('the server did not answer the responder address\'s REGISTER within 5 s')), 5000);
      sock.once('message', (b) => (clearTimeout(t), r(b.toString('latin1'))));
    });
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

/** One run on a fresh server: the load, timed, with the figures of its window. */
async function runOnce(round, keepAlive) {
  // Pings leave from the socket a binding came in on: the bindings name the server's port.
  const port = await freePort();
  const { dir, dataDir } = prepare(port);
  const server = await startServer(dataDir, port, keepAlive);
  // Phones behind a NAT address authenticate from it, which makes it a trusted source (its
  // answers pass the rate limit for new sources): one REGISTER from the responder does that.
  await trustResponder(port);
  // The measured window starts after a warm-up at the same rate: the first REGISTER of each
  // account and a cold JIT are start-up costs of any server, not steady-state latency.
  // The server's main thread (its task id is the pid) is the event loop every REGISTER and
  // every ping goes through; the process figure also has the commit worker and GC helpers.
  let cpu0, main0, rcpu0, cpus0, t0, serverCpuPct, mainThreadCpuPct, responderCpuPct, cpus;
  const r = await load(port, RATE, WARMUP, DURATION, {
    start() {
      responderProc.stdin.write('mark\n');
      cpu0 = cpuSeconds(server.pid);
      main0 = cpuSeconds(server.pid, server.pid);
      rcpu0 = cpuSeconds(responderPid);
      cpus0 = cpuTimes();
      t0 = performance.now();
      Object.assign(gc, { measuring: true, scavenges: 0, scavengeMs: 0, longestScavengeMs: 0, markCompacts: 0, markCompactMs: 0 });
    },
    end() {
      gc.measuring = false;
      const seconds = (performance.now() - t0) / 1000;
      serverCpuPct = Number((((cpuSeconds(server.pid) - cpu0) / seconds) * 100).toFixed(1));
      mainThreadCpuPct = Number((((cpuSeconds(server.pid, server.pid) - main0) / seconds) * 100).toFixed(1));
      responderCpuPct = Number((((cpuSeconds(responderPid) - rcpu0) / seconds) * 100).toFixed(1));
      cpus = cpuBusy(cpus0, cpuTimes());
      responderProc.stdin.write('report\n');
    },
  });
  const seen = await nextReply();
  const inWindow = seen.per100ms;
  const mean = inWindow.reduce((a, b) => a + b, 0) / Math.max(1, inWindow.length);
  const result = {
    ...r,
    serverCpuPct,
    mainThreadCpuPct,
    responderCpuPct,
    cpuBusyPct: cpus.map((c) => c.busy),
    stealPct: Math.max(...cpus.map((c) => c.steal)),
    pingsPerSecond: Math.round(seen.pings / seen.seconds),
    ...(TRACE_GC ? { gc: { scavenges: gc.scavenges, scavengeMs: Math.round(gc.scavengeMs), longestScavengeMs: gc.longestScavengeMs, markCompacts: gc.markCompacts, markCompactMs: Math.round(gc.markCompactMs) } } : {}),
    per100ms: keepAlive ? { mean: Number(mean.toFixed(1)), max: Math.max(0, ...inWindow), min: Math.min(...inWindow) } : null,
  };
  const { latencies, ...shown } = result;
  console.log(JSON.stringify({ round, keepAlive, ...shown }));
  if (timeline !== null) {
    writeFileSync(`${TIMELINE}-${round}-${keepAlive ? 'on' : 'off'}.json`, JSON.stringify({ t0, timeline }));
    timeline.length = 0;
  }
  server.kill('SIGTERM');
  await new Promise((res) => server.on('exit', res));
  rmSync(dir, { recursive: true, force: true });
  dataDirs.delete(dir);
  return result;
}

/**
 * One server, keep-alive switched every TOGGLE seconds (on first): the modes share the
 * process, its heap and JIT, and the same minutes of the guest, seconds apart. Fresh servers
 * per mode (the default) differ from each other by more than the effect measured.
 */
async function runToggled(round) {
  const port = await freePort();
  const httpPort = await freePort();
  const token = `rc_${randomBytes(32).toString('base64url')}`;
  const { dir, dataDir } = prepare(port, token);
  const server = await startServer(dataDir, port, true, `127.0.0.1:${httpPort}`);
  await trustResponder(port);
  const switches = []; // { at, on, main, cpu, cpus }: performance.now(), the server's CPU seconds and /proc/stat when switched
  let timer = null;
  let on = true;
  const mark = (state) => switches.push({ at: performance.now(), on: state, main: cpuSeconds(server.pid, server.pid), cpu: cpuSeconds(server.pid), cpus: cpuTimes() });
  const sched = SCHED_DIR !== null && round === 1 ? { dir: SCHED_DIR, perf: null, done: null } : null;
  const r = await load(port, RATE, WARMUP, DURATION, {
    start() {
      if (sched !== null) {
        mkdirSync(sched.dir, { recursive: true });
        sched.perf = spawn('perf', ['sched', 'record', '-k', 'monotonic', '-o', join(sched.dir, 'sched.data'), '--', 'sleep', String(DURATION)], { stdio: 'ignore' });
        sched.done = new Promise((res) => {
          sched.perf.on('exit', res);
          sched.perf.on('error', (err) => res(console.log(`--sched: perf sched record did not start (${err.message}); install linux-perf`)));
        });
      }
      responderProc.stdin.write('mark\n');
      mark(true);
      timer = setInterval(async () => {
        on = !on;
        mark(on);
        const res = await fetch(`http://127.0.0.1:${httpPort}/api/settings`, {
          method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ 'nat.keepAlive.enabled': on }),
        });
        if (!res.ok) throw new Error(`PATCH /api/settings: ${res.status} ${await res.text()}`);
      }, TOGGLE * 1000);
    },
    end() {
      clearInterval(timer);
      mark(on);
      responderProc.stdin.write('report\n');
    },
  });
  const seen = await nextReply();
  server.kill('SIGTERM');
  await new Promise((res) => server.on('exit', res));
  rmSync(dir, { recursive: true, force: true });
  dataDirs.delete(dir);
  if (sched !== null) {
    await sched.done;
    const mono = (at) => Number((at + MONO_OFFSET).toFixed(3));
    writeFileSync(join(sched.dir, 'run.json'), JSON.stringify({
      serverPid: server.pid, benchPid: process.pid, settleMs: SETTLE,
      switches: switches.map((s) => ({ mono: mono(s.at), on: s.on })),
      timeline: timeline.map(([start, ms]) => [mono(start), Number(ms.toFixed(3))]),
    }));
    console.log(`perf sched record of round 1 in ${sched.dir}: node bench/sched-waits.mjs ${sched.dir}`);
  }
  // Each REGISTER to the phase it started in; none from the first SETTLE ms of a phase.
  const lat = { on: [], off: [] };
  const cpu = { on: { main: 0, all: 0, s: 0, steal: 0, total: 0 }, off: { main: 0, all: 0, s: 0, steal: 0, total: 0 } };
  for (let i = 0; i + 1 < switches.length; i++) {
    const a = switches[i], b = switches[i + 1];
    const mode = a.on ? 'on' : 'off';
    cpu[mode].main += b.main - a.main;
    cpu[mode].all += b.cpu - a.cpu;
    cpu[mode].s += (b.at - a.at) / 1000;
    // Steal of the CPU that had the most of it, over the phase.
    const worst = b.cpus.reduce((w, t, c) => (t.steal - a.cpus[c].steal > w.steal ? { steal: t.steal - a.cpus[c].steal, total: t.total - a.cpus[c].total } : w), { steal: 0, total: 1 });
    cpu[mode].steal += worst.steal;
    cpu[mode].total += worst.total;
  }
  let k = 0;
  for (const [start, ms] of timeline.sort((x, y) => x[0] - y[0])) {
    while (k + 1 < switches.length && switches[k + 1].at <= start) k++;
    if (start - switches[k].at < SETTLE) continue;
    lat[switches[k].on ? 'on' : 'off'].push(ms);
  }
  timeline.length = 0;
  const out = {};
  for (const mode of ['off', 'on']) {
    const l = lat[mode].sort((x, y) => x - y);
    const pct = (p) => percentile(l, p);
    out[mode] = { ok: l.length, failed: r.failed, p50: pct(50), p95: pct(95), p99: pct(99), max: Number(l.at(-1).toFixed(2)), latencies: l,
      serverCpuPct: Number(((cpu[mode].all / cpu[mode].s) * 100).toFixed(1)), mainThreadCpuPct: Number(((cpu[mode].main / cpu[mode].s) * 100).toFixed(1)),
      stealPct: Number(((cpu[mode].steal / Math.max(1, cpu[mode].total)) * 100).toFixed(1)) };
  }
  const { latencies: _a, ...offShown } = out.off;
  const { latencies: _b, ...onShown } = out.on;
  // The round's latencies as histograms: bench/keep-alive-summary.mjs pools rounds of many runs.
  const hist = { off: histogram(out.off.latencies), on: histogram(out.on.latencies) };
  console.log(JSON.stringify({ round, toggle: TOGGLE, settleMs: SETTLE, switches: switches.length - 1, pings: seen.pings, off: offShown, on: onShown, hist }));
  return { ...out, hist };
}

if (TOGGLE > 0) {
  // As with fresh servers (below): a round with more than --max-steal % steal in either mode
  // is discarded and run again, at most ROUNDS more times.
  const runs = { off: [], on: [] };
  const hists = [];
  let discarded = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const out = await runToggled(round);
    const steal = Math.max(out.off.stealPct, out.on.stealPct);
    if (steal > MAX_STEAL && discarded < ROUNDS) {
      discarded++;
      console.log(`round ${round} discarded: ${steal} % steal (over --max-steal ${MAX_STEAL}); run again`);
      round--;
      continue;
    }
    runs.off.push(out.off);
    runs.on.push(out.on);
    hists.push(out.hist);
  }
  responderProc.stdin.write('exit\n');
  const all = (list) => list.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const [aoff, aon] = [all(runs.off), all(runs.on)];
  const q = percentile;
  const pct = (a, b) => `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)} %`;
  const ratio = (key) => runs.on.map((r, i) => pct(runs.off[i][key], r[key])).join(', ');
  console.log(`toggled every ${TOGGLE} s, ${ROUNDS} rounds (${discarded} discarded for steal), responder ${responder.kind}, ${PIN ? 'pinned' : 'unpinned'} — pooled (${aoff.length} off, ${aon.length} on): ` +
    `p50 ${q(aoff, 50)} → ${q(aon, 50)} ms (${pct(q(aoff, 50), q(aon, 50))}), p95 ${q(aoff, 95)} → ${q(aon, 95)} ms (${pct(q(aoff, 95), q(aon, 95))}), p99 ${q(aoff, 99)} → ${q(aon, 99)} ms (${pct(q(aoff, 99), q(aon, 99))})`);
  console.log(`per round, on against off — p50 ${ratio('p50')}; p95 ${ratio('p95')}; main thread ${runs.on.map((r, i) => (r.mainThreadCpuPct - runs.off[i].mainThreadCpuPct).toFixed(1)).join(', ')} points`);
  // The median round: one round's p95 moves by more than the effect, so besides the pooled
  // figure the middle of the per-round ratios (RESULTS, sixth pass).
  const mid = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
  const change = (key) => mid(runs.on.map((r, i) => ((r[key] - runs.off[i][key]) / runs.off[i][key]) * 100));
  const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
  console.log(`median round — p50 ${signed(change('p50'))}, p95 ${signed(change('p95'))}; steal up to ${Math.max(...runs.off.concat(runs.on).map((r) => r.stealPct))} %`);
  // The pooled ratios again, with how far they can move: a 95 % interval from resampling rounds.
  const interval = (p) => {
    const r = pooledRatio(hists, p);
    return `p${p} ${signed(r.ratio * 100)} (${signed(r.low * 100)} to ${signed(r.high * 100)})`;
  };
  console.log(`pooled on against off, 95 % interval over rounds — ${interval(50)}, ${interval(95)}, ${interval(99)}`);
  process.exit(0);
}

// A guest's hypervisor steals CPU in bursts (seen here: 0 % for minutes, then 10–35 %); a run
// during one measures the neighbours, not Rollcall. A round where either run saw more steal
// than --max-steal (%) is discarded, said so, and run again — at most ROUNDS more times.
const runs = { off: [], on: [] };
let discarded = 0;
for (let round = 1; round <= ROUNDS; round++) {
  const pair = [];
  for (const keepAlive of MODES) pair.push([keepAlive, await runOnce(round, keepAlive)]);
  const steal = Math.max(...pair.map(([, r]) => r.stealPct));
  if (steal > MAX_STEAL && discarded < ROUNDS) {
    discarded++;
    console.log(`round ${round} discarded: ${steal} % steal (over --max-steal ${MAX_STEAL}); run again`);
    round--;
    continue;
  }
  for (const [keepAlive, r] of pair) runs[keepAlive ? 'on' : 'off'].push(r);
}
responderProc.stdin.write('exit\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2).toFixed(2));
};
const summary = (list) => ({
  p50: median(list.map((r) => r.p50)),
  p95: median(list.map((r) => r.p95)),
  p99: median(list.map((r) => r.p99)),
  failed: list.reduce((a, r) => a + r.failed, 0),
  cpu: median(list.map((r) => r.serverCpuPct)),
  mainCpu: median(list.map((r) => r.mainThreadCpuPct)),
  gcMs: TRACE_GC ? median(list.map((r) => r.gc.scavengeMs + r.gc.markCompactMs)) : null,
});
const off = summary(runs.off);
const on = summary(runs.on);
const pings = runs.on.map((r) => r.per100ms);
const pct = (a, b) => `${(((b - a) / a) * 100).toFixed(1)} %`;
if (!MODES.includes(false) || !MODES.includes(true)) process.exit(0);
console.log(`responder ${responder.kind}, ${PIN ? 'pinned' : 'unpinned'}; median of ${ROUNDS} rounds (${discarded} discarded for steal) — REGISTER latency p50 ${off.p50} → ${on.p50} ms (${pct(off.p50, on.p50)}), p95 ${off.p95} → ${on.p95} ms (${pct(off.p95, on.p95)}), ` +
  `p99 ${off.p99} → ${on.p99} ms; failed ${off.failed} / ${on.failed}; server CPU ${off.cpu} → ${on.cpu} % (main thread ${off.mainCpu} → ${on.mainCpu} %); ${TRACE_GC ? `GC pauses ${off.gcMs} → ${on.gcMs} ms; ` : ''}pings ${median(runs.on.map((r) => r.pingsPerSecond))}/s, ` +
  `per 100 ms mean ${median(pings.map((p) => p.mean))}, largest ${Math.max(...pings.map((p) => p.max))}`);
// Two more views of the same runs, which a reader should weigh against the medians above:
// each round's on/off ratio (the pair shared its minutes of the guest), and every measured
// REGISTER of all kept rounds pooled per mode.
const ratios = (key) => runs.on.map((r, i) => r[key] / runs.off[i][key] - 1);
const middle = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pctOf = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const pooled = (list) => {
  const all = list.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return (p) => percentile(all, p);
};
const [poff, pon] = [pooled(runs.off), pooled(runs.on)];
console.log(`per round, on against off — p50 ${ratios('p50').map(pctOf).join(', ')} (median ${pctOf(middle(ratios('p50')))}); ` +
  `p95 ${ratios('p95').map(pctOf).join(', ')} (median ${pctOf(middle(ratios('p95')))}); ` +
  `main-thread CPU ${runs.on.map((r, i) => (r.mainThreadCpuPct - runs.off[i].mainThreadCpuPct).toFixed(1)).join(', ')} points`);
console.log(`pooled (${runs.off.length * RATE * DURATION} REGISTERs per mode) — p50 ${poff(50)} → ${pon(50)} ms (${pct(poff(50), pon(50))}), ` +
  `p95 ${poff(95)} → ${pon(95)} ms (${pct(poff(95), pon(95))}), p99 ${poff(99)} → ${pon(99)} ms (${pct(poff(99), pon(99))})`);
