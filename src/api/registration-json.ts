// A binding as the API and the console show it (docs/api.md, "Registrations"): every stored
// field, the contact's address, what the clock derives (remaining seconds, status) and the
// NAT flag.

import type { Binding } from '../registrar/binding.js';
import { contactHostPort } from '../sip/contact-address.js';
import { reachabilityOf, type Reachability } from './registration-query.js';

export interface RegistrationJson {
  id: number;
  aor: string;
  number: string;
  domain: string;
  customer: string | null;
  contact: string;
  contactAddress: string | null;
  contactPort: number | null;
  sourceAddress: string;
  sourcePort: number;
  transport: string;
  localAddress: string;
  localPort: number;
  expires: number;
  expiresAt: number;
  remaining: number;
  registeredAt: number;
  refreshedAt: number;
  userAgent: string | null;
  status: 'registered' | 'expiring' | 'unregistered';
  nat: boolean;
  instance: string | null;
  regId: number | null;
  q: number | null;
  callId: string;
  cseq: number;
  path: readonly string[];
  /** Where requests to it go (received/rport): the source of its REGISTER, `address:port`. */
  received: string;
  /** RFC 5626: registered with +sip.instance and reg-id over outbound. */
  outbound: boolean;
  /** The connection its REGISTER came on (TCP/TLS/WS), while it is open; null for UDP or once closed. */
  connectionId: number | null;
  reachability: Reachability;
  /** Last heard from (REGISTER or keep-alive answer), epoch ms. */
  lastSeenAt: number;
  /** Round-trip time of the last answered OPTIONS ping, ms. */
  rttMs: number | null;
  /** Keep-alive pings in a row without an answer. */
  keepAliveMisses: number;
}

export function registrationJson(b: Binding, nowMs: number, expiringShare: number, customer: string | null): RegistrationJson {
  const c = contactHostPort(b.contact);
  return {
    id: b.id,
    aor: b.aor,
    number: b.username,
    domain: b.domain,
    customer,
    contact: b.contact,
    contactAddress: c?.host ?? null,
    contactPort: c?.port ?? null,
    sourceAddress: b.sourceAddress,
    sourcePort: b.sourcePort,
    transport: b.transport,
    localAddress: b.localAddress,
    localPort: b.localPort,
    expires: b.expires,
    expiresAt: b.expiresAt,
    remaining: b.remaining(nowMs),
    registeredAt: b.registeredAt,
    refreshedAt: b.refreshedAt,
    userAgent: b.userAgent,
    status: b.status(nowMs, expiringShare).toLowerCase() as RegistrationJson['status'],
    nat: b.nat,
    instance: b.instance,
    regId: b.regId,
    q: b.q,
    callId: b.callId,
    cseq: b.cseq,
    path: b.path,
    received: b.sourceAddress.includes(':') ? `[${b.sourceAddress}]:${b.sourcePort}` : `${b.sourceAddress}:${b.sourcePort}`,
    outbound: b.regId !== null,
    connectionId: b.connection !== null && !b.connection.closed ? b.connection.id : null,
    reachability: reachabilityOf(b),
    lastSeenAt: b.lastSeenAt,
    rttMs: b.rttMs,
    keepAliveMisses: b.misses,
  };
}

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS: ReadonlyArray<keyof RegistrationJson> = [
  'number', 'domain', 'customer', 'aor', 'contact', 'contactAddress', 'contactPort', 'sourceAddress', 'sourcePort',
  'transport', 'status', 'remaining', 'expires', 'expiresAt', 'registeredAt', 'refreshedAt', 'userAgent', 'nat', 'reachability', 'lastSeenAt', 'rttMs', 'id',
];

/** One CSV field (RFC 4180), with formula-leading characters defused for spreadsheets. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v) ? v.join(' ') : String(v);
  if (/^[=+\-@\t\r]/.test(s) && (typeof v === 'string' || Array.isArray(v))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
