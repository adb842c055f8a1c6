// Blocked sources dropped by the kernel (nftables) before they reach the SIP socket.
//
// Why: refusing a datagram in the process still costs Node's whole receive path (libuv, a
// Buffer and an address object per datagram: ~5 µs here) before any check of ours runs, so
// one flooder sending a few hundred thousand datagrams a second takes a core just to be
// ignored. A drop rule in the kernel's input hook costs nothing in this process (on loopback
// the sender's own CPU pays for it). This is what operators otherwise bolt on with fail2ban.
//
// Rollcall touches only its own table, `inet rollcall_<pid>_<random>`, whose rules match only its own
// SIP ports: a blocked address can still reach SSH or the console. Blocks carry their expiry
// into the kernel as element timeouts, so a table left behind by a killed process stops
// dropping when its blocks would have ended, and the next start removes it.
//
// Changes go to `nft -f -` in batches, synchronously: at most a few milliseconds, once per
// flush interval while blocks are being added, and right away for a removal (an operator who
// lifts a block expects the next packet to pass). Synchronous keeps the kernel's order the
// order of the calls.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

export type KernelFilterMode = 'auto' | 'nftables' | 'off';

/** Where an address goes in the table: its set, and its text as nft reads it. */
export interface KernelElement {
  readonly set: 'b4' | 'b6';
  readonly address: string;
}

/** The set and nft text of a source address; null for anything that is not one address. */
export function kernelElement(address: string): KernelElement | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return { set: 'b4', address: mapped[1]! };
  const family = isIP(address);
  if (family === 4) return { set: 'b4', address };
  if (family === 6) return { set: 'b6', address: address.toLowerCase() };
  return null;
}

/** The table's definition: two sets of blocked sources and the drop rules for our ports. */
export function tableScript(table: string, ports: readonly number[]): string {
  const dports = `{ ${[...new Set(ports)].sort((a, b) => a - b).join(', ')} }`;
  return [
    `table inet ${table} {`,
    '  set b4 { type ipv4_addr; flags timeout; }',
    '  set b6 { type ipv6_addr; flags timeout; }',
    '  chain input {',
    '    type filter hook input priority -10; policy accept;',
    `    meta l4proto { tcp, udp } th dport ${dports} ip saddr @b4 counter drop`,
    `    meta l4proto { tcp, udp } th dport ${dports} ip6 saddr @b6 counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The line that puts `address` in the table until `untilMs` (null: until removed). */
export function addLine(table: string, e: KernelElement, untilMs: number | null, nowMs: number): string | null {
  if (untilMs === null) return `add element inet ${table} ${e.set} { ${e.address} }`;
  const seconds = Math.ceil((untilMs - nowMs) / 1000);
  if (seconds <= 0) return null;
  return `add element inet ${table} ${e.set} { ${e.address} timeout ${seconds}s }`;
}

/**
 * The lines that take `address` out. Adding first makes the delete succeed whether or not
 * the element is there (a batch with one failing line is refused whole).
 */
export function removeLines(table: string, e: KernelElement): string[] {
  return [`add element inet ${table} ${e.set} { ${e.address} }`, `delete element inet ${table} ${e.set} { ${e.address} }`];
}

/** Tables of processes that are gone (`rollcall_<pid>_…` with no such pid), from `nft list tables`. */
export function staleTables(listing: string, isAlive: (pid: number) => boolean): string[] {
  const out: string[] = [];
  for (const m of listing.matchAll(/^table inet (rollcall_(\d+)_[0-9a-f]+)$/gm)) {
    if (!isAlive(Number(m[2]))) out.push(m[1]!);
  }
  return out;
}

/** The drop rules' counters summed, from `nft list table`. */
export function dropCounters(listing: string): { packets: number; bytes: number } {
  let packets = 0;
  let bytes = 0;
  for (const m of listing.matchAll(/counter packets (\d+) bytes (\d+)/g)) {
    packets += Number(m[1]);
    bytes += Number(m[2]);
  }
  return { packets, bytes };
}

export interface KernelFilterLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Runs one nft script; the error text when it failed. */
export type NftRunner = (script: string) => string | null;

const runNft: NftRunner = (script) => {
  const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined) return r.error.message;
  if (r.status !== 0) return (r.stderr || `nft exited with ${r.status}`).trim().split('\n')[0]!;
  return null;
};

function listTables(): string {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout : '';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Adds are batched this long; removals go at once. */
const FLUSH_MS = 100;

export class KernelFilter {
  /** True once the table is in place; false when off, unavailable or stopped. */
  active = false;
  readonly table: string;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: KernelFilterLog,
    private readonly run: NftRunner = runNft,
    private readonly now: () => number = Date.now,
    suffix = randomBytes(4).toString('hex'),
  ) {
    // The pid tells a later start whether the owner is gone; the suffix keeps two servers in
    // one process (tests) apart.
    this.table = `rollcall_${process.pid}_${suffix}`;
  }

  /**
   * Puts the table in place for `ports` with the given blocks. `auto` turns itself off (and
   * says why) when nft is missing or not permitted; `nftables` makes that a startup error.
   */
  start(mode: KernelFilterMode, ports: readonly number[], blocks: ReadonlyMap<string, number | null>, cleanStale = true): void {
    if (mode === 'off' || ports.length === 0) return;
    if (cleanStale) {
      for (const t of staleTables(listTables(), pidAlive)) this.run(`delete table inet ${t}\n`);
    }
    // Replaces a table of the same name (a reused pid) in one transaction.
    const err = this.run(`add table inet ${this.table}\ndelete table inet ${this.table}\n${tableScript(this.table, ports)}`);
    if (err !== null) {
      const why = `nftables unavailable (${err})`;
      if (mode === 'nftables') {
        throw new Error(`security.kernelFilter is "nftables" but ${why}: install nftables and run with CAP_NET_ADMIN (root), or set security.kernelFilter to "auto" or "off"`);
      }
      this.log.info({ reason: why }, 'kernel filter off: blocked sources are dropped in the process (security.kernelFilter)');
      return;
    }
    this.active = true;
    this.log.info({ table: `inet ${this.table}`, ports }, 'kernel filter on: nftables drops blocked sources before they reach the SIP ports');
    this.replaceAll(blocks);
  }

  /** Drops `address` in the kernel until `untilMs` (null: until removed); batched. */
  add(address: string, untilMs: number | null): void {
    if (!this.active) return;
    const e = kernelElement(address);
    if (e === null) return;
    const line = addLine(this.table, e, untilMs, this.now());
    if (line === null) return;
    this.pending.push(line);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Lets `address` through again, now (with anything still pending before it). */
  remove(address: string): void {
    if (!this.active) return;
    const e = kernelElement(address);
    if (e === null) return;
    this.pending.push(...removeLines(this.table, e));
    this.flush();
  }

  /** The kernel's sets become exactly `blocks` (addresses and when each ends). */
  replaceAll(blocks: ReadonlyMap<string, number | null>): void {
    if (!this.active) return;
    const now = this.now();
    this.pending = [`flush set inet ${this.table} b4`, `flush set inet ${this.table} b6`];
    for (const [address, until] of blocks) {
      const e = kernelElement(address);
      const line = e === null ? null : addLine(this.table, e, until, now);
      if (line !== null) this.pending.push(line);
    }
    this.flush();
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.active || this.pending.length === 0) return;
    const script = this.pending.join('\n') + '\n';
    this.pending = [];
    const err = this.run(script);
    if (err !== null) this.log.warn({ err }, 'kernel filter update failed; blocked sources are still dropped in the process');
  }

  /** What the drop rules have dropped since start (read from the kernel); null when not active. */
  counters(): { packets: number; bytes: number } | null {
    if (!this.active) return null;
    const r = spawnSync('nft', ['list', 'table', 'inet', this.table], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return null;
    return dropCounters(r.stdout);
  }

  /** Removes the table: nothing of ours stays in the kernel. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    if (!this.active) return;
    this.active = false;
    const err = this.run(`delete table inet ${this.table}\n`);
    if (err !== null) this.log.warn({ err, table: this.table }, 'kernel filter table not removed');
  }
}
