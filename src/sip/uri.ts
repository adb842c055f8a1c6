// URIs of SIP messages: SIP/SIPS (RFC 3261 §19.1, §25.1), tel (RFC 3966, the basics) and any
// other absoluteURI kept opaque; IPv6 references per RFC 5118. Parsing, canonical
// formatting, the comparison rules of §19.1.4 and the address-of-record key of §10.3.

import { NO_PARAMS, type OpaqueUri, type Params, type SipUri, type TelUri, type Uri } from './message.js';
import {
  CLASS, HOST, PARAM, PASSWORD, PERCENT, URIC, URI_HEADER, USER,
  hexValue, isDigit, lowerSlice, nextPercent,
} from './lexical.js';

const COLON = 58;
const SEMI = 59;
const QUESTION = 63;
const EQUAL = 61;
const AMP = 38;
const DOT = 46;
const LBRACKET = 91;

export type HostType = 'domain' | 'ipv4' | 'ipv6';

export function parseUri(text: string): Uri | null {
  return parseUriRange(text, 0, text.length);
}

/** Parses the URI occupying exactly `s[start, end)`; null when it is not a valid URI. */
export function parseUriRange(s: string, start: number, end: number): Uri | null {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  let i = start;
  if (i >= end || !isAlpha(s.charCodeAt(i))) return null;
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (isAlpha(c) || isDigit(c) || c === 43 || c === 45 || c === DOT) i++;
    else break;
  }
  if (i >= end || s.charCodeAt(i) !== COLON) return null;
  const schemeLen = i - start;
  if (schemeLen === 3 && (s.charCodeAt(start) | 32) === 115 && (s.charCodeAt(start + 1) | 32) === 105 && (s.charCodeAt(start + 2) | 32) === 112) {
    return parseSip(s, 'sip', i + 1, end);
  }
  if (schemeLen === 4 && (s.charCodeAt(start) | 32) === 115 && (s.charCodeAt(start + 1) | 32) === 105 && (s.charCodeAt(start + 2) | 32) === 112 && (s.charCodeAt(start + 3) | 32) === 115) {
    return parseSip(s, 'sips', i + 1, end);
  }
  if (schemeLen === 3 && (s.charCodeAt(start) | 32) === 116 && (s.charCodeAt(start + 1) | 32) === 101 && (s.charCodeAt(start + 2) | 32) === 108) {
    return parseTel(s, i + 1, end);
  }
  return parseOpaque(s, lowerSlice(s, start, i), i + 1, end);
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** End of a run of `cls` characters or valid `%HH` escapes; -1 on a broken escape. */
function scanClass(s: string, i: number, end: number, cls: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 128 && (CLASS[c]! & cls) !== 0) {
      i++;
    } else if (c === PERCENT) {
      if (i + 2 >= end || hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) return -1;
      i += 3;
    } else {
      break;
    }
  }
  return i;
}

function parseSip(s: string, scheme: 'sip' | 'sips', i: number, end: number): SipUri | null {
  let user: string | null = null;
  let password: string | null = null;
  const at = s.indexOf('@', i);
  if (at !== -1 && at < end) {
    const userEnd = scanClass(s, i, at, USER);
    if (userEnd <= i) return null;
    if (userEnd < at) {
      if (s.charCodeAt(userEnd) !== COLON) return null;
      const pwEnd = scanClass(s, userEnd + 1, at, PASSWORD);
      if (pwEnd !== at) return null;
      password = decodeEscapes(s, userEnd + 1, at);
    }
    user = decodeEscapes(s, i, userEnd);
    i = at + 1;
  }
  i = scanHost(s, i, end);
  if (i < 0) return null;
  const host = scannedHost.host;
  const hostType = scannedHost.type;
  let port: number | null = null;
  if (i < end && s.charCodeAt(i) === COLON) {
    let j = i + 1;
    while (j < end && isDigit(s.charCodeAt(j))) j++;
    port = parsePort(s, i + 1, j);
    if (port < 0) return null;
    i = j;
  }
  let params = NO_PARAMS;
  if (i < end && s.charCodeAt(i) === SEMI) {
    const list: Array<[string, string | null]> = [];
    i = parseUriParams(s, i, end, list);
    if (i < 0) return null;
    params = list;
  }
  let headers: SipUri['headers'] = NO_URI_HEADERS;
  if (i < end && s.charCodeAt(i) === QUESTION) {
    const list: Array<[string, string]> = [];
    headers = list;
    i++;
    for (;;) {
      const nameEnd = scanClass(s, i, end, URI_HEADER);
      if (nameEnd <= i || nameEnd >= end || s.charCodeAt(nameEnd) !== EQUAL) return null;
      const valueEnd = scanClass(s, nameEnd + 1, end, URI_HEADER);
      if (valueEnd < 0) return null;
      list.push([s.slice(i, nameEnd), s.slice(nameEnd + 1, valueEnd)]);
      i = valueEnd;
      if (i < end && s.charCodeAt(i) === AMP) {
        i++;
        continue;
      }
      break;
    }
  }
  if (i !== end) return null;
  return { scheme, user, password, host, hostType, port, params, headers };
}

/** Most URIs have no `?headers`: they share one empty list. */
const NO_URI_HEADERS: SipUri['headers'] = Object.freeze([]);

/** `*( ";" pname [ "=" pvalue ] )`; returns the index after them or -1. */
function parseUriParams(s: string, i: number, end: number, out: Array<[string, string | null]>): number {
  while (i < end && s.charCodeAt(i) === SEMI) {
    const nameEnd = scanClass(s, i + 1, end, PARAM);
    if (nameEnd <= i + 1) return -1;
    const name = lowerSlice(s, i + 1, nameEnd);
    if (nameEnd < end && s.charCodeAt(nameEnd) === EQUAL) {
      const valueEnd = scanClass(s, nameEnd + 1, end, PARAM);
      if (valueEnd <= nameEnd + 1) return -1;
      out.push([name, s.slice(nameEnd + 1, valueEnd)]);
      i = valueEnd;
    } else {
      out.push([name, null]);
      i = nameEnd;
    }
  }
  return i;
}

/** RFC 3966 telephone-subscriber: digits (or hex digits of a local number) with visual separators. */
function parseTel(s: string, i: number, end: number): TelUri | null {
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (isDigit(c) || hexValue(c) >= 0 || c === 42 || c === 35 || c === 43 || c === 45 || c === DOT || c === 40 || c === 41) j++;
    else break;
  }
  if (j === i) return null;
  const params: Array<[string, string | null]> = [];
  const k = parseUriParams(s, j, end, params);
  if (k !== end) return null;
  return { scheme: 'tel', number: s.slice(i, j), params: params.length === 0 ? NO_PARAMS : params };
}

function parseOpaque(s: string, scheme: string, i: number, end: number): OpaqueUri | null {
  if (i >= end) return null;
  for (let j = i; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c >= 128 || (CLASS[c]! & URIC) === 0) return null;
  }
  return { scheme, rest: s.slice(i, end) };
}

function parsePort(s: string, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 5) return -1;
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v <= 65535 ? v : -1;
}

/** Decodes `%HH` escapes once (never recursively) into one character per octet. */
export function decodeEscapes(s: string, start: number, end: number): string {
  let p = nextPercent.find(s, start);
  if (p === -1 || p >= end) return s.slice(start, end);
  let out = '';
  let from = start;
  while (p !== -1 && p < end) {
    const h = hexValue(s.charCodeAt(p + 1));
    const l = hexValue(s.charCodeAt(p + 2));
    if (h < 0 || l < 0 || p + 2 >= end) {
      p = s.indexOf('%', p + 1);
      continue;
    }
    out += s.slice(from, p) + String.fromCharCode(h * 16 + l);
    from = p + 3;
    p = s.indexOf('%', from);
  }
  return out + s.slice(from, end);
}

const HEX = '0123456789ABCDEF';

/** Escapes every character outside `cls` as `%HH` (UTF-8 octets above U+00FF). */
function escapeClass(v: string, cls: number): string {
  let i = 0;
  for (; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 128 || (CLASS[c]! & cls) === 0) break;
  }
  if (i === v.length) return v;
  let out = v.slice(0, i);
  for (; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 128 && (CLASS[c]! & cls) !== 0) {
      out += v[i];
    } else if (c < 256) {
      out += '%' + HEX[c >> 4] + HEX[c & 15];
    } else {
      const cp = v.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += '%' + HEX[b >> 4] + HEX[b & 15];
    }
  }
  return out;
}

/** The user part as it must be written: unreserved and user-unreserved characters as they are, the rest escaped. */
export function escapeUser(user: string): string {
  return escapeClass(user, USER);
}

/** The host found by the last scanHost call (a scratch record: the parsers are synchronous). */
export const scannedHost: { host: string; type: HostType } = { host: '', type: 'domain' };

/**
 * Scans `host = hostname / IPv4address / IPv6reference` from `i`: returns the index after it
 * and fills `scannedHost` (lowercased, IPv6 without brackets), or -1 when there is no valid
 * host there. One pass over a host name checks its characters, labels and case together.
 */
export function scanHost(s: string, i: number, end: number): number {
  if (i < end && s.charCodeAt(i) === LBRACKET) {
    const close = s.indexOf(']', i);
    if (close === -1 || close >= end || !isIpv6(s, i + 1, close)) return -1;
    scannedHost.host = lowerSlice(s, i + 1, close);
    scannedHost.type = 'ipv6';
    return close + 1;
  }
  let j = i;
  let upper = false;
  let numeric = true;
  let emptyLabel = false;
  let atLabelStart = true;
  let topFirst = 0;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c >= 128 || (CLASS[c]! & HOST) === 0) break;
    if (c === DOT) {
      if (atLabelStart) emptyLabel = true;
      atLabelStart = true;
    } else {
      if (atLabelStart) topFirst = c;
      atLabelStart = false;
      if (c < 48 || c > 57) {
        numeric = false;
        if (c >= 65 && c <= 90) upper = true;
      }
    }
    j++;
  }
  if (j === i) return -1;
  if (numeric) {
    if (!isIpv4(s, i, j)) return -1;
    scannedHost.type = 'ipv4';
  } else {
    // hostname = *( domainlabel "." ) toplabel [ "." ], the top label starting with a letter.
    if (emptyLabel || !isAlpha(topFirst)) return -1;
    scannedHost.type = 'domain';
  }
  scannedHost.host = upper ? s.slice(i, j).toLowerCase() : s.slice(i, j);
  return j;
}

export function isIpv4(s: string, start: number, end: number): boolean {
  let parts = 0;
  let i = start;
  for (;;) {
    const from = i;
    let v = 0;
    while (i < end && isDigit(s.charCodeAt(i)) && i - from < 3) {
      v = v * 10 + (s.charCodeAt(i) - 48);
      i++;
    }
    if (i === from || v > 255) return false;
    parts++;
    if (i === end) return parts === 4;
    if (parts === 4 || s.charCodeAt(i) !== DOT) return false;
    i++;
  }
}

/**
 * An IPv6 address (RFC 4291 text form, optionally with a dotted IPv4 tail). Three colons in
 * a row are tolerated: RFC 3261's ABNF allowed `2001:db8:::192.0.2.1` by mistake and RFC
 * 5118 §4.10 asks implementations to accept it.
 */
export function isIpv6(s: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  let i = start;
  let groups = 0;
  let compressed = false;
  if (s.charCodeAt(i) === COLON) {
    if (s.charCodeAt(i + 1) !== COLON) return false;
    compressed = true;
    i += 2;
    if (i === end) return true;
  }
  for (;;) {
    const from = i;
    while (i < end && hexValue(s.charCodeAt(i)) >= 0) i++;
    if (i < end && s.charCodeAt(i) === DOT) {
      if (!isIpv4(s, from, end)) return false;
      groups += 2;
      break;
    }
    const n = i - from;
    if (n === 0 || n > 4) return false;
    groups++;
    if (i === end) break;
    if (s.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && s.charCodeAt(i) === COLON) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i < end && s.charCodeAt(i) === COLON) i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/** `host` as written in a URI or Via: IPv6 addresses inside brackets. */
export function formatHost(host: string, hostType: HostType): string {
  return hostType === 'ipv6' ? `[${host}]` : host;
}

function formatUriParams(params: Params): string {
  let out = '';
  for (const [n, v] of params) out += v === null ? `;${n}` : `;${n}=${v}`;
  return out;
}

/** Canonical text of a URI: lowercase scheme and host, user part re-escaped. */
export function formatUri(uri: Uri): string {
  if (uri.scheme === 'sip' || uri.scheme === 'sips') {
    const u = uri as SipUri;
    let out = `${u.scheme}:`;
    if (u.user !== null) {
      out += escapeUser(u.user);
      if (u.password !== null) out += ':' + escapeClass(u.password, PASSWORD);
      out += '@';
    }
    out += formatHost(u.host, u.hostType);
    if (u.port !== null) out += ':' + u.port;
    out += formatUriParams(u.params);
    if (u.headers.length > 0) out += '?' + u.headers.map(([n, v]) => `${n}=${v}`).join('&');
    return out;
  }
  if (uri.scheme === 'tel') {
    const t = uri as TelUri;
    return `tel:${t.number}${formatUriParams(t.params)}`;
  }
  const o = uri as OpaqueUri;
  return `${o.scheme}:${o.rest}`;
}

/**
 * The address-of-record key of a To URI (RFC 3261 §10.3 step 5): `sip:user@host` with the
 * user re-escaped canonically, the host lowercased, no port, parameters or headers. SIPS
 * maps to the same key as SIP: one AOR, whatever the scheme of the registration.
 */
export function aorOf(uri: Uri): string {
  if (uri.scheme === 'sip' || uri.scheme === 'sips') {
    const u = uri as SipUri;
    return sipAor(u.user, u.host, u.hostType);
  }
  if (uri.scheme === 'tel') return `tel:${telDigits((uri as TelUri).number)}`;
  const o = uri as OpaqueUri;
  return `${o.scheme}:${o.rest}`;
}

/** aorOf for a SIP or SIPS URI given by its parts (e.g. with the host resolved to a domain). */
export function sipAor(user: string | null, host: string, hostType: HostType): string {
  const h = formatHost(host, hostType);
  return user === null ? `sip:${h}` : `sip:${escapeUser(user)}@${h}`;
}

function telDigits(number: string): string {
  let out = '';
  for (let i = 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (c !== 45 && c !== DOT && c !== 40 && c !== 41) out += number[i]!.toLowerCase();
  }
  return out;
}

/** A parameter value for comparison: unescaped and lowercased (§19.1.4: case-insensitive). */
function paramKey(v: string | null): string | null {
  return v === null ? null : decodeEscapes(v, 0, v.length).toLowerCase();
}

function findParam(params: Params, name: string): [found: boolean, value: string | null] {
  for (const [n, v] of params) {
    if (decodeEscapes(n, 0, n.length).toLowerCase() === name) return [true, v];
  }
  return [false, null];
}

const MUST_MATCH = ['transport', 'user', 'ttl', 'method', 'maddr'];

/** URI equality per RFC 3261 §19.1.4 (tel: RFC 3966 §4; other schemes: exact text after the scheme). */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.scheme === 'sip' || a.scheme === 'sips') {
    const x = a as SipUri;
    const y = b as SipUri;
    if (x.user !== y.user || x.password !== y.password) return false;
    if (x.host !== y.host || x.port !== y.port) return false;
    for (const name of MUST_MATCH) {
      const px = findParam(x.params, name);
      const py = findParam(y.params, name);
      if (px[0] !== py[0]) return false;
      if (px[0] && paramKey(px[1]) !== paramKey(py[1])) return false;
    }
    for (const [n, v] of x.params) {
      const name = decodeEscapes(n, 0, n.length).toLowerCase();
      if (MUST_MATCH.includes(name)) continue;
      const py = findParam(y.params, name);
      if (py[0] && paramKey(v) !== paramKey(py[1])) return false;
    }
    return headersEqual(x.headers, y.headers);
  }
  if (a.scheme === 'tel') {
    const x = a as TelUri;
    const y = b as TelUri;
    if (telDigits(x.number) !== telDigits(y.number) || x.params.length !== y.params.length) return false;
    for (const [n, v] of x.params) {
      const py = findParam(y.params, n);
      if (!py[0] || paramKey(v) !== paramKey(py[1])) return false;
    }
    return true;
  }
  return (a as OpaqueUri).rest === (b as OpaqueUri).rest;
}

function headersEqual(x: SipUri['headers'], y: SipUri['headers']): boolean {
  if (x.length !== y.length) return false;
  const key = ([n, v]: readonly [string, string]): string =>
    `${decodeEscapes(n, 0, n.length).toLowerCase()}=${decodeEscapes(v, 0, v.length)}`;
  const xs = x.map(key).sort();
  const ys = y.map(key).sort();
  return xs.every((k, i) => k === ys[i]);
}
