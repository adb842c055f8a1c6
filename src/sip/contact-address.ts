// The host and port of a SIP/SIPS URI as stored in a binding's contact (`sip:1001@10.0.0.5:5062;
// transport=udp`, `sips:[2001:db8::7]`), found with a few index scans: the registrations list
// filters 100,000 contacts by address per query, where a full URI parse would cost ~10×.

export interface HostPort {
  readonly host: string;
  /** null when the URI names none (the default port of its transport applies). */
  readonly port: number | null;
}

/** Where the host of a sip:/sips: URI starts and ends, or -1 (other schemes, no host). */
function hostRange(uri: string): number {
  const b = uri.charCodeAt(0) === 0x3c /* < */ ? 1 : 0;
  let i: number;
  const c3 = uri.charCodeAt(b + 3);
  if ((uri.charCodeAt(b) | 0x20) !== 0x73 || (uri.charCodeAt(b + 1) | 0x20) !== 0x69 || (uri.charCodeAt(b + 2) | 0x20) !== 0x70) return -1;
  if (c3 === 0x3a /* : */) i = b + 4;
  else if ((c3 | 0x20) === 0x73 && uri.charCodeAt(b + 4) === 0x3a) i = b + 5;
  else return -1;
  // The userinfo may hold ';' and '?' (RFC 3261 user-unreserved) but never an unescaped '@',
  // so the host starts after the first '@', if there is one before the URI ends.
  const close = uri.indexOf('>', i);
  const at = uri.indexOf('@', i);
  if (at >= 0 && (close < 0 || at < close)) i = at + 1;
  return i;
}

export function contactHostPort(uri: string): HostPort | null {
  const start = hostRange(uri);
  if (start < 0 || start >= uri.length) return null;
  let end = uri.length;
  for (let i = start; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 0x3b /* ; */ || c === 0x3f /* ? */ || c === 0x3e /* > */) {
      end = i;
      break;
    }
  }
  if (start >= end) return null;
  if (uri.charCodeAt(start) === 0x5b /* [ */) {
    const close = uri.indexOf(']', start);
    if (close < 0 || close >= end) return null;
    return { host: uri.slice(start + 1, close).toLowerCase(), port: portAt(uri, close + 1, end) };
  }
  const portColon = uri.indexOf(':', start);
  if (portColon >= 0 && portColon < end) return { host: uri.slice(start, portColon).toLowerCase(), port: portAt(uri, portColon, end) };
  return { host: uri.slice(start, end).toLowerCase(), port: null };
}

function portAt(uri: string, colon: number, end: number): number | null {
  if (colon >= end || uri.charCodeAt(colon) !== 0x3a) return null;
  const n = Number(uri.slice(colon + 1, end));
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : null;
}
