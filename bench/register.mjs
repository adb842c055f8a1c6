#!/usr/bin/env node
// Registration benchmark: starts Rollcall (built, durable commits on), drives it with SIPp
// (REGISTER -> 401 -> REGISTER with digest -> 200, distinct accounts) at increasing rates
// with one and two SIPp processes (a fresh server for each), and prints, per rate: failures,
// retransmissions, response-time percentiles, server CPU per registration (/proc/PID/stat,
// all threads, and split by thread), RSS, UDP receive-buffer drops (/proc/net/snmp), the
// hypervisor's steal time (/proc/stat) and store commits per second. Then a memory phase:
// RSS growth per binding with 100,000 bindings, sampled until V8 has given back the
// storm's dead transactions. Loopback only; every run is bounded in count and time.
//
//   npm run bench                       full run (about 15 minutes)
//   npm run bench -- --quick            a short smoke run
//   npm run bench -- --rates 8000,12000 --procs 2 --duration 10 --no-memory
//   npm run bench -- --memory-only [--settle 150] [--trace-memory]
//   npm run bench -- --node-flags '--trace-gc'   flags for the server's node

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const SCENARIO = join(ROOT, 'bench/sipp/register.xml');
const DOMAIN = 'bench.local';
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const quick = process.argv.includes('--quick');
const rates = arg('rates', quick ? '4000,8000' : '4000,8000,10000,11000,12000,13000,14000,16000').split(',').map(Number);
const procsList = arg('procs', quick ? '1' : '1,2').split(',').map(Number);
const duration = Number(arg('duration', quick ? '4' : '10'));
const accountsN = Number(arg('accounts', '10000'));
const memoryN = process.argv.includes('--no-memory') ? 0 : Number(arg('memory', quick ? '20000' : '100000'));
const extraServe = (arg('serve-args', '') || '').split(' ').filter(Boolean);
const settle = Number(arg('settle', quick ? '40' : '150'));
const traceMemory = process.argv.includes('--trace-memory');
const nodeFlags = (arg('node-flags', '') || '').split(' ').filter(Boolean);

if (spawnSync('sh', ['-c', 'command -v sipp']).status !== 0) {
  console.error('bench: sipp is not installed (apt-get install sip-tester)');
  process.exit(2);
}

function run(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rollcall ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function prepare(n) {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-bench-'));
  const csv = ['username,domain,password,customer'];
  for (let i = 1; i <= n; i++) csv.push(`b${i},${DOMAIN},pw${i},bench`);
  writeFileSync(join(dir, 'accounts.csv'), csv.join('\n') + '\n');
  run(['accounts', 'import', join(dir, 'accounts.csv'), '--data-dir', join(dir, 'data')]);
  return dir;
}

/** SIPp injection files: accounts split over `parts` files (each process its own accounts). */
function injection(dir, n, parts) {
  const files = [];
  for (let p = 0; p < parts; p++) {
    const lines = ['SEQUENTIAL'];
    for (let i = 1 + p; i <= n; i += parts) lines.push(`b${i};pw${i};${DOMAIN}`);
    const f = join(dir, `inj-${parts}-${p}.csv`);
    writeFileSync(f, lines.join('\n') + '\n');
    files.push(f);
  }
  return files;
}

function startServer(dir) {
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'serve', '--data-dir', join(dir, 'data'), '--listen', 'udp:127.0.0.1:0', '--http', '127.0.0.1:0', '--domain', DOMAIN, '--log-level', 'info', ...extraServe], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let buf = '';
    let port = 0;
    const t = setTimeout(() => rej(new Error('server did not start')), 30000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line);
          if (rec.msg === 'listening') port = rec.port;
          if (rec.msg === 'Rollcall is ready') {
            clearTimeout(t);
            res({ child, port, dataDir: join(dir, 'data') });
          }
          if (rec.level >= 50) console.error('server:', line);
        } catch {
          if (nodeFlags.length > 0) console.error(line); // e.g. --trace-gc output
        }
      }
    });
    child.on('exit', (code) => rej(new Error(`server exited ${code}`)));
  });
}

/** Jiffies of all CPUs: [total, stolen by the hypervisor] (/proc/stat). */
function cpuJiffies() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return [f.reduce((a, b) => a + b, 0), f[7] ?? 0];
}
function journalStats(server) {
  return JSON.parse(run(['status', '--json', '--data-dir', server.dataDir])).journal;
}
function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
/** CPU ticks per thread name (main thread, store worker, V8 and libuv helpers). */
function threadTicks(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(pid) ? 'main' : name;
      out[`${key} user`] = (out[`${key} user`] ?? 0) + Number(fields[11]);
      out[`${key} sys`] = (out[`${key} sys`] ?? 0) + Number(fields[12]);
    } catch {
      /* thread gone */
    }
  }
  return out;
}
function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
function udpRcvbufErrors() {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

function sipp(port, inf, rate, calls, work) {
  const args = ['-sf', SCENARIO, '-inf', inf, '-t', 'u1', '-i', '127.0.0.1', '-r', String(rate), '-m', String(calls),
    '-l', String(Math.max(1000, rate * 2)), '-buff_size', '4194304', '-timeout', `${duration * 4 + 30}s`, '-nostdin',
    '-trace_stat', '-stf', join(work, 'stat.csv'), '-fd', '1', '-trace_rtt', '-rtt_freq', '1000', `127.0.0.1:${port}`];
  return new Promise((res) => {
    const child = spawn('sipp', args, { cwd: work, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('exit', (status) => {
      const stat = readFileSync(join(work, 'stat.csv'), 'utf8').trim().split('\n');
      const head = stat[0].split(';');
      const last = stat[stat.length - 1].split(';');
      const col = (name) => Number(last[head.indexOf(name)]);
      const rtts = [];
      for (const f of readdirSync(work).filter((x) => x.endsWith('_rtt.csv'))) {
        for (const line of readFileSync(join(work, f), 'utf8').split('\n').slice(1)) {
          const v = Number(line.split(';')[1]);
          if (line && Number.isFinite(v)) rtts.push(v);
        }
      }
      // ElapsedTime(C) is HH:MM:SS:microseconds since SIPp started sending.
      const [hh, mm, ss, us] = last[head.indexOf('ElapsedTime(C)')].split(':').map(Number);
      const elapsed = hh * 3600 + mm * 60 + ss + us / 1e6;
      res({ status, ok: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'), retrans: col('Retransmissions(C)'), rtts, elapsed });
    });
  });
}

/**
 * A rate is sustained when nothing failed and nothing had to be retransmitted (no datagram
 * lost, no answer later than SIPp's 500 ms timer): SIPp's retransmissions must not be what
 * saves a run.
 */
function clean(r) {
  return r.failed === 0 && r.retrans === 0 && r.udpDrops === 0;
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function step(server, infs, rate, calls = rate * duration) {
  const procs = infs.length;
  const works = infs.map(() => mkdtempSync(join(tmpdir(), 'rollcall-sipp-')));
  const journal0 = journalStats(server);
  const jiffies0 = cpuJiffies();
  const cpu0 = cpuTicks(server.child.pid);
  const threads0 = threadTicks(server.child.pid);
  const drops0 = udpRcvbufErrors();
  const t0 = Date.now();
  const results = await Promise.all(infs.map((inf, i) => sipp(server.port, inf, rate / procs, Math.round(calls / procs), works[i])));
  // SIPp's own clock: from its first call to its last answer (start-up excluded).
  const wall = Math.max(...results.map((r) => r.elapsed)) || (Date.now() - t0) / 1000;
  const cpu = (cpuTicks(server.child.pid) - cpu0) * TICK_US;
  const threads1 = threadTicks(server.child.pid);
  const ok = results.reduce((a, r) => a + r.ok, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  const rtts = results.flatMap((r) => r.rtts).sort((a, b) => a - b);
  for (const w of works) rmSync(w, { recursive: true, force: true });
  return {
    procs, rate, calls, ok, failed, wall: +wall.toFixed(1), achieved: Math.round(ok / wall),
    failPct: +((failed / Math.max(1, ok + failed)) * 100).toFixed(3),
    retrans: results.reduce((a, r) => a + r.retrans, 0),
    p50: pct(rtts, 50), p95: pct(rtts, 95), p99: pct(rtts, 99),
    cpuUsPerReg: +(cpu / Math.max(1, ok)).toFixed(1), rssMb: Math.round(rssKb(server.child.pid) / 1024),
    udpDrops: udpRcvbufErrors() - drops0,
    // CPU time the hypervisor gave to other guests: on a shared VM, capacity is not fixed.
    stealPct: (() => { const j = cpuJiffies(); return +((100 * (j[1] - jiffies0[1])) / Math.max(1, j[0] - jiffies0[0])).toFixed(1); })(),
    commitsPerSecond: Math.round((journalStats(server).batches - journal0.batches) / wall),
    // Server CPU per registration by thread: where the time goes.
    cpuUsByThread: Object.fromEntries(Object.entries(threads1).map(([k, v]) => [k, +(((v - (threads0[k] ?? 0)) * TICK_US) / Math.max(1, ok)).toFixed(1)]).filter(([, v]) => v > 0)),
  };
}

async function throughput() {
  const dir = prepare(accountsN);
  const out = [];
  try {
    for (const procs of procsList) {
      // A fresh server for each SIPp process count: the overload that ends one ladder
      // (retransmissions, 32 s of Timer J state) must not weigh on the next one.
      const server = await startServer(dir);
      try {
        // Warm-up: every account registered once (JIT, bindings exist; later runs are refreshes).
        const [warm] = injection(dir, accountsN, 1);
        await step(server, [warm], 2000);
        const infs = injection(dir, accountsN, procs);
        for (const rate of rates) {
          const r = await step(server, infs, rate);
          out.push(r);
          console.log(JSON.stringify(r));
          // Past saturation SIPp's retransmissions hide the losses; stop after two such steps.
          if (!clean(r) && out.filter((x) => x.procs === procs && !clean(x)).length >= 2) break;
        }
      } finally {
        await stopServer(server);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function stopServer(server) {
  return new Promise((res) => {
    if (server.child.exitCode !== null) return res();
    server.child.once('exit', () => res());
    server.child.kill('SIGTERM');
  });
}

async function memory() {
  const dir = prepare(memoryN);
  const server = await startServer(dir);
  const status = () => {
    const m = JSON.parse(run(['status', '--json', '--data-dir', join(dir, 'data')])).memory;
    const mb = (n) => Math.round(n / 1048576);
    return `heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB, external ${mb(m.external)} MB`;
  };
  try {
    const [inf] = injection(dir, memoryN, 1);
    // A small warm-up so code and pools are in place before the baseline.
    const warmInf = join(dir, 'warm.csv');
    writeFileSync(warmInf, readFileSync(inf, 'utf8').split('\n').slice(0, 2001).join('\n') + '\n');
    await step(server, [warmInf], 1000);
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssKb(server.child.pid);
    console.log(`memory: before ${Math.round(before / 1024)} MB RSS (${status()})`);
    const r = await step(server, [inf], 4000, memoryN);
    const loaded = rssKb(server.child.pid);
    console.log(`memory: ${r.ok} registered, ${Math.round(loaded / 1024)} MB RSS right after (${status()})`);
    // Timer J (32 s) first: then no transaction is left, only bindings. V8 gives back the
    // memory of the storm's dead transactions at its next full collection, which its memory
    // reducer starts once the process is idle (about a minute here); wait for it, bounded.
    let afterTimerJ = 0;
    let after = 0;
    for (let t = 10; t <= settle; t += 10) {
      await new Promise((r2) => setTimeout(r2, 10000));
      after = rssKb(server.child.pid);
      if (t === 40) afterTimerJ = after;
      console.log(`memory: +${t}s ${Math.round(after / 1024)} MB RSS`);
    }
    console.log(`memory: after ${Math.round(after / 1024)} MB RSS (${status()})`);
    if (traceMemory) {
      const rows = [];
      let cur = null;
      for (const l of readFileSync(`/proc/${server.child.pid}/smaps`, 'utf8').split('\n')) {
        if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) rows.push((cur = { name: l.split(/\s+/).slice(5).join(' ') || '[anon]', range: l.split(' ')[0], rss: 0 }));
        else if (l.startsWith('Rss:') && cur) cur.rss = Number(l.split(/\s+/)[1]);
      }
      rows.sort((x, y) => y.rss - x.rss);
      for (const row of rows.slice(0, 15)) console.log(`  ${String(row.rss).padStart(8)} kB ${row.range} ${row.name}`);
    }
    const per = (kb) => Math.round((kb - before) * 1024 / memoryN);
    return {
      bindings: memoryN, registered: r.ok, failed: r.failed,
      rssBeforeMb: Math.round(before / 1024), rssLoadedMb: Math.round(loaded / 1024),
      rssAfterTimerJMb: Math.round(afterTimerJ / 1024), rssAfterMb: Math.round(after / 1024),
      bytesPerBindingAfterTimerJ: afterTimerJ ? per(afterTimerJ) : null, bytesPerBinding: per(after), settleSeconds: settle,
    };
  } finally {
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const started = new Date();
console.log(`# Rollcall registration benchmark, ${started.toISOString()}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, node ${process.version}`);
// Calibration: Node's bare UDP echo on this machine now (see udp-floor.mjs).
const floor = spawnSync(process.execPath, [join(ROOT, 'bench/udp-floor.mjs'), '100000'], { encoding: 'utf8' });
if (floor.status === 0) console.log(`# calibration, Node UDP echo: ${floor.stdout.trim()} (a registration is 2 messages each way)`);
const results = process.argv.includes('--memory-only') ? [] : await throughput();
const best = {};
for (const r of results) if (clean(r) && r.achieved > (best[r.procs]?.achieved ?? 0)) best[r.procs] = r;
console.log('\n| SIPp procs | offered /s | achieved /s | failed | retrans | p50 ms | p95 ms | p99 ms | server CPU µs/reg | RSS MB | UDP drops | steal % |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.procs} | ${r.rate} | ${r.achieved} | ${r.failed} | ${r.retrans} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.cpuUsPerReg} | ${r.rssMb} | ${r.udpDrops} | ${r.stealPct} |`);
for (const [procs, r] of Object.entries(best)) console.log(`\nhighest sustained rate (0 failures, 0 retransmissions), ${procs} SIPp process(es): ${r.achieved}/s (offered ${r.rate}/s), p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUsPerReg} µs server CPU per registration`);
if (memoryN > 0) {
  const m = await memory();
  console.log(`\nmemory: ${JSON.stringify(m)}`);
}
