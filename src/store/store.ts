// Storage interfaces: what the registrar, the CLI and the management API need from a store.
// The embedded default is SQLite (src/store/sqlite/); cluster stores come later behind the
// same interfaces. Records are plain data; a journal batch crosses to the commit worker in the
// binary form of store-op-codec.ts.

/** A SIP account (a phone/extension) as stored. Passwords exist only as HA1 hashes. */
export interface AccountRecord {
  readonly id: number;
  readonly username: string;
  /** Lowercased SIP domain; also the digest realm. */
  readonly domain: string;
  /** Customer account the phone belongs to; null when not set. */
  readonly customer: string | null;
  /** MD5(username:realm:password), hex. */
  readonly ha1Md5: string;
  /** SHA-256(username:realm:password), hex. */
  readonly ha1Sha256: string;
  readonly enabled: boolean;
  /** Per-account expiry range and binding limit; null means "use the global setting". */
  readonly minExpires: number | null;
  readonly maxExpires: number | null;
  readonly maxBindings: number | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewAccount {
  readonly username: string;
  readonly domain: string;
  readonly customer: string | null;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
  readonly enabled?: boolean;
  readonly minExpires?: number | null;
  readonly maxExpires?: number | null;
  readonly maxBindings?: number | null;
}

/** A registered contact of an AOR, as made durable. Times are epoch milliseconds. */
export interface BindingRecord {
  readonly id: number;
  /** Canonical AOR, `sip:user@domain`. */
  readonly aor: string;
  /** The account that registered it (username part of the AOR; domain in the AOR). */
  readonly username: string;
  readonly domain: string;
  /** Contact URI as the endpoint wrote it (no header params). */
  readonly contact: string;
  readonly instance: string | null;
  readonly regId: number | null;
  readonly q: number | null;
  readonly callId: string;
  readonly cseq: number;
  /** Granted interval, seconds. */
  readonly expires: number;
  readonly expiresAt: number;
  readonly registeredAt: number;
  readonly refreshedAt: number;
  /** Where the REGISTER came from (received/rport) and over what. */
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly transport: string;
  /** The local socket it arrived on. */
  readonly localAddress: string;
  readonly localPort: number;
  readonly userAgent: string | null;
  /** Path header values (RFC 3327), in order. */
  readonly path: readonly string[];
}

export const EVENT_TYPES = [
  'registered',
  'refreshed',
  'expiring',
  'unregistered',
  'expired',
  'kicked',
  'rejected',
  'auth-failed',
  'force-removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One entry of the registration history. */
export interface RegistrationEvent {
  readonly time: number;
  readonly type: EventType;
  readonly aor: string | null;
  readonly contact: string | null;
  readonly bindingId: number | null;
  readonly sourceAddress: string | null;
  readonly sourcePort: number | null;
  readonly transport: string | null;
  readonly userAgent: string | null;
  /** Free text: why (rejection reason, who force-removed it, which binding replaced it). */
  readonly reason: string | null;
}

/** One durable change. A batch of them commits atomically. */
export type StoreOp =
  | {
      readonly op: 'put-binding';
      readonly binding: BindingRecord;
      /**
       * The REGISTER that made this binding and the response it got, as sent on the wire,
       * kept for the console. The journal reads them when it commits, after submit() has
       * returned: their bytes must not change until `done` has been called.
       */
      readonly lastRequest: Buffer;
      readonly lastResponse: Buffer;
    }
  | { readonly op: 'delete-binding'; readonly id: number }
  | { readonly op: 'event'; readonly event: RegistrationEvent };

export interface EventQuery {
  readonly aor?: string;
  readonly sourceAddress?: string;
  readonly type?: EventType;
  readonly since?: number;
  readonly until?: number;
  readonly limit?: number;
}

/**
 * The write side: changes are queued and committed in groups. `done` is called once the
 * op is durable (or failed); the registrar answers 200 OK only from there.
 */
export interface BindingJournal {
  submit(ops: readonly StoreOp[], done: (err: Error | null) => void): void;
  /** Commit what is queued and stop; resolves once everything submitted is durable. */
  close(): Promise<void>;
}

/** Settings are opaque JSON values keyed by dotted config path (e.g. `registrar.maxBindings`). */
export interface Store {
  readonly accounts: AccountStore;
  readonly bindings: BindingStore;
  readonly events: EventStore;
  readonly settings: SettingsStore;
  readonly users: UserStore;
  readonly tokens: TokenStore;
  readonly sessions: SessionStore;
  readonly audit: AuditStore;
  close(): Promise<void>;
}

export interface AccountQuery {
  /** Substring of the username. */
  readonly q?: string;
  readonly customer?: string;
  /** Only accounts with a greater id (cursor paging). */
  readonly afterId?: number;
  readonly limit: number;
}

export interface AccountStore {
  add(account: NewAccount): AccountRecord;
  /** Adds many in one transaction; fails whole on the first duplicate or bad row. */
  addMany(accounts: readonly NewAccount[]): number;
  find(username: string, domain: string): AccountRecord | null;
  byId(id: number): AccountRecord | null;
  list(): AccountRecord[];
  /** A page of accounts ordered by id, and how many match in all. */
  query(q: AccountQuery): { items: AccountRecord[]; total: number };
  /** Every customer account name with its number of accounts. */
  customers(): Array<{ name: string; accounts: number }>;
  /** `username@domain` of every account of a customer (filters over the live bindings). */
  keysOfCustomer(customer: string): string[];
  /** Distinct domains that have at least one account. */
  domains(): string[];
  update(id: number, change: Partial<Omit<NewAccount, 'username' | 'domain'>>): AccountRecord | null;
  remove(id: number): boolean;
  /** A number that changes whenever any process changes an account (cache invalidation). */
  version(): number;
}

export interface BindingStore {
  /** Every stored binding (including ones whose expiry has passed; the caller decides). */
  loadAll(): BindingRecord[];
  /** The last REGISTER/response of a binding, decoded as UTF-8, for details views. */
  lastMessages(id: number): { request: string; response: string } | null;
  /** Applies ops directly (outside the running server's journal): CLI force-remove offline. */
  applyNow(ops: readonly StoreOp[]): void;
  /** Highest binding id ever stored, so new ids never collide with old ones. */
  maxId(): number;
}

/** The history search of the console and the API (newest first, cursor-paged). */
export interface EventSearch {
  /** Phone number: the user part of the AOR, any domain. */
  readonly number?: string;
  /** Any of these AORs (a customer's accounts). */
  readonly aors?: readonly string[];
  /** Source address exact, or starting with this (a trailing wildcard such as `10.1.`). */
  readonly sourceAddress?: string;
  readonly sourcePrefix?: string;
  /** A further check on the source address (CIDR), applied to rows as they are read. */
  readonly sourceMatches?: (address: string) => boolean;
  readonly type?: EventType;
  readonly since?: number;
  readonly until?: number;
  /** Only events older than this one (the last of the previous page). */
  readonly before?: { readonly time: number; readonly id: number };
  readonly limit: number;
}

export interface StoredEvent extends RegistrationEvent {
  readonly id: number;
}

export interface EventStore {
  query(q: EventQuery): RegistrationEvent[];
  search(q: EventSearch): StoredEvent[];
  /** Deletes events older than `before`; returns how many went. */
  prune(before: number): number;
}

export interface SettingsStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  all(): Record<string, unknown>;
}

// ---- Console users, API tokens, login sessions and the audit log (the management API's
// side of the store). Names are compared case-insensitively, so "Admin" and "admin" cannot
// be two users; secrets are stored only as hashes.

export const USER_ROLES = ['admin', 'operator', 'read-only'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** A console user. `passwordHash` is the `scrypt$...` string of src/auth/password-hash.ts. */
export interface UserRecord {
  readonly id: number;
  readonly name: string;
  readonly role: UserRole;
  readonly passwordHash: string;
  readonly createdAt: number;
  /** Last change of role or password (a login does not count). */
  readonly updatedAt: number;
  readonly lastLoginAt: number | null;
}

/** `add` was given a name that exists (compared case-insensitively). */
export class DuplicateUserError extends Error {
  constructor(readonly userName: string) {
    super(`console user ${userName} already exists`);
    this.name = 'DuplicateUserError';
  }
}

/** A remove or a role change would leave no admin, and nobody could manage users any more. */
export class LastAdminError extends Error {
  constructor(readonly userName: string) {
    super(`${userName} is the last admin; make another user admin first`);
    this.name = 'LastAdminError';
  }
}

export interface UserStore {
  /** Throws DuplicateUserError if the name exists, Error for an empty or unusable name. */
  add(u: { name: string; role: UserRole; passwordHash: string }): UserRecord;
  /** Case-insensitive on the name. */
  find(name: string): UserRecord | null;
  findById(id: number): UserRecord | null;
  /** Ordered by name. */
  list(): UserRecord[];
  /**
   * Null when there is no such user. Throws LastAdminError when it would demote the last
   * admin (checked in the same write transaction, so two concurrent demotions cannot both pass).
   */
  update(name: string, change: { role?: UserRole; passwordHash?: string; lastLoginAt?: number }): UserRecord | null;
  /** Also removes the user's tokens and sessions. Throws LastAdminError for the last admin. */
  remove(name: string): boolean;
  countAdmins(): number;
}

/** An API token; the secret itself is never stored, only its SHA-256 (src/auth/api-token.ts). */
export interface ApiTokenRecord {
  readonly id: number;
  readonly userId: number;
  /** The label its owner gave it. */
  readonly name: string;
  readonly tokenHash: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

export interface TokenStore {
  add(t: { userId: number; name: string; tokenHash: string }): ApiTokenRecord;
  findByHash(tokenHash: string): ApiTokenRecord | null;
  /** Oldest first. */
  listFor(userId: number): ApiTokenRecord[];
  /** Only the owner's token: false when the id is not one of userId's tokens. */
  remove(id: number, userId: number): boolean;
  touch(id: number, at: number): void;
}

/** A console login. The cookie's session id is stored only as a hash. */
export interface SessionRecord {
  readonly idHash: string;
  readonly userId: number;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The address that logged in. */
  readonly address: string | null;
}

export interface SessionStore {
  add(s: SessionRecord): void;
  /** As stored, expired or not: the caller compares expiresAt with its clock. */
  find(idHash: string): SessionRecord | null;
  extend(idHash: string, expiresAt: number): void;
  remove(idHash: string): void;
  /** Ends every session of a user (password change, removal); returns how many. */
  removeForUser(userId: number): number;
  /** Removes sessions with expiresAt <= now; returns how many. */
  pruneExpired(now: number): number;
}

/** One audited change. `user` is the console user (or `cli`), null for a failed login of nobody. */
export interface AuditEntry {
  readonly id: number;
  readonly time: number;
  readonly user: string | null;
  readonly address: string | null;
  /** Dotted verb such as `user.add`, `login.failed`, `setting.change`. */
  readonly action: string;
  readonly target: string | null;
  /** Any JSON value, or null; never a password, a token or a hash. */
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditQuery {
  readonly user?: string;
  readonly action?: string;
  /** Inclusive. */
  readonly since?: number;
  /** Exclusive. */
  readonly until?: number;
  /** only entries with id < beforeId (cursor paging, newest first) */
  readonly beforeId?: number;
  /** Default 100, at most 10,000. */
  readonly limit?: number;
}

export interface AuditStore {
  /** before/after stored as JSON text, returned parsed (undefined becomes null). */
  append(e: Omit<AuditEntry, 'id'>): AuditEntry;
  /** Newest first (id desc), default limit 100. */
  query(q: AuditQuery): AuditEntry[];
  /** Deletes entries with time < before; returns how many went. */
  prune(before: number): number;
}
