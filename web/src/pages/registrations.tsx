// The live registrations table (SPEC §5): filters, sorting and cursor paging done by the
// API, the remaining expiry counted down here every second, and the page refreshed from
// the event stream (at most once a second) so new phones appear without polling.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, apiUrl } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorBanner, Notice } from '../components/error-banner';
import { Pager, useCursorPaging } from '../components/pager';
import { SortHeader, type SortState } from '../components/sort-header';
import { useQuery } from '../components/use-query';
import { dateTime, duration, hostPort, shortTime } from '../format';
import { useDebounced, useNow } from '../hooks';
import { useStreamEvent } from '../live-stream';
import { canOperate, REACHABILITIES, TRANSPORTS, type Customer, type Page, type Registration, type UnregisterResult, type User } from '../types';
import { RegistrationDrawer } from './registration-drawer';

const STATUS_LABEL = { registered: 'Registered', expiring: 'Expiring', unregistered: 'Unregistered', expired: 'Expired' } as const;

type SortField = 'number' | 'aor' | 'sourceAddress' | 'userAgent' | 'registeredAt' | 'refreshedAt' | 'expiresAt';

interface Filters {
  readonly number: string;
  readonly prefix: boolean;
  readonly ip: string;
  readonly customer: string;
  readonly status: string;
  readonly userAgent: string;
  readonly transport: string;
  readonly reachability: string;
}

const NO_FILTERS: Filters = { number: '', prefix: false, ip: '', customer: '', status: '', userAgent: '', transport: '', reachability: '' };

function filterQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  const number = f.number.trim();
  if (number) q[f.prefix ? 'numberPrefix' : 'number'] = number;
  if (f.ip.trim()) q['ip'] = f.ip.trim();
  if (f.customer.trim()) q['customer'] = f.customer.trim();
  if (f.status) q['status'] = f.status;
  if (f.userAgent.trim()) q['userAgent'] = f.userAgent.trim();
  if (f.transport) q['transport'] = f.transport;
  if (f.reachability) q['reachability'] = f.reachability;
  return q;
}

interface Loaded {
  readonly page: Page<Registration>;
  /** Server clock minus ours, so the countdown matches the server's expiry. */
  readonly skew: number;
}

export function RegistrationsPage({ user }: { readonly user: User }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [sort, setSort] = useState<SortState<SortField>>({ sort: 'number', order: 'asc' });
  const [limit, setLimit] = useState(100);
  const applied = useDebounced(filters, 300);
  const query = useMemo(() => filterQuery(applied), [applied]);
  const queryKey = JSON.stringify([query, sort, limit]);
  const paging = useCursorPaging(queryKey);
  const [detailsId, setDetailsId] = useState<number | null>(null);
  const [unregister, setUnregister] = useState<Registration | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const list = useQuery<Loaded>(
    async (signal) => {
      const asked = Date.now();
      const page = await api.get<Page<Registration>>('/registrations', { ...query, sort: sort.sort, order: sort.order, limit, cursor: paging.cursor }, signal);
      const first = page.items[0];
      const skew = first ? first.expiresAt - first.remaining * 1000 - asked : 0;
      return { page, skew: Math.abs(skew) > 1500 ? skew : 0 };
    },
    [queryKey, paging.cursor],
  );

  // Live: a burst of registration events becomes one reload, at most one a second.
  const lastReload = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reload = list.reload;
  const liveReload = useCallback(() => {
    if (pending.current) return;
    const wait = Math.max(200, 1000 - (Date.now() - lastReload.current));
    pending.current = setTimeout(() => {
      pending.current = null;
      lastReload.current = Date.now();
      reload();
    }, wait);
  }, [reload]);
  useEffect(() => () => void (pending.current && clearTimeout(pending.current)), []);
  useStreamEvent('registration', liveReload);
  useStreamEvent('overflow', liveReload);

  const customers = useQuery(async (signal) => api.get<Customer[]>('/customers', undefined, signal), []);
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setFilters((f) => ({ ...f, [k]: v }));
  const page = list.data?.page;
  const operator = canOperate(user);
  const filtered = Object.keys(query).length > 0;

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Registrations</h1>
        <div class="page-actions">
          <span class="match-count" data-testid="total">
            {page ? `${(page.total ?? page.items.length).toLocaleString()} ${filtered ? 'matching' : 'current'} binding${(page.total ?? 0) === 1 ? '' : 's'}` : ''}
          </span>
          <button type="button" class="btn btn-small" onClick={list.reload} data-testid="refresh">
            Refresh
          </button>
          <a class="btn btn-small" href={apiUrl('/registrations/export', { format: 'csv', ...query })} download data-testid="export-csv">
            Export CSV
          </a>
          <a class="btn btn-small" href={apiUrl('/registrations/export', { format: 'json', ...query })} download data-testid="export-json">
            Export JSON
          </a>
        </div>
      </div>

      <form class="filters" role="search" aria-label="Filter registrations" onSubmit={(e) => e.preventDefault()} data-testid="registration-filters">
        <div class="field field-compact field-number">
          <label for="f-number">Number</label>
          <div class="input-group">
            <input id="f-number" value={filters.number} placeholder={filters.prefix ? 'starts with…' : 'exact'} onInput={(e) => set('number', (e.target as HTMLInputElement).value)} data-testid="filter-number" />
            <label class="toggle" title="Match numbers starting with this">
              <input type="checkbox" checked={filters.prefix} onChange={(e) => set('prefix', (e.target as HTMLInputElement).checked)} data-testid="filter-number-prefix" />
              prefix
            </label>
          </div>
        </div>
        <div class="field field-compact">
          <label for="f-ip">IP address</label>
          <input id="f-ip" value={filters.ip} placeholder="exact, 192.168.1.x or CIDR" class="input-wide" onInput={(e) => set('ip', (e.target as HTMLInputElement).value)} data-testid="filter-ip" />
        </div>
        <div class="field field-compact">
          <label for="f-customer">Customer</label>
          <input id="f-customer" list="customer-names" value={filters.customer} onInput={(e) => set('customer', (e.target as HTMLInputElement).value)} data-testid="filter-customer" />
          <datalist id="customer-names">
            {(customers.data ?? []).map((c) => (
              <option value={c.name}>{`${c.accounts} accounts`}</option>
            ))}
          </datalist>
        </div>
        <div class="field field-compact">
          <label for="f-status">Status</label>
          <select id="f-status" value={filters.status} onChange={(e) => set('status', (e.target as HTMLSelectElement).value)} data-testid="filter-status">
            <option value="">Any</option>
            <option value="registered">Registered</option>
            <option value="expiring">Expiring</option>
          </select>
        </div>
        <div class="field field-compact">
          <label for="f-ua">User agent</label>
          <input id="f-ua" value={filters.userAgent} placeholder="contains…" onInput={(e) => set('userAgent', (e.target as HTMLInputElement).value)} data-testid="filter-user-agent" />
        </div>
        <div class="field field-compact">
          <label for="f-transport">Transport</label>
          <select id="f-transport" value={filters.transport} onChange={(e) => set('transport', (e.target as HTMLSelectElement).value)} data-testid="filter-transport">
            <option value="">Any</option>
            {TRANSPORTS.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </div>
        <div class="field field-compact">
          <label for="f-reach">Reachability</label>
          <select id="f-reach" value={filters.reachability} onChange={(e) => set('reachability', (e.target as HTMLSelectElement).value)} data-testid="filter-reachability">
            <option value="">Any</option>
            {REACHABILITIES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </div>
        <div class="field field-compact field-button">
          <button type="button" class="btn btn-small btn-ghost-dark" disabled={!filtered && filters === NO_FILTERS} onClick={() => setFilters(NO_FILTERS)} data-testid="filter-clear">
            Clear filters
          </button>
        </div>
      </form>

      {notice ? <Notice testid="notice">{notice}</Notice> : null}
      <ErrorBanner error={list.error} />

      <RegistrationTable
        loaded={list.data}
        loading={list.loading}
        filtered={filtered}
        sort={sort}
        onSort={setSort}
        operator={operator}
        onDetails={setDetailsId}
        onUnregister={setUnregister}
      />

      {page ? <Pager paging={paging} nextCursor={page.nextCursor} shown={page.items.length} limit={limit} total={page.total} onLimit={setLimit} noun="bindings" /> : null}

      {detailsId !== null ? (
        <RegistrationDrawer
          id={detailsId}
          operator={operator}
          onClose={() => setDetailsId(null)}
          onUnregister={(r) => {
            setDetailsId(null);
            setUnregister(r);
          }}
        />
      ) : null}
      {unregister ? (
        <UnregisterDialog
          registration={unregister}
          onClose={() => setUnregister(null)}
          onDone={(r) => {
            setUnregister(null);
            setNotice(`Removed ${r.removed} binding${r.removed === 1 ? '' : 's'} of ${unregister.aor}.${r.note ? ` ${r.note}` : ''}`);
            list.reload();
          }}
        />
      ) : null}
    </section>
  );
}

interface TableProps {
  readonly loaded: Loaded | null;
  readonly loading: boolean;
  readonly filtered: boolean;
  readonly sort: SortState<SortField>;
  readonly onSort: (s: SortState<SortField>) => void;
  readonly operator: boolean;
  readonly onDetails: (id: number) => void;
  readonly onUnregister: (r: Registration) => void;
}

function RegistrationTable({ loaded, loading, filtered, sort, onSort, operator, onDetails, onUnregister }: TableProps) {
  const now = useNow(1000);
  const items = loaded?.page.items ?? [];
  const serverNow = now + (loaded?.skew ?? 0);
  return (
    <div class="table-wrap">
      <table class="grid grid-registrations" data-testid="registrations-table" aria-busy={loading}>
        <thead>
          <tr>
            <SortHeader field="number" state={sort} onSort={onSort}>
              Number
            </SortHeader>
            <th scope="col">Customer</th>
            <th scope="col">Contact</th>
            <th scope="col">Contact IP:port</th>
            <SortHeader field="sourceAddress" state={sort} onSort={onSort}>
              Source IP:port
            </SortHeader>
            <th scope="col">Transport</th>
            <SortHeader field="expiresAt" state={sort} onSort={onSort}>
              Expires in
            </SortHeader>
            <SortHeader field="userAgent" state={sort} onSort={onSort}>
              User agent
            </SortHeader>
            <SortHeader field="registeredAt" state={sort} onSort={onSort}>
              Registered
            </SortHeader>
            <SortHeader field="refreshedAt" state={sort} onSort={onSort}>
              Refreshed
            </SortHeader>
            <th scope="col">Status</th>
            <th scope="col" title="Reachability (keep-alive) and NAT">Reach</th>
            {operator ? (
              <th scope="col" class="col-actions">
                <span class="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {items.map((r) => {
            const remaining = Math.max(0, Math.round((r.expiresAt - serverNow) / 1000));
            const status = remaining === 0 ? 'expired' : r.status;
            return (
              <tr key={r.id} data-testid="registration-row" data-id={r.id} data-number={r.number} class={`row-${status}`}>
                <td class="nowrap">
                  <button type="button" class="link-button mono strong" onClick={() => onDetails(r.id)} title={`Details of ${r.aor}`} data-testid="row-details">
                    {r.number}
                  </button>
                </td>
                <td>{r.customer ?? <span class="muted">—</span>}</td>
                <td class="mono truncate col-contact" title={r.contact}>
                  {r.contact}
                </td>
                <td class="mono nowrap">{hostPort(r.contactAddress, r.contactPort)}</td>
                <td class="mono nowrap">{hostPort(r.sourceAddress, r.sourcePort)}</td>
                <td>
                  <span class="tag">{r.transport}</span>
                </td>
                <td class="mono nowrap num" data-testid="remaining" title={`expires ${dateTime(r.expiresAt)} (of ${r.expires} s)`}>
                  {duration(remaining)}
                </td>
                <td class="truncate col-ua" title={r.userAgent ?? ''}>
                  {r.userAgent ?? <span class="muted">—</span>}
                </td>
                <td class="mono nowrap" title={dateTime(r.registeredAt)}>
                  {shortTime(r.registeredAt, now)}
                </td>
                <td class="mono nowrap" title={dateTime(r.refreshedAt)}>
                  {shortTime(r.refreshedAt, now)}
                </td>
                <td>
                  <span class={`status status-${status}`} data-testid="status">
                    {STATUS_LABEL[status]}
                  </span>
                </td>
                <td class="nowrap">
                  <span
                    class={`reach reach-${r.reachability}`}
                    data-testid="reachability"
                    title={`${r.reachability}${r.rttMs !== null ? `, RTT ${r.rttMs} ms` : ''}, last seen ${dateTime(r.lastSeenAt)}`}
                  >
                    <span class="visually-hidden">{r.reachability}</span>
                  </span>
                  {r.nat ? (
                    <span class="tag tag-nat" title="Behind NAT: the contact or Via differs from the source address or is private">
                      NAT
                    </span>
                  ) : null}
                </td>
                {operator ? (
                  <td class="col-actions nowrap">
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => onUnregister(r)} aria-label={`Force unregister ${r.number}`} data-testid="row-unregister">
                      Unregister
                    </button>
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {loaded && items.length === 0 ? (
        <div class="empty" data-testid="empty-state">
          {filtered ? 'No registrations match these filters.' : 'No phones are registered right now. They appear here as soon as they register.'}
        </div>
      ) : null}
      {!loaded && loading ? <div class="empty">Loading registrations…</div> : null}
    </div>
  );
}

interface UnregisterProps {
  readonly registration: Registration;
  readonly onClose: () => void;
  readonly onDone: (r: UnregisterResult) => void;
}

function UnregisterDialog({ registration: r, onClose, onDone }: UnregisterProps) {
  const [terminate, setTerminate] = useState(false);
  return (
    <ConfirmDialog
      title="Force unregister"
      confirmLabel="Unregister"
      testid="unregister-dialog"
      onClose={onClose}
      onConfirm={async () => onDone(await api.del<UnregisterResult>(`/registrations/${r.id}`, { terminateCalls: terminate ? 'true' : undefined }))}
    >
      <p>
        Remove the binding of <strong>{r.aor}</strong> at <code>{r.contact}</code> now?
      </p>
      <p class="help">The phone is not told: it finds out on its next refresh and registers again if it still can. The action is recorded in the audit log.</p>
      <label class="check">
        <input type="checkbox" checked={terminate} onChange={(e) => setTerminate((e.target as HTMLInputElement).checked)} data-testid="terminate-calls" />
        Also terminate this binding's calls
      </label>
    </ConfirmDialog>
  );
}
