// Authorization / WWW-Authenticate / Proxy-* values (RFC 3261 §25.1, RFC 7616 for the
// Digest parameters): `scheme name=token, name="quoted"`.

import type { AuthValue } from './message.js';
import { unquote } from './message.js';
import {
  COMMA, DQUOTE, EQUAL, HT, SP,
  Vocabulary, nextBackslash, scanQuoted, scanToken, skipWs, takeLowerToken, tokenEnd, trimWsEnd,
} from './lexical.js';
import { quoteString } from './name-addr.js';

/** RFC 3261 §25.1 / RFC 7616 parameter names: shared strings, compared by identity first. */
const AUTH_PARAM_NAMES = new Vocabulary([
  'username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc',
  'stale', 'domain', 'userhash', 'charset', 'nextnonce', 'rspauth',
]);

/**
 * The parameters of an auth value: a ReadonlyMap over two arrays. A value holds about ten
 * parameters, read a few times each; building a Map costs more than all the reads.
 */
export class AuthParams implements ReadonlyMap<string, string> {
  private readonly names: string[] = [];
  private readonly vals: string[] = [];

  get size(): number {
    return this.names.length;
  }

  get(name: string): string | undefined {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.vals[i];
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Adds a parameter; false (and nothing added) when the name is there already. */
  add(name: string, value: string): boolean {
    if (this.get(name) !== undefined) return false;
    this.names.push(name);
    this.vals.push(value);
    return true;
  }

  forEach(callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.names.length; i++) callback.call(thisArg, this.vals[i]!, this.names[i]!, this);
  }

  entries(): MapIterator<[string, string]> {
    return this.names.map((n, i): [string, string] => [n, this.vals[i]!]).values();
  }

  keys(): MapIterator<string> {
    return this.names.slice().values();
  }

  values(): MapIterator<string> {
    return this.vals.slice().values();
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }
}

const EMPTY: ReadonlyMap<string, string> = new AuthParams();

/**
 * Parses a credentials or challenge value. Parameter names are lowercased, quoted values
 * unquoted and unescaped. Null when the value is malformed or names a parameter twice.
 * Schemes other than Digest whose parameters are not `name=value` pairs (token68) are kept
 * with no parameters: judging them is the auth layer's business, not a syntax error.
 */
export function parseAuthValue(s: string, start = 0, end = s.length, whole?: string): AuthValue | null {
  const givenEnd = end;
  let i = skipWs(s, start, end);
  end = trimWsEnd(s, i, end);
  const schemeEnd = scanToken(s, i, end);
  if (schemeEnd === i) return null;
  // Every client writes `Digest`: the shared constant rather than a slice.
  const scheme = schemeEnd - i === 6 && s.startsWith('Digest', i) ? 'Digest' : s.slice(i, schemeEnd);
  const digest = scheme === 'Digest' || scheme.toLowerCase() === 'digest';
  // `whole`: the caller's string for exactly s[start, end), saving a copy of the raw value.
  const raw = whole !== undefined && i === start && end === givenEnd ? whole : s.slice(i, end);
  i = skipWs(s, schemeEnd, end);
  if (i < end && i === schemeEnd) return null;
  if (!digest && isToken68(s, i, end)) return { scheme, params: EMPTY, raw };
  const params = new AuthParams();
  const result = parseAuthParams(s, i, end, params);
  if (result === 'duplicate') return null;
  if (result === 'malformed') {
    if (digest) return null;
    return { scheme, params: EMPTY, raw };
  }
  return { scheme, params, raw };
}

/** token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 7235 §2.1). */
function isToken68(s: string, i: number, end: number): boolean {
  const start = i;
  while (i < end) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47) i++;
    else break;
  }
  if (i === start) return false;
  while (i < end && s.charCodeAt(i) === EQUAL) i++;
  return i === end;
}

function parseAuthParams(s: string, i: number, end: number, out: AuthParams): 'ok' | 'malformed' | 'duplicate' {
  // Without a backslash anywhere, every quoted value simply ends at the next DQUOTE.
  const backslash = nextBackslash.find(s, i);
  const escapes = backslash !== -1 && backslash < end;
  while (i < end) {
    const name = takeLowerToken(s, i, end, AUTH_PARAM_NAMES);
    if (name.length === 0) return 'malformed';
    let j = tokenEnd;
    if (j < end && s.charCodeAt(j) !== EQUAL) j = skipWs(s, j, end);
    if (j >= end || s.charCodeAt(j) !== EQUAL) return 'malformed';
    j++;
    if (j < end && s.charCodeAt(j) !== DQUOTE) j = skipWs(s, j, end);
    let value: string;
    if (j < end && s.charCodeAt(j) === DQUOTE) {
      if (escapes) {
        const q = scanQuoted(s, j, end);
        if (q < 0) return 'malformed';
        value = unquote(s.slice(j, q));
        j = q;
      } else {
        const q = s.indexOf('"', j + 1);
        if (q === -1 || q >= end) return 'malformed';
        value = s.slice(j + 1, q);
        j = q + 1;
      }
    } else {
      // token, leniently: some clients send `uri=sip:host` unquoted.
      const from = j;
      while (j < end) {
        const c = s.charCodeAt(j);
        if (c === COMMA || c === SP || c === HT || c === DQUOTE) break;
        j++;
      }
      if (j === from) return 'malformed';
      value = s.slice(from, j);
    }
    if (!out.add(name, value)) return 'duplicate';
    if (j < end && s.charCodeAt(j) !== COMMA) j = skipWs(s, j, end);
    if (j >= end) return 'ok';
    if (s.charCodeAt(j) !== COMMA) return 'malformed';
    i = skipWs(s, j + 1, end);
    if (i >= end) return 'malformed';
  }
  return 'ok';
}

/** One challenge parameter: name, value, and whether the value is written as a quoted-string. */
export type ChallengeParam = readonly [name: string, value: string, quoted: boolean];

/** `Digest realm="x", nonce="y", algorithm=MD5` — the value of a WWW-/Proxy-Authenticate header. */
export function formatChallenge(scheme: string, params: ReadonlyArray<ChallengeParam>): string {
  let out = scheme;
  for (let i = 0; i < params.length; i++) {
    const [name, value, quoted] = params[i]!;
    out += `${i === 0 ? ' ' : ', '}${name}=${quoted ? quoteString(value) : value}`;
  }
  return out;
}
