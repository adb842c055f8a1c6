// Accounts in SQLite. `find` is on the registrar's hot path (one call per authenticated
// REGISTER): one prepared `get` on the (username, domain) unique index, whose row comes back
// already shaped as an AccountRecord except for `enabled` and `allowedNetworks` (JSON text),
// which are fixed in place.

import type Database from 'better-sqlite3';
import { NETWORK_EXAMPLES, normaliseAllowedSource } from '../network-entry.js';
import { AUTH_MODES, type AccountQuery, type AccountRecord, type AccountStore, type AuthMode, type NewAccount } from '../store.js';

type AccountChange = Partial<Omit<NewAccount, 'username' | 'domain'>>;

/**
 * An accounts row as selected by ACCOUNT_COLUMNS: an AccountRecord with `enabled` as 0/1
 * and `allowedNetworks` as the JSON text of its array.
 */
type AccountRow = Omit<AccountRecord, 'enabled' | 'allowedNetworks'> & {
  enabled: number | boolean;
  allowedNetworks: string | readonly string[] | null;
};

const ACCOUNT_COLUMNS = `id, username, domain, customer, ha1_md5 AS ha1Md5, ha1_sha256 AS ha1Sha256,
  enabled, min_expires AS minExpires, max_expires AS maxExpires, max_bindings AS maxBindings,
  auth_mode AS authMode, allowed_networks AS allowedNetworks, created_at AS createdAt,
  updated_at AS updatedAt`;

type AccountParams = [
  username: string,
  domain: string,
  customer: string | null,
  ha1Md5: string,
  ha1Sha256: string,
  enabled: number,
  minExpires: number | null,
  maxExpires: number | null,
  maxBindings: number | null,
  authMode: AuthMode,
  allowedNetworks: string | null,
  createdAt: number,
  updatedAt: number,
];

/** The writable fields of an account, checked and normalised. */
interface AccountFields {
  readonly customer: string | null;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
  readonly enabled: boolean;
  readonly minExpires: number | null;
  readonly maxExpires: number | null;
  readonly maxBindings: number | null;
  readonly authMode: AuthMode;
  readonly allowedNetworks: readonly string[] | null;
}

export class SqliteAccountStore implements AccountStore {
  readonly #find: Database.Statement<[string, string], AccountRow>;
  readonly #byId: Database.Statement<[number], AccountRow>;
  readonly #list: Database.Statement<[], AccountRow>;
  readonly #domains: Database.Statement<[], string>;
  readonly #insert: Database.Statement<AccountParams, AccountRow>;
  readonly #update: Database.Statement<unknown[], AccountRow>;
  readonly #remove: Database.Statement<[number]>;
  readonly #version: Database.Statement<[], number>;
  readonly #customers: Database.Statement<[], { name: string; accounts: number }>;
  readonly #keysOfCustomer: Database.Statement<[string], string>;
  readonly #db: Database.Database;
  readonly #addMany: Database.Transaction<(accounts: readonly NewAccount[]) => number>;
  readonly #updateTx: Database.Transaction<(id: number, change: AccountChange) => AccountRecord | null>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#customers = db.prepare(
      'SELECT customer AS name, count(*) AS accounts FROM accounts WHERE customer IS NOT NULL GROUP BY customer ORDER BY customer',
    );
    this.#keysOfCustomer = db.prepare("SELECT username || '@' || domain FROM accounts WHERE customer = ?").pluck() as Database.Statement<
      [string],
      string
    >;
    this.#find = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE username = ? AND domain = ?`);
    this.#byId = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`);
    this.#list = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY domain, username`);
    this.#domains = db.prepare('SELECT DISTINCT domain FROM accounts ORDER BY domain').pluck() as Database.Statement<
      [],
      string
    >;
    this.#insert = db.prepare(`
      INSERT INTO accounts (
        username, domain, customer, ha1_md5, ha1_sha256, enabled, min_expires, max_expires,
        max_bindings, auth_mode, allowed_networks, created_at, updated_at
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      RETURNING ${ACCOUNT_COLUMNS}`);
    this.#update = db.prepare(`
      UPDATE accounts SET customer = ?, ha1_md5 = ?, ha1_sha256 = ?, enabled = ?, min_expires = ?,
        max_expires = ?, max_bindings = ?, auth_mode = ?, allowed_networks = ?, updated_at = ?
      WHERE id = ?
      RETURNING ${ACCOUNT_COLUMNS}`);
    this.#remove = db.prepare('DELETE FROM accounts WHERE id = ?');
    this.#version = db.prepare('SELECT accounts_version FROM meta').pluck() as Database.Statement<[], number>;

    this.#addMany = db.transaction((accounts: readonly NewAccount[]) => {
      for (let i = 0; i < accounts.length; i++) {
        try {
          this.#insertOne(accounts[i]!);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          throw new Error(`row ${i + 1}: ${message}`, { cause: err });
        }
      }
      return accounts.length;
    });

    this.#updateTx = db.transaction((id: number, change: AccountChange) => {
      const current = this.#byId.get(id);
      if (current === undefined) return null;
      const account = toRecord(current);
      if (!hasAnyField(change)) return account;
      const fields = checkFields(`${account.username}@${account.domain}`, {
        customer: change.customer === undefined ? account.customer : change.customer,
        ha1Md5: change.ha1Md5 ?? account.ha1Md5,
        ha1Sha256: change.ha1Sha256 ?? account.ha1Sha256,
        enabled: change.enabled ?? account.enabled,
        minExpires: change.minExpires === undefined ? account.minExpires : change.minExpires,
        maxExpires: change.maxExpires === undefined ? account.maxExpires : change.maxExpires,
        maxBindings: change.maxBindings === undefined ? account.maxBindings : change.maxBindings,
        authMode: change.authMode ?? account.authMode,
        allowedNetworks: change.allowedNetworks === undefined ? account.allowedNetworks : change.allowedNetworks,
      });
      const row = this.#update.get(
        fields.customer,
        fields.ha1Md5,
        fields.ha1Sha256,
        fields.enabled ? 1 : 0,
        fields.minExpires,
        fields.maxExpires,
        fields.maxBindings,
        fields.authMode,
        networksJson(fields.allowedNetworks),
        Date.now(),
        id,
      );
      return row === undefined ? null : toRecord(row);
    });
  }

  find(username: string, domain: string): AccountRecord | null {
    const row = this.#find.get(username, domain.toLowerCase());
    return row === undefined ? null : toRecord(row);
  }

  add(account: NewAccount): AccountRecord {
    return this.#insertOne(account);
  }

  addMany(accounts: readonly NewAccount[]): number {
    return this.#addMany.immediate(accounts);
  }

  byId(id: number): AccountRecord | null {
    const row = this.#byId.get(id);
    return row === undefined ? null : toRecord(row);
  }

  query(q: AccountQuery): { items: AccountRecord[]; total: number } {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (q.q !== undefined && q.q !== '') {
      where.push("instr(lower(username), lower(?)) > 0");
      params.push(q.q);
    }
    if (q.customer !== undefined) {
      where.push('customer = ?');
      params.push(q.customer);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.#db.prepare(`SELECT count(*) FROM accounts ${filter}`).pluck().get(...params) as number) ?? 0;
    const page = [...where];
    if (q.afterId !== undefined) page.push('id > ?');
    const rows = this.#db
      .prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ${page.length ? `WHERE ${page.join(' AND ')}` : ''} ORDER BY id LIMIT ?`)
      .all(...params, ...(q.afterId !== undefined ? [q.afterId] : []), q.limit) as AccountRow[];
    return { items: rows.map(toRecord), total };
  }

  customers(): Array<{ name: string; accounts: number }> {
    return this.#customers.all();
  }

  countAddressAuthenticated(): number {
    return this.#db.prepare("SELECT count(*) FROM accounts WHERE auth_mode IN ('ip', 'ip-port')").pluck().get() as number;
  }

  keysOfCustomer(customer: string): string[] {
    return this.#keysOfCustomer.all(customer);
  }

  list(): AccountRecord[] {
    const rows = this.#list.all();
    for (let i = 0; i < rows.length; i++) toRecord(rows[i]!);
    return rows as unknown as AccountRecord[];
  }

  domains(): string[] {
    return this.#domains.all();
  }

  update(id: number, change: AccountChange): AccountRecord | null {
    return this.#updateTx.immediate(id, change);
  }

  remove(id: number): boolean {
    return this.#remove.run(id).changes > 0;
  }

  version(): number {
    return this.#version.get()!;
  }

  #insertOne(account: NewAccount): AccountRecord {
    const username = checkUsername(account.username);
    const domain = checkDomain(username, account.domain);
    const label = `${username}@${domain}`;
    const fields = checkFields(label, {
      customer: account.customer ?? null,
      ha1Md5: account.ha1Md5,
      ha1Sha256: account.ha1Sha256,
      enabled: account.enabled ?? true,
      minExpires: account.minExpires ?? null,
      maxExpires: account.maxExpires ?? null,
      maxBindings: account.maxBindings ?? null,
      authMode: account.authMode ?? 'password',
      allowedNetworks: account.allowedNetworks ?? null,
    });
    const now = Date.now();
    try {
      const row = this.#insert.get(
        username,
        domain,
        fields.customer,
        fields.ha1Md5,
        fields.ha1Sha256,
        fields.enabled ? 1 : 0,
        fields.minExpires,
        fields.maxExpires,
        fields.maxBindings,
        fields.authMode,
        networksJson(fields.allowedNetworks),
        now,
        now,
      );
      return toRecord(row!);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new Error(`account ${label} already exists`, { cause: err });
      }
      throw err;
    }
  }
}

/** Turns a selected row into an AccountRecord in place: no copy on the hot path. */
function toRecord(row: AccountRow): AccountRecord {
  row.enabled = row.enabled === 1 || row.enabled === true;
  // Null for almost every account: no JSON to parse on the hot path.
  if (typeof row.allowedNetworks === 'string') row.allowedNetworks = JSON.parse(row.allowedNetworks) as string[];
  return row as AccountRecord;
}

function networksJson(networks: readonly string[] | null): string | null {
  return networks === null ? null : JSON.stringify(networks);
}

function hasAnyField(change: AccountChange): boolean {
  for (const key of Object.keys(change) as (keyof AccountChange)[]) {
    if (change[key] !== undefined) return true;
  }
  return false;
}

// SIP user parts may hold almost anything escaped, but an AOR is built as user@domain, so an
// unescaped '@', whitespace or a control character would make it ambiguous.
const BAD_NAME_CHARS = /[\s@\p{Cc}]/u;
const HEX_32 = /^[0-9a-f]{32}$/i;
const HEX_64 = /^[0-9a-f]{64}$/i;

function checkUsername(username: unknown): string {
  if (typeof username !== 'string' || username === '') {
    throw new Error('account username is empty; give the user part of the AOR (e.g. 1001)');
  }
  if (BAD_NAME_CHARS.test(username)) {
    throw new Error(`account username ${JSON.stringify(username)} must not contain '@', whitespace or control characters`);
  }
  return username;
}

function checkDomain(username: string, domain: unknown): string {
  if (typeof domain !== 'string' || domain === '') {
    throw new Error(`account ${username}: domain is empty; give the SIP domain (e.g. example.com)`);
  }
  if (BAD_NAME_CHARS.test(domain)) {
    throw new Error(`account ${username}: domain ${JSON.stringify(domain)} must not contain '@', whitespace or control characters`);
  }
  return domain.toLowerCase();
}

function checkFields(label: string, f: AccountFields): AccountFields {
  if (f.customer !== null && typeof f.customer !== 'string') {
    throw new Error(`account ${label}: customer must be a string or null`);
  }
  if (typeof f.ha1Md5 !== 'string' || !HEX_32.test(f.ha1Md5)) {
    throw new Error(`account ${label}: ha1Md5 must be 32 hex digits, MD5(username:realm:password)`);
  }
  if (typeof f.ha1Sha256 !== 'string' || !HEX_64.test(f.ha1Sha256)) {
    throw new Error(`account ${label}: ha1Sha256 must be 64 hex digits, SHA-256(username:realm:password)`);
  }
  if (typeof f.enabled !== 'boolean') {
    throw new Error(`account ${label}: enabled must be true or false`);
  }
  checkCount(label, 'minExpires', f.minExpires, 0);
  checkCount(label, 'maxExpires', f.maxExpires, 0);
  checkCount(label, 'maxBindings', f.maxBindings, 1);
  if (f.minExpires !== null && f.maxExpires !== null && f.minExpires > f.maxExpires) {
    throw new Error(
      `account ${label}: minExpires (${f.minExpires}) is greater than maxExpires (${f.maxExpires})`,
    );
  }
  if (!(AUTH_MODES as readonly unknown[]).includes(f.authMode)) {
    throw new Error(`account ${label}: authMode ${JSON.stringify(f.authMode)} is not one of ${AUTH_MODES.join(', ')}`);
  }
  return {
    ...f,
    ha1Md5: f.ha1Md5.toLowerCase(),
    ha1Sha256: f.ha1Sha256.toLowerCase(),
    allowedNetworks: checkAllowedNetworks(label, f.authMode, f.allowedNetworks),
  };
}

/**
 * The allowed sources, normalised. `ip` and `ip-port` authenticate by them alone, so they
 * need at least one; elsewhere an empty list means no restriction and is stored as null.
 * A port only means something to `ip-port`, which compares it. Exported so that an edge can
 * refuse bad input before asking for a password; `label` is `user@domain`.
 */
export function checkAllowedNetworks(label: string, mode: AuthMode, networks: readonly string[] | null): readonly string[] | null {
  const byAddress = mode === 'ip' || mode === 'ip-port' || mode === 'ip-and-password';
  if (networks !== null && !Array.isArray(networks)) {
    throw new Error(`account ${label}: allowedNetworks must be a list of networks or null`);
  }
  if (networks === null || networks.length === 0) {
    if (byAddress) {
      throw new Error(
        `account ${label}: auth mode ${mode} needs allowedNetworks, the addresses it may register from (${NETWORK_EXAMPLES})`,
      );
    }
    return null;
  }
  const out: string[] = [];
  for (const text of networks) {
    const source = typeof text === 'string' ? normaliseAllowedSource(text) : null;
    if (source === null) {
      throw new Error(
        `account ${label}: allowed network ${JSON.stringify(text)} is not an IPv4 or IPv6 address or CIDR (${NETWORK_EXAMPLES}${mode === 'ip-port' ? ', or 192.0.2.7:5060, [2001:db8::7]:5060' : ''})`,
      );
    }
    if (source.hasPort && mode !== 'ip-port') {
      throw new Error(
        `account ${label}: allowed network ${JSON.stringify(text)} has a port, which only auth mode ip-port uses; give the address alone`,
      );
    }
    if (!out.includes(source.entry)) out.push(source.entry);
  }
  return out;
}

function checkCount(label: string, name: string, value: number | null, min: number): void {
  if (value === null) return;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`account ${label}: ${name} must be an integer >= ${min} or null, got ${String(value)}`);
  }
}
