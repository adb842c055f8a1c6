// SIP security (docs/api.md "SIP security"): the blocks in force, the allow and deny lists,
// and the failed-registration log with its counts. Everyone reads; operators block, unblock
// and edit the lists.

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorBanner, Notice } from '../components/error-banner';
import { Pager, useCursorPaging } from '../components/pager';
import { useQuery } from '../components/use-query';
import { dateTime, hostPort } from '../format';
import { useDebounced } from '../hooks';
import {
  ADDRESS_LISTS,
  FAILURE_REASONS,
  canOperate,
  type AddressList,
  type AddressListEntry,
  type Block,
  type Customer,
  type Failure,
  type KernelFilterStatus,
  type FailureCounts,
  type Page,
  type User,
} from '../types';

type Dialog = { kind: 'unblock'; block: Block } | { kind: 'remove'; entry: AddressListEntry };

export function SecurityPage({ user }: { readonly user: User }) {
  const operator = canOperate(user);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const blocks = useQuery((signal) => api.get<Block[]>('/security/blocks', undefined, signal), []);
  const lists = useQuery((signal) => api.get<AddressListEntry[]>('/security/lists', undefined, signal), []);
  const kernel = useQuery((signal) => api.get<KernelFilterStatus>('/security/kernel-filter', undefined, signal), []);
  const [tick, setTick] = useState(0);
  const refresh = () => {
    blocks.reload();
    lists.reload();
    kernel.reload();
    setTick((t) => t + 1);
  };

  return (
    <section class="page" aria-labelledby="page-title" data-testid="security-page">
      <div class="page-head">
        <h1 id="page-title">Security</h1>
        <div class="page-actions">
          <button type="button" class="btn btn-small" onClick={refresh} data-testid="security-refresh">
            Refresh
          </button>
        </div>
      </div>
      <p class="help page-help">
        Blocked sources and usernames are refused before authentication; <strong>auto</strong> blocks come from the lockout, flood and scanner defence. A denied network is refused
        before its message is read; an allowed one skips rate limits, lockout and the scanner check.
      </p>
      {kernel.data ? (
        <p class="help page-help" data-testid="kernel-filter">
          {kernel.data.active
            ? `Kernel filter on (${kernel.data.table}): blocked addresses are dropped by nftables before they reach the SIP ports — ${(kernel.data.droppedPackets ?? 0).toLocaleString()} packets dropped since start.`
            : `Kernel filter off (security.kernelFilter: ${kernel.data.mode}): blocked addresses are dropped by the server itself.`}
        </p>
      ) : null}
      {notice ? <Notice testid="notice">{notice}</Notice> : null}

      <BlocksSection
        blocks={blocks.data}
        error={blocks.error}
        loading={blocks.loading}
        operator={operator}
        onBlocked={(b) => {
          setNotice(`Blocked ${b.kind === 'address' ? 'address' : 'user'} ${b.value}.`);
          blocks.reload();
        }}
        onUnblock={(block) => setDialog({ kind: 'unblock', block })}
      />

      <ListsSection
        entries={lists.data}
        error={lists.error}
        loading={lists.loading}
        operator={operator}
        onAdded={(e) => {
          setNotice(`Added ${e.cidr} to the ${e.list} list${e.customer ? ` of ${e.customer}` : ''}.`);
          lists.reload();
        }}
        onRemove={(entry) => setDialog({ kind: 'remove', entry })}
      />

      <FailuresSection tick={tick} />

      {dialog?.kind === 'unblock' ? (
        <ConfirmDialog
          title="Lift block"
          confirmLabel="Unblock"
          testid="unblock-dialog"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const b = dialog.block;
            await api.del(`/security/blocks/${b.kind}/${encodeURIComponent(b.value)}`);
            setDialog(null);
            setNotice(`Lifted the block of ${b.value}.`);
            blocks.reload();
          }}
        >
          <p>
            Lift the block of <strong class="mono">{dialog.block.value}</strong>? {dialog.block.kind === 'address' ? 'This address' : 'This user'} may register again at once.
          </p>
          <p class="help">Blocked because: {dialog.block.reason}</p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === 'remove' ? (
        <ConfirmDialog
          title={`Remove from the ${dialog.entry.list} list`}
          confirmLabel="Remove"
          testid="list-remove-dialog"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const e = dialog.entry;
            await api.del(`/security/lists/${e.id}`);
            setDialog(null);
            setNotice(`Removed ${e.cidr} from the ${e.list} list.`);
            lists.reload();
          }}
        >
          <p>
            Remove <strong class="mono">{dialog.entry.cidr}</strong> from the {dialog.entry.list} list {dialog.entry.customer ? `of ${dialog.entry.customer}` : 'of every customer'}?
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

// ---------- blocks ----------

const DURATIONS: ReadonlyArray<{ seconds: number | null; label: string }> = [
  { seconds: 15 * 60, label: '15 min' },
  { seconds: 3600, label: '1 h' },
  { seconds: 86400, label: '1 day' },
  { seconds: null, label: 'until removed' },
];

interface BlocksProps {
  readonly blocks: Block[] | null;
  readonly error: unknown;
  readonly loading: boolean;
  readonly operator: boolean;
  readonly onBlocked: (b: Block) => void;
  readonly onUnblock: (b: Block) => void;
}

function BlocksSection({ blocks, error, loading, operator, onBlocked, onUnblock }: BlocksProps) {
  return (
    <section class="section" aria-labelledby="sec-blocks" data-testid="blocks-section">
      <div class="section-head">
        <h2 id="sec-blocks">Blocks in force</h2>
        {blocks ? <span class="muted" data-testid="blocks-count">{blocks.length.toLocaleString()}</span> : null}
      </div>
      {operator ? <BlockForm onBlocked={onBlocked} /> : null}
      <ErrorBanner error={error} testid="blocks-load-error" />
      <div class="table-wrap">
        <table class="grid" data-testid="blocks-table">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Value</th>
              <th scope="col">Reason</th>
              <th scope="col">Since</th>
              <th scope="col">Until</th>
              <th scope="col">By</th>
              {operator ? (
                <th scope="col" class="col-actions">
                  <span class="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {(blocks ?? []).map((b) => (
              <tr key={`${b.kind} ${b.value}`} data-testid="block-row" data-value={b.value}>
                <td>
                  <span class="tag">{b.kind === 'address' ? 'address' : 'user'}</span>
                </td>
                <td class="mono strong">{b.value}</td>
                <td class="truncate" title={b.reason}>
                  {b.reason}
                </td>
                <td class="mono nowrap">{dateTime(b.createdAt)}</td>
                <td class="mono nowrap">{b.expiresAt === null ? <span class="muted">until removed</span> : dateTime(b.expiresAt)}</td>
                <td>{b.createdBy === 'auto' ? <span class="event event-warn">auto</span> : b.createdBy}</td>
                {operator ? (
                  <td class="col-actions nowrap">
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => onUnblock(b)} aria-label={`Unblock ${b.value}`} data-testid="block-unblock">
                      Unblock
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {blocks && blocks.length === 0 ? (
          <div class="empty" data-testid="blocks-empty">
            No blocks in force.
          </div>
        ) : null}
        {!blocks && loading ? <div class="empty">Loading the blocks…</div> : null}
      </div>
    </section>
  );
}

function BlockForm({ onBlocked }: { readonly onBlocked: (b: Block) => void }) {
  const [value, setValue] = useState('');
  const [duration, setDuration] = useState('3600');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const v = value.trim();
  const kind = v.includes('@') ? 'username' : 'address';
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!v) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { kind, value: v };
      if (duration) body['duration'] = Number(duration);
      if (reason.trim()) body['reason'] = reason.trim();
      const b = await api.post<Block | null>('/security/blocks', body);
      setValue('');
      setReason('');
      onBlocked(b ?? { kind, value: v, reason: reason.trim(), createdAt: Date.now(), expiresAt: null, createdBy: '' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <form class="filters" aria-label="Block an address or a user" onSubmit={submit} data-testid="block-form">
        <div class="field field-compact">
          <label for="b-value">Address or user@domain</label>
          <input id="b-value" class="input-wide" required value={value} placeholder="198.51.100.7 or 1001@example.com" onInput={(e) => setValue((e.target as HTMLInputElement).value)} data-testid="block-value" />
        </div>
        <div class="field field-compact">
          <label for="b-duration">For</label>
          <select id="b-duration" value={duration} onChange={(e) => setDuration((e.target as HTMLSelectElement).value)} data-testid="block-duration">
            {DURATIONS.map((d) => (
              <option value={d.seconds === null ? '' : String(d.seconds)}>{d.label}</option>
            ))}
          </select>
        </div>
        <div class="field field-compact">
          <label for="b-reason">Reason</label>
          <input id="b-reason" class="input-wide" maxLength={300} value={reason} placeholder="optional" onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="block-reason" />
        </div>
        <div class="field field-compact field-button">
          <button type="submit" class="btn btn-small btn-danger" disabled={busy || !v} data-testid="block-submit">
            {busy ? 'Blocking…' : v ? `Block ${kind === 'address' ? 'address' : 'user'}` : 'Block'}
          </button>
        </div>
      </form>
      <ErrorBanner error={error} testid="block-error" />
    </>
  );
}

// ---------- allow and deny lists ----------

interface ListsProps {
  readonly entries: AddressListEntry[] | null;
  readonly error: unknown;
  readonly loading: boolean;
  readonly operator: boolean;
  readonly onAdded: (e: AddressListEntry) => void;
  readonly onRemove: (e: AddressListEntry) => void;
}

function ListsSection({ entries, error, loading, operator, onAdded, onRemove }: ListsProps) {
  return (
    <section class="section" aria-labelledby="sec-lists" data-testid="lists-section">
      <div class="section-head">
        <h2 id="sec-lists">Allow and deny lists</h2>
        {entries ? <span class="muted" data-testid="lists-count">{entries.length.toLocaleString()}</span> : null}
      </div>
      {operator ? <ListForm onAdded={onAdded} /> : null}
      <ErrorBanner error={error} testid="lists-load-error" />
      <div class="table-wrap">
        <table class="grid" data-testid="lists-table">
          <thead>
            <tr>
              <th scope="col">List</th>
              <th scope="col">CIDR</th>
              <th scope="col">Customer</th>
              <th scope="col">Note</th>
              <th scope="col">Added</th>
              <th scope="col">By</th>
              {operator ? (
                <th scope="col" class="col-actions">
                  <span class="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {(entries ?? []).map((e) => (
              <tr key={e.id} data-testid="list-row" data-cidr={e.cidr} data-list={e.list}>
                <td>
                  <span class={`event ${e.list === 'allow' ? 'event-ok' : 'event-bad'}`}>{e.list}</span>
                </td>
                <td class="mono strong">{e.cidr}</td>
                <td>{e.customer ?? <span class="muted">all</span>}</td>
                <td class="truncate" title={e.note ?? ''}>
                  {e.note ?? <span class="muted">—</span>}
                </td>
                <td class="mono nowrap">{dateTime(e.createdAt)}</td>
                <td>{e.createdBy}</td>
                {operator ? (
                  <td class="col-actions nowrap">
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => onRemove(e)} aria-label={`Remove ${e.cidr} from the ${e.list} list`} data-testid="list-remove">
                      Remove
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {entries && entries.length === 0 ? (
          <div class="empty" data-testid="lists-empty">
            The allow and deny lists are empty.
          </div>
        ) : null}
        {!entries && loading ? <div class="empty">Loading the lists…</div> : null}
      </div>
    </section>
  );
}

function ListForm({ onAdded }: { readonly onAdded: (e: AddressListEntry) => void }) {
  const [list, setList] = useState<AddressList>('deny');
  const [cidr, setCidr] = useState('');
  const [customer, setCustomer] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const customers = useQuery((signal) => api.get<Customer[]>('/customers', undefined, signal), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const entry = await api.post<AddressListEntry>('/security/lists', {
        list,
        cidr: cidr.trim(),
        ...(customer.trim() ? { customer: customer.trim() } : {}),
        ...(note.trim() ? { note: note.trim() } : {}),
      });
      setCidr('');
      setNote('');
      onAdded(entry);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <form class="filters" aria-label="Add to the allow or deny list" onSubmit={submit} data-testid="list-form">
        <div class="field field-compact">
          <label for="l-list">List</label>
          <select id="l-list" value={list} onChange={(e) => setList((e.target as HTMLSelectElement).value as AddressList)} data-testid="list-list">
            {ADDRESS_LISTS.map((l) => (
              <option value={l}>{l}</option>
            ))}
          </select>
        </div>
        <div class="field field-compact">
          <label for="l-cidr">CIDR or address</label>
          <input id="l-cidr" required value={cidr} placeholder="203.0.113.0/24" onInput={(e) => setCidr((e.target as HTMLInputElement).value)} data-testid="list-cidr" />
        </div>
        <div class="field field-compact">
          <label for="l-customer">Customer</label>
          <input id="l-customer" list="l-customers" value={customer} placeholder="all" onInput={(e) => setCustomer((e.target as HTMLInputElement).value)} data-testid="list-customer" />
          <datalist id="l-customers">
            {(customers.data ?? []).map((c) => (
              <option value={c.name} />
            ))}
          </datalist>
        </div>
        <div class="field field-compact">
          <label for="l-note">Note</label>
          <input id="l-note" class="input-wide" maxLength={300} value={note} placeholder="optional" onInput={(e) => setNote((e.target as HTMLInputElement).value)} data-testid="list-note" />
        </div>
        <div class="field field-compact field-button">
          <button type="submit" class="btn btn-small btn-primary" disabled={busy || !cidr.trim()} data-testid="list-submit">
            {busy ? 'Adding…' : 'Add'}
          </button>
        </div>
      </form>
      <ErrorBanner error={error} testid="list-error" />
    </>
  );
}

// ---------- failed registrations ----------

const RANGES: ReadonlyArray<{ value: string; label: string; ms: number; phrase: string }> = [
  { value: '1h', label: 'Last hour', ms: 3600_000, phrase: 'in the last hour' },
  { value: '24h', label: 'Last 24 hours', ms: 86400_000, phrase: 'in the last 24 hours' },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86400_000, phrase: 'in the last 7 days' },
];

interface FailureFilters {
  readonly reason: string;
  readonly ip: string;
  readonly username: string;
}

const NO_FILTERS: FailureFilters = { reason: '', ip: '', username: '' };
const LIMIT = 50;

function FailuresSection({ tick }: { readonly tick: number }) {
  const [range, setRange] = useState('24h');
  const [filters, setFilters] = useState<FailureFilters>(NO_FILTERS);
  const [ownTick, setOwnTick] = useState(0);
  const r = RANGES.find((x) => x.value === range) ?? RANGES[1]!;
  // The window is fixed when it is chosen (or refreshed), so paging stays on the same rows.
  const since = useMemo(() => Date.now() - r.ms, [r.ms, tick, ownTick]);
  const applied = useDebounced(filters, 300);
  const query = useMemo(() => ({ reason: applied.reason, ip: applied.ip.trim(), username: applied.username.trim() }), [applied]);
  const counts = useQuery((signal) => api.get<FailureCounts>('/security/failures/counts', { since, limit: 10 }, signal), [since]);
  const key = JSON.stringify([query, since]);
  const paging = useCursorPaging(key);
  const log = useQuery((signal) => api.get<Page<Failure>>('/security/failures', { ...query, since, limit: LIMIT, cursor: paging.cursor }, signal), [key, paging.cursor]);
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  const set = (k: keyof FailureFilters) => (e: Event) => setFilters((f) => ({ ...f, [k]: (e.target as HTMLInputElement | HTMLSelectElement).value }));
  const page = log.data;
  const c = counts.data;

  return (
    <section class="section" aria-labelledby="sec-failures" data-testid="failures-section">
      <div class="section-head">
        <h2 id="sec-failures">Failed registrations</h2>
        <label class="toggle">
          <span class="visually-hidden">Range</span>
          <select value={range} onChange={(e) => setRange((e.target as HTMLSelectElement).value)} data-testid="failures-range">
            {RANGES.map((x) => (
              <option value={x.value}>{x.label}</option>
            ))}
          </select>
        </label>
        <button type="button" class="btn btn-small" onClick={() => setOwnTick((t) => t + 1)} data-testid="failures-refresh">
          Refresh
        </button>
      </div>
      <ErrorBanner error={counts.error} testid="failure-counts-error" />
      <div class="counts" data-testid="failure-counts">
        <CountTable
          title="By reason"
          testid="failure-counts-reason"
          rows={c ? c.byReason.map((x) => ({ key: x.reason, count: x.count })) : null}
          tagged
          onPick={(reason) => setFilters((f) => ({ ...f, reason }))}
        />
        <CountTable
          title="By source"
          testid="failure-counts-source"
          rows={c ? c.bySource.map((x) => ({ key: x.sourceAddress, count: x.count })) : null}
          onPick={(ip) => setFilters((f) => ({ ...f, ip }))}
        />
        <CountTable
          title="By username"
          testid="failure-counts-username"
          rows={c ? c.byUsername.map((x) => ({ key: x.username, count: x.count })) : null}
          onPick={(username) => setFilters((f) => ({ ...f, username }))}
        />
      </div>

      <form class="filters" role="search" aria-label="Filter the failed registrations" onSubmit={(e) => e.preventDefault()}>
        <div class="field field-compact">
          <label for="f-reason">Reason</label>
          <select id="f-reason" class="select-wide" value={filters.reason} onChange={set('reason')} data-testid="failures-reason">
            <option value="">Any</option>
            {FAILURE_REASONS.map((x) => (
              <option value={x}>{x}</option>
            ))}
          </select>
        </div>
        <div class="field field-compact">
          <label for="f-ip">Source IP</label>
          <input id="f-ip" value={filters.ip} placeholder="exact address" onInput={set('ip')} data-testid="failures-ip" />
        </div>
        <div class="field field-compact">
          <label for="f-username">Username</label>
          <input id="f-username" value={filters.username} onInput={set('username')} data-testid="failures-username" />
        </div>
        <div class="field field-compact field-button">
          <button type="button" class="btn btn-small btn-ghost-dark" disabled={!filtered} onClick={() => setFilters(NO_FILTERS)} data-testid="failures-clear">
            Clear filters
          </button>
        </div>
      </form>
      <ErrorBanner error={log.error} testid="failures-load-error" />
      <div class="table-wrap">
        <table class="grid grid-failures" data-testid="failures-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Source</th>
              <th scope="col">Transport</th>
              <th scope="col">Username</th>
              <th scope="col" class="col-ua">User agent</th>
              <th scope="col">Reason</th>
              <th scope="col" class="col-detail">Detail</th>
              <th scope="col" class="num">Count</th>
            </tr>
          </thead>
          <tbody>
            {(page?.items ?? []).map((f) => (
              <tr key={f.id} data-testid="failure-row" data-reason={f.reason}>
                <td class="mono nowrap">{dateTime(f.time)}</td>
                <td class="mono nowrap">{hostPort(f.sourceAddress, f.sourcePort)}</td>
                <td>{f.transport}</td>
                <td class="mono">{f.username ?? <span class="muted">—</span>}</td>
                <td class="col-ua truncate" title={f.userAgent ?? ''}>
                  {f.userAgent ?? <span class="muted">—</span>}
                </td>
                <td>
                  <span class="event event-bad">{f.reason}</span>
                </td>
                <td class="col-detail truncate" title={f.detail ?? ''}>
                  {f.detail ?? <span class="muted">—</span>}
                </td>
                <td class={`num mono${f.count > 1 ? ' strong' : ''}`}>{f.count.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length === 0 ? (
          <div class="empty" data-testid="failures-empty">
            {filtered ? 'No failed registrations match these filters.' : `No failed registrations ${r.phrase}.`}
          </div>
        ) : null}
        {!page && log.loading ? <div class="empty">Loading the failed registrations…</div> : null}
      </div>
      {page ? <Pager paging={paging} nextCursor={page.nextCursor} shown={page.items.length} limit={LIMIT} noun="failures" /> : null}
    </section>
  );
}

interface CountTableProps {
  readonly title: string;
  readonly testid: string;
  readonly rows: ReadonlyArray<{ key: string; count: number }> | null;
  readonly tagged?: boolean;
  readonly onPick: (key: string) => void;
}

function CountTable({ title, testid, rows, tagged, onPick }: CountTableProps) {
  return (
    <div class="table-wrap">
      <table class="grid grid-counts" data-testid={testid}>
        <thead>
          <tr>
            <th scope="col">{title}</th>
            <th scope="col" class="num">
              Failures
            </th>
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map((x) => (
            <tr key={x.key} data-testid="count-row" data-key={x.key}>
              <td class="truncate">
                <button type="button" class={`link-button${tagged ? '' : ' mono'}`} title="Show only these in the log below" onClick={() => onPick(x.key)}>
                  {x.key}
                </button>
              </td>
              <td class="num mono">{x.count.toLocaleString()}</td>
            </tr>
          ))}
          {rows && rows.length === 0 ? (
            <tr>
              <td colSpan={2} class="muted" data-testid="count-empty">
                None
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
