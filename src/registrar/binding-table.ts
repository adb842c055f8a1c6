// The live binding table (Kamailio's usrloc): bindings by AOR and by id, and their next
// deadline (turning Expiring, then expiring) on one wheel.

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
  private readonly byAor = new Map<string, Binding[]>();
  private readonly byId = new Map<number, Binding>();
  private readonly wheel: DeadlineWheel<Binding>;

  constructor(
    nowMs: number,
    /** Share of the interval left at which a binding is Expiring (read on every use). */
    private readonly expiringShare: () => number,
  ) {
    this.wheel = new DeadlineWheel(nowMs);
  }

  get size(): number {
    return this.byId.size;
  }

  get aorCount(): number {
    return this.byAor.size;
  }

  of(aor: string): readonly Binding[] {
    return this.byAor.get(aor) ?? NO_BINDINGS;
  }

  get(id: number): Binding | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Binding> {
    return this.byId.values();
  }

  /** Adds a new binding, or re-files one whose expiry changed (a refresh). */
  put(b: Binding): void {
    if (!this.byId.has(b.id)) {
      this.byId.set(b.id, b);
      const list = this.byAor.get(b.aor);
      if (list === undefined) this.byAor.set(b.aor, [b]);
      else list.push(b);
    }
    b.expiringNoted = false;
    this.fileDeadline(b);
  }

  remove(b: Binding): boolean {
    if (this.byId.get(b.id) !== b) return false;
    this.byId.delete(b.id);
    this.wheel.cancel(b);
    const list = this.byAor.get(b.aor);
    if (list !== undefined) {
      const i = list.indexOf(b);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byAor.delete(b.aor);
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
