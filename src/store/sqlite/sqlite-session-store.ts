// Console login sessions in SQLite, keyed by the hash of the cookie's session id (a copy of
// the database does not hold live cookies). Expiry is the caller's decision: `find` returns
// what is stored and the API compares expiresAt with its clock; `pruneExpired` tidies up.

import type Database from 'better-sqlite3';
import type { SessionRecord, SessionStore } from '../store.js';

const SESSION_COLUMNS = `id_hash AS idHash, user_id AS userId, csrf_token AS csrfToken,
  created_at AS createdAt, expires_at AS expiresAt, address`;

export class SqliteSessionStore implements SessionStore {
  readonly #insert: Database.Statement<[string, number, string, number, number, string | null]>;
  readonly #find: Database.Statement<[string], SessionRecord>;
  readonly #extend: Database.Statement<[number, string]>;
  readonly #remove: Database.Statement<[string]>;
  readonly #removeForUser: Database.Statement<[number]>;
  readonly #pruneExpired: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(`
      INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, address)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.#find = db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id_hash = ?`);
    this.#extend = db.prepare('UPDATE sessions SET expires_at = ? WHERE id_hash = ?');
    this.#remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
    this.#removeForUser = db.prepare('DELETE FROM sessions WHERE user_id = ?');
    this.#pruneExpired = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
  }

  add(s: SessionRecord): void {
    try {
      this.#insert.run(s.idHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt, s.address ?? null);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new Error(`no console user with id ${s.userId}`, { cause: err });
      }
      throw err;
    }
  }

  find(idHash: string): SessionRecord | null {
    return this.#find.get(idHash) ?? null;
  }

  extend(idHash: string, expiresAt: number): void {
    this.#extend.run(expiresAt, idHash);
  }

  remove(idHash: string): void {
    this.#remove.run(idHash);
  }

  removeForUser(userId: number): number {
    return this.#removeForUser.run(userId).changes;
  }

  pruneExpired(now: number): number {
    return this.#pruneExpired.run(now).changes;
  }
}
