// Failed registrations refused before any SIP work (blocked or rate-limited sources) arrive
// by the thousand per second in a flood: they are counted here per source and reason and
// written to the failure log once a second as one row each, so the log stays complete in
// counts while its writes stay bounded.

import type { FailureReason, FailureRecord } from '../store/store.js';

interface Pending {
  readonly sourceAddress: string;
  sourcePort: number;
  readonly transport: string;
  readonly reason: FailureReason;
  count: number;
  readonly firstAt: number;
}

/** Most distinct (source, reason) pairs held between flushes; more are counted together. */
const MAX_PENDING = 10_000;

export class FailureAggregator {
  /** By reason, then by source address: no key to build per message. */
  private pending = new Map<FailureReason, Map<string, Pending>>();
  private size = 0;
  /** Refusals past MAX_PENDING pairs, counted per reason (their sources are not kept). */
  private overflow = new Map<FailureReason, { count: number; at: number }>();

  note(sourceAddress: string, sourcePort: number, transport: string, reason: FailureReason, nowMs: number): void {
    let bySource = this.pending.get(reason);
    if (bySource === undefined) this.pending.set(reason, (bySource = new Map()));
    const p = bySource.get(sourceAddress);
    if (p !== undefined) {
      p.count++;
      p.sourcePort = sourcePort;
      return;
    }
    if (this.size >= MAX_PENDING) {
      const o = this.overflow.get(reason);
      if (o === undefined) this.overflow.set(reason, { count: 1, at: nowMs });
      else o.count++;
      return;
    }
    this.size++;
    bySource.set(sourceAddress, { sourceAddress, sourcePort, transport, reason, count: 1, firstAt: nowMs });
  }

  /** The rows to write since the last drain. */
  drain(): FailureRecord[] {
    const out: FailureRecord[] = [];
    for (const bySource of this.pending.values()) for (const p of bySource.values()) {
      out.push({
        time: p.firstAt,
        sourceAddress: p.sourceAddress,
        sourcePort: p.sourcePort,
        transport: p.transport,
        username: null,
        userAgent: null,
        reason: p.reason,
        detail: p.count > 1 ? `${p.count} messages refused in this second` : null,
        count: p.count,
      });
    }
    for (const [reason, o] of this.overflow) {
      out.push({
        time: o.at,
        sourceAddress: '*',
        sourcePort: 0,
        transport: '*',
        username: null,
        userAgent: null,
        reason,
        detail: `${o.count} message${o.count === 1 ? '' : 's'} from more than ${MAX_PENDING} other sources`,
        count: o.count,
      });
    }
    this.pending = new Map();
    this.size = 0;
    this.overflow = new Map();
    return out;
  }
}
