// Applies a batch of StoreOps to one connection as one transaction. The commit worker (from
// the binary batch of store-op-codec.ts), the inline journal and BindingStore.applyNow (from
// op objects) all end in #applyOne, so a binding is stored the same way whichever path it took.
//
// What a registration costs here is mostly the pages it dirties (~8-12 µs of this thread
// each on the 2-core test box): each is written to the WAL at commit and copied back at the
// next checkpoint. A refresh dirties the page of its bindings row (messages included: no
// second table to rewrite) and appends an event, whose AOR and source index entries each
// land on a page of their own: those two are now most of the cost. A failed registration
// appends a row to `failures` (four index entries), which under a flood the server keeps to
// one row per source and reason per second by aggregating before it submits.

import type Database from 'better-sqlite3';
import { StoreOpReader } from '../store-op-codec.js';
import type { BindingRecord, FailureRecord, RegistrationEvent, StoreOp } from '../store.js';

const EMPTY_PATH_JSON = '[]';

/** Columns of `bindings` in the order of #bindingParams; `id` last, for the UPDATE's WHERE. */
const BINDING_COLUMNS = [
  'aor',
  'username',
  'domain',
  'contact',
  'instance',
  'reg_id',
  'q',
  'call_id',
  'cseq',
  'expires',
  'expires_at',
  'registered_at',
  'refreshed_at',
  'source_address',
  'source_port',
  'transport',
  'local_address',
  'local_port',
  'user_agent',
  'path',
  'nat',
  'last_request',
  'last_response',
  'id',
] as const;
const BINDING_ID = BINDING_COLUMNS.length - 1;

type Params = unknown[];

export class StoreOpWriter {
  readonly #updateBinding: Database.Statement<Params>;
  readonly #insertBinding: Database.Statement<Params>;
  readonly #deleteBinding: Database.Statement<[number]>;
  readonly #rememberDeletedId: Database.Statement<[number]>;
  readonly #insertEvent: Database.Statement<Params>;
  readonly #insertFailure: Database.Statement<Params>;
  /**
   * Reused for every binding and event, and spread into run(): better-sqlite3 binds
   * arguments faster than the elements of an array argument (0.7 µs less per binding).
   */
  readonly #bindingParams: Params = new Array<unknown>(BINDING_COLUMNS.length).fill(null);
  readonly #eventParams: Params = new Array<unknown>(10).fill(null);
  readonly #failureParams: Params = new Array<unknown>(9).fill(null);
  readonly #apply: Database.Transaction<(ops: readonly StoreOp[]) => void>;
  readonly #applyEncoded: Database.Transaction<(batch: Buffer) => void>;

  constructor(db: Database.Database) {
    const columns = BINDING_COLUMNS.slice(0, BINDING_ID);
    // A refresh is an UPDATE of an existing row; only a first registration falls through to
    // the INSERT. (An upsert tries the insert first, every time.)
    this.#updateBinding = db.prepare(`UPDATE bindings SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`);
    this.#insertBinding = db.prepare(
      `INSERT INTO bindings (${BINDING_COLUMNS.join(', ')}) VALUES (${BINDING_COLUMNS.map(() => '?').join(', ')})`,
    );
    this.#deleteBinding = db.prepare('DELETE FROM bindings WHERE id = ?');
    this.#rememberDeletedId = db.prepare('UPDATE meta SET binding_id_high = max(binding_id_high, ?) WHERE id = 1');
    this.#insertEvent = db.prepare(`
      INSERT INTO events (
        time, type, aor, contact, binding_id, source_address, source_port, transport,
        user_agent, reason
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#insertFailure = db.prepare(`
      INSERT INTO failures (
        time, source_address, source_port, transport, username, user_agent, reason, detail, count
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#apply = db.transaction((ops: readonly StoreOp[]) => {
      for (let i = 0; i < ops.length; i++) this.#applyOne(ops[i]!);
    });
    this.#applyEncoded = db.transaction((batch: Buffer) => {
      const reader = new StoreOpReader(batch);
      for (let op = reader.next(); op !== null; op = reader.next()) this.#applyOne(op);
    });
  }

  /** All of `ops` or none of them; throws what SQLite threw. */
  apply(ops: readonly StoreOp[]): void {
    this.#apply.immediate(ops);
  }

  /** All ops of a batch encoded by StoreOpEncoder, or none of them. */
  applyEncoded(batch: Buffer): void {
    this.#applyEncoded.immediate(batch);
  }

  #applyOne(op: StoreOp): void {
    switch (op.op) {
      case 'put-binding':
        this.#putBinding(op.binding, op.lastRequest, op.lastResponse);
        return;
      case 'delete-binding':
        // Remembered so that maxId() never goes back when the newest binding goes.
        if (this.#deleteBinding.run(op.id).changes > 0) this.#rememberDeletedId.run(op.id);
        return;
      case 'event':
        this.#putEvent(op.event);
        return;
      case 'failure':
        this.#putFailure(op.failure);
        return;
      default:
        throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }

  #putBinding(b: BindingRecord, lastRequest: Buffer, lastResponse: Buffer): void {
    const p = this.#bindingParams;
    p[0] = b.aor;
    p[1] = b.username;
    p[2] = b.domain;
    p[3] = b.contact;
    p[4] = b.instance ?? null;
    p[5] = b.regId ?? null;
    p[6] = b.q ?? null;
    p[7] = b.callId;
    p[8] = b.cseq;
    p[9] = b.expires;
    p[10] = b.expiresAt;
    p[11] = b.registeredAt;
    p[12] = b.refreshedAt;
    p[13] = b.sourceAddress;
    p[14] = b.sourcePort;
    p[15] = b.transport;
    p[16] = b.localAddress;
    p[17] = b.localPort;
    p[18] = b.userAgent ?? null;
    p[19] = b.path.length === 0 ? EMPTY_PATH_JSON : JSON.stringify(b.path);
    p[20] = b.nat ? 1 : 0;
    p[21] = lastRequest;
    p[22] = lastResponse;
    p[BINDING_ID] = b.id;
    if (this.#updateBinding.run(...p).changes === 0) this.#insertBinding.run(...p);
    // Not kept past the statement: a decoded batch's messages are views into its buffer.
    p[20] = null;
    p[21] = null;
  }

  #putEvent(e: RegistrationEvent): void {
    const p = this.#eventParams;
    p[0] = e.time;
    p[1] = e.type;
    p[2] = e.aor ?? null;
    p[3] = e.contact ?? null;
    p[4] = e.bindingId ?? null;
    p[5] = e.sourceAddress ?? null;
    p[6] = e.sourcePort ?? null;
    p[7] = e.transport ?? null;
    p[8] = e.userAgent ?? null;
    p[9] = e.reason ?? null;
    this.#insertEvent.run(...p);
  }

  #putFailure(f: FailureRecord): void {
    const p = this.#failureParams;
    p[0] = f.time;
    p[1] = f.sourceAddress;
    p[2] = f.sourcePort;
    p[3] = f.transport;
    p[4] = f.username ?? null;
    p[5] = f.userAgent ?? null;
    p[6] = f.reason;
    p[7] = f.detail ?? null;
    p[8] = f.count ?? 1;
    this.#insertFailure.run(...p);
  }
}
