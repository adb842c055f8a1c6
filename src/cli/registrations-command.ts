// `rollcall registrations list|remove`: through the running server's control socket when
// one runs on the data directory (live state, and a removal takes effect at once), else
// directly on the database.

import { userInfo } from 'node:os';
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
  async list(o: DataDirOptions & { json?: boolean }): Promise<void> {
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

  async remove(text: string, o: DataDirOptions & { contact?: string }): Promise<void> {
    const uri = /^sips?:[^@\s]+@[^@\s]+$/i.test(text) ? parseUri(text) : null;
    if (uri === null || !isSipUri(uri)) throw new UsageError(`"${text}" is not an AOR such as sip:1001@example.com`);
    // The canonical form the registrar keys bindings by (host lowercased, no port or params).
    const aor = aorOf(uri);
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
