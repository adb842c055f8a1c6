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
  /** How a REGISTER from this account is authenticated (SPEC §3). */
  readonly authMode: AuthMode;
  /**
   * Where it may register from: CIDRs or bare addresses (IPv4 or IPv6); for 'ip-port' an
   * entry may also be `ADDR:PORT` or `[v6]:PORT`. null: from anywhere (never empty).
   */
  readonly allowedNetworks: readonly string[] | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * SPEC §3. `password`: digest. `ip`: the source address alone, no challenge. `ip-port`: the
 * source address and port. `ip-and-password`: digest, and only from allowedNetworks.
 * `ip` and `ip-port` need a non-empty allowedNetworks; in the other modes a non-null
 * allowedNetworks restricts where a correct password is accepted from.
 */
export const AUTH_MODES = ['password', 'ip', 'ip-port', 'ip-and-password'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

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
  /** Default 'password'. */
  readonly authMode?: AuthMode;
  /** Default null (from anywhere). An empty list is stored as null, except for ip/ip-port, which refuse it. */
  readonly allowedNetworks?: readonly string[] | null;
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
  /** Behind NAT (SPEC §6): the Contact or top Via address is not the source, or is private. */
  readonly nat: boolean;
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
  // SIP security (SPEC §7): a source address or username blocked, or its block lifted.
  'blocked',
  'unblocked',
  // Reachability (SPEC §6): keep-alive answers stopped or came back; a binding the server
  // removed itself (unreachable, or its connection closed, when configured so).
  'unreachable',
  'reachable',
  'removed',
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
  | { readonly op: 'event'; readonly event: RegistrationEvent }
  | { readonly op: 'failure'; readonly failure: FailureRecord };

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
  readonly blocks: BlockStore;
  readonly addressLists: AddressListStore;
  readonly failures: FailureStore;
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
  /** How many accounts authenticate by source address (auth modes ip and ip-port). */
  countAddressAuthenticated(): number;
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

// ---- SIP security (SPEC §7): blocks (lockouts and operator bans), allow/deny address lists
// and the failed-registration log. Blocks and lists are small and read whole by the server,
// which reloads them when securityVersion() moves (a CLI or API change, or another process's
// lockout); failures are written through the journal like events.

/** A blocked source address or username. */
export interface BlockRecord {
  readonly kind: 'address' | 'username';
  /**
   * An IP address (IPv6 stored lowercase), or `user@domain` (domain stored lowercase, the
   * user part as given: SIP user parts are case-sensitive).
   */
  readonly value: string;
  /** Why, for the operator: "12 failed authentications in 60 s", "blocked by admin". */
  readonly reason: string;
  readonly createdAt: number;
  /** null: until removed. */
  readonly expiresAt: number | null;
  /** 'auto' (a lockout), or who did it: a console user name, or 'cli'. */
  readonly createdBy: string;
}

export interface BlockStore {
  /** Inserts, or replaces the block of the same (kind, value). Throws on a bad value. */
  put(b: BlockRecord): void;
  /** False when there was no such block (the value is normalised as put() does). */
  remove(kind: BlockRecord['kind'], value: string): boolean;
  /** Blocks not yet expired (expiresAt null or > nowMs), newest first. */
  list(nowMs: number): BlockRecord[];
  /** Deletes blocks with expiresAt <= nowMs; returns how many. */
  pruneExpired(nowMs: number): number;
  /**
   * A number that changes whenever any process changes a block or an address list entry
   * (bumped by triggers), so a running server notices CLI changes by reading one integer.
   */
  securityVersion(): number;
}

export const ADDRESS_LISTS = ['allow', 'deny'] as const;
export type AddressListName = (typeof ADDRESS_LISTS)[number];

export interface AddressListEntryRecord {
  readonly id: number;
  readonly list: AddressListName;
  /** A CIDR or a bare address, lowercase; a bare address is kept bare (not made /32). */
  readonly cidr: string;
  /** null: global; else applies to that customer's accounts only. */
  readonly customer: string | null;
  readonly note: string | null;
  readonly createdAt: number;
  readonly createdBy: string;
}

/** `add` was given a (list, cidr, customer) that is already there. */
export class DuplicateAddressListEntryError extends Error {
  constructor(
    readonly existing: AddressListEntryRecord,
  ) {
    super(
      `${existing.list} list already has ${existing.cidr}${existing.customer === null ? '' : ` for customer ${existing.customer}`} (entry ${existing.id})`,
    );
    this.name = 'DuplicateAddressListEntryError';
  }
}

export interface AddressListStore {
  /**
   * Throws Error for an invalid CIDR (the message names it) and
   * DuplicateAddressListEntryError for a (list, cidr, customer) already there. An empty
   * customer or note is stored as null.
   */
  add(e: { list: AddressListName; cidr: string; customer: string | null; note: string | null; createdBy: string }): AddressListEntryRecord;
  /** The removed entry, or null when there was none. */
  remove(id: number): AddressListEntryRecord | null;
  /** Ordered by id. */
  all(): AddressListEntryRecord[];
  /**
   * Moves whenever any process changes an address list, and only then (securityVersion
   * also moves for blocks): a server holding 100,000 entries rebuilds them only when needed.
   */
  version(): number;
}

export const FAILURE_REASONS = [
  'wrong-password',
  'unknown-user',
  'blocked-address',
  'blocked-username',
  'rate-limited',
  'policy-reject',
  'source-not-allowed',
  'malformed',
  'stale-nonce',
  'retry-limit',
  'scanner',
  'disabled-account',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** One entry of the failed-registration log. */
export interface FailureRecord {
  readonly time: number;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly transport: string;
  /** The username tried (Authorization username, else To user). */
  readonly username: string | null;
  readonly userAgent: string | null;
  readonly reason: FailureReason;
  readonly detail: string | null;
  /** >1 when aggregated (a flood: one row per source and reason per second). */
  readonly count: number;
}

export interface FailureQuery {
  /** Inclusive. */
  readonly since?: number;
  /** Exclusive. */
  readonly until?: number;
  readonly reason?: FailureReason;
  readonly sourceAddress?: string;
  readonly username?: string;
  /** Only failures older than this one (the last of the previous page). */
  readonly before?: { time: number; id: number };
  /** At most 10,000. */
  readonly limit: number;
}

export interface FailureCounts {
  readonly byReason: Array<{ reason: FailureReason; count: number }>;
  readonly bySource: Array<{ sourceAddress: string; count: number }>;
  readonly byUsername: Array<{ username: string; count: number }>;
}

export interface FailureStore {
  /** Newest first (time, then id). */
  query(q: FailureQuery): Array<FailureRecord & { id: number }>;
  /** Sum of `count` grouped by reason, by source address and by username over [since, until); top `limit` of each by count. */
  counts(q: { since?: number; until?: number; limit: number }): FailureCounts;
  /** Deletes failures older than `before`; returns how many went. */
  prune(before: number): number;
}
