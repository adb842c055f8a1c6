// The `ip` filter of the registrations list and the history search: an operator types an
// exact address, a wildcard (`192.168.1.x`, `10.x.x.x`) or a CIDR block (`10.0.0.0/8`,
// `2001:db8::/32`). Parsed once per query into a matcher; matching an address is then a
// string compare or one net.BlockList lookup.

import { BlockList, isIP } from 'node:net';

export interface AddressPattern {
  /** The text as the operator gave it (normalised). */
  readonly text: string;
  matches(address: string): boolean;
  /**
   * An exact address or the prefix every match starts with when the pattern is a trailing
   * wildcard; lets a store narrow a query before matching (`null` when it cannot).
   */
  readonly prefix: string | null;
  /**
   * Text every matching address contains (its fixed leading octets), so that a longer string
   * holding an address (a contact URI) that lacks it can be passed over without parsing.
   */
  readonly hint: string | null;
}

/** Parses an `ip` filter; returns a message saying what is accepted when it is not one. */
export function parseAddressPattern(input: string): AddressPattern | string {
  const text = input.trim().toLowerCase();
  const bad = `"${input}" is not an IP address, a wildcard such as 192.168.1.x or a CIDR block such as 10.0.0.0/8`;
  if (text === '') return bad;

  const slash = text.indexOf('/');
  if (slash >= 0) {
    const net = text.slice(0, slash);
    const bits = Number(text.slice(slash + 1));
    const family = isIP(net);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || !/^\d{1,3}$/.test(text.slice(slash + 1)) || bits > max) return bad;
    if (family === 4) {
      // In JS: net.BlockList.check costs microseconds per call, and a list scans 100,000.
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const base = (ipv4Value(net) & mask) >>> 0;
      const fixed = text.split('.').slice(0, Math.floor(bits / 8));
      const hint = fixed.length === 0 ? null : fixed.length === 4 ? fixed.join('.') : `${fixed.join('.')}.`;
      return { text, prefix: null, hint, matches: (a) => {
        const v = ipv4Value(a);
        return v >= 0 && ((v & mask) >>> 0) === base;
      } };
    }
    const list = new BlockList();
    const type = 'ipv6';
    list.addSubnet(net, bits, type);
    return {
      text,
      prefix: null,
      hint: null,
      matches: (a) => {
        return a.includes(':') && isIP(a) === 6 && list.check(a, 'ipv6');
      },
    };
  }

  if (/^(\d{1,3}|x|\*)(\.(\d{1,3}|x|\*)){3}$/.test(text) && /[x*]/.test(text)) {
    const parts = text.split('.');
    if (parts.some((p) => p !== 'x' && p !== '*' && Number(p) > 255)) return bad;
    const firstWild = parts.findIndex((p) => p === 'x' || p === '*');
    const trailing = parts.slice(firstWild).every((p) => p === 'x' || p === '*');
    const prefix = trailing ? parts.slice(0, firstWild).map((p) => `${Number(p)}.`).join('') : null;
    const octets = parts.map((p) => (p === 'x' || p === '*' ? null : Number(p)));
    return {
      text,
      prefix,
      hint: prefix === '' ? null : prefix,
      matches: (a) => {
        if (prefix !== null) return a.startsWith(prefix) && ipv4Value(a) >= 0;
        const v = ipv4Value(a);
        if (v < 0) return false;
        for (let i = 0; i < 4; i++) if (octets[i] !== null && ((v >>> (24 - 8 * i)) & 255) !== octets[i]) return false;
        return true;
      },
    };
  }

  const family = isIP(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (family === 0) return bad;
  const exact = text.startsWith('[') ? text.slice(1, -1) : text;
  if (family === 6) {
    // IPv6 has many spellings of one address: compare through a one-address block list.
    const list = new BlockList();
    list.addAddress(exact, 'ipv6');
    return { text: exact, prefix: null, hint: null, matches: (a) => a.includes(':') && isIP(a) === 6 && list.check(a, 'ipv6') };
  }
  return { text: exact, prefix: exact, hint: exact, matches: (a) => a === exact };
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number, or -1 when it is not one. */
export function ipv4Value(a: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return -1; // no leading zeros (never octal)
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}
