// Durability: a 200 OK is only sent once its binding is committed. Register endpoints,
// kill -9 the server while registrations are still in flight, restart it on the same data:
// every binding that was answered 200 is there, with the right remaining expiry.

import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { registerWithDigest, UdpSipClient } from '../support/sip-client.js';

const DOMAIN = 'durable.test';
const N = 400;

describe('durability', () => {
  const dataDir = tempDataDir('kill9');
  let server: ServerProcess | null = null;

  afterAll(async () => {
    await server?.kill();
    removeDir(dataDir);
  });

  it('after kill -9 and restart, every acknowledged binding is there with its remaining expiry', async () => {
    const csv = ['username,domain,password', ...Array.from({ length: N }, (_, i) => `d${i},${DOMAIN},pw${i}`)];
    writeFileSync(join(dataDir, 'a.csv'), csv.join('\n') + '\n');
    expect(rollcall(['accounts', 'import', join(dataDir, 'a.csv'), '--data-dir', dataDir]).status).toBe(0);
    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'] });
    const client = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });

    const acked = new Map<string, { at: number; expires: number }>();
    let killed = false;
    let inFlightAtKill = 0;
    let pending = 0;
    const one = async (i: number) => {
      pending++;
      try {
        const expires = 600 + i; // distinct expiries so a mix-up would show
        const r = await registerWithDigest(client, { user: `d${i}`, password: `pw${i}`, domain: DOMAIN, contactHost: '127.0.0.1', contactPort: 7000 + i, expires }, 1);
        if (r.status === 200) acked.set(`sip:d${i}@${DOMAIN}`, { at: Date.now(), expires: Number(r.contact !== '*' && r.contact[0]?.params.find((p) => p[0] === 'expires')?.[1]) });
      } catch {
        // no answer: the server died first
      } finally {
        pending--;
      }
    };
    // Keep ~40 registrations in flight; pull the plug once half are acknowledged.
    const runs: Promise<void>[] = [];
    for (let i = 0; i < N && !killed; i++) {
      runs.push(one(i));
      if (pending >= 40) await new Promise((r) => setTimeout(r, 2));
      if (acked.size >= N / 2 && !killed) {
        killed = true;
        inFlightAtKill = pending;
        await server.kill();
      }
    }
    await Promise.allSettled(runs);
    client.close();
    expect(killed).toBe(true);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(acked.size).toBeGreaterThanOrEqual(N / 2);

    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'] });
    const list = rollcall(['registrations', 'list', '--json', '--data-dir', dataDir]);
    expect(list.status, list.stderr).toBe(0);
    const rows = new Map((JSON.parse(list.stdout) as Array<{ aor: string; remaining: number; expires: number }>).map((r) => [r.aor, r]));
    const now = Date.now();
    const missing = [...acked.keys()].filter((aor) => !rows.has(aor));
    expect(missing).toEqual([]);
    for (const [aor, a] of acked) {
      const row = rows.get(aor)!;
      expect(row.expires).toBe(a.expires);
      const expected = a.expires - (now - a.at) / 1000;
      expect(Math.abs(row.remaining - expected)).toBeLessThanOrEqual(2);
    }
  });

  it('a binding that expired while the server was stopped becomes an expired event at start', async () => {
    const dir = tempDataDir('expired-down');
    try {
      expect(rollcall(['accounts', 'add', 'e1', '--domain', DOMAIN, '--password', 'pw', '--data-dir', dir]).status).toBe(0);
      const opts = { dataDir: dir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'], extra: ['--set', 'registrar.minExpires=1'] };
      let s = await startServer(opts);
      const client = await UdpSipClient.open({ host: '127.0.0.1', port: s.port('UDP') });
      const r = await registerWithDigest(client, { user: 'e1', password: 'pw', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: 7001, expires: 2 });
      client.close();
      expect(r.status).toBe(200);
      await s.stop();
      await new Promise((res) => setTimeout(res, 2500));
      s = await startServer(opts);
      expect(s.logs.find((l) => l['msg'] === 'bindings restored')).toMatchObject({ restored: 0, expiredWhileDown: 1 });
      await s.stop();
      const db = new Database(join(dir, 'rollcall.db'), { readonly: true });
      const rows = db.prepare("SELECT type, reason FROM events WHERE aor = ? ORDER BY id").all(`sip:e1@${DOMAIN}`);
      const left = db.prepare('SELECT COUNT(*) AS n FROM bindings').get() as { n: number };
      db.close();
      expect(rows).toEqual([
        { type: 'registered', reason: null },
        { type: 'expired', reason: 'expired while the server was stopped' },
      ]);
      expect(left.n).toBe(0);
    } finally {
      removeDir(dir);
    }
  });
});
