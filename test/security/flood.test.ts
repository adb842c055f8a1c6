// Flood defence (issue 4): while 127.0.0.2–127.0.0.9 flood the server with REGISTERs for 20 s
// at the highest rate the flooder can produce (one Node process here: several hundred thousand
// a second, each a new transaction), 1,000 legitimate phones registering and refreshing with
// SIPp from 127.0.0.1 must succeed (≥ 99.9 %), every answer within 1 s and with SIPp's
// retransmissions switched off (-nr): a lost answer fails the call. Defaults only, no tuning.
// Loopback only; the flood is bounded in time and count.
//
// What makes it hold with the defaults: a source that keeps going past its rate limit without
// ever authenticating is blocked (security.floodBlock), and blocked sources are dropped by the
// kernel (security.kernelFilter, nftables) before they cost the server's receive path anything.
// Without nftables (not installed, or not permitted) the process must drop every datagram
// itself, and Node 20's UDP receive alone (~5 µs per datagram) needs the second core; the test
// then floods at 50,000/s, the most the process can take on this 2-core machine, and says so.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { removeDir, rollcall, ROOT, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { injectionFile, runSipp, scenario, SIPP_AVAILABLE, SIPP_SKIP_REASON } from '../support/sipp.js';
import { NFT_SKIP_REASON, nftCounters } from '../support/nft.js';

if (!SIPP_AVAILABLE) console.warn(`skipping the flood test: ${SIPP_SKIP_REASON}`);
const KERNEL_FILTER = NFT_SKIP_REASON === null;
if (SIPP_AVAILABLE && !KERNEL_FILTER) console.warn(`flood test at 50,000 REGISTERs/s, not uncapped: the kernel filter is unavailable (${NFT_SKIP_REASON})`);

const DOMAIN = 'flood.test';
const PHONES = 1000;
const FLOOD_MS = 20_000;
/** Uncapped with the kernel filter; else 6,250 × 8 sources = 50,000 REGISTERs per second. */
const FLOOD_RATE_PER_SOURCE = KERNEL_FILTER ? 0 : 6250;
const FLOOD_SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];

function flood(port: number): Promise<{ sent: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'test/support/udp-flood.mjs'), String(port), String(FLOOD_MS), '5000000', ...FLOOD_SOURCES], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FLOOD_RATE: String(FLOOD_RATE_PER_SOURCE) }, // 0: no cap
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { sent: Record<string, number> }) : reject(new Error(`flood exited ${code}`))));
  });
}

describe.skipIf(!SIPP_AVAILABLE)('flood defence', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = tempDataDir('flood');
    const csv = ['username,domain,password,customer'];
    for (let i = 1; i <= PHONES; i++) csv.push(`p${i},${DOMAIN},pw-p${i},office`);
    writeFileSync(join(dataDir, 'accounts.csv'), csv.join('\n') + '\n');
    const r = rollcall(['accounts', 'import', join(dataDir, 'accounts.csv'), '--data-dir', dataDir]);
    expect(r.status, r.stderr).toBe(0);
    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'] });
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  it(`1,000 phones from one address register and refresh through a 20 s flood ${KERNEL_FILTER ? 'at full speed' : 'of 50,000 REGISTERs/s'} from eight others`, async () => {
    const port = server.port('UDP');
    const flooding = flood(port);
    await new Promise((r) => setTimeout(r, 2000));
    const accounts = Array.from({ length: PHONES }, (_, i) => ({ username: `p${i + 1}`, password: `pw-p${i + 1}`, domain: DOMAIN }));
    const run = await runSipp({
      scenario: scenario('register-refresh-strict'),
      target: `127.0.0.1:${port}`,
      transport: 'udp',
      inf: injectionFile(accounts),
      calls: PHONES,
      rate: 100,
      limit: 1000,
      timeoutSeconds: 60,
      extra: ['-nr', '-max_recv_loops', '10000'],
    });
    const { sent } = await flooding;
    const total = Object.values(sent).reduce((a, b) => a + b, 0);
    const kernel = KERNEL_FILTER ? nftCounters(kernelTable(server)) : null;
    console.info(`flood: ${total} REGISTERs sent from ${FLOOD_SOURCES.length} sources in ${FLOOD_MS / 1000} s (${Math.round(total / (FLOOD_MS / 1000))}/s); dropped by the kernel: ${kernel?.packets ?? 'n/a'}`);
    const ok = Number(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(run.stdout)?.[1] ?? NaN);
    const failed = Number(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(run.stdout)?.[1] ?? NaN);
    expect(ok + failed, run.stdout).toBe(PHONES);
    expect(failed, run.errors || run.stdout).toBeLessThanOrEqual(PHONES / 1000);
    expect(total).toBeGreaterThan(800_000);

    // The server still answers, and the flood is in the failure log, counted, by source; every
    // flooding source is blocked for flooding, the phones' address is not.
    await new Promise((r) => setTimeout(r, 1500));
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      const counts = store.failures.counts({ limit: 20 });
      const refused = counts.bySource.filter((s) => FLOOD_SOURCES.includes(s.sourceAddress)).reduce((a, s) => a + s.count, 0);
      expect(counts.byReason.map((r) => r.reason)).toContain('rate-limited');
      expect(counts.bySource.find((s) => s.sourceAddress === '127.0.0.1')).toBeUndefined();
      const blocks = store.blocks.list(Date.now());
      expect(blocks.find((b) => b.value === '127.0.0.1')).toBeUndefined();
      expect(blocks.filter((b) => FLOOD_SOURCES.includes(b.value) && b.reason.startsWith('flood')).map((b) => b.value).sort()).toEqual(FLOOD_SOURCES);
      // What the server refused itself and what the kernel dropped account for the flood.
      if (kernel !== null) {
        expect(kernel.packets).toBeGreaterThan(total * 0.9);
        expect(refused).toBeGreaterThan(0);
      } else {
        expect(refused).toBeGreaterThan(total / 2);
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});

/** The server's nftables table, from its log line saying the kernel filter is on. */
function kernelTable(server: ServerProcess): string {
  const line = server.logs.find((l) => l.msg === 'kernel filter on: nftables drops blocked sources before they reach the SIP ports');
  expect(line, 'the server says the kernel filter is on').toBeDefined();
  return String(line!.table).replace(/^inet /, '');
}
