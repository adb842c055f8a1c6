// SIP accounts: search and page through them; operators create, edit, reset passwords,
// delete and import them from CSV.

import { useMemo, useState } from 'preact/hooks';
import { api, request } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorBanner, Notice } from '../components/error-banner';
import { Modal } from '../components/modal';
import { Pager, useCursorPaging } from '../components/pager';
import { useQuery } from '../components/use-query';
import { dateTime } from '../format';
import { useDebounced } from '../hooks';
import { canOperate, type Account, type Customer, type Page, type User } from '../types';

type Dialog =
  | { kind: 'create' }
  | { kind: 'edit'; account: Account }
  | { kind: 'password'; account: Account }
  | { kind: 'delete'; account: Account }
  | { kind: 'import' };

export function AccountsPage({ user }: { readonly user: User }) {
  const [q, setQ] = useState('');
  const [customer, setCustomer] = useState('');
  const [limit, setLimit] = useState(100);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const typed = useMemo(() => ({ q: q.trim(), customer: customer.trim() }), [q, customer]);
  const query = useDebounced(typed, 300);
  const key = JSON.stringify([query, limit]);
  const paging = useCursorPaging(key);
  const accounts = useQuery((signal) => api.get<Page<Account>>('/accounts', { ...query, limit, cursor: paging.cursor }, signal), [key, paging.cursor]);
  const customers = useQuery((signal) => api.get<Customer[]>('/customers', undefined, signal), [accounts.data]);
  const operator = canOperate(user);
  const page = accounts.data;
  const done = (message: string) => {
    setDialog(null);
    setNotice(message);
    accounts.reload();
  };

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Accounts</h1>
        <div class="page-actions">
          {operator ? (
            <>
              <button type="button" class="btn btn-small" onClick={() => setDialog({ kind: 'import' })} data-testid="accounts-import">
                Import CSV…
              </button>
              <button type="button" class="btn btn-small btn-primary" onClick={() => setDialog({ kind: 'create' })} data-testid="accounts-create">
                New account
              </button>
            </>
          ) : null}
        </div>
      </div>
      <form class="filters" role="search" aria-label="Search accounts" onSubmit={(e) => e.preventDefault()}>
        <div class="field field-compact">
          <label for="a-q">User name</label>
          <input id="a-q" type="search" value={q} placeholder="contains…" onInput={(e) => setQ((e.target as HTMLInputElement).value)} data-testid="accounts-search" />
        </div>
        <div class="field field-compact">
          <label for="a-customer">Customer</label>
          <select id="a-customer" value={customer} onChange={(e) => setCustomer((e.target as HTMLSelectElement).value)} data-testid="accounts-customer">
            <option value="">Any</option>
            {(customers.data ?? []).map((c) => (
              <option value={c.name}>
                {c.name} ({c.accounts})
              </option>
            ))}
          </select>
        </div>
      </form>
      {notice ? <Notice testid="notice">{notice}</Notice> : null}
      <ErrorBanner error={accounts.error} />
      <div class="table-wrap">
        <table class="grid" data-testid="accounts-table">
          <thead>
            <tr>
              <th scope="col">User name</th>
              <th scope="col">Domain</th>
              <th scope="col">Customer</th>
              <th scope="col">Enabled</th>
              <th scope="col" class="num">Min expires</th>
              <th scope="col" class="num">Max expires</th>
              <th scope="col" class="num">Max bindings</th>
              <th scope="col">Created</th>
              <th scope="col">Updated</th>
              {operator ? (
                <th scope="col" class="col-actions">
                  <span class="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {(page?.items ?? []).map((a) => (
              <tr key={a.id} data-testid="account-row" data-username={a.username}>
                <td class="mono strong">{a.username}</td>
                <td>{a.domain}</td>
                <td>{a.customer ?? <span class="muted">—</span>}</td>
                <td>{a.enabled ? <span class="status status-registered">enabled</span> : <span class="status status-disabled">disabled</span>}</td>
                <td class="num mono">{a.minExpires ?? <span class="muted">default</span>}</td>
                <td class="num mono">{a.maxExpires ?? <span class="muted">default</span>}</td>
                <td class="num mono">{a.maxBindings ?? <span class="muted">default</span>}</td>
                <td class="mono nowrap">{dateTime(a.createdAt)}</td>
                <td class="mono nowrap">{dateTime(a.updatedAt)}</td>
                {operator ? (
                  <td class="col-actions nowrap">
                    <button type="button" class="btn btn-small" onClick={() => setDialog({ kind: 'edit', account: a })} aria-label={`Edit ${a.username}@${a.domain}`} data-testid="account-edit">
                      Edit
                    </button>
                    <button type="button" class="btn btn-small" onClick={() => setDialog({ kind: 'password', account: a })} aria-label={`Reset password of ${a.username}@${a.domain}`} data-testid="account-password">
                      Password
                    </button>
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setDialog({ kind: 'delete', account: a })} aria-label={`Delete ${a.username}@${a.domain}`} data-testid="account-delete">
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length === 0 ? (
          <div class="empty" data-testid="empty-state">
            {query.q || query.customer ? 'No accounts match this search.' : 'No accounts yet.'}
          </div>
        ) : null}
      </div>
      {page ? <Pager paging={paging} nextCursor={page.nextCursor} shown={page.items.length} limit={limit} total={page.total} onLimit={setLimit} noun="accounts" /> : null}

      {dialog?.kind === 'create' ? <AccountForm onClose={() => setDialog(null)} onDone={(a) => done(`Created ${a.username}@${a.domain}.`)} /> : null}
      {dialog?.kind === 'edit' ? <AccountForm account={dialog.account} onClose={() => setDialog(null)} onDone={(a) => done(`Saved ${a.username}@${a.domain}.`)} /> : null}
      {dialog?.kind === 'password' ? (
        <PasswordDialog
          title={`Reset password of ${dialog.account.username}@${dialog.account.domain}`}
          onClose={() => setDialog(null)}
          onSave={async (password) => {
            await api.post(`/accounts/${dialog.account.id}/password`, { password });
            done(`New password set for ${dialog.account.username}@${dialog.account.domain}. The phone must be reconfigured with it.`);
          }}
        />
      ) : null}
      {dialog?.kind === 'delete' ? (
        <ConfirmDialog
          title="Delete account"
          confirmLabel="Delete"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.del(`/accounts/${dialog.account.id}`);
            done(`Deleted ${dialog.account.username}@${dialog.account.domain}.`);
          }}
        >
          <p>
            Delete <strong>{`${dialog.account.username}@${dialog.account.domain}`}</strong>? Its phones can no longer register once their bindings expire.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === 'import' ? <ImportDialog onClose={() => setDialog(null)} onDone={(n) => done(`Imported ${n} account${n === 1 ? '' : 's'}.`)} /> : null}
    </section>
  );
}

/** Only what the form changed: a PATCH should not rewrite what the operator did not touch. */
function changes(before: Account, after: Pick<Account, 'customer' | 'enabled' | 'minExpires' | 'maxExpires' | 'maxBindings'>): Partial<Account> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) if (before[k as keyof Account] !== v) out[k] = v;
  return out as Partial<Account>;
}

const optionalNumber = (s: string): number | null => (s.trim() === '' ? null : Number(s));

function AccountForm({ account, onClose, onDone }: { readonly account?: Account; readonly onClose: () => void; readonly onDone: (a: Account) => void }) {
  const [username, setUsername] = useState('');
  const [domain, setDomain] = useState('');
  const [password, setPassword] = useState('');
  const [customer, setCustomer] = useState(account?.customer ?? '');
  const [enabled, setEnabled] = useState(account?.enabled ?? true);
  const [minExpires, setMinExpires] = useState(account?.minExpires?.toString() ?? '');
  const [maxExpires, setMaxExpires] = useState(account?.maxExpires?.toString() ?? '');
  const [maxBindings, setMaxBindings] = useState(account?.maxBindings?.toString() ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const limits: Record<string, number> = {};
    for (const [k, v] of [['minExpires', minExpires], ['maxExpires', maxExpires], ['maxBindings', maxBindings]] as const) {
      const n = optionalNumber(v);
      if (n !== null) limits[k] = n;
    }
    try {
      const saved = account
        ? await api.patch<Account>(`/accounts/${account.id}`, changes(account, {
            customer: customer.trim() || null,
            enabled,
            minExpires: optionalNumber(minExpires),
            maxExpires: optionalNumber(maxExpires),
            maxBindings: optionalNumber(maxBindings),
          }))
        : await api.post<Account>('/accounts', { username: username.trim(), domain: domain.trim(), password, ...(customer.trim() ? { customer: customer.trim() } : {}), enabled, ...limits });
      onDone(saved);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const title = account ? `Edit ${account.username}@${account.domain}` : 'New account';
  return (
    <Modal
      title={title}
      onClose={onClose}
      testid="account-dialog"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="account-form" class="btn btn-primary" disabled={busy} data-testid="account-save">
            {busy ? 'Saving…' : account ? 'Save' : 'Create'}
          </button>
        </>
      }
    >
      <form id="account-form" class="form-grid" onSubmit={submit}>
        {account ? null : (
          <>
            <label class="field">
              <span>User name (number)</span>
              <input required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} data-testid="account-username" />
            </label>
            <label class="field">
              <span>Domain</span>
              <input required value={domain} placeholder="example.com" onInput={(e) => setDomain((e.target as HTMLInputElement).value)} data-testid="account-domain" />
            </label>
            <label class="field">
              <span>Password</span>
              <input required type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} data-testid="account-password-input" />
            </label>
          </>
        )}
        <label class="field">
          <span>Customer</span>
          <input value={customer} onInput={(e) => setCustomer((e.target as HTMLInputElement).value)} data-testid="account-customer" />
        </label>
        <label class="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)} data-testid="account-enabled" />
          Enabled (may register)
        </label>
        <label class="field">
          <span>Min expires (s)</span>
          <input type="number" min="1" value={minExpires} placeholder="server default" onInput={(e) => setMinExpires((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Max expires (s)</span>
          <input type="number" min="1" value={maxExpires} placeholder="server default" onInput={(e) => setMaxExpires((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>Max bindings</span>
          <input type="number" min="1" value={maxBindings} placeholder="server default" onInput={(e) => setMaxBindings((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <ErrorBanner error={error} testid="account-error" />
    </Modal>
  );
}

export function PasswordDialog({ title, onClose, onSave }: { readonly title: string; readonly onClose: () => void; readonly onSave: (password: string) => Promise<void> }) {
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== repeat) {
      setError(new Error('The two passwords differ.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSave(password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      testid="password-dialog"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="password-form" class="btn btn-primary" disabled={busy} data-testid="password-save">
            {busy ? 'Saving…' : 'Set password'}
          </button>
        </>
      }
    >
      <form id="password-form" class="form-grid" onSubmit={submit}>
        <label class="field">
          <span>New password</span>
          <input required type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} data-testid="password-new" />
        </label>
        <label class="field">
          <span>Repeat it</span>
          <input required type="password" autoComplete="new-password" value={repeat} onInput={(e) => setRepeat((e.target as HTMLInputElement).value)} data-testid="password-repeat" />
        </label>
      </form>
      <ErrorBanner error={error} testid="password-error" />
    </Modal>
  );
}

function ImportDialog({ onClose, onDone }: { readonly onClose: () => void; readonly onDone: (n: number) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const text = await file.text();
      const r = await request<{ imported: number }>('POST', '/accounts/import', { body: { type: 'text/csv', text } });
      onDone(r.imported);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Import accounts from CSV"
      onClose={onClose}
      testid="import-dialog"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="import-form" class="btn btn-primary" disabled={busy || !file} data-testid="import-submit">
            {busy ? 'Importing…' : 'Import'}
          </button>
        </>
      }
    >
      <form id="import-form" class="form-grid" onSubmit={submit}>
        <p class="help">
          A CSV file with the header row <code>username,domain,password,customer</code>. Every line is imported, or none: an error names the bad line.
        </p>
        <label class="field">
          <span>CSV file</span>
          <input type="file" accept=".csv,text/csv" required onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} data-testid="import-file" />
        </label>
      </form>
      <ErrorBanner error={error} testid="import-error" />
    </Modal>
  );
}
