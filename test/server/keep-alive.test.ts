// Keep-alive and reachability against the built server over real UDP (issue 5): an endpoint
// behind a simulated NAT (private Contact and Via, source another loopback address and port)
// is flagged NAT and pinged at its source address, not at its Contact; its answers make it
// reachable with a round-trip time; one that stops answering is flagged unreachable after
// maxMisses pings (an event), and with removeUnreachable its binding is removed. A TCP
// client whose connection dies has its binding marked unreachable at once, or removed with
// nat.lostConnection = remove (RFC 5626 flows, like handle_lost_tcp). Loopback only.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1 } from '../../src/auth/digest.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { login, type ApiClient } from '../api/api-client.js';
import { digestAuthorization, registerText, registerWithDigest, TcpSipConnection, UdpSipClient } from '../support/sip-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

const DOMAIN = 'ka.test';

interface Reg {
  id: number;
  number: string;
  nat: boolean;
  received: string;
  reachability: string;
  rttMs: number | null;
  lastSeenAt: number;
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
  let start: () => Promise<void>;

  beforeAll(async () => {
    dataDir = tempDataDir('keepalive');
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'admin-password-long', '--data-dir', dataDir]).status).toBe(0);
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    store.accounts.addMany(['n1', 'n2', 'n3', 'n4', 'd1', 't1', 't2', 't3', 'p1'].map((u) => ({ username: u, domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', u, DOMAIN, `pw-${u}`), ha1Sha256: computeHa1('SHA-256', u, DOMAIN, `pw-${u}`) })));
    await store.close();
    const cfg = join(dataDir, 'rollcall.yaml');
    writeFileSync(cfg, 'nat:\n  keepAlive:\n    interval: 1\n    maxMisses: 2\n');
    start = async () => {
      server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], extra: ['--config', cfg] });
      admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
    };
    await start();
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  /** The number's history once it holds every one of `types` (events are committed in
   * batches, so the binding can show a change a moment before the history does). */
  const historyWith = (number: string, ...types: string[]) =>
    until(`${types.join(', ')} in the history of ${number}`, async () => {
      const h = await admin.json<{ items: Array<{ type: string; reason: string }> }>('GET', `/api/history?number=${number}`);
      return types.every((t) => h.items.some((e) => e.type === t)) ? h : undefined;
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
      // `rollcall status` counts the keep-alive's work.
      const status = JSON.parse(rollcall(['status', '--json', '--data-dir', dataDir]).stdout) as { keepAlive: { endpoints: number; pings: number; answers: number; threadSent?: number; threadDropped?: number; threadLate?: number; threadAnswers?: number; threadForwarded?: number; threadReceiveDropped?: number } };
      expect(status.keepAlive.endpoints).toBeGreaterThanOrEqual(1);
      expect(status.keepAlive.answers).toBeGreaterThanOrEqual(1);
      expect(status.keepAlive.pings).toBeGreaterThanOrEqual(status.keepAlive.answers);
      // So does GET /api/stats (refreshed every second), for monitoring without the CLI.
      const stats = await until('the keep-alive counted in the stats', async () => {
        const st = await admin.json<{ keepAlive: { endpoints: number; pings: number; answers: number; misses: number } }>('GET', '/api/stats');
        return st.keepAlive.answers >= 1 ? st.keepAlive : undefined;
      });
      expect(stats.endpoints).toBeGreaterThanOrEqual(1);
      expect(stats.pings).toBeGreaterThanOrEqual(stats.answers);
      expect(stats.misses).toBeGreaterThanOrEqual(0);
      // On Linux the UDP pings went out through the sender thread and their answers came in
      // through the receiver socket (native/udp-threads), none dropped; nothing else came in
      // on the response socket.
      if (process.platform === 'linux') {
        expect(status.keepAlive.threadSent).toBeGreaterThanOrEqual(status.keepAlive.answers);
        expect(status.keepAlive.threadDropped).toBe(0);
        expect(status.keepAlive.threadAnswers).toBeGreaterThanOrEqual(status.keepAlive.answers);
        expect(status.keepAlive.threadForwarded).toBe(0);
        expect(status.keepAlive.threadReceiveDropped).toBe(0);
        // Those the event loop sent for a starved thread are counted among them.
        expect(status.keepAlive.threadLate).toBeGreaterThanOrEqual(0);
        expect(status.keepAlive.threadLate).toBeLessThanOrEqual(status.keepAlive.threadSent!);
      }
      // The OPTIONS reached the phone through its source address (the Contact's 192.168.1.71 is unreachable here).
      expect(c.requests.length).toBeGreaterThanOrEqual(1);
      const ping = c.requests[0]!;
      expect(ping.msg.method).toBe('OPTIONS');
      expect(ping.text.split('\r\n')[0]).toBe('OPTIONS sip:n1@192.168.1.71:5060 SIP/2.0');
      expect(ping.from).toBe(`127.0.0.1:${server.port('UDP')}`);
      // About one a second (interval 1 s), not a burst. The window is measured, not assumed:
      // on a loaded machine this process's timer can fire late, and the pings that arrived
      // meanwhile are counted too. Over one: a late ring makes up at most one turn, and a ping
      // handed to the sender thread just before the window leaves up to 5 ms into it.
      const before = c.requests.length;
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 3000));
      const seconds = (Date.now() - t0) / 1000;
      expect(c.requests.length - before).toBeGreaterThanOrEqual(Math.floor(seconds) - 1);
      expect(c.requests.length - before).toBeLessThanOrEqual(Math.ceil(seconds) + 3);
    } finally {
      c.close();
    }
  }, 30_000);

  it('shows an answer once it is taken, not only at the endpoint\'s next visit (the API applies what the keep-alive holds)', async () => {
    // A visit every 4 s: the answer waits in the keep-alive's ledger that long unless shown.
    await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.interval': 4 });
    const c = await phoneBehindNat('n4', '127.0.0.75');
    /** Polls for 1.5 s (the next visit is 4 s after the ping) until `f` has it. */
    const soon = async <T>(f: () => Promise<T | undefined>): Promise<T | undefined> => {
      const end = Date.now() + 1500;
      for (;;) {
        const v = await f();
        if (v !== undefined || Date.now() > end) return v;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const pinged = async (n: number) => {
      const end = Date.now() + 10_000;
      while (c.requests.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      expect(c.requests.length).toBe(n);
    };
    try {
      // The first answer: the reachability filter finds n4 reachable before its next visit.
      await pinged(1);
      const found = await soon(async () => (await admin.json<{ items: Reg[] }>('GET', '/api/registrations?reachability=reachable&number=n4')).items[0]);
      expect(found).toMatchObject({ number: 'n4', reachability: 'reachable', keepAliveMisses: 0 });
      expect(c.requests.length).toBe(1);
      // The second: the listing shows its last-seen before the next visit.
      await pinged(2);
      const answeredAt = Date.now();
      const reg = await soon(async () => {
        const r = await registration('n4');
        return r !== undefined && r.lastSeenAt >= answeredAt - 50 ? r : undefined;
      });
      expect(reg).toMatchObject({ reachability: 'reachable', keepAliveMisses: 0 });
      expect(reg!.rttMs).toBeGreaterThanOrEqual(0);
      expect(c.requests.length).toBe(2);
    } finally {
      c.close();
      await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.interval': 1 });
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
      // Counted in the stats (the console's header), refreshed every second.
      await until('n2 counted unreachable', async () => ((await admin.json<{ unreachable: number }>('GET', '/api/stats')).unreachable >= 1 ? true : undefined));
      const history = await historyWith('n2', 'unreachable');
      expect(history.items.find((e) => e.type === 'unreachable')?.reason).toBe('no answer to 2 OPTIONS pings');
      // It answers again: reachable, and that is an event too.
      c.answerRequests = true;
      await until('n2 reachable again', async () => ((await registration('n2'))?.reachability === 'reachable' ? true : undefined));
      await historyWith('n2', 'reachable');
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
      const history = await historyWith('n3', 'registered', 'unreachable', 'removed');
      expect(history.items.map((e) => e.type)).toEqual(expect.arrayContaining(['registered', 'unreachable', 'removed']));
    } finally {
      c.close();
      await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.removeUnreachable': false });
    }
  }, 30_000);

  it('with throughPath, an endpoint registered through an edge proxy is pinged through it: its Path as the Route set', async () => {
    await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.throughPath': true });
    // The edge proxy at 127.0.0.78 relays a phone's REGISTER with its own Path; it answers
    // what comes back for the phone, as it would by relaying the phone's answer.
    const proxy = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') }, '127.0.0.78');
    try {
      const path = `<sip:127.0.0.78:${proxy.port};lr>`;
      const params = { user: 'p1', password: 'pw-p1', domain: DOMAIN, contactHost: '192.168.1.78', contactPort: 5060, expires: 600, callId: randomBytes(6).toString('hex'), viaPort: proxy.port };
      const viaProxy = (text: string) => text.replace('Max-Forwards: 70\r\n', `Max-Forwards: 69\r\nPath: ${path}\r\nSupported: path\r\n`);
      const challenge = await proxy.request(viaProxy(registerText(params, 1, null)));
      expect(challenge.status).toBe(401);
      const ok = await proxy.request(viaProxy(registerText(params, 2, digestAuthorization(challenge, 'p1', 'pw-p1', `sip:${DOMAIN}`))));
      expect(ok.status).toBe(200);
      const reg = await until('p1 reachable', async () => {
        const r = await registration('p1');
        return r?.reachability === 'reachable' ? r : undefined;
      });
      expect((reg as Reg & { path: string[] }).path).toEqual([path]);
      const ping = proxy.requests[0]!;
      expect(ping.msg.method).toBe('OPTIONS');
      expect(ping.text.split('\r\n')[0]).toBe('OPTIONS sip:p1@192.168.1.78:5060 SIP/2.0');
      expect(ping.text).toContain(`\r\nRoute: ${path}\r\n`);
      expect(ping.from).toBe(`127.0.0.1:${server.port('UDP')}`);
    } finally {
      proxy.close();
      await admin.json('PATCH', '/api/settings', { 'nat.keepAlive.throughPath': false });
    }
  }, 30_000);

  /** A phone on its own TCP connection from loopback `source`, registered with digest. */
  // Its Contact and Call-ID stay the same across connections, as a phone's do.
  async function phoneOverTcp(user: string, source: string, callId: string, firstCseq = 1): Promise<TcpSipConnection> {
    const t = await TcpSipConnection.open('127.0.0.1', server.port('TCP'), source);
    const p = { user, password: `pw-${user}`, domain: DOMAIN, contactHost: source, contactPort: 5062, expires: 600, callId, transport: 'TCP' as const, viaPort: t.socket.localPort! };
    t.write(registerText(p, firstCseq, null));
    await t.waitFor(1);
    expect(t.responses[0]?.status).toBe(401);
    t.write(registerText(p, firstCseq + 1, digestAuthorization(t.responses[0]!, user, p.password, `sip:${DOMAIN}`)));
    await t.waitFor(2);
    expect(t.responses[1]?.status).toBe(200);
    return t;
  }

  it('killing a TCP client\'s connection marks its binding unreachable (lostConnection = mark), an event', async () => {
    const callId = randomBytes(6).toString('hex');
    const t = await phoneOverTcp('t1', '127.0.0.75', callId);
    const port = t.socket.localPort!;
    expect(await registration('t1')).toMatchObject({ reachability: expect.not.stringMatching(/^unreachable$/) });
    t.socket.destroy(); // the phone dies: no goodbye, the connection is gone
    const reg = await until('t1 unreachable', async () => {
      const r = await registration('t1');
      return r?.reachability === 'unreachable' ? r : undefined;
    });
    expect(reg.number).toBe('t1'); // marked, still registered
    const history = await historyWith('t1', 'unreachable');
    expect(history.items.find((e) => e.type === 'unreachable')?.reason).toBe(`TCP connection from 127.0.0.75:${port} closed`);
    expect(history.items.map((e) => e.type)).not.toContain('removed');
    // It registers again over a new connection: reachable again (an event).
    const t2 = await phoneOverTcp('t1', '127.0.0.75', callId, 3);
    try {
      expect((await admin.json<{ items: Reg[] }>('GET', '/api/registrations?number=t1')).items).toHaveLength(1);
      await until('t1 reachable again', async () => ((await registration('t1'))?.reachability === 'reachable' ? true : undefined));
      const again = await historyWith('t1', 'reachable');
      expect(again.items.find((e) => e.type === 'reachable')?.reason).toBe('registered again over a new connection');
    } finally {
      t2.close();
    }
  }, 30_000);

  it('with lostConnection = remove, killing a TCP client\'s connection removes its binding (an event)', async () => {
    await admin.json('PATCH', '/api/settings', { 'nat.lostConnection': 'remove' });
    try {
      const t = await phoneOverTcp('t2', '127.0.0.76', randomBytes(6).toString('hex'));
      expect(await registration('t2')).toBeDefined();
      t.socket.destroy();
      await until('t2 removed', async () => ((await registration('t2')) === undefined ? true : undefined));
      const history = await historyWith('t2', 'registered', 'unreachable', 'removed');
      expect(history.items.map((e) => e.type)).toEqual(expect.arrayContaining(['registered', 'unreachable', 'removed']));
      expect(history.items.find((e) => e.type === 'removed')?.reason).toMatch(/^TCP connection from 127\.0\.0\.76:\d+ closed$/);
    } finally {
      await admin.json('PATCH', '/api/settings', { 'nat.lostConnection': 'mark' });
    }
  }, 30_000);

  it('a stopping server closes its connections without touching their bindings, even with lostConnection = remove', async () => {
    await admin.json('PATCH', '/api/settings', { 'nat.lostConnection': 'remove' });
    const t = await phoneOverTcp('t3', '127.0.0.77', randomBytes(6).toString('hex'));
    try {
      expect(await registration('t3')).toBeDefined();
      await server.stop();
      await start();
      // Restored from the store, not removed, and no unreachable or removed event for it.
      expect(await registration('t3')).toBeDefined();
      const history = await historyWith('t3', 'registered');
      expect(history.items.map((e) => e.type)).not.toContain('removed');
      expect(history.items.map((e) => e.type)).not.toContain('unreachable');
    } finally {
      t.close();
      await admin.json('PATCH', '/api/settings', { 'nat.lostConnection': 'mark' });
    }
  }, 30_000);
});
