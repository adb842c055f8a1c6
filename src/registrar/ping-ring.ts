// The keep-alive schedule (SPEC §6): every pinged endpoint sits in one slot of a ring that
// turns once per interval, one slot per tick, so each endpoint is pinged once per interval
// and the pings are spread evenly over it — 100,000 endpoints at a 30 s interval and 10 ms
// ticks make ~33 pings a tick, never a burst of all of them. A new endpoint goes to a random
// slot: a fleet that registers within one second still spreads over the whole interval.
// Pure: the random source is passed in.

/** Items carry their own slot (-1 when not in the ring), which saves a Map entry per item. */
export interface RingItem {
  pingSlot: number;
}

export class PingRing<T extends RingItem> {
  private slots: Set<T>[];
  private cursor = 0;
  private count = 0;

  constructor(
    slotCount: number,
    private readonly random: () => number = Math.random,
  ) {
    this.slots = PingRing.emptySlots(slotCount);
  }

  private static emptySlots<T>(n: number): Set<T>[] {
    return Array.from({ length: Math.max(1, Math.floor(n)) }, () => new Set<T>());
  }

  get size(): number {
    return this.count;
  }

  get slotCount(): number {
    return this.slots.length;
  }

  has(item: T): boolean {
    return item.pingSlot >= 0;
  }

  /** Puts `item` in a random slot; an item already in the ring stays where it is. */
  add(item: T): void {
    if (item.pingSlot >= 0) return;
    const slot = Math.min(this.slots.length - 1, Math.floor(this.random() * this.slots.length));
    this.slots[slot]!.add(item);
    item.pingSlot = slot;
    this.count++;
  }

  remove(item: T): void {
    const slot = item.pingSlot;
    if (slot < 0) return;
    item.pingSlot = -1;
    if (this.slots[slot]?.delete(item)) this.count--;
  }

  /** The items of the next slot, in an array (the caller may remove items while walking it). */
  next(): T[] {
    const slot = this.slots[this.cursor]!;
    this.cursor = (this.cursor + 1) % this.slots.length;
    return slot.size === 0 ? [] : Array.from(slot);
  }

  /** A new slot count (the interval changed): every item is placed again at random. */
  resize(slotCount: number): void {
    const n = Math.max(1, Math.floor(slotCount));
    if (n === this.slots.length) return;
    const items: T[] = [];
    for (const s of this.slots) for (const item of s) items.push(item);
    this.slots = PingRing.emptySlots(n);
    this.cursor = 0;
    this.count = 0;
    for (const item of items) {
      item.pingSlot = -1;
      this.add(item);
    }
  }
}
