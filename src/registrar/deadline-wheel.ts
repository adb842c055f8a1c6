// One timer for a million deadlines: items are filed under the second their deadline falls
// in, and a single tick per second collects every item that is due. Moving an item (a
// refresh) is O(1), so bindings never hold a setTimeout each.

/** Items carry their own slot (-1 when not filed), which saves a Map entry per item. */
export interface WheelItem {
  wheelSlot: number;
}

export class DeadlineWheel<T extends WheelItem> {
  private readonly slots = new Map<number, Set<T>>();
  private count = 0;
  /** Earliest second that may still hold items (everything before was collected). */
  private cursor: number;

  constructor(nowMs: number) {
    this.cursor = Math.floor(nowMs / 1000);
  }

  get size(): number {
    return this.count;
  }

  /** Files `item` under `deadlineMs` (replacing any earlier filing). */
  schedule(item: T, deadlineMs: number): void {
    this.cancel(item);
    // Ceil: an item is never collected before its deadline.
    const second = Math.max(Math.ceil(deadlineMs / 1000), this.cursor);
    let slot = this.slots.get(second);
    if (slot === undefined) {
      slot = new Set();
      this.slots.set(second, slot);
    }
    slot.add(item);
    item.wheelSlot = second;
    this.count++;
  }

  cancel(item: T): void {
    const second = item.wheelSlot;
    if (second < 0) return;
    item.wheelSlot = -1;
    this.count--;
    const slot = this.slots.get(second);
    if (slot === undefined) return;
    slot.delete(item);
    if (slot.size === 0) this.slots.delete(second);
  }

  /** Removes and returns every item whose deadline is at or before `nowMs`. */
  collect(nowMs: number): T[] {
    const until = Math.floor(nowMs / 1000);
    const due: T[] = [];
    // Walking second by second is cheap while the server runs (one step per tick); after
    // a long pause (or a start-up with old deadlines), jump through the filed seconds.
    if (until - this.cursor > 4096) {
      const seconds = [...this.slots.keys()].filter((s) => s <= until).sort((a, b) => a - b);
      for (const s of seconds) this.drain(s, due);
    } else {
      for (let s = this.cursor; s <= until; s++) this.drain(s, due);
    }
    this.cursor = until + 1;
    return due;
  }

  private drain(second: number, into: T[]): void {
    const slot = this.slots.get(second);
    if (slot === undefined) return;
    this.slots.delete(second);
    for (const item of slot) {
      item.wheelSlot = -1;
      into.push(item);
    }
    this.count -= slot.size;
  }
}
