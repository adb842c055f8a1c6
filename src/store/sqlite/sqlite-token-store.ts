// API tokens in SQLite. `findByHash` runs on every API request made with a bearer token: one
// prepared `get` on the token_hash unique index.

import type Database from 'better-sqlite3';
import type { ApiTokenRecord, TokenStore } from '../store.js';

const TOKEN_COLUMNS = `id, user_id AS userId, name, token_hash AS tokenHash, created_at AS createdAt,
  last_used_at AS lastUsedAt`;

/** Longest token label accepted. */
export const MAX_TOKEN_NAME_LENGTH = 100;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export class SqliteTokenStore implements TokenStore {
  readonly #insert: Database.Statement<[number, string, string, number], ApiTokenRecord>;
  readonly #findByHash: Database.Statement<[string], ApiTokenRecord>;
  readonly #listFor: Database.Statement<[number], ApiTokenRecord>;
  readonly #remove: Database.Statement<[number, number]>;
  readonly #touch: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(`
      INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)
      RETURNING ${TOKEN_COLUMNS}`);
    this.#findByHash = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?`);
    this.#listFor = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY id`);
    this.#remove = db.prepare('DELETE FROM api_tokens WHERE id = ? AND user_id = ?');
    this.#touch = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
  }

  add(t: { userId: number; name: string; tokenHash: string }): ApiTokenRecord {
    const name = checkName(t.name);
    // Only a hash is ever stored: a token (rc_...) passed here by mistake is refused.
    if (typeof t.tokenHash !== 'string' || !SHA256_HEX.test(t.tokenHash)) {
      throw new Error('API token hash must be 64 lowercase hex digits, the SHA-256 from hashApiToken()');
    }
    try {
      return this.#insert.get(t.userId, name, t.tokenHash, Date.now())!;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new Error(`no console user with id ${t.userId}`, { cause: err });
      if (code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Error('an API token with this hash already exists', { cause: err });
      throw err;
    }
  }

  findByHash(tokenHash: string): ApiTokenRecord | null {
    return this.#findByHash.get(tokenHash) ?? null;
  }

  listFor(userId: number): ApiTokenRecord[] {
    return this.#listFor.all(userId);
  }

  remove(id: number, userId: number): boolean {
    return this.#remove.run(id, userId).changes > 0;
  }

  touch(id: number, at: number): void {
    this.#touch.run(at, id);
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new Error('API token name is empty; give a label such as "backup script"');
  }
  if (name.length > MAX_TOKEN_NAME_LENGTH) {
    throw new Error(`API token name is longer than ${MAX_TOKEN_NAME_LENGTH} characters`);
  }
  return name;
}
