// A measurement, not a timed assertion: how many put-binding ops per second the journal
// commits with synchronous=full and ~1 KB last_request/last_response. It prints the numbers;
// it fails only if commits fail. Set ROLLCALL_THROUGHPUT_OPS to measure longer.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoreOp } from '../store.js';
import { putBinding } from '../store-records.fixture.js';
import { openSqliteStore } from './sqlite-store.js';

const OPS = Number(process.env.ROLLCALL_THROUGHPUT_OPS ?? 20_000);
const MESSAGE_SIZE = 1024;

async function measure(journal: 'worker' | 'inline', maxBatchOps: number): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rollcall-throughput-'));
  const store = openSqliteStore({ dataDir, synchronous: 'full', journal, maxBatchOps });
  try {
    const ops: StoreOp[] = [];
    for (let id = 1; id <= OPS; id++) ops.push(putBinding(id, {}, MESSAGE_SIZE));
    // Warm up: the worker's start and the first fsyncs of a new file are not the steady state.
    await new Promise<void>((resolve) => store.journal.submit([putBinding(OPS + 1, {}, MESSAGE_SIZE)], () => resolve()));

    const before = store.journal.stats;
    const started = process.hrtime.bigint();
    let failures = 0;
    await new Promise<void>((resolve) => {
      let remaining = ops.length;
      for (const op of ops) {
        store.journal.submit([op], (err) => {
          if (err !== null) failures++;
          if (--remaining === 0) resolve();
        });
      }
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const batches = store.journal.stats.batches - before.batches;
    const rate = Math.round(OPS / seconds);
    console.log(
      `journal=${journal} synchronous=full batch<=${maxBatchOps}: ${OPS} put-binding ops in ` +
        `${batches} transactions, ${seconds.toFixed(2)} s, ${rate} ops/s, ` +
        `${(seconds * 1000 / batches).toFixed(2)} ms per transaction`,
    );
    expect(failures).toBe(0);
    return rate;
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('journal throughput (measurement)', () => {
  it('worker journal, synchronous=full, ~1 KB messages, batches of 100', async () => {
    expect(await measure('worker', 100)).toBeGreaterThan(0);
  });

  it('worker journal, synchronous=full, ~1 KB messages, batches up to 2,000', async () => {
    expect(await measure('worker', 2000)).toBeGreaterThan(0);
  });

  it('inline journal, synchronous=full, ~1 KB messages, batches of 100', async () => {
    expect(await measure('inline', 100)).toBeGreaterThan(0);
  });
});
