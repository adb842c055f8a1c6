// `rollcall accounts add|import|list|remove`: works directly on the database, so it runs
// before the first `serve` and while a server runs (SQLite WAL; the server notices changes);
// with a token (--token or ROLLCALL_TOKEN) it goes through the server's API instead, from
// anywhere, audited under the token's user.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { AccountInputError, accountWithPassword } from '../auth/new-account.js';
import { checkAllowedNetworks } from '../store/sqlite/sqlite-account-store.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { AUTH_MODES, type AuthMode, type NewAccount } from '../store/store.js';
import { resolveDataDir, type DataDirOptions } from './data-dir.js';
import { printTable } from './print-table.js';
import { UsageError } from './usage-error.js';
import { readPassword } from './password-prompt.js';
import { apiConnection, apiJson, queryString, type ApiOptions } from './api-connection.js';

interface ApiAccount {
  id: number;
  username: string;
  domain: string;
  customer: string | null;
  enabled: boolean;
  maxBindings: number | null;
  minExpires: number | null;
  maxExpires: number | null;
  /** Absent from a server that predates auth modes. */
  authMode?: AuthMode;
  allowedNetworks?: readonly string[] | null;
  createdAt: number;
}

/** A new account with its HA1s; the password itself goes no further than this function. */
export function newAccount(username: string, domain: string, password: string, customer: string | null, maxBindings: number | null = null): NewAccount {
  try {
    return accountWithPassword(username, domain, password, customer, maxBindings);
  } catch (err) {
    if (err instanceof AccountInputError) throw new UsageError(err.message);
    throw err;
  }
}

/** --auth-mode and --allow-from, checked before any password is asked for. */
function authOptions(username: string, domain: string, o: { authMode?: string; allowFrom?: string[] }): { authMode: AuthMode; allowedNetworks: readonly string[] | null } {
  const authMode = (o.authMode ?? 'password') as AuthMode;
  if (!(AUTH_MODES as readonly string[]).includes(authMode)) {
    throw new UsageError(`--auth-mode ${o.authMode}: expected one of ${AUTH_MODES.join(', ')}`);
  }
  try {
    const allowedNetworks = checkAllowedNetworks(`${username}@${domain.toLowerCase()}`, authMode, o.allowFrom ?? null);
    return { authMode, allowedNetworks };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}${allowedNetworksHint(authMode)}`);
  }
}

function allowedNetworksHint(mode: AuthMode): string {
  return mode === 'ip' || mode === 'ip-port' ? `; give --allow-from ${mode === 'ip' ? '192.0.2.7' : '192.0.2.7:5060'} (repeatable)` : '';
}

/** How `add` reports an account's authentication when it is not plain password-from-anywhere. */
function authSummary(a: { authMode?: AuthMode; allowedNetworks?: readonly string[] | null }): string {
  const mode = a.authMode ?? 'password';
  const from = a.allowedNetworks ? `from ${a.allowedNetworks.join(', ')}` : '';
  if (mode === 'password') return from === '' ? '' : ` (password, only ${from})`;
  return ` (auth mode ${mode}${from === '' ? '' : `, ${from}`})`;
}

function positiveInt(v: string | undefined, flag: string): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${v}: expected a whole number ≥ 1`);
  return n;
}

export const accountsCommand = {
  async add(
    username: string,
    o: DataDirOptions & ApiOptions & { domain: string; password?: string; customer?: string; maxBindings?: string; authMode?: string; allowFrom?: string[] },
  ): Promise<void> {
    const maxBindings = positiveInt(o.maxBindings, '--max-bindings');
    const auth = authOptions(username, o.domain, o);
    // ip and ip-port never challenge, but every account has HA1s: without --password it gets
    // a random one nobody knows, so a later switch to a password mode needs a new password.
    const byAddress = auth.authMode === 'ip' || auth.authMode === 'ip-port';
    const password = o.password ?? (byAddress ? randomBytes(24).toString('base64url') : await readPassword(false));
    const account: NewAccount = { ...newAccount(username, o.domain, password, o.customer ?? null, maxBindings), ...auth };
    const api = apiConnection(o);
    if (api !== null) {
      const a = await apiJson<ApiAccount>(api, 'POST', '/api/accounts', {
        username,
        domain: o.domain,
        password,
        ...(o.customer ? { customer: o.customer } : {}),
        ...(account.maxBindings != null ? { maxBindings: account.maxBindings } : {}),
        ...(auth.authMode !== 'password' ? { authMode: auth.authMode } : {}),
        ...(auth.allowedNetworks !== null ? { allowedNetworks: auth.allowedNetworks } : {}),
      });
      process.stdout.write(`added ${a.username}@${a.domain}${a.customer ? ` (customer ${a.customer})` : ''}${authSummary(a)}\n`);
      return;
    }
    const store = openSqliteStore({ dataDir: resolveDataDir(o), synchronous: 'full', journal: 'inline' });
    try {
      const a = store.accounts.add(account);
      process.stdout.write(`added ${a.username}@${a.domain}${a.customer ? ` (customer ${a.customer})` : ''}${authSummary(a)}\n`);
    } finally {
      await store.close();
    }
  },

  async import(file: string, o: DataDirOptions & ApiOptions): Promise<void> {
    const api = apiConnection(o);
    if (api !== null) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`${file}: ${(err as Error).message}`);
      }
      const r = await apiJson<{ imported: number }>(api, 'POST', '/api/accounts/import', text, 'text/csv');
      process.stdout.write(`imported ${r.imported} account${r.imported === 1 ? '' : 's'} from ${file}\n`);
      return;
    }
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
    } catch (err) {
      throw new UsageError(`${file}: ${(err as Error).message}`);
    }
    const accounts = rows.map((r, i) => {
      const line = i + 2;
      if (!r['username'] || !r['domain'] || r['password'] === undefined) {
        throw new UsageError(`${file} line ${line}: needs username, domain and password (header row: username,domain,password,customer)`);
      }
      try {
        return newAccount(r['username'], r['domain'], r['password'], r['customer'] ?? null);
      } catch (err) {
        throw new UsageError(`${file} line ${line}: ${(err as Error).message}`);
      }
    });
    const store = openSqliteStore({ dataDir: resolveDataDir(o), synchronous: 'full', journal: 'inline' });
    try {
      const n = store.accounts.addMany(accounts);
      process.stdout.write(`imported ${n} account${n === 1 ? '' : 's'} from ${file}\n`);
    } finally {
      await store.close();
    }
  },

  async list(o: DataDirOptions & ApiOptions & { json?: boolean }): Promise<void> {
    const api = apiConnection(o);
    let all: Array<Omit<ApiAccount, 'id'>>;
    let store: ReturnType<typeof openSqliteStore> | null = null;
    if (api !== null) {
      all = [];
      let cursor: string | null = null;
      do {
        const page: { items: ApiAccount[]; nextCursor: string | null } = await apiJson(api, 'GET', `/api/accounts${queryString({ limit: 1000, cursor: cursor ?? undefined })}`);
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
    } else {
      store = openSqliteStore({ dataDir: resolveDataDir(o), synchronous: 'full', journal: 'inline' });
      all = store.accounts.list();
    }
    try {
      const rows = all.map((a) => ({
        username: a.username,
        domain: a.domain,
        customer: a.customer,
        enabled: a.enabled,
        maxBindings: a.maxBindings,
        minExpires: a.minExpires,
        maxExpires: a.maxExpires,
        authMode: a.authMode ?? 'password',
        allowedNetworks: a.allowedNetworks ?? null,
        createdAt: new Date(a.createdAt).toISOString(),
      }));
      if (o.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no accounts (add one with `rollcall accounts add USER --domain DOMAIN --password PASS`)\n');
        return;
      }
      printTable(
        ['ACCOUNT', 'CUSTOMER', 'ENABLED', 'MAX BINDINGS', 'AUTH', 'FROM', 'CREATED'],
        rows.map((r) => [
          `${r.username}@${r.domain}`,
          r.customer ?? '-',
          r.enabled ? 'yes' : 'no',
          r.maxBindings === null ? 'default' : String(r.maxBindings),
          r.authMode,
          r.allowedNetworks === null ? 'anywhere' : r.allowedNetworks.join(','),
          r.createdAt,
        ]),
      );
    } finally {
      await store?.close();
    }
  },

  async remove(username: string, o: DataDirOptions & ApiOptions & { domain: string }): Promise<void> {
    const api = apiConnection(o);
    if (api !== null) {
      const domain = o.domain.toLowerCase();
      const page = await apiJson<{ items: ApiAccount[] }>(api, 'GET', `/api/accounts${queryString({ q: username, limit: 1000 })}`);
      const a = page.items.find((x) => x.username === username && x.domain === domain);
      if (a === undefined) throw new UsageError(`no account ${username}@${domain}`);
      await apiJson(api, 'DELETE', `/api/accounts/${a.id}`);
      process.stdout.write(`removed ${a.username}@${a.domain}\n`);
      return;
    }
    const store = openSqliteStore({ dataDir: resolveDataDir(o), synchronous: 'full', journal: 'inline' });
    try {
      const a = store.accounts.find(username, o.domain.toLowerCase());
      if (a === null) throw new UsageError(`no account ${username}@${o.domain.toLowerCase()}`);
      store.accounts.remove(a.id);
      process.stdout.write(`removed ${a.username}@${a.domain}\n`);
    } finally {
      await store.close();
    }
  },
};
