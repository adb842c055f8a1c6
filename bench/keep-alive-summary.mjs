#!/usr/bin/env node
// Pools the output of many `bench/keep-alive.mjs --toggle` runs (issue 5's latency floor). One
// run's p95 moves by more than the effect on a shared 2-core guest, so the question "within
// 10 % of the figure without keep-alive?" is answered over many runs: per group, how many runs
// were within 10 % (pooled p50 and p95 of each run), the median of all rounds' p95 ratios
// (on / off) with a 95 % bootstrap interval — the spread that the rounds themselves show —
// and, for runs whose rounds carry their latency histograms, the group's REGISTERs pooled per
// mode: p50, p95 and p99 on against off, each with a 95 % interval from resampling rounds.
//
// Each file is one run's output. Runs are grouped by the folder they are in (one folder per
// build or setting, e.g. logs/before/, logs/after/) and by pinned or not, read from the run.
//
//   node bench/keep-alive-summary.mjs bench/logs/seventh-pass/*/*.log

import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { pooledRatio } from './latency-histogram.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/keep-alive-summary.mjs RUN.log... (the output of bench/keep-alive.mjs --toggle, one run per file, a folder per build)');
  process.exit(2);
}

const groups = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const summary = /^toggled every .* (pinned|unpinned) — pooled .*?p50 [\d.]+ → [\d.]+ ms \(([-+\d.]+) %\), p95 [\d.]+ → [\d.]+ ms \(([-+\d.]+) %\)/m.exec(text);
  if (summary === null) {
    console.error(`${file}: no summary line of a finished --toggle run; left out`);
    continue;
  }
  // A round the hypervisor stole from is printed, then "round N discarded": left out, as the
  // run's own pooled figures leave it out.
  const rounds = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('{"round"')) rounds.push(JSON.parse(l));
    const dropped = /^round (\d+) discarded/.exec(l);
    if (dropped !== null && rounds.at(-1)?.round === Number(dropped[1])) rounds.pop();
  }
  const key = `${basename(dirname(file))} ${summary[1]}`;
  let g = groups.get(key);
  if (g === undefined) groups.set(key, (g = { runs: [], p95: [], p50: [], hists: [] }));
  g.runs.push({ p50: Number(summary[2]), p95: Number(summary[3]) });
  for (const r of rounds) {
    g.p95.push(r.on.p95 / r.off.p95 - 1);
    g.p50.push(r.on.p50 / r.off.p50 - 1);
    if (r.hist !== undefined) g.hists.push(r.hist);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// A fixed seed: the same logs give the same interval.
let seed = 20261206;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
/** 95 % bootstrap interval of the median of xs. */
function interval(xs) {
  const medians = [];
  for (let i = 0; i < 5000; i++) medians.push(median(xs.map(() => xs[Math.floor(random() * xs.length)])));
  medians.sort((a, b) => a - b);
  return [medians[124], medians[4875]];
}
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;

for (const [key, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
  const within = (k) => g.runs.filter((r) => r[k] <= 10).length;
  const [lo, hi] = interval(g.p95);
  console.log(
    `${key}: ${g.runs.length} runs, ${g.p95.length} rounds — within 10 %: p50 in ${within('p50')} runs, p95 in ${within('p95')}; ` +
      `pooled p95 per run ${g.runs.map((r) => signed(r.p95)).join(', ')}; ` +
      `median round p95 ${pct(median(g.p95))} (95 % interval ${pct(lo)} to ${pct(hi)}), p50 ${pct(median(g.p50))}`,
  );
  if (g.hists.length > 0) {
    const shown = [50, 95, 99].map((p) => {
      const r = pooledRatio(g.hists, p);
      return `p${p} ${r.offMs.toFixed(2)} → ${r.onMs.toFixed(2)} ms ${pct(r.ratio)} (${pct(r.low)} to ${pct(r.high)})`;
    });
    console.log(`  pooled over the ${g.hists.length} rounds with histograms, 95 % interval over rounds — ${shown.join('; ')}`);
  }
}
