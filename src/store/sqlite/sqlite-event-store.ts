// Registration history in SQLite: filtered queries, newest first, and pruning in chunks
// small enough that the commit worker never waits long for the write lock.

import type Database from 'better-sqlite3';
import type { EventQuery, EventSearch, EventStore, RegistrationEvent, StoredEvent } from '../store.js';

export const DEFAULT_EVENT_LIMIT = 100;
export const MAX_EVENT_LIMIT = 10_000;
/** Rows deleted per statement (and so per transaction) by prune. */
export const PRUNE_CHUNK = 10_000;

const EVENT_COLUMNS = `time, type, aor, contact, binding_id AS bindingId,
  source_address AS sourceAddress, source_port AS sourcePort, transport,
  user_agent AS userAgent, reason`;
const EVENT_OUTPUT = 'time, type, aor, contact, bindingId, sourceAddress, sourcePort, transport, userAgent, reason';

interface QueryParams {
  aor?: string;
  sourceAddress?: string;
  type?: string;
  since?: number;
  until?: number;
  limit: number;
}

export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  /** One prepared statement per combination of filters, prepared on first use. */
  readonly #queries = new Map<number, Database.Statement<[QueryParams], RegistrationEvent>>();
  readonly #pruneChunk: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#pruneChunk = db.prepare(
      'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? ORDER BY time LIMIT ?)',
    );
  }

  /**
   * Events matching every given filter, newest first. `since` is inclusive and `until`
   * exclusive, so consecutive windows neither overlap nor leave gaps. `limit` defaults to
   * 100 and is capped at 10,000.
   */
  query(q: EventQuery): RegistrationEvent[] {
    const params: QueryParams = { limit: eventLimit(q.limit) };
    let shape = 0;
    if (q.aor !== undefined) {
      params.aor = q.aor;
      shape |= 1;
    }
    if (q.sourceAddress !== undefined) {
      params.sourceAddress = q.sourceAddress;
      shape |= 2;
    }
    if (q.type !== undefined) {
      params.type = q.type;
      shape |= 4;
    }
    if (q.since !== undefined) {
      params.since = q.since;
      shape |= 8;
    }
    if (q.until !== undefined) {
      params.until = q.until;
      shape |= 16;
    }
    return this.#statementFor(shape).all(params);
  }

  search(q: EventSearch): StoredEvent[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.number !== undefined) {
      // AORs are `sip:user@domain`: the user part is what sits between.
      where.push("aor >= @numLo AND aor < @numHi");
      params['numLo'] = `sip:${q.number}@`;
      params['numHi'] = `sip:${q.number}A`; // '@' + 1
    }
    if (q.aors !== undefined) {
      where.push('aor IN (SELECT value FROM json_each(@aors))');
      params['aors'] = JSON.stringify(q.aors);
    }
    if (q.sourceAddress !== undefined) {
      where.push('source_address = @src');
      params['src'] = q.sourceAddress;
    }
    if (q.sourcePrefix !== undefined) {
      where.push('substr(source_address, 1, @srcLen) = @srcPrefix');
      params['srcPrefix'] = q.sourcePrefix;
      params['srcLen'] = q.sourcePrefix.length;
    }
    if (q.type !== undefined) {
      where.push('type = @type');
      params['type'] = q.type;
    }
    if (q.since !== undefined) {
      where.push('time >= @since');
      params['since'] = q.since;
    }
    if (q.until !== undefined) {
      where.push('time < @until');
      params['until'] = q.until;
    }
    if (q.before !== undefined) {
      where.push('(time < @bTime OR (time = @bTime AND id < @bId))');
      params['bTime'] = q.before.time;
      params['bId'] = q.before.id;
    }
    const sql = `SELECT id, ${EVENT_COLUMNS} FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC`;
    const limit = Math.min(Math.max(1, q.limit), MAX_EVENT_LIMIT);
    const out: StoredEvent[] = [];
    for (const row of this.#db.prepare(sql).iterate(params) as IterableIterator<StoredEvent>) {
      if (q.sourceMatches !== undefined && (row.sourceAddress === null || !q.sourceMatches(row.sourceAddress))) continue;
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }

  prune(before: number): number {
    let total = 0;
    for (;;) {
      // Each run is its own transaction: the write lock is released between chunks.
      const deleted = this.#pruneChunk.run(before, PRUNE_CHUNK).changes;
      total += deleted;
      if (deleted < PRUNE_CHUNK) return total;
    }
  }

  #statementFor(shape: number): Database.Statement<[QueryParams], RegistrationEvent> {
    let statement = this.#queries.get(shape);
    if (statement === undefined) {
      const where: string[] = [];
      if (shape & 1) where.push('aor = @aor');
      if (shape & 2) where.push('source_address = @sourceAddress');
      if (shape & 4) where.push('type = @type');
      if (shape & 8) where.push('time >= @since');
      if (shape & 16) where.push('time < @until');
      const select = (extra: string[]) => {
        const all = [...where, ...extra];
        return `SELECT id, ${EVENT_COLUMNS} FROM events${all.length > 0 ? ` WHERE ${all.join(' AND ')}` : ''}`;
      };
      // The AOR and source indexes leave out 'refreshed' events (the bulk of history; see
      // the schema). A query by AOR or source reads the other events through those indexes
      // and the refreshes through the time index, then merges.
      const byIndexedColumn = (shape & 3) !== 0;
      const sql = byIndexedColumn
        ? `SELECT ${EVENT_OUTPUT} FROM (${select(["type <> 'refreshed'"])} UNION ALL ${select(["type = 'refreshed'"])})`
        : `SELECT ${EVENT_OUTPUT} FROM (${select([])})`;
      statement = this.#db.prepare(`${sql} ORDER BY time DESC, id DESC LIMIT @limit`);
      this.#queries.set(shape, statement);
    }
    return statement;
  }
}

function eventLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_EVENT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`event query limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, MAX_EVENT_LIMIT);
}
