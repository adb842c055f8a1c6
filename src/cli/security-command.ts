// `rollcall security blocks|allow|deny|lists|failures`: blocked addresses and usernames, the
// allow/deny address lists and the failed-registration log, worked on directly in the
// database like `accounts` and `users`, so they work with the server stopped or running (it
// notices changes through the security version counter). Every change is audited as done
// by `cli`; a refused change (a duplicate entry) exits 1, a bad argument 2.

import { isIP } from 'node:net';
import { NETWORK_EXAMPLES, normaliseNetwork } from '../store/network-entry.js';
import { normaliseBlockValue } from '../store/sqlite/sqlite-block-store.js';
import { MAX_FAILURE_LIMIT } from '../store/sqlite/sqlite-failure-store.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import {
  FAILURE_REASONS,
  type AddressListEntryRecord,
  type AddressListName,
  type AuditEntry,
  type BlockRecord,
  type FailureReason,
} from '../store/store.js';
import { resolveDataDir, type DataDirOptions } from './data-dir.js';
import { printTable } from './print-table.js';
import { UsageError } from './usage-error.js';

/** Who the audit log and the blocks say made a change from the command line. */
const CLI_ACTOR = 'cli';
export const DEFAULT_BLOCK_REASON = 'blocked by admin';
const DEFAULT_FAILURE_ROWS = 100;
const DEFAULT_COUNT_ROWS = 10;

async function withStore<T>(o: DataDirOptions, work: (store: SqliteStore) => T): Promise<T> {
  const store = openSqliteStore({ dataDir: resolveDataDir(o), synchronous: 'full', journal: 'inline' });
  try {
    return work(store);
  } finally {
    await store.close();
  }
}

function audit(store: SqliteStore, e: Pick<AuditEntry, 'action' | 'target'> & Partial<Pick<AuditEntry, 'before' | 'after'>>): void {
  store.audit.append({ time: Date.now(), user: CLI_ACTOR, address: null, before: null, after: null, ...e });
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `30` (seconds), `30s`, `15m`, `1h`, `7d`, in milliseconds. */
function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  const unit = { '': 1_000, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m?.[2] ?? ''];
  const n = m === null ? Number.NaN : Number(m[1]);
  if (m === null || unit === undefined || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} ${text}: expected a duration such as 3600, 90s, 15m, 1h or 7d`);
  }
  return n * unit;
}

function parseTime(text: string, flag: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} ${text}: expected a date and time such as 2025-01-31T12:00:00Z`);
  return ms;
}

/** What `blocks add|remove` was given: `USER@DOMAIN` (an optional `sip:` dropped) or an IP address. */
function blockTarget(text: string): { kind: BlockRecord['kind']; value: string } {
  const t = text.trim().replace(/^sips?:/i, '');
  const kind: BlockRecord['kind'] = t.includes('@') ? 'username' : 'address';
  if (kind === 'address' && isIP(t) === 0) {
    if (normaliseNetwork(t) !== null) {
      throw new UsageError(`${text} is a network; a block is one address. Deny a network with \`rollcall security deny add ${t}\``);
    }
    throw new UsageError(`"${text}" is neither an IP address nor USER@DOMAIN`);
  }
  try {
    return { kind, value: normaliseBlockValue(kind, t) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The JSON and the audit log's view of a block: times as ISO text. */
function blockJson(b: BlockRecord): Record<string, unknown> {
  return { kind: b.kind, value: b.value, reason: b.reason, createdBy: b.createdBy, createdAt: iso(b.createdAt), expiresAt: iso(b.expiresAt) };
}

function entryJson(e: AddressListEntryRecord): Record<string, unknown> {
  return { id: e.id, list: e.list, cidr: e.cidr, customer: e.customer, note: e.note, createdBy: e.createdBy, createdAt: iso(e.createdAt) };
}

const entryTarget = (e: Pick<AddressListEntryRecord, 'list' | 'cidr'>) => `${e.list} ${e.cidr}`;

const forCustomer = (customer: string | null) => (customer === null ? '' : ` for customer ${customer}`);

/** A stored block, expired or not (list(0) keeps every block with an expiry after 1970). */
function storedBlock(store: SqliteStore, kind: BlockRecord['kind'], value: string): BlockRecord | null {
  return store.blocks.list(0).find((b) => b.kind === kind && b.value === value) ?? null;
}

function sourceText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface FailureOptions extends DataDirOptions {
  since?: string;
  until?: string;
  last?: string;
  reason?: string;
  ip?: string;
  user?: string;
  limit?: string;
  json?: boolean;
  counts?: boolean;
}

/** [since, until) from --since/--last and --until, and how to say it. */
function failureWindow(o: FailureOptions, now: number): { since?: number; until?: number; label: string } {
  if (o.since !== undefined && o.last !== undefined) throw new UsageError('give --since or --last, not both');
  const since = o.last !== undefined ? now - parseDuration(o.last, '--last') : o.since !== undefined ? parseTime(o.since, '--since') : undefined;
  const until = o.until !== undefined ? parseTime(o.until, '--until') : undefined;
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError('--since must be before --until');
  const label =
    o.last !== undefined
      ? ` in the last ${o.last}`
      : since !== undefined || until !== undefined
        ? `${since !== undefined ? ` since ${iso(since)}` : ''}${until !== undefined ? ` before ${iso(until)}` : ''}`
        : '';
  return { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), label };
}

function rowLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_FAILURE_LIMIT) {
    throw new UsageError(`--limit ${text}: expected a whole number from 1 to ${MAX_FAILURE_LIMIT}`);
  }
  return n;
}

function addToList(list: AddressListName) {
  return async (cidrText: string, o: DataDirOptions & { customer?: string; note?: string }): Promise<void> => {
    const cidr = normaliseNetwork(cidrText);
    if (cidr === null) throw new UsageError(`"${cidrText}" is not an IPv4 or IPv6 address or CIDR (${NETWORK_EXAMPLES})`);
    const customer = o.customer?.trim() || null;
    await withStore(o, (store) => {
      // Throws DuplicateAddressListEntryError (exit 1) for an entry already there.
      const e = store.addressLists.add({ list, cidr, customer, note: o.note ?? null, createdBy: CLI_ACTOR });
      audit(store, { action: 'list.add', target: entryTarget(e), after: entryJson(e) });
      process.stdout.write(`added ${e.cidr} to the ${e.list} list${forCustomer(e.customer)} (entry ${e.id})\n`);
      if (customer !== null && !store.accounts.customers().some((c) => c.name === customer)) {
        process.stderr.write(`note: no account has customer ${customer} yet; the entry applies once one does\n`);
      }
    });
  };
}

export const securityCommand = {
  blocks: {
    async list(o: DataDirOptions & { json?: boolean }): Promise<void> {
      const blocks = await withStore(o, (store) => store.blocks.list(Date.now()));
      if (o.json) {
        process.stdout.write(JSON.stringify(blocks.map(blockJson), null, 2) + '\n');
        return;
      }
      if (blocks.length === 0) {
        process.stdout.write('no blocks (add one with `rollcall security blocks add ADDRESS|USER@DOMAIN`)\n');
        return;
      }
      printTable(
        ['KIND', 'VALUE', 'UNTIL', 'BY', 'CREATED', 'REASON'],
        blocks.map((b) => [b.kind, b.value, iso(b.expiresAt) ?? 'removed', b.createdBy, iso(b.createdAt)!, b.reason]),
      );
    },

    async add(target: string, o: DataDirOptions & { for?: string; reason?: string }): Promise<void> {
      const { kind, value } = blockTarget(target);
      const duration = o.for === undefined ? null : parseDuration(o.for, '--for');
      const reason = o.reason?.trim() || DEFAULT_BLOCK_REASON;
      await withStore(o, (store) => {
        const now = Date.now();
        const before = store.blocks.list(now).find((b) => b.kind === kind && b.value === value) ?? null;
        const block: BlockRecord = { kind, value, reason, createdAt: now, expiresAt: duration === null ? null : now + duration, createdBy: CLI_ACTOR };
        store.blocks.put(block);
        audit(store, { action: 'block.add', target: value, before: before === null ? null : blockJson(before), after: blockJson(block) });
        process.stdout.write(
          `blocked ${kind} ${value} ${block.expiresAt === null ? 'until removed' : `until ${iso(block.expiresAt)}`}${before === null ? '' : ' (replacing the block there was)'}\n`,
        );
      });
    },

    async remove(target: string, o: DataDirOptions): Promise<void> {
      const { kind, value } = blockTarget(target);
      await withStore(o, (store) => {
        const before = storedBlock(store, kind, value);
        if (!store.blocks.remove(kind, value)) {
          throw new UsageError(`no block on ${kind} ${value} (see \`rollcall security blocks list\`)`);
        }
        audit(store, { action: 'block.remove', target: value, before: before === null ? null : blockJson(before) });
        const expired = before !== null && before.expiresAt !== null && before.expiresAt <= Date.now();
        process.stdout.write(`unblocked ${kind} ${value}${expired ? ' (its block had already expired)' : ''}\n`);
      });
    },
  },

  allowAdd: addToList('allow'),
  denyAdd: addToList('deny'),

  async lists(o: DataDirOptions & { json?: boolean }): Promise<void> {
    const entries = await withStore(o, (store) => store.addressLists.all());
    if (o.json) {
      process.stdout.write(JSON.stringify(entries.map(entryJson), null, 2) + '\n');
      return;
    }
    if (entries.length === 0) {
      process.stdout.write('no address list entries (add one with `rollcall security allow add CIDR` or `rollcall security deny add CIDR`)\n');
      return;
    }
    printTable(
      ['ID', 'LIST', 'CIDR', 'CUSTOMER', 'BY', 'CREATED', 'NOTE'],
      entries.map((e) => [String(e.id), e.list, e.cidr, e.customer ?? 'all', e.createdBy, iso(e.createdAt)!, e.note ?? '']),
    );
  },

  async listsRemove(idText: string, o: DataDirOptions): Promise<void> {
    const id = Number(idText);
    if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`"${idText}" is not an entry id (the ID column of \`rollcall security lists\`)`);
    await withStore(o, (store) => {
      const e = store.addressLists.remove(id);
      if (e === null) throw new UsageError(`no address list entry ${id} (see \`rollcall security lists\`)`);
      audit(store, { action: 'list.remove', target: entryTarget(e), before: entryJson(e) });
      process.stdout.write(`removed ${e.cidr} from the ${e.list} list${forCustomer(e.customer)} (entry ${e.id})\n`);
    });
  },

  async failures(o: FailureOptions): Promise<void> {
    const window = failureWindow(o, Date.now());
    if (o.reason !== undefined && !(FAILURE_REASONS as readonly string[]).includes(o.reason)) {
      throw new UsageError(`--reason ${o.reason}: expected one of ${FAILURE_REASONS.join(', ')}`);
    }
    if (o.ip !== undefined && isIP(o.ip) === 0) throw new UsageError(`--ip ${o.ip}: expected one IPv4 or IPv6 address`);
    const { since, until } = window;
    const range = { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };

    if (o.counts) {
      if (o.reason !== undefined || o.ip !== undefined || o.user !== undefined) {
        throw new UsageError('--counts sums every failure of the time range; it takes --since/--last/--until, not --reason, --ip or --user');
      }
      const counts = await withStore(o, (store) => store.failures.counts({ ...range, limit: rowLimit(o.limit, DEFAULT_COUNT_ROWS) }));
      if (o.json) {
        process.stdout.write(JSON.stringify({ since: iso(since ?? null), until: iso(until ?? null), ...counts }, null, 2) + '\n');
        return;
      }
      if (counts.byReason.length === 0) {
        process.stdout.write(`no failed registrations${window.label}\n`);
        return;
      }
      printTable(['REASON', 'COUNT'], counts.byReason.map((r) => [r.reason, String(r.count)]));
      process.stdout.write('\n');
      printTable(['SOURCE', 'COUNT'], counts.bySource.map((r) => [r.sourceAddress, String(r.count)]));
      process.stdout.write('\n');
      printTable(['USERNAME', 'COUNT'], counts.byUsername.map((r) => [r.username, String(r.count)]));
      return;
    }

    const rows = await withStore(o, (store) =>
      store.failures.query({
        ...range,
        ...(o.reason !== undefined ? { reason: o.reason as FailureReason } : {}),
        ...(o.ip !== undefined ? { sourceAddress: o.ip.toLowerCase() } : {}),
        ...(o.user !== undefined ? { username: o.user } : {}),
        limit: rowLimit(o.limit, DEFAULT_FAILURE_ROWS),
      }),
    );
    if (o.json) {
      process.stdout.write(JSON.stringify(rows.map((f) => ({ ...f, time: iso(f.time) })), null, 2) + '\n');
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`no failed registrations${window.label}${o.reason || o.ip || o.user ? ' match' : ''}\n`);
      return;
    }
    printTable(
      ['TIME', 'SOURCE', 'TRANSPORT', 'USERNAME', 'REASON', 'COUNT', 'USER AGENT', 'DETAIL'],
      rows.map((f) => [
        iso(f.time)!,
        sourceText(f.sourceAddress, f.sourcePort),
        f.transport,
        f.username ?? '-',
        f.reason,
        String(f.count),
        f.userAgent ?? '-',
        f.detail ?? '',
      ]),
    );
  },
};
