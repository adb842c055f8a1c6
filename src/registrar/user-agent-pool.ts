// One string per distinct User-Agent. A fleet runs a handful of phone models and firmware
// versions; a copy of the same "Yealink SIP-T46S 66.86.0.15" in each of 100,000 bindings
// would cost megabytes for nothing. Bounded, so a scanner sending random User-Agents
// cannot grow it: past the limit strings are copied, not pooled.

import { ownString } from '../sip/own-string.js';

export class UserAgentPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly maxDistinct = 4096) {}

  /** The pooled (or an owned) copy of `ua`. */
  intern(ua: string | null): string | null {
    if (ua === null) return null;
    const pooled = this.pool.get(ua);
    if (pooled !== undefined) return pooled;
    const own = ownString(ua);
    if (this.pool.size < this.maxDistinct) this.pool.set(own, own);
    return own;
  }
}
