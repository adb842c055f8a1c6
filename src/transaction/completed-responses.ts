// The final responses of completed non-INVITE transactions, kept for Timer J so that a
// retransmitted request gets the same bytes again (RFC 3261 §17.2.2).
//
// At 20,000 transactions a second and 32 s of Timer J this is ~650,000 responses at once.
// Kept as objects (a Buffer, a record, a timer each) they cost about a kilobyte apiece and
// keep the garbage collector busy; here the bytes are appended to slabs, each key maps to a
// number (where its bytes are), and since every entry lives exactly Timer J, whole slabs
// expire in the order they were filled.
//
// Responses are written into one reusable Buffer; when a slab is sealed (full, or a second
// old) its bytes become a one-byte string on V8's heap and the Buffer takes the next slab.
// Why not keep the Buffers: they come from malloc, and after a registration storm the
// freed slabs stay in the process for good, interleaved with live allocations that glibc
// cannot hand back (a storm of 100,000 registrations left ~100 MB resident that way).
// V8 returns the pages of dead strings to the system after its next full collection, and
// slabs this large are each their own pages (large-object space), never copied by the
// scavenger.
//
// The index may be shared with the transaction layer, whose other entries (transactions
// still pending, INVITEs awaiting their ACK) are objects: one lookup then finds a request's
// transaction in whatever state it is, and completing one replaces its entry in place.

/** Above V8's largest regular object (128 KB), so a full slab is a large object of its own. */
const SLAB_BYTES = 256 * 1024;
/**
 * A position is (slab sequence mod 2^12) × 2^18 + offset: below 2^30, so V8 keeps it as a
 * small integer (31 bits with pointer compression) rather than a heap number per entry. An
 * offset fits 18 bits: a response too big for a standard slab gets a slab of its own
 * (offset 0), and at most 2^12 slabs are kept, past which the oldest goes early.
 */
const OFFSET_BITS = 18;
const SEQ_MASK = (1 << 12) - 1;
const MAX_SLABS = SEQ_MASK + 1;
const LENGTH_PREFIX = 4;

interface Slab {
  readonly seq: number;
  /** The bytes once sealed (latin1: one character per byte); null while being written. */
  text: string | null;
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
  /** Where the open (last, unsealed) slab is written; reused for every slab. */
  private readonly writeBuf = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private nextSeq = 0;
  /** Entries in the slabs (a key stored again counts twice until its older entry expires). */
  private count = 0;
  private totalBytes = 0;

  constructor(
    /** How long an entry is kept (Timer J). */
    private readonly lifetimeMs: number,
    /** Most entries kept; past it the oldest slabs go early. */
    private readonly maxEntries: number,
    /** Key → position; values that are not numbers belong to whoever shares the map. */
    private readonly index: Map<string, unknown> = new Map(),
    /**
     * Most bytes kept; past it the oldest slabs go early. The sealed slabs live on V8's heap,
     * so this must stay well inside its limit: a storm must cost retransmissions answered
     * anew, never an out-of-memory crash.
     */
    private readonly maxBytes: number = Number.MAX_SAFE_INTEGER,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Bytes held in slabs (for metrics and tests). */
  get bytes(): number {
    return this.totalBytes;
  }

  put(key: string, response: Buffer, now: number): void {
    const need = response.length + LENGTH_PREFIX;
    let slab = this.slabs[this.slabs.length - 1];
    if (slab !== undefined && slab.text === null && (slab.used + need > SLAB_BYTES || now >= slab.sealsAt)) this.seal(slab);
    if (slab === undefined || slab.text !== null) {
      if (need > SLAB_BYTES) {
        this.putOversized(key, response, now);
        return;
      }
      slab = { seq: this.nextSeq++, text: null, used: 0, keys: [], expiresAt: 0, sealsAt: now + 1000 };
      this.slabs.push(slab);
    }
    this.writeBuf.writeUInt32LE(response.length, slab.used);
    this.writeBuf.set(response, slab.used + LENGTH_PREFIX);
    this.added(slab, key, need, now);
  }

  /** The response stored for `key`, or null. */
  get(key: string): Buffer | null {
    const pos = this.index.get(key);
    return typeof pos === 'number' ? this.at(pos) : null;
  }

  /**
   * A copy of the response at a position found in the index (the open slab's buffer is
   * reused, while a send may still be holding what it was given).
   */
  at(pos: number): Buffer | null {
    const first = this.slabs[0];
    if (first === undefined) return null;
    const slab = this.slabs[((pos >>> OFFSET_BITS) - first.seq) & SEQ_MASK];
    if (slab === undefined) return null;
    const offset = pos & ((1 << OFFSET_BITS) - 1);
    const text = slab.text;
    if (text === null) {
      const len = this.writeBuf.readUInt32LE(offset);
      return Buffer.from(this.writeBuf.subarray(offset + LENGTH_PREFIX, offset + LENGTH_PREFIX + len));
    }
    const len = text.charCodeAt(offset) | (text.charCodeAt(offset + 1) << 8) | (text.charCodeAt(offset + 2) << 16) | (text.charCodeAt(offset + 3) << 24);
    return Buffer.from(text.slice(offset + LENGTH_PREFIX, offset + LENGTH_PREFIX + len), 'latin1');
  }

  has(key: string): boolean {
    return typeof this.index.get(key) === 'number';
  }

  /** Forgets every entry whose time is up. */
  sweep(now: number): void {
    const last = this.slabs[this.slabs.length - 1];
    if (last !== undefined && last.text === null && now >= last.sealsAt) this.seal(last);
    while (this.slabs.length > 0 && this.slabs[0]!.text !== null && this.slabs[0]!.expiresAt <= now) this.drop(this.slabs[0]!);
  }

  /** Forgets every entry (and, the index being ours or not, every key that held one). */
  clear(): void {
    for (const slab of this.slabs) for (const key of slab.keys) if (typeof this.index.get(key) === 'number') this.index.delete(key);
    this.count = 0;
    this.totalBytes = 0;
    this.slabs.length = 0;
  }

  private putOversized(key: string, response: Buffer, now: number): void {
    const buf = Buffer.allocUnsafe(response.length + LENGTH_PREFIX);
    buf.writeUInt32LE(response.length, 0);
    buf.set(response, LENGTH_PREFIX);
    const slab: Slab = { seq: this.nextSeq++, text: buf.toString('latin1'), used: 0, keys: [], expiresAt: 0, sealsAt: now };
    this.slabs.push(slab);
    this.added(slab, key, buf.length, now);
  }

  private added(slab: Slab, key: string, need: number, now: number): void {
    this.index.set(key, ((slab.seq & SEQ_MASK) << OFFSET_BITS) | slab.used);
    this.count++;
    this.totalBytes += need;
    slab.used += need;
    slab.keys.push(key);
    slab.expiresAt = now + this.lifetimeMs;
    while ((this.count > this.maxEntries || this.slabs.length > MAX_SLABS || this.totalBytes > this.maxBytes) && this.slabs.length > 1) {
      this.drop(this.slabs[0]!);
    }
  }

  private seal(slab: Slab): void {
    slab.text = this.writeBuf.toString('latin1', 0, slab.used);
  }

  private drop(slab: Slab): void {
    const seq = slab.seq & SEQ_MASK;
    for (const key of slab.keys) {
      const pos = this.index.get(key);
      // A key seen again later (a new transaction reusing it) points elsewhere: keep it.
      if (typeof pos === 'number' && pos >>> OFFSET_BITS === seq) this.index.delete(key);
    }
    this.count -= slab.keys.length;
    this.totalBytes -= slab.used;
    this.slabs.shift();
  }
}
