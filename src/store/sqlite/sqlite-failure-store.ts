// The failed-registration log in SQLite: written by the commit worker (the 'failure' op of
// store-op-writer.ts), read here newest first with a (time, id) cursor, summed by reason,
// source and username over a time range, and pruned in chunks like the history.

import type Database from 'better-sqlite3';
import { FAILURE_REASONS, type FailureCounts, type FailureQuery, type FailureRecord, type FailureStore } from '../store.js';

export const MAX_FAILURE_LIMIT = 10_000;
/** Rows deleted per statement (and so per transaction) by prune. */
export const FAILURE_PRUNE_CHUNK = 10_000;

const FAILURE_COLUMNS = `id, time, source_address AS sourceAddress, source_port AS sourcePort, transport,
  username, user_agent AS userAgent, reason, detail, count`;

type StoredFailure = FailureRecord & { id: number };

interface RangeParams {
  since?: number;
  until?: number;
  limit: number;
}

export class SqliteFailureStore implements FailureStore {
  readonly #db: Database.Database;
  /** One prepared statement per combination of filters, prepared on first use. */
  readonly #queries = new Map<number, Database.Statement<[Record<string, unknown>], StoredFailure>>();
  readonly #counts = new Map<number, CountStatements>();
  readonly #pruneChunk: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#pruneChunk = db.prepare(
      'DELETE FROM failures WHERE id IN (SELECT id FROM failures WHERE time < ? ORDER BY time LIMIT ?)',
    );
  }

  /**
   * Failures matching every given filter, newest first. `since` is inclusive and `until`
   * exclusive; `before` continues from the last row of the previous page.
   */
  query(q: FailureQuery): StoredFailure[] {
    const params: Record<string, unknown> = { limit: failureLimit(q.limit) };
    let shape = 0;
    if (q.since !== undefined) {
      params['since'] = q.since;
      shape |= 1;
    }
    if (q.until !== undefined) {
      params['until'] = q.until;
      shape |= 2;
    }
    if (q.reason !== undefined) {
      if (!(FAILURE_REASONS as readonly string[]).includes(q.reason)) {
        throw new Error(`failure reason ${JSON.stringify(q.reason)} is not one of ${FAILURE_REASONS.join(', ')}`);
      }
      params['reason'] = q.reason;
      shape |= 4;
    }
    if (q.sourceAddress !== undefined) {
      params['sourceAddress'] = q.sourceAddress;
      shape |= 8;
    }
    if (q.username !== undefined) {
      params['username'] = q.username;
      shape |= 16;
    }
    if (q.before !== undefined) {
      params['bTime'] = q.before.time;
      params['bId'] = q.before.id;
      shape |= 32;
    }
    return this.#statementFor(shape).all(params);
  }

  counts(q: { since?: number; until?: number; limit: number }): FailureCounts {
    const params: RangeParams = { limit: failureLimit(q.limit) };
    let shape = 0;
    if (q.since !== undefined) {
      params.since = q.since;
      shape |= 1;
    }
    if (q.until !== undefined) {
      params.until = q.until;
      shape |= 2;
    }
    const s = this.#countStatementsFor(shape);
    return {
      byReason: s.byReason.all(params),
      bySource: s.bySource.all(params),
      byUsername: s.byUsername.all(params),
    };
  }

  prune(before: number): number {
    let total = 0;
    for (;;) {
      // Each run is its own transaction: the write lock is released between chunks.
      const deleted = this.#pruneChunk.run(before, FAILURE_PRUNE_CHUNK).changes;
      total += deleted;
      if (deleted < FAILURE_PRUNE_CHUNK) return total;
    }
  }

  #statementFor(shape: number): Database.Statement<[Record<string, unknown>], StoredFailure> {
    let statement = this.#queries.get(shape);
    if (statement === undefined) {
      const where = rangeWhere(shape);
      if (shape & 4) where.push('reason = @reason');
      if (shape & 8) where.push('source_address = @sourceAddress');
      if (shape & 16) where.push('username = @username');
      if (shape & 32) where.push('(time < @bTime OR (time = @bTime AND id < @bId))');
      statement = this.#db.prepare(
        `SELECT ${FAILURE_COLUMNS} FROM failures${whereClause(where)} ORDER BY time DESC, id DESC LIMIT @limit`,
      );
      this.#queries.set(shape, statement);
    }
    return statement;
  }

  #countStatementsFor(shape: number): CountStatements {
    let statements = this.#counts.get(shape);
    if (statements === undefined) {
      const grouped = <T>(column: string, as: string, extra: string[] = []) =>
        this.#db.prepare(
          `SELECT ${column} AS ${as}, sum(count) AS count FROM failures${whereClause([...rangeWhere(shape), ...extra])}
           GROUP BY ${column} ORDER BY count DESC, ${column} LIMIT @limit`,
        ) as Database.Statement<[RangeParams], T>;
      statements = {
        byReason: grouped('reason', 'reason'),
        bySource: grouped('source_address', 'sourceAddress'),
        byUsername: grouped('username', 'username', ['username IS NOT NULL']),
      };
      this.#counts.set(shape, statements);
    }
    return statements;
  }
}

interface CountStatements {
  readonly byReason: Database.Statement<[RangeParams], FailureCounts['byReason'][number]>;
  readonly bySource: Database.Statement<[RangeParams], FailureCounts['bySource'][number]>;
  readonly byUsername: Database.Statement<[RangeParams], FailureCounts['byUsername'][number]>;
}

function rangeWhere(shape: number): string[] {
  const where: string[] = [];
  if (shape & 1) where.push('time >= @since');
  if (shape & 2) where.push('time < @until');
  return where;
}

function whereClause(where: readonly string[]): string {
  return where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
}

function failureLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`failure query limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, MAX_FAILURE_LIMIT);
}
