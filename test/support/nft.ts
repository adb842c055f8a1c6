// Whether this machine lets a process use nftables (the kernel filter, security.kernelFilter),
// and the drop counters of a server's table.

import { spawnSync } from 'node:child_process';
import { dropCounters } from '../../src/security/kernel-filter.js';

function probe(): string | null {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  if (r.error !== undefined) return 'nft is not installed (Debian package nftables)';
  if (r.status !== 0) return `nft is not permitted here: ${(r.stderr ?? '').trim()} (needs root or CAP_NET_ADMIN)`;
  return null;
}

/** Null when nftables works here; else why not. */
export const NFT_SKIP_REASON = probe();

/** Packets and bytes the drop rules of `inet TABLE` counted. */
export function nftCounters(table: string): { packets: number; bytes: number } {
  const r = spawnSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft list table inet ${table}: ${r.stderr}`);
  return dropCounters(r.stdout);
}
