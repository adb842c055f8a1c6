import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addLine, kernelElement, KernelFilter, removeLines, staleTables, tableScript } from './kernel-filter.js';

const T0 = 1_800_000_000_000;
const silent = { info() {}, warn() {} };

describe('kernel filter scripts', () => {
  it('sorts addresses into the IPv4 and IPv6 sets; anything else is refused', () => {
    expect(kernelElement('192.0.2.7')).toEqual({ set: 'b4', address: '192.0.2.7' });
    expect(kernelElement('::ffff:192.0.2.7')).toEqual({ set: 'b4', address: '192.0.2.7' });
    expect(kernelElement('2001:DB8::1')).toEqual({ set: 'b6', address: '2001:db8::1' });
    expect(kernelElement('192.0.2.0/24')).toBeNull();
    expect(kernelElement('1.2.3.4 } ; flush ruleset')).toBeNull();
  });

  it('puts the block end into the element timeout, and permanent blocks without one', () => {
    const e = kernelElement('192.0.2.7')!;
    expect(addLine('rollcall_1', e, T0 + 600_000, T0)).toBe('add element inet rollcall_1 b4 { 192.0.2.7 timeout 600s }');
    expect(addLine('rollcall_1', e, T0 + 1_500, T0)).toBe('add element inet rollcall_1 b4 { 192.0.2.7 timeout 2s }');
    expect(addLine('rollcall_1', e, null, T0)).toBe('add element inet rollcall_1 b4 { 192.0.2.7 }');
    expect(addLine('rollcall_1', e, T0, T0)).toBeNull();
    expect(removeLines('rollcall_1', e)).toEqual(['add element inet rollcall_1 b4 { 192.0.2.7 }', 'delete element inet rollcall_1 b4 { 192.0.2.7 }']);
  });

  it('matches only the given SIP ports', () => {
    const script = tableScript('rollcall_7', [5061, 5060, 5060]);
    expect(script).toContain('th dport { 5060, 5061 } ip saddr @b4 counter drop');
    expect(script).toContain('th dport { 5060, 5061 } ip6 saddr @b6 counter drop');
  });

  it('finds the tables of processes that are gone', () => {
    const listing = 'table inet filter\ntable inet rollcall_10_ab12\ntable inet rollcall_20_cd34\ntable ip rollcall_30_ef56\ntable inet rollcall_40\n';
    expect(staleTables(listing, (pid) => pid === 20)).toEqual(['rollcall_10_ab12']);
  });
});

describe('KernelFilter', () => {
  function recording(fail = false) {
    const scripts: string[] = [];
    let now = T0;
    const filter = new KernelFilter(silent, (s) => (scripts.push(s), fail ? 'permission denied' : null), () => now, 'f00d');
    return { filter, scripts, advance: (ms: number) => (now += ms) };
  }

  it('batches additions and sends a removal at once, after what was pending', () => {
    const { filter, scripts } = recording();
    filter.start('auto', [5060], new Map(), false);
    expect(filter.active).toBe(true);
    scripts.length = 0;
    filter.add('192.0.2.1', T0 + 60_000);
    filter.add('192.0.2.2', null);
    expect(scripts).toEqual([]); // batched
    filter.remove('192.0.2.1');
    expect(scripts).toEqual([
      `add element inet rollcall_${process.pid}_f00d b4 { 192.0.2.1 timeout 60s }\n` +
        `add element inet rollcall_${process.pid}_f00d b4 { 192.0.2.2 }\n` +
        `add element inet rollcall_${process.pid}_f00d b4 { 192.0.2.1 }\n` +
        `delete element inet rollcall_${process.pid}_f00d b4 { 192.0.2.1 }\n`,
    ]);
    filter.stop();
    expect(scripts.at(-1)).toBe(`delete table inet rollcall_${process.pid}_f00d\n`);
  });

  it('auto turns itself off when nft fails; nftables makes it an error naming the key', () => {
    const a = recording(true);
    a.filter.start('auto', [5060], new Map(), false);
    expect(a.filter.active).toBe(false);
    a.filter.add('192.0.2.1', null);
    a.filter.stop();
    expect(a.scripts).toHaveLength(1);
    const n = recording(true);
    expect(() => n.filter.start('nftables', [5060], new Map(), false)).toThrow(/security\.kernelFilter/);
  });

  it('off never runs nft', () => {
    const { filter, scripts } = recording();
    filter.start('off', [5060], new Map([['192.0.2.1', null]]), false);
    filter.add('192.0.2.2', null);
    filter.flush();
    expect(scripts).toEqual([]);
  });
});

const nft = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
const NFT_SKIP = nft.error !== undefined ? 'nft is not installed' : nft.status !== 0 ? `nft is not permitted here (${(nft.stderr ?? '').trim()})` : null;
if (NFT_SKIP !== null) console.warn(`skipping the live nftables test: ${NFT_SKIP}`);

describe.skipIf(NFT_SKIP !== null)('KernelFilter on the real kernel', () => {
  it('creates its table with the blocks, follows additions and removals, and removes it at stop', () => {
    const filter = new KernelFilter(silent, undefined, Date.now);
    const list = () => spawnSync('nft', ['list', 'table', 'inet', filter.table], { encoding: 'utf8' });
    try {
      filter.start('nftables', [5999], new Map([['192.0.2.1', Date.now() + 60_000]]), false);
      expect(list().stdout).toMatch(/192\.0\.2\.1 timeout 1m/);
      filter.add('2001:db8::5', null);
      filter.flush();
      expect(list().stdout).toContain('2001:db8::5');
      filter.remove('192.0.2.1');
      filter.remove('192.0.2.99'); // not there: still fine
      expect(list().stdout).not.toContain('192.0.2.1');
      expect(list().stdout).toContain('dport 5999');
    } finally {
      filter.stop();
    }
    expect(list().status).not.toBe(0);
  });
});
