// What every route module of the API is given: the stores, the live registrar state, the
// current configuration and a way to change it, and the audit trail.

import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AccountDirectory } from '../auth/account-directory.js';
import type { Config } from '../config/schema.js';
import type { BindingTable } from '../registrar/binding-table.js';
import type { Registrar } from '../registrar/registrar.js';
import type { Store } from '../store/store.js';
import type { LoginLockout } from './login-lockout.js';
import type { RegistrationStream } from './registration-stream.js';
import type { ServerSecurity } from '../server/security-wiring.js';

export interface ApiContext {
  readonly store: Store;
  readonly table: BindingTable;
  readonly registrar: Registrar;
  readonly accounts: AccountDirectory;
  readonly config: () => Config;
  /** Validates and applies run-time changes (dotted keys); an error message names the key. */
  readonly changeConfig: (changes: Record<string, unknown>) => { config: Config } | { error: string };
  readonly stream: RegistrationStream;
  readonly lockout: LoginLockout;
  readonly security: ServerSecurity;
  /** After an account change made here: caches, served domains and auth modes follow at once. */
  readonly accountsChanged: () => void;
  readonly log: Logger;
  readonly now: () => number;
}

/** Records an administrative action: who (the request's user), from where, what, before/after. */
export function audit(ctx: ApiContext, req: FastifyRequest, action: string, target: string | null, before: unknown, after: unknown): void {
  ctx.store.audit.append({
    time: ctx.now(),
    user: req.principal?.user.name ?? null,
    address: req.ip,
    action,
    target,
    before: before ?? null,
    after: after ?? null,
  });
}
