// Console login brute-force lockout (issue 3): failed logins lock the user name (from any
// address) and the source address (for any user) for `http.lockout.duration`; while locked,
// even the right password gets 429 with Retry-After. Sources are distinct loopback addresses.

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

const PASSWORD = 'a-very-long-password';

function loginFrom(base: string, source: string, username: string, password: string): Promise<{ status: number; retryAfter: string | undefined; body: { error?: string; retryAfter?: number } }> {
  const url = new URL('/api/login', base);
  const payload = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: source, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text) as { error?: string } }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('login lockout', () => {
  let dataDir: string;
  let server: ServerProcess;
  let base: string;

  beforeAll(async () => {
    dataDir = tempDataDir('lockout');
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      const r = rollcall(['users', 'add', name, '--role', 'read-only', '--password', PASSWORD, '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
    }
    server = await startServer({ dataDir, extra: ['--set', 'http.lockout.maxFailures=3', '--set', 'http.lockout.duration=2', '--set', 'http.lockout.window=60'] });
    base = server.httpUrl!;
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  it('locks a user after N failures: the right password then gets 429 from any address, until the lock ends', async () => {
    for (let i = 0; i < 3; i++) expect((await loginFrom(base, '127.0.0.2', 'bob', 'guess-' + i)).status).toBe(401);
    const locked = await loginFrom(base, '127.0.0.3', 'bob', PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(locked.body.error).toMatch(/too many failed logins/);
    // The address that guessed is locked for every user; another address is not.
    expect((await loginFrom(base, '127.0.0.2', 'carol', PASSWORD)).status).toBe(429);
    expect((await loginFrom(base, '127.0.0.3', 'carol', PASSWORD)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2200));
    expect((await loginFrom(base, '127.0.0.3', 'bob', PASSWORD)).status).toBe(200);
  });

  it('a brute-force run never logs in once the lock has started', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await loginFrom(base, '127.0.0.4', 'dave', `wrong-${i}`)).status);
    statuses.push((await loginFrom(base, '127.0.0.4', 'dave', PASSWORD)).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3).every((s) => s === 429)).toBe(true);
  });

  it('failed and refused logins are in the audit log', async () => {
    const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: PASSWORD }) });
    expect(r.status).toBe(200);
    // alice is read-only and cannot read the audit log; the store can.
    const { openSqliteStore } = await import('../../src/store/sqlite/sqlite-store.js');
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      const entries = store.audit.query({ limit: 1000 });
      const failed = entries.filter((e) => e.action === 'login.failed' && e.target === 'dave');
      expect(failed.length).toBe(3);
      expect(failed[0]!.address).toBe('127.0.0.4');
      expect(entries.filter((e) => e.action === 'login.locked' && e.target === 'dave').length).toBe(18);
    } finally {
      await store.close();
    }
  });
});
