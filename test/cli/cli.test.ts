// The `rollcall` command as an operator uses it: accounts before the first serve, CSV
// import errors, passwords kept out of sight, bad configuration refused at start, and
// force-unregister through the running server's control socket or offline.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { registerWithDigest, UdpSipClient } from '../support/sip-client.js';

const dirs: string[] = [];
const fresh = (tag: string) => {
  const d = tempDataDir(tag);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

describe('rollcall accounts', () => {
  it('adds an account on an empty data directory, before any serve, storing no password', () => {
    const dir = fresh('cli-add');
    const r = rollcall(['accounts', 'add', '1001', '--domain', 'Example.COM', '--password', 'sup3r-secret', '--customer', 'acme', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added 1001@example.com (customer acme)\n');
    const list = JSON.parse(rollcall(['accounts', 'list', '--json', '--data-dir', dir]).stdout) as Array<Record<string, unknown>>;
    expect(list).toMatchObject([{ username: '1001', domain: 'example.com', customer: 'acme', enabled: true }]);
    expect(JSON.stringify(list)).not.toMatch(/ha1|sup3r/);
    const db = readFileSync(join(dir, 'rollcall.db'));
    expect(db.includes(Buffer.from('sup3r-secret'))).toBe(false);
  });

  it('reads the password from stdin when --password is not given', () => {
    const dir = fresh('cli-stdin');
    const r = rollcall(['accounts', 'add', '2002', '--domain', 'example.com', '--data-dir', dir], 'from-stdin\n');
    expect(r.status, r.stderr).toBe(0);
    expect(rollcall(['accounts', 'list', '--data-dir', dir]).stdout).toContain('2002@example.com');
  });

  it('refuses a duplicate account and names it', () => {
    const dir = fresh('cli-dup');
    rollcall(['accounts', 'add', '1001', '--domain', 'example.com', '--password', 'x', '--data-dir', dir]);
    const r = rollcall(['accounts', 'add', '1001', '--domain', 'example.com', '--password', 'y', '--data-dir', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('1001@example.com already exists');
  });

  it('imports a CSV all or nothing, naming the bad line', () => {
    const dir = fresh('cli-import');
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'username,domain,password,customer\n3001,example.com,p1,acme\n3002,example.com,"p,2",\n');
    const r = rollcall(['accounts', 'import', good, '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('imported 2 accounts from ' + good + '\n');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'username,domain,password,customer\n3003,example.com,p3,\n,example.com,p4,\n');
    const e = rollcall(['accounts', 'import', bad, '--data-dir', dir]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('line 3: needs username, domain and password');
    expect(rollcall(['accounts', 'list', '--data-dir', dir]).stdout).not.toContain('3003');
  });

  it('removes an account', () => {
    const dir = fresh('cli-remove');
    rollcall(['accounts', 'add', '1001', '--domain', 'example.com', '--password', 'x', '--data-dir', dir]);
    expect(rollcall(['accounts', 'remove', '1001', '--domain', 'example.com', '--data-dir', dir]).status).toBe(0);
    expect(rollcall(['accounts', 'list', '--json', '--data-dir', dir]).stdout.trim()).toBe('[]');
  });
});

describe('rollcall serve', () => {
  it('refuses invalid configuration at start, naming the key, the value and what is allowed', () => {
    const dir = fresh('cli-badcfg');
    const cfg = join(dir, 'rollcall.yaml');
    writeFileSync(cfg, 'registrar:\n  replacePolicy: maybe\n');
    const r = rollcall(['serve', '--config', cfg, '--data-dir', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('registrar.replacePolicy = "maybe"');
    expect(r.stderr).toContain('"on"|"off"');
    const flag = rollcall(['serve', '--data-dir', dir, '--listen', 'udp:localhost:5060']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('must be a numeric IPv4 or IPv6 address');
  });
});

describe('rollcall registrations', () => {
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop();
  });

  it('lists and force-removes a binding through the running server, then offline', async () => {
    const dir = fresh('cli-reg');
    for (const u of ['a1', 'a2']) rollcall(['accounts', 'add', u, '--domain', 'cli.test', '--password', `pw-${u}`, '--data-dir', dir]);
    server = await startServer({ dataDir: dir, domains: ['cli.test'], listen: ['udp:127.0.0.1:0'] });
    const client = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
    for (const u of ['a1', 'a2']) {
      const r = await registerWithDigest(client, { user: u, password: `pw-${u}`, domain: 'cli.test', contactHost: '127.0.0.1', contactPort: 6000, expires: 900 });
      expect(r.status).toBe(200);
    }
    client.close();

    const table = rollcall(['registrations', 'list', '--data-dir', dir]);
    expect(table.stdout.split('\n')[0]).toMatch(/^AOR\s+CONTACT\s+SOURCE\s+TRANSPORT\s+REMAINING\s+USER AGENT\s+REGISTERED AT\s+STATUS$/);
    expect(table.stdout).toMatch(/sip:a1@cli\.test\s+sip:a1@127\.0\.0\.1:6000\s+127\.0\.0\.1:\d+\s+UDP\s+\d+s\s+rollcall-test-client\s+\S+\s+Registered/);

    const status = JSON.parse(rollcall(['status', '--json', '--data-dir', dir]).stdout) as { bindings: number; aors: number; listen: string[]; memory: { rss: number } };
    expect(status.bindings).toBe(2);
    expect(status.aors).toBe(2);
    expect(status.listen).toEqual([`udp:127.0.0.1:${server.port('UDP')}`]);
    expect(status.memory.rss).toBeGreaterThan(0);
    expect(rollcall(['status', '--data-dir', dir]).stdout).toMatch(/^bindings\s+2 \(2 AORs\)$/m);

    const removed = rollcall(['registrations', 'remove', 'sip:a1@CLI.test', '--data-dir', dir]);
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('removed 1 binding of sip:a1@cli.test\n');
    const after = JSON.parse(rollcall(['registrations', 'list', '--json', '--data-dir', dir]).stdout) as Array<{ aor: string }>;
    expect(after.map((b) => b.aor)).toEqual(['sip:a2@cli.test']);
    expect(rollcall(['registrations', 'remove', 'sip:a1@cli.test', '--data-dir', dir]).status).toBe(2);

    await server.stop();
    server = null;
    const offline = rollcall(['registrations', 'remove', 'sip:a2@cli.test', '--contact', 'sip:a2@127.0.0.1:6000', '--data-dir', dir]);
    expect(offline.status, offline.stderr).toBe(0);
    expect(rollcall(['registrations', 'list', '--data-dir', dir]).stdout).toBe('no registrations (server not running; read from the database)\n');
    const noServer = rollcall(['status', '--data-dir', dir]);
    expect(noServer.status).toBe(2);
    expect(noServer.stderr).toContain('no server is running on');

    const db = new Database(join(dir, 'rollcall.db'), { readonly: true });
    const forced = db.prepare("SELECT aor, reason FROM events WHERE type = 'force-removed' ORDER BY id").all() as Array<{ aor: string; reason: string }>;
    db.close();
    expect(forced.map((e) => e.aor)).toEqual(['sip:a1@cli.test', 'sip:a2@cli.test']);
    expect(forced[1]!.reason).toMatch(/server not running/);
  });

  it('rejects something that is not an AOR', () => {
    const r = rollcall(['registrations', 'remove', 'bob', '--data-dir', fresh('cli-aor')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is not an AOR such as sip:1001@example.com');
  });
});
