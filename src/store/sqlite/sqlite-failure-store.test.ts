import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FailureRecord, StoreOp } from '../store.js';
import { failureRecord, putBinding } from '../store-records.fixture.js';
import { FAILURE_PRUNE_CHUNK } from './sqlite-failure-store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const failureOps = (failures: readonly FailureRecord[]): StoreOp[] => failures.map((failure) => ({ op: 'failure', failure }));

describe('SQLite failure store', () => {
  let dataDir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-failures-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const log: FailureRecord[] = [
    failureRecord({ time: 1000, reason: 'wrong-password', sourceAddress: '203.0.113.9', username: '1001' }),
    failureRecord({ time: 2000, reason: 'unknown-user', sourceAddress: '203.0.113.9', username: '9999', count: 3 }),
    failureRecord({ time: 3000, reason: 'rate-limited', sourceAddress: '198.51.100.7', username: null, userAgent: null, count: 500 }),
    failureRecord({ time: 4000, reason: 'wrong-password', sourceAddress: '198.51.100.7', username: '1001', detail: 'realm example.com' }),
    failureRecord({ time: 4000, reason: 'source-not-allowed', sourceAddress: '2001:db8::7', sourcePort: 5062, transport: 'TLS', username: '1002' }),
    failureRecord({ time: 5000, reason: 'wrong-password', sourceAddress: '203.0.113.9', username: '1001', count: 2 }),
  ];
  const fill = () => store.bindings.applyNow(failureOps(log));
  const times = (rows: Array<{ time: number }>) => rows.map((r) => r.time);

  it('returns failures newest first with their ids, every field as written', () => {
    fill();
    const rows = store.failures.query({ limit: 100 });
    expect(times(rows)).toEqual([5000, 4000, 4000, 3000, 2000, 1000]);
    expect(rows[1]).toEqual({ id: rows[1]!.id, ...log[4] }); // same time: the later id first
    expect(rows[5]).toEqual({ id: rows[5]!.id, ...log[0] });
    expect(rows[3]).toMatchObject({ username: null, userAgent: null, count: 500, detail: null });
  });

  it('filters by time window (since inclusive, until exclusive), reason, source address and username, together', () => {
    fill();
    expect(times(store.failures.query({ since: 2000, until: 4000, limit: 100 }))).toEqual([3000, 2000]);
    expect(times(store.failures.query({ reason: 'wrong-password', limit: 100 }))).toEqual([5000, 4000, 1000]);
    expect(times(store.failures.query({ sourceAddress: '203.0.113.9', limit: 100 }))).toEqual([5000, 2000, 1000]);
    expect(times(store.failures.query({ username: '1001', limit: 100 }))).toEqual([5000, 4000, 1000]);
    expect(times(store.failures.query({ username: '1001', sourceAddress: '203.0.113.9', since: 2000, limit: 100 }))).toEqual([5000]);
    expect(store.failures.query({ reason: 'scanner', limit: 100 })).toEqual([]);
    expect(() => store.failures.query({ reason: 'nope' as 'scanner', limit: 1 })).toThrow('failure reason "nope" is not one of wrong-password');
  });

  it('pages with the (time, id) of the last row, through rows of the same millisecond', () => {
    fill();
    const seen: number[] = [];
    let before: { time: number; id: number } | undefined;
    for (;;) {
      const page = store.failures.query({ limit: 2, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.id));
      before = { time: page.at(-1)!.time, id: page.at(-1)!.id };
    }
    expect(seen).toEqual(store.failures.query({ limit: 100 }).map((r) => r.id));
    expect(new Set(seen).size).toBe(6);
  });

  it('limits: at most 10,000, and refuses a limit that is not a positive integer', () => {
    store.bindings.applyNow(failureOps(Array.from({ length: 10_050 }, (_, i) => failureRecord({ time: i }))));
    expect(store.failures.query({ limit: 50_000 })).toHaveLength(10_000);
    expect(times(store.failures.query({ limit: 2 }))).toEqual([10_049, 10_048]);
    expect(() => store.failures.query({ limit: 0 })).toThrow('failure query limit must be a positive integer, got 0');
    expect(() => store.failures.counts({ limit: 1.5 })).toThrow('positive integer');
  });

  it('counts sum `count` by reason, source and username over [since, until), top `limit` of each', () => {
    fill();
    expect(store.failures.counts({ limit: 10 })).toEqual({
      byReason: [
        { reason: 'rate-limited', count: 500 },
        { reason: 'wrong-password', count: 4 },
        { reason: 'unknown-user', count: 3 },
        { reason: 'source-not-allowed', count: 1 },
      ],
      bySource: [
        { sourceAddress: '198.51.100.7', count: 501 },
        { sourceAddress: '203.0.113.9', count: 6 },
        { sourceAddress: '2001:db8::7', count: 1 },
      ],
      // Failures without a username tried are not a username.
      byUsername: [
        { username: '1001', count: 4 },
        { username: '9999', count: 3 },
        { username: '1002', count: 1 },
      ],
    });
    expect(store.failures.counts({ since: 4000, until: 5000, limit: 1 })).toEqual({
      byReason: [{ reason: 'source-not-allowed', count: 1 }], // ties by name
      bySource: [{ sourceAddress: '198.51.100.7', count: 1 }],
      byUsername: [{ username: '1001', count: 1 }],
    });
    expect(store.failures.counts({ since: 6000, limit: 5 })).toEqual({ byReason: [], bySource: [], byUsername: [] });
  });

  it('reads by reason, source, username and time through their indexes', () => {
    const db = new Database(store.file, { readonly: true });
    try {
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan("SELECT id FROM failures WHERE reason = 'x' AND time >= 1 ORDER BY time DESC")).toContain('failures_reason_time');
      expect(plan("SELECT id FROM failures WHERE source_address = 'x' ORDER BY time DESC")).toContain('failures_source_time');
      expect(plan("SELECT id FROM failures WHERE username = 'x' ORDER BY time DESC")).toContain('failures_username_time');
      expect(plan('SELECT id FROM failures WHERE time >= 1 ORDER BY time DESC')).toContain('failures_time');
    } finally {
      db.close();
    }
  });

  it('prune deletes failures older than the cutoff, across chunks, and says how many', () => {
    fill();
    expect(store.failures.prune(3000)).toBe(2);
    expect(times(store.failures.query({ limit: 100 }))).toEqual([5000, 4000, 4000, 3000]);
    store.bindings.applyNow(failureOps(Array.from({ length: FAILURE_PRUNE_CHUNK + 7 }, (_, i) => failureRecord({ time: 100 + (i % 50) }))));
    expect(store.failures.prune(3000)).toBe(FAILURE_PRUNE_CHUNK + 7);
    expect(store.failures.prune(1e13)).toBe(4);
  });

  it('a failure with a missing required field fails its batch whole', () => {
    expect(() =>
      store.bindings.applyNow([putBinding(1), { op: 'failure', failure: failureRecord({ sourceAddress: null as unknown as string }) }]),
    ).toThrow(/NOT NULL/);
    expect(store.bindings.loadAll()).toEqual([]);
    expect(store.failures.query({ limit: 10 })).toEqual([]);
  });
});

describe.each(['worker', 'inline'] as const)('failures through the journal (%s)', (mode) => {
  it('are stored by the commit path with bindings and events, as submitted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rollcall-failure-journal-'));
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: mode });
    try {
      const flood = Array.from({ length: 300 }, (_, i) =>
        failureRecord({ time: 1_700_000_000_000 + i * 1000, reason: i % 3 ? 'rate-limited' : 'wrong-password', count: i + 1 }),
      );
      const ops: StoreOp[] = [putBinding(1), ...failureOps(flood.slice(0, 150)), ...failureOps(flood.slice(150))];
      const err = await new Promise<Error | null>((resolve) => store.journal.submit(ops, resolve));
      expect(err).toBeNull();
      const rows = store.failures.query({ limit: 1000 });
      expect(rows.map(({ id: _id, ...f }) => f)).toEqual([...flood].reverse());
      expect(store.bindings.loadAll()).toHaveLength(1);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
