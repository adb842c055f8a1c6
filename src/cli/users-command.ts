// `rollcall users add|list|remove|passwd|role|token`: console users of the web console and
// the management API, managed directly on the database so that the first admin can be made
// before the first `serve` (and while a server runs: SQLite WAL). Every change is audited as
// done by `cli`; passwords, tokens and hashes never reach the audit log or the output, except
// the new token that `users token` exists to print.

import { newApiToken } from '../auth/api-token.js';
import { hashPassword } from '../auth/password-hash.js';
import { passwordProblem } from '../auth/password-policy.js';
import { loadConfig } from '../config/load-config.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import { DuplicateUserError, USER_ROLES, type AuditEntry, type UserRecord, type UserRole } from '../store/store.js';
import { resolveDataDir, type DataDirOptions } from './data-dir.js';
import { printTable } from './print-table.js';
import { UsageError } from './usage-error.js';
import { readPassword } from './password-prompt.js';

/** Who the audit log says made a change from the command line. */
const CLI_ACTOR = 'cli';
const DEFAULT_TOKEN_NAME = 'cli';

function parseRole(role: string): UserRole {
  if (!(USER_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`role "${role}" is not one of ${USER_ROLES.join(', ')}`);
  }
  return role as UserRole;
}

/** The new password: --password, else typed twice at a terminal, else the first line of stdin. */
async function readNewPassword(given: string | undefined): Promise<string> {
  return given ?? readPassword(true);
}

/** The password, checked against http.passwordPolicy of the configuration in effect. */
async function acceptablePassword(name: string, o: DataDirOptions & { password?: string }): Promise<string> {
  const minLength = loadConfig({ file: o.config }).http.passwordPolicy.minLength;
  const password = await readNewPassword(o.password);
  const problem = passwordProblem(name, password, { minLength });
  if (problem !== null) throw new UsageError(`${problem} (http.passwordPolicy.minLength is ${minLength})`);
  return password;
}

async function withStore<T>(o: DataDirOptions, work: (store: SqliteStore) => T): Promise<T> {
  const store = openSqliteStore({ dataDir: resolveDataDir(o), synchronous: 'full', journal: 'inline' });
  try {
    return work(store);
  } finally {
    await store.close();
  }
}

function existingUser(store: SqliteStore, name: string): UserRecord {
  const user = store.users.find(name);
  if (user === null) throw new UsageError(`no console user ${name} (see \`rollcall users list\`)`);
  return user;
}

function audit(store: SqliteStore, e: Pick<AuditEntry, 'action' | 'target'> & Partial<Pick<AuditEntry, 'before' | 'after'>>): void {
  store.audit.append({ time: Date.now(), user: CLI_ACTOR, address: null, before: null, after: null, ...e });
}

export const usersCommand = {
  async add(name: string, o: DataDirOptions & { role: string; password?: string }): Promise<void> {
    const role = parseRole(o.role);
    // Refused before asking for a password that could not be used.
    await withStore(o, (store) => {
      const existing = store.users.find(name);
      if (existing !== null) throw new DuplicateUserError(existing.name);
    });
    const password = await acceptablePassword(name, o);
    const passwordHash = await hashPassword(password);
    await withStore(o, (store) => {
      const user = store.users.add({ name, role, passwordHash });
      audit(store, { action: 'user.add', target: user.name, after: { name: user.name, role: user.role } });
      process.stdout.write(`added console user ${user.name} (${user.role})\n`);
    });
  },

  async list(o: DataDirOptions & { json?: boolean }): Promise<void> {
    const users = await withStore(o, (store) => store.users.list());
    const rows = users.map((u) => ({
      name: u.name,
      role: u.role,
      createdAt: new Date(u.createdAt).toISOString(),
      lastLoginAt: u.lastLoginAt === null ? null : new Date(u.lastLoginAt).toISOString(),
    }));
    if (o.json) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('no console users (add one with `rollcall users add NAME --role admin`)\n');
      return;
    }
    printTable(
      ['NAME', 'ROLE', 'CREATED', 'LAST LOGIN'],
      rows.map((r) => [r.name, r.role, r.createdAt, r.lastLoginAt ?? 'never']),
    );
  },

  async remove(name: string, o: DataDirOptions): Promise<void> {
    await withStore(o, (store) => {
      const user = existingUser(store, name);
      // Throws LastAdminError (exit 1) for the last admin; its tokens and sessions go with it.
      store.users.remove(user.name);
      audit(store, { action: 'user.remove', target: user.name, before: { name: user.name, role: user.role } });
      process.stdout.write(`removed console user ${user.name}\n`);
    });
  },

  async passwd(name: string, o: DataDirOptions & { password?: string }): Promise<void> {
    // Checked before asking for a password nobody could use.
    const known = await withStore(o, (store) => existingUser(store, name));
    const password = await acceptablePassword(known.name, o);
    const passwordHash = await hashPassword(password);
    await withStore(o, (store) => {
      const user = store.users.update(known.name, { passwordHash });
      if (user === null) throw new UsageError(`console user ${known.name} was removed meanwhile`);
      // Whoever is logged in with the old password is logged out.
      const sessionsEnded = store.sessions.removeForUser(user.id);
      audit(store, { action: 'user.password', target: user.name, after: { sessionsEnded } });
      process.stdout.write(
        `changed the password of ${user.name}${sessionsEnded > 0 ? ` and ended ${sessionsEnded} console session${sessionsEnded === 1 ? '' : 's'}` : ''}\n`,
      );
    });
  },

  async role(name: string, roleName: string, o: DataDirOptions): Promise<void> {
    const role = parseRole(roleName);
    await withStore(o, (store) => {
      const before = existingUser(store, name);
      // Throws LastAdminError (exit 1) when it would demote the last admin.
      const user = store.users.update(before.name, { role })!;
      if (before.role !== user.role) {
        audit(store, { action: 'user.role', target: user.name, before: { role: before.role }, after: { role: user.role } });
      }
      process.stdout.write(`${user.name} is ${user.role}${before.role === user.role ? ' (unchanged)' : ` (was ${before.role})`}\n`);
    });
  },

  async token(name: string, o: DataDirOptions & { tokenName?: string }): Promise<void> {
    await withStore(o, (store) => {
      const user = existingUser(store, name);
      const { token, hash } = newApiToken();
      const record = store.tokens.add({ userId: user.id, name: o.tokenName ?? DEFAULT_TOKEN_NAME, tokenHash: hash });
      audit(store, { action: 'token.create', target: user.name, after: { id: record.id, name: record.name } });
      // Only the token on stdout, so that `$(rollcall users token admin)` is the token.
      process.stdout.write(`${token}\n`);
    });
  },
};
