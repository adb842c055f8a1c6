// Via (RFC 3261 §20.42, §25.1): sent-protocol, sent-by and parameters, comma lists, and the
// received/rport stamping of RFC 3261 §18.2.1 and RFC 3581 §4.

import type { Via } from './message.js';
import { formatParams, parseHeaderParams } from './header-params.js';
import {
  COLON, LBRACKET, SEMI, SLASH, isDigit,
  scanListElement, scanToken, skipWs, trimWsEnd,
} from './lexical.js';
import { formatHost, scanHost, scannedHost } from './uri.js';

/** Parses one via-parm from `s[start, end)`; null when malformed. */
export function parseVia(s: string, start = 0, end = s.length, lenient = false, whole?: string): Via | null {
  const givenEnd = end;
  let i = skipWs(s, start, end);
  end = trimWsEnd(s, i, end);
  const rawStart = i;
  let protocol: string;
  let transport: string;
  // Fast path for the spelling every phone uses.
  if (s.startsWith('SIP/2.0/', i)) {
    protocol = 'SIP/2.0';
    i += 8;
  } else {
    const nameEnd = scanToken(s, i, end);
    if (nameEnd === i) return null;
    let j = skipWs(s, nameEnd, end);
    if (j >= end || s.charCodeAt(j) !== SLASH) return null;
    j = skipWs(s, j + 1, end);
    const versionEnd = scanToken(s, j, end);
    if (versionEnd === j) return null;
    protocol = `${s.slice(i, nameEnd).toUpperCase()}/${s.slice(j, versionEnd)}`;
    i = skipWs(s, versionEnd, end);
    if (i >= end || s.charCodeAt(i) !== SLASH) return null;
    i = skipWs(s, i + 1, end);
  }
  const transportEnd = scanToken(s, i, end);
  if (transportEnd === i) return null;
  transport = transportEnd - i === 3 ? commonTransport(s, i) : '';
  if (transport === '') transport = s.slice(i, transportEnd).toUpperCase();
  i = skipWs(s, transportEnd, end);
  if (i === transportEnd || i >= end) return null; // LWS before sent-by is mandatory
  i = scanHost(s, i, end);
  if (i < 0) return null;
  const host = scannedHost.host;
  const hostType = scannedHost.type;
  let port: number | null = null;
  let j = skipWs(s, i, end);
  if (j < end && s.charCodeAt(j) === COLON) {
    j = skipWs(s, j + 1, end);
    let k = j;
    let v = 0;
    while (k < end && isDigit(s.charCodeAt(k))) {
      v = v * 10 + (s.charCodeAt(k) - 48);
      k++;
    }
    if (k === j || k - j > 5 || v > 65535) return null;
    port = v;
    i = k;
  }
  const params = parseHeaderParams(s, i, end, lenient);
  if (params === null) return null;
  const raw = whole !== undefined && rawStart === start && end === givenEnd ? whole : s.slice(rawStart, end);
  return { protocol, transport, host, hostType, port, params, raw };
}

/** UDP, TCP or TLS as written at `i` (the shared constant, no slice), else ''. */
function commonTransport(s: string, i: number): string {
  if (s.startsWith('UDP', i)) return 'UDP';
  if (s.startsWith('TCP', i)) return 'TCP';
  if (s.startsWith('TLS', i)) return 'TLS';
  return '';
}

/**
 * Parses a Via header value (one or more comma-separated via-parms) onto `out`. False when
 * any element is malformed. `lenient` skips empty elements and empty parameters: it is
 * only used to answer a broken request, never to accept one.
 */
export function parseViaList(s: string, out: Via[], start = 0, end = s.length, lenient = false, whole?: string): boolean {
  let i = start;
  for (;;) {
    const elementEnd = scanListElement(s, i, end);
    if (elementEnd < 0) return false;
    if (lenient && isEmptyElement(s, i, elementEnd)) {
      // `,,` or `,;,`: nothing to keep
    } else {
      const via = parseVia(s, i, elementEnd, lenient, i === start && elementEnd === end ? whole : undefined);
      if (via === null) return false;
      out.push(via);
    }
    if (elementEnd >= end) return true;
    i = elementEnd + 1;
  }
}

function isEmptyElement(s: string, i: number, end: number): boolean {
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 59) return false;
  }
  return true;
}

/** `SIP/2.0/UDP host:port;params` from the typed fields. */
export function formatVia(via: Omit<Via, 'raw'>): string {
  const port = via.port === null ? '' : `:${via.port}`;
  return `${via.protocol}/${via.transport} ${formatHost(via.host, via.hostType)}${port}${formatParams(via.params)}`;
}

/**
 * A copy of `via` stamped with the source address of the request (RFC 3261 §18.2.1):
 * `received=address`, and `rport=port` when `setRport` or when the request asked for it
 * with an `rport` parameter (RFC 3581 §4). Existing `received`/`rport` parameters are
 * replaced in place, never duplicated. IPv6 addresses are written without brackets, as the
 * via-received grammar has them.
 */
export function withReceived(via: Via, address: string, port: number, setRport: boolean): Via {
  let received = address;
  if (received.length > 1 && received.charCodeAt(0) === LBRACKET) received = received.slice(1, -1);
  const vp = via.params;
  let receivedAt = -1;
  let rportAt = -1;
  for (let i = 0; i < vp.length; i++) {
    const name = vp[i]![0];
    if (name === 'received') receivedAt = i;
    else if (name === 'rport') rportAt = i;
  }
  const params: Array<readonly [string, string | null]> = vp.slice();
  let raw: string;
  if (receivedAt < 0 && rportAt < 0) {
    // No parameter there yet: appended to the text as written.
    params.push(['received', received]);
    raw = via.raw + ';received=' + received;
    if (setRport) {
      const rport = String(port);
      params.push(['rport', rport]);
      raw += ';rport=' + rport;
    }
  } else if (receivedAt < 0 && rportAt === vp.length - 1 && vp[rportAt]![1] === null && endsWithRport(via.raw)) {
    // `;rport` last and empty, as most phones send it (RFC 3581 §3): filled in where it is.
    const rport = String(port);
    params[rportAt] = ['rport', rport];
    params.push(['received', received]);
    raw = via.raw + '=' + rport + ';received=' + received;
  } else {
    if (rportAt >= 0) params[rportAt] = ['rport', String(port)];
    if (receivedAt >= 0) params[receivedAt] = ['received', received];
    else params.push(['received', received]);
    if (setRport && rportAt < 0) params.push(['rport', String(port)]);
    raw = formatVia({ protocol: via.protocol, transport: via.transport, host: via.host, hostType: via.hostType, port: via.port, params });
  }
  // One object shape for every stamped Via, whichever way it was made.
  return { protocol: via.protocol, transport: via.transport, host: via.host, hostType: via.hostType, port: via.port, params, raw };
}

/** The text ends in the parameter `;rport` (any case, no value, nothing after it). */
function endsWithRport(raw: string): boolean {
  const n = raw.length;
  return n > 6 && raw.charCodeAt(n - 6) === SEMI && raw.slice(n - 5).toLowerCase() === 'rport';
}

