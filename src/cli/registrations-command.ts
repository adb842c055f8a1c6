// `rollcall registrations list|show|remove|export`. With a token (--token or ROLLCALL_TOKEN)
// they go through the running server's management API, from anywhere, audited under the
// token's user; without one, list and remove work on the local data directory: through the
// running server's control socket when one runs on it (live state, a removal takes effect
// at once), else directly on the database.

import { createWriteStream } from 'node:fs';
import { userInfo } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { controlRequest } from '../control/control-channel.js';
import { loadConfig } from '../config/load-config.js';
import { Binding } from '../registrar/binding.js';
import { isSipUri } from '../sip/message.js';
import { aorOf, parseUri } from '../sip/uri.js';
import { bindingView, type BindingView } from '../server/binding-view.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { StoreOp } from '../store/store.js';
import { resolveDataDir, type DataDirOptions } from './data-dir.js';
import { printTable } from './print-table.js';
import { UsageError } from './usage-error.js';
import { apiConnection, apiFetch, apiJson, queryString, requireApi, type ApiConnection, type ApiOptions } from './api-connection.js';

/** The list filters of the API (docs/api.md), as CLI options. */
export interface RegistrationFilterOptions {
  readonly number?: string;
  readonly prefix?: string;
  readonly ip?: string;
  readonly customer?: string;
  readonly status?: string;
  readonly userAgent?: string;
  readonly transport?: string;
  readonly reachability?: string;
  readonly sort?: string;
  readonly order?: string;
}

function filterParams(o: RegistrationFilterOptions): Record<string, string | undefined> {
  return {
    number: o.number,
    numberPrefix: o.prefix,
    ip: o.ip,
    customer: o.customer,
    status: o.status,
    userAgent: o.userAgent,
    transport: o.transport,
    reachability: o.reachability,
    sort: o.sort,
    order: o.order,
  };
}

interface ApiRegistration {
  id: number;
  aor: string;
  contact: string;
  sourceAddress: string;
  sourcePort: number;
  transport: string;
  remaining: number;
  userAgent: string | null;
  registeredAt: number;
  status: string;
  customer: string | null;
  nat: boolean;
  reachability: string;
  rttMs: number | null;
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

async function listThroughApi(c: ApiConnection, o: RegistrationFilterOptions & { json?: boolean; limit?: string; all?: boolean }): Promise<void> {
  const limit = o.limit === undefined ? 100 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${o.limit}: a positive whole number`);
  const rows: ApiRegistration[] = [];
  let total = 0;
  let cursor: string | null = null;
  do {
    const page: { items: ApiRegistration[]; total: number; nextCursor: string | null } = await apiJson(
      c,
      'GET',
      `/api/registrations${queryString({ ...filterParams(o), limit: Math.min(limit - rows.length, 1000), cursor: cursor ?? undefined })}`,
    );
    rows.push(...page.items);
    total = page.total;
    cursor = page.nextCursor;
  } while (cursor !== null && (o.all || rows.length < limit));
  if (o.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('no registrations match\n');
    return;
  }
  printTable(
    ['ID', 'AOR', 'CONTACT', 'SOURCE', 'TRANSPORT', 'REMAINING', 'USER AGENT', 'REGISTERED AT', 'STATUS', 'NAT', 'REACHABILITY'],
    rows.map((r) => [
      String(r.id),
      r.aor,
      r.contact,
      hostPort(r.sourceAddress, r.sourcePort),
      r.transport,
      `${r.remaining}s`,
      r.userAgent ?? '-',
      new Date(r.registeredAt).toISOString(),
      r.status,
      r.nat ? 'yes' : 'no',
      r.rttMs !== null && r.reachability === 'reachable' ? `reachable (${r.rttMs} ms)` : r.reachability,
    ]),
  );
  if (rows.length < total) process.stdout.write(`(${rows.length} of ${total}; --all for every one, or narrow the filters)\n`);
}

function offlineViews(dataDir: string, expiringShare: number): BindingView[] {
  const store = openSqliteStore({ dataDir, synchronous: 'full', journal: 'inline' });
  try {
    const now = Date.now();
    return store.bindings
      .loadAll()
      .filter((r) => r.expiresAt > now)
      .map((r) => bindingView(Binding.fromRecord(r), now, expiringShare));
  } finally {
    void store.close();
  }
}

export const registrationsCommand = {
  async list(o: DataDirOptions & ApiOptions & RegistrationFilterOptions & { json?: boolean; limit?: string; all?: boolean }): Promise<void> {
    const api = apiConnection(o);
    if (api !== null) return listThroughApi(api, o);
    if (o.number || o.prefix || o.ip || o.customer || o.status || o.userAgent || o.transport || o.reachability) {
      throw new UsageError('filters go through the server\'s API: give --token (or set ROLLCALL_TOKEN)');
    }
    const dataDir = resolveDataDir(o);
    const reply = await controlRequest(dataDir, { cmd: 'registrations.list' });
    if (reply !== null && !reply.ok) throw new Error(reply.error);
    const rows = reply !== null ? (reply.result as BindingView[]) : offlineViews(dataDir, loadConfig({ file: o.config }).registrar.expiringShare);
    rows.sort((a, b) => a.aor.localeCompare(b.aor) || a.registeredAt - b.registeredAt);
    if (o.json) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`no registrations${reply === null ? ' (server not running; read from the database)' : ''}\n`);
      return;
    }
    printTable(
      ['AOR', 'CONTACT', 'SOURCE', 'TRANSPORT', 'REMAINING', 'USER AGENT', 'REGISTERED AT', 'STATUS'],
      rows.map((r) => [
        r.aor,
        r.contact,
        `${r.sourceAddress.includes(':') ? `[${r.sourceAddress}]` : r.sourceAddress}:${r.sourcePort}`,
        r.transport,
        `${r.remaining}s`,
        r.userAgent ?? '-',
        new Date(r.registeredAt).toISOString(),
        r.status,
      ]),
    );
  },

  async remove(text: string, o: DataDirOptions & ApiOptions & { contact?: string }): Promise<void> {
    const uri = /^sips?:[^@\s]+@[^@\s]+$/i.test(text) ? parseUri(text) : null;
    if (uri === null || !isSipUri(uri)) throw new UsageError(`"${text}" is not an AOR such as sip:1001@example.com`);
    // The canonical form the registrar keys bindings by (host lowercased, no port or params).
    const aor = aorOf(uri);
    const api = apiConnection(o);
    if (api !== null) {
      const r = await apiJson<{ removed: number }>(api, 'POST', '/api/registrations/unregister', { aor, ...(o.contact ? { contact: o.contact } : {}) });
      if (r.removed === 0) throw new UsageError(`no binding of ${aor}${o.contact ? ` with contact ${o.contact}` : ''}`);
      process.stdout.write(`removed ${r.removed} binding${r.removed === 1 ? '' : 's'} of ${aor}\n`);
      return;
    }
    const dataDir = resolveDataDir(o);
    const who = `cli (${userInfo().username})`;
    const contact = o.contact ?? null;
    const reply = await controlRequest(dataDir, { cmd: 'registrations.remove', aor, contact, who });
    let removed: number;
    if (reply !== null) {
      if (!reply.ok) throw new Error(reply.error);
      removed = (reply.result as { removed: number }).removed;
    } else {
      removed = removeOffline(dataDir, aor, contact, who);
    }
    if (removed === 0) throw new UsageError(`no binding of ${aor}${contact ? ` with contact ${contact}` : ''}`);
    process.stdout.write(`removed ${removed} binding${removed === 1 ? '' : 's'} of ${aor}\n`);
  },

  /** Every field of one binding, its raw last REGISTER and 200 OK, and its history. */
  async show(id: string, o: ApiOptions & { json?: boolean }): Promise<void> {
    if (!/^\d+$/.test(id)) throw new UsageError(`"${id}" is not a registration id (the ID column of \`rollcall registrations list --token ...\`)`);
    const c = requireApi(o, 'registrations show');
    const d = await apiJson<{ registration: Record<string, unknown>; lastRequest: string | null; lastResponse: string | null; history: Array<{ time: number; type: string; reason: string | null; sourceAddress: string | null }> }>(
      c,
      'GET',
      `/api/registrations/${id}`,
    );
    if (o.json) {
      process.stdout.write(JSON.stringify(d, null, 2) + '\n');
      return;
    }
    const r = d.registration;
    const width = Math.max(...Object.keys(r).map((k) => k.length));
    for (const [k, v] of Object.entries(r)) {
      const shown = typeof v === 'number' && /At$/.test(k) ? new Date(v).toISOString() : Array.isArray(v) ? v.join(', ') || '-' : v === null ? '-' : String(v);
      process.stdout.write(`${k.padEnd(width)}  ${shown}\n`);
    }
    process.stdout.write(`\nLast REGISTER:\n${(d.lastRequest ?? '(not stored)').replace(/\r\n/g, '\n')}\nIts response:\n${(d.lastResponse ?? '(not stored)').replace(/\r\n/g, '\n')}\nHistory:\n`);
    for (const e of d.history) process.stdout.write(`  ${new Date(e.time).toISOString()}  ${e.type}${e.reason ? `  ${e.reason}` : ''}\n`);
  },

  /** The filtered list as CSV or JSON, streamed to stdout or a file. */
  async export(o: ApiOptions & RegistrationFilterOptions & { format?: string; output?: string }): Promise<void> {
    const format = o.format ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw new UsageError(`--format ${format}: csv or json`);
    const c = requireApi(o, 'registrations export');
    const res = await apiFetch(c, 'GET', `/api/registrations/export${queryString({ ...filterParams(o), format })}`);
    const out = o.output ? createWriteStream(o.output) : process.stdout;
    await pipeline(Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream<Uint8Array>), out);
    if (o.output) process.stderr.write(`exported to ${o.output}\n`);
  },
};

function removeOffline(dataDir: string, aor: string, contact: string | null, who: string): number {
  const store = openSqliteStore({ dataDir, synchronous: 'full', journal: 'inline' });
  try {
    const now = Date.now();
    const victims = store.bindings.loadAll().filter((r) => r.aor === aor && (contact === null || r.contact === contact));
    const ops: StoreOp[] = [];
    for (const r of victims) {
      ops.push({ op: 'delete-binding', id: r.id });
      ops.push({
        op: 'event',
        event: {
          time: now,
          type: 'force-removed',
          aor: r.aor,
          contact: r.contact,
          bindingId: r.id,
          sourceAddress: r.sourceAddress,
          sourcePort: r.sourcePort,
          transport: r.transport,
          userAgent: r.userAgent,
          reason: `by ${who} (server not running)`,
        },
      });
    }
    if (ops.length) store.bindings.applyNow(ops);
    return victims.length;
  } finally {
    void store.close();
  }
}
