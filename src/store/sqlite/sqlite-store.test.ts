import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistrationEvent } from '../store.js';
import { bindingRecord, newAccount, putBinding, registrationEvent } from '../store-records.fixture.js';
import { SCHEMA_VERSION } from './schema.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

let root: string;
let dataDir: string;
let store: SqliteStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rollcall-store-'));
  dataDir = join(root, 'data');
  store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
});

afterEach(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('opening the SQLite store', () => {
  it('creates the data directory (0700) and <dataDir>/rollcall.db in WAL mode at the current schema', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(store.file).toBe(join(dataDir, 'rollcall.db'));
    const db = new Database(store.file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer Rollcall', async () => {
    await store.close();
    const db = new Database(join(dataDir, 'rollcall.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore({ dataDir, synchronous: 'normal' })).toThrow(
      `has schema version ${SCHEMA_VERSION + 1}, newer than this Rollcall supports (${SCHEMA_VERSION}); upgrade Rollcall`,
    );
    expect(() => openSqliteStore({ dataDir, synchronous: 'normal', readonly: true })).toThrow(/newer than/);
    const restore = new Database(join(dataDir, 'rollcall.db'));
    restore.pragma(`user_version = ${SCHEMA_VERSION}`);
    restore.close();
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' }); // for afterEach
  });

  it('opens read-only without writing, and fails when there is no database', async () => {
    store.accounts.add(newAccount('1001'));
    const reader = openSqliteStore({ dataDir, synchronous: 'normal', readonly: true });
    try {
      expect(reader.accounts.find('1001', 'example.com')?.username).toBe('1001');
      expect(() => reader.accounts.add(newAccount('1002'))).toThrow(/readonly/);
    } finally {
      await reader.close();
    }
    const missing = join(root, 'nowhere');
    expect(() => openSqliteStore({ dataDir: missing, synchronous: 'normal', readonly: true })).toThrow();
    expect(existsSync(missing)).toBe(false);
  });
});

describe('SQLite binding store', () => {
  it('applyNow writes in one transaction and loadAll reads every binding back as a record', () => {
    const path = ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>'];
    const outbound = { path, instance: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>', regId: 1, q: 0.5 };
    store.bindings.applyNow([putBinding(1), putBinding(2, outbound)]);
    expect(store.bindings.loadAll()).toEqual([bindingRecord(1), bindingRecord(2, outbound)]);
  });

  it('applyNow stores nothing when one op fails', () => {
    expect(() =>
      store.bindings.applyNow([putBinding(1), putBinding(2, { callId: null as unknown as string })]),
    ).toThrow(/NOT NULL/);
    expect(store.bindings.loadAll()).toEqual([]);
  });

  it('lastMessages returns the REGISTER and response of a binding, null once it is gone', () => {
    store.bindings.applyNow([putBinding(5, {}, 1024)]);
    const messages = store.bindings.lastMessages(5);
    expect(messages?.request).toMatch(/^REGISTER sip:example.com SIP\/2.0 5 x+$/);
    expect(messages?.response).toHaveLength(1024);
    store.bindings.applyNow([{ op: 'delete-binding', id: 5 }]);
    expect(store.bindings.lastMessages(5)).toBeNull();
  });

  it('maxId remembers the highest id ever stored, even after that binding is deleted', () => {
    expect(store.bindings.maxId()).toBe(0);
    store.bindings.applyNow([putBinding(3), putBinding(41), putBinding(7)]);
    expect(store.bindings.maxId()).toBe(41);
    store.bindings.applyNow([{ op: 'delete-binding', id: 41 }]);
    expect(store.bindings.maxId()).toBe(41);
  });
});

describe('SQLite event store', () => {
  const events: RegistrationEvent[] = [
    registrationEvent({ time: 1000, type: 'registered', aor: 'sip:1001@example.com', sourceAddress: '198.51.100.7' }),
    registrationEvent({ time: 2000, type: 'refreshed', aor: 'sip:1001@example.com', sourceAddress: '198.51.100.7' }),
    registrationEvent({ time: 3000, type: 'auth-failed', aor: 'sip:1002@example.com', sourceAddress: '203.0.113.9' }),
    registrationEvent({ time: 4000, type: 'auth-failed', aor: 'sip:1002@example.com', sourceAddress: '203.0.113.9' }),
    registrationEvent({ time: 5000, type: 'expired', aor: 'sip:1001@example.com', sourceAddress: '198.51.100.7', reason: 'no refresh' }),
  ];
  const times = (list: RegistrationEvent[]): number[] => list.map((e) => e.time);

  beforeEach(() => {
    store.bindings.applyNow(events.map((event) => ({ op: 'event', event })));
  });

  it('returns events newest first, as they were written', () => {
    const all = store.events.query({});
    expect(times(all)).toEqual([5000, 4000, 3000, 2000, 1000]);
    expect(all[0]).toEqual(events[4]);
  });

  it('filters by aor, source address, type and time window (since inclusive, until exclusive)', () => {
    expect(times(store.events.query({ aor: 'sip:1001@example.com' }))).toEqual([5000, 2000, 1000]);
    expect(times(store.events.query({ sourceAddress: '203.0.113.9' }))).toEqual([4000, 3000]);
    expect(times(store.events.query({ type: 'auth-failed' }))).toEqual([4000, 3000]);
    expect(times(store.events.query({ since: 2000, until: 4000 }))).toEqual([3000, 2000]);
    expect(times(store.events.query({ aor: 'sip:1001@example.com', type: 'refreshed', since: 1500 }))).toEqual([2000]);
    expect(store.events.query({ aor: 'sip:9999@example.com' })).toEqual([]);
  });

  it('reads non-refresh events by AOR and source through their partial indexes', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(store.file, { readonly: true });
    try {
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan("SELECT id FROM events WHERE aor = 'x' AND type <> 'refreshed'")).toContain('events_aor_time');
      expect(plan("SELECT id FROM events WHERE source_address = 'x' AND type <> 'refreshed'")).toContain('events_source_time');
    } finally {
      db.close();
    }
  });

  it('limits results: 100 by default, at most 10,000', () => {
    const many = Array.from({ length: 10_100 }, (_, i) => registrationEvent({ time: 10_000 + i }));
    store.bindings.applyNow(many.map((event) => ({ op: 'event', event })));
    expect(store.events.query({})).toHaveLength(100);
    expect(times(store.events.query({ limit: 2 }))).toEqual([20_099, 20_098]);
    expect(store.events.query({ limit: 50_000 })).toHaveLength(10_000);
    expect(() => store.events.query({ limit: 0 })).toThrow('event query limit must be a positive integer, got 0');
  });

  it('prune deletes events older than the cutoff and says how many', () => {
    expect(store.events.prune(3000)).toBe(2);
    expect(times(store.events.query({}))).toEqual([5000, 4000, 3000]);
    expect(store.events.prune(3000)).toBe(0);
  });

  it('prune works through more rows than one chunk', () => {
    const many = Array.from({ length: 25_000 }, (_, i) => registrationEvent({ time: 100 + (i % 800) }));
    store.bindings.applyNow(many.map((event) => ({ op: 'event', event })));
    expect(store.events.prune(2500)).toBe(25_002);
    expect(times(store.events.query({}))).toEqual([5000, 4000, 3000]);
  });
});

describe('SQLite settings store', () => {
  it('round-trips JSON values', () => {
    store.settings.set('registrar.maxBindings', 5);
    store.settings.set('registrar.policy', { minExpires: 60, transports: ['udp', 'tls'], nat: null });
    store.settings.set('console.banner', 'hello');
    store.settings.set('registrar.maxBindings', 7);
    expect(store.settings.get('registrar.maxBindings')).toBe(7);
    expect(store.settings.get('registrar.policy')).toEqual({ minExpires: 60, transports: ['udp', 'tls'], nat: null });
    expect(store.settings.get('missing')).toBeUndefined();
    expect(store.settings.all()).toEqual({
      'console.banner': 'hello',
      'registrar.maxBindings': 7,
      'registrar.policy': { minExpires: 60, transports: ['udp', 'tls'], nat: null },
    });
  });

  it('stores null, and setting undefined removes the key', () => {
    store.settings.set('a', null);
    expect(store.settings.get('a')).toBeNull();
    store.settings.set('a', undefined);
    expect(store.settings.get('a')).toBeUndefined();
    expect(store.settings.all()).toEqual({});
  });

  it('survives reopening', async () => {
    store.settings.set('security.lockout', { attempts: 5 });
    await store.close();
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    expect(store.settings.get('security.lockout')).toEqual({ attempts: 5 });
  });
});
