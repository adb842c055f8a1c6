// Keep-alive and reachability against the built server over real UDP (issue 5): an endpoint
// behind a simulated NAT (private Contact and Via, source another loopback address and port)
// is flagged NAT and pinged at its source address, not at its Contact; its answers make it
// reachable with a round-trip time; one that stops answering is flagged unreachable after
// maxMisses pings (an event), and with removeUnreachable its binding is removed. Loopback only.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1 } from '../../src/auth/digest.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { login, type ApiClient } from '../api/api-client.js';
import { registerWithDigest, UdpSipClient } from '../support/sip-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

const DOMAIN = 'ka.test';

interface Reg {
  id: number;
  number: string;
  nat: boolean;
  received: string;
  reachability: string;
  rttMs: number | null;
  keepAliveMisses: number;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('keep-alive and reachability', () => {
  let dataDir: string;
  let server: ServerProcess;
  let admin: ApiClient;

  beforeAll(async () => {
    dataDir = tempDataDir('keepalive');
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'admin-password-long', '--data-dir', dataDir]).status).toBe(0);
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    store.accounts.addMany(['n1', 'n2', 'n3', 'd1'].map((u) => ({ username: u, domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', u, DOMAIN, `pw-${u}`), ha1Sha256: computeHa1('SHA-256', u, DOMAIN, `pw-${u}`) })));
    await store.close();
    const cfg = join(dataDir, 'rollcall.yaml');
    writeFileSync(cfg, 'nat:\n  keepAlive:\n    interval: 1\n    maxMisses: 2\n');
    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'], extra: ['--config', cfg] });
    admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  const registration = async (number: string) => (await admin.json<{ items: Reg[] }>('GET', `/api/registrations?number=${number}`)).items[0];

  /** A phone at loopback `source` that says it is at 192.168.1.x (a NAT in between). */
  async function phoneBehindNat(user: string, source: string): Promise<UdpSipClient> {
    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') }, source);
    const r = await registerWithDigest(c, { user, password: `pw-${user}`, domain: DOMAIN, contactHost: '192.168.1.71', contactPort: 5060, expires: 600, callId: randomBytes(6).toString('hex') });
    expect(r.status).toBe(200);
    return c;
  }

  it('pings a NATed endpoint at its source address; its answers make it reachable with a round-trip time', async () => {
    const c = await phoneBehindNat('n1', '127.0.0.71');
    try {
      const reg = await until('n1 reachable', async () => {
        const r = await registration('n1');
        return r?.reachability === 'reachable' ? r : undefined;
      });
      expect(reg.nat).toBe(true);
      expect(reg.received).toBe(`127.0.0.71:${c.port}`);
      expect(reg.rttMs).toBeGreaterThanOrEqual(0);
      expect(reg.keepAliveMisses).toBe(0);
      // The CLI shows it too, filtered the same way (through the API, with a token).
      const t = rollcall(['users', 'token', 'admin', '--data-dir', dataDir]);
      expect(t.status, t.stderr).toBe(0);
      const cli = rollcall(['registrations', 'list', '--reachability', 'reachable', '--url', server.httpUrl!, '--token', t.stdout.trim()]);
      expect(cli.status, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/REACHABILITY/);
      expect(cli.stdout).toMatch(/sip:n1@ka\.test .* yes +reachable \(\d+ ms\)/);
      // The OPTIONS reached the phone through its source address (the Contact's 192.168.1.71 is unreachable here).
      expect(c.requests.length).toBeGreaterThanOrEqual(1);
      const ping = c.requests[0]!;
      expect(ping.msg.method).toBe('OPTIONS');
      expect(ping.text.split('\r\n')[0]).toBe('OPTIONS sip:n1@192.168.1.71:5060 SIP/2.0');
      expect(ping.from).toBe(`127.0.0.1:${server.port('UDP')}`);
      // About one a second (interval 1 s), not a burst.
      const before = c.requests.length;
      await new Promise((r) => setTimeout(r, 3000));
      expect(c.requests.length - before).toBeGreaterThanOrEqual(2);
      expect(c.requests.length - before).toBeLessThanOrEqual(4);
    } finally {
      c.close();
    }
  }, 30_000);

  it('a direct (not NATed) endpoint is not pinged with the default target', async () => {
    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') }, '127.0.0.74');
    try {
      const r = await registerWithDigest(c, { user: 'd1', password: 'pw-d1', domain: DOMAIN, contactHost: '127.0.0.74', contactPort: c.port, expires: 600, callId: randomBytes(6).toString('hex') });
      expect(r.status).toBe(200);
      await new Promise((res) => setTimeout(res, 2500));
      expect(c.requests).toEqual([]);
      expect(await registration('d1')).toMatchObject({ nat: false, reachability: 'unknown' });
    } finally {
      c.close();
    }
  }, 30_000);

  it('an endpoint that stops answering is flagged unreachable after maxMisses pings, and it is an event', async () => {
    const c = await phoneBehindNat('n2', '127.0.0.72');
    try {
      await until('n2 reachable', async () => ((await registration('n2'))?.reachability === 'reachable' ? true : undefined));
      c.answerRequests = false;
      const reg = await until('n2 unreachable', async () => {
        const r = await registration('n2');
        return r?.reachability === 'unreachable' ? r : undefined;
      });
      expect(reg.keepAliveMisses).toBeGreaterThanOrEqual(2);
      const unreachableOnly = await admin.json<{ items: Reg[] }>('GET', '/api/registrations?reachability=unreachable');
      // The filter: n2, and n1 if its closed socket has missed enough pings by now; never d1.
      expect(unreachableOnly.items.map((r) => r.number)).toContain('n2');
      expect(unreachableOnly.items.every((r) => r.reachability === 'unreachable')).toBe(true);
      const history = await admin.json<{ items: Array<{ type: string; reason: string }> }>('GET', '/api/history?number=n2');
      expect(history.items.find((e) => e.type === 'unreachable')?.reason).toBe('no answer to 2 OPTIONS pings');
      // It answers again: reachable, and that is an event too.
      c.answerRequests = true;
      await until('n2 reachable again', async () => ((await registration('n2'))?.reachability === 'reachable' ? true : undefined));
      const again = await admin.json<{ items: Array<{ type: string }> }>('GET', '/api/history?number=n2');
      expect(again.items.map((e) => e.type)).toContain('reachable');
    } finally {
      c.close();
    }
  }, 30_000);

  it('with removeUnreachable, the binding of an endpoint gone silent is removed (an event)', async () => {
    await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.removeUnreachable': true });
    const c = await phoneBehindNat('n3', '127.0.0.73');
    c.answerRequests = false;
    try {
      await until('n3 removed', async () => ((await registration('n3')) === undefined ? true : undefined));
      const history = await admin.json<{ items: Array<{ type: string; reason: string }> }>('GET', '/api/history?number=n3');
      expect(history.items.map((e) => e.type)).toEqual(expect.arrayContaining(['registered', 'unreachable', 'removed']));
    } finally {
      c.close();
      await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.removeUnreachable': false });
    }
  }, 30_000);
});
