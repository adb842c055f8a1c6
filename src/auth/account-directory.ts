// The accounts the registrar authenticates against, cached in memory: a REGISTER costs a
// Map lookup instead of a database read. Any change to the accounts table, by this
// process or another (the CLI), bumps the store's version; the cache is dropped when the
// version moves (checked by `revalidate`, called once a second and after local changes).

import { ownString } from '../sip/own-string.js';
import type { AccountRecord, AccountStore } from '../store/store.js';

export class AccountDirectory {
  /** Accounts by `user@domain`; null remembers that there is none (see find). */
  private readonly cache = new Map<string, AccountRecord | null>();
  private version: number;

  constructor(
    private readonly store: AccountStore,
    /**
     * Most accounts kept; past it the cache starts over (it refills from the store). The
     * cache earns its keep under registration storms, when the same accounts come back
     * within seconds; in steady state (a phone every 30 minutes or so) a database read per
     * REGISTER costs nothing that matters, so it need not hold every account.
     */
    private readonly maxCached = 20_000,
  ) {
    this.version = store.version();
  }

  get size(): number {
    return this.cache.size;
  }

  find(username: string, domain: string): AccountRecord | null {
    // A flat copy: it is kept as a cache key (a concatenation would keep the username's
    // packet alive with it), and a flat string hashes and compares faster.
    const key = ownString(`${username}@${domain}`);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    // Unknown users are not cached: a scan of random names must not grow memory.
    const a = this.store.find(username, domain);
    if (a !== null) {
      if (this.cache.size >= this.maxCached) this.cache.clear();
      this.cache.set(key, a);
    }
    return a;
  }

  /** Drops the cache if any process changed an account since the last check; true if so. */
  revalidate(): boolean {
    const v = this.store.version();
    if (v === this.version) return false;
    this.version = v;
    this.cache.clear();
    return true;
  }
}
