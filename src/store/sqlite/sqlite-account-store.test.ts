import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newAccount } from '../store-records.fixture.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

describe('SQLite account store', () => {
  let dataDir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-accounts-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds an account and finds it by username and domain, case-insensitively on the domain', () => {
    const added = store.accounts.add(newAccount('1001', 'Example.COM', { customer: 'acme', maxBindings: 3 }));
    expect(added).toMatchObject({
      username: '1001',
      domain: 'example.com',
      customer: 'acme',
      enabled: true,
      minExpires: null,
      maxExpires: null,
      maxBindings: 3,
    });
    expect(added.id).toBeGreaterThan(0);
    expect(added.createdAt).toBe(added.updatedAt);
    expect(store.accounts.find('1001', 'EXAMPLE.com')).toEqual(added);
    expect(store.accounts.find('1001', 'example.org')).toBeNull();
    expect(store.accounts.find('1002', 'example.com')).toBeNull();
  });

  it('keeps the username case-sensitive (RFC 3261 user parts are)', () => {
    store.accounts.add(newAccount('alice'));
    expect(store.accounts.find('Alice', 'example.com')).toBeNull();
  });

  it('stores HA1 hashes lowercased and enabled as a boolean', () => {
    const a = newAccount('1001', 'example.com', { enabled: false });
    const added = store.accounts.add({ ...a, ha1Md5: a.ha1Md5.toUpperCase() });
    expect(added.ha1Md5).toBe(a.ha1Md5);
    expect(store.accounts.find('1001', 'example.com')?.enabled).toBe(false);
  });

  it('rejects a duplicate with a message naming the account', () => {
    store.accounts.add(newAccount('1001'));
    expect(() => store.accounts.add(newAccount('1001', 'EXAMPLE.COM'))).toThrow(
      'account 1001@example.com already exists',
    );
  });

  it('rejects bad input with a message saying what is wrong', () => {
    expect(() => store.accounts.add(newAccount(''))).toThrow(/username is empty/);
    expect(() => store.accounts.add(newAccount('10 01'))).toThrow(/must not contain '@', whitespace/);
    expect(() => store.accounts.add(newAccount('1001', ''))).toThrow('account 1001: domain is empty');
    expect(() => store.accounts.add(newAccount('1001', 'example.com', { ha1Md5: 'abc' }))).toThrow(
      'account 1001@example.com: ha1Md5 must be 32 hex digits',
    );
    expect(() => store.accounts.add(newAccount('1001', 'example.com', { maxBindings: 0 }))).toThrow(
      'account 1001@example.com: maxBindings must be an integer >= 1 or null, got 0',
    );
    expect(() => store.accounts.add(newAccount('1001', 'example.com', { minExpires: 600, maxExpires: 60 }))).toThrow(
      'account 1001@example.com: minExpires (600) is greater than maxExpires (60)',
    );
    expect(store.accounts.list()).toEqual([]);
  });

  it('lists accounts by domain then username, and the distinct domains', () => {
    store.accounts.add(newAccount('2001', 'b.example'));
    store.accounts.add(newAccount('1002', 'a.example'));
    store.accounts.add(newAccount('1001', 'a.example'));
    expect(store.accounts.list().map((a) => `${a.username}@${a.domain}`)).toEqual([
      '1001@a.example',
      '1002@a.example',
      '2001@b.example',
    ]);
    expect(store.accounts.list().every((a) => typeof a.enabled === 'boolean')).toBe(true);
    expect(store.accounts.domains()).toEqual(['a.example', 'b.example']);
  });

  it('updates only the given fields, and null clears a per-account limit', async () => {
    const added = store.accounts.add(newAccount('1001', 'example.com', { customer: 'acme', maxExpires: 600 }));
    await new Promise((resolve) => setTimeout(resolve, 2)); // updatedAt must move
    const updated = store.accounts.update(added.id, { enabled: false, maxExpires: null, customer: undefined });
    expect(updated).toMatchObject({ id: added.id, enabled: false, maxExpires: null, customer: 'acme' });
    expect(updated!.updatedAt).toBeGreaterThan(added.updatedAt);
    expect(updated!.createdAt).toBe(added.createdAt);
    expect(store.accounts.find('1001', 'example.com')).toEqual(updated);
  });

  it('checks an update against the merged account', () => {
    const added = store.accounts.add(newAccount('1001', 'example.com', { maxExpires: 600 }));
    expect(() => store.accounts.update(added.id, { minExpires: 3600 })).toThrow(
      'account 1001@example.com: minExpires (3600) is greater than maxExpires (600)',
    );
    expect(store.accounts.find('1001', 'example.com')?.minExpires).toBeNull();
  });

  it('update and remove of an unknown id report that nothing changed', () => {
    expect(store.accounts.update(999, { enabled: false })).toBeNull();
    expect(store.accounts.remove(999)).toBe(false);
  });

  it('removes an account', () => {
    const added = store.accounts.add(newAccount('1001'));
    expect(store.accounts.remove(added.id)).toBe(true);
    expect(store.accounts.find('1001', 'example.com')).toBeNull();
    expect(store.accounts.domains()).toEqual([]);
  });

  it('addMany adds all in one transaction', () => {
    const accounts = Array.from({ length: 1000 }, (_, i) => newAccount(String(10_000 + i)));
    expect(store.accounts.addMany(accounts)).toBe(1000);
    expect(store.accounts.list()).toHaveLength(1000);
  });

  it('addMany adds nothing when one row is a duplicate or bad, and says which row', () => {
    store.accounts.add(newAccount('1003'));
    const batch = [newAccount('1001'), newAccount('1002'), newAccount('1003'), newAccount('1004')];
    expect(() => store.accounts.addMany(batch)).toThrow('row 3: account 1003@example.com already exists');
    expect(() => store.accounts.addMany([newAccount('1001'), newAccount('1001')])).toThrow(
      'row 2: account 1001@example.com already exists',
    );
    expect(() => store.accounts.addMany([newAccount('1001'), newAccount('')])).toThrow('row 2: account username is empty');
    expect(store.accounts.list().map((a) => a.username)).toEqual(['1003']);
  });

  it('version changes on every account change', () => {
    const v0 = store.accounts.version();
    const added = store.accounts.add(newAccount('1001'));
    const v1 = store.accounts.version();
    expect(v1).not.toBe(v0);
    store.accounts.update(added.id, { enabled: false });
    const v2 = store.accounts.version();
    expect(v2).not.toBe(v1);
    store.accounts.remove(added.id);
    expect(store.accounts.version()).not.toBe(v2);
  });

  it('version changes when another process (a CLI on the same data dir) adds an account', async () => {
    const before = store.accounts.version();
    const cli = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      cli.accounts.add(newAccount('1001'));
    } finally {
      await cli.close();
    }
    expect(store.accounts.version()).not.toBe(before);
    expect(store.accounts.find('1001', 'example.com')?.username).toBe('1001');
  });

  it('version does not change when nothing about accounts changed', () => {
    store.accounts.add(newAccount('1001'));
    const v = store.accounts.version();
    store.settings.set('registrar.maxBindings', 5);
    store.bindings.applyNow([{ op: 'delete-binding', id: 1 }]);
    store.accounts.update(1, {});
    expect(store.accounts.version()).toBe(v);
  });
});
