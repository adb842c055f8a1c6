// `rollcall users` as an operator uses it: the first admin made before any serve, passwords
// from a flag or piped, the password policy and duplicates refused with a reason, the last
// admin kept, a token printed alone for `$(...)`, and every change in the audit log without
// a secret in it.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rollcall, tempDataDir } from '../support/rollcall-process.js';

const dirs: string[] = [];
const fresh = (tag: string) => {
  const d = tempDataDir(tag);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

function query<T>(dir: string, sql: string): T[] {
  const db = new Database(join(dir, 'rollcall.db'), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const addAdmin = (dir: string, name = 'admin') =>
  rollcall(['users', 'add', name, '--role', 'admin', '--password', 'correct horse battery', '--data-dir', dir]);

describe('rollcall users', () => {
  it('adds a user with --password on an empty data directory, storing only a scrypt hash, audited', () => {
    const dir = fresh('users-add');
    const r = addAdmin(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added console user admin (admin)\n');
    const [row] = query<{ name: string; role: string; password_hash: string }>(dir, 'SELECT name, role, password_hash FROM users');
    expect(row).toMatchObject({ name: 'admin', role: 'admin' });
    expect(row!.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    const audit = query<Record<string, unknown>>(dir, 'SELECT user, address, action, target, before_json, after_json FROM audit');
    expect(audit).toEqual([
      { user: 'cli', address: null, action: 'user.add', target: 'admin', before_json: null, after_json: '{"name":"admin","role":"admin"}' },
    ]);
    expect(readFileSync(join(dir, 'rollcall.db')).includes(Buffer.from('correct horse'))).toBe(false);
  });

  it('reads the password from the first line of piped stdin', () => {
    const dir = fresh('users-stdin');
    const r = rollcall(['users', 'add', 'op', '--role', 'operator', '--data-dir', dir], 'piped password 1\nsecond line\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added console user op (operator)\n');
    const empty = rollcall(['users', 'add', 'op2', '--role', 'operator', '--data-dir', dir], '');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('no --password given and nothing on stdin');
  });

  it('refuses a duplicate name, whatever its case, with exit 1', () => {
    const dir = fresh('users-dup');
    addAdmin(dir);
    const r = rollcall(['users', 'add', 'Admin', '--role', 'operator', '--password', 'another password', '--data-dir', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('rollcall: console user admin already exists\n');
    expect(query(dir, 'SELECT * FROM users')).toHaveLength(1);
  });

  it('enforces the password policy, with minLength from the config file', () => {
    const dir = fresh('users-policy');
    const add = (name: string, password: string, ...extra: string[]) =>
      rollcall(['users', 'add', name, '--role', 'operator', '--password', password, '--data-dir', dir, ...extra]);
    const short = add('alice', 'short-pw');
    expect(short.status).toBe(2);
    expect(short.stderr).toBe('rollcall: password must be at least 12 characters (http.passwordPolicy.minLength is 12)\n');
    expect(add('bob-the-operator', 'BOB-THE-OPERATOR').stderr).toContain('password must not be the user name');
    expect(add('alice', 'zzzzzzzzzzzzzzzz').stderr).toContain('password must not be one character repeated');
    const cfg = join(dir, 'rollcall.yaml');
    writeFileSync(cfg, 'http:\n  passwordPolicy:\n    minLength: 20\n');
    const longer = add('alice', 'fifteen chars!!', '--config', cfg);
    expect(longer.status).toBe(2);
    expect(longer.stderr).toContain('password must be at least 20 characters');
    expect(rollcall(['users', 'add', 'carol', '--role', 'boss', '--password', 'good password 1', '--data-dir', dir]).stderr).toContain(
      'role "boss" is not one of admin, operator, read-only',
    );
    expect(query(dir, 'SELECT * FROM users')).toEqual([]);
    expect(query(dir, 'SELECT * FROM audit')).toEqual([]);
  });

  it('lists users as JSON without any hash, and as a table', () => {
    const dir = fresh('users-list');
    expect(rollcall(['users', 'list', '--data-dir', dir]).stdout).toContain('no console users');
    addAdmin(dir);
    rollcall(['users', 'add', 'viewer', '--role', 'read-only', '--password', 'look but do not touch', '--data-dir', dir]);
    const r = rollcall(['users', 'list', '--json', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list).toEqual([
      { name: 'admin', role: 'admin', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), lastLoginAt: null },
      { name: 'viewer', role: 'read-only', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), lastLoginAt: null },
    ]);
    expect(r.stdout).not.toMatch(/scrypt|hash/i);
    const table = rollcall(['users', 'list', '--data-dir', dir]).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+ROLE\s+CREATED\s+LAST LOGIN$/);
    expect(table[2]).toMatch(/^viewer\s+read-only\s+\S+\s+never$/);
  });

  it('refuses to remove or demote the last admin, and removes a user once another admin exists', () => {
    const dir = fresh('users-last-admin');
    addAdmin(dir);
    const remove = rollcall(['users', 'remove', 'admin', '--data-dir', dir]);
    expect(remove.status).toBe(1);
    expect(remove.stderr).toBe('rollcall: admin is the last admin; make another user admin first\n');
    const demote = rollcall(['users', 'role', 'admin', 'operator', '--data-dir', dir]);
    expect(demote.status).toBe(1);
    expect(demote.stderr).toContain('admin is the last admin');

    addAdmin(dir, 'second');
    const demoted = rollcall(['users', 'role', 'admin', 'operator', '--data-dir', dir]);
    expect(demoted.status, demoted.stderr).toBe(0);
    expect(demoted.stdout).toBe('admin is operator (was admin)\n');
    const removed = rollcall(['users', 'remove', 'admin', '--data-dir', dir]);
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('removed console user admin\n');
    expect(rollcall(['users', 'remove', 'admin', '--data-dir', dir]).stderr).toContain('no console user admin');
    const actions = query<{ action: string; before_json: string | null; after_json: string | null }>(
      dir,
      "SELECT action, before_json, after_json FROM audit WHERE target = 'admin' ORDER BY id",
    );
    expect(actions).toEqual([
      { action: 'user.add', before_json: null, after_json: '{"name":"admin","role":"admin"}' },
      { action: 'user.role', before_json: '{"role":"admin"}', after_json: '{"role":"operator"}' },
      { action: 'user.remove', before_json: '{"name":"admin","role":"operator"}', after_json: null },
    ]);
  });

  it('prints only a new API token, whose SHA-256 is what the store keeps', () => {
    const dir = fresh('users-token');
    addAdmin(dir);
    const r = rollcall(['users', 'token', 'admin', '--token-name', 'backup script', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rc_[A-Za-z0-9_-]{43}\n$/);
    const token = r.stdout.trim();
    const stored = query<{ name: string; token_hash: string; user: string }>(
      dir,
      'SELECT t.name, t.token_hash, u.name AS user FROM api_tokens t JOIN users u ON u.id = t.user_id',
    );
    expect(stored).toEqual([{ name: 'backup script', token_hash: createHash('sha256').update(token).digest('hex'), user: 'admin' }]);
    const [entry] = query<{ action: string; target: string; after_json: string }>(dir, "SELECT * FROM audit WHERE action = 'token.create'");
    expect(entry).toMatchObject({ target: 'admin', after_json: '{"id":1,"name":"backup script"}' });
    expect(readFileSync(join(dir, 'rollcall.db')).includes(Buffer.from(token))).toBe(false);
    expect(rollcall(['users', 'token', 'nobody', '--data-dir', dir]).status).toBe(2);
  });

  it('changes a password (policy applied), ends the user’s sessions, and audits no secret', () => {
    const dir = fresh('users-passwd');
    addAdmin(dir);
    const before = query<{ password_hash: string }>(dir, 'SELECT password_hash FROM users')[0]!.password_hash;
    const db = new Database(join(dir, 'rollcall.db'));
    db.prepare("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ('s1', 1, 'c', 1, 9e12)").run();
    db.close();
    expect(rollcall(['users', 'passwd', 'admin', '--password', 'short', '--data-dir', dir]).stderr).toContain('at least 12 characters');
    const r = rollcall(['users', 'passwd', 'admin', '--data-dir', dir], 'a brand new password\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('changed the password of admin and ended 1 console session\n');
    const after = query<{ password_hash: string }>(dir, 'SELECT password_hash FROM users')[0]!.password_hash;
    expect(after).not.toBe(before);
    expect(query(dir, 'SELECT * FROM sessions')).toEqual([]);
    const audit = JSON.stringify(query(dir, 'SELECT * FROM audit'));
    expect(audit).toContain('user.password');
    expect(audit).not.toMatch(/scrypt|brand new|correct horse/);
    expect(rollcall(['users', 'passwd', 'nobody', '--password', 'a brand new password', '--data-dir', dir]).status).toBe(2);
  });
});
