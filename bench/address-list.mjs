#!/usr/bin/env node
// Address list benchmark (issue 4: lookups stay O(log n) or better with 100,000 entries):
// builds a list of random IPv4 and IPv6 blocks, times the build, then times lookups of
// IPv4, IPv4-mapped IPv6 and IPv6 source addresses, about half of them covered, and prints
// nanoseconds per lookup. net.BlockList (a linear scan) is timed on a few for comparison.
//
//   npx tsc -p tsconfig.build.json && node bench/address-list.mjs [--entries 100000] [--lookups 1000000]

import { BlockList } from 'node:net';
import { AddressList } from '../dist/security/address-list.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ENTRIES = arg('entries', 100_000);
const LOOKUPS = arg('lookups', 1_000_000);

// Deterministic (mulberry32), so that runs compare.
let seed = 20261122;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const v4 = (v) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
const hex = () => int(0x10000).toString(16);

// Blocks as a deny list holds them: mostly /24–/32 (single hosts and small ranges seen in
// attacks), some wider; IPv6 under a few prefixes, /48–/128.
const entries = [];
const v4Blocks = [];
const v6Blocks = [];
for (let i = 0; i < ENTRIES; i++) {
  if (i % 4 !== 3) {
    const base = int(2 ** 32);
    const prefix = random() < 0.1 ? 16 + int(8) : 24 + int(9);
    entries.push({ cidr: `${v4(base)}/${prefix}`, value: i });
    v4Blocks.push(base);
  } else {
    const top = ['2001:db8', '2a00:1450', '2600:1f18'][int(3)];
    const groups = `${top}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}`;
    entries.push({ cidr: `${groups}/${48 + int(81)}`, value: i });
    v6Blocks.push(groups);
  }
}

// Addresses: half inside a listed block's network (a hit or a near miss), half anywhere.
const DISTINCT = Math.min(LOOKUPS, 100_000);
const v4Addresses = [];
const mappedAddresses = [];
const v6Addresses = [];
for (let i = 0; i < DISTINCT; i++) {
  const a = i % 2 === 0 ? v4(v4Blocks[int(v4Blocks.length)]) : v4(int(2 ** 32));
  v4Addresses.push(a);
  mappedAddresses.push(`::ffff:${a}`);
  v6Addresses.push(i % 2 === 0 ? v6Blocks[int(v6Blocks.length)] : `2001:db8:${hex()}::${hex()}`);
}

let t = process.hrtime.bigint();
const list = AddressList.build(entries);
const buildMs = Number(process.hrtime.bigint() - t) / 1e6;

function time(addresses, n) {
  let hits = 0;
  // Warm up so the optimiser has compiled lookup before the clock starts.
  for (let i = 0; i < 20_000; i++) if (list.lookup(addresses[i % addresses.length]) !== null) hits++;
  hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (list.lookup(addresses[i % addresses.length]) !== null) hits++;
  const ns = Number(process.hrtime.bigint() - start);
  return { nsPerLookup: ns / n, hitShare: hits / n };
}

const results = {
  entries: list.size,
  buildMs: Math.round(buildMs),
  ipv4: time(v4Addresses, LOOKUPS),
  mapped: time(mappedAddresses, LOOKUPS),
  ipv6: time(v6Addresses, LOOKUPS),
};

// net.BlockList checks its rules one by one: a few lookups are enough to see the difference.
const blockList = new BlockList();
for (const e of entries) {
  const [net, bits] = e.cidr.split('/');
  blockList.addSubnet(net, Number(bits), net.includes(':') ? 'ipv6' : 'ipv4');
}
const FEW = 1_000;
t = process.hrtime.bigint();
for (let i = 0; i < FEW; i++) blockList.check(v4Addresses[i], 'ipv4');
const blockListNs = Number(process.hrtime.bigint() - t) / FEW;

console.log(`AddressList with ${results.entries.toLocaleString('en')} entries (${v4Blocks.length.toLocaleString('en')} IPv4, ${v6Blocks.length.toLocaleString('en')} IPv6), Node ${process.version}`);
console.log(`  build:                 ${results.buildMs} ms`);
for (const [name, r] of [['IPv4', results.ipv4], ['IPv4-mapped IPv6', results.mapped], ['IPv6', results.ipv6]]) {
  console.log(`  ${`${name} lookup:`.padEnd(22)} ${r.nsPerLookup.toFixed(0).padStart(5)} ns  (${LOOKUPS.toLocaleString('en')} lookups, ${(r.hitShare * 100).toFixed(0)} % covered)`);
}
console.log(`  net.BlockList.check:   ${(blockListNs / 1000).toFixed(0).padStart(5)} µs  (IPv4, ${FEW.toLocaleString('en')} checks, for comparison)`);
console.log(JSON.stringify({ ...results, blockListCheckNs: Math.round(blockListNs) }));
