// The management API against the built server, over real HTTP, with 100,000 bindings
// restored from the store and phones registering over real UDP: every route, its
// validation errors and role checks, sessions with CSRF, tokens, the export of 100,000 rows,
// run-time settings, console users and the audit trail. (The login lockout has its own
// server in lockout.test.ts: it locks the address every test here logs in from.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { putBinding } from '../../src/store/store-records.fixture.js';
import type { StoreOp } from '../../src/store/store.js';
import { registerText, registerWithDigest, UdpSipClient } from '../support/sip-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { ApiClient, login } from './api-client.js';

const DOMAIN = 'api.test';
const BULK = 100_000;
const ADMIN_PW = 'correct-horse-battery';

/** What the restored bindings look like, so that filters have known answers. */
function bulkBinding(i: number): StoreOp {
  const now = Date.now();
  return putBinding(i, {
    aor: `sip:7${String(i).padStart(6, '0')}@${DOMAIN}`,
    username: `7${String(i).padStart(6, '0')}`,
    domain: DOMAIN,
    contact: `sip:7${String(i).padStart(6, '0')}@${i % 10 === 0 ? `192.168.${i % 7}.${i % 250}` : `10.${i % 100}.${(i >> 8) % 256}.${i % 256}`}:5060`,
    sourceAddress: i % 10 === 0 ? `203.0.113.${i % 250}` : `10.${i % 100}.${(i >> 8) % 256}.${i % 256}`,
    sourcePort: 5060,
    // What the registrar decides for these: a private Contact behind a public source is NAT.
    nat: i % 10 === 0,
    transport: i % 4 === 0 ? 'TCP' : 'UDP',
    userAgent: i % 3 === 0 ? 'Yealink SIP-T46S 66.86' : 'Grandstream GXP2170 1.0.11',
    expires: 3600,
    expiresAt: now + 3_000_000 + (i % 1000) * 1000,
    registeredAt: now - 60_000,
    refreshedAt: now - 60_000,
  });
}

describe('management API', () => {
  let dataDir: string;
  let server: ServerProcess;
  let admin: ApiClient;
  let phone: UdpSipClient;

  beforeAll(async () => {
    dataDir = tempDataDir('api');
    for (const [name, role] of [['admin', 'admin'], ['op', 'operator'], ['viewer', 'read-only']] as const) {
      const r = rollcall(['users', 'add', name, '--role', role, '--password', `${ADMIN_PW}-${role}`, '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
    }
    for (const [user, customer] of [['1001', 'acme'], ['1002', 'acme'], ['1003', 'globex']] as const) {
      const r = rollcall(['accounts', 'add', user, '--domain', DOMAIN, '--password', `pw${user}`, '--customer', customer, '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
    }
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    const ops: StoreOp[] = [];
    for (let i = 1; i <= BULK; i++) ops.push(bulkBinding(i));
    store.bindings.applyNow(ops);
    await store.close();

    server = await startServer({ dataDir, domains: [DOMAIN] });
    admin = await login(server.httpUrl!, 'admin', `${ADMIN_PW}-admin`);
    phone = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
    const ok = await registerWithDigest(phone, { user: '1001', password: 'pw1001', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: phone.port, expires: 3600 });
    expect(ok.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    phone?.close();
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  describe('authentication', () => {
    it('401 without a session or token, with a message saying how to log in', async () => {
      const r = await fetch(`${server.httpUrl}/api/registrations`);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: string }).error).toMatch(/log in/);
    });

    it('401 for a wrong password, and the same for an unknown user', async () => {
      for (const username of ['admin', 'nobody']) {
        const r = await fetch(`${server.httpUrl}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: 'wrong-password-1' }),
        });
        expect(r.status).toBe(401);
        expect(await r.json()).toEqual({ error: 'wrong user name or password' });
      }
    });

    it('the session cookie is HttpOnly and SameSite=Strict', async () => {
      const r = await fetch(`${server.httpUrl}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'viewer', password: `${ADMIN_PW}-read-only` }),
      });
      expect(r.status).toBe(200);
      const cookie = r.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^rollcall_session=[\w-]{40,};/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      const body = (await r.json()) as { user: { name: string; role: string }; csrfToken: string };
      expect(body.user).toEqual({ name: 'viewer', role: 'read-only' });
      expect(body.csrfToken.length).toBeGreaterThanOrEqual(32);
    });

    it('a state change with the cookie but without the CSRF token is refused', async () => {
      const r = await admin.raw('PATCH', '/api/settings', { 'registrar.maxBindings': 1 }, { csrf: false });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: string }).error).toMatch(/x-csrf-token/);
      const wrong = await admin.raw('PATCH', '/api/settings', { 'registrar.maxBindings': 1 }, { csrfValue: 'x'.repeat(32) });
      expect(wrong.status).toBe(403);
    });

    it('logout ends the session', async () => {
      const s = await login(server.httpUrl!, 'viewer', `${ADMIN_PW}-read-only`);
      expect((await s.get('/api/session')).status).toBe(200);
      expect((await s.raw('POST', '/api/logout')).status).toBe(204);
      expect((await s.get('/api/session')).status).toBe(401);
    });

    it('API tokens: created once, used as Bearer without CSRF, revoked', async () => {
      const created = await admin.json<{ id: number; token: string }>('POST', '/api/tokens', { name: 'script' }, 201);
      expect(created.token).toMatch(/^rc_[\w-]{40,}$/);
      const bearer = ApiClient.withToken(server.httpUrl!, created.token);
      expect((await bearer.get('/api/registrations?limit=1')).status).toBe(200);
      const listed = await admin.json<Array<{ id: number; name: string; token?: string }>>('GET', '/api/tokens');
      expect(listed.find((t) => t.id === created.id)).toMatchObject({ name: 'script' });
      expect(listed.every((t) => t.token === undefined)).toBe(true);
      expect((await bearer.raw('DELETE', `/api/tokens/${created.id}`)).status).toBe(204);
      expect((await bearer.get('/api/registrations?limit=1')).status).toBe(401);
    });

    it('a token printed by `rollcall users token` works', async () => {
      const r = rollcall(['users', 'token', 'viewer', '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
      const bearer = ApiClient.withToken(server.httpUrl!, r.stdout.trim());
      const s = await bearer.json<{ user: { name: string } }>('GET', '/api/session');
      expect(s.user.name).toBe('viewer');
    });
  });

  describe('roles', () => {
    it('read-only can read but not unregister, edit accounts or change settings', async () => {
      const viewer = await login(server.httpUrl!, 'viewer', `${ADMIN_PW}-read-only`);
      expect((await viewer.get('/api/registrations?limit=1')).status).toBe(200);
      for (const [method, path, body] of [
        ['DELETE', '/api/registrations/5', undefined],
        ['POST', '/api/registrations/unregister', { aor: `sip:7000005@${DOMAIN}` }],
        ['POST', '/api/accounts', { username: '1900', domain: DOMAIN, password: 'x' }],
        ['PATCH', '/api/settings', { 'registrar.maxBindings': 2 }],
        ['GET', '/api/users', undefined],
        ['GET', '/api/audit', undefined],
      ] as const) {
        const r = await viewer.raw(method, path, body);
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(((await r.json()) as { error: string }).error).toMatch(/role/);
      }
    });

    it('operator can unregister and edit accounts, not change settings or users', async () => {
      const op = await login(server.httpUrl!, 'op', `${ADMIN_PW}-operator`);
      expect((await op.raw('PATCH', '/api/settings', { 'registrar.maxBindings': 2 })).status).toBe(403);
      expect((await op.get('/api/users')).status).toBe(403);
      const r = await op.json<{ removed: number }>('POST', '/api/registrations/unregister', { aor: `sip:7090007@${DOMAIN}` });
      expect(r.removed).toBe(1);
    });
  });

  describe('registrations', () => {
    type Page = { items: Array<Record<string, unknown>>; total: number; nextCursor: string | null };

    it('lists with total and a cursor; pages never repeat a row', async () => {
      const seen = new Set<number>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await admin.json<Page>('GET', `/api/registrations?numberPrefix=70000&limit=25${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.total).toBe(99);
        for (const it of page.items) {
          expect(seen.has(it['id'] as number)).toBe(false);
          seen.add(it['id'] as number);
        }
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(seen.size).toBe(99);
      expect(pages).toBe(4);
    });

    it('filters: number, prefix, IP exact/wildcard/CIDR, customer, status, user agent, transport', async () => {
      const total = async (q: string) => (await admin.json<Page>('GET', `/api/registrations?limit=1&${q}`)).total;
      expect(await total('number=7000042')).toBe(1);
      expect(await total('numberPrefix=7001')).toBe(1000);
      expect(await total('ip=203.0.113.x')).toBe(BULK / 10);
      expect(await total('ip=203.0.113.20')).toBe(400);
      expect(await total('ip=192.168.0.0/16')).toBe(BULK / 10); // contact addresses
      expect(await total('ip=127.0.0.1')).toBe(1); // the phone registered over UDP
      expect(await total('customer=acme')).toBe(1);
      expect(await total('customer=globex')).toBe(0);
      expect(await total('status=expiring')).toBe(0);
      expect(await total(`userAgent=${encodeURIComponent('yealink')}`)).toBe(Math.floor(BULK / 3));
      expect(await total('transport=tcp')).toBe(BULK / 4);
      expect(await total('ip=10.4.x.x&transport=TCP')).toBe(
        Array.from({ length: BULK }, (_, k) => k + 1).filter((i) => i % 10 !== 0 && i % 100 === 4 && i % 4 === 0).length,
      );
    });

    it('sorts ascending and descending', async () => {
      const asc = await admin.json<Page>('GET', '/api/registrations?sort=expiresAt&limit=5');
      const desc = await admin.json<Page>('GET', '/api/registrations?sort=expiresAt&order=desc&limit=5');
      const a = asc.items.map((r) => r['expiresAt'] as number);
      const d = desc.items.map((r) => r['expiresAt'] as number);
      expect(a).toEqual([...a].sort((x, y) => x - y));
      expect(d).toEqual([...d].sort((x, y) => y - x));
      expect(a[0]!).toBeLessThanOrEqual(d[0]!);
    });

    it('bad queries get 400 naming the parameter', async () => {
      for (const [q, word] of [
        ['sort=colour', 'sort'],
        ['limit=0', 'limit'],
        ['limit=5000', 'limit'],
        ['status=gone', 'status'],
        ['ip=999.1.1.1', 'ip'],
        ['ip=10.0.0.0/40', 'ip'],
        ['cursor=garbage', 'cursor'],
        ['transport=carrier-pigeon', 'transport'],
      ]) {
        const r = await admin.get(`/api/registrations?${q}`);
        expect(r.status, q).toBe(400);
        expect(((await r.json()) as { error: string }).error, q).toContain(word);
      }
    });

    it('a registration shows every field, its raw last REGISTER and 200 OK, and its history', async () => {
      const page = await admin.json<Page>('GET', '/api/registrations?number=1001');
      expect(page.total).toBe(1);
      const row = page.items[0]!;
      expect(row).toMatchObject({ number: '1001', customer: 'acme', transport: 'UDP', sourceAddress: '127.0.0.1', status: 'registered', nat: false, userAgent: 'rollcall-test-client' });
      const d = await admin.json<{ registration: { id: number }; lastRequest: string; lastResponse: string; history: Array<{ type: string }> }>('GET', `/api/registrations/${row['id']}`);
      expect(d.registration.id).toBe(row['id']);
      expect(d.lastRequest).toMatch(/^REGISTER sip:api\.test SIP\/2\.0\r\n/);
      expect(d.lastRequest).toMatch(/Authorization: Digest/);
      expect(d.lastResponse).toMatch(/^SIP\/2\.0 200 OK\r\n/);
      expect(d.history.map((e) => e.type)).toContain('registered');
      expect((await admin.get('/api/registrations/99999999')).status).toBe(404);
    });

    it('force unregister removes the binding, says calls were not torn down, and is audited', async () => {
      const r = await admin.json<{ removed: number; callsTerminated: null; note: string }>('DELETE', '/api/registrations/11?terminateCalls=true');
      expect(r.removed).toBe(1);
      expect(r.callsTerminated).toBeNull();
      expect(r.note).toMatch(/call routing is not enabled/);
      expect((await admin.json<Page>('GET', '/api/registrations?number=7000011')).total).toBe(0);
      expect((await admin.get('/api/registrations/11')).status).toBe(404);
      const history = await admin.json<{ items: Array<{ type: string; reason: string }> }>('GET', '/api/history?number=7000011&type=force-removed');
      expect(history.items[0]).toMatchObject({ type: 'force-removed', reason: 'by admin' });
      const audit = await admin.json<{ items: Array<{ user: string; action: string; target: string; address: string; before: { number: string } }> }>(
        'GET',
        '/api/audit?action=registration.unregister&limit=10',
      );
      const entry = audit.items.find((e) => e.target === `sip:7000011@${DOMAIN}`);
      expect(entry).toMatchObject({ user: 'admin', address: '127.0.0.1' });
      expect(entry!.before.number).toBe('7000011');
    });

    it('exports the filtered list as CSV and JSON', async () => {
      const csv = await admin.get('/api/registrations/export?format=csv&ip=203.0.113.20');
      expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
      expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="registrations-.*\.csv"/);
      const lines = (await csv.text()).trimEnd().split('\r\n');
      expect(lines[0]).toBe('number,domain,customer,aor,contact,contactAddress,contactPort,sourceAddress,sourcePort,transport,status,remaining,expires,expiresAt,registeredAt,refreshedAt,userAgent,nat,reachability,lastSeenAt,rttMs,id');
      expect(lines).toHaveLength(401);
      expect(lines.slice(1).every((l) => l.split(',')[7] === '203.0.113.20')).toBe(true);
      const json = (await (await admin.get('/api/registrations/export?format=json&ip=203.0.113.20')).json()) as Array<{ sourceAddress: string; nat: boolean }>;
      expect(json).toHaveLength(400);
      expect(json.every((r) => r.sourceAddress === '203.0.113.20' && r.nat)).toBe(true);
    });

    it('exports 100,000 rows, streamed', async () => {
      const r = await admin.get('/api/registrations/export?format=csv');
      expect(r.status).toBe(200);
      const text = await r.text();
      const rows = text.trimEnd().split('\r\n').length - 1;
      const total = (await admin.json<Page>('GET', '/api/registrations?limit=1')).total;
      expect(total).toBeGreaterThan(BULK - 10);
      expect(rows).toBe(total);
      const json = (await (await admin.get('/api/registrations/export?format=json')).json()) as unknown[];
      expect(json).toHaveLength(total);
    }, 60_000);

    it('stats and the live stream: a new registration arrives as an event', async () => {
      const stats = await admin.json<{ registered: number; aors: number; ratePerSecond: number }>('GET', '/api/stats');
      expect(stats.registered).toBeGreaterThan(BULK - 10);
      const events: string[] = [];
      const ac = new AbortController();
      const res = await admin.get('/api/stream', ac.signal);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const got = (async () => {
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += dec.decode(value);
          if (buf.includes('event: registration')) {
            events.push(buf);
            return;
          }
        }
      })();
      const other = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
      try {
        const ok = await registerWithDigest(other, { user: '1002', password: 'pw1002', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: other.port, expires: 600 });
        expect(ok.status).toBe(200);
        await Promise.race([got, new Promise((r) => setTimeout(r, 5000))]);
      } finally {
        ac.abort();
        other.close();
      }
      expect(events.join('')).toMatch(/event: registration\ndata: \{"time":\d+,"type":"registered","aor":"sip:1002@api\.test"/);
    });
  });

  describe('history', () => {
    it('finds events by number, address (CIDR) and type, newest first, paged', async () => {
      const byNumber = await admin.json<{ items: Array<{ aor: string; type: string }> }>('GET', '/api/history?number=1001');
      expect(byNumber.items.length).toBeGreaterThan(0);
      expect(byNumber.items.every((e) => e.aor === `sip:1001@${DOMAIN}`)).toBe(true);
      const byIp = await admin.json<{ items: Array<{ sourceAddress: string }> }>('GET', '/api/history?ip=127.0.0.0/8&type=registered');
      expect(byIp.items.length).toBeGreaterThanOrEqual(2);
      expect(byIp.items.every((e) => e.sourceAddress.startsWith('127.'))).toBe(true);
      const p1 = await admin.json<{ items: Array<{ id: number; time: number }>; nextCursor: string | null }>('GET', '/api/history?limit=1');
      expect(p1.nextCursor).not.toBeNull();
      const p2 = await admin.json<{ items: Array<{ id: number; time: number }> }>('GET', `/api/history?limit=1&cursor=${p1.nextCursor}`);
      expect(p2.items[0]!.id).not.toBe(p1.items[0]!.id);
      expect(p2.items[0]!.time).toBeLessThanOrEqual(p1.items[0]!.time);
      expect((await admin.get('/api/history?type=exploded')).status).toBe(400);
    });
  });

  describe('accounts', () => {
    type Account = { id: number; username: string; customer: string | null; enabled: boolean; maxBindings: number | null };

    it('create, read, edit, reset password, delete — never showing a hash', async () => {
      const a = await admin.json<Account>('POST', '/api/accounts', { username: '1500', domain: DOMAIN, password: 'secret-1500', customer: 'initech' }, 201);
      expect(a).toMatchObject({ username: '1500', customer: 'initech', enabled: true });
      expect(JSON.stringify(a)).not.toMatch(/ha1/i);
      expect((await admin.raw('POST', '/api/accounts', { username: '1500', domain: DOMAIN, password: 'x' })).status).toBe(409);
      const bad = await admin.raw('POST', '/api/accounts', { username: 'bad user', domain: DOMAIN, password: 'x' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/username/);
      const edited = await admin.json<Account>('PATCH', `/api/accounts/${a.id}`, { enabled: false, maxBindings: 3 });
      expect(edited).toMatchObject({ enabled: false, maxBindings: 3 });
      expect((await admin.raw('POST', `/api/accounts/${a.id}/password`, { password: 'new-secret' })).status).toBe(204);
      const customers = await admin.json<Array<{ name: string; accounts: number }>>('GET', '/api/customers');
      expect(customers).toContainEqual({ name: 'initech', accounts: 1 });
      const listed = await admin.json<{ items: Account[]; total: number }>('GET', '/api/accounts?q=150');
      expect(listed.total).toBe(1);
      expect((await admin.raw('DELETE', `/api/accounts/${a.id}`)).status).toBe(204);
      expect((await admin.get(`/api/accounts/${a.id}`)).status).toBe(404);
    });

    it('an account created in a new domain registers at once (the domain is served from then on)', async () => {
      await admin.json('POST', '/api/accounts', { username: '3001', domain: 'fresh.test', password: 'pw-3001' }, 201);
      const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
      try {
        const r = await registerWithDigest(c, { user: '3001', password: 'pw-3001', domain: 'fresh.test', contactHost: '127.0.0.1', contactPort: c.port, expires: 600 });
        expect(r.status).toBe(200);
      } finally {
        c.close();
      }
    });

    it('a new password works for SIP at once', async () => {
      const list = await admin.json<{ items: Account[] }>('GET', '/api/accounts?q=1003');
      const id = list.items[0]!.id;
      expect((await admin.raw('POST', `/api/accounts/${id}/password`, { password: 'rotated-1003' })).status).toBe(204);
      const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
      try {
        const old = await registerWithDigest(c, { user: '1003', password: 'pw1003', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: c.port, expires: 600, callId: 'old-pw' });
        expect(old.status).toBe(401);
        const fresh = await registerWithDigest(c, { user: '1003', password: 'rotated-1003', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: c.port, expires: 600, callId: 'new-pw' });
        expect(fresh.status).toBe(200);
      } finally {
        c.close();
      }
    });

    it('imports CSV all or nothing, naming the bad line', async () => {
      const bad = await admin.raw('POST', '/api/accounts/import', 'username,domain,password,customer\n1600,api.test,p1600,x\nbad user,api.test,p,x\n', { type: 'text/csv' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/^line 3: /);
      expect((await admin.json<{ total: number }>('GET', '/api/accounts?q=1600')).total).toBe(0);
      const ok = await admin.json<{ imported: number }>('POST', '/api/accounts/import', 'username,domain,password,customer\n1600,api.test,p1600,x\n1601,api.test,p1601,x\n', 200, { type: 'text/csv' });
      expect(ok.imported).toBe(2);
    });
  });

  describe('system parameters', () => {
    it('lists the run-time keys with their description', async () => {
      const s = await admin.json<{ values: Record<string, unknown>; keys: Array<{ key: string; description: string; type: string }> }>('GET', '/api/settings');
      expect(s.values['registrar.maxBindings']).toBe(1);
      const k = s.keys.find((x) => x.key === 'registrar.replacePolicy');
      expect(k).toMatchObject({ type: 'enum' });
      expect(k!.description).toMatch(/kick/);
    });

    it('rejects bad values and keys that need a restart, naming them', async () => {
      const bad = await admin.raw('PATCH', '/api/settings', { 'registrar.minExpires': 9000 });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/minExpires/);
      const restart = await admin.raw('PATCH', '/api/settings', { 'sip.listen': ['udp:0.0.0.0:5060'] });
      expect(restart.status).toBe(400);
      expect(((await restart.json()) as { error: string }).error).toMatch(/sip\.listen: not a system parameter changeable at run time/);
    });

    it('a change applies to the next REGISTER, is audited and survives a restart', async () => {
      const challenges = async () => {
        const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
        try {
          const r = await c.request(registerText({ user: '1001', password: '', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: c.port, expires: 60, viaPort: c.port, callId: `alg-${Math.random()}` }, 1, null));
          return r.wwwAuthenticate.map((w) => w.params.get('algorithm'));
        } finally {
          c.close();
        }
      };
      expect(await challenges()).toEqual(['MD5', 'SHA-256']);
      await admin.json('PATCH', '/api/settings', { 'auth.algorithms': ['SHA-256'] });
      expect(await challenges()).toEqual(['SHA-256']);
      const audit = await admin.json<{ items: Array<{ action: string; target: string; before: unknown; after: unknown }> }>('GET', '/api/audit?action=setting.change');
      expect(audit.items[0]).toMatchObject({ target: 'auth.algorithms', before: ['MD5', 'SHA-256'], after: ['SHA-256'] });

      await server.stop();
      server = await startServer({ dataDir, domains: [DOMAIN] });
      admin = await login(server.httpUrl!, 'admin', `${ADMIN_PW}-admin`);
      const s = await admin.json<{ values: Record<string, unknown> }>('GET', '/api/settings');
      expect(s.values['auth.algorithms']).toEqual(['SHA-256']);
      expect(await challenges()).toEqual(['SHA-256']);
      await admin.json('PATCH', '/api/settings', { 'auth.algorithms': ['MD5', 'SHA-256'] });
    }, 60_000);
  });

  describe('console users and audit', () => {
    it('adds users under the password policy, keeps the last admin', async () => {
      const weak = await admin.raw('POST', '/api/users', { name: 'carol', role: 'operator', password: 'short' });
      expect(weak.status).toBe(400);
      expect(((await weak.json()) as { error: string }).error).toMatch(/at least 12/);
      const same = await admin.raw('POST', '/api/users', { name: 'carolcarolcarol', role: 'operator', password: 'carolcarolcarol' });
      expect(same.status).toBe(400);
      await admin.json('POST', '/api/users', { name: 'carol', role: 'operator', password: 'a-long-enough-password' }, 201);
      const users = await admin.json<Array<{ name: string; role: string; passwordHash?: string }>>('GET', '/api/users');
      expect(users.map((u) => u.name)).toEqual(expect.arrayContaining(['admin', 'carol', 'op', 'viewer']));
      expect(users.every((u) => u.passwordHash === undefined)).toBe(true);
      expect((await admin.raw('DELETE', '/api/users/admin')).status).toBe(409);
      expect((await admin.raw('PATCH', '/api/users/admin', { role: 'operator' })).status).toBe(409);
      // A new password: the old one stops working, the user's sessions end.
      const carol = await login(server.httpUrl!, 'carol', 'a-long-enough-password');
      await admin.json('PATCH', '/api/users/carol', { password: 'another-long-password' });
      expect((await carol.get('/api/session')).status).toBe(401);
      const old = await fetch(`${server.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol', password: 'a-long-enough-password' }) });
      expect(old.status).toBe(401);
      await login(server.httpUrl!, 'carol', 'another-long-password');
      const role = await admin.json<{ role: string }>('PATCH', '/api/users/carol', { role: 'read-only' });
      expect(role.role).toBe('read-only');
      expect((await admin.raw('DELETE', '/api/users/carol')).status).toBe(204);
      expect((await admin.raw('DELETE', '/api/users/carol')).status).toBe(404);
    });

    it('the audit log records who, from where, what, before and after — never a password', async () => {
      const audit = await admin.json<{ items: Array<{ user: string | null; action: string; address: string | null; after: unknown }> }>('GET', '/api/audit?limit=1000');
      const actions = new Set(audit.items.map((e) => e.action));
      for (const a of ['login', 'login.failed', 'user.add', 'user.remove', 'account.create', 'account.update', 'account.password', 'account.delete', 'account.import', 'registration.unregister', 'setting.change', 'token.create', 'token.revoke']) {
        expect(actions, a).toContain(a);
      }
      expect(JSON.stringify(audit.items)).not.toMatch(/a-long-enough-password|new-secret|secret-1500|rc_/);
    });
  });

  it('serves the OpenAPI description at /api/docs', async () => {
    const doc = (await (await fetch(`${server.httpUrl}/api/docs/json`)).json()) as { paths: Record<string, unknown> };
    for (const p of ['/api/registrations', '/api/registrations/export', '/api/history', '/api/accounts', '/api/settings', '/api/users', '/api/audit', '/api/login']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect((await fetch(`${server.httpUrl}/api/docs`)).status).toBe(200);
  });

  it('`rollcall serve` says how to make the first console user when there is none', async () => {
    const empty = tempDataDir('api-empty');
    const s = await startServer({ dataDir: empty, domains: [DOMAIN] });
    try {
      const warning = s.logs.find((l) => String(l['msg']).startsWith('no console user yet'));
      expect(String(warning?.['msg'])).toContain(`rollcall users add NAME --role admin --data-dir ${empty}`);
      expect(String(warning?.['msg'])).toContain(s.httpUrl!);
    } finally {
      await s.stop();
      removeDir(empty);
    }
  });

  it('unknown API routes are 404 with a message', async () => {
    const r = await admin.get('/api/nothing-here');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: string }).error).toMatch(/no such API route/);
  });
});
