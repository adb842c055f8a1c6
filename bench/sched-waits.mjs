#!/usr/bin/env node
// Who waited for a CPU, and behind whom: reads what `bench/keep-alive.mjs --toggle 5 --sched DIR`
// left in DIR (a `perf sched record` of its first round's measured window, and that round's
// phase switches and REGISTER timeline, on CLOCK_MONOTONIC) and prints, per mode (keep-alive
// off and on, the settle time after each switch left out):
//   - each group of threads' share of a CPU;
//   - how long each of the threads a REGISTER goes through waited to run once woken (the
//     scheduling delay: woken, runnable, not yet on a CPU);
//   - for wake-ups that waited over 0.2 ms, what ran meanwhile on the CPU the thread waited
//     for and on the other CPUs;
//   - the REGISTERs' p50/p95 as measured, and with the three threads' waits taken out of
//     each REGISTER: what is left is the time they spent running or blocked, not queued.
// This is how the eleventh pass (RESULTS) found the keep-alive's cost to REGISTERs on the
// 2-core guest: not CPU time but the commit worker and the load's thread queued on the event
// loop's CPU behind the pings while the other CPU idled.
//
//   node bench/keep-alive.mjs --toggle 5 --settle 2500 --rounds 1 --duration 60 --rate 333 --sched /tmp/sched
//   node bench/sched-waits.mjs /tmp/sched

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const dir = process.argv[2];
if (dir === undefined) {
  console.error('usage: node bench/sched-waits.mjs DIR (from bench/keep-alive.mjs --sched DIR)');
  process.exit(2);
}
const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
const { serverPid, benchPid, settleMs } = run;
/** [from, to, mode]: the settled part of each phase, in monotonic ms. */
const phases = run.switches.slice(0, -1).map((s, i) => [s.mono + settleMs, run.switches[i + 1].mono, s.on ? 'on' : 'off']);
const modeAt = (t) => {
  for (const [a, b, m] of phases) if (t >= a && t < b) return m;
  return null;
};

function group(comm, tid, pid) {
  if (comm === '<idle>') return 'idle';
  if (pid === serverPid) {
    if (tid === serverPid) return 'server main';
    if (comm.startsWith('rc-udp-sender')) return 'server sender';
    if (comm.startsWith('rc-udp-receive')) return 'server receiver';
    return 'server other'; // the commit worker, V8's and libuv's threads
  }
  if (pid === benchPid) return tid === benchPid ? 'load main' : 'load other';
  if (comm.startsWith('ping-responder')) return 'responder';
  return 'other';
}

// One line per switch-out: the task ran on `cpu` for `run` ms up to `time` (s), after
// waiting `delay` ms since it was woken.
const LINE = /^\s*([\d.]+)\s+\[(\d+)\]\s+(<idle>|.*?)(?:\[(\d+)(?:\/(\d+))?\])?\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/;
const runs = []; // { start, end, cpu, group, delay } in ms
const perf = spawn('perf', ['sched', 'timehist', '-i', join(dir, 'sched.data')], { stdio: ['ignore', 'pipe', 'ignore'] });
for await (const line of createInterface({ input: perf.stdout })) {
  const m = LINE.exec(line);
  if (m === null) continue;
  const end = Number(m[1]) * 1000;
  const tid = Number(m[4] ?? 0);
  runs.push({ start: end - Number(m[8]), end, cpu: Number(m[2]), group: group(m[3].trim(), tid, Number(m[5] ?? m[4] ?? 0)), delay: Number(m[7]) });
}
if (runs.length === 0) {
  console.error(`no scheduler events read from ${join(dir, 'sched.data')} (is perf installed?)`);
  process.exit(1);
}
runs.sort((a, b) => a.start - b.start);
const cpus = [...new Set(runs.map((r) => r.cpu))].sort();
const byCpu = new Map(cpus.map((c) => [c, runs.filter((r) => r.cpu === c)]));
let hi = -Infinity, longest = 0;
for (const r of runs) {
  hi = Math.max(hi, r.end);
  longest = Math.max(longest, r.end - r.start);
}
const lo = runs[0].start;

/** What ran on `list` between a and b: ms per group. */
function during(list, a, b) {
  const out = new Map();
  // Binary search for the first run that could reach a.
  let i = 0, j = list.length;
  while (i < j) {
    const k = (i + j) >> 1;
    if (list[k].start < a - longest) i = k + 1;
    else j = k;
  }
  for (; i < list.length && list[i].start < b; i++) {
    const r = list[i];
    const overlap = Math.min(r.end, b) - Math.max(r.start, a);
    if (overlap > 0) out.set(r.group, (out.get(r.group) ?? 0) + overlap);
  }
  return out;
}
const add = (into, from) => {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
};
const shares = (m, total, n = 5) => [...m].sort((x, y) => y[1] - x[1]).slice(0, n).map(([g, v]) => `${g} ${((100 * v) / total).toFixed(0)} %`).join(', ');
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${(ms * 1000).toFixed(0)} µs`;

console.log(`${runs.length} scheduler events over ${((hi - lo) / 1000).toFixed(1)} s on ${cpus.length} CPUs; server ${serverPid}, load ${benchPid}`);

console.log('\nCPU share (100 % = one CPU), settled phases:');
const span = { off: 0, on: 0 };
for (const [a, b, m] of phases) span[m] += Math.max(0, Math.min(b, hi) - Math.max(a, lo));
const share = { off: new Map(), on: new Map() };
for (const r of runs) {
  const m = modeAt(r.end);
  if (m !== null) share[m].set(r.group, (share[m].get(r.group) ?? 0) + r.end - r.start);
}
for (const g of [...new Set([...share.off.keys(), ...share.on.keys()])].sort()) {
  console.log(`  ${g.padEnd(16)} off ${((100 * (share.off.get(g) ?? 0)) / span.off).toFixed(1).padStart(5)} %   on ${((100 * (share.on.get(g) ?? 0)) / span.on).toFixed(1).padStart(5)} %`);
}

const WATCHED = ['load main', 'server main', 'server other'];
console.log('\nWaiting to run once woken (scheduling delay):');
for (const g of WATCHED) {
  for (const m of ['off', 'on']) {
    const wakes = runs.filter((r) => r.group === g && modeAt(r.start) === m);
    const d = wakes.map((r) => r.delay).sort((x, y) => x - y);
    const long = wakes.filter((r) => r.delay > 0.2);
    const mine = new Map(), others = new Map();
    let waited = 0;
    for (const r of long) {
      waited += r.delay;
      add(mine, during(byCpu.get(r.cpu), r.start - r.delay, r.start));
      for (const c of cpus) if (c !== r.cpu) add(others, during(byCpu.get(c), r.start - r.delay, r.start));
    }
    console.log(`  ${g} ${m}: ${d.length} wake-ups, p95 ${fmt(pct(d, 95))}, p99 ${fmt(pct(d, 99))}, ${long.length} over 0.2 ms (${waited.toFixed(1)} ms)` +
      (long.length > 0 ? `; meanwhile its CPU ran: ${shares(mine, waited, 3)} | the other CPU${cpus.length > 2 ? 's' : ''}: ${shares(others, waited * (cpus.length - 1), 3)}` : ''));
  }
}

console.log('\nREGISTERs (start to 200 OK, as the load measured them) and the waits inside them:');
const waitsIn = (a, b) => {
  const w = new Map();
  for (const g of WATCHED) w.set(g, 0);
  let i = 0, j = runs.length;
  while (i < j) {
    const k = (i + j) >> 1;
    if (runs[k].start < a - longest) i = k + 1;
    else j = k;
  }
  for (; i < runs.length && runs[i].start - runs[i].delay < b; i++) {
    const r = runs[i];
    if (!w.has(r.group) || r.delay <= 0) continue;
    const overlap = Math.min(r.start, b) - Math.max(r.start - r.delay, a);
    if (overlap > 0) w.set(r.group, w.get(r.group) + overlap);
  }
  return w;
};
for (const m of ['off', 'on']) {
  const regs = run.timeline.filter(([s, ms]) => modeAt(s) === m && s >= lo && s + ms <= hi).map(([s, ms]) => ({ ms, w: waitsIn(s, s + ms) }));
  if (regs.length === 0) continue;
  const lat = regs.map((r) => r.ms).sort((x, y) => x - y);
  const bare = regs.map((r) => r.ms - [...r.w.values()].reduce((x, y) => x + y, 0)).sort((x, y) => x - y);
  const over = WATCHED.map((g) => `${g} ${((100 * regs.filter((r) => r.w.get(g) > 0.2).length) / regs.length).toFixed(1)} %`).join(', ');
  console.log(`  ${m}: ${regs.length}; p50 ${lat[Math.floor(lat.length / 2)].toFixed(2)} ms, p95 ${pct(lat, 95).toFixed(2)} ms; ` +
    `without the waits p50 ${bare[Math.floor(bare.length / 2)].toFixed(2)} ms, p95 ${pct(bare, 95).toFixed(2)} ms; REGISTERs with over 0.2 ms of waiting by ${over}`);
}
