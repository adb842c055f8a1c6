// The CLI against a running server through the management API with a token (issue 3):
// registrations list/show/remove/export and accounts add/import/list/remove, as an operator
// would run them from another machine.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { registerWithDigest, UdpSipClient } from '../support/sip-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

const DOMAIN = 'cli-api.test';

describe('CLI through the API', () => {
  let dataDir: string;
  let server: ServerProcess;
  let token: string;
  const api = () => ['--url', server.httpUrl!, '--token', token];

  beforeAll(async () => {
    dataDir = tempDataDir('cli-api');
    expect(rollcall(['users', 'add', 'ops', '--role', 'operator', '--password', 'a-long-operator-password', '--data-dir', dataDir]).status).toBe(0);
    for (const u of ['2001', '2002']) {
      expect(rollcall(['accounts', 'add', u, '--domain', DOMAIN, '--password', `pw${u}`, '--customer', 'acme', '--data-dir', dataDir]).status).toBe(0);
    }
    const t = rollcall(['users', 'token', 'ops', '--data-dir', dataDir]);
    expect(t.status, t.stderr).toBe(0);
    token = t.stdout.trim();
    server = await startServer({ dataDir, domains: [DOMAIN] });
    for (const u of ['2001', '2002']) {
      const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
      const r = await registerWithDigest(c, { user: u, password: `pw${u}`, domain: DOMAIN, contactHost: '127.0.0.1', contactPort: c.port, expires: 1800 });
      c.close();
      expect(r.status).toBe(200);
    }
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  it('registrations list with filters, as a table and as JSON', () => {
    const table = rollcall(['registrations', 'list', ...api()]);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+AOR\s+CONTACT\s+SOURCE/);
    expect(table.stdout).toContain(`sip:2001@${DOMAIN}`);
    const json = rollcall(['registrations', 'list', '--json', '--number', '2002', ...api()]);
    expect(json.status, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<{ aor: string; customer: string; status: string; transport: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ aor: `sip:2002@${DOMAIN}`, customer: 'acme', status: 'registered', transport: 'UDP' });
    const none = rollcall(['registrations', 'list', '--ip', '10.x.x.x', ...api()]);
    expect(none.stdout).toBe('no registrations match\n');
    const bad = rollcall(['registrations', 'list', '--ip', 'nonsense', ...api()]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/ip.*not an IP address/);
  });

  it('registrations show prints every field, the raw REGISTER and the history', () => {
    const rows = JSON.parse(rollcall(['registrations', 'list', '--json', '--number', '2001', ...api()]).stdout) as Array<{ id: number }>;
    const r = rollcall(['registrations', 'show', String(rows[0]!.id), ...api()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^id\s+\d+$/m);
    expect(r.stdout).toMatch(/^sourceAddress\s+127\.0\.0\.1$/m);
    expect(r.stdout).toContain(`Last REGISTER:\nREGISTER sip:${DOMAIN} SIP/2.0\n`);
    expect(r.stdout).toMatch(/Its response:\nSIP\/2\.0 200 OK\n/);
    expect(r.stdout).toMatch(/History:\n {2}\S+ {2}registered/);
    expect(rollcall(['registrations', 'show', '99999', ...api()]).status).toBe(2);
  });

  it('registrations export writes CSV to a file', () => {
    const file = join(dataDir, 'out.csv');
    const r = rollcall(['registrations', 'export', '--customer', 'acme', '--output', file, ...api()]);
    expect(r.status, r.stderr).toBe(0);
    const json = rollcall(['registrations', 'export', '--format', 'json', ...api()]);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(2);
  });

  it('registrations remove goes through the API and is audited under the token\'s user', () => {
    const r = rollcall(['registrations', 'remove', `sip:2002@${DOMAIN}`, ...api()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`removed 1 binding of sip:2002@${DOMAIN}\n`);
    expect(rollcall(['registrations', 'remove', `sip:2002@${DOMAIN}`, ...api()]).status).toBe(2);
    const rows = JSON.parse(rollcall(['registrations', 'list', '--json', ...api()]).stdout) as Array<{ aor: string }>;
    expect(rows.map((x) => x.aor)).toEqual([`sip:2001@${DOMAIN}`]);
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      const audit = store.audit.query({ action: 'registration.unregister' });
      expect(audit[0]).toMatchObject({ user: 'ops', address: '127.0.0.1', target: `sip:2002@${DOMAIN}` });
    } finally {
      void store.close();
    }
  });

  it('accounts add, import, list and remove through the API', () => {
    expect(rollcall(['accounts', 'add', '2100', '--domain', DOMAIN, '--password', 'pw2100', '--customer', 'globex', ...api()]).stdout).toBe(`added 2100@${DOMAIN} (customer globex)\n`);
    const csv = join(dataDir, 'more.csv');
    writeFileSync(csv, `username,domain,password,customer\n2101,${DOMAIN},pw2101,globex\n2102,${DOMAIN},pw2102,\n`);
    expect(rollcall(['accounts', 'import', csv, ...api()]).stdout).toBe(`imported 2 accounts from ${csv}\n`);
    const list = JSON.parse(rollcall(['accounts', 'list', '--json', ...api()]).stdout) as Array<{ username: string; customer: string | null }>;
    expect(list.map((a) => a.username).sort()).toEqual(['2001', '2002', '2100', '2101', '2102']);
    expect(rollcall(['accounts', 'remove', '2100', '--domain', DOMAIN, ...api()]).stdout).toBe(`removed 2100@${DOMAIN}\n`);
    const dup = rollcall(['accounts', 'add', '2101', '--domain', DOMAIN, '--password', 'x', ...api()]);
    expect(dup.status).toBe(2);
    expect(dup.stderr).toMatch(/409 account 2101@cli-api\.test already exists/);
  });

  it('a wrong token or an unreachable server is said plainly', () => {
    const wrong = rollcall(['registrations', 'list', '--url', server.httpUrl!, '--token', 'rc_not-a-token']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/401 .*is the token right/);
    const away = rollcall(['registrations', 'list', '--url', 'http://127.0.0.1:9', '--token', token]);
    expect(away.status).toBe(1);
    expect(away.stderr).toMatch(/cannot reach the Rollcall API at http:\/\/127\.0\.0\.1:9/);
    const noToken = rollcall(['registrations', 'export']);
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/--token/);
  });
});
