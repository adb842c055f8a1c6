// NAT detection for a binding (SPEC §6): the device is behind NAT when the address in its
// Contact or its top Via is not the address its REGISTER came from, or is a private one
// (RFC 1918, RFC 6598 shared space, link-local, IPv6 ULA and link-local).

import { BlockList, isIP } from 'node:net';

// By hand rather than with net.BlockList: its check costs ~2.5 µs a call, and this runs for
// every REGISTER that creates or refreshes a binding.
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const dot1 = address.indexOf('.');
    const a = Number(address.slice(0, dot1));
    const b = Number(address.slice(dot1 + 1, address.indexOf('.', dot1 + 1)));
    return (
      a === 10 || // RFC 1918
      (a === 172 && b >= 16 && b <= 31) || // RFC 1918
      (a === 192 && b === 168) || // RFC 1918
      (a === 100 && b >= 64 && b <= 127) || // RFC 6598 shared address space (carrier-grade NAT)
      (a === 169 && b === 254) // link-local
    );
  }
  if (family === 6) {
    // The first group decides: fc00::/7 (ULA) and fe80::/10 (link-local). A first group
    // shorter than four digits has leading zeros, so it is neither.
    const colon = address.indexOf(':');
    if (colon !== 4) return false;
    const first = parseInt(address.slice(0, 4), 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  return false;
}

/**
 * Whether a binding looks NATed. A Contact naming a host name (not an address) says
 * nothing about NAT by itself; only its port is compared then — except a `.invalid` name,
 * which a client writes when it has no address anyone can reach (RFC 7118 §5.2, browsers
 * over WebSocket): only its connection reaches it, which is what NAT means here.
 */
export function natDetected(contactHost: string, contactPort: number | null, sourceAddress: string, sourcePort: number): boolean {
  const family = isIP(contactHost);
  if (family === 0) {
    if (contactHost.length > 8 && contactHost.slice(-8).toLowerCase() === '.invalid') return true;
  } else {
    if (isPrivateAddress(contactHost)) return true;
    if (family === 4 ? contactHost !== sourceAddress && `::ffff:${contactHost}` !== sourceAddress : !sameIpv6(contactHost, sourceAddress)) return true;
  }
  return contactPort !== null && contactPort !== sourcePort;
}

function sameIpv6(a: string, b: string): boolean {
  if (a === b) return true;
  if (isIP(b) !== 6) return false;
  const one = new BlockList();
  one.addAddress(a, 'ipv6');
  return one.check(b, 'ipv6');
}

/**
 * Whether a REGISTER's sender is behind NAT: its Contact or its top Via (sent-by, before
 * received/rport) names another address or port than the one it came from, or a private one.
 */
export function registerBehindNat(
  contactHost: string | null,
  contactPort: number | null,
  viaHost: string,
  viaPort: number | null,
  sourceAddress: string,
  sourcePort: number,
): boolean {
  if (contactHost !== null && natDetected(contactHost, contactPort, sourceAddress, sourcePort)) return true;
  return natDetected(viaHost, viaPort, sourceAddress, sourcePort);
}
