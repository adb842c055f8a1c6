// The allow and deny address lists in SQLite: CIDRs (IPv4 and IPv6), global or for one
// customer's accounts. The server reads them whole when securityVersion() moves and builds
// its own lookup structure (src/security/); this file only keeps them valid and unique.

import type Database from 'better-sqlite3';
import { NETWORK_EXAMPLES, normaliseNetwork } from '../network-entry.js';
import {
  ADDRESS_LISTS,
  DuplicateAddressListEntryError,
  type AddressListEntryRecord,
  type AddressListName,
  type AddressListStore,
} from '../store.js';

const ENTRY_COLUMNS = 'id, list, cidr, customer, note, created_at AS createdAt, created_by AS createdBy';

type EntryParams = [
  list: AddressListName,
  cidr: string,
  customer: string | null,
  note: string | null,
  createdAt: number,
  createdBy: string,
];

export class SqliteAddressListStore implements AddressListStore {
  readonly #insert: Database.Statement<EntryParams, AddressListEntryRecord>;
  readonly #find: Database.Statement<[string, string, string], AddressListEntryRecord>;
  readonly #remove: Database.Statement<[number], AddressListEntryRecord>;
  readonly #all: Database.Statement<[], AddressListEntryRecord>;
  readonly #version: Database.Statement<[], number>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(`
      INSERT INTO address_lists (list, cidr, customer, note, created_at, created_by)
      VALUES (?, ?, ?, ?, ?, ?)
      RETURNING ${ENTRY_COLUMNS}`);
    this.#find = db.prepare(`SELECT ${ENTRY_COLUMNS} FROM address_lists WHERE list = ? AND cidr = ? AND ifnull(customer, '') = ?`);
    this.#remove = db.prepare(`DELETE FROM address_lists WHERE id = ? RETURNING ${ENTRY_COLUMNS}`);
    this.#all = db.prepare(`SELECT ${ENTRY_COLUMNS} FROM address_lists ORDER BY id`);
    this.#version = db.prepare('SELECT address_lists_version FROM meta').pluck() as Database.Statement<[], number>;
  }

  add(e: { list: AddressListName; cidr: string; customer: string | null; note: string | null; createdBy: string }): AddressListEntryRecord {
    if (!(ADDRESS_LISTS as readonly unknown[]).includes(e.list)) {
      throw new Error(`address list ${JSON.stringify(e.list)} is not one of ${ADDRESS_LISTS.join(', ')}`);
    }
    const cidr = typeof e.cidr === 'string' ? normaliseNetwork(e.cidr) : null;
    if (cidr === null) {
      throw new Error(`${e.list} list entry ${JSON.stringify(e.cidr)} is not an IPv4 or IPv6 address or CIDR (${NETWORK_EXAMPLES})`);
    }
    const customer = emptyToNull(e.customer, 'customer');
    const note = emptyToNull(e.note, 'note');
    if (typeof e.createdBy !== 'string' || e.createdBy === '') {
      throw new Error(`${e.list} list entry ${cidr}: createdBy must name who added it (a user name or 'cli')`);
    }
    try {
      return this.#insert.get(e.list, cidr, customer, note, Date.now(), e.createdBy)!;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const existing = this.#find.get(e.list, cidr, customer ?? '');
        if (existing !== undefined) throw new DuplicateAddressListEntryError(existing);
      }
      throw err;
    }
  }

  remove(id: number): AddressListEntryRecord | null {
    return this.#remove.get(id) ?? null;
  }

  all(): AddressListEntryRecord[] {
    return this.#all.all();
  }

  version(): number {
    return this.#version.get()!;
  }
}

function emptyToNull(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new Error(`address list entry ${field} must be text or null`);
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}
