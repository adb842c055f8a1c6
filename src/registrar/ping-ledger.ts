// The OPTIONS keep-alive's pings awaiting judgement, by sequence number, in one typed array
// rather than in the bindings. At 100,000 endpoints thousands of answers come in a second,
// and by the time one does its binding has gone cold: writing the answer into the Binding
// cost the event loop ~2 µs of cache and TLB misses in a running server against ~0.2 µs
// warm (bench/RESULTS.md, thirteenth pass). Here an answer is a write next to the entries
// the same slot's pings wrote a few milliseconds before. The binding takes its answer at its
// next visit, or when something is about to read it (KeepAlive.settle).
//
// An entry lives at `seq & mask`. Sequence numbers are handed out in order, so while the
// ledger holds twice as many entries as there are endpoints, a ping's entry is overwritten
// only by a ping sent two intervals later; reserve() keeps it so.

const FIELDS = 4;
/** The ping's sequence number; -1: free. */
const SEQ = 0;
/** When the ping left, epoch ms: when it was sent, plus the time it waited in a queue once that is known. */
const LEFT_AT = 1;
/** Its send ticket (KeepAliveDeps.sendDatagram), -1 when it went out at once. */
const TICKET = 2;
/** When its answer arrived, whole epoch ms; 0: not yet. */
const ANSWERED_AT = 3;

const MIN_CAPACITY = 1024;

export class PingLedger {
  private entries: Float64Array;
  private mask: number;
  /** Entries in use: pings sent and not yet settled. */
  size = 0;

  constructor(capacity = MIN_CAPACITY) {
    const n = powerOfTwoAtLeast(Math.max(MIN_CAPACITY, capacity));
    this.entries = new Float64Array(n * FIELDS).fill(-1);
    this.mask = n - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Makes room for `endpoints` pinged once an interval: twice as many entries. */
  reserve(endpoints: number): void {
    if (endpoints * 2 <= this.capacity) return;
    const n = powerOfTwoAtLeast(endpoints * 2);
    const old = this.entries;
    const entries = new Float64Array(n * FIELDS).fill(-1);
    const mask = n - 1;
    // Distinct places under the old mask stay distinct under the wider one.
    for (let e = 0; e < old.length; e += FIELDS) {
      const seq = old[e + SEQ]!;
      if (seq < 0) continue;
      const to = (seq & mask) * FIELDS;
      for (let f = 0; f < FIELDS; f++) entries[to + f] = old[e + f]!;
    }
    this.entries = entries;
    this.mask = mask;
  }

  /** A ping went out (or was queued to). An older entry in its place is overwritten. */
  sent(seq: number, atMs: number, ticket: number): void {
    const e = (seq & this.mask) * FIELDS;
    const entries = this.entries;
    if (entries[e + SEQ]! < 0) this.size++;
    entries[e + SEQ] = seq;
    entries[e + LEFT_AT] = atMs;
    entries[e + TICKET] = ticket;
    entries[e + ANSWERED_AT] = 0;
  }

  /** Where `seq`'s entry is while its ping awaits an answer; -1 when answered, settled or overwritten. */
  awaiting(seq: number): number {
    const e = (seq & this.mask) * FIELDS;
    return this.entries[e + SEQ] === seq && this.entries[e + ANSWERED_AT] === 0 ? e : -1;
  }

  /** Where `seq`'s entry is, answered or not; -1 when settled or overwritten. */
  find(seq: number): number {
    const e = (seq & this.mask) * FIELDS;
    return this.entries[e + SEQ] === seq ? e : -1;
  }

  ticket(e: number): number {
    return this.entries[e + TICKET]!;
  }

  /** Records the answer to the ping at `e`: it arrived at `atMs`, the ping having waited `waitedMs` to leave. */
  answer(e: number, atMs: number, waitedMs: number): void {
    this.entries[e + LEFT_AT]! += waitedMs;
    this.entries[e + ANSWERED_AT] = atMs;
  }

  /** When the answer to the ping at `e` arrived; 0 when none has. */
  answeredAt(e: number): number {
    return this.entries[e + ANSWERED_AT]!;
  }

  /** The round-trip time of the answered ping at `e`, whole ms. */
  rttMs(e: number): number {
    return Math.max(0, Math.round(this.entries[e + ANSWERED_AT]! - this.entries[e + LEFT_AT]!));
  }

  /** Frees the entry at `e`. */
  clear(e: number): void {
    if (this.entries[e + SEQ]! < 0) return;
    this.entries[e + SEQ] = -1;
    this.size--;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
