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

export type RegistrationStatus = 'registered' | 'expiring';

export interface Registration {
  readonly id: number;
  readonly aor: string;
  readonly number: string;
  readonly domain: string;
  readonly customer: string | null;
  readonly contact: string;
  readonly contactAddress: string;
  readonly contactPort: number;
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
}

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

export type SettingValue = string | number | boolean;

export interface SettingKey {
  readonly key: string;
  readonly description: string;
  readonly default: SettingValue;
  readonly type: 'number' | 'boolean' | 'enum' | 'string';
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
