// The final responses of completed non-INVITE transactions, kept for Timer J so that a
// retransmitted request gets the same bytes again (RFC 3261 §17.2.2).
//
// At 20,000 transactions a second and 32 s of Timer J this is ~650,000 responses at once.
// Kept as objects (a Buffer, a record, a timer each) they cost about a kilobyte apiece and
// keep the garbage collector busy; here the bytes are appended to slabs of off-heap memory,
// each key maps to a number (where its bytes are), and since every entry lives exactly
// Timer J, whole slabs expire in the order they were filled.

const SLAB_BYTES = 64 * 1024;
/** A position is slab sequence × 2^24 + offset: a response never exceeds 16 MB. */
const SLAB_SPAN = 2 ** 24;
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
  private readonly index = new Map<string, number>();
  private readonly slabs: Slab[] = [];
  private nextSeq = 0;

  constructor(
    /** How long an entry is kept (Timer J). */
    private readonly lifetimeMs: number,
    /** Most entries kept; past it the oldest slabs go early. */
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.index.size;
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
        buf: Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, need)),
        used: 0,
        keys: [],
        expiresAt: 0,
        sealsAt: now + 1000,
      };
      this.slabs.push(slab);
    }
    slab.buf.writeUInt32LE(response.length, slab.used);
    response.copy(slab.buf, slab.used + LENGTH_PREFIX);
    this.index.set(key, slab.seq * SLAB_SPAN + slab.used);
    slab.used += need;
    slab.keys.push(key);
    slab.expiresAt = now + this.lifetimeMs;
    if (this.index.size > this.maxEntries && this.slabs.length > 1) this.drop(this.slabs[0]!);
  }

  /** The response stored for `key`, as a view into its slab, or null. */
  get(key: string): Buffer | null {
    const pos = this.index.get(key);
    if (pos === undefined) return null;
    const seq = Math.floor(pos / SLAB_SPAN);
    const slab = this.slabs[seq - this.slabs[0]!.seq];
    if (slab === undefined) return null;
    const offset = pos - seq * SLAB_SPAN;
    const len = slab.buf.readUInt32LE(offset);
    return slab.buf.subarray(offset + LENGTH_PREFIX, offset + LENGTH_PREFIX + len);
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Forgets every entry whose time is up. */
  sweep(now: number): void {
    while (this.slabs.length > 0 && this.slabs[0]!.expiresAt <= now && (this.slabs.length > 1 || now >= this.slabs[0]!.sealsAt)) {
      this.drop(this.slabs[0]!);
    }
  }

  clear(): void {
    this.index.clear();
    this.slabs.length = 0;
  }

  private drop(slab: Slab): void {
    const lo = slab.seq * SLAB_SPAN;
    const hi = lo + SLAB_SPAN;
    for (const key of slab.keys) {
      const pos = this.index.get(key);
      // A key seen again later (a new transaction reusing it) points elsewhere: keep it.
      if (pos !== undefined && pos >= lo && pos < hi) this.index.delete(key);
    }
    this.slabs.shift();
  }
}
