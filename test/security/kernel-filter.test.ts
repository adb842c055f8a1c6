// The kernel filter against the built server (security.kernelFilter, default auto): a block
// reaches the server's own nftables table and the kernel drops that source before the server
// sees it; a lifted block lets it through at once; while blocked sources are to get 403 the
// kernel holds nothing; the table goes when the server stops. Needs nftables (root or
// CAP_NET_ADMIN); skipped with the reason otherwise. Loopback only.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1 } from '../../src/auth/digest.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { login } from '../api/api-client.js';
import { NFT_SKIP_REASON, nftCounters } from '../support/nft.js';
import { registerWithDigest, UdpSipClient } from '../support/sip-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

if (NFT_SKIP_REASON !== null) console.warn(`skipping the kernel filter test: ${NFT_SKIP_REASON}`);

const DOMAIN = 'kernel.test';
const SOURCE = '127.0.0.61';

describe.skipIf(NFT_SKIP_REASON !== null)('kernel filter (nftables)', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = tempDataDir('kernel');
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'admin-password-long', '--data-dir', dataDir]).status).toBe(0);
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    store.accounts.addMany([{ username: '2001', domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', '2001', DOMAIN, 'pw-2001'), ha1Sha256: computeHa1('SHA-256', '2001', DOMAIN, 'pw-2001') }]);
    await store.close();
    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'] });
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  it('drops a blocked source in the kernel, lets it through once lifted, and holds nothing in 403 mode', async () => {
    const admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
    const status = await admin.json<{ mode: string; active: boolean; table: string; droppedPackets: number }>('GET', '/api/security/kernel-filter');
    expect(status).toMatchObject({ mode: 'auto', active: true, droppedPackets: 0 });
    const table = status.table.replace(/^inet /, '');
    const listing = () => spawnSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });
    expect(listing().stdout).toContain(`dport ${server.port('UDP')} ip saddr @b4`);

    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') }, SOURCE);
    const register = () => registerWithDigest(c, { user: '2001', password: 'pw-2001', domain: DOMAIN, contactHost: SOURCE, contactPort: c.port, expires: 600, callId: randomBytes(6).toString('hex') });
    try {
      expect((await register()).status).toBe(200);
      await admin.json('POST', '/api/security/blocks', { kind: 'address', value: SOURCE, duration: 600 }, 201);
      // Additions are batched for up to 100 ms.
      await new Promise((r) => setTimeout(r, 300));
      expect(listing().stdout).toMatch(new RegExp(`${SOURCE.replaceAll('.', '\\.')} timeout 10m`));
      const before = server.logs.length;
      await expect(register()).rejects.toThrow(/no response/);
      // The kernel dropped it: counted there, and the server never saw it (no refusal logged).
      expect(nftCounters(table).packets).toBeGreaterThanOrEqual(1);
      expect((await admin.json<{ droppedPackets: number }>('GET', '/api/security/kernel-filter')).droppedPackets).toBeGreaterThanOrEqual(1);
      expect(server.logs.slice(before).filter((l) => JSON.stringify(l).includes(SOURCE))).toEqual([]);

      // Lifted: the very next REGISTER passes.
      expect((await admin.raw('DELETE', `/api/security/blocks/address/${SOURCE}`)).status).toBe(204);
      expect(listing().stdout).not.toContain(SOURCE);
      expect((await register()).status).toBe(200);

      // In 403 mode the kernel holds no block, so that the server can answer 403.
      await admin.json('PATCH', '/api/settings', { 'security.unauthorizedResponse': '403' });
      await admin.json('POST', '/api/security/blocks', { kind: 'address', value: SOURCE, duration: 600 }, 201);
      await new Promise((r) => setTimeout(r, 1300)); // the once-a-second tick applies the mode
      expect(listing().stdout).not.toContain(SOURCE);
      expect((await register()).status).toBe(403);
      // Back to drop: the block is in the kernel again.
      await admin.json('PATCH', '/api/settings', { 'security.unauthorizedResponse': 'drop' });
      await new Promise((r) => setTimeout(r, 1300));
      expect(listing().stdout).toContain(SOURCE);
    } finally {
      c.close();
    }

    await server.stop();
    expect(listing().status, 'the table is removed when the server stops').not.toBe(0);
  }, 60_000);
});
