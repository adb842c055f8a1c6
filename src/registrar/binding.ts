// A binding in memory: one registered contact of an AOR (RFC 3261 §10), with the facts an
// operator sees in the console. Strings held here are copies, never slices of a packet
// (a slice would keep the whole packet alive for as long as the binding lives).

import type { BindingRecord } from '../store/store.js';
import type { Connection } from '../transport/transport.js';
import type { WheelItem } from './deadline-wheel.js';

export type BindingStatus = 'Registered' | 'Expiring' | 'Unregistered';

export class Binding implements WheelItem {
  wheelSlot = -1;
  /** Whether the binding table holds it. */
  inTable = false;
  /** Whether the `expiring` transition was already recorded for the current interval. */
  expiringNoted = false;

  /** When the binding expires, was first registered, was last refreshed: epoch ms (set by the constructor). */
  expiresAt = 0;
  registeredAt = 0;
  refreshedAt = 0;

  // Reachability (SPEC §6): run-time state, not stored — after a restart it is found anew.
  /** The stream connection the REGISTER came on (RFC 5626 flow); null for UDP. */
  connection: Connection | null = null;
  /** null: not known yet (not pinged, or no answer due yet). */
  reachable: boolean | null = null;
  /** When the endpoint was last heard from (a REGISTER or a keep-alive answer), epoch ms. */
  lastSeenAt = 0;
  /** Round-trip time of the last answered keep-alive, ms. */
  rttMs: number | null = null;
  /** Keep-alives in a row that got no answer. */
  misses = 0;
  /** The keep-alive ring's slot (src/registrar/ping-ring.ts), -1 when not pinged. */
  pingSlot = -1;
  /** Sequence number of the keep-alive awaiting an answer or, answered, its judgement at the next visit (its branch ends with it); -1 when none. */
  pingSeq = -1;
  /** When that keep-alive was sent, epoch ms (meaningful while pingSeq ≥ 0). */
  pingSentAt = 0;

  constructor(
    readonly id: number,
    readonly aor: string,
    readonly username: string,
    readonly domain: string,
    public contact: string,
    public instance: string | null,
    public regId: number | null,
    public q: number | null,
    public callId: string,
    public cseq: number,
    /** Granted interval, seconds. */
    public expires: number,
    expiresAt: number,
    registeredAt: number,
    refreshedAt: number,
    public sourceAddress: string,
    public sourcePort: number,
    public transport: string,
    public localAddress: string,
    public localPort: number,
    public userAgent: string | null,
    public path: readonly string[],
    public nat: boolean,
  ) {
    // The times are fields that start as 0 and get their value here, so that V8 holds them as
    // doubles updated in place from the first binding on. A field whose first value is a time
    // (or undefined) is held as a reference to a heap number instead, and one still 0 when it
    // first gets a time is rebuilt in every binding: either way a refresh or a keep-alive
    // answer would store a new young object into an old binding, which every young-generation
    // collection must then visit — and its pauses are what a REGISTER waits out.
    this.expiresAt = expiresAt;
    this.registeredAt = registeredAt;
    this.refreshedAt = refreshedAt;
    this.lastSeenAt = refreshedAt;
    this.pingSentAt = refreshedAt;
  }

  static fromRecord(r: BindingRecord): Binding {
    return new Binding(
      r.id,
      r.aor,
      r.username,
      r.domain,
      r.contact,
      r.instance,
      r.regId,
      r.q,
      r.callId,
      r.cseq,
      r.expires,
      r.expiresAt,
      r.registeredAt,
      r.refreshedAt,
      r.sourceAddress,
      r.sourcePort,
      r.transport,
      r.localAddress,
      r.localPort,
      r.userAgent,
      r.path,
      r.nat,
    );
  }

  toRecord(): BindingRecord {
    return {
      id: this.id,
      aor: this.aor,
      username: this.username,
      domain: this.domain,
      contact: this.contact,
      instance: this.instance,
      regId: this.regId,
      q: this.q,
      callId: this.callId,
      cseq: this.cseq,
      expires: this.expires,
      expiresAt: this.expiresAt,
      registeredAt: this.registeredAt,
      refreshedAt: this.refreshedAt,
      sourceAddress: this.sourceAddress,
      sourcePort: this.sourcePort,
      transport: this.transport,
      localAddress: this.localAddress,
      localPort: this.localPort,
      userAgent: this.userAgent,
      path: this.path,
      nat: this.nat,
    };
  }

  /** When the binding turns Expiring: less than `share` of its interval left. */
  expiringAt(share: number): number {
    return this.expiresAt - Math.round(this.expires * share * 1000);
  }

  status(nowMs: number, share: number): BindingStatus {
    if (nowMs >= this.expiresAt) return 'Unregistered';
    return nowMs >= this.expiringAt(share) ? 'Expiring' : 'Registered';
  }

  /** Whole seconds left, never negative. */
  remaining(nowMs: number): number {
    return Math.max(0, Math.ceil((this.expiresAt - nowMs) / 1000));
  }
}
