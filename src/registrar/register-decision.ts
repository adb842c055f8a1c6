// RFC 3261 §10.3 steps 6–8 as a pure function: given an authenticated REGISTER, the AOR's
// current bindings, the policy and the clock, decide what changes and what to answer.
// No I/O here; the registrar applies the decision.

import { getParam, isSipUri, type NameAddr, type SipRequest } from '../sip/message.js';
import { parseUri, uriEquals } from '../sip/uri.js';
import type { Binding } from './binding.js';

export interface RegisterPolicy {
  readonly defaultExpires: number;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly maxBindings: number;
  readonly replacePolicy: 'on' | 'off';
  /** Storm spreading: up to this many percent below the requested expiry (0: off). */
  readonly expirySpread: number;
}

/** A contact to add (existing === null) or refresh, with the expiry granted. */
export interface ContactUpsert {
  readonly contact: NameAddr;
  readonly expires: number;
  readonly instance: string | null;
  readonly regId: number | null;
  readonly q: number | null;
  readonly existing: Binding | null;
}

export type RegisterDecision =
  | {
      readonly kind: 'reject';
      readonly status: number;
      readonly reason: string;
      readonly headers: ReadonlyArray<readonly [string, string]>;
    }
  /** No Contact: a query; answer with the current bindings. */
  | { readonly kind: 'query' }
  | {
      readonly kind: 'update';
      readonly upserts: readonly ContactUpsert[];
      /** Bindings removed by the request itself (expires 0 or `Contact: *`). */
      readonly removals: readonly Binding[];
      /** Bindings removed to make room under the replace policy. */
      readonly kicks: readonly Binding[];
    };

const MAX_DELTA = 0xffffffff;

function reject(status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []): RegisterDecision {
  return { kind: 'reject', status, reason, headers };
}

/** delta-seconds (RFC 3261 §25.1): digits only; huge values saturate. */
function parseDelta(v: string | null | undefined): number | null {
  if (v === null || v === undefined || !/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n > MAX_DELTA ? MAX_DELTA : n;
}

/** q-value (RFC 3261 §25.1): 0 to 1 with up to three decimals; anything else is ignored. */
function parseQ(v: string | null | undefined): number | null {
  if (v === null || v === undefined || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v)) return null;
  return Number(v);
}

/** `+sip.instance="<urn:uuid:...>"` → `<urn:uuid:...>` lowercased (URNs compare case-insensitively). */
function instanceOf(c: NameAddr): string | null {
  const v = getParam(c.params, '+sip.instance');
  if (v === undefined || v === null) return null;
  const unq = v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  return unq === '' ? null : unq.toLowerCase();
}

function sameContact(b: Binding, c: NameAddr): boolean {
  if (b.contact === c.uriText) return true;
  const stored = parseUri(b.contact);
  return stored !== null && uriEquals(stored, c.uri);
}

/** A contact naming an outbound flow: +sip.instance and reg-id (a reg-id alone is ignored, RFC 5626 §6). */
function namesFlow(c: NameAddr): boolean {
  return getParam(c.params, 'reg-id') !== undefined && instanceOf(c) !== null;
}

function findExisting(bindings: readonly Binding[], c: NameAddr, instance: string | null, regId: number | null): Binding | null {
  if (instance !== null) {
    for (const b of bindings) if (b.instance === instance && b.regId === regId) return b;
    // An outbound flow is its instance and reg-id and nothing else (RFC 5626 §6): a UA's
    // flows often share one Contact URI, and each is a binding of its own.
    if (regId !== null) return null;
  }
  for (const b of bindings) if ((b.instance === null || b.instance === instance) && sameContact(b, c)) return b;
  return null;
}

/** Call-ID/CSeq ordering, §10.3 step 7: same Call-ID needs a higher CSeq. */
function outOfOrder(b: Binding, req: SipRequest): boolean {
  return b.callId === req.callId && req.cseq.seq <= b.cseq;
}

export interface RegisterInput {
  readonly req: SipRequest;
  readonly bindings: readonly Binding[];
  readonly policy: RegisterPolicy;
  /** Uniform in [0, 1): injected so tests are exact. */
  readonly random: () => number;
}

export function decideRegister(input: RegisterInput): RegisterDecision {
  const { req, bindings, policy } = input;

  // Step 6: the wildcard.
  if (req.contact === '*') {
    if (req.expires !== 0) return reject(400, 'Bad Request (Contact: * requires Expires: 0)');
    for (const b of bindings) if (outOfOrder(b, req)) return reject(400, 'Bad Request (CSeq not higher than the binding\'s)');
    return { kind: 'update', upserts: [], removals: bindings.slice(), kicks: [] };
  }
  if (req.contact.length === 0) return { kind: 'query' };

  // RFC 5626 §6: outbound applies when this registrar is the first hop (one Via), or when
  // the edge proxy that is supports it (an `ob` parameter on the first Path URI). A client
  // asking for outbound through an edge proxy that lacks it gets 439; a reg-id without
  // `Supported: outbound` is ignored.
  let outbound = req.supported.includes('outbound');
  if (outbound && req.via.length > 1) {
    const first = req.path[0];
    const obAtEdge = first !== undefined && isSipUri(first.uri) && getParam(first.uri.params, 'ob') !== undefined;
    if (!obAtEdge) {
      for (const c of req.contact) {
        if (namesFlow(c)) return reject(439, 'First Hop Lacks Outbound Support');
      }
      outbound = false;
    }
  }
  if (outbound) {
    // One flow per REGISTER: a reg-id on a contact being registered must be the only
    // contact being registered (others may be unregistered with it).
    let registering = 0;
    let withRegId = false;
    for (const c of req.contact) {
      const expires = parseDelta(getParam(c.params, 'expires')) ?? req.expires ?? policy.defaultExpires;
      if (expires === 0) continue;
      registering++;
      if (namesFlow(c)) withRegId = true;
    }
    if (withRegId && registering > 1) return reject(400, 'Bad Request (a REGISTER with reg-id registers one contact, RFC 5626 §6)');
  }

  // Step 7: each contact, in order; a later duplicate overrides an earlier one.
  const upserts: ContactUpsert[] = [];
  const removals: Binding[] = [];
  for (const c of req.contact) {
    let requested = parseDelta(getParam(c.params, 'expires')) ?? req.expires ?? policy.defaultExpires;
    if (requested !== 0 && requested < policy.minExpires) {
      return reject(423, 'Interval Too Brief', [['Min-Expires', String(policy.minExpires)]]);
    }
    if (requested > policy.maxExpires) requested = policy.maxExpires;
    const instance = instanceOf(c);
    // reg-id only means something with outbound support (RFC 5626 §6).
    const regId = outbound && instance !== null ? parseDelta(getParam(c.params, 'reg-id')) : null;
    const existing = findExisting(bindings, c, instance, regId);
    if (existing !== null && outOfOrder(existing, req)) {
      return reject(400, 'Bad Request (CSeq not higher than the binding\'s)');
    }
    // Drop an earlier entry of this request for the same binding/contact.
    for (let i = upserts.length - 1; i >= 0; i--) {
      const u = upserts[i]!;
      const same = existing !== null ? u.existing === existing : u.existing === null && (instance !== null ? u.instance === instance && u.regId === regId : uriEquals(u.contact.uri, c.uri));
      if (same) upserts.splice(i, 1);
    }
    if (existing !== null) {
      const r = removals.indexOf(existing);
      if (r >= 0) removals.splice(r, 1);
    }
    if (requested === 0) {
      if (existing !== null) removals.push(existing);
      continue;
    }
    let expires = requested;
    if (policy.expirySpread > 0) {
      expires = Math.max(policy.minExpires, Math.floor(requested * (1 - (input.random() * policy.expirySpread) / 100)));
    }
    upserts.push({ contact: c, expires, instance, regId, q: parseQ(getParam(c.params, 'q')), existing });
  }

  // Binding limit and the replace policy (SPEC §4).
  let added = 0;
  for (const u of upserts) if (u.existing === null) added++;
  const kicks: Binding[] = [];
  const after = bindings.length - removals.length + added;
  if (after > policy.maxBindings) {
    if (added > policy.maxBindings) {
      return reject(403, `Forbidden (at most ${policy.maxBindings} contact${policy.maxBindings === 1 ? '' : 's'} per AOR)`);
    }
    if (policy.replacePolicy === 'off') {
      return reject(403, `Forbidden (maximum of ${policy.maxBindings} binding${policy.maxBindings === 1 ? '' : 's'} reached)`);
    }
    const kept = new Set<Binding>(removals);
    for (const u of upserts) if (u.existing !== null) kept.add(u.existing);
    const candidates = bindings.filter((b) => !kept.has(b)).sort((a, b) => a.registeredAt - b.registeredAt || a.id - b.id);
    const need = after - policy.maxBindings;
    if (candidates.length < need) {
      return reject(403, `Forbidden (maximum of ${policy.maxBindings} binding${policy.maxBindings === 1 ? '' : 's'} reached)`);
    }
    kicks.push(...candidates.slice(0, need));
  }
  return { kind: 'update', upserts, removals, kicks };
}
