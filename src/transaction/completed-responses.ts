// The final responses of completed non-INVITE transactions, kept for Timer J so that a
// retransmitted request gets the same bytes again (RFC 3261 §17.2.2).
//
// At 20,000 transactions a second and 32 s of Timer J this is ~650,000 responses at once.
// Kept as objects (a Buffer, a record, a timer each) they cost about a kilobyte apiece and
// keep the garbage collector busy; here the bytes are appended to slabs of off-heap memory,
// each key maps to a number (where its bytes are), and since every entry lives exactly
// Timer J, whole slabs expire in the order they were filled.
//
// The index may be shared with the transaction layer, whose other entries (transactions
// still pending, INVITEs awaiting their ACK) are objects: one lookup then finds a request's
// transaction in whatever state it is, and completing one replaces its entry in place.

const SLAB_BYTES = 64 * 1024;
/**
 * Expired slabs kept for reuse (up to 2 MB): under steady load as many slabs expire each
 * second as are filled, and reusing them spares fresh memory (page faults) and the garbage
 * collector's work for the old ones, which would only go at the next full collection.
 */
const MAX_SPARE_SLABS = 32;
/**
 * A position is (slab sequence mod 2^14) × 2^16 + offset: below 2^30, so V8 keeps it as a
 * small integer rather than a heap number per entry. An offset fits 16 bits: a response too
 * big for a standard slab gets a slab of its own (offset 0), and at most 2^14 slabs (1 GB) are
 * kept, past which the oldest goes early.
 */
const OFFSET_BITS = 16;
const SEQ_MASK = (1 << 14) - 1;
const MAX_SLABS = SEQ_MASK + 1;
const LENGTH_PREFIX = 4;

interface Slab {
  readonly seq: number;
  readonly buf: Buffer;
  used: number;
  /** Keys whose bytes are in this slab. */
  readonly keys: string[];
  /** When the last entry of this slab stops being needed. */
  expiresAt: number;
  /** When this slab stops taking new entries (slabs turn over at least once a second). */
  readonly sealsAt: number;
}

export class CompletedResponses {
  private readonly slabs: Slab[] = [];
  private readonly spare: Buffer[] = [];
  private nextSeq = 0;
  /** Entries in the slabs (a key stored again counts twice until its older entry expires). */
  private count = 0;

  constructor(
    /** How long an entry is kept (Timer J). */
    private readonly lifetimeMs: number,
    /** Most entries kept; past it the oldest slabs go early. */
    private readonly maxEntries: number,
    /** Key → position; values that are not numbers belong to whoever shares the map. */
    private readonly index: Map<string, unknown> = new Map(),
  ) {}

  get size(): number {
    return this.count;
  }

  /** Bytes held in slabs (for metrics and tests). */
  get bytes(): number {
    return this.slabs.length * SLAB_BYTES;
  }

  put(key: string, response: Buffer, now: number): void {
    const need = response.length + LENGTH_PREFIX;
    let slab = this.slabs[this.slabs.length - 1];
    if (slab === undefined || slab.used + need > slab.buf.length || now >= slab.sealsAt) {
      slab = {
        seq: this.nextSeq++,
        // A fresh allocation, not a slice of Node's shared pool: it is freed with its slab.
        buf: (need <= SLAB_BYTES ? this.spare.pop() : undefined) ?? Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, need)),
        used: 0,
        keys: [],
        expiresAt: 0,
        sealsAt: now + 1000,
      };
      this.slabs.push(slab);
    }
    slab.buf.writeUInt32LE(response.length, slab.used);
    slab.buf.set(response, slab.used + LENGTH_PREFIX);
    this.index.set(key, ((slab.seq & SEQ_MASK) << OFFSET_BITS) | slab.used);
    this.count++;
    slab.used += need;
    slab.keys.push(key);
    slab.expiresAt = now + this.lifetimeMs;
    if ((this.count > this.maxEntries || this.slabs.length > MAX_SLABS) && this.slabs.length > 1) this.drop(this.slabs[0]!);
  }

  /** The response stored for `key`, or null. */
  get(key: string): Buffer | null {
    const pos = this.index.get(key);
    return typeof pos === 'number' ? this.at(pos) : null;
  }

  /**
   * A copy of the response at a position found in the index: the slab is reused once it
   * expires, while a send may still be holding what it was given.
   */
  at(pos: number): Buffer | null {
    const first = this.slabs[0];
    if (first === undefined) return null;
    const slab = this.slabs[((pos >>> OFFSET_BITS) - first.seq) & SEQ_MASK];
    if (slab === undefined) return null;
    const offset = pos & ((1 << OFFSET_BITS) - 1);
    const len = slab.buf.readUInt32LE(offset);
    return Buffer.from(slab.buf.subarray(offset + LENGTH_PREFIX, offset + LENGTH_PREFIX + len));
  }

  has(key: string): boolean {
    return typeof this.index.get(key) === 'number';
  }

  /** Forgets every entry whose time is up. */
  sweep(now: number): void {
    while (this.slabs.length > 0 && this.slabs[0]!.expiresAt <= now && (this.slabs.length > 1 || now >= this.slabs[0]!.sealsAt)) {
      this.drop(this.slabs[0]!);
    }
  }

  /** Forgets every entry (and, the index being ours or not, every key that held one). */
  clear(): void {
    for (const slab of this.slabs) for (const key of slab.keys) if (typeof this.index.get(key) === 'number') this.index.delete(key);
    this.count = 0;
    this.slabs.length = 0;
    this.spare.length = 0;
  }

  private drop(slab: Slab): void {
    const seq = slab.seq & SEQ_MASK;
    for (const key of slab.keys) {
      const pos = this.index.get(key);
      // A key seen again later (a new transaction reusing it) points elsewhere: keep it.
      if (typeof pos === 'number' && pos >>> OFFSET_BITS === seq) this.index.delete(key);
    }
    this.count -= slab.keys.length;
    this.slabs.shift();
    if (slab.buf.length === SLAB_BYTES && this.spare.length < MAX_SPARE_SLABS) this.spare.push(slab.buf);
  }
}
