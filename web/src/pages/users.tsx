// Console users (admin): who may log in and with which role.

import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorBanner, Notice } from '../components/error-banner';
import { Modal } from '../components/modal';
import { useQuery } from '../components/use-query';
import { dateTime } from '../format';
import { ROLES, type ConsoleUser, type Role, type User } from '../types';
import { PasswordDialog } from './accounts';

type Dialog = { kind: 'add' } | { kind: 'password'; user: ConsoleUser } | { kind: 'delete'; user: ConsoleUser };

export function UsersPage({ user: me }: { readonly user: User }) {
  const users = useQuery((signal) => api.get<ConsoleUser[]>('/users', undefined, signal), []);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const done = (message: string) => {
    setDialog(null);
    setNotice(message);
    setError(null);
    users.reload();
  };
  const changeRole = async (u: ConsoleUser, role: Role) => {
    setError(null);
    setNotice(null);
    try {
      await api.patch(`/users/${encodeURIComponent(u.name)}`, { role });
      done(`${u.name} is now ${role}.`);
    } catch (e) {
      setError(e);
      users.reload();
    }
  };

  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Console users</h1>
        <div class="page-actions">
          <button type="button" class="btn btn-small btn-primary" onClick={() => setDialog({ kind: 'add' })} data-testid="users-add">
            Add user
          </button>
        </div>
      </div>
      <p class="help page-help">
        <strong>read-only</strong> sees everything; <strong>operator</strong> also force-unregisters and manages accounts; <strong>admin</strong> also changes system parameters, users and reads the audit log.
      </p>
      {notice ? <Notice testid="notice">{notice}</Notice> : null}
      <ErrorBanner error={error ?? users.error} />
      <div class="table-wrap">
        <table class="grid" data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last login</th>
              <th scope="col" class="col-actions">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.name} data-testid="user-row" data-name={u.name}>
                <td class="strong">
                  {u.name}
                  {u.name === me.name ? <span class="muted"> (you)</span> : null}
                </td>
                <td>
                  <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => void changeRole(u, (e.target as HTMLSelectElement).value as Role)} data-testid="user-role">
                    {ROLES.map((r) => (
                      <option value={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td class="mono nowrap">{dateTime(u.createdAt)}</td>
                <td class="mono nowrap">{u.lastLoginAt ? dateTime(u.lastLoginAt) : <span class="muted">never</span>}</td>
                <td class="col-actions nowrap">
                  <button type="button" class="btn btn-small" onClick={() => setDialog({ kind: 'password', user: u })} aria-label={`Reset password of ${u.name}`} data-testid="user-password">
                    Reset password
                  </button>
                  <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setDialog({ kind: 'delete', user: u })} aria-label={`Delete ${u.name}`} data-testid="user-delete">
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {users.data && users.data.length === 0 ? <div class="empty">No console users.</div> : null}
      </div>

      {dialog?.kind === 'add' ? <AddUserDialog onClose={() => setDialog(null)} onDone={(name) => done(`Added ${name}.`)} /> : null}
      {dialog?.kind === 'password' ? (
        <PasswordDialog
          title={`Reset password of ${dialog.user.name}`}
          onClose={() => setDialog(null)}
          onSave={async (password) => {
            await api.patch(`/users/${encodeURIComponent(dialog.user.name)}`, { password });
            done(`New password set for ${dialog.user.name}.`);
          }}
        />
      ) : null}
      {dialog?.kind === 'delete' ? (
        <ConfirmDialog
          title="Delete console user"
          confirmLabel="Delete"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.del(`/users/${encodeURIComponent(dialog.user.name)}`);
            done(`Deleted ${dialog.user.name}.`);
          }}
        >
          <p>
            Delete <strong>{dialog.user.name}</strong> ({dialog.user.role})? Their sessions and API tokens stop working.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function AddUserDialog({ onClose, onDone }: { readonly onClose: () => void; readonly onDone: (name: string) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('read-only');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/users', { name: name.trim(), role, password });
      onDone(name.trim());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Add console user"
      onClose={onClose}
      testid="user-dialog"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="user-form" class="btn btn-primary" disabled={busy} data-testid="user-save">
            {busy ? 'Adding…' : 'Add user'}
          </button>
        </>
      }
    >
      <form id="user-form" class="form-grid" onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input required autoComplete="off" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="user-name" />
        </label>
        <label class="field">
          <span>Role</span>
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)} data-testid="user-role-new">
            {ROLES.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Password</span>
          <input required type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} data-testid="user-password-new" />
        </label>
      </form>
      <ErrorBanner error={error} testid="user-error" />
    </Modal>
  );
}
