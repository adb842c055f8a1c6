// name-addr / addr-spec values with header parameters (To, From, Contact, Route, Path,
// RFC 3261 §20 and §25.1), and the comma lists some of those headers hold.

import type { NameAddr } from './message.js';
import { unquote } from './message.js';
import { formatParams, parseHeaderParams } from './header-params.js';
import {
  DQUOTE, HT, LAQUOT, SEMI, SP,
  isToken, nextBackslash, nextQuestion, scanListElement, scanQuoted, skipWs, trimWsEnd,
} from './lexical.js';
import { parseUriRange } from './uri.js';

/**
 * Parses one name-addr or addr-spec with its header parameters from `s[start, end)`.
 * Parameters inside `<...>` belong to the URI; after it, to the header. For a bare addr-spec
 * everything after the first `;` is a header parameter (RFC 3261 §20: `Contact:
 * sip:a@b;expires=60` carries a header parameter), and a bare URI must not hold a `?`.
 */
export function parseNameAddr(s: string, start = 0, end = s.length, whole?: string): NameAddr | null {
  const givenEnd = end;
  let i = skipWs(s, start, end);
  end = trimWsEnd(s, i, end);
  if (i >= end) return null;
  const rawStart = i;
  let displayName: string | null = null;
  let angle = false;
  let c = s.charCodeAt(i);
  if (c === DQUOTE) {
    const q = scanQuoted(s, i, end);
    if (q < 0) return null;
    const bs = nextBackslash.find(s, i);
    displayName = bs !== -1 && bs < q ? unquote(s.slice(i, q)) : s.slice(i + 1, q - 1);
    i = skipWs(s, q, end);
    if (i >= end || s.charCodeAt(i) !== LAQUOT) return null;
    angle = true;
  } else if (c === LAQUOT) {
    angle = true;
  } else {
    // display-name = *(token LWS): look for a '<' after tokens and whitespace.
    let j = i;
    while (j < end) {
      c = s.charCodeAt(j);
      if (isToken(c) || c === SP || c === HT) j++;
      else break;
    }
    if (j < end && s.charCodeAt(j) === LAQUOT) {
      const displayEnd = trimWsEnd(s, i, j);
      if (displayEnd > i) displayName = s.slice(i, displayEnd);
      i = j;
      angle = true;
    }
  }
  let uriStart: number;
  let uriEnd: number;
  if (angle) {
    const close = s.indexOf('>', i + 1);
    if (close === -1 || close >= end) return null;
    uriStart = i + 1;
    uriEnd = close;
    i = close + 1;
  } else {
    uriStart = i;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c === SEMI || c === SP || c === HT) break;
      i++;
    }
    uriEnd = i;
    const q = nextQuestion.find(s, uriStart);
    if (q !== -1 && q < uriEnd) return null;
  }
  const uri = parseUriRange(s, uriStart, uriEnd);
  if (uri === null) return null;
  const params = parseHeaderParams(s, i, end);
  if (params === null) return null;
  // `whole`: the caller's string for exactly s[start, end), saving a copy of the raw value.
  const raw = whole !== undefined && rawStart === start && end === givenEnd ? whole : s.slice(rawStart, end);
  return { displayName, uri, uriText: s.slice(uriStart, uriEnd), params, raw };
}

/**
 * Parses a comma-separated list of name-addr values (Contact, Route, Record-Route, Path),
 * splitting only at commas outside quoted-strings and `<...>`. Appends to `out`; false when
 * any element (or an empty one) is malformed.
 */
export function parseNameAddrList(s: string, out: NameAddr[], start = 0, end = s.length, whole?: string): boolean {
  let i = start;
  for (;;) {
    const elementEnd = scanListElement(s, i, end);
    if (elementEnd < 0) return false;
    const na = parseNameAddr(s, i, elementEnd, i === start && elementEnd === end ? whole : undefined);
    if (na === null) return false;
    out.push(na);
    if (elementEnd >= end) return true;
    i = elementEnd + 1;
  }
}

/**
 * A Contact header value: `*` (RFC 3261 §10.2.2, only ever alone) or a list of contacts;
 * null when malformed.
 */
export function parseContact(s: string, start = 0, end = s.length): readonly NameAddr[] | '*' | null {
  const a = skipWs(s, start, end);
  const b = trimWsEnd(s, a, end);
  if (b - a === 1 && s.charCodeAt(a) === 42) return '*';
  const out: NameAddr[] = [];
  return parseNameAddrList(s, out, a, b) ? out : null;
}

/** A display name as a quoted-string. */
export function quoteString(text: string): string {
  if (text.indexOf('"') === -1 && text.indexOf('\\') === -1) return `"${text}"`;
  let out = '"';
  for (const ch of text) out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  return out + '"';
}

/** Writes a name-addr back out: `"Display" <uri>;params` (always with angle brackets). */
export function formatNameAddr(na: NameAddr): string {
  const display = na.displayName === null ? '' : quoteString(na.displayName) + ' ';
  return `${display}<${na.uriText}>${formatParams(na.params)}`;
}
