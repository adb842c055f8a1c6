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
    const list = new BlockList();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(net, bits, type);
    return {
      text,
      prefix: null,
      matches: (a) => {
        const f = isIP(a);
        return f !== 0 && list.check(a, f === 4 ? 'ipv4' : 'ipv6');
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
      matches: (a) => {
        if (prefix !== null) return a.startsWith(prefix) && isIP(a) === 4;
        const got = a.split('.');
        if (got.length !== 4 || isIP(a) !== 4) return false;
        for (let i = 0; i < 4; i++) if (octets[i] !== null && Number(got[i]) !== octets[i]) return false;
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
    return { text: exact, prefix: null, matches: (a) => isIP(a) === 6 && list.check(a, 'ipv6') };
  }
  return { text: exact, prefix: exact, matches: (a) => a === exact };
}
