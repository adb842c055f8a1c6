// SIP security against the built server over real UDP (issue 4): a brute-force run is locked
// out and never gets a 200, the block survives a restart and an operator lifts it; unknown
// and known users get byte-identical answers; scanners are dropped and blocked; accounts in
// IP auth modes and with allowed networks; the per-registration retry limit.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1 } from '../../src/auth/digest.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { NewAccount } from '../../src/store/store.js';
import { digestAuthorization, registerText, registerWithDigest, UdpSipClient } from '../support/sip-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { login } from '../api/api-client.js';

const DOMAIN = 'sec.test';

function account(username: string, password: string, extra: Partial<NewAccount> = {}): NewAccount {
  return { username, domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', username, DOMAIN, password), ha1Sha256: computeHa1('SHA-256', username, DOMAIN, password), ...extra };
}

async function client(server: ServerProcess, from: string): Promise<UdpSipClient> {
  return UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') }, from);
}

function params(c: UdpSipClient, user: string, password: string, callId = `${user}-${randomBytes(6).toString('hex')}`) {
  return { user, password, domain: DOMAIN, contactHost: c.socket.address().address, contactPort: c.port, expires: 600, callId };
}

describe('SIP security', () => {
  let dataDir: string;
  let server: ServerProcess;
  const start = (extra: string[] = []) => startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0'], extra });

  beforeAll(async () => {
    dataDir = tempDataDir('security');
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'admin-password-long', '--data-dir', dataDir]).status).toBe(0);
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    store.accounts.addMany([
      account('1001', 'right-1001'),
      ...Array.from({ length: 500 }, (_, i) => account(`e${i}`, `pw-e${i}`)),
      account('ipphone', 'unused-ip', { authMode: 'ip', allowedNetworks: ['127.0.0.30'] }),
      account('pwnet', 'right-pwnet', { allowedNetworks: ['127.0.0.40/32'] }),
    ]);
    await store.close();
    server = await start();
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  it('a brute-force run is locked out and never gets a 200; the block survives a restart; an operator lifts it', async () => {
    const c = await client(server, '127.0.0.20');
    let answered = 0;
    let blockedAt = -1;
    try {
      for (let i = 0; i < 300; i++) {
        const p = params(c, '1001', `guess-${i}`);
        if (blockedAt >= 0) {
          // Blocked: the rest of the run is sent and not waited for.
          c.sendRaw(registerText({ ...p, viaPort: c.port }, 1, null));
          continue;
        }
        try {
          const r = await registerWithDigest(c, p);
          expect(r.status).toBe(401);
          answered++;
        } catch {
          blockedAt = i;
        }
      }
      expect(blockedAt).toBeGreaterThan(0);
      expect(blockedAt).toBeLessThanOrEqual(21); // security.lockout.maxFailures (20) failures, then silence
      await expect(registerWithDigest(c, params(c, '1001', 'right-1001'))).rejects.toThrow(/no response/);
    } finally {
      c.close();
    }
    expect(answered).toBe(blockedAt);

    await server.stop();
    server = await start();
    const again = await client(server, '127.0.0.20');
    try {
      await expect(registerWithDigest(again, params(again, '1001', 'right-1001'))).rejects.toThrow(/no response/);
      const admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
      const blocks = await admin.json<Array<{ kind: string; value: string; reason: string; createdBy: string }>>('GET', '/api/security/blocks');
      expect(blocks).toContainEqual(expect.objectContaining({ kind: 'address', value: '127.0.0.20', createdBy: 'auto' }));
      expect((await admin.raw('DELETE', '/api/security/blocks/address/127.0.0.20')).status).toBe(204);
      const ok = await registerWithDigest(again, params(again, '1001', 'right-1001'));
      expect(ok.status).toBe(200);
      const history = await admin.json<{ items: Array<{ type: string; sourceAddress: string }> }>('GET', '/api/history?ip=127.0.0.20');
      expect(history.items.map((e) => e.type)).toEqual(expect.arrayContaining(['blocked', 'unblocked']));
      const failures = await admin.json<{ byReason: Array<{ reason: string; count: number }> }>('GET', '/api/security/failures/counts');
      expect(failures.byReason.find((r) => r.reason === 'wrong-password')!.count).toBeGreaterThanOrEqual(20);
    } finally {
      again.close();
    }
  }, 60_000);

  it('a deny-list entry refuses its source at once and still after a restart; removed, the source is back', async () => {
    const admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
    const entry = await admin.json<{ id: number }>('POST', '/api/security/lists', { list: 'deny', cidr: '127.0.0.24/30', note: 'test' }, 201);
    const c = await client(server, '127.0.0.25');
    try {
      await expect(registerWithDigest(c, params(c, '1001', 'right-1001'))).rejects.toThrow(/no response/);
    } finally {
      c.close();
    }
    await server.stop();
    server = await start();
    const again = await client(server, '127.0.0.25');
    const admin2 = await login(server.httpUrl!, 'admin', 'admin-password-long');
    try {
      await expect(registerWithDigest(again, params(again, '1001', 'right-1001'))).rejects.toThrow(/no response/);
      expect((await admin2.raw('DELETE', `/api/security/lists/${entry.id}`)).status).toBe(204);
      expect((await registerWithDigest(again, params(again, '1001', 'right-1001'))).status).toBe(200);
    } finally {
      again.close();
    }
  }, 60_000);

  it('a block made with the CLI applies to the running server within a second, and both changes are events', async () => {
    const c = await client(server, '127.0.0.70');
    const admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
    try {
      expect((await registerWithDigest(c, params(c, '1001', 'right-1001'))).status).toBe(200);
      expect(rollcall(['security', 'blocks', 'add', '127.0.0.70', '--for', '1h', '--reason', 'test', '--data-dir', dataDir]).status).toBe(0);
      await new Promise((r) => setTimeout(r, 1500));
      await expect(registerWithDigest(c, params(c, '1001', 'right-1001'))).rejects.toThrow(/no response/);
      expect(rollcall(['security', 'blocks', 'remove', '127.0.0.70', '--data-dir', dataDir]).status).toBe(0);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await registerWithDigest(c, params(c, '1001', 'right-1001'))).status).toBe(200);
      const history = await admin.json<{ items: Array<{ type: string; reason: string }> }>('GET', '/api/history?ip=127.0.0.70');
      const types = history.items.map((e) => e.type);
      expect(types).toContain('blocked');
      expect(types).toContain('unblocked');
      expect(history.items.find((e) => e.type === 'blocked')!.reason).toBe('test (by cli)');
    } finally {
      c.close();
    }
  }, 30_000);

  it('the same Call-ID failing more than maxAttemptsPerCallId times gets 403', async () => {
    const c = await client(server, '127.0.0.21');
    try {
      const p = { ...params(c, '1001', 'nope'), viaPort: c.port };
      let challenge = await c.request(registerText(p, 1, null));
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await c.request(registerText(p, 2 + i, digestAuthorization(challenge, '1001', 'nope', `sip:${DOMAIN}`)));
        statuses.push(r.status);
        if (r.status === 401) challenge = r;
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses[5]).toBe(403);
    } finally {
      c.close();
    }
  });

  it('unknown and known users get byte-identical answers apart from per-request fields', async () => {
    await server.stop();
    server = await start(['--set', 'security.lockout.maxFailures=100000', '--set', 'security.rateLimit.enabled=false']);
    const c = await client(server, '127.0.0.22');
    const first = new Set<string>();
    const second = new Set<string>();
    try {
      for (let i = 0; i < 1000; i++) {
        const user = i % 2 === 0 ? `e${i / 2}` : `ghost${i}`;
        const p = { ...params(c, user, 'wrong-password', `enum-${i}`), viaPort: c.port };
        const a = await c.request(registerText(p, 1, null));
        const aWire = c.lastWire;
        await c.request(registerText(p, 2, digestAuthorization(a, user, 'wrong-password', `sip:${DOMAIN}`)));
        const bWire = c.lastWire;
        const normalize = (raw: string) =>
          raw
            .split(user).join('USER')
            .replace(/nonce="[^"]+"/g, 'nonce="N"')
            .replace(/;tag=[^;\r\n>]+/g, ';tag=T')
            .replace(/branch=[^;\r\n]+/g, 'branch=B')
            .replace(/enum-\d+/g, 'CALLID')
            .replace(/;rport=\d+/g, ';rport=P');
        first.add(normalize(aWire));
        second.add(normalize(bWire));
      }
    } finally {
      c.close();
    }
    expect(first.size).toBe(1);
    expect(second.size).toBe(1);
    expect([...second][0]).toMatch(/^SIP\/2\.0 401 Unauthorized\r\n/);
  }, 60_000);

  it('a scanner User-Agent is dropped and its source blocked', async () => {
    const c = await client(server, '127.0.0.60');
    try {
      const text = registerText({ ...params(c, '1001', 'x'), viaPort: c.port }, 1, null).replace('User-Agent: rollcall-test-client', 'User-Agent: friendly-scanner');
      await expect(c.request(text, 800)).rejects.toThrow(/no response/);
      await expect(registerWithDigest(c, params(c, '1001', 'right-1001'))).rejects.toThrow(/no response/);
    } finally {
      c.close();
    }
  });

  it('IP auth mode: the allowed address registers without a password, any other gets 403', async () => {
    const inside = await client(server, '127.0.0.30');
    const outside = await client(server, '127.0.0.31');
    try {
      const ok = await inside.request(registerText({ ...params(inside, 'ipphone', ''), viaPort: inside.port }, 1, null));
      expect(ok.status).toBe(200);
      const no = await outside.request(registerText({ ...params(outside, 'ipphone', ''), viaPort: outside.port }, 1, null));
      expect(no.status).toBe(403);
    } finally {
      inside.close();
      outside.close();
    }
  });

  it('allowed networks: the right password from elsewhere gets 403', async () => {
    const inside = await client(server, '127.0.0.40');
    const outside = await client(server, '127.0.0.41');
    try {
      expect((await registerWithDigest(inside, params(inside, 'pwnet', 'right-pwnet'))).status).toBe(200);
      expect((await registerWithDigest(outside, params(outside, 'pwnet', 'right-pwnet'))).status).toBe(403);
    } finally {
      inside.close();
      outside.close();
    }
  });
});
