// The first check every SIP message meets, before it is parsed (SPEC §7): is its source
// address allowed (allow list: always), refused (a block in force or the deny list), or over
// its rate? Decided from the address alone with a few Map lookups and one O(log n) list
// lookup, so that a flood costs as little as possible per datagram.
//
// Rates come in two tiers. A source that has authenticated successfully within trustTime (a
// customer's office, however many phones sit behind its NAT) gets generous limits; any other
// source gets a small one. A flood of unauthenticated REGISTERs from addresses that never
// authenticate is thus cut to a trickle before it costs any parsing, while the first phone of
// a new office, inside the small burst, earns its address the higher limits.

import type { AddressList } from './address-list.js';
import { FloodDetector } from './flood-detector.js';
import { SourceRateLimiter, type RateLimit } from './source-rate-limiter.js';

export const ACCEPT = 0;
export const DROP = 1;
/** Refused: answer 403 (or drop, per security.unauthorizedResponse, decided here). */
export const FORBID = 2;
/** Over its rate: answer 503 with Retry-After. */
export const BUSY = 3;
export type Admission = typeof ACCEPT | typeof DROP | typeof FORBID | typeof BUSY;

export interface GateSettings {
  readonly rateLimit: {
    readonly enabled: boolean;
    readonly requestRate: number;
    readonly requestBurst: number;
    readonly registerRate: number;
    readonly registerBurst: number;
    readonly action: 'drop' | '503';
    readonly newSourceRate: number;
    readonly newSourceBurst: number;
    readonly trustTime: number;
  };
  readonly floodBlock: {
    readonly enabled: boolean;
    readonly threshold: number;
    readonly window: number;
  };
  readonly unauthorizedResponse: 'drop' | '403';
}

/** What a refused source is refused for (the failure log's reason). */
export type RefusalReason = 'blocked-address' | 'rate-limited';

/**
 * One of the rate limits, made again only when the settings object changes (a settings change
 * makes a new one): read for every datagram, it would otherwise be a new object each time.
 */
function limitFrom(settings: () => GateSettings, pick: (r: GateSettings['rateLimit']) => RateLimit): () => RateLimit {
  let from: GateSettings['rateLimit'] | null = null;
  let limit: RateLimit = { rate: 0, burst: 0 };
  return () => {
    const r = settings().rateLimit;
    if (r !== from) {
      from = r;
      limit = pick(r);
    }
    return limit;
  };
}

/** Most trusted sources remembered (expired ones make room first). */
const MAX_TRUSTED = 200_000;

export class SourceGate {
  private allow: AddressList<unknown> | null = null;
  private deny: AddressList<unknown> | null = null;
  /** Blocked addresses and when each block ends (null: until removed). */
  private blocked = new Map<string, number | null>();
  private readonly requests: SourceRateLimiter;
  private readonly registers: SourceRateLimiter;
  private readonly newSources: SourceRateLimiter;
  /** Sources that authenticated successfully, and until when they are trusted. */
  private readonly trusted = new Map<string, number>();
  /** Counts the rate-limit refusals of untrusted sources: enough of them make a flood. */
  private readonly floods: FloodDetector;
  /** Why the last non-ACCEPT admission refused (read right after admit). */
  lastRefusal: RefusalReason = 'blocked-address';
  /**
   * A source flooding past its rate limit (security.floodBlock): the owner blocks it. Called
   * from inside admit(), once per flood.
   */
  onFlood: (address: string) => void = () => {};

  constructor(private readonly settings: () => GateSettings) {
    this.floods = new FloodDetector(() => settings().floodBlock);
    this.requests = new SourceRateLimiter(limitFrom(settings, (r) => ({ rate: r.requestRate, burst: r.requestBurst })));
    this.registers = new SourceRateLimiter(limitFrom(settings, (r) => ({ rate: r.registerRate, burst: r.registerBurst })));
    this.newSources = new SourceRateLimiter(limitFrom(settings, (r) => ({ rate: r.newSourceRate, burst: r.newSourceBurst })));
  }

  /** A successful authentication from `address`: it gets the higher limits for trustTime. */
  trust(address: string, nowMs: number): void {
    address = rateKey(address);
    if (this.trusted.size >= MAX_TRUSTED && !this.trusted.has(address)) {
      for (const [a, until] of this.trusted) if (until <= nowMs) this.trusted.delete(a);
      if (this.trusted.size >= MAX_TRUSTED) return;
    }
    this.trusted.set(address, nowMs + this.settings().rateLimit.trustTime * 1000);
  }

  private isTrusted(address: string, nowMs: number): boolean {
    const until = this.trusted.get(address);
    return until !== undefined && until > nowMs;
  }

  /** The global allow and deny lists (per-customer entries are the registrar's business). */
  setLists(allow: AddressList<unknown>, deny: AddressList<unknown>): void {
    this.allow = allow.size > 0 ? allow : null;
    this.deny = deny.size > 0 ? deny : null;
  }

  setBlocks(blocks: Map<string, number | null>): void {
    this.blocked = blocks;
  }

  block(address: string, untilMs: number | null): void {
    this.blocked.set(address, untilMs);
  }

  unblock(address: string): void {
    this.blocked.delete(address);
  }

  isAllowListed(address: string): boolean {
    return this.allow !== null && this.allow.has(address);
  }

  isBlocked(address: string, nowMs: number): boolean {
    if (this.blocked.size === 0) return false;
    const until = this.blocked.get(address);
    if (until === undefined) return false;
    if (until !== null && until <= nowMs) {
      this.blocked.delete(address);
      return false;
    }
    return true;
  }

  /** Blocked or deny-listed, and not allow-listed: refused whatever its rate. */
  refuses(address: string, nowMs: number): boolean {
    if (this.allow !== null && this.allow.has(address)) return false;
    return this.isBlocked(address, nowMs) || (this.deny !== null && this.deny.has(address));
  }

  /**
   * The verdict on a message from `address`; `isRegister` when its first bytes are
   * `REGISTER ` (known without parsing).
   */
  admit(address: string, isRegister: boolean, nowMs: number): Admission {
    if (this.allow !== null && this.allow.has(address)) return ACCEPT;
    if (this.isBlocked(address, nowMs) || (this.deny !== null && this.deny.has(address))) {
      this.lastRefusal = 'blocked-address';
      return this.settings().unauthorizedResponse === '403' ? FORBID : DROP;
    }
    const s = this.settings().rateLimit;
    if (!s.enabled) return ACCEPT;
    const key = rateKey(address);
    let limited: boolean;
    if (this.isTrusted(key, nowMs)) limited = !this.requests.take(key, nowMs) || (isRegister && !this.registers.take(key, nowMs));
    else {
      limited = !this.newSources.take(key, nowMs);
      // Only sources that never authenticated are ever blocked for flooding: an office or an
      // SBC whose phones authenticate is throttled at worst, never locked out.
      if (limited && this.floods.refused(key, nowMs)) this.onFlood(address);
    }
    if (limited) {
      this.lastRefusal = 'rate-limited';
      return s.action === '503' ? BUSY : DROP;
    }
    return ACCEPT;
  }

  /** Seconds a rate-limited source should wait (Retry-After). */
  retryAfter(address: string, nowMs: number): number {
    const key = rateKey(address);
    if (!this.isTrusted(key, nowMs)) return this.newSources.retryAfter(key, nowMs);
    return Math.max(this.requests.retryAfter(key, nowMs), this.registers.retryAfter(key, nowMs));
  }
}

/**
 * What a rate limit and trust are kept per: the IPv4 address, or the IPv6 /64 — one host
 * (one customer site) is handed a whole /64, and an attacker rotating through it must not get
 * a fresh bucket per address. An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function rateKey(address: string): string {
  if (address.indexOf(':') < 0) return address;
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped !== null) return mapped[1]!;
  const cut = lower.indexOf('::');
  let groups: string[];
  if (cut < 0) groups = lower.split(':');
  else {
    const head = cut === 0 ? [] : lower.slice(0, cut).split(':');
    const tail = cut + 2 >= lower.length ? [] : lower.slice(cut + 2).split(':');
    groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  }
  let key = '';
  for (let i = 0; i < 4; i++) key += `${(groups[i] ?? '0').replace(/^0+(?=.)/, '')}:`;
  return `${key}:/64`;
}
