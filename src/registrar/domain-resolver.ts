// Which domain a host in a Request-URI or To means (RFC 3261 §10.3 step 1). Phones are
// very often configured with the server's IP address instead of its domain: our own
// addresses and configured aliases mean the default domain.

import type { SipUri } from '../sip/message.js';
import { sipAor } from '../sip/uri.js';

/**
 * The AOR a SIP URI names once its host is resolved to `domain` (one of ours). The domain an
 * alias or our own IPv6 address stands for is a name, and is written as one.
 */
export function aorIn(uri: SipUri, domain: string): string {
  return sipAor(uri.user, domain, domain === uri.host ? uri.hostType : domain.includes(':') ? 'ipv6' : 'domain');
}

export interface DomainSources {
  /** Domains from the configuration. */
  readonly configured: readonly string[];
  readonly defaultDomain: string | null;
  readonly aliases: readonly string[];
  /** Addresses of this server (listening and interface addresses). */
  readonly ownAddresses: ReadonlySet<string>;
  /** Domains that have accounts. */
  readonly accountDomains: readonly string[];
}

export class DomainResolver {
  /** Served domains, each mapped to itself: `resolve` hands out these strings, never the
   * caller's (a host sliced from a packet would keep the packet alive in every binding). */
  private served = new Map<string, string>();
  private aliases = new Set<string>();
  private defaultDomain: string | null = null;

  constructor(sources: DomainSources) {
    this.update(sources);
  }

  update(s: DomainSources): void {
    this.served = new Map([...s.configured, ...s.accountDomains].map((d) => [d.toLowerCase(), d.toLowerCase()]));
    this.aliases = new Set([...s.aliases, ...s.ownAddresses].map((a) => stripBrackets(a.toLowerCase())));
    const fallback = s.configured[0] ?? (s.accountDomains.length === 1 ? s.accountDomains[0]! : null);
    this.defaultDomain = (s.defaultDomain ?? fallback)?.toLowerCase() ?? null;
    // An alias never hides a domain of the same name.
    for (const d of this.served.keys()) this.aliases.delete(d);
  }

  get default(): string | null {
    return this.defaultDomain;
  }

  domains(): string[] {
    return [...this.served.keys()];
  }

  /** The served domain `host` stands for, or null when it is not ours. */
  resolve(host: string): string | null {
    const served = this.served.get(host);
    if (served !== undefined) return served;
    if (this.aliases.has(host)) return this.defaultDomain;
    return null;
  }
}

function stripBrackets(a: string): string {
  return a.startsWith('[') && a.endsWith(']') ? a.slice(1, -1) : a;
}
