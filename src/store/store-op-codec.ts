// The binary form of a batch of StoreOps, for handing a journal batch to another thread.
// Structured clone of the op objects cost ~11 µs per op on a loaded registrar's main thread
// (it allocates as it goes); this writes the same values into one flat buffer, allocating
// nothing per op, whose ArrayBuffer is then transferred, not copied. The reader walks it
// without building per-op objects. Measure with sqlite/journal-bench.fixture.ts.
//
// Layout, all little-endian, no alignment:
//   batch   := VERSION:u8 op*
//   op      := kind:u8 fields (in the order #binding, #event and #failure write them)
//   number  := 0:u8 (null) | 1:u8 f64
//   string  := len:u32 utf8[len] | NULL:u32 | REPEAT:u32
//   bytes   := len:u32 raw[len] | REPEAT:u32
// Every number and string may be null on the wire, whatever its type says: a bad record then
// fails on the store's NOT NULL constraints exactly as it would have without the codec.
// REPEAT stands for the value last written in the same slot of the same batch (an event's
// AOR slot is the binding's AOR slot, and so on), so the fields an event shares with the
// binding just before it, and the domain, transport, local address and User-Agent shared by
// a whole batch, are written and decoded once. Failures use the same slots for the same
// things (source, transport, username, User-Agent): a flood from one source repeats them all.

import {
  EVENT_TYPES,
  FAILURE_REASONS,
  type BindingRecord,
  type EventType,
  type FailureReason,
  type FailureRecord,
  type RegistrationEvent,
  type StoreOp,
} from './store.js';

const VERSION = 1;

const OP_PUT_BINDING = 1;
const OP_DELETE_BINDING = 2;
const OP_EVENT = 3;
const OP_FAILURE = 4;

const NULL_LENGTH = 0xffff_ffff;
const REPEAT_LENGTH = 0xffff_fffe;

/** String slots, shared by bindings and events where the value is the same thing. */
const S_AOR = 0;
const S_USERNAME = 1;
const S_DOMAIN = 2;
const S_CONTACT = 3;
const S_INSTANCE = 4;
const S_CALL_ID = 5;
const S_SOURCE_ADDRESS = 6;
const S_TRANSPORT = 7;
const S_LOCAL_ADDRESS = 8;
const S_USER_AGENT = 9;
const S_PATH = 10;
const S_REASON = 11;
const S_DETAIL = 12;
const STRING_SLOTS = 13;
const B_REQUEST = 0;
const B_RESPONSE = 1;
const BYTES_SLOTS = 2;

/** Shorter ASCII strings are copied by a JS loop: cheaper than a call into C++. */
const SHORT_STRING = 24;

const EVENT_TYPE_CODES: ReadonlyMap<string, number> = new Map(EVENT_TYPES.map((type, i) => [type, i]));
const FAILURE_REASON_CODES: ReadonlyMap<string, number> = new Map(FAILURE_REASONS.map((reason, i) => [reason, i]));

const INITIAL_CAPACITY = 256 * 1024;

/**
 * Encodes batches into ArrayBuffers meant to be transferred to another thread. Each batch
 * gets an ArrayBuffer of its own (never a slab of Node's shared Buffer pool, which cannot be
 * transferred); once the other side is done with one it can be handed back with recycle().
 */
export class StoreOpEncoder {
  #spare: ArrayBuffer | null = null;
  #bytes: Buffer = EMPTY;
  #view: DataView = EMPTY_VIEW;
  /** #bytes.byteLength, kept as a plain number: the getter is a call on the hot path. */
  #capacity = 0;
  #pos = 0;
  readonly #strings: (string | null | undefined)[] = new Array<string | null | undefined>(STRING_SLOTS);
  readonly #blobs: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(BYTES_SLOTS);

  /**
   * Encodes `ops`. The result's `buffer` is the encoder's no longer: transfer it, or give it
   * back with recycle(). Throws on an op it does not know.
   */
  encode(ops: readonly StoreOp[]): { buffer: ArrayBuffer; length: number } {
    const spare = this.#spare;
    this.#spare = null;
    this.#reset(spare ?? new ArrayBuffer(INITIAL_CAPACITY));
    try {
      this.#bytes[this.#pos++] = VERSION;
      for (let i = 0; i < ops.length; i++) this.#op(ops[i]!);
    } catch (err) {
      this.#spare = this.#bytes.buffer as ArrayBuffer;
      throw err;
    } finally {
      this.#strings.fill(undefined);
      this.#blobs.fill(undefined);
    }
    const result = { buffer: this.#bytes.buffer as ArrayBuffer, length: this.#pos };
    this.#bytes = EMPTY;
    this.#view = EMPTY_VIEW;
    this.#capacity = 0;
    return result;
  }

  /** Hands back a buffer returned by encode() once nothing reads it any more. */
  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0) return; // detached
    if (this.#spare === null || this.#spare.byteLength < buffer.byteLength) this.#spare = buffer;
  }

  #reset(buffer: ArrayBuffer): void {
    this.#bytes = Buffer.from(buffer);
    this.#view = new DataView(buffer);
    this.#capacity = buffer.byteLength;
    this.#pos = 0;
  }

  #op(op: StoreOp): void {
    switch (op.op) {
      case 'put-binding':
        this.#ensure(1);
        this.#bytes[this.#pos++] = OP_PUT_BINDING;
        this.#binding(op.binding);
        this.#blob(B_REQUEST, op.lastRequest);
        this.#blob(B_RESPONSE, op.lastResponse);
        return;
      case 'delete-binding':
        this.#ensure(1);
        this.#bytes[this.#pos++] = OP_DELETE_BINDING;
        this.#number(op.id);
        return;
      case 'event':
        this.#ensure(1);
        this.#bytes[this.#pos++] = OP_EVENT;
        this.#event(op.event);
        return;
      case 'failure':
        this.#ensure(1);
        this.#bytes[this.#pos++] = OP_FAILURE;
        this.#failure(op.failure);
        return;
      default:
        throw new Error(`unknown store op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }

  // Comparing strings costs a call when they are not the same object, so only values that
  // are likely to repeat are compared: the ones shared by a batch, and an event's fields
  // (usually the very strings of the binding before it). The binding's own identity fields
  // are written without comparing, but still remembered for the event that follows.
  #binding(b: BindingRecord): void {
    this.#number(b.id);
    this.#stringFresh(S_AOR, b.aor);
    this.#stringFresh(S_USERNAME, b.username);
    this.#string(S_DOMAIN, b.domain);
    this.#stringFresh(S_CONTACT, b.contact);
    this.#string(S_INSTANCE, b.instance);
    this.#number(b.regId);
    this.#number(b.q);
    this.#stringFresh(S_CALL_ID, b.callId);
    this.#number(b.cseq);
    this.#number(b.expires);
    this.#number(b.expiresAt);
    this.#number(b.registeredAt);
    this.#number(b.refreshedAt);
    this.#stringFresh(S_SOURCE_ADDRESS, b.sourceAddress);
    this.#number(b.sourcePort);
    this.#string(S_TRANSPORT, b.transport);
    this.#string(S_LOCAL_ADDRESS, b.localAddress);
    this.#number(b.localPort);
    this.#string(S_USER_AGENT, b.userAgent);
    const path = b.path;
    this.#number(path.length);
    for (let i = 0; i < path.length; i++) this.#string(S_PATH, path[i]);
    this.#number(b.nat ? 1 : 0);
  }

  #event(e: RegistrationEvent): void {
    const type = EVENT_TYPE_CODES.get(e.type);
    if (type === undefined) throw new Error(`unknown event type ${JSON.stringify(e.type)}`);
    this.#number(e.time);
    this.#ensure(1);
    this.#bytes[this.#pos++] = type;
    this.#string(S_AOR, e.aor);
    this.#string(S_CONTACT, e.contact);
    this.#number(e.bindingId);
    this.#string(S_SOURCE_ADDRESS, e.sourceAddress);
    this.#number(e.sourcePort);
    this.#string(S_TRANSPORT, e.transport);
    this.#string(S_USER_AGENT, e.userAgent);
    this.#string(S_REASON, e.reason);
  }

  #failure(f: FailureRecord): void {
    const reason = FAILURE_REASON_CODES.get(f.reason);
    if (reason === undefined) throw new Error(`unknown failure reason ${JSON.stringify(f.reason)}`);
    this.#number(f.time);
    this.#ensure(1);
    this.#bytes[this.#pos++] = reason;
    this.#string(S_SOURCE_ADDRESS, f.sourceAddress);
    this.#number(f.sourcePort);
    this.#string(S_TRANSPORT, f.transport);
    this.#string(S_USERNAME, f.username);
    this.#string(S_USER_AGENT, f.userAgent);
    this.#string(S_DETAIL, f.detail);
    this.#number(f.count);
  }

  #number(value: number | null | undefined): void {
    this.#ensure(9);
    if (value == null) {
      this.#bytes[this.#pos++] = 0;
    } else {
      this.#bytes[this.#pos] = 1;
      this.#view.setFloat64(this.#pos + 1, value, true);
      this.#pos += 9;
    }
  }

  /** A string, or REPEAT when it equals the last one of its slot. */
  #string(slot: number, value: string | null | undefined): void {
    if (value === this.#strings[slot]) {
      this.#ensure(4);
      this.#view.setUint32(this.#pos, REPEAT_LENGTH, true);
      this.#pos += 4;
      return;
    }
    this.#stringFresh(slot, value);
  }

  /** A string written without comparing; it becomes what later values of its slot repeat. */
  #stringFresh(slot: number, value: string | null | undefined): void {
    this.#strings[slot] = value;
    this.#write(value);
  }

  #write(value: string | null | undefined): void {
    if (value == null) {
      this.#ensure(4);
      this.#view.setUint32(this.#pos, NULL_LENGTH, true);
      this.#pos += 4;
      return;
    }
    const length = value.length;
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.#ensure(4 + 3 * length);
    const bytes = this.#bytes;
    const start = this.#pos + 4;
    let written = -1;
    if (length <= SHORT_STRING) {
      written = length;
      for (let i = 0; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          written = -1;
          break;
        }
        bytes[start + i] = c;
      }
    }
    if (written < 0) written = (bytes as NativeBuffer).utf8Write(value, start, this.#capacity - start);
    this.#view.setUint32(this.#pos, written, true);
    this.#pos = start + written;
  }

  #blob(slot: number, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`a put-binding's lastRequest and lastResponse must be Buffers, got ${typeof value}`);
    }
    if (value === this.#blobs[slot]) {
      this.#ensure(4);
      this.#view.setUint32(this.#pos, REPEAT_LENGTH, true);
      this.#pos += 4;
      return;
    }
    this.#blobs[slot] = value;
    const length = value.length;
    this.#ensure(4 + length);
    this.#view.setUint32(this.#pos, length, true);
    this.#bytes.set(value, this.#pos + 4);
    this.#pos += 4 + length;
  }

  #ensure(more: number): void {
    if (this.#pos + more > this.#capacity) this.#grow(this.#pos + more);
  }

  #grow(needed: number): void {
    const grown = Buffer.from(new ArrayBuffer(Math.max(needed, this.#capacity * 2, INITIAL_CAPACITY)));
    grown.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
    this.#capacity = grown.byteLength;
  }
}

const EMPTY = Buffer.from(new ArrayBuffer(0));
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/**
 * The unchecked string methods every Buffer has (Buffer#write and #toString check their
 * arguments, then call these) but @types/node does not declare.
 */
interface NativeBuffer extends Buffer {
  utf8Write(value: string, offset: number, length: number): number;
  utf8Slice(start: number, end: number): string;
}

/** Encodes `ops` into a Buffer of its own (tests, and callers that do not pool). */
export function encodeStoreOps(ops: readonly StoreOp[]): Buffer {
  const { buffer, length } = new StoreOpEncoder().encode(ops);
  return Buffer.from(buffer, 0, length);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NO_PATH: readonly string[] = Object.freeze([]);

/**
 * Walks an encoded batch op by op. The op that next() returns, and the objects inside it,
 * are reused for the next op of the same kind: use them before calling next() again. Its
 * lastRequest/lastResponse are views into the batch, valid as long as the batch is.
 */
export class StoreOpReader {
  readonly #bytes: Buffer;
  readonly #view: DataView;
  #pos: number;
  readonly #strings: (string | null)[] = new Array<string | null>(STRING_SLOTS).fill(null);
  readonly #blobs: (Buffer | null)[] = new Array<Buffer | null>(BYTES_SLOTS).fill(null);
  readonly #binding: Mutable<BindingRecord> = {
    id: 0,
    aor: '',
    username: '',
    domain: '',
    contact: '',
    instance: null,
    regId: null,
    q: null,
    callId: '',
    cseq: 0,
    expires: 0,
    expiresAt: 0,
    registeredAt: 0,
    refreshedAt: 0,
    sourceAddress: '',
    sourcePort: 0,
    transport: '',
    localAddress: '',
    localPort: 0,
    userAgent: null,
    path: NO_PATH,
    nat: false,
  };
  readonly #put: { op: 'put-binding'; binding: BindingRecord; lastRequest: Buffer; lastResponse: Buffer } = {
    op: 'put-binding',
    binding: this.#binding,
    lastRequest: Buffer.alloc(0),
    lastResponse: Buffer.alloc(0),
  };
  readonly #delete: { op: 'delete-binding'; id: number } = { op: 'delete-binding', id: 0 };
  readonly #eventRecord: Mutable<RegistrationEvent> = {
    time: 0,
    type: 'registered',
    aor: null,
    contact: null,
    bindingId: null,
    sourceAddress: null,
    sourcePort: null,
    transport: null,
    userAgent: null,
    reason: null,
  };
  readonly #event: { op: 'event'; event: RegistrationEvent } = { op: 'event', event: this.#eventRecord };
  readonly #failureRecord: Mutable<FailureRecord> = {
    time: 0,
    sourceAddress: '',
    sourcePort: 0,
    transport: '',
    username: null,
    userAgent: null,
    reason: 'wrong-password',
    detail: null,
    count: 1,
  };
  readonly #failure: { op: 'failure'; failure: FailureRecord } = { op: 'failure', failure: this.#failureRecord };

  constructor(batch: Buffer) {
    this.#bytes = batch;
    this.#view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    if (batch.byteLength === 0 || batch[0] !== VERSION) {
      throw new Error(`not a store op batch of version ${VERSION} (first byte ${batch[0] ?? 'missing'})`);
    }
    this.#pos = 1;
  }

  /** The next op, or null at the end of the batch. */
  next(): StoreOp | null {
    if (this.#pos >= this.#bytes.byteLength) return null;
    const kind = this.#bytes[this.#pos++];
    switch (kind) {
      case OP_PUT_BINDING: {
        this.#readBinding();
        const put = this.#put;
        put.lastRequest = this.#readBlob(B_REQUEST);
        put.lastResponse = this.#readBlob(B_RESPONSE);
        return put;
      }
      case OP_DELETE_BINDING:
        this.#delete.id = this.#readNumber() as number;
        return this.#delete;
      case OP_EVENT:
        this.#readEvent();
        return this.#event;
      case OP_FAILURE:
        this.#readFailure();
        return this.#failure;
      default:
        throw new Error(`corrupt store op batch: op kind ${kind} at byte ${this.#pos - 1}`);
    }
  }

  #readBinding(): void {
    // Non-null fields may still read as null (see the layout): SQLite's NOT NULL says so.
    const b = this.#binding as Record<keyof BindingRecord, unknown>;
    b.id = this.#readNumber();
    b.aor = this.#readString(S_AOR);
    b.username = this.#readString(S_USERNAME);
    b.domain = this.#readString(S_DOMAIN);
    b.contact = this.#readString(S_CONTACT);
    b.instance = this.#readString(S_INSTANCE);
    b.regId = this.#readNumber();
    b.q = this.#readNumber();
    b.callId = this.#readString(S_CALL_ID);
    b.cseq = this.#readNumber();
    b.expires = this.#readNumber();
    b.expiresAt = this.#readNumber();
    b.registeredAt = this.#readNumber();
    b.refreshedAt = this.#readNumber();
    b.sourceAddress = this.#readString(S_SOURCE_ADDRESS);
    b.sourcePort = this.#readNumber();
    b.transport = this.#readString(S_TRANSPORT);
    b.localAddress = this.#readString(S_LOCAL_ADDRESS);
    b.localPort = this.#readNumber();
    b.userAgent = this.#readString(S_USER_AGENT);
    const hops = this.#readNumber() as number;
    if (hops === 0) {
      b.path = NO_PATH;
    } else {
      const path: string[] = [];
      for (let i = 0; i < hops; i++) path.push(this.#readString(S_PATH) as string);
      b.path = path;
    }
    b.nat = this.#readNumber() === 1;
  }

  #readEvent(): void {
    const e = this.#eventRecord;
    e.time = this.#readNumber() as number;
    const type = EVENT_TYPES[this.#bytes[this.#pos++]!];
    if (type === undefined) throw new Error(`corrupt store op batch: event type at byte ${this.#pos - 1}`);
    e.type = type as EventType;
    e.aor = this.#readString(S_AOR);
    e.contact = this.#readString(S_CONTACT);
    e.bindingId = this.#readNumber();
    e.sourceAddress = this.#readString(S_SOURCE_ADDRESS);
    e.sourcePort = this.#readNumber();
    e.transport = this.#readString(S_TRANSPORT);
    e.userAgent = this.#readString(S_USER_AGENT);
    e.reason = this.#readString(S_REASON);
  }

  #readFailure(): void {
    // Non-null fields may still read as null (see the layout): SQLite's NOT NULL says so.
    const f = this.#failureRecord as Record<keyof FailureRecord, unknown>;
    f.time = this.#readNumber();
    const reason = FAILURE_REASONS[this.#bytes[this.#pos++]!];
    if (reason === undefined) throw new Error(`corrupt store op batch: failure reason at byte ${this.#pos - 1}`);
    f.reason = reason as FailureReason;
    f.sourceAddress = this.#readString(S_SOURCE_ADDRESS);
    f.sourcePort = this.#readNumber();
    f.transport = this.#readString(S_TRANSPORT);
    f.username = this.#readString(S_USERNAME);
    f.userAgent = this.#readString(S_USER_AGENT);
    f.detail = this.#readString(S_DETAIL);
    f.count = this.#readNumber();
  }

  #readNumber(): number | null {
    if (this.#bytes[this.#pos++] === 0) return null;
    const value = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return value;
  }

  #readString(slot: number): string | null {
    const length = this.#view.getUint32(this.#pos, true);
    const start = this.#pos + 4;
    if (length === REPEAT_LENGTH) {
      this.#pos = start;
      return this.#strings[slot]!;
    }
    if (length === NULL_LENGTH) {
      this.#pos = start;
      this.#strings[slot] = null;
      return null;
    }
    const end = start + length;
    if (end > this.#bytes.byteLength) throw new Error(`corrupt store op batch: string past the end at byte ${start}`);
    this.#pos = end;
    const value = (this.#bytes as NativeBuffer).utf8Slice(start, end);
    this.#strings[slot] = value;
    return value;
  }

  #readBlob(slot: number): Buffer {
    const length = this.#view.getUint32(this.#pos, true);
    const start = this.#pos + 4;
    if (length === REPEAT_LENGTH) {
      this.#pos = start;
      const last = this.#blobs[slot];
      if (last === null) throw new Error(`corrupt store op batch: nothing to repeat at byte ${start - 4}`);
      return last!;
    }
    const end = start + length;
    if (end > this.#bytes.byteLength) throw new Error(`corrupt store op batch: bytes past the end at byte ${start}`);
    this.#pos = end;
    const value = this.#bytes.subarray(start, end);
    this.#blobs[slot] = value;
    return value;
  }
}

/** Decodes a whole batch into fresh StoreOp objects (tests and diagnostics; the writer streams). */
export function decodeStoreOps(batch: Buffer): StoreOp[] {
  const reader = new StoreOpReader(batch);
  const ops: StoreOp[] = [];
  for (let op = reader.next(); op !== null; op = reader.next()) {
    switch (op.op) {
      case 'put-binding':
        ops.push({
          op: 'put-binding',
          binding: { ...op.binding, path: [...op.binding.path] },
          lastRequest: Buffer.from(op.lastRequest),
          lastResponse: Buffer.from(op.lastResponse),
        });
        break;
      case 'delete-binding':
        ops.push({ op: 'delete-binding', id: op.id });
        break;
      case 'event':
        ops.push({ op: 'event', event: { ...op.event } });
        break;
      case 'failure':
        ops.push({ op: 'failure', failure: { ...op.failure } });
        break;
    }
  }
  return ops;
}
