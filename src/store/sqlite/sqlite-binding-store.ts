// Bindings in SQLite, read side plus the CLI's direct write. The running server writes
// bindings only through the BindingJournal; this reads them back at startup.

import type Database from 'better-sqlite3';
import type { BindingRecord, BindingStore, StoreOp } from '../store.js';
import type { StoreOpWriter } from './store-op-writer.js';

const BINDING_COLUMNS = `id, aor, username, domain, contact, instance, reg_id AS regId, q,
  call_id AS callId, cseq, expires, expires_at AS expiresAt, registered_at AS registeredAt,
  refreshed_at AS refreshedAt, source_address AS sourceAddress, source_port AS sourcePort,
  transport, local_address AS localAddress, local_port AS localPort, user_agent AS userAgent,
  path, nat`;

/** A bindings row as selected by BINDING_COLUMNS: a BindingRecord with `path` as JSON and `nat` as 0/1. */
type BindingRow = Omit<BindingRecord, 'path' | 'nat'> & { path: string | readonly string[]; nat: number | boolean };

const NO_PATH: readonly string[] = Object.freeze([]);

export class SqliteBindingStore implements BindingStore {
  readonly #writer: StoreOpWriter;
  readonly #all: Database.Statement<[], BindingRow>;
  readonly #messages: Database.Statement<[number], { request: Buffer; response: Buffer }>;
  readonly #maxId: Database.Statement<[], number>;

  constructor(db: Database.Database, writer: StoreOpWriter) {
    this.#writer = writer;
    this.#all = db.prepare(`SELECT ${BINDING_COLUMNS} FROM bindings ORDER BY id`);
    this.#messages = db.prepare('SELECT last_request AS request, last_response AS response FROM bindings WHERE id = ?');
    this.#maxId = db
      .prepare('SELECT max(binding_id_high, ifnull((SELECT max(id) FROM bindings), 0)) FROM meta')
      .pluck() as Database.Statement<[], number>;
  }

  loadAll(): BindingRecord[] {
    const rows = this.#all.all();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      row.path = row.path === '[]' ? NO_PATH : (JSON.parse(row.path as string) as string[]);
      row.nat = row.nat === 1;
    }
    return rows as BindingRecord[];
  }

  lastMessages(id: number): { request: string; response: string } | null {
    const row = this.#messages.get(id);
    if (row === undefined) return null;
    return { request: row.request.toString('utf8'), response: row.response.toString('utf8') };
  }

  applyNow(ops: readonly StoreOp[]): void {
    this.#writer.apply(ops);
  }

  maxId(): number {
    return this.#maxId.get()!;
  }
}
