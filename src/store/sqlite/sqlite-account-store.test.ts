import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newAccount } from '../store-records.fixture.js';
import { openConnection } from './connection.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './schema.js';
import { SqliteAccountStore } from './sqlite-account-store.js';
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

  describe('auth modes and allowed networks', () => {
    it('defaults to password from anywhere', () => {
      const added = store.accounts.add(newAccount('1001'));
      expect(added).toMatchObject({ authMode: 'password', allowedNetworks: null });
      expect(store.accounts.list()[0]).toMatchObject({ authMode: 'password', allowedNetworks: null });
    });

    it('stores each mode with its networks, normalised, and reads them back as a list', () => {
      const ip = store.accounts.add(
        newAccount('1001', 'example.com', { authMode: 'ip', allowedNetworks: [' 192.0.2.0/24 ', '2001:DB8::/032', '198.51.100.7'] }),
      );
      expect(ip).toMatchObject({ authMode: 'ip', allowedNetworks: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'] });
      const port = store.accounts.add(
        newAccount('1002', 'example.com', { authMode: 'ip-port', allowedNetworks: ['192.0.2.7:5060', '[2001:DB8::7]:5062', '10.0.0.0/8'] }),
      );
      expect(port.allowedNetworks).toEqual(['192.0.2.7:5060', '[2001:db8::7]:5062', '10.0.0.0/8']);
      const both = store.accounts.add(
        newAccount('1003', 'example.com', { authMode: 'ip-and-password', allowedNetworks: ['10.1.0.0/16', '10.1.0.0/16'] }),
      );
      expect(both.allowedNetworks).toEqual(['10.1.0.0/16']);
      const restricted = store.accounts.add(newAccount('1004', 'example.com', { allowedNetworks: ['203.0.113.0/24'] }));
      expect(restricted).toMatchObject({ authMode: 'password', allowedNetworks: ['203.0.113.0/24'] });
      expect(store.accounts.find('1002', 'example.com')).toEqual(port);
      expect(store.accounts.byId(ip.id)).toEqual(ip);
      expect(store.accounts.query({ limit: 10 }).items.map((a) => a.allowedNetworks)).toEqual([
        ip.allowedNetworks,
        port.allowedNetworks,
        ['10.1.0.0/16'],
        ['203.0.113.0/24'],
      ]);
    });

    it('stores an empty list as null (from anywhere) for password accounts', () => {
      expect(store.accounts.add(newAccount('1001', 'example.com', { allowedNetworks: [] })).allowedNetworks).toBeNull();
    });

    it('refuses ip-and-password without networks (it could never register)', () => {
      expect(() => store.accounts.add(newAccount('1002', 'example.com', { authMode: 'ip-and-password', allowedNetworks: [] }))).toThrow(
        'account 1002@example.com: auth mode ip-and-password needs allowedNetworks',
      );
    });

    it('refuses ip and ip-port without networks, naming the account and the mode', () => {
      expect(() => store.accounts.add(newAccount('1001', 'example.com', { authMode: 'ip' }))).toThrow(
        'account 1001@example.com: auth mode ip needs allowedNetworks, the addresses it may register from',
      );
      expect(() => store.accounts.add(newAccount('1001', 'example.com', { authMode: 'ip-port', allowedNetworks: [] }))).toThrow(
        'account 1001@example.com: auth mode ip-port needs allowedNetworks',
      );
      expect(store.accounts.list()).toEqual([]);
    });

    it('refuses a bad entry, naming it, and a port outside ip-port', () => {
      const add = (authMode: 'password' | 'ip' | 'ip-port', allowedNetworks: string[]) =>
        store.accounts.add(newAccount('1001', 'example.com', { authMode, allowedNetworks }));
      expect(() => add('ip', ['192.0.2.0/24', 'office'])).toThrow(
        'account 1001@example.com: allowed network "office" is not an IPv4 or IPv6 address or CIDR',
      );
      for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/8:5060', '300.1.1.1', 'fe80::1%eth0', '10.0.0.1:0', '10.0.0.1:70000', '[10.0.0.1]:5060', '2001:db8::7:5060:x']) {
        expect(() => add('ip-port', [bad]), bad).toThrow(`allowed network ${JSON.stringify(bad)} is not an IPv4 or IPv6 address or CIDR`);
      }
      expect(() => add('ip', ['192.0.2.7:5060'])).toThrow(
        'account 1001@example.com: allowed network "192.0.2.7:5060" has a port, which only auth mode ip-port uses',
      );
      expect(() => add('password', ['[2001:db8::7]:5060'])).toThrow('has a port');
      expect(() => store.accounts.add(newAccount('1001', 'example.com', { authMode: 'certificate' as 'ip' }))).toThrow(
        'account 1001@example.com: authMode "certificate" is not one of password, ip, ip-port, ip-and-password',
      );
      expect(store.accounts.list()).toEqual([]);
    });

    it('updates the mode and the networks, checked against the merged account', () => {
      const added = store.accounts.add(newAccount('1001'));
      expect(() => store.accounts.update(added.id, { authMode: 'ip' })).toThrow('auth mode ip needs allowedNetworks');
      const ip = store.accounts.update(added.id, { authMode: 'ip', allowedNetworks: ['192.0.2.0/24'] });
      expect(ip).toMatchObject({ authMode: 'ip', allowedNetworks: ['192.0.2.0/24'] });
      expect(() => store.accounts.update(added.id, { allowedNetworks: null })).toThrow('auth mode ip needs allowedNetworks');
      const port = store.accounts.update(added.id, { authMode: 'ip-port', allowedNetworks: ['192.0.2.7:5060'] });
      expect(port).toMatchObject({ authMode: 'ip-port', allowedNetworks: ['192.0.2.7:5060'] });
      expect(() => store.accounts.update(added.id, { authMode: 'ip' })).toThrow('"192.0.2.7:5060" has a port');
      expect(store.accounts.update(added.id, { enabled: false })).toMatchObject({ authMode: 'ip-port', allowedNetworks: ['192.0.2.7:5060'] });
      const back = store.accounts.update(added.id, { authMode: 'password', allowedNetworks: null });
      expect(back).toMatchObject({ authMode: 'password', allowedNetworks: null });
      expect(store.accounts.find('1001', 'example.com')).toEqual(back);
    });

    it('addMany checks every row and names the bad one', () => {
      expect(() =>
        store.accounts.addMany([newAccount('1001', 'example.com', { authMode: 'ip', allowedNetworks: ['10.0.0.0/8'] }), newAccount('1002', 'example.com', { authMode: 'ip' })]),
      ).toThrow('row 2: account 1002@example.com: auth mode ip needs allowedNetworks');
      expect(store.accounts.list()).toEqual([]);
    });
  });
});

describe('migrating a version-2 database', () => {
  it('keeps its accounts, with authMode password from anywhere, and adds the security tables', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rollcall-migrate-'));
    try {
      mkdirSync(dataDir, { recursive: true });
      const db = openConnection({ file: join(dataDir, 'rollcall.db'), synchronous: 'normal' });
      migrate(db, 2);
      expect(schemaVersion(db)).toBe(2);
      const now = Date.now();
      const a = newAccount('1001', 'example.com', { customer: 'acme' });
      db.prepare(
        `INSERT INTO accounts (username, domain, customer, ha1_md5, ha1_sha256, enabled, max_bindings, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, 3, ?, ?)`,
      ).run(a.username, a.domain, a.customer, a.ha1Md5, a.ha1Sha256, now, now);
      const accountsVersion = db.prepare('SELECT accounts_version FROM meta').pluck().get();
      db.close();

      const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
      try {
        expect(store.accounts.find('1001', 'example.com')).toMatchObject({
          username: '1001',
          customer: 'acme',
          ha1Md5: a.ha1Md5,
          maxBindings: 3,
          authMode: 'password',
          allowedNetworks: null,
          createdAt: now,
        });
        expect(store.accounts.version()).toBe(accountsVersion);
        expect(store.blocks.list(now)).toEqual([]);
        expect(store.addressLists.all()).toEqual([]);
        expect(store.failures.query({ limit: 10 })).toEqual([]);
        expect(store.blocks.securityVersion()).toBe(0);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an account store on the migrated connection reads and writes the new columns', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rollcall-migrate-'));
    const db = openConnection({ file: join(dataDir, 'rollcall.db'), synchronous: 'normal' });
    try {
      migrate(db, 2);
      migrate(db);
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      const accounts = new SqliteAccountStore(db);
      const added = accounts.add(newAccount('1001', 'example.com', { authMode: 'ip', allowedNetworks: ['10.0.0.0/8'] }));
      expect(db.prepare('SELECT auth_mode, allowed_networks FROM accounts WHERE id = ?').get(added.id)).toEqual({
        auth_mode: 'ip',
        allowed_networks: '["10.0.0.0/8"]',
      });
      expect(() => db.prepare("UPDATE accounts SET auth_mode = 'magic'").run()).toThrow(/CHECK constraint/);
    } finally {
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
