// Storage interfaces: what the registrar, the CLI and (later) the API need from a store.
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
  close(): Promise<void>;
}

export interface AccountStore {
  add(account: NewAccount): AccountRecord;
  /** Adds many in one transaction; fails whole on the first duplicate or bad row. */
  addMany(accounts: readonly NewAccount[]): number;
  find(username: string, domain: string): AccountRecord | null;
  list(): AccountRecord[];
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

export interface EventStore {
  query(q: EventQuery): RegistrationEvent[];
  /** Deletes events older than `before`; returns how many went. */
  prune(before: number): number;
}

export interface SettingsStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  all(): Record<string, unknown>;
}
