// The network entries the store accepts: an account's allowed source networks and the
// allow/deny address lists. Checked and normalised here, once, when they are written; the
// matching itself belongs to src/security/.

import { isIP } from 'node:net';

/** What an entry should look like, for error messages. */
export const NETWORK_EXAMPLES = 'e.g. 192.0.2.7, 10.0.0.0/8 or 2001:db8::/32';

/**
 * A CIDR or a bare address, trimmed and lowercased, the prefix length without leading
 * zeros; a bare address stays bare. Null when it is neither (zone ids such as `%eth0`
 * included: they name an interface of this host, not a network).
 */
export function normaliseNetwork(text: string): string | null {
  const t = text.trim().toLowerCase();
  if (t.includes('%')) return null;
  const slash = t.indexOf('/');
  if (slash < 0) return isIP(t) === 0 ? null : t;
  const address = t.slice(0, slash);
  const bits = t.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return null;
  const length = Number(bits);
  if (length > (family === 4 ? 32 : 128)) return null;
  return `${address}/${length}`;
}

const V4_WITH_PORT = /^([0-9.]+):(\d{1,5})$/;
const V6_WITH_PORT = /^\[([^\]]+)\]:(\d{1,5})$/;

/**
 * An allowed source of an account: a network as normaliseNetwork takes it, or one address
 * with a port (`192.0.2.7:5060`, `[2001:db8::7]:5060`). Null when it is none of these.
 */
export function normaliseAllowedSource(text: string): { readonly entry: string; readonly hasPort: boolean } | null {
  const network = normaliseNetwork(text);
  if (network !== null) return { entry: network, hasPort: false };
  const t = text.trim().toLowerCase();
  const v4 = V4_WITH_PORT.exec(t);
  const v6 = v4 === null ? V6_WITH_PORT.exec(t) : null;
  const match = v4 ?? v6;
  if (match === null) return null;
  const address = match[1]!;
  const port = Number(match[2]);
  if (isIP(address) !== (v4 !== null ? 4 : 6) || address.includes('%') || port < 1 || port > 65_535) return null;
  return { entry: v4 !== null ? `${address}:${port}` : `[${address}]:${port}`, hasPort: true };
}
