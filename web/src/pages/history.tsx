// Registration history: past events by number, IP, customer, type and time range, newest first.

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBanner } from '../components/error-banner';
import { Pager, useCursorPaging } from '../components/pager';
import { useQuery } from '../components/use-query';
import { fromLocalInput } from '../format';
import { useDebounced } from '../hooks';
import { EVENT_TYPES, type Page, type RegistrationEvent } from '../types';
import { EventTable } from './event-table';

interface Filters {
  readonly number: string;
  readonly ip: string;
  readonly customer: string;
  readonly type: string;
  readonly since: string;
  readonly until: string;
}

const NONE: Filters = { number: '', ip: '', customer: '', type: '', since: '', until: '' };

export function HistoryPage() {
  const [filters, setFilters] = useState<Filters>(NONE);
  const [limit, setLimit] = useState(100);
  const applied = useDebounced(filters, 300);
  const query = useMemo(
    () => ({
      number: applied.number.trim(),
      ip: applied.ip.trim(),
      customer: applied.customer.trim(),
      type: applied.type,
      since: fromLocalInput(applied.since),
      until: fromLocalInput(applied.until),
    }),
    [applied],
  );
  const key = JSON.stringify([query, limit]);
  const paging = useCursorPaging(key);
  const events = useQuery((signal) => api.get<Page<RegistrationEvent>>('/history', { ...query, limit, cursor: paging.cursor }, signal), [key, paging.cursor]);
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setFilters((f) => ({ ...f, [k]: v }));
  const input = (k: keyof Filters) => (e: Event) => set(k, (e.target as HTMLInputElement).value);
  const filtered = JSON.stringify(filters) !== JSON.stringify(NONE);
  const page = events.data;

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Registration history</h1>
        <div class="page-actions">
          <button type="button" class="btn btn-small" onClick={events.reload}>
            Refresh
          </button>
        </div>
      </div>
      <form class="filters" role="search" aria-label="Filter history" onSubmit={(e) => e.preventDefault()} data-testid="history-filters">
        <div class="field field-compact">
          <label for="h-number">Number</label>
          <input id="h-number" value={filters.number} onInput={input('number')} data-testid="history-number" />
        </div>
        <div class="field field-compact">
          <label for="h-ip">IP address</label>
          <input id="h-ip" value={filters.ip} placeholder="exact, 192.168.1.x or CIDR" onInput={input('ip')} data-testid="history-ip" />
        </div>
        <div class="field field-compact">
          <label for="h-customer">Customer</label>
          <input id="h-customer" value={filters.customer} onInput={input('customer')} data-testid="history-customer" />
        </div>
        <div class="field field-compact">
          <label for="h-type">Event</label>
          <select id="h-type" value={filters.type} onChange={input('type')} data-testid="history-type">
            <option value="">Any</option>
            {EVENT_TYPES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </div>
        <div class="field field-compact">
          <label for="h-since">From</label>
          <input id="h-since" type="datetime-local" step="1" value={filters.since} onInput={input('since')} data-testid="history-since" />
        </div>
        <div class="field field-compact">
          <label for="h-until">Until</label>
          <input id="h-until" type="datetime-local" step="1" value={filters.until} onInput={input('until')} data-testid="history-until" />
        </div>
        <div class="field field-compact field-button">
          <button type="button" class="btn btn-small btn-ghost-dark" disabled={!filtered} onClick={() => setFilters(NONE)}>
            Clear filters
          </button>
        </div>
      </form>
      <ErrorBanner error={events.error} />
      {page ? (
        <EventTable events={page.items} testid="history-table" empty={filtered ? 'No events match these filters.' : 'No registration events recorded yet.'} />
      ) : events.loading ? (
        <div class="empty">Loading history…</div>
      ) : null}
      {page ? <Pager paging={paging} nextCursor={page.nextCursor} shown={page.items.length} limit={limit} onLimit={setLimit} noun="events" /> : null}
    </section>
  );
}
