import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateUserError, LastAdminError, type UserRole } from '../store.js';
import { migrate } from './schema.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

// Stores do not hash: any well-formed string stands in for hashPassword()'s output here.
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=';
const user = (name: string, role: UserRole = 'operator') => ({ name, role, passwordHash: HASH });

describe('SQLite console user store', () => {
  let dataDir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-users-'));
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds a user and finds it by name (any case) and by id', () => {
    const added = store.users.add(user('alice', 'admin'));
    expect(added).toMatchObject({ name: 'alice', role: 'admin', passwordHash: HASH, lastLoginAt: null });
    expect(added.id).toBeGreaterThan(0);
    expect(added.createdAt).toBe(added.updatedAt);
    expect(store.users.find('alice')).toEqual(added);
    expect(store.users.find('ALICE')).toEqual(added);
    expect(store.users.findById(added.id)).toEqual(added);
    expect(store.users.find('bob')).toBeNull();
    expect(store.users.findById(added.id + 1)).toBeNull();
  });

  it('throws DuplicateUserError for a name that exists, whatever its case', () => {
    store.users.add(user('alice'));
    expect(() => store.users.add(user('alice'))).toThrow(DuplicateUserError);
    expect(() => store.users.add(user('Alice'))).toThrow('console user Alice already exists');
    expect(store.users.list()).toHaveLength(1);
  });

  it('refuses an unusable name, an unknown role and a password that is not a hash', () => {
    expect(() => store.users.add(user(''))).toThrow('console user name is empty');
    expect(() => store.users.add(user('al ice'))).toThrow('may hold only letters, digits and . _ - @');
    expect(() => store.users.add(user('x'.repeat(65)))).toThrow('longer than 64 characters');
    expect(() => store.users.add(user('alice', 'root' as UserRole))).toThrow('role "root" is not one of admin, operator, read-only');
    expect(() => store.users.add({ name: 'alice', role: 'admin', passwordHash: 'hunter2hunter2' })).toThrow(
      'passwordHash must be a scrypt$... hash',
    );
    expect(store.users.list()).toEqual([]);
  });

  it('lists users by name', () => {
    store.users.add(user('carol'));
    store.users.add(user('Bob'));
    store.users.add(user('alice'));
    expect(store.users.list().map((u) => u.name)).toEqual(['alice', 'Bob', 'carol']);
  });

  it('updates role and password (moving updatedAt) and the last login (not moving it)', async () => {
    store.users.add(user('root', 'admin'));
    const added = store.users.add(user('alice', 'read-only'));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const promoted = store.users.update('ALICE', { role: 'admin' });
    expect(promoted).toMatchObject({ id: added.id, name: 'alice', role: 'admin', passwordHash: HASH });
    expect(promoted!.updatedAt).toBeGreaterThan(added.updatedAt);
    const newHash = HASH.replace('c2Fsd', 'b3RoZ');
    expect(store.users.update('alice', { passwordHash: newHash })?.passwordHash).toBe(newHash);
    const before = store.users.find('alice')!;
    await new Promise((resolve) => setTimeout(resolve, 2));
    const loggedIn = store.users.update('alice', { lastLoginAt: 1_800_000_000_000 });
    expect(loggedIn).toEqual({ ...before, lastLoginAt: 1_800_000_000_000 });
    expect(store.users.update('nobody', { role: 'admin' })).toBeNull();
    expect(() => store.users.update('alice', { role: 'boss' as UserRole })).toThrow('is not one of');
  });

  it('counts admins', () => {
    expect(store.users.countAdmins()).toBe(0);
    store.users.add(user('a1', 'admin'));
    store.users.add(user('o1', 'operator'));
    store.users.add(user('a2', 'admin'));
    expect(store.users.countAdmins()).toBe(2);
  });

  it('refuses to remove or demote the last admin, and allows it while another admin exists', () => {
    store.users.add(user('root', 'admin'));
    expect(() => store.users.remove('root')).toThrow(LastAdminError);
    expect(() => store.users.update('root', { role: 'operator' })).toThrow('root is the last admin');
    expect(store.users.update('root', { role: 'admin' })?.role).toBe('admin');
    store.users.add(user('second', 'admin'));
    expect(store.users.update('root', { role: 'operator' })?.role).toBe('operator');
    expect(() => store.users.remove('second')).toThrow(LastAdminError);
    expect(store.users.remove('root')).toBe(true);
    expect(store.users.countAdmins()).toBe(1);
  });

  it('removes a user with its tokens and sessions, leaving other users’ alone', () => {
    const alice = store.users.add(user('alice'));
    const bob = store.users.add(user('bob'));
    store.tokens.add({ userId: alice.id, name: 't', tokenHash: 'a'.repeat(64) });
    store.tokens.add({ userId: bob.id, name: 't', tokenHash: 'b'.repeat(64) });
    const session = { csrfToken: 'c', createdAt: 1, expiresAt: 2, address: null };
    store.sessions.add({ ...session, idHash: 'sa', userId: alice.id });
    store.sessions.add({ ...session, idHash: 'sb', userId: bob.id });
    expect(store.users.remove('Alice')).toBe(true);
    expect(store.users.find('alice')).toBeNull();
    expect(store.tokens.findByHash('a'.repeat(64))).toBeNull();
    expect(store.sessions.find('sa')).toBeNull();
    expect(store.tokens.findByHash('b'.repeat(64))?.userId).toBe(bob.id);
    expect(store.sessions.find('sb')?.userId).toBe(bob.id);
    expect(store.users.remove('alice')).toBe(false);
  });

  it('never gives a removed user’s id to a new user', () => {
    store.users.add(user('a'));
    const b = store.users.add(user('b'));
    store.users.remove('b');
    expect(store.users.add(user('c')).id).toBeGreaterThan(b.id);
  });

  it('sees users added by another connection (a CLI next to the server)', async () => {
    const cli = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      cli.users.add(user('alice', 'admin'));
    } finally {
      await cli.close();
    }
    expect(store.users.find('alice')?.role).toBe('admin');
  });

  it('migrates a version-1 database (accounts kept) to one with console users', async () => {
    await store.close();
    const file = join(dataDir, 'rollcall.db');
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    const db = new Database(file);
    migrate(db, 1);
    db.exec(`INSERT INTO accounts (username, domain, ha1_md5, ha1_sha256, created_at, updated_at)
      VALUES ('1001', 'example.com', '${'0'.repeat(32)}', '${'0'.repeat(64)}', 1, 1)`);
    db.close();
    store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    expect(store.accounts.find('1001', 'example.com')).not.toBeNull();
    expect(store.users.add(user('alice')).name).toBe('alice');
  });
});
