// Console users in SQLite. Changes that could remove the last admin (a removal, a demotion)
// check the admin count inside their own IMMEDIATE transaction, so that a CLI and the API
// acting at the same moment cannot both take away "the other" admin.

import type Database from 'better-sqlite3';
import {
  DuplicateUserError,
  LastAdminError,
  USER_ROLES,
  type UserRecord,
  type UserRole,
  type UserStore,
} from '../store.js';

type UserChange = { role?: UserRole; passwordHash?: string; lastLoginAt?: number };

const USER_COLUMNS = `id, name, role, password_hash AS passwordHash, created_at AS createdAt,
  updated_at AS updatedAt, last_login_at AS lastLoginAt`;

/** Longest user name accepted; names show in tables, logs and URLs. */
export const MAX_USER_NAME_LENGTH = 64;
// Letters, digits and . _ - @ : a name that reads the same in a shell, a URL and a log line.
const USER_NAME = /^[\p{L}\p{N}._@-]+$/u;

export class SqliteUserStore implements UserStore {
  readonly #find: Database.Statement<[string], UserRecord>;
  readonly #byId: Database.Statement<[number], UserRecord>;
  readonly #list: Database.Statement<[], UserRecord>;
  readonly #insert: Database.Statement<[string, string, string, number, number], UserRecord>;
  readonly #update: Database.Statement<[string, string, number, number | null, number], UserRecord>;
  readonly #remove: Database.Statement<[number]>;
  readonly #countAdmins: Database.Statement<[], number>;
  readonly #updateTx: Database.Transaction<(name: string, change: UserChange) => UserRecord | null>;
  readonly #removeTx: Database.Transaction<(name: string) => boolean>;

  constructor(db: Database.Database) {
    this.#find = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`);
    this.#byId = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`);
    this.#list = db.prepare(`SELECT ${USER_COLUMNS} FROM users ORDER BY name, id`);
    this.#insert = db.prepare(`
      INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
      RETURNING ${USER_COLUMNS}`);
    this.#update = db.prepare(`
      UPDATE users SET role = ?, password_hash = ?, updated_at = ?, last_login_at = ?
      WHERE id = ?
      RETURNING ${USER_COLUMNS}`);
    this.#remove = db.prepare('DELETE FROM users WHERE id = ?');
    this.#countAdmins = db.prepare("SELECT count(*) FROM users WHERE role = 'admin'").pluck() as Database.Statement<
      [],
      number
    >;

    this.#updateTx = db.transaction((name: string, change: UserChange) => {
      const user = this.#find.get(name);
      if (user === undefined) return null;
      const role = change.role === undefined ? user.role : checkRole(change.role);
      if (user.role === 'admin' && role !== 'admin' && this.countAdmins() <= 1) throw new LastAdminError(user.name);
      const passwordHash =
        change.passwordHash === undefined ? user.passwordHash : checkPasswordHash(user.name, change.passwordHash);
      const lastLoginAt = change.lastLoginAt === undefined ? user.lastLoginAt : checkTime('lastLoginAt', change.lastLoginAt);
      const edited = role !== user.role || passwordHash !== user.passwordHash;
      return this.#update.get(role, passwordHash, edited ? Date.now() : user.updatedAt, lastLoginAt, user.id)!;
    });

    this.#removeTx = db.transaction((name: string) => {
      const user = this.#find.get(name);
      if (user === undefined) return false;
      if (user.role === 'admin' && this.countAdmins() <= 1) throw new LastAdminError(user.name);
      // Tokens and sessions go by ON DELETE CASCADE.
      return this.#remove.run(user.id).changes > 0;
    });
  }

  add(u: { name: string; role: UserRole; passwordHash: string }): UserRecord {
    const name = checkName(u.name);
    const role = checkRole(u.role);
    const passwordHash = checkPasswordHash(name, u.passwordHash);
    const now = Date.now();
    try {
      return this.#insert.get(name, role, passwordHash, now, now)!;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateUserError(name);
      throw err;
    }
  }

  find(name: string): UserRecord | null {
    return this.#find.get(name) ?? null;
  }

  findById(id: number): UserRecord | null {
    return this.#byId.get(id) ?? null;
  }

  list(): UserRecord[] {
    return this.#list.all();
  }

  update(name: string, change: UserChange): UserRecord | null {
    return this.#updateTx.immediate(name, change);
  }

  remove(name: string): boolean {
    return this.#removeTx.immediate(name);
  }

  countAdmins(): number {
    return this.#countAdmins.get()!;
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new Error('console user name is empty; give a login name such as admin');
  }
  if (name.length > MAX_USER_NAME_LENGTH) {
    throw new Error(`console user name is longer than ${MAX_USER_NAME_LENGTH} characters`);
  }
  if (!USER_NAME.test(name)) {
    throw new Error(`console user name ${JSON.stringify(name)} may hold only letters, digits and . _ - @`);
  }
  return name;
}

function checkRole(role: unknown): UserRole {
  if (!(USER_ROLES as readonly unknown[]).includes(role)) {
    throw new Error(`role ${JSON.stringify(role)} is not one of ${USER_ROLES.join(', ')}`);
  }
  return role as UserRole;
}

function checkPasswordHash(name: string, hash: unknown): string {
  // A plain password here would be a bug upstream; refusing it keeps it out of the database.
  if (typeof hash !== 'string' || !hash.startsWith('scrypt$')) {
    throw new Error(`console user ${name}: passwordHash must be a scrypt$... hash from hashPassword()`);
  }
  return hash;
}

function checkTime(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${field} must be epoch milliseconds, got ${String(value)}`);
  }
  return value;
}
