// Allow and deny lists of CIDR blocks (IPv4 and IPv6) answering "which entry covers this
// source address?" for every datagram of a flood, in O(log n) with 100,000 entries. Built once
// per list change: the blocks are flattened into disjoint intervals, each pointing at its most
// specific covering entry, so a lookup is one parse and one binary search with no allocation
// (net.BlockList costs microseconds per check and cannot say which entry matched).

export interface AddressListEntry<T> {
  readonly cidr: string;
  readonly value: T;
}

/** A CIDR block with its first and last address; `text` is its canonical spelling. */
export type CidrBlock =
  | { readonly family: 4; readonly first: number; readonly last: number; readonly prefix: number; readonly text: string }
  | { readonly family: 6; readonly first: bigint; readonly last: bigint; readonly prefix: number; readonly text: string };

/** A list entry that is not a CIDR block; `index` is its position in the entries given. */
export class AddressListError extends Error {
  constructor(
    message: string,
    readonly cidr: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'AddressListError';
  }
}

const V6_MAX = (1n << 128n) - 1n;

// Parsers write here instead of returning arrays: a lookup must not allocate.
const groups = new Uint16Array(8);

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128). Host bits below the
 * prefix are cleared (`192.168.1.7/24` is 192.168.1.0/24), as routers and iptables do. An
 * IPv4-mapped IPv6 block (`::ffff:10.0.0.0/104`) is the IPv4 block it maps (10.0.0.0/8), since
 * a dual-stack socket reports IPv4 sources in that form. Returns a message when invalid.
 */
export function parseCidr(input: string): CidrBlock | string {
  const text = input.trim();
  const bad = `"${input}" is not a CIDR block`;
  if (text === '') return `${bad}: give an address such as 192.0.2.1 or a block such as 10.0.0.0/8 or 2001:db8::/32`;
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  let prefix = -1;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits)) return `${bad}: the prefix length after "/" must be a number (0 to 32 for IPv4, 0 to 128 for IPv6)`;
    prefix = Number(bits);
  }

  const v4 = parseIpv4(address, 0, address.length);
  if (v4 >= 0) {
    if (prefix > 32) return `${bad}: an IPv4 prefix length is 0 to 32`;
    return ipv4Block(v4, prefix < 0 ? 32 : prefix);
  }
  if (!parseIpv6(address, 0, address.length)) {
    return `${bad}: "${address}" is not an IPv4 or IPv6 address`;
  }
  if (prefix > 128) return `${bad}: an IPv6 prefix length is 0 to 128`;
  if (prefix < 0) prefix = 128;
  if (isMapped() && prefix >= 96) return ipv4Block(mappedValue(), prefix - 96);
  let value = 0n;
  for (let i = 0; i < 8; i++) value = (value << 16n) | BigInt(groups[i]!);
  const hostBits = (1n << BigInt(128 - prefix)) - 1n;
  const first = value & ~hostBits & V6_MAX;
  return { family: 6, first, last: first | hostBits, prefix, text: `${formatIpv6(first)}/${prefix}` };
}

function ipv4Block(value: number, prefix: number): CidrBlock {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const first = (value & mask) >>> 0;
  const last = (first | ~mask) >>> 0;
  return { family: 4, first, last, prefix, text: `${first >>> 24}.${(first >>> 16) & 255}.${(first >>> 8) & 255}.${first & 255}/${prefix}` };
}

export class AddressList<T> {
  private constructor(
    private readonly entries: readonly AddressListEntry<T>[],
    /** Start of each IPv4 interval; interval i runs to v4Starts[i + 1] - 1 (the last to 2^32 - 1). */
    private readonly v4Starts: Uint32Array,
    /** Index into entries of the entry owning each IPv4 interval; -1 where none covers it. */
    private readonly v4Owners: Int32Array,
    /** Starts of the IPv6 intervals as four 32-bit words each, most significant first. */
    private readonly v6Starts: Uint32Array,
    private readonly v6Owners: Int32Array,
    /**
     * For long lists, the IPv4 interval holding each /16's first address (and the last
     * interval at 65,536): a lookup then searches only between two neighbours, a few steps
     * instead of ~18 cache misses. 256 KiB, so small lists (one per account) go without.
     */
    private readonly v4Jump: Uint32Array | null,
  ) {}

  /**
   * Builds the index. Where blocks overlap, the longest prefix wins; where the same block is
   * listed twice, the later entry wins. Throws AddressListError naming the first bad entry.
   */
  static build<T>(entries: Iterable<AddressListEntry<T>>): AddressList<T> {
    const list: AddressListEntry<T>[] = [];
    const v4: Interval<number>[] = [];
    const v6: Interval<bigint>[] = [];
    for (const entry of entries) {
      const index = list.length;
      const block = parseCidr(entry.cidr);
      if (typeof block === 'string') throw new AddressListError(block, entry.cidr, index);
      list.push(entry);
      if (block.family === 4) v4.push({ first: block.first, last: block.last, prefix: block.prefix, index });
      else v6.push({ first: block.first, last: block.last, prefix: block.prefix, index });
    }
    const f4 = flatten(v4, 0, 0xffffffff, (p) => p + 1);
    const f6 = flatten(v6, 0n, V6_MAX, (p) => p + 1n);
    const v6Starts = new Uint32Array(f6.starts.length * 4);
    for (let i = 0; i < f6.starts.length; i++) {
      const s = f6.starts[i]!;
      for (let w = 0; w < 4; w++) v6Starts[i * 4 + w] = Number((s >> BigInt(96 - 32 * w)) & 0xffffffffn);
    }
    const v4Starts = Uint32Array.from(f4.starts);
    return new AddressList(list, v4Starts, Int32Array.from(f4.owners), v6Starts, Int32Array.from(f6.owners), v4Starts.length > JUMP_FROM ? jumpTable(v4Starts) : null);
  }

  /** The number of entries given (a block listed twice counts twice). */
  get size(): number {
    return this.entries.length;
  }

  /**
   * The most specific (longest prefix) entry covering `address`, or null (also for a string
   * that is not an IP address). An IPv4-mapped address (`::ffff:192.0.2.1`) is looked up as
   * the IPv4 address it is, so an IPv6 block wider than /96 (`::/0`) does not cover it.
   */
  lookup(address: string): AddressListEntry<T> | null {
    const owner = this.ownerOf(address);
    return owner < 0 ? null : this.entries[owner]!;
  }

  has(address: string): boolean {
    return this.ownerOf(address) >= 0;
  }

  private ownerOf(address: string): number {
    let v4 = parseIpv4(address, 0, address.length);
    if (v4 < 0) {
      // A zone (`fe80::1%eth0`) says which link, not which address.
      let end = address.indexOf('%');
      if (end < 0) end = address.length;
      else if (!isZone(address, end + 1)) return -1;
      if (!parseIpv6(address, 0, end)) return -1;
      if (!isMapped()) return this.ownerOfIpv6();
      v4 = mappedValue();
    }
    const starts = this.v4Starts;
    let lo = 0;
    let hi = starts.length - 1;
    const jump = this.v4Jump;
    if (jump !== null) {
      const p = v4 >>> 16;
      lo = jump[p]!;
      hi = jump[p + 1]!;
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= v4) lo = mid;
      else hi = mid - 1;
    }
    return this.v4Owners[lo]!;
  }

  /** The owner of the address in `groups`. */
  private ownerOfIpv6(): number {
    const w0 = ((groups[0]! << 16) | groups[1]!) >>> 0;
    const w1 = ((groups[2]! << 16) | groups[3]!) >>> 0;
    const w2 = ((groups[4]! << 16) | groups[5]!) >>> 0;
    const w3 = ((groups[6]! << 16) | groups[7]!) >>> 0;
    const s = this.v6Starts;
    let lo = 0;
    let hi = this.v6Owners.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const k = mid * 4;
      // starts[mid] <= address, compared a word at a time.
      const le = s[k]! !== w0 ? s[k]! < w0
        : s[k + 1]! !== w1 ? s[k + 1]! < w1
        : s[k + 2]! !== w2 ? s[k + 2]! < w2
        : s[k + 3]! <= w3;
      if (le) lo = mid;
      else hi = mid - 1;
    }
    return this.v6Owners[lo]!;
  }
}

/** IPv4 intervals above which a list keeps a /16 jump table. */
const JUMP_FROM = 1024;

function jumpTable(starts: Uint32Array): Uint32Array {
  const jump = new Uint32Array(65537);
  let i = 0;
  for (let p = 0; p < 65536; p++) {
    const at = p * 65536;
    while (i + 1 < starts.length && starts[i + 1]! <= at) i++;
    jump[p] = i;
  }
  jump[65536] = starts.length - 1;
  return jump;
}

interface Interval<P> {
  readonly first: P;
  readonly last: P;
  readonly prefix: number;
  readonly index: number;
}

/**
 * Disjoint intervals covering the whole address space, each owned by the most specific block
 * covering it (-1: none). CIDR blocks never partly overlap (two are nested or disjoint), so
 * after sorting by start and then widest first, a stack of the blocks open at the current
 * position holds the owner on top.
 */
function flatten<P extends number | bigint>(blocks: Interval<P>[], zero: P, max: P, succ: (p: P) => P): { starts: P[]; owners: number[] } {
  blocks.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.prefix - b.prefix || a.index - b.index));
  const starts: P[] = [zero];
  const owners: number[] = [-1];
  const emit = (at: P, owner: number): void => {
    const n = starts.length;
    if (starts[n - 1] === at) {
      owners[n - 1] = owner;
      // An interval emptied by a later block at the same start: merge its neighbours.
      if (n > 1 && owners[n - 2] === owner) {
        starts.pop();
        owners.pop();
      }
    } else if (owners[n - 1] !== owner) {
      starts.push(at);
      owners.push(owner);
    }
  };
  const open: Interval<P>[] = [];
  const close = (before: P | null): void => {
    while (open.length > 0 && (before === null || open[open.length - 1]!.last < before)) {
      const ended = open.pop()!;
      if (ended.last !== max) emit(succ(ended.last), open.length > 0 ? open[open.length - 1]!.index : -1);
    }
  };
  for (const b of blocks) {
    close(b.first);
    emit(b.first, b.index);
    open.push(b);
  }
  close(null);
  return { starts, owners };
}

/** Whether s[from..] is a zone id: letters, digits, '-', '.' and ':' (as net.isIP accepts). */
function isZone(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e;
    if (!ok) return false;
  }
  return true;
}

/** Whether `groups` holds an IPv4-mapped address (::ffff:a.b.c.d). */
function isMapped(): boolean {
  return groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff;
}

function mappedValue(): number {
  return ((groups[6]! << 16) | groups[7]!) >>> 0;
}

/** A dotted-quad IPv4 address in s[from, to) as an unsigned 32-bit number, or -1. */
function parseIpv4(s: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return -1; // no leading zeros: inet_aton would read them as octal
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parses an IPv6 address in s[from, to) (RFC 4291 §2.2 text forms) into `groups`. */
function parseIpv6(s: string, from: number, to: number): boolean {
  let n = 0;
  let gap = -1;
  let i = from;
  if (to - from < 2) return false;
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return false;
    gap = 0;
    i += 2;
    if (i === to) {
      groups.fill(0);
      return true;
    }
  }
  for (;;) {
    const start = i;
    let value = 0;
    let digits = 0;
    for (; i < to; i++) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) break;
      if (++digits > 4) return false;
      value = value * 16 + d;
    }
    if (i < to && s.charCodeAt(i) === 0x2e) {
      // A dotted-quad tail (::ffff:192.0.2.1) fills the last two groups.
      if (n > 6) return false;
      const v4 = parseIpv4(s, start, to);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      break;
    }
    if (digits === 0 || n === 8) return false;
    groups[n++] = value;
    if (i === to) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < to && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i === to) break;
    } else if (i === to) {
      return false;
    }
  }
  if (gap < 0) return n === 8;
  // "::" stands for at least one group of zeros.
  if (n > 7) return false;
  const moved = n - gap;
  for (let k = 0; k < moved; k++) groups[7 - k] = groups[n - 1 - k]!;
  for (let k = gap; k < 8 - moved; k++) groups[k] = 0;
  return true;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
function formatIpv6(value: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((value >> BigInt(16 * i)) & 0xffffn));
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLength, 8)}`;
}
