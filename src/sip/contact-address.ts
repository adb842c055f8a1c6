// The host and port of a SIP/SIPS URI as stored in a binding's contact (`sip:1001@10.0.0.5:5062;
// transport=udp`, `sips:[2001:db8::7]`), found with a few index scans: the registrations list
// filters 100,000 contacts by address per query, where a full URI parse would cost ~10×.

export interface HostPort {
  readonly host: string;
  /** null when the URI names none (the default port of its transport applies). */
  readonly port: number | null;
}

export function contactHostPort(uri: string): HostPort | null {
  const colon = uri.indexOf(':');
  if (colon < 0) return null;
  // The host part ends at the first of ; ? > after the userinfo.
  let end = uri.length;
  for (let i = colon + 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 0x3b /* ; */ || c === 0x3f /* ? */ || c === 0x3e /* > */) {
      end = i;
      break;
    }
  }
  const at = uri.lastIndexOf('@', end - 1);
  const start = at > colon ? at + 1 : colon + 1;
  if (start >= end) return null;
  if (uri.charCodeAt(start) === 0x5b /* [ */) {
    const close = uri.indexOf(']', start);
    if (close < 0 || close >= end) return null;
    const host = uri.slice(start + 1, close).toLowerCase();
    return { host, port: portAt(uri, close + 1, end) };
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
