// Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3: Content-Length frames them)
// and RFC 5626 §4.4.1 keep-alives (CRLFCRLF ping, CRLF pong). Pure: bytes in, events out;
// the transport answers pings and closes on errors. Memory stays below maxMessageSize.

import { findBodyStart } from './parser.js';

export type FramerEvent =
  | { readonly type: 'message'; readonly buf: Buffer }
  | { readonly type: 'ping' }
  | { readonly type: 'pong' }
  | {
      readonly type: 'error';
      readonly reason: string;
      readonly status: 400 | 513;
      /** The message's header section when it was read whole (so it can be answered, §18.3), else null. */
      readonly head: Buffer | null;
    };

const PING: FramerEvent = Object.freeze({ type: 'ping' });
const PONG: FramerEvent = Object.freeze({ type: 'pong' });
const EMPTY = Buffer.alloc(0);
/** Room for keep-alive bytes around a message of the maximum size. */
const SLACK = 4;
const MAX_CONTENT_LENGTH = 2147483647;

export class StreamFramer {
  private store: Buffer = EMPTY;
  /** Unconsumed bytes are store[head, len). */
  private head = 0;
  private len = 0;
  /** Where the search for the end of the header section resumes. */
  private scanFrom = 0;
  /** Size of the current message once its header section is complete, else -1. */
  private total = -1;
  private dead = false;

  constructor(
    readonly maxMessageSize: number,
    private readonly onEvent: (ev: FramerEvent) => void,
  ) {}

  /** True after an error: the stream cannot be framed any more and further bytes are ignored. */
  get failed(): boolean {
    return this.dead;
  }

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.len - this.head;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.dead) {
      if (this.head > 0) this.compact();
      const capacity = this.maxMessageSize + SLACK;
      const room = capacity - this.len;
      if (room <= 0) return this.fail('message larger than the maximum message size', 513);
      const n = Math.min(room, chunk.length - off);
      this.reserve(this.len + n, capacity);
      chunk.copy(this.store, this.len, off, off + n);
      this.len += n;
      off += n;
      this.drain();
    }
  }

  /**
   * Reports a lone CRLF still held (it might have been the first half of a CRLFCRLF ping) as
   * a pong. A client flow that waits for pongs calls this once its pending reads are done.
   */
  flush(): void {
    if (this.dead || this.len - this.head !== 2) return;
    if (this.store[this.head] === 13 && this.store[this.head + 1] === 10) {
      this.head = this.len = this.scanFrom = 0;
      this.onEvent(PONG);
    }
  }

  private fail(reason: string, status: 400 | 513, head: Buffer | null = null): void {
    this.dead = true;
    this.store = EMPTY;
    this.head = this.len = 0;
    this.onEvent({ type: 'error', reason, status, head });
  }

  private compact(): void {
    const { head, len } = this;
    if (len > head) this.store.copy(this.store, 0, head, len);
    this.len = len - head;
    this.scanFrom = Math.max(0, this.scanFrom - head);
    this.head = 0;
  }

  private reserve(size: number, capacity: number): void {
    if (size <= this.store.length) return;
    const next = Buffer.allocUnsafe(Math.min(capacity, Math.max(size, this.store.length * 2, 2048)));
    this.store.copy(next, 0, 0, this.len);
    this.store = next;
  }

  /** Delivers every complete message and keep-alive held, in order. */
  private drain(): void {
    const store = this.store;
    while (!this.dead) {
      const head = this.head;
      const len = this.len;
      if (head >= len) {
        this.head = this.len = this.scanFrom = 0;
        // Give a large buffer back once a big message is through; idle flows stay small.
        if (this.store.length > 16384) this.store = EMPTY;
        return;
      }
      if (this.total === -1) {
        if (this.scanFrom <= head) {
          // Between messages: keep-alives and stray line breaks (RFC 3261 §7.5, RFC 5626 §4.4.1).
          const b0 = store[head];
          if (b0 === 10) {
            this.head = head + 1;
            continue;
          }
          if (b0 === 13) {
            if (head + 1 >= len) return;
            if (store[head + 1] !== 10) {
              this.head = head + 1;
              continue;
            }
            if (head + 2 >= len) return; // a lone CRLF so far: pong, or half a ping
            if (store[head + 2] === 13) {
              if (head + 3 >= len) return;
              if (store[head + 3] === 10) {
                this.head = head + 4;
                this.onEvent(PING);
                continue;
              }
            }
            this.head = head + 2;
            this.onEvent(PONG);
            continue;
          }
          this.scanFrom = head;
        }
        const bodyStart = findBodyStart(store, this.scanFrom, len);
        if (bodyStart === -1) {
          if (len - head >= this.maxMessageSize) return this.fail('header section larger than the maximum message size', 513);
          this.scanFrom = Math.max(head + 1, len - 2);
          return;
        }
        const textEnd = store[bodyStart - 2] === 13 ? bodyStart - 2 : bodyStart - 1;
        const cl = contentLengthOf(store, head, textEnd);
        if (cl < 0 || bodyStart - head + cl > this.maxMessageSize) {
          // The header section is whole: handed up (a copy) so the request can be answered.
          const section = Buffer.from(store.subarray(head, bodyStart));
          if (cl === -1) return this.fail('missing Content-Length (mandatory on stream transports)', 400, section);
          if (cl === -2) return this.fail('malformed Content-Length header', 400, section);
          if (cl === -3) return this.fail('more than one Content-Length header', 400, section);
          return this.fail(`message of ${bodyStart - head + cl} bytes larger than the maximum message size`, 513, section);
        }
        const total = bodyStart - head + cl;
        this.total = total;
      }
      if (len - head < this.total) return;
      const msg = Buffer.allocUnsafe(this.total);
      store.copy(msg, 0, head, head + this.total);
      this.head = head + this.total;
      this.scanFrom = this.head;
      this.total = -1;
      this.onEvent({ type: 'message', buf: msg });
    }
  }
}

const CONTENT_LENGTH = 'content-length';

/**
 * The Content-Length of the header section buf[start, end): the value, -1 when absent, -2
 * when malformed or out of range, -3 when given twice (compact `l` included, folding allowed).
 */
export function contentLengthOf(buf: Buffer, start: number, end: number): number {
  let found = -1;
  let line = buf.indexOf(10, start);
  while (line !== -1 && line < end) {
    const p = line + 1;
    if (p >= end) break;
    const nameEnd = contentLengthNameEnd(buf, p, end);
    if (nameEnd !== -1) {
      if (found !== -1) return -3;
      found = contentLengthValue(buf, nameEnd, end);
      if (found < 0) return -2;
    }
    line = buf.indexOf(10, p);
  }
  return found;
}

/** When a header line starting at p is Content-Length (any case, or `l`): the index after its colon. */
function contentLengthNameEnd(buf: Buffer, p: number, end: number): number {
  let i = p;
  const b0 = buf[p]! | 32;
  if (b0 === 108 /* l */) {
    i = p + 1;
  } else if (b0 === 99 /* c */) {
    if (p + CONTENT_LENGTH.length > end) return -1;
    for (let k = 0; k < CONTENT_LENGTH.length; k++) {
      if ((buf[p + k]! | 32) !== CONTENT_LENGTH.charCodeAt(k)) return -1;
    }
    i = p + CONTENT_LENGTH.length;
  } else {
    return -1;
  }
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  return i < end && buf[i] === 58 ? i + 1 : -1;
}

/** Digits of a Content-Length value from i, across folded lines; -2 when anything else is there. */
function contentLengthValue(buf: Buffer, i: number, end: number): number {
  let v = -1;
  let digitsDone = false;
  while (i < end) {
    const b = buf[i]!;
    if (b >= 48 && b <= 57) {
      if (digitsDone) return -2;
      v = (v === -1 ? 0 : v * 10) + (b - 48);
      if (v > MAX_CONTENT_LENGTH) return -2;
    } else if (b === 32 || b === 9) {
      if (v !== -1) digitsDone = true;
    } else if (b === 13 || b === 10) {
      // End of line: the value continues only on a folded line.
      if (b === 13 && buf[i + 1] !== 10) return -2;
      const j = b === 13 ? i + 2 : i + 1;
      if (j < end && (buf[j] === 32 || buf[j] === 9)) {
        if (v !== -1) digitsDone = true;
        i = j;
        continue;
      }
      break;
    } else {
      return -2;
    }
    i++;
  }
  return v === -1 ? -2 : v;
}
