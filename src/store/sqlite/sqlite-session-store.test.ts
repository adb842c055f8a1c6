import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '../store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=';

describe('SQLite login session store', () => {
  let dataDir: string;
  let store: SqliteStore;
  let alice: UserRecord;
  let bob: UserRecord;
  const session = (idHash: string, userId: number, expiresAt = 2_000): SessionRecord => ({
    idHash,
    userId,
    csrfToken: `csrf-${idHash}`,
    createdAt: 1_000,
    expiresAt,
    address: '192.0.2.7',
  });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-sessions-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    alice = store.users.add({ name: 'alice', role: 'admin', passwordHash: HASH });
    bob = store.users.add({ name: 'bob', role: 'operator', passwordHash: HASH });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds a session and finds it by its id hash, as stored', () => {
    const s = session('h1', alice.id);
    store.sessions.add(s);
    expect(store.sessions.find('h1')).toEqual(s);
    expect(store.sessions.find('h2')).toBeNull();
    store.sessions.add({ ...session('h2', bob.id), address: null });
    expect(store.sessions.find('h2')?.address).toBeNull();
  });

  it('refuses a session id hash twice and a session of an unknown user', () => {
    store.sessions.add(session('h1', alice.id));
    expect(() => store.sessions.add(session('h1', bob.id))).toThrow();
    expect(() => store.sessions.add(session('h3', 9999))).toThrow('no console user with id 9999');
  });

  it('extends and removes a session', () => {
    store.sessions.add(session('h1', alice.id));
    store.sessions.extend('h1', 5_000);
    expect(store.sessions.find('h1')?.expiresAt).toBe(5_000);
    store.sessions.remove('h1');
    expect(store.sessions.find('h1')).toBeNull();
    store.sessions.extend('h1', 6_000); // gone: nothing comes back
    expect(store.sessions.find('h1')).toBeNull();
    store.sessions.remove('h1');
  });

  it('removes every session of one user', () => {
    store.sessions.add(session('a1', alice.id));
    store.sessions.add(session('a2', alice.id));
    store.sessions.add(session('b1', bob.id));
    expect(store.sessions.removeForUser(alice.id)).toBe(2);
    expect(store.sessions.find('a1')).toBeNull();
    expect(store.sessions.find('b1')).not.toBeNull();
    expect(store.sessions.removeForUser(alice.id)).toBe(0);
  });

  it('prunes sessions expired at or before now', () => {
    store.sessions.add(session('old', alice.id, 1_500));
    store.sessions.add(session('edge', alice.id, 2_000));
    store.sessions.add(session('live', bob.id, 2_001));
    expect(store.sessions.pruneExpired(2_000)).toBe(2);
    expect(store.sessions.find('live')).not.toBeNull();
    expect(store.sessions.find('edge')).toBeNull();
    expect(store.sessions.pruneExpired(2_000)).toBe(0);
  });
});
