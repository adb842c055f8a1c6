// The live binding table (Kamailio's usrloc): bindings by AOR, and their next deadline
// (turning Expiring, then expiring) on one wheel.
//
// Memory per binding is what limits how many a server holds: most AORs have exactly one
// binding (registrar.maxBindings defaults to 1), so the map holds that binding itself and
// only switches to an array for the AORs that have several.

import { Binding } from './binding.js';
import { DeadlineWheel } from './deadline-wheel.js';

export interface Transitions {
  /** Bindings that just turned Expiring (refresh overdue). */
  readonly expiring: Binding[];
  /** Bindings whose expiry passed; already removed from the table. */
  readonly expired: Binding[];
}

const NO_BINDINGS: readonly Binding[] = Object.freeze([]);

export class BindingTable {
  private readonly byAor = new Map<string, Binding | Binding[]>();
  private readonly wheel: DeadlineWheel<Binding>;
  private count = 0;
  /** Told of every binding added or refreshed, and removed (the keep-alive schedule). */
  onPut: ((b: Binding) => void) | null = null;
  onRemove: ((b: Binding) => void) | null = null;
  /** Told that a binding's run-time state is about to be shown (the keep-alive applies an answer it holds for it). */
  onShow: ((b: Binding) => void) | null = null;

  constructor(
    nowMs: number,
    /** Share of the interval left at which a binding is Expiring (read on every use). */
    private readonly expiringShare: () => number,
  ) {
    this.wheel = new DeadlineWheel(nowMs);
  }

  get size(): number {
    return this.count;
  }

  get aorCount(): number {
    return this.byAor.size;
  }

  of(aor: string): readonly Binding[] {
    const v = this.byAor.get(aor);
    if (v === undefined) return NO_BINDINGS;
    return v instanceof Binding ? [v] : v;
  }

  *all(): IterableIterator<Binding> {
    for (const v of this.byAor.values()) {
      if (v instanceof Binding) yield v;
      else yield* v;
    }
  }

  /** Every binding, in an array: several times cheaper to walk than all()'s generator. */
  snapshot(): Binding[] {
    const out: Binding[] = new Array<Binding>(this.count);
    let n = 0;
    for (const v of this.byAor.values()) {
      if (v instanceof Binding) out[n++] = v;
      else for (let i = 0; i < v.length; i++) out[n++] = v[i]!;
    }
    out.length = n;
    return out;
  }

  /** The binding with its run-time state current (reachability, last seen, RTT): for showing it. */
  shown(b: Binding): Binding {
    if (this.onShow !== null) this.onShow(b);
    return b;
  }

  /** Adds a new binding, or re-files one whose expiry changed (a refresh). */
  put(b: Binding): void {
    if (!b.inTable) {
      b.inTable = true;
      this.count++;
      const v = this.byAor.get(b.aor);
      if (v === undefined) this.byAor.set(b.aor, b);
      else if (v instanceof Binding) this.byAor.set(b.aor, [v, b]);
      else v.push(b);
    }
    b.expiringNoted = false;
    this.fileDeadline(b);
    if (this.onPut !== null) this.onPut(b);
  }

  remove(b: Binding): boolean {
    if (!b.inTable) return false;
    b.inTable = false;
    this.count--;
    this.wheel.cancel(b);
    if (this.onRemove !== null) this.onRemove(b);
    const v = this.byAor.get(b.aor);
    if (v === b) {
      this.byAor.delete(b.aor);
    } else if (Array.isArray(v)) {
      const i = v.indexOf(b);
      if (i >= 0) v.splice(i, 1);
      if (v.length === 1) this.byAor.set(b.aor, v[0]!);
      else if (v.length === 0) this.byAor.delete(b.aor);
    }
    return true;
  }

  /** Collects due deadlines: returns what turned Expiring and what expired (and removes it). */
  tick(nowMs: number): Transitions {
    const expiring: Binding[] = [];
    const expired: Binding[] = [];
    for (const b of this.wheel.collect(nowMs)) {
      if (nowMs >= b.expiresAt) {
        this.remove(b);
        expired.push(b);
      } else {
        if (!b.expiringNoted) {
          b.expiringNoted = true;
          expiring.push(b);
        }
        this.wheel.schedule(b, b.expiresAt);
      }
    }
    return { expiring, expired };
  }

  private fileDeadline(b: Binding): void {
    const at = b.expiringAt(this.expiringShare());
    this.wheel.schedule(b, b.expiringNoted ? b.expiresAt : at);
  }
}
