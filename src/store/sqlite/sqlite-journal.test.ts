import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreOp } from '../store.js';
import { bindingRecord, putBinding, registrationEvent } from '../store-records.fixture.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const submit = (store: SqliteStore, ops: readonly StoreOp[]): Promise<Error | null> =>
  new Promise((resolve) => store.journal.submit(ops, resolve));

describe.each(['worker', 'inline'] as const)('binding journal (%s)', (mode) => {
  let dataDir: string;
  let store: SqliteStore;
  /** A separate connection, as another process would see the file. */
  let observer: Database.Database;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-journal-'));
    store = openSqliteStore({ dataDir, synchronous: 'full', journal: mode });
    observer = new Database(join(dataDir, 'rollcall.db'), { readonly: true });
  });

  afterEach(async () => {
    observer.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const storedIds = (): number[] =>
    observer.prepare('SELECT id FROM bindings ORDER BY id').pluck().all() as number[];

  it('calls done only once the binding is readable from another connection', async () => {
    const seenAtDone: number[][] = [];
    const results = await Promise.all(
      [1, 2, 3].map(
        (id) =>
          new Promise<Error | null>((resolve) =>
            store.journal.submit([putBinding(id)], (err) => {
              seenAtDone.push(storedIds());
              resolve(err);
            }),
          ),
      ),
    );
    expect(results).toEqual([null, null, null]);
    for (const seen of seenAtDone) expect(seen).toEqual([1, 2, 3]);
    const request = observer.prepare('SELECT last_request FROM bindings WHERE id = 2').pluck().get() as Buffer;
    expect(request.toString('utf8')).toMatch(/^REGISTER sip:example.com SIP\/2.0 2 /);
  });

  it('commits 5,000 ops submitted in one turn in ceil(5000 / 2000) transactions', async () => {
    const pending: Promise<Error | null>[] = [];
    for (let id = 1; id <= 5000; id++) pending.push(submit(store, [putBinding(id)]));
    expect((await Promise.all(pending)).every((err) => err === null)).toBe(true);
    expect(store.journal.stats).toMatchObject({ batches: 3, ops: 5000, failedBatches: 0 });
    expect(observer.prepare('SELECT count(*) FROM bindings').pluck().get()).toBe(5000);
  });

  it('calls done callbacks in submission order across batches', async () => {
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) {
        const id = round * 20 + i + 1;
        all.push(new Promise((resolve) => store.journal.submit([putBinding(id)], () => resolve(void order.push(id)))));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('put-binding upserts and delete-binding removes the binding and its messages', async () => {
    expect(await submit(store, [putBinding(7), putBinding(8)])).toBeNull();
    expect(await submit(store, [putBinding(7, { cseq: 2, path: ['<sip:edge.example.com;lr>'] }), { op: 'delete-binding', id: 8 }])).toBeNull();
    const row = observer.prepare('SELECT cseq, path FROM bindings WHERE id = 7').get();
    expect(row).toEqual({ cseq: 2, path: '["<sip:edge.example.com;lr>"]' });
    expect(storedIds()).toEqual([7]);
    expect(store.bindings.lastMessages(7)?.request).toMatch(/^REGISTER sip:example.com SIP\/2.0 7 /);
    expect(store.bindings.lastMessages(8)).toBeNull();
  });

  it('stores every field as given: records, raw message bytes and events read back unchanged', async () => {
    const request = Buffer.concat([Buffer.from('REGISTER sip:example.com SIP/2.0\r\nUser-Agent: Téléphone ☎\r\n'), Buffer.from([0xff, 0x00])]);
    const response = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    const outbound = bindingRecord(3, {
      instance: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
      regId: 2,
      q: 0.7,
      userAgent: 'Téléphone ☎ 1.0',
      path: ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>'],
    });
    const events = [
      registrationEvent({ time: 10, bindingId: 3, userAgent: 'Téléphone ☎ 1.0' }),
      registrationEvent({ time: 11, type: 'auth-failed', aor: null, contact: null, bindingId: null, sourcePort: null, reason: 'wrong password' }),
    ];
    const ops: StoreOp[] = [
      putBinding(1),
      { op: 'put-binding', binding: outbound, lastRequest: request, lastResponse: response },
      ...events.map((event): StoreOp => ({ op: 'event', event })),
    ];
    expect(await submit(store, ops)).toBeNull();
    expect(store.bindings.loadAll()).toEqual([bindingRecord(1), outbound]);
    expect(store.bindings.lastMessages(3)).toEqual({ request: request.toString('utf8'), response: response.toString('utf8') });
    expect(observer.prepare('SELECT last_request FROM bindings WHERE id = 3').pluck().get()).toEqual(request);
    expect(store.events.query({})).toEqual([...events].reverse());
  });

  it('gives a failed transaction’s error to every done of its batch, stores none of it, and keeps working', async () => {
    const broken = putBinding(2, { contact: null as unknown as string }); // NOT NULL constraint
    const batch = [submit(store, [putBinding(1)]), submit(store, [broken]), submit(store, [putBinding(3)])];
    const errors = await Promise.all(batch);
    for (const err of errors) expect(err?.message).toMatch(/NOT NULL constraint failed: bindings.contact/);
    expect(errors[0]).toBe(errors[2]); // one error, shared by the batch
    expect(storedIds()).toEqual([]);
    expect(store.journal.stats.failedBatches).toBe(1);

    expect(await submit(store, [putBinding(4), { op: 'event', event: registrationEvent({ bindingId: 4 }) }])).toBeNull();
    expect(storedIds()).toEqual([4]);
    expect(observer.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
  });

  it('close commits everything submitted before it', async () => {
    const done: (Error | null)[] = [];
    for (let id = 1; id <= 250; id++) store.journal.submit([putBinding(id)], (err) => done.push(err));
    await store.close();
    expect(done).toHaveLength(250);
    expect(done.every((err) => err === null)).toBe(true);
    expect(storedIds()).toHaveLength(250);
    const reopened = openSqliteStore({ dataDir, synchronous: 'full', journal: mode });
    expect(reopened.bindings.loadAll()).toHaveLength(250);
    store = reopened; // closed by afterEach
  });
});

describe('binding journal (worker) when another process holds the write lock', () => {
  it('fails the batch with SQLITE_BUSY after busy_timeout, then commits once the lock is released', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rollcall-journal-'));
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'worker' });
    try {
      // Lock the file for writing from another connection longer than busy_timeout allows.
      const locker = new Database(join(dataDir, 'rollcall.db'), { timeout: 0 });
      locker.exec('BEGIN IMMEDIATE');
      const err = await submit(store, [putBinding(1)]);
      locker.exec('ROLLBACK');
      locker.close();
      expect(err?.message).toMatch(/database is locked/);
      expect((err as Error & { code?: string }).code).toBe('SQLITE_BUSY');
      expect(await submit(store, [putBinding(2)])).toBeNull();
      expect(store.bindings.loadAll().map((b) => b.id)).toEqual([2]);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
