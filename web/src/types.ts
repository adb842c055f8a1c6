// The shapes of the management API's answers (docs/api.md), as the console reads them.

export type Role = 'read-only' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['read-only', 'operator', 'admin'];

export interface User {
  readonly name: string;
  readonly role: Role;
}

export interface Session {
  readonly user: User;
  readonly csrfToken: string;
}

export type Transport = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
export const TRANSPORTS: readonly Transport[] = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'];

export type RegistrationStatus = 'registered' | 'expiring' | 'unregistered';

export interface Registration {
  readonly id: number;
  readonly aor: string;
  readonly number: string;
  readonly domain: string;
  readonly customer: string | null;
  readonly contact: string;
  /** null when the contact URI's host cannot be read as an address. */
  readonly contactAddress: string | null;
  readonly contactPort: number | null;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly transport: Transport;
  readonly localAddress: string;
  readonly localPort: number;
  readonly expires: number;
  readonly expiresAt: number;
  readonly remaining: number;
  readonly registeredAt: number;
  readonly refreshedAt: number;
  readonly userAgent: string | null;
  readonly status: RegistrationStatus;
  readonly nat: boolean;
  readonly instance: string | null;
  readonly regId: number | null;
  readonly q: number | null;
  readonly callId: string;
  readonly cseq: number;
  readonly path: readonly string[];
  readonly received: string;
  readonly outbound: boolean;
  readonly connectionId: number | null;
  readonly reachability: Reachability;
  readonly lastSeenAt: number;
  readonly rttMs: number | null;
  readonly keepAliveMisses: number;
}

export type Reachability = 'reachable' | 'unreachable' | 'unknown';
export const REACHABILITIES: readonly Reachability[] = ['reachable', 'unreachable', 'unknown'];

export interface Page<T> {
  readonly items: T[];
  readonly total?: number;
  readonly nextCursor: string | null;
}

export interface RegistrationDetails {
  readonly registration: Registration;
  readonly lastRequest: string | null;
  readonly lastResponse: string | null;
  readonly history: RegistrationEvent[];
}

export const EVENT_TYPES = [
  'registered', 'refreshed', 'expiring', 'unregistered', 'expired', 'kicked', 'rejected', 'auth-failed', 'force-removed',
  'blocked', 'unblocked', 'unreachable', 'reachable', 'removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface RegistrationEvent {
  readonly id: number;
  readonly time: number;
  readonly type: EventType;
  readonly aor: string | null;
  readonly contact: string | null;
  readonly bindingId: number | null;
  readonly sourceAddress: string | null;
  readonly sourcePort: number | null;
  readonly transport: Transport | null;
  readonly userAgent: string | null;
  readonly reason: string | null;
}

export interface Stats {
  readonly registered: number;
  readonly expiring: number;
  readonly aors: number;
  readonly unreachable: number;
  readonly ratePerSecond: number;
}

export interface UnregisterResult {
  readonly removed: number;
  readonly callsTerminated: number | null;
  readonly note?: string;
}

export interface Account {
  readonly id: number;
  readonly username: string;
  readonly domain: string;
  readonly customer: string | null;
  readonly enabled: boolean;
  readonly minExpires: number | null;
  readonly maxExpires: number | null;
  readonly maxBindings: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Customer {
  readonly name: string;
  readonly accounts: number;
}

export type SettingValue = string | number | boolean | readonly string[];

export interface SettingKey {
  readonly key: string;
  readonly description: string;
  readonly default: SettingValue;
  /** docs/api.md names number, boolean, enum, string; the server also says integer and list (of `enum`). */
  readonly type: 'number' | 'integer' | 'boolean' | 'enum' | 'string' | 'list';
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

export interface Settings {
  readonly values: Record<string, SettingValue>;
  readonly keys: SettingKey[];
}

export interface ConsoleUser {
  readonly name: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly lastLoginAt: number | null;
}

export interface AuditEntry {
  readonly id: number;
  readonly time: number;
  readonly user: string | null;
  readonly address: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly before: unknown;
  readonly after: unknown;
}

export const canOperate = (u: User): boolean => u.role === 'operator' || u.role === 'admin';
export const isAdmin = (u: User): boolean => u.role === 'admin';

/** The audit actions the server records (for the filter's suggestions; the filter is exact). */
export const AUDIT_ACTIONS = [
  'login', 'login.failed', 'login.locked', 'logout',
  'registration.unregister', 'registrations.export',
  'account.create', 'account.update', 'account.password', 'account.delete', 'account.import',
  'setting.change',
  'user.add', 'user.role', 'user.password', 'user.remove',
  'token.create', 'token.revoke',
  'block.add', 'block.remove', 'list.add', 'list.remove',
] as const;

// ---------- SIP security (docs/api.md "SIP security") ----------

export type BlockKind = 'address' | 'username';

export interface Block {
  readonly kind: BlockKind;
  /** An IP address, or user@domain. */
  readonly value: string;
  readonly reason: string;
  readonly createdAt: number;
  /** null: until removed. */
  readonly expiresAt: number | null;
  /** 'auto' (lockout, scanner defence), or who blocked it. */
  readonly createdBy: string;
}

export const ADDRESS_LISTS = ['allow', 'deny'] as const;
export type AddressList = (typeof ADDRESS_LISTS)[number];

export interface AddressListEntry {
  readonly id: number;
  readonly list: AddressList;
  readonly cidr: string;
  /** null: every customer. */
  readonly customer: string | null;
  readonly note: string | null;
  readonly createdAt: number;
  readonly createdBy: string;
}

export const FAILURE_REASONS = [
  'wrong-password', 'unknown-user', 'blocked-address', 'blocked-username', 'rate-limited', 'policy-reject',
  'source-not-allowed', 'malformed', 'stale-nonce', 'retry-limit', 'scanner', 'disabled-account',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface Failure {
  readonly id: number;
  readonly time: number;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly transport: string;
  readonly username: string | null;
  readonly userAgent: string | null;
  readonly reason: FailureReason;
  readonly detail: string | null;
  /** >1: a flood aggregated into one row per source and reason per second. */
  readonly count: number;
}

export interface FailureCounts {
  readonly byReason: ReadonlyArray<{ readonly reason: FailureReason; readonly count: number }>;
  readonly bySource: ReadonlyArray<{ readonly sourceAddress: string; readonly count: number }>;
  readonly byUsername: ReadonlyArray<{ readonly username: string; readonly count: number }>;
}

/** GET /api/security/kernel-filter */
export interface KernelFilterStatus {
  readonly mode: 'auto' | 'nftables' | 'off';
  readonly active: boolean;
  readonly table: string | null;
  readonly droppedPackets: number | null;
  readonly droppedBytes: number | null;
}
