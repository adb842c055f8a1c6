// The SIP message parser (RFC 3261 §7, §20, §25; RFC 4475 for what a hostile network sends):
// bytes → a typed SipMessage, once, or a SipParseError saying how to answer. It never throws.
//
// The hot path: the header section is decoded once (UTF-8, so display names survive) and
// walked with indexOf/charCodeAt; each header value is a slice of that one string, typed
// fields are parsed as the header is met, and a broken message costs no exception.

import type {
  AuthValue, CSeq, HeaderField, NameAddr, SipMessage, SipRequest, SipResponse, Uri, Via,
} from './message.js';
import { getParam } from './message.js';
import { parseAuthValue } from './auth-header.js';
import { expandCompactForm } from './header-names.js';
import { BACKSLASH, CR, HT, SP, Vocabulary, isTokenRange, lowerSlice, parseDigits, skipWs, startScanning, trimWsEnd } from './lexical.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import { parseError, type ResponseEcho, type SipParseError } from './parse-error.js';
import { parseUriRange } from './uri.js';
import { parseViaList } from './via.js';

export type Framing = 'datagram' | 'stream';

export interface ParseOptions {
  /** Larger messages get 513 Message Too Large. Default 65535 (the largest UDP payload). */
  readonly maxMessageSize?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65535;

/**
 * Parses exactly one SIP message from `buf`. On 'stream' the buffer must hold exactly one
 * message (the StreamFramer cut it) and Content-Length is mandatory; on 'datagram' a missing
 * Content-Length means "the rest of the datagram" and bytes after the declared body are
 * ignored (RFC 3261 §18.3).
 */
export function parseMessage(buf: Buffer, transport: Framing, options?: ParseOptions): SipMessage | SipParseError {
  try {
    return parse(buf, transport, options?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
  } catch {
    // Last resort: nothing below is meant to throw; if it does, the message is dropped.
    return parseError('unparseable message', 400, null);
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Offset just after the empty line that ends the header section of the message starting at
 * or before `from` (the first LF followed by LF or CRLF), or -1 when `buf[..end)` holds none.
 * Bare LF line ends are tolerated.
 */
export function findBodyStart(buf: Buffer, from: number, end: number): number {
  let p = from;
  for (;;) {
    const nl = buf.indexOf(10, p);
    if (nl === -1 || nl >= end) return -1;
    const n1 = nl + 1;
    if (n1 < end) {
      const b = buf[n1];
      if (b === 10) return n1 + 1;
      if (b === 13 && n1 + 1 < end && buf[n1 + 1] === 10) return n1 + 2;
    }
    p = n1;
  }
}

/**
 * The common datagram: a header section without a body, the empty line at its very end.
 * Taking that as the end of the section saves searching for it; an earlier empty line (a
 * body after all) is met by MessageBuilder.run, which then makes parse look properly.
 */
function endsWithEmptyLine(buf: Buffer, len: number): boolean {
  return len >= 4 && buf[len - 1] === 10 && buf[len - 2] === 13 && buf[len - 3] === 10 && buf[len - 4] === 13;
}

/** Where the text of the header section ends, given the body offset found by findBodyStart. */
function textEndOf(buf: Buffer, bodyStart: number): number {
  return buf[bodyStart - 2] === 13 ? bodyStart - 2 : bodyStart - 1;
}

function parse(buf: Buffer, transport: Framing, maxSize: number): SipMessage | SipParseError {
  const len = buf.length;
  let start = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  while (start < len && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= len) return parseError(len === 0 ? 'empty message' : 'no message, only line breaks', 400, null);

  let bodyStart: number;
  let textEnd: number;
  let unterminated = false;
  const k = endsWithEmptyLine(buf, len) && len - start <= maxSize ? len - 4 : buf.indexOf(CRLFCRLF, start);
  if (k !== -1) {
    textEnd = k;
    bodyStart = k + 4;
  } else {
    bodyStart = findBodyStart(buf, start, len);
    if (bodyStart !== -1) {
      textEnd = textEndOf(buf, bodyStart);
    } else {
      // No empty line. A datagram can still hold a complete header section (RFC 4475
      // baddn ends right after its last header line); anything else is truncated.
      textEnd = len;
      bodyStart = len;
      unterminated = transport === 'stream' || buf[len - 1] !== 10;
    }
  }
  if (textEnd - start > maxSize) return parseError(`header section larger than ${maxSize} bytes`, 513, null);

  let p = new MessageBuilder(headerText(buf, start, textEnd));
  // Errors of the whole message come first; the headers are still read for the echo.
  if (len - start > maxSize) p.fail(`message larger than ${maxSize} bytes`, 513);
  if (unterminated) p.fail('truncated message: the header section has no end', 400);
  if (!p.run()) {
    // An empty line inside the text: the header section ended before the first CRLFCRLF
    // (bare LF line ends). Find the real end on the bytes and start over.
    bodyStart = findBodyStart(buf, start, len);
    if (bodyStart === -1) return parseError('malformed header section', 400, null);
    textEnd = textEndOf(buf, bodyStart);
    p = new MessageBuilder(headerText(buf, start, textEnd));
    if (len - start > maxSize) p.fail(`message larger than ${maxSize} bytes`, 513);
    if (!p.run()) return parseError('malformed header section', 400, null);
  }

  // Framing (RFC 3261 §18.3).
  const available = len - bodyStart;
  let bodyLen = available;
  const cl = p.contentLength;
  if (cl === -1) {
    if (transport === 'stream') p.fail('missing Content-Length (mandatory on stream transports)', 400);
  } else if (cl > available) {
    p.fail(`Content-Length ${cl} exceeds the ${available} body bytes received`, 400);
  } else if (cl < available && transport === 'stream') {
    p.fail('bytes after the body declared by Content-Length', 400);
  } else {
    bodyLen = cl;
  }
  if (p.errorReason !== null) return parseError(p.errorReason, p.errorStatus, p.echo());
  const msgEnd = bodyStart + bodyLen;
  // The common datagram is exactly one message without a body: no views to create.
  const raw = start === 0 && msgEnd === len ? buf : buf.subarray(start, msgEnd);
  return p.build(raw, bodyLen === 0 ? NO_BODY : buf.subarray(bodyStart, msgEnd));
}

/** The header section as text (UTF-8, so display names survive). */
function headerText(buf: Buffer, start: number, end: number): string {
  // No encoding name means UTF-8, and spares looking the name up for every message.
  return buf.toString(undefined, start, end);
}

/** The body of every message without one (a zero-length view is all a subarray would be). */
const NO_BODY = Buffer.alloc(0);

const enum H {
  Other, Via, From, To, CallId, CSeq, MaxForwards, ContentLength, Contact, Expires,
  Require, ProxyRequire, Supported, Authorization, Path, UserAgent, WwwAuthenticate, ProxyAuthenticate,
}

interface KnownHeader {
  readonly name: string;
  readonly code: H;
}

/**
 * Headers worth recognising without allocating: found in place, ignoring the case of
 * letters, long or compact form. The typed ones, and the common untyped ones so that their
 * HeaderField shares one name string instead of a fresh lowercased copy.
 */
const KNOWN_HEADERS = new Map<string, KnownHeader>();
{
  const typed: Array<[string, H]> = [
    ['via', H.Via], ['from', H.From], ['to', H.To], ['call-id', H.CallId], ['cseq', H.CSeq],
    ['max-forwards', H.MaxForwards], ['content-length', H.ContentLength], ['contact', H.Contact],
    ['expires', H.Expires], ['require', H.Require], ['proxy-require', H.ProxyRequire],
    ['supported', H.Supported], ['authorization', H.Authorization], ['path', H.Path],
    ['user-agent', H.UserAgent], ['www-authenticate', H.WwwAuthenticate],
    ['proxy-authenticate', H.ProxyAuthenticate],
  ];
  const untyped = [
    'allow', 'content-type', 'allow-events', 'event', 'accept', 'server', 'route', 'record-route',
    'date', 'subject', 'proxy-authorization', 'authentication-info', 'min-expires', 'call-info',
    'accept-language', 'accept-encoding', 'content-encoding', 'p-preferred-identity',
    'p-asserted-identity', 'session-expires', 'timestamp', 'organization', 'warning',
    'refer-to', 'referred-by', 'accept-contact', 'reject-contact', 'request-disposition',
    'identity', 'identity-info',
  ];
  for (const [name, code] of typed) KNOWN_HEADERS.set(name, { name, code });
  for (const name of untyped) KNOWN_HEADERS.set(name, { name, code: H.Other });
  for (const letter of 'vftmilkscoeurbxajdyn') {
    const long = expandCompactForm(letter);
    KNOWN_HEADERS.set(letter, KNOWN_HEADERS.get(long) ?? { name: long, code: H.Other });
  }
}
const KNOWN_HEADER_NAMES = new Vocabulary([...KNOWN_HEADERS.keys()]);
/** KNOWN_HEADERS in the order of KNOWN_HEADER_NAMES. */
const KNOWN_HEADER_LIST: readonly KnownHeader[] = [...KNOWN_HEADERS.values()];

function knownHeader(s: string, a: number, b: number): KnownHeader | undefined {
  const i = KNOWN_HEADER_NAMES.indexOf(s, a, b);
  return i === -1 ? undefined : KNOWN_HEADER_LIST[i];
}

/**
 * Methods of RFC 3261 and its extensions, recognised in place (method names are
 * case-sensitive) so that a request carries the shared string rather than a slice.
 */
const METHODS = [
  'REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH',
  'INFO', 'REFER', 'MESSAGE', 'UPDATE', 'PRACK',
];

/** The known method spelled exactly `s[a, b)`, or ''. */
function knownMethod(s: string, a: number, b: number): string {
  const n = b - a;
  for (let i = 0; i < METHODS.length; i++) {
    const m = METHODS[i]!;
    if (m.length === n && s.startsWith(m, a)) return m;
  }
  return '';
}

const MAX_CSEQ = 4294967295;
const MAX_CONTENT_LENGTH = 2147483647;
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_AUTH: readonly AuthValue[] = Object.freeze([]);
const NO_NAME_ADDRS: readonly NameAddr[] = Object.freeze([]);

/** One parse of one header section: the typed fields as they are met, and the first error. */
class MessageBuilder {
  readonly s: string;
  errorReason: string | null = null;
  errorStatus: SipParseError['status'] = 400;
  isRequest = true;
  method: string | null = null;
  uri: Uri | null = null;
  uriText = '';
  status = 0;
  reason = '';
  hasNul = false;
  readonly headers: HeaderField[] = [];
  readonly via: Via[] = [];
  viaBroken = false;
  from: NameAddr | null = null;
  fromRaw: string | null = null;
  to: NameAddr | null = null;
  toRaw: string | null = null;
  callId: string | null = null;
  cseq: CSeq | null = null;
  cseqRaw: string | null = null;
  maxForwards: number | null = null;
  contentLength = -1;
  contentLengthSeen = false;
  expires: number | null = null;
  expiresSeen = false;
  contact: NameAddr[] | null = null;
  contactStar = false;
  require = NO_STRINGS;
  proxyRequire = NO_STRINGS;
  supported = NO_STRINGS;
  authorization = NO_AUTH;
  wwwAuthenticate = NO_AUTH;
  proxyAuthenticate = NO_AUTH;
  path = NO_NAME_ADDRS;
  userAgent: string | null = null;

  constructor(s: string) {
    this.s = s;
    startScanning(s);
  }

  fail(reason: string, status: SipParseError['status'] = 400): void {
    if (this.errorReason === null) {
      this.errorReason = reason;
      this.errorStatus = status;
    }
  }

  /** Walks the start line and the header lines. False when an empty line shows up inside. */
  run(): boolean {
    const s = this.s;
    const n = s.length;
    let z = s.indexOf('\u0000');
    while (z !== -1) {
      // NUL is legal only as a quoted-pair inside a quoted-string (RFC 4475 intmeth).
      if (z === 0 || s.charCodeAt(z - 1) !== BACKSLASH) {
        this.hasNul = true;
        this.fail('NUL byte in the header section');
        break;
      }
      z = s.indexOf('\u0000', z + 1);
    }
    let nl = s.indexOf('\n');
    let lineEnd = nl === -1 ? n : nl;
    let le = lineEnd > 0 && s.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
    this.startLine(le);

    let name: string | null = null;
    let code = H.Other;
    let valueStart = 0;
    let valueEnd = 0;
    let folded: string | null = null;
    let pos = lineEnd + 1;
    while (pos < n) {
      nl = s.indexOf('\n', pos);
      lineEnd = nl === -1 ? n : nl;
      le = lineEnd > pos && s.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      if (le === pos) return false;
      const c0 = s.charCodeAt(pos);
      if (c0 === SP || c0 === HT) {
        // Folding: CRLF + WSP continues the header, all of it one SP (RFC 3261 §7.3.1).
        if (name === null) {
          this.fail('folded line without a header to continue');
        } else {
          const a = skipWs(s, pos, le);
          const b = trimWsEnd(s, a, le);
          if (b > a) {
            const prev: string = folded ?? s.slice(valueStart, valueEnd);
            folded = prev.length === 0 ? s.slice(a, b) : `${prev} ${s.slice(a, b)}`;
          }
        }
      } else {
        if (name !== null) {
          if (folded === null) this.header(name, code, s, valueStart, valueEnd);
          else this.header(name, code, folded, 0, folded.length);
        }
        name = null;
        folded = null;
        // header-name HCOLON: the name, optional SP/HT, then ':'.
        const colon = s.indexOf(':', pos);
        const nameEnd = colon === -1 || colon >= le ? pos : trimWsEnd(s, pos, colon);
        const known = nameEnd > pos ? knownHeader(s, pos, nameEnd) : undefined;
        if (known === undefined && !isTokenRange(s, pos, nameEnd)) {
          this.fail('malformed header line');
        } else {
          if (known === undefined) {
            name = expandCompactForm(s.slice(pos, nameEnd).toLowerCase());
            code = H.Other;
          } else {
            name = known.name;
            code = known.code;
          }
          valueStart = skipWs(s, colon + 1, le);
          valueEnd = trimWsEnd(s, valueStart, le);
        }
      }
      pos = lineEnd + 1;
    }
    if (name !== null) {
      if (folded === null) this.header(name, code, s, valueStart, valueEnd);
      else this.header(name, code, folded, 0, folded.length);
    }
    this.finish();
    return true;
  }

  private startLine(le: number): void {
    const s = this.s;
    if (le >= 4 && (s.charCodeAt(0) | 32) === 115 && (s.charCodeAt(1) | 32) === 105 && (s.charCodeAt(2) | 32) === 112 && s.charCodeAt(3) === 47) {
      // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
      this.isRequest = false;
      const sp = s.indexOf(' ');
      if (sp === -1 || sp >= le) return this.fail('malformed status line');
      if (!isSip20(s, 0, sp)) return this.fail('unsupported SIP version', looksLikeVersion(s, 0, sp) ? 505 : 400);
      const codeEnd = sp + 4;
      if (codeEnd > le || (codeEnd < le && s.charCodeAt(codeEnd) !== SP)) return this.fail('malformed status code');
      const status = parseDigits(s, sp + 1, codeEnd, 999);
      if (status < 100 || status > 699) return this.fail('status code out of range');
      this.status = status;
      this.reason = codeEnd < le ? s.slice(codeEnd + 1, le) : '';
      return;
    }
    // Request-Line = Method SP Request-URI SP SIP-Version
    const sp1 = s.indexOf(' ');
    if (sp1 <= 0 || sp1 >= le) return this.fail('malformed request line');
    const method = knownMethod(s, 0, sp1);
    if (method === '' && !isTokenRange(s, 0, sp1)) return this.fail('malformed request line');
    this.method = method === '' ? s.slice(0, sp1) : method;
    // The version is the last word: ` SIP/2.0` at the end of the line, looked at in place.
    const sp2 = le - 8 > sp1 && s.charCodeAt(le - 8) === SP && isSip20(s, le - 7, le) ? le - 8 : s.lastIndexOf(' ', le - 1);
    if (sp2 <= sp1) return this.fail('malformed request line');
    if (!isSip20(s, sp2 + 1, le)) {
      if (looksLikeVersion(s, sp2 + 1, le)) return this.fail('unsupported SIP version', 505);
      return this.fail(sp2 === le - 1 ? 'whitespace at the end of the request line' : 'malformed request line');
    }
    for (let i = sp1 + 1; i < sp2; i++) {
      const c = s.charCodeAt(i);
      if (c === SP || c === HT) return this.fail('whitespace in the Request-URI');
    }
    const uri = parseUriRange(s, sp1 + 1, sp2);
    if (uri === null) return this.fail('malformed Request-URI');
    // RFC 3261 §19.1.1: URI headers are not allowed in a Request-URI (RFC 4475 escruri).
    if ((uri.scheme === 'sip' || uri.scheme === 'sips') && 'headers' in uri && uri.headers.length > 0) {
      return this.fail('headers in the Request-URI');
    }
    this.uri = uri;
    this.uriText = s.slice(sp1 + 1, sp2);
  }

  /**
   * One complete header: its value is `src[a, b)`, where `src` is the header section itself
   * or, for a folded header, the unfolded value. Typed parsers work on the range so that
   * they read the flat section string rather than a slice of it.
   */
  private header(name: string, code: H, src: string, a: number, b: number): void {
    const value = a === 0 && b === src.length ? src : src.slice(a, b);
    this.headers.push({ name, value });
    switch (code) {
      case H.Other:
        return;
      case H.Via:
        if (!parseViaList(src, this.via, a, b, false, value)) {
          this.viaBroken = true;
          this.fail('malformed Via header');
        }
        return;
      case H.From:
        if (this.fromRaw !== null) return this.fail('more than one From header');
        this.fromRaw = value;
        this.from = parseNameAddr(src, a, b, value);
        if (this.from === null) this.fail('malformed From header');
        return;
      case H.To:
        if (this.toRaw !== null) return this.fail('more than one To header');
        this.toRaw = value;
        this.to = parseNameAddr(src, a, b, value);
        if (this.to === null) this.fail('malformed To header');
        return;
      case H.CallId:
        if (this.callId !== null) return this.fail('more than one Call-ID header');
        this.callId = value;
        if (!isCallId(src, a, b)) this.fail('malformed Call-ID header');
        return;
      case H.CSeq:
        if (this.cseqRaw !== null) return this.fail('more than one CSeq header');
        this.cseqRaw = value;
        this.cseq = this.parseCSeq(src, a, b);
        return;
      case H.MaxForwards: {
        if (this.maxForwards !== null) return this.fail('more than one Max-Forwards header');
        const v = parseDigits(src, a, b, 255);
        if (v === -2) return this.fail('Max-Forwards above 255');
        if (v < 0) return this.fail('malformed Max-Forwards header');
        this.maxForwards = v;
        return;
      }
      case H.ContentLength: {
        if (this.contentLengthSeen) return this.fail('more than one Content-Length header');
        this.contentLengthSeen = true;
        const v = parseDigits(src, a, b, MAX_CONTENT_LENGTH);
        if (v === -2) return this.fail('Content-Length out of range');
        if (v < 0) return this.fail('malformed Content-Length header');
        this.contentLength = v;
        return;
      }
      case H.Expires: {
        if (this.expiresSeen) return this.fail('more than one Expires header');
        this.expiresSeen = true;
        const v = parseDigits(src, a, b, MAX_CSEQ);
        if (v === -1) return this.fail('malformed Expires header');
        // Above 2**32-1: RFC 4475 scalar02 allows treating it as the largest value.
        this.expires = v === -2 ? MAX_CSEQ : v;
        return;
      }
      case H.Contact:
        if (b - a === 1 && src.charCodeAt(a) === 42) {
          if (this.contactStar || this.contact !== null) return this.fail('Contact: * mixed with other contacts');
          this.contactStar = true;
          return;
        }
        if (this.contactStar) return this.fail('Contact: * mixed with other contacts');
        if (this.contact === null) this.contact = [];
        if (!parseNameAddrList(src, this.contact, a, b, value)) this.fail('malformed Contact header');
        return;
      case H.Require:
        this.require = this.optionTags(this.require, src, a, b, 'Require');
        return;
      case H.ProxyRequire:
        this.proxyRequire = this.optionTags(this.proxyRequire, src, a, b, 'Proxy-Require');
        return;
      case H.Supported:
        this.supported = this.optionTags(this.supported, src, a, b, 'Supported');
        return;
      case H.Authorization:
        if (this.isRequest) this.authorization = this.auth(this.authorization, src, a, b, value, 'Authorization');
        return;
      case H.WwwAuthenticate:
        if (!this.isRequest) this.wwwAuthenticate = this.auth(this.wwwAuthenticate, src, a, b, value, 'WWW-Authenticate');
        return;
      case H.ProxyAuthenticate:
        if (!this.isRequest) this.proxyAuthenticate = this.auth(this.proxyAuthenticate, src, a, b, value, 'Proxy-Authenticate');
        return;
      case H.Path: {
        const list = this.path === NO_NAME_ADDRS ? [] : (this.path as NameAddr[]);
        if (!parseNameAddrList(src, list, a, b, value)) return this.fail('malformed Path header');
        this.path = list;
        return;
      }
      case H.UserAgent:
        if (this.userAgent === null) this.userAgent = value;
        return;
    }
  }

  /** CSeq = 1*DIGIT LWS Method, the number below 2**32 (RFC 3261 §8.1.1.5). */
  private parseCSeq(s: string, a: number, b: number): CSeq | null {
    let i = a;
    while (i < b) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    const seq = parseDigits(s, a, i, MAX_CSEQ);
    const m = skipWs(s, i, b);
    if (seq === -2) {
      this.fail('CSeq number above 2**32-1');
      return null;
    }
    const method = m === i ? '' : knownMethod(s, m, b);
    if (seq < 0 || m === i || (method === '' && !isTokenRange(s, m, b))) {
      this.fail('malformed CSeq header');
      return null;
    }
    return { seq, method: method === '' ? s.slice(m, b) : method };
  }

  private optionTags(list: readonly string[], s: string, a: number, b: number, header: string): readonly string[] {
    const out = list === NO_STRINGS ? [] : (list as string[]);
    let i = a;
    while (i < b) {
      let e = s.indexOf(',', i);
      if (e === -1 || e > b) e = b;
      const ta = skipWs(s, i, e);
      const tb = trimWsEnd(s, ta, e);
      if (tb > ta) {
        if (!isTokenRange(s, ta, tb)) {
          this.fail(`malformed ${header} header`);
          return out;
        }
        out.push(lowerSlice(s, ta, tb));
      }
      i = e + 1;
    }
    return out;
  }

  private auth(list: readonly AuthValue[], s: string, a: number, b: number, value: string, header: string): readonly AuthValue[] {
    const v = parseAuthValue(s, a, b, value);
    if (v === null) {
      this.fail(`malformed ${header} header`);
      return list;
    }
    const out = list === NO_AUTH ? [] : (list as AuthValue[]);
    out.push(v);
    return out;
  }

  /** Checks that need the whole header section. */
  private finish(): void {
    if (this.via.length === 0 && !this.viaBroken) this.fail('missing Via header');
    if (this.fromRaw === null) this.fail('missing From header');
    if (this.toRaw === null) this.fail('missing To header');
    if (this.callId === null) this.fail('missing Call-ID header');
    if (this.cseqRaw === null) this.fail('missing CSeq header');
    if (this.isRequest && this.method !== null && this.cseq !== null && this.cseq.method !== this.method) {
      this.fail(`CSeq method ${this.cseq.method} does not match the request method ${this.method}`);
    }
  }

  /** What a response to this (broken) request can copy; null when no response can be formed. */
  echo(): ResponseEcho | null {
    if (!this.isRequest || this.method === null || this.hasNul) return null;
    if (this.fromRaw === null || this.toRaw === null || this.callId === null || this.cseqRaw === null) return null;
    let via: Via[] = this.via;
    if (this.viaBroken) {
      via = [];
      for (const h of this.headers) {
        if (h.name === 'via' && !parseViaList(h.value, via, 0, h.value.length, true)) return null;
      }
    }
    if (via.length === 0) return null;
    let toTag: string | null = null;
    if (this.to !== null) {
      const tag = getParam(this.to.params, 'tag');
      toTag = tag === undefined ? null : (tag ?? '');
    }
    return {
      method: this.method, via, from: this.fromRaw, to: this.toRaw, toTag, callId: this.callId, cseq: this.cseqRaw,
    };
  }

  build(raw: Buffer, body: Buffer): SipMessage {
    const contact = this.contactStar ? '*' : (this.contact ?? NO_NAME_ADDRS);
    if (this.isRequest) {
      const req: SipRequest = {
        kind: 'request',
        method: this.method!,
        uri: this.uri!,
        uriText: this.uriText,
        headers: this.headers,
        via: this.via,
        from: this.from!,
        to: this.to!,
        callId: this.callId!,
        cseq: this.cseq!,
        maxForwards: this.maxForwards,
        contentLength: body.length,
        contact,
        expires: this.expires,
        require: this.require,
        proxyRequire: this.proxyRequire,
        supported: this.supported,
        authorization: this.authorization,
        path: this.path,
        userAgent: this.userAgent,
        body,
        raw,
      };
      return req;
    }
    const res: SipResponse = {
      kind: 'response',
      status: this.status,
      reason: this.reason,
      headers: this.headers,
      via: this.via,
      from: this.from!,
      to: this.to!,
      callId: this.callId!,
      cseq: this.cseq!,
      contentLength: body.length,
      contact,
      expires: this.expires,
      wwwAuthenticate: this.wwwAuthenticate,
      proxyAuthenticate: this.proxyAuthenticate,
      body,
      raw,
    };
    return res;
  }
}

/** `SIP/2.0`, the literal case-insensitive as ABNF literals are. */
function isSip20(s: string, a: number, b: number): boolean {
  return b - a === 7
    && (s.charCodeAt(a) | 32) === 115 && (s.charCodeAt(a + 1) | 32) === 105 && (s.charCodeAt(a + 2) | 32) === 112
    && s.charCodeAt(a + 3) === 47 && s.charCodeAt(a + 4) === 50 && s.charCodeAt(a + 5) === 46 && s.charCodeAt(a + 6) === 48;
}

/** `SIP/1*DIGIT.1*DIGIT`: a version, just not ours (→ 505 rather than 400). */
function looksLikeVersion(s: string, a: number, b: number): boolean {
  if (b - a < 7 || (s.charCodeAt(a) | 32) !== 115 || (s.charCodeAt(a + 1) | 32) !== 105 || (s.charCodeAt(a + 2) | 32) !== 112 || s.charCodeAt(a + 3) !== 47) return false;
  const dot = s.indexOf('.', a + 4);
  if (dot === -1 || dot >= b - 1) return false;
  return parseDigits(s, a + 4, dot, 1e9) >= 0 && parseDigits(s, dot + 1, b, 1e9) >= 0;
}

/** Call-ID = word [ "@" word ]: printable ASCII without whitespace (RFC 3261 §25.1). */
function isCallId(s: string, a: number, b: number): boolean {
  if (b <= a) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}
