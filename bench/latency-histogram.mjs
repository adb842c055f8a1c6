// Latency histograms for bench/keep-alive.mjs --toggle and bench/keep-alive-summary.mjs: a
// round's REGISTER latencies per mode, at 10 µs resolution, small enough to print on the
// round's line, so that many runs' rounds can be pooled afterwards. Pooling is how issue 5's
// question ("REGISTER latency with keep-alive within 10 % of the figure without") is asked of
// the whole sample rather than of one round, whose p95 moves by ±40 % on a 2-core guest; the
// bootstrap over rounds says how far the pooled figure can be trusted. Rounds, not single
// REGISTERs, are resampled: REGISTERs of one round share its server and its minutes of the
// guest, so they are not independent draws.

const BINS_PER_MS = 100;

/** Sparse histogram of latencies in ms: [[bin, count], ...], bin = round(ms / 10 µs), ascending. */
export function histogram(latencies) {
  const counts = new Map();
  for (const ms of latencies) {
    const bin = Math.round(ms * BINS_PER_MS);
    counts.set(bin, (counts.get(bin) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => a[0] - b[0]);
}

/** Dense counts of many sparse histograms added together, over bins 0..size-1 (larger bins in the last). */
function dense(hists, size) {
  const out = new Float64Array(size);
  for (const h of hists) for (const [bin, n] of h) out[Math.min(bin, size - 1)] += n;
  return out;
}

/** The p-th percentile (nearest rank, as bench/keep-alive.mjs's percentile) of dense counts, in ms. */
function percentileOf(counts, p) {
  let total = 0;
  for (const n of counts) total += n;
  const rank = Math.min(total - 1, Math.floor((p / 100) * total));
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    seen += counts[bin];
    if (seen > rank) return bin / BINS_PER_MS;
  }
  return NaN;
}

/**
 * Bins needed for a set of sparse histograms: up to the largest, at most 200 ms (20,000 bins;
 * slower REGISTERs share the last bin, which changes no percentile that is below 200 ms,
 * and keeps a resample to adding short arrays).
 */
function extent(rounds) {
  let max = 0;
  for (const r of rounds) for (const h of [r.off, r.on]) if (h.length > 0) max = Math.max(max, h.at(-1)[0]);
  return Math.min(max + 1, 20_000);
}

/**
 * Pooled on/off ratio (on / off − 1) of percentile p over rounds [{ off, on }] of sparse
 * histograms, with a 95 % bootstrap interval from resampling whole rounds (fixed seed: the
 * same rounds give the same interval).
 */
export function pooledRatio(rounds, p, resamples = 2000) {
  const size = extent(rounds);
  // Dense rounds once; a resample then only adds arrays.
  const offs = rounds.map((r) => dense([r.off], size));
  const ons = rounds.map((r) => dense([r.on], size));
  let seed = 20261207;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const ratios = [];
  const off = new Float64Array(size);
  const on = new Float64Array(size);
  for (let i = 0; i < resamples; i++) {
    off.fill(0);
    on.fill(0);
    for (let k = 0; k < rounds.length; k++) {
      const j = Math.floor(random() * rounds.length);
      const a = offs[j], b = ons[j];
      for (let bin = 0; bin < size; bin++) {
        off[bin] += a[bin];
        on[bin] += b[bin];
      }
    }
    ratios.push(percentileOf(on, p) / percentileOf(off, p) - 1);
  }
  ratios.sort((a, b) => a - b);
  const offMs = percentileOf(dense(rounds.map((r) => r.off), size), p);
  const onMs = percentileOf(dense(rounds.map((r) => r.on), size), p);
  return {
    offMs,
    onMs,
    ratio: onMs / offMs - 1,
    low: ratios[Math.floor(0.025 * resamples)],
    high: ratios[Math.ceil(0.975 * resamples) - 1],
  };
}
