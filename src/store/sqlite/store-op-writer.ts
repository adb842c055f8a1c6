// Applies a batch of StoreOps to one connection as one transaction. The commit worker, the
// inline journal and BindingStore.applyNow all write through this, so a binding is stored
// the same way whichever path it took.

import type Database from 'better-sqlite3';
import type { BindingRecord, RegistrationEvent, StoreOp } from '../store.js';

const EMPTY_PATH_JSON = '[]';

export class StoreOpWriter {
  readonly #upsertBinding: Database.Statement<unknown[]>;
  readonly #upsertMessages: Database.Statement<[number, string, string]>;
  readonly #deleteMessages: Database.Statement<[number]>;
  readonly #deleteBinding: Database.Statement<[number]>;
  readonly #insertEvent: Database.Statement<unknown[]>;
  readonly #apply: Database.Transaction<(ops: readonly StoreOp[]) => void>;

  constructor(db: Database.Database) {
    this.#upsertBinding = db.prepare(`
      INSERT INTO bindings (
        id, aor, username, domain, contact, instance, reg_id, q, call_id, cseq, expires,
        expires_at, registered_at, refreshed_at, source_address, source_port, transport,
        local_address, local_port, user_agent, path
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        aor = excluded.aor, username = excluded.username, domain = excluded.domain,
        contact = excluded.contact, instance = excluded.instance, reg_id = excluded.reg_id,
        q = excluded.q, call_id = excluded.call_id, cseq = excluded.cseq,
        expires = excluded.expires, expires_at = excluded.expires_at,
        registered_at = excluded.registered_at, refreshed_at = excluded.refreshed_at,
        source_address = excluded.source_address, source_port = excluded.source_port,
        transport = excluded.transport, local_address = excluded.local_address,
        local_port = excluded.local_port, user_agent = excluded.user_agent,
        path = excluded.path`);
    this.#upsertMessages = db.prepare(`
      INSERT INTO binding_messages (binding_id, last_request, last_response) VALUES (?, ?, ?)
      ON CONFLICT (binding_id) DO UPDATE SET
        last_request = excluded.last_request, last_response = excluded.last_response`);
    this.#deleteMessages = db.prepare('DELETE FROM binding_messages WHERE binding_id = ?');
    this.#deleteBinding = db.prepare('DELETE FROM bindings WHERE id = ?');
    this.#insertEvent = db.prepare(`
      INSERT INTO events (
        time, type, aor, contact, binding_id, source_address, source_port, transport,
        user_agent, reason
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#apply = db.transaction((ops: readonly StoreOp[]) => {
      for (let i = 0; i < ops.length; i++) this.#applyOne(ops[i]!);
    });
  }

  /** All of `ops` or none of them; throws what SQLite threw. */
  apply(ops: readonly StoreOp[]): void {
    this.#apply.immediate(ops);
  }

  #applyOne(op: StoreOp): void {
    switch (op.op) {
      case 'put-binding':
        this.#putBinding(op.binding);
        this.#upsertMessages.run(op.binding.id, op.lastRequest, op.lastResponse);
        return;
      case 'delete-binding':
        // The foreign key would cascade too; deleting explicitly keeps it right for a
        // connection opened without foreign_keys (an operator's sqlite3 shell).
        this.#deleteMessages.run(op.id);
        this.#deleteBinding.run(op.id);
        return;
      case 'event':
        this.#putEvent(op.event);
        return;
      default:
        throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }

  #putBinding(b: BindingRecord): void {
    this.#upsertBinding.run(
      b.id,
      b.aor,
      b.username,
      b.domain,
      b.contact,
      b.instance ?? null,
      b.regId ?? null,
      b.q ?? null,
      b.callId,
      b.cseq,
      b.expires,
      b.expiresAt,
      b.registeredAt,
      b.refreshedAt,
      b.sourceAddress,
      b.sourcePort,
      b.transport,
      b.localAddress,
      b.localPort,
      b.userAgent ?? null,
      b.path.length === 0 ? EMPTY_PATH_JSON : JSON.stringify(b.path),
    );
  }

  #putEvent(e: RegistrationEvent): void {
    this.#insertEvent.run(
      e.time,
      e.type,
      e.aor ?? null,
      e.contact ?? null,
      e.bindingId ?? null,
      e.sourceAddress ?? null,
      e.sourcePort ?? null,
      e.transport ?? null,
      e.userAgent ?? null,
      e.reason ?? null,
    );
  }
}
