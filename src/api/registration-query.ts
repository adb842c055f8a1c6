// The registrations list of the console and the API: filters, a sort order and cursor paging
// over the live binding table. A page is selected in one pass with a bounded heap (no sort of
// every match), so a filtered page of 100,000 bindings costs one scan; the cursor is the sort
// key and id of the last row, so pages stay stable while bindings come and go.

import type { Binding } from '../registrar/binding.js';
import { contactHostPort } from '../sip/contact-address.js';
import type { AddressPattern } from './address-pattern.js';

export const SORT_KEYS = ['number', 'aor', 'sourceAddress', 'userAgent', 'registeredAt', 'refreshedAt', 'expiresAt'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface RegistrationFilter {
  readonly number?: string;
  readonly numberPrefix?: string;
  readonly ip?: AddressPattern;
  /** The customer's accounts: usernames by domain. */
  readonly customerAccounts?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly status?: 'registered' | 'expiring';
  /** Lowercased substring. */
  readonly userAgent?: string;
  readonly transport?: string;
  readonly reachability?: Reachability;
  readonly nat?: boolean;
}

/** An endpoint's reachability as the keep-alive knows it (unknown: never pinged yet). */
export type Reachability = 'reachable' | 'unreachable' | 'unknown';

export function reachabilityOf(b: Binding): Reachability {
  return b.reachable === null ? 'unknown' : b.reachable ? 'reachable' : 'unreachable';
}

export interface Cursor {
  readonly key: string | number;
  readonly id: number;
}

export interface RegistrationPage {
  readonly items: Binding[];
  readonly total: number;
  readonly next: Cursor | null;
}

/** The predicate of a filter, given the clock and the Expiring share. */
export function bindingMatcher(f: RegistrationFilter, nowMs: number, expiringShare: number): (b: Binding) => boolean {
  return (b) => {
    if (f.number !== undefined && b.username !== f.number) return false;
    if (f.numberPrefix !== undefined && !b.username.startsWith(f.numberPrefix)) return false;
    if (f.transport !== undefined && b.transport !== f.transport) return false;
    if (f.reachability !== undefined && reachabilityOf(b) !== f.reachability) return false;
    if (f.nat !== undefined && b.nat !== f.nat) return false;
    if (f.status !== undefined) {
      const s = b.status(nowMs, expiringShare);
      if ((f.status === 'registered') !== (s === 'Registered')) return false;
      if (s === 'Unregistered') return false;
    }
    if (f.userAgent !== undefined && (b.userAgent === null || !b.userAgent.toLowerCase().includes(f.userAgent))) return false;
    if (f.customerAccounts !== undefined && f.customerAccounts.get(b.domain)?.has(b.username) !== true) return false;
    if (f.ip !== undefined && !f.ip.matches(b.sourceAddress)) {
      if (f.ip.hint !== null && !b.contact.includes(f.ip.hint)) return false;
      const c = contactHostPort(b.contact);
      if (c === null || !f.ip.matches(c.host)) return false;
    }
    return true;
  };
}

export function sortKeyOf(b: Binding, key: SortKey): string | number {
  switch (key) {
    case 'number':
      return b.username;
    case 'aor':
      return b.aor;
    case 'sourceAddress':
      return b.sourceAddress;
    case 'userAgent':
      return b.userAgent ?? '';
    case 'registeredAt':
      return b.registeredAt;
    case 'refreshedAt':
      return b.refreshedAt;
    case 'expiresAt':
      return b.expiresAt;
  }
}

function compare(ak: string | number, aid: number, bk: string | number, bid: number): number {
  if (ak !== bk) return ak < bk ? -1 : 1;
  return aid - bid;
}

/**
 * One page: the `limit` first matches after `after` in (key, id) order, ascending or
 * descending, and how many bindings match in all.
 */
export function queryRegistrations(
  bindings: Iterable<Binding>,
  matches: (b: Binding) => boolean,
  sort: SortKey,
  descending: boolean,
  limit: number,
  after: Cursor | null,
): RegistrationPage {
  const dir = descending ? -1 : 1;
  // A max-heap (in page order) of the best `limit` rows seen: its root is the worst kept row.
  const heap: Array<{ k: string | number; b: Binding }> = [];
  const worse = (i: number, j: number) => dir * compare(heap[i]!.k, heap[i]!.b.id, heap[j]!.k, heap[j]!.b.id) > 0;
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(l, m)) m = l;
      if (r < heap.length && worse(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  let total = 0;
  let more = false;
  for (const b of bindings) {
    if (!matches(b)) continue;
    total++;
    const k = sortKeyOf(b, sort);
    if (after !== null && dir * compare(k, b.id, after.key, after.id) <= 0) continue;
    if (heap.length < limit) {
      heap.push({ k, b });
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (!worse(i, p)) break;
        swap(i, p);
        i = p;
      }
    } else {
      more = true;
      const root = heap[0]!;
      if (dir * compare(k, b.id, root.k, root.b.id) < 0) {
        heap[0] = { k, b };
        siftDown(0);
      }
    }
  }
  heap.sort((x, y) => dir * compare(x.k, x.b.id, y.k, y.b.id));
  const last = heap[heap.length - 1];
  return {
    items: heap.map((x) => x.b),
    total,
    next: more && last !== undefined ? { key: last.k, id: last.b.id } : null,
  };
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.key, c.id])).toString('base64url');
}

/** The cursor a client sent back, or null when it is not one of ours. */
export function decodeCursor(text: string): Cursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [key, id] = v as unknown[];
    if ((typeof key !== 'string' && typeof key !== 'number') || typeof id !== 'number') return null;
    return { key, id };
  } catch {
    return null;
  }
}

/** Usernames by domain from `user@domain` keys (the store's keysOfCustomer). */
export function accountsByDomain(keys: readonly string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const k of keys) {
    const at = k.lastIndexOf('@');
    const domain = k.slice(at + 1);
    let users = out.get(domain);
    if (users === undefined) out.set(domain, (users = new Set()));
    users.add(k.slice(0, at));
  }
  return out;
}
