// NAT detection for a binding (SPEC §6): the device is behind NAT when the address in its
// Contact is not the address its REGISTER came from, or is a private one (RFC 1918,
// RFC 6598 shared space, link-local, IPv6 ULA and link-local).

import { BlockList, isIP } from 'node:net';

const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const f = isIP(address);
  return f !== 0 && PRIVATE.check(address, f === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a binding looks NATed. A Contact naming a host name (not an address) says
 * nothing about NAT by itself; only its port is compared then.
 */
export function natDetected(contactHost: string, contactPort: number | null, sourceAddress: string, sourcePort: number): boolean {
  const family = isIP(contactHost);
  if (family !== 0) {
    if (isPrivateAddress(contactHost)) return true;
    if (family === 4 ? contactHost !== sourceAddress : !sameIpv6(contactHost, sourceAddress)) return true;
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
