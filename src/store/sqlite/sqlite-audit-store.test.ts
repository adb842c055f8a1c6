import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../store.js';
import { AUDIT_PRUNE_CHUNK } from './sqlite-audit-store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

type NewEntry = Omit<AuditEntry, 'id'>;
const entry = (time: number, change: Partial<NewEntry> = {}): NewEntry => ({
  time,
  user: 'admin',
  address: '192.0.2.7',
  action: 'user.add',
  target: 'alice',
  before: null,
  after: { name: 'alice', role: 'operator' },
  ...change,
});

describe('SQLite audit store', () => {
  let dataDir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-audit-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('appends an entry and returns it with its id, before/after as JSON values', () => {
    const appended = store.audit.append(entry(1_000, { before: { role: 'read-only' }, after: [1, 'two', { three: true }] }));
    expect(appended).toEqual({ id: appended.id, ...entry(1_000, { before: { role: 'read-only' }, after: [1, 'two', { three: true }] }) });
    expect(store.audit.query({})).toEqual([appended]);
  });

  it('stores undefined and null as null, and scalars as themselves', () => {
    const a = store.audit.append({ time: 1, user: null, address: null, action: 'login.failed', target: null, before: undefined, after: null });
    expect(a).toMatchObject({ user: null, address: null, target: null, before: null, after: null });
    store.audit.append(entry(2, { before: 3, after: 'text' }));
    store.audit.append(entry(3, { before: false, after: 0 }));
    expect(store.audit.query({}).map((e) => [e.before, e.after])).toEqual([
      [false, 0],
      [3, 'text'],
      [null, null],
    ]);
  });

  it('refuses an entry without an action or with a value JSON cannot hold', () => {
    expect(() => store.audit.append(entry(1, { action: '' }))).toThrow('needs an action');
    expect(() => store.audit.append(entry(1, { after: () => 1 }))).toThrow('after is not JSON-serialisable');
    expect(() => store.audit.append(entry(Number.NaN))).toThrow('time must be epoch milliseconds');
    expect(store.audit.query({})).toEqual([]);
  });

  it('returns the newest first, 100 by default, and pages with beforeId', () => {
    for (let i = 0; i < 250; i++) store.audit.append(entry(10_000 + i, { target: `t${i}` }));
    const first = store.audit.query({});
    expect(first).toHaveLength(100);
    expect(first[0]!.target).toBe('t249');
    const second = store.audit.query({ beforeId: first.at(-1)!.id, limit: 100 });
    expect(second[0]!.target).toBe('t149');
    const third = store.audit.query({ beforeId: second.at(-1)!.id, limit: 100 });
    expect(third.map((e) => e.target)).toEqual(Array.from({ length: 50 }, (_, i) => `t${49 - i}`));
    expect(store.audit.query({ beforeId: third.at(-1)!.id })).toEqual([]);
  });

  it('filters by user, action and time range (since inclusive, until exclusive), together', () => {
    store.audit.append(entry(1_000, { user: 'alice', action: 'login' }));
    store.audit.append(entry(2_000, { user: 'bob', action: 'login' }));
    store.audit.append(entry(3_000, { user: 'alice', action: 'account.add' }));
    store.audit.append(entry(4_000, { user: 'alice', action: 'login' }));
    const times = (q: Parameters<SqliteStore['audit']['query']>[0]) => store.audit.query(q).map((e) => e.time);
    expect(times({ user: 'alice' })).toEqual([4_000, 3_000, 1_000]);
    expect(times({ action: 'login' })).toEqual([4_000, 2_000, 1_000]);
    expect(times({ user: 'alice', action: 'login' })).toEqual([4_000, 1_000]);
    expect(times({ since: 2_000, until: 4_000 })).toEqual([3_000, 2_000]);
    expect(times({ user: 'alice', since: 2_000, limit: 1 })).toEqual([4_000]);
    expect(times({ user: 'nobody' })).toEqual([]);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => store.audit.query({ limit: 0 })).toThrow('audit query limit must be a positive integer, got 0');
    expect(() => store.audit.query({ limit: 1.5 })).toThrow('positive integer');
  });

  it('prunes entries older than a time, across several chunks, and ids never come back', () => {
    const n = AUDIT_PRUNE_CHUNK + 5;
    const insert = () => {
      for (let i = 0; i < n; i++) store.audit.append(entry(i));
    };
    insert();
    const highest = store.audit.query({ limit: 1 })[0]!.id;
    store.audit.append(entry(1_000_000));
    expect(store.audit.prune(n)).toBe(n);
    expect(store.audit.query({}).map((e) => e.time)).toEqual([1_000_000]);
    expect(store.audit.prune(1_000_000)).toBe(0);
    expect(store.audit.prune(1_000_001)).toBe(1);
    expect(store.audit.append(entry(5)).id).toBeGreaterThan(highest + 1);
  });
});
