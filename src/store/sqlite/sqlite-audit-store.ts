// The audit log in SQLite: who changed what, appended by the API and the CLI, read newest
// first with an id cursor, pruned by age in chunks (like the registration history) so that
// the commit worker never waits long for the write lock.

import type Database from 'better-sqlite3';
import type { AuditEntry, AuditQuery, AuditStore } from '../store.js';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 10_000;
/** Rows deleted per statement (and so per transaction) by prune. */
export const AUDIT_PRUNE_CHUNK = 10_000;

const AUDIT_COLUMNS = 'id, time, user, address, action, target, before_json AS beforeJson, after_json AS afterJson';

interface AuditRow {
  id: number;
  time: number;
  user: string | null;
  address: string | null;
  action: string;
  target: string | null;
  beforeJson: string | null;
  afterJson: string | null;
}

interface QueryParams {
  user?: string;
  action?: string;
  since?: number;
  until?: number;
  beforeId?: number;
  limit: number;
}

export class SqliteAuditStore implements AuditStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<
    [number, string | null, string | null, string, string | null, string | null, string | null],
    { id: number }
  >;
  /** One prepared statement per combination of filters, prepared on first use. */
  readonly #queries = new Map<number, Database.Statement<[QueryParams], AuditRow>>();
  readonly #pruneChunk: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO audit (time, user, address, action, target, before_json, after_json)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      RETURNING id`);
    this.#pruneChunk = db.prepare(
      'DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < ? ORDER BY time LIMIT ?)',
    );
  }

  append(e: Omit<AuditEntry, 'id'>): AuditEntry {
    if (typeof e.action !== 'string' || e.action === '') throw new Error('audit entry needs an action such as user.add');
    if (!Number.isSafeInteger(e.time)) throw new Error(`audit entry time must be epoch milliseconds, got ${String(e.time)}`);
    const beforeJson = toJson('before', e.before);
    const afterJson = toJson('after', e.after);
    const { id } = this.#insert.get(e.time, e.user ?? null, e.address ?? null, e.action, e.target ?? null, beforeJson, afterJson)!;
    return {
      id,
      time: e.time,
      user: e.user ?? null,
      address: e.address ?? null,
      action: e.action,
      target: e.target ?? null,
      // What a later query returns: a copy through JSON, not the caller's object.
      before: fromJson(beforeJson),
      after: fromJson(afterJson),
    };
  }

  /**
   * Entries matching every given filter, newest first (id desc). `since` is inclusive and
   * `until` exclusive; `beforeId` continues from the last id of the previous page.
   */
  query(q: AuditQuery): AuditEntry[] {
    const params: QueryParams = { limit: auditLimit(q.limit) };
    let shape = 0;
    if (q.user !== undefined) {
      params.user = q.user;
      shape |= 1;
    }
    if (q.action !== undefined) {
      params.action = q.action;
      shape |= 2;
    }
    if (q.since !== undefined) {
      params.since = q.since;
      shape |= 4;
    }
    if (q.until !== undefined) {
      params.until = q.until;
      shape |= 8;
    }
    if (q.beforeId !== undefined) {
      params.beforeId = q.beforeId;
      shape |= 16;
    }
    return this.#statementFor(shape).all(params).map(toEntry);
  }

  prune(before: number): number {
    let total = 0;
    for (;;) {
      // Each run is its own transaction: the write lock is released between chunks.
      const deleted = this.#pruneChunk.run(before, AUDIT_PRUNE_CHUNK).changes;
      total += deleted;
      if (deleted < AUDIT_PRUNE_CHUNK) return total;
    }
  }

  #statementFor(shape: number): Database.Statement<[QueryParams], AuditRow> {
    let statement = this.#queries.get(shape);
    if (statement === undefined) {
      const where: string[] = [];
      if (shape & 1) where.push('user = @user');
      if (shape & 2) where.push('action = @action');
      if (shape & 4) where.push('time >= @since');
      if (shape & 8) where.push('time < @until');
      if (shape & 16) where.push('id < @beforeId');
      const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
      statement = this.#db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit${filter} ORDER BY id DESC LIMIT @limit`);
      this.#queries.set(shape, statement);
    }
    return statement;
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    time: row.time,
    user: row.user,
    address: row.address,
    action: row.action,
    target: row.target,
    before: fromJson(row.beforeJson),
    after: fromJson(row.afterJson),
  };
}

/** undefined and null are both stored as NULL: "nothing before" (an add) or "nothing after". */
function toJson(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) throw new Error(`audit entry ${field} is not JSON-serialisable`);
  return json;
}

function fromJson(json: string | null): unknown {
  return json === null ? null : JSON.parse(json);
}

function auditLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_AUDIT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`audit query limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, MAX_AUDIT_LIMIT);
}
