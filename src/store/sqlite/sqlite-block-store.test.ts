import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockRecord } from '../store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const block = (change: Partial<BlockRecord> = {}): BlockRecord => ({
  kind: 'address',
  value: '203.0.113.9',
  reason: '12 failed authentications in 60 s',
  createdAt: 1_000,
  expiresAt: 61_000,
  createdBy: 'auto',
  ...change,
});

describe('SQLite block store', () => {
  let dataDir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-blocks-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores a block and lists it back exactly', () => {
    store.blocks.put(block());
    expect(store.blocks.list(2_000)).toEqual([block()]);
  });

  it('lists only blocks not expired at the given time, newest first; null never expires', () => {
    store.blocks.put(block({ value: '192.0.2.1', createdAt: 1_000, expiresAt: 10_000 }));
    store.blocks.put(block({ value: '192.0.2.2', createdAt: 3_000, expiresAt: null, createdBy: 'cli', reason: 'blocked by admin' }));
    store.blocks.put(block({ kind: 'username', value: '1001@example.com', createdAt: 2_000, expiresAt: 20_000 }));
    const values = (now: number) => store.blocks.list(now).map((b) => b.value);
    expect(values(5_000)).toEqual(['192.0.2.2', '1001@example.com', '192.0.2.1']);
    expect(values(10_000)).toEqual(['192.0.2.2', '1001@example.com']); // expiresAt <= now: expired
    expect(values(1e13)).toEqual(['192.0.2.2']);
  });

  it('replaces the block of the same kind and value, and keeps address and username apart', () => {
    store.blocks.put(block({ createdAt: 1_000, expiresAt: 61_000 }));
    store.blocks.put(block({ createdAt: 5_000, expiresAt: null, reason: 'blocked by admin', createdBy: 'alice' }));
    store.blocks.put(block({ kind: 'username', value: '1001@example.com' }));
    expect(store.blocks.list(6_000)).toEqual([
      block({ createdAt: 5_000, expiresAt: null, reason: 'blocked by admin', createdBy: 'alice' }),
      block({ kind: 'username', value: '1001@example.com' }),
    ]);
  });

  it('normalises values: IPv6 and domains lowercase, user parts as given; remove finds them the same way', () => {
    store.blocks.put(block({ value: ' 2001:DB8::7 ' }));
    store.blocks.put(block({ kind: 'username', value: 'Alice@EXAMPLE.com' }));
    expect(store.blocks.list(2_000).map((b) => b.value).sort()).toEqual(['2001:db8::7', 'Alice@example.com']);
    expect(store.blocks.remove('username', 'alice@example.com')).toBe(false);
    expect(store.blocks.remove('username', 'Alice@Example.COM')).toBe(true);
    expect(store.blocks.remove('address', '2001:db8:0::7')).toBe(false); // not canonicalised, only lowercased
    expect(store.blocks.remove('address', '2001:Db8::7')).toBe(true);
    expect(store.blocks.remove('address', '2001:db8::7')).toBe(false);
    expect(store.blocks.list(2_000)).toEqual([]);
  });

  it('refuses a value that is not an address or user@domain, and a record without who or when', () => {
    expect(() => store.blocks.put(block({ value: 'evil.example.com' }))).toThrow(
      'blocked address "evil.example.com" is not an IPv4 or IPv6 address',
    );
    expect(() => store.blocks.put(block({ kind: 'username', value: '1001' }))).toThrow(
      'blocked username "1001" must be user@domain, e.g. 1001@example.com',
    );
    expect(() => store.blocks.put(block({ kind: 'username', value: '1001@' }))).toThrow('must be user@domain');
    expect(() => store.blocks.put(block({ kind: 'domain' as 'address' }))).toThrow('block kind "domain" is not address or username');
    expect(() => store.blocks.put(block({ createdBy: '' }))).toThrow('createdBy must name who blocked it');
    expect(() => store.blocks.put(block({ expiresAt: Number.NaN }))).toThrow('expiresAt must be epoch milliseconds or null');
    expect(() => store.blocks.remove('address', 'nonsense')).toThrow('is not an IPv4 or IPv6 address');
    expect(store.blocks.list(0)).toEqual([]);
  });

  it('prunes expired blocks and says how many', () => {
    store.blocks.put(block({ value: '192.0.2.1', expiresAt: 10_000 }));
    store.blocks.put(block({ value: '192.0.2.2', expiresAt: 20_000 }));
    store.blocks.put(block({ value: '192.0.2.3', expiresAt: null }));
    expect(store.blocks.pruneExpired(10_000)).toBe(1);
    expect(store.blocks.pruneExpired(10_000)).toBe(0);
    expect(store.blocks.pruneExpired(1e13)).toBe(1);
    expect(store.blocks.list(1e13).map((b) => b.value)).toEqual(['192.0.2.3']);
  });

  it('securityVersion moves on every block and address list change, in this process or another', async () => {
    const versions = [store.blocks.securityVersion()];
    const step = (change: () => unknown) => {
      change();
      const v = store.blocks.securityVersion();
      expect(v).not.toBe(versions.at(-1));
      versions.push(v);
    };
    step(() => store.blocks.put(block()));
    step(() => store.blocks.put(block({ reason: 'again' })));
    step(() => store.blocks.remove('address', '203.0.113.9'));
    let id = 0;
    step(() => (id = store.addressLists.add({ list: 'deny', cidr: '10.0.0.0/8', customer: null, note: null, createdBy: 'cli' }).id));
    step(() => store.addressLists.remove(id));
    step(() => {
      store.blocks.put(block({ expiresAt: 5 }));
      store.blocks.pruneExpired(10);
    });
    const other = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      step(() => other.addressLists.add({ list: 'allow', cidr: '192.0.2.0/24', customer: 'acme', note: null, createdBy: 'cli' }));
    } finally {
      await other.close();
    }
  });

  it('securityVersion stays when nothing about blocks or lists changed', () => {
    const v = store.blocks.securityVersion();
    store.blocks.remove('address', '192.0.2.1');
    store.blocks.pruneExpired(1e13);
    store.addressLists.remove(42);
    store.accounts.add({ username: '1001', domain: 'example.com', customer: null, ha1Md5: 'a'.repeat(32), ha1Sha256: 'b'.repeat(64) });
    store.bindings.applyNow([{ op: 'failure', failure: { time: 1, sourceAddress: '192.0.2.1', sourcePort: 5060, transport: 'UDP', username: null, userAgent: null, reason: 'malformed', detail: null, count: 1 } }]);
    expect(store.blocks.securityVersion()).toBe(v);
  });

  it('survives reopening', async () => {
    store.blocks.put(block({ expiresAt: null }));
    await store.close();
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    expect(store.blocks.list(Date.now())).toEqual([block({ expiresAt: null })]);
  });
});
