// The keep-alive OPTIONS (RFC 3261 §11) written straight into its datagram. At 100,000
// endpoints these are thousands a second, and building each one as strings (lines, a join,
// then the bytes) made ~1.7 KB of garbage per ping: young-generation collections whose pauses
// every REGISTER arriving meanwhile waits out. Everything but the contact and the sequence
// number is the same for all bindings of one domain on one socket, so it is kept as bytes
// (a template per domain and socket) and copied; the contact is written once and copied for
// the To header. What is left per ping is the one Buffer that is sent.
//
// The branch is `z9hG4bK-rcka-<tag>-<seq>`: a per-process tag (an answer to another process's
// ping never matches) and a decimal sequence number, which is the key the answer is matched
// by — read back from the answer's bytes as a number, no string made (keep-alive.ts).

import { isDigit, isToken } from '../sip/lexical.js';

/** How our branches start, before the tag. */
export const PING_BRANCH_PREFIX = 'z9hG4bK-rcka-';

/** Sequence numbers wrap here: small integers (V8 Smis) as keys, never reused within an interval. */
export const PING_SEQ_LIMIT = 0x40000000;

interface Template {
  readonly transport: string;
  readonly host: string;
  readonly port: number;
  readonly userAgent: string;
  /** "OPTIONS " */
  readonly a: Buffer;
  /** " SIP/2.0\r\nVia: SIP/2.0/UDP host:port;branch=z9hG4bK-rcka-tag-" */
  readonly b: Buffer;
  /** ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:keepalive@domain>;tag=tag\r\nTo: <" */
  readonly c: Buffer;
  /** ">\r\nCall-ID: z9hG4bK-rcka-tag-" */
  readonly d: Buffer;
  /** "@host\r\nCSeq: 1 OPTIONS\r\nUser-Agent: …\r\nContent-Length: 0\r\n\r\n" */
  readonly e: Buffer;
  /** Where in `e` the Call-ID line ends: a Route set goes there. */
  readonly eSplit: number;
}

/** A domain's templates are kept for this many domains at most; past it, they are made anew. */
const MAX_DOMAINS = 1000;

const OPTIONS_SP = Buffer.from('OPTIONS ', 'latin1');

/** What an OPTIONS ping needs to know of its binding. */
export interface PingTarget {
  readonly contact: string;
  readonly transport: string;
  readonly domain: string;
  readonly localPort: number;
}

export class OptionsPingWriter {
  private readonly templates = new Map<string, Template[]>();

  /** `tag`: this process's random tag, in the branch and as the From tag. */
  constructor(private readonly tag: string) {}

  /**
   * The OPTIONS for `seq` to the binding's contact, Via with rport (RFC 3581) so that the
   * answer comes back through the same NAT mapping; `localHost` is the Via's sent-by address.
   * `route`: Route header lines (routeLines()) for an endpoint behind an edge proxy.
   */
  write(t: PingTarget, seq: number, localHost: string, userAgent: string, route: Buffer | null = null): Buffer {
    const tpl = this.template(t, localHost, userAgent);
    const contact = t.contact;
    if (route !== null) return this.writeSlow(tpl, contact, seq, route);
    const contactBytes = asciiLength(contact);
    if (contactBytes < 0) return this.writeSlow(tpl, contact, seq, null);
    const digits = decimalDigits(seq);
    const len = tpl.a.length + contactBytes + tpl.b.length + digits + tpl.c.length + contactBytes + tpl.d.length + digits + tpl.e.length;
    const out = Buffer.allocUnsafe(len);
    out.set(tpl.a, 0);
    let at = tpl.a.length;
    const contactAt = at;
    for (let i = 0; i < contactBytes; i++) out[at + i] = contact.charCodeAt(i);
    at += contactBytes;
    out.set(tpl.b, at);
    at += tpl.b.length;
    const seqAt = at;
    writeDecimal(out, at, seq, digits);
    at += digits;
    out.set(tpl.c, at);
    at += tpl.c.length;
    out.copyWithin(at, contactAt, contactAt + contactBytes);
    at += contactBytes;
    out.set(tpl.d, at);
    at += tpl.d.length;
    out.copyWithin(at, seqAt, seqAt + digits);
    at += digits;
    out.set(tpl.e, at);
    return out;
  }

  /**
   * A contact with bytes beyond ASCII (rare: URIs are escaped), or a Route set (an endpoint
   * behind an edge proxy, pinged only when asked): the plain way, as UTF-8.
   */
  private writeSlow(tpl: Template, contact: string, seq: number, route: Buffer | null): Buffer {
    const c = Buffer.from(contact, 'utf8');
    const s = Buffer.from(String(seq), 'latin1');
    if (route === null) return Buffer.concat([tpl.a, c, tpl.b, s, tpl.c, c, tpl.d, s, tpl.e]);
    return Buffer.concat([tpl.a, c, tpl.b, s, tpl.c, c, tpl.d, s, tpl.e.subarray(0, tpl.eSplit), route, tpl.e.subarray(tpl.eSplit)]);
  }

  private template(t: PingTarget, host: string, userAgent: string): Template {
    let list = this.templates.get(t.domain);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const x = list[i]!;
        if (x.port === t.localPort && x.host === host && x.transport === t.transport && x.userAgent === userAgent) return x;
      }
    } else {
      if (this.templates.size >= MAX_DOMAINS) this.templates.clear();
      this.templates.set(t.domain, (list = []));
    }
    // A changed User-Agent (sip.serverHeader) replaces its old template rather than piling up.
    const kept = list.filter((x) => x.port !== t.localPort || x.host !== host || x.transport !== t.transport);
    const sentBy = host.includes(':') ? `[${host}]` : host;
    const branch = `${PING_BRANCH_PREFIX}${this.tag}-`;
    const ua = userAgent === '' ? '' : `User-Agent: ${userAgent}\r\n`;
    const callIdEnd = `@${sentBy}\r\n`;
    const x: Template = {
      transport: t.transport,
      host,
      port: t.localPort,
      userAgent,
      a: OPTIONS_SP,
      b: Buffer.from(` SIP/2.0\r\nVia: SIP/2.0/${t.transport} ${sentBy}:${t.localPort};branch=${branch}`, 'utf8'),
      c: Buffer.from(`;rport\r\nMax-Forwards: 70\r\nFrom: <sip:keepalive@${t.domain}>;tag=${this.tag}\r\nTo: <`, 'utf8'),
      d: Buffer.from(`>\r\nCall-ID: ${branch}`, 'utf8'),
      e: Buffer.from(`${callIdEnd}CSeq: 1 OPTIONS\r\n${ua}Content-Length: 0\r\n\r\n`, 'utf8'),
      eSplit: Buffer.byteLength(callIdEnd, 'utf8'),
    };
    kept.push(x);
    this.templates.set(t.domain, kept);
    return x;
  }
}

/**
 * The Route header for a request to an endpoint registered with this Path (RFC 3327 §5: the
 * Path values, in order, are the route set towards it).
 */
export function routeLines(path: readonly string[]): Buffer {
  return Buffer.from(`Route: ${path.join(', ')}\r\n`, 'utf8');
}

/** The string's length when every character is ASCII (one byte each), else -1. */
function asciiLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return -1;
  return s.length;
}

function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function writeDecimal(out: Buffer, at: number, n: number, digits: number): void {
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/**
 * The sequence number of one of our pings named in `buf` (its Via branch or Call-ID, both
 * echoed by the endpoint), or -1: `start` is the branch's beginning up to the sequence number
 * (`z9hG4bK-rcka-<tag>-`). The number must end the token, as we wrote it.
 */
export function pingSeqIn(buf: Buffer, start: Buffer): number {
  const at = buf.indexOf(start);
  if (at < 0) return -1;
  let i = at + start.length;
  let n = 0;
  const first = i;
  while (i < buf.length && i - first < 10) {
    const c = buf[i]!;
    if (!isDigit(c)) break;
    n = n * 10 + (c - 0x30);
    i++;
  }
  if (i === first || n >= PING_SEQ_LIMIT) return -1;
  // What follows the number is a separator (";" of the next Via parameter, "@" in the
  // Call-ID, white space or the line's end), not more of the token.
  if (i < buf.length && isToken(buf[i]!)) return -1;
  return n;
}
