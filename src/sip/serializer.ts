// Messages to bytes: responses built from what the request gave (RFC 3261 §8.2.6.2), requests
// Rollcall originates, and any parsed message written back out. One string, one Buffer.

import type { SipMessage } from './message.js';
import { displayHeaderName } from './header-names.js';
import type { ResponseEcho } from './parse-error.js';

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Programmer error: a header value that would break the framing of the message. */
function checkValue(name: string, value: string): void {
  if (value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1) {
    throw new TypeError(`header ${name} holds a line break`);
  }
}

/**
 * Messages without a body are encoded into 64 KB chunks of our own rather than Node's 8 KB
 * pool: a fresh allocation every hundred responses instead of every fifteen, and no separate
 * pass to measure the UTF-8 length. A chunk is never written twice; it is freed when the
 * last message in it is.
 */
const CHUNK_BYTES = 64 * 1024;
let chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
let chunkUsed = 0;

function encode(text: string): Buffer {
  // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
  const most = text.length * 3;
  if (most > CHUNK_BYTES - chunkUsed) {
    if (most > CHUNK_BYTES) return Buffer.from(text, 'utf8');
    chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    chunkUsed = 0;
  }
  const start = chunkUsed;
  chunkUsed += chunk.write(text, start, 'utf8');
  return chunk.subarray(start, chunkUsed);
}

function withBody(head: string, body: Buffer | string | undefined): Buffer {
  if (body === undefined || body.length === 0) return encode(head + 'Content-Length: 0\r\n\r\n');
  if (typeof body === 'string') {
    return Buffer.from(`${head}Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`, 'utf8');
  }
  const text = `${head}Content-Length: ${body.length}\r\n\r\n`;
  const headLen = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(text, 0, 'utf8');
  body.copy(out, headLen);
  return out;
}

/**
 * A response to a request: status line, every Via (as received, in order), From, To (with
 * `;tag=toTag` when the request's To had no tag), Call-ID, CSeq, then `headers` in order,
 * then Content-Length (always) and the body. A Content-Length in `headers` is skipped.
 */
export function serializeResponse(
  echo: ResponseEcho,
  status: number,
  reason: string,
  headers: HeaderList,
  toTag: string | null,
  body?: Buffer | string,
): Buffer {
  checkValue('reason', reason);
  let out = `SIP/2.0 ${status} ${reason}\r\n`;
  const via = echo.via;
  for (let i = 0; i < via.length; i++) out += `Via: ${via[i]!.raw}\r\n`;
  out += echo.toTag === null && toTag !== null
    ? `From: ${echo.from}\r\nTo: ${echo.to};tag=${toTag}\r\nCall-ID: ${echo.callId}\r\nCSeq: ${echo.cseq}\r\n`
    : `From: ${echo.from}\r\nTo: ${echo.to}\r\nCall-ID: ${echo.callId}\r\nCSeq: ${echo.cseq}\r\n`;
  return withBody(out + headerLines(headers), body);
}

/** A request Rollcall originates (registration client, NOTIFY, OPTIONS pings). */
export function serializeRequest(method: string, uri: string, headers: HeaderList, body?: Buffer | string): Buffer {
  checkValue('Request-URI', uri);
  return withBody(`${method} ${uri} SIP/2.0\r\n${headerLines(headers)}`, body);
}

function headerLines(headers: HeaderList): string {
  let out = '';
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const name = h[0];
    const value = h[1];
    if (name.length === 14 && name.toLowerCase() === 'content-length') continue;
    checkValue(name, value);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

/**
 * Writes a parsed message back out: its start line, every header in order with its
 * conventional name (compact forms expanded, one header per line, folding gone), the body.
 * `parseMessage(serializeMessage(m), 'datagram')` is structurally equal to `m` except `raw`.
 * Content-Length is written as the message had it; one is added only if it had none and
 * `ensureContentLength` is set (for sending over a stream).
 */
export function serializeMessage(msg: SipMessage, ensureContentLength = false): Buffer {
  let out = msg.kind === 'request' ? `${msg.method} ${msg.uriText} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  let hasContentLength = false;
  for (const h of msg.headers) {
    if (h.name === 'content-length') hasContentLength = true;
    out += `${displayHeaderName(h.name)}: ${h.value}\r\n`;
  }
  if (!hasContentLength && ensureContentLength) out += `Content-Length: ${msg.body.length}\r\n`;
  out += '\r\n';
  const headLen = Buffer.byteLength(out, 'utf8');
  const buf = Buffer.allocUnsafe(headLen + msg.body.length);
  buf.write(out, 0, 'utf8');
  msg.body.copy(buf, headLen);
  return buf;
}
