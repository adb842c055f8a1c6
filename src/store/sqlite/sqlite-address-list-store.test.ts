import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateAddressListEntryError, type AddressListStore } from '../store.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

type NewEntry = Parameters<AddressListStore['add']>[0];
const entry = (change: Partial<NewEntry> = {}): NewEntry => ({
  list: 'allow',
  cidr: '192.0.2.0/24',
  customer: null,
  note: null,
  createdBy: 'cli',
  ...change,
});

describe('SQLite address list store', () => {
  let dataDir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-lists-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds an entry and returns it with its id and time; all() lists by id', () => {
    const before = Date.now();
    const a = store.addressLists.add(entry({ note: 'office', createdBy: 'alice' }));
    expect(a).toEqual({
      id: a.id,
      list: 'allow',
      cidr: '192.0.2.0/24',
      customer: null,
      note: 'office',
      createdAt: a.createdAt,
      createdBy: 'alice',
    });
    expect(a.createdAt).toBeGreaterThanOrEqual(before);
    const b = store.addressLists.add(entry({ list: 'deny', cidr: '2001:db8::/32', customer: 'acme' }));
    expect(b.id).toBeGreaterThan(a.id);
    expect(store.addressLists.all()).toEqual([a, b]);
  });

  it('normalises: lowercase, trimmed, prefix without leading zeros, a bare address kept bare, empty text as null', () => {
    expect(store.addressLists.add(entry({ cidr: ' 2001:DB8:AB::/048 ' })).cidr).toBe('2001:db8:ab::/48');
    expect(store.addressLists.add(entry({ cidr: '198.51.100.7' })).cidr).toBe('198.51.100.7');
    expect(store.addressLists.add(entry({ cidr: '::FFFF:10.0.0.1' })).cidr).toBe('::ffff:10.0.0.1');
    const e = store.addressLists.add(entry({ cidr: '10.0.0.0/8', customer: '  ', note: '' }));
    expect(e).toMatchObject({ customer: null, note: null });
  });

  it('refuses an invalid CIDR, naming it', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'example.com', '', '2001:db8::/129', '10.0.0.1:5060', 'fe80::1%eth0', '10.0.0.0/-1']) {
      expect(() => store.addressLists.add(entry({ cidr: bad })), bad).toThrow(
        `allow list entry ${JSON.stringify(bad)} is not an IPv4 or IPv6 address or CIDR (e.g. 192.0.2.7, 10.0.0.0/8 or 2001:db8::/32)`,
      );
    }
    expect(() => store.addressLists.add(entry({ list: 'grey' as 'allow' }))).toThrow('address list "grey" is not one of allow, deny');
    expect(() => store.addressLists.add(entry({ createdBy: '' }))).toThrow('createdBy must name who added it');
    expect(store.addressLists.all()).toEqual([]);
  });

  it('refuses a duplicate (list, cidr, customer), global entries included, and names the entry there', () => {
    const first = store.addressLists.add(entry());
    const again = () => store.addressLists.add(entry({ cidr: '192.0.2.0/24 ', note: 'again' }));
    expect(again).toThrow(DuplicateAddressListEntryError);
    expect(again).toThrow(`allow list already has 192.0.2.0/24 (entry ${first.id})`);
    try {
      again();
    } catch (err) {
      expect((err as DuplicateAddressListEntryError).existing).toEqual(first);
    }
    const forAcme = store.addressLists.add(entry({ customer: 'acme' }));
    expect(() => store.addressLists.add(entry({ customer: 'acme' }))).toThrow(
      `allow list already has 192.0.2.0/24 for customer acme (entry ${forAcme.id})`,
    );
    // The same network on the other list, or for another customer, is another entry.
    store.addressLists.add(entry({ list: 'deny' }));
    store.addressLists.add(entry({ customer: 'globex' }));
    expect(store.addressLists.all()).toHaveLength(4);
  });

  it('removes by id, returning what went; null for an unknown id; ids are not reused', () => {
    const a = store.addressLists.add(entry());
    const b = store.addressLists.add(entry({ cidr: '10.0.0.0/8' }));
    expect(store.addressLists.remove(b.id)).toEqual(b);
    expect(store.addressLists.remove(b.id)).toBeNull();
    expect(store.addressLists.all()).toEqual([a]);
    expect(store.addressLists.add(entry({ cidr: '10.0.0.0/8' })).id).toBeGreaterThan(b.id);
  });

  it('version() moves on list changes only, not on blocks', () => {
    const v0 = store.addressLists.version();
    const e = store.addressLists.add(entry());
    const v1 = store.addressLists.version();
    expect(v1).not.toBe(v0);
    store.blocks.put({ kind: 'address', value: '192.0.2.1', reason: 'x', createdAt: 1, expiresAt: null, createdBy: 'auto' });
    expect(store.addressLists.version()).toBe(v1);
    store.addressLists.remove(e.id);
    expect(store.addressLists.version()).not.toBe(v1);
  });

  it('reads back 100,000 entries written by another connection in one transaction', () => {
    const db = new Database(store.file);
    try {
      const insert = db.prepare("INSERT INTO address_lists (list, cidr, customer, note, created_at, created_by) VALUES (?, ?, NULL, NULL, 1, 'cli')");
      db.transaction(() => {
        for (let i = 0; i < 100_000; i++) insert.run(i % 2 ? 'deny' : 'allow', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      })();
    } finally {
      db.close();
    }
    const started = performance.now();
    const all = store.addressLists.all();
    // A regression guard, not a benchmark (~250 ms on the 2-core test box when it is quiet).
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(all).toHaveLength(100_000);
    expect(all[99_999]).toMatchObject({ list: 'deny', cidr: '10.1.134.159', customer: null });
    expect(() => store.addressLists.add(entry({ list: 'deny', cidr: '10.1.134.159' }))).toThrow(DuplicateAddressListEntryError);
  });
});
