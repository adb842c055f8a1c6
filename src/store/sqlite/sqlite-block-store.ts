// Blocked addresses and usernames in SQLite: lockouts the server decides ('auto') and bans
// an operator sets, kept across restarts. A handful to a few thousand rows, read whole by
// the server when securityVersion() moves.

import { isIP } from 'node:net';
import type Database from 'better-sqlite3';
import type { BlockRecord, BlockStore } from '../store.js';

const BLOCK_COLUMNS = `kind, value, reason, created_at AS createdAt, expires_at AS expiresAt,
  created_by AS createdBy`;

type BlockParams = [
  kind: BlockRecord['kind'],
  value: string,
  reason: string,
  createdAt: number,
  expiresAt: number | null,
  createdBy: string,
];

export class SqliteBlockStore implements BlockStore {
  readonly #put: Database.Statement<BlockParams>;
  readonly #remove: Database.Statement<[string, string]>;
  readonly #list: Database.Statement<[number], BlockRecord>;
  readonly #prune: Database.Statement<[number]>;
  readonly #version: Database.Statement<[], number>;

  constructor(db: Database.Database) {
    this.#put = db.prepare(`
      INSERT OR REPLACE INTO blocks (kind, value, reason, created_at, expires_at, created_by)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.#remove = db.prepare('DELETE FROM blocks WHERE kind = ? AND value = ?');
    this.#list = db.prepare(`
      SELECT ${BLOCK_COLUMNS} FROM blocks WHERE expires_at IS NULL OR expires_at > ?
      ORDER BY created_at DESC, kind, value`);
    this.#prune = db.prepare('DELETE FROM blocks WHERE expires_at <= ?');
    this.#version = db.prepare('SELECT security_version FROM meta').pluck() as Database.Statement<[], number>;
  }

  put(b: BlockRecord): void {
    const value = normaliseBlockValue(b.kind, b.value);
    if (typeof b.reason !== 'string') throw new Error(`block of ${value}: reason must be text`);
    if (!Number.isSafeInteger(b.createdAt)) {
      throw new Error(`block of ${value}: createdAt must be epoch milliseconds, got ${String(b.createdAt)}`);
    }
    if (b.expiresAt !== null && !Number.isSafeInteger(b.expiresAt)) {
      throw new Error(`block of ${value}: expiresAt must be epoch milliseconds or null, got ${String(b.expiresAt)}`);
    }
    if (typeof b.createdBy !== 'string' || b.createdBy === '') {
      throw new Error(`block of ${value}: createdBy must name who blocked it ('auto', a user name or 'cli')`);
    }
    this.#put.run(b.kind, value, b.reason, b.createdAt, b.expiresAt, b.createdBy);
  }

  remove(kind: BlockRecord['kind'], value: string): boolean {
    return this.#remove.run(kind, normaliseBlockValue(kind, value)).changes > 0;
  }

  list(nowMs: number): BlockRecord[] {
    return this.#list.all(nowMs);
  }

  pruneExpired(nowMs: number): number {
    return this.#prune.run(nowMs).changes;
  }

  securityVersion(): number {
    return this.#version.get()!;
  }
}

/**
 * How a blocked value is stored and looked up: an address lowercase (IPv6 hex digits), a
 * username as `user@domain` with the domain lowercase (as accounts store it) and the user
 * part as given (SIP user parts are case-sensitive).
 */
export function normaliseBlockValue(kind: BlockRecord['kind'], value: string): string {
  if (typeof value !== 'string') throw new Error(`a blocked ${kind} must be text`);
  const v = value.trim();
  if (kind === 'address') {
    if (isIP(v) === 0) throw new Error(`blocked address ${JSON.stringify(value)} is not an IPv4 or IPv6 address`);
    return v.toLowerCase();
  }
  if (kind === 'username') {
    const at = v.lastIndexOf('@');
    if (at <= 0 || at === v.length - 1 || /[\s\p{Cc}]/u.test(v)) {
      throw new Error(`blocked username ${JSON.stringify(value)} must be user@domain, e.g. 1001@example.com`);
    }
    return `${v.slice(0, at)}@${v.slice(at + 1).toLowerCase()}`;
  }
  throw new Error(`block kind ${JSON.stringify(kind)} is not address or username`);
}
