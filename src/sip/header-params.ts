// Header parameters: `*( SEMI generic-param )` after a name-addr or a Via sent-by
// (RFC 3261 §25.1: SEMI and EQUAL allow whitespace on both sides; gen-value is a token, a
// host, including an IPv6 reference, or a quoted-string).

import { NO_PARAMS, type Params } from './message.js';
import {
  CLASS, DQUOTE, EQUAL, LBRACKET, RBRACKET, COLON, SEMI, TOKEN,
  Vocabulary, scanQuoted, skipWs, takeLowerToken, tokenEnd,
} from './lexical.js';

/** Parameter names of To, From, Contact, Via and Path worth not allocating. */
const PARAM_NAMES = new Vocabulary([
  'tag', 'expires', 'q', 'branch', 'rport', 'received', 'reg-id', '+sip.instance', 'maddr', 'ttl',
  'lr', 'ob', 'methods', 'alias', 'transport', 'user', 'line', 'x-ast-orig-host',
]);

/**
 * Parses header parameters from `i` to `end` (names lowercased; quoted values kept with their
 * quotes); null on a syntax error. `lenient` skips empty parameters (`;;`), which is only used
 * to salvage what a response to a broken request must copy.
 */
export function parseHeaderParams(s: string, i: number, end: number, lenient = false): Params | null {
  i = skipWs(s, i, end);
  if (i >= end) return NO_PARAMS;
  const out: Array<[string, string | null]> = [];
  return parseParamList(s, i, end, out, lenient) ? out : null;
}

function parseParamList(s: string, i: number, end: number, out: Array<[string, string | null]>, lenient: boolean): boolean {
  for (;;) {
    i = skipWs(s, i, end);
    if (i >= end) return true;
    if (s.charCodeAt(i) !== SEMI) return false;
    i = skipWs(s, i + 1, end);
    const name = takeLowerToken(s, i, end, PARAM_NAMES);
    if (name.length === 0) {
      if (lenient && (i >= end || s.charCodeAt(i) === SEMI)) continue;
      return false;
    }
    i = skipWs(s, tokenEnd, end);
    if (i < end && s.charCodeAt(i) === EQUAL) {
      i = skipWs(s, i + 1, end);
      const valueEnd = scanParamValue(s, i, end);
      if (valueEnd <= i) return false;
      out.push([name, s.slice(i, valueEnd)]);
      i = valueEnd;
    } else {
      out.push([name, null]);
    }
  }
}

/** End of a gen-value starting at `i` (a quoted-string, or token / host characters). */
function scanParamValue(s: string, i: number, end: number): number {
  if (i >= end) return i;
  if (s.charCodeAt(i) === DQUOTE) return scanQuoted(s, i, end);
  while (i < end) {
    const c = s.charCodeAt(i);
    // ':' and brackets: IPv6 hosts (`received=2001:db8::9:255`, RFC 5118 §4.5, with or without []).
    if (c < 128 && ((CLASS[c]! & TOKEN) !== 0 || c === COLON || c === LBRACKET || c === RBRACKET)) i++;
    else break;
  }
  return i;
}

/** Writes parameters back as `;name=value` (values exactly as stored). */
export function formatParams(params: Params): string {
  let out = '';
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    out += p[1] === null ? `;${p[0]}` : `;${p[0]}=${p[1]}`;
  }
  return out;
}
