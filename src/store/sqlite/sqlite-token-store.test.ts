import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newApiToken } from '../../auth/api-token.js';
import type { UserRecord } from '../store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=';

describe('SQLite API token store', () => {
  let dataDir: string;
  let store: SqliteStore;
  let alice: UserRecord;
  let bob: UserRecord;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-tokens-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    alice = store.users.add({ name: 'alice', role: 'admin', passwordHash: HASH });
    bob = store.users.add({ name: 'bob', role: 'operator', passwordHash: HASH });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds a token and finds it by its hash', () => {
    const { hash } = newApiToken();
    const added = store.tokens.add({ userId: alice.id, name: 'backup script', tokenHash: hash });
    expect(added).toMatchObject({ userId: alice.id, name: 'backup script', tokenHash: hash, lastUsedAt: null });
    expect(added.id).toBeGreaterThan(0);
    expect(added.createdAt).toBeGreaterThan(0);
    expect(store.tokens.findByHash(hash)).toEqual(added);
    expect(store.tokens.findByHash(newApiToken().hash)).toBeNull();
  });

  it('refuses a token instead of its hash, an empty name, an unknown user and a hash twice', () => {
    const { token, hash } = newApiToken();
    expect(() => store.tokens.add({ userId: alice.id, name: 't', tokenHash: token })).toThrow('must be 64 lowercase hex digits');
    expect(() => store.tokens.add({ userId: alice.id, name: ' ', tokenHash: hash })).toThrow('API token name is empty');
    expect(() => store.tokens.add({ userId: 9999, name: 't', tokenHash: hash })).toThrow('no console user with id 9999');
    store.tokens.add({ userId: alice.id, name: 't', tokenHash: hash });
    expect(() => store.tokens.add({ userId: bob.id, name: 't', tokenHash: hash })).toThrow('already exists');
  });

  it('lists a user’s own tokens, oldest first', () => {
    const a1 = store.tokens.add({ userId: alice.id, name: 'one', tokenHash: newApiToken().hash });
    store.tokens.add({ userId: bob.id, name: 'bob’s', tokenHash: newApiToken().hash });
    const a2 = store.tokens.add({ userId: alice.id, name: 'two', tokenHash: newApiToken().hash });
    expect(store.tokens.listFor(alice.id)).toEqual([a1, a2]);
    expect(store.tokens.listFor(bob.id).map((t) => t.name)).toEqual(['bob’s']);
    expect(store.tokens.listFor(9999)).toEqual([]);
  });

  it('removes a token only for its owner', () => {
    const t = store.tokens.add({ userId: alice.id, name: 'one', tokenHash: newApiToken().hash });
    expect(store.tokens.remove(t.id, bob.id)).toBe(false);
    expect(store.tokens.findByHash(t.tokenHash)).not.toBeNull();
    expect(store.tokens.remove(t.id, alice.id)).toBe(true);
    expect(store.tokens.findByHash(t.tokenHash)).toBeNull();
    expect(store.tokens.remove(t.id, alice.id)).toBe(false);
  });

  it('touch records when a token was last used', () => {
    const t = store.tokens.add({ userId: alice.id, name: 'one', tokenHash: newApiToken().hash });
    store.tokens.touch(t.id, 1_800_000_000_000);
    expect(store.tokens.findByHash(t.tokenHash)?.lastUsedAt).toBe(1_800_000_000_000);
    store.tokens.touch(9999, 1); // an id that went meanwhile: nothing happens
  });
});
