// The audit log (admin): who did what, when, from where, to what — with the before and after.

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBanner } from '../components/error-banner';
import { Pager, useCursorPaging } from '../components/pager';
import { useQuery } from '../components/use-query';
import { dateTime, fromLocalInput, json } from '../format';
import { useDebounced } from '../hooks';
import { AUDIT_ACTIONS, type AuditEntry, type Page } from '../types';

interface Filters {
  readonly user: string;
  readonly action: string;
  readonly since: string;
  readonly until: string;
}

const NONE: Filters = { user: '', action: '', since: '', until: '' };

export function AuditPage() {
  const [filters, setFilters] = useState<Filters>(NONE);
  const [limit, setLimit] = useState(100);
  const applied = useDebounced(filters, 300);
  const query = useMemo(
    () => ({ user: applied.user.trim(), action: applied.action.trim(), since: fromLocalInput(applied.since), until: fromLocalInput(applied.until) }),
    [applied],
  );
  const key = JSON.stringify([query, limit]);
  const paging = useCursorPaging(key);
  const audit = useQuery((signal) => api.get<Page<AuditEntry>>('/audit', { ...query, limit, cursor: paging.cursor }, signal), [key, paging.cursor]);
  const input = (k: keyof Filters) => (e: Event) => setFilters((f) => ({ ...f, [k]: (e.target as HTMLInputElement).value }));
  const filtered = JSON.stringify(filters) !== JSON.stringify(NONE);
  const page = audit.data;

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Audit log</h1>
        <div class="page-actions">
          <button type="button" class="btn btn-small" onClick={audit.reload}>
            Refresh
          </button>
        </div>
      </div>
      <form class="filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div class="field field-compact">
          <label for="au-user">User</label>
          <input id="au-user" value={filters.user} onInput={input('user')} data-testid="audit-user" />
        </div>
        <div class="field field-compact">
          <label for="au-action">Action</label>
          <input id="au-action" list="audit-actions" value={filters.action} placeholder="e.g. setting.change" onInput={input('action')} data-testid="audit-action" />
          <datalist id="audit-actions">
            {AUDIT_ACTIONS.map((a) => (
              <option value={a} />
            ))}
          </datalist>
        </div>
        <div class="field field-compact">
          <label for="au-since">From</label>
          <input id="au-since" type="datetime-local" step="1" value={filters.since} onInput={input('since')} />
        </div>
        <div class="field field-compact">
          <label for="au-until">Until</label>
          <input id="au-until" type="datetime-local" step="1" value={filters.until} onInput={input('until')} />
        </div>
        <div class="field field-compact field-button">
          <button type="button" class="btn btn-small btn-ghost-dark" disabled={!filtered} onClick={() => setFilters(NONE)}>
            Clear filters
          </button>
        </div>
      </form>
      <ErrorBanner error={audit.error} />
      <div class="table-wrap">
        <table class="grid grid-audit" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">From</th>
              <th scope="col">What</th>
              <th scope="col">Target</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {(page?.items ?? []).map((a) => (
              <tr key={a.id} data-testid="audit-row">
                <td class="mono nowrap">{dateTime(a.time)}</td>
                <td class="strong">{a.user ?? <span class="muted">—</span>}</td>
                <td class="mono nowrap">{a.address ?? '—'}</td>
                <td>
                  <span class="tag">{a.action}</span>
                </td>
                <td class="mono truncate" title={a.target ?? ''}>
                  {a.target ?? '—'}
                </td>
                <td>
                  <JsonCell value={a.before} />
                </td>
                <td>
                  <JsonCell value={a.after} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length === 0 ? (
          <div class="empty" data-testid="empty-state">
            {filtered ? 'No audit entries match these filters.' : 'Nothing audited yet.'}
          </div>
        ) : null}
        {!page && audit.loading ? <div class="empty">Loading the audit log…</div> : null}
      </div>
      {page ? <Pager paging={paging} nextCursor={page.nextCursor} shown={page.items.length} limit={limit} onLimit={setLimit} noun="entries" /> : null}
    </section>
  );
}

function JsonCell({ value }: { readonly value: unknown }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  const text = json(value);
  if (text.length <= 60 && !text.includes('\n')) return <code class="json-inline">{text}</code>;
  return (
    <details class="json">
      <summary>{text.replace(/\s+/g, ' ').slice(0, 48)}…</summary>
      <pre>{text}</pre>
    </details>
  );
}
