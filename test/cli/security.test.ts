// `rollcall security` as an operator uses it: blocks by address and by username with an
// expiry, allow/deny list entries global or per customer, the failed-registration log as a
// table, JSON or counts, and `accounts add` with an auth mode. Every change is in the audit
// log as done by `cli`, and moves the version counter a running server watches.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { FailureRecord } from '../../src/store/store.js';
import { removeDir, rollcall, tempDataDir } from '../support/rollcall-process.js';

const dirs: string[] = [];
const fresh = (tag: string) => {
  const d = tempDataDir(tag);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

function query<T>(dir: string, sql: string): T[] {
  const db = new Database(join(dir, 'rollcall.db'), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const securityVersion = (dir: string) => query<{ v: number }>(dir, 'SELECT security_version AS v FROM meta')[0]!.v;
const audit = (dir: string) =>
  query<{ user: string; action: string; target: string; before: string | null; after: string | null }>(
    dir,
    'SELECT user, action, target, before_json AS before, after_json AS after FROM audit ORDER BY id',
  ).map((e) => ({ ...e, before: e.before === null ? null : JSON.parse(e.before), after: e.after === null ? null : JSON.parse(e.after) }));

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('rollcall security blocks', () => {
  it('blocks an address for a while and a username until removed, lists them, and unblocks, audited', () => {
    const dir = fresh('sec-blocks');
    const v0 = rollcall(['security', 'blocks', 'list', '--data-dir', dir]);
    expect(v0.status, v0.stderr).toBe(0);
    expect(v0.stdout).toBe('no blocks (add one with `rollcall security blocks add ADDRESS|USER@DOMAIN`)\n');
    const before = securityVersion(dir);

    const started = Date.now();
    const a = rollcall(['security', 'blocks', 'add', '203.0.113.9', '--for', '3600', '--reason', 'brute force from the night shift', '--data-dir', dir]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^blocked address 203\.0\.113\.9 until \d{4}-\d\d-\d\dT\S+Z\n$/);
    const u = rollcall(['security', 'blocks', 'add', 'sip:1001@Example.COM', '--data-dir', dir]);
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toBe('blocked username 1001@example.com until removed\n');
    expect(securityVersion(dir)).toBeGreaterThan(before);

    const json = JSON.parse(rollcall(['security', 'blocks', 'list', '--json', '--data-dir', dir]).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([
      { kind: 'username', value: '1001@example.com', reason: 'blocked by admin', createdBy: 'cli', createdAt: expect.stringMatching(ISO), expiresAt: null },
      {
        kind: 'address',
        value: '203.0.113.9',
        reason: 'brute force from the night shift',
        createdBy: 'cli',
        createdAt: expect.stringMatching(ISO),
        expiresAt: expect.stringMatching(ISO),
      },
    ]);
    const expiresAt = Date.parse(json[1]!['expiresAt'] as string);
    expect(expiresAt - Date.parse(json[1]!['createdAt'] as string)).toBe(3_600_000);
    expect(expiresAt).toBeGreaterThanOrEqual(started + 3_600_000);

    const table = rollcall(['security', 'blocks', 'list', '--data-dir', dir]).stdout.split('\n');
    expect(table[0]).toMatch(/^KIND\s+VALUE\s+UNTIL\s+BY\s+CREATED\s+REASON$/);
    expect(table[1]).toMatch(/^username\s+1001@example\.com\s+removed\s+cli\s+\S+\s+blocked by admin$/);
    expect(table[2]).toMatch(/^address\s+203\.0\.113\.9\s+\S+Z\s+cli\s+\S+\s+brute force from the night shift$/);

    const r = rollcall(['security', 'blocks', 'remove', '1001@example.com', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('unblocked username 1001@example.com\n');
    const again = rollcall(['security', 'blocks', 'remove', '1001@example.com', '--data-dir', dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toBe('rollcall: no block on username 1001@example.com (see `rollcall security blocks list`)\n');

    expect(audit(dir)).toEqual([
      {
        user: 'cli',
        action: 'block.add',
        target: '203.0.113.9',
        before: null,
        after: expect.objectContaining({ kind: 'address', value: '203.0.113.9', reason: 'brute force from the night shift', expiresAt: expect.stringMatching(ISO) }),
      },
      { user: 'cli', action: 'block.add', target: '1001@example.com', before: null, after: expect.objectContaining({ kind: 'username', expiresAt: null }) },
      { user: 'cli', action: 'block.remove', target: '1001@example.com', before: expect.objectContaining({ kind: 'username', reason: 'blocked by admin' }), after: null },
    ]);
  });

  it('replaces a block of the same address, keeping the old one in the audit log; takes 15m-style durations', () => {
    const dir = fresh('sec-replace');
    rollcall(['security', 'blocks', 'add', '2001:DB8::9', '--for', '15m', '--data-dir', dir]);
    const r = rollcall(['security', 'blocks', 'add', '2001:db8::9', '--reason', 'for good', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('blocked address 2001:db8::9 until removed (replacing the block there was)\n');
    const blocks = JSON.parse(rollcall(['security', 'blocks', 'list', '--json', '--data-dir', dir]).stdout) as Array<Record<string, unknown>>;
    expect(blocks).toEqual([expect.objectContaining({ value: '2001:db8::9', reason: 'for good', expiresAt: null })]);
    const [, second] = audit(dir);
    expect(second).toMatchObject({ action: 'block.add', before: { reason: 'blocked by admin' }, after: { reason: 'for good', expiresAt: null } });
  });

  it('refuses what is neither an address nor USER@DOMAIN, points a network to the deny list, and a bad --for', () => {
    const dir = fresh('sec-block-bad');
    const bad = (args: string[]) => rollcall(['security', 'blocks', ...args, '--data-dir', dir]);
    expect(bad(['add', 'scanner.example.com'])).toMatchObject({ status: 2, stderr: 'rollcall: "scanner.example.com" is neither an IP address nor USER@DOMAIN\n' });
    expect(bad(['add', '10.0.0.0/8']).stderr).toBe(
      'rollcall: 10.0.0.0/8 is a network; a block is one address. Deny a network with `rollcall security deny add 10.0.0.0/8`\n',
    );
    expect(bad(['add', '1001@']).stderr).toContain('must be user@domain');
    expect(bad(['add', '192.0.2.1', '--for', 'a while'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--for a while: expected a duration such as 3600') });
    expect(bad(['add', '192.0.2.1', '--for', '0']).status).toBe(2);
    // Refused before the database was even opened.
    expect(existsSync(join(dir, 'rollcall.db'))).toBe(false);
  });
});

describe('rollcall security allow/deny/lists', () => {
  it('adds global and per-customer entries, lists them, removes by id, audited; the server-side version moves', () => {
    const dir = fresh('sec-lists');
    rollcall(['accounts', 'add', '1001', '--domain', 'example.com', '--password', 'x', '--customer', 'acme', '--data-dir', dir]);
    const v0 = securityVersion(dir);
    const allow = rollcall(['security', 'allow', 'add', '192.0.2.0/24', '--customer', 'acme', '--note', 'head office', '--data-dir', dir]);
    expect(allow.status, allow.stderr).toBe(0);
    expect(allow.stdout).toBe('added 192.0.2.0/24 to the allow list for customer acme (entry 1)\n');
    expect(allow.stderr).toBe('');
    const deny = rollcall(['security', 'deny', 'add', '2001:DB8::/032', '--data-dir', dir]);
    expect(deny.stdout).toBe('added 2001:db8::/32 to the deny list (entry 2)\n');
    const other = rollcall(['security', 'allow', 'add', '198.51.100.7', '--customer', 'globex', '--data-dir', dir]);
    expect(other.stdout).toBe('added 198.51.100.7 to the allow list for customer globex (entry 3)\n');
    expect(other.stderr).toBe('note: no account has customer globex yet; the entry applies once one does\n');
    expect(securityVersion(dir)).toBeGreaterThan(v0);

    const table = rollcall(['security', 'lists', '--data-dir', dir]).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+LIST\s+CIDR\s+CUSTOMER\s+BY\s+CREATED\s+NOTE$/);
    expect(table[1]).toMatch(/^1\s+allow\s+192\.0\.2\.0\/24\s+acme\s+cli\s+\S+Z\s+head office$/);
    expect(table[2]).toMatch(/^2\s+deny\s+2001:db8::\/32\s+all\s+cli\s+\S+Z\s*$/);
    const json = JSON.parse(rollcall(['security', 'lists', '--json', '--data-dir', dir]).stdout) as unknown[];
    expect(json[0]).toEqual({ id: 1, list: 'allow', cidr: '192.0.2.0/24', customer: 'acme', note: 'head office', createdBy: 'cli', createdAt: expect.stringMatching(ISO) });

    const removed = rollcall(['security', 'lists', 'remove', '1', '--data-dir', dir]);
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('removed 192.0.2.0/24 from the allow list for customer acme (entry 1)\n');
    // The data directory given before the subcommand works too.
    const second = rollcall(['security', 'lists', '--data-dir', dir, 'remove', '2']);
    expect(second.status, second.stderr).toBe(0);
    expect((JSON.parse(rollcall(['security', 'lists', '--json', '--data-dir', dir]).stdout) as Array<{ id: number }>).map((e) => e.id)).toEqual([3]);
    const gone = rollcall(['security', 'lists', 'remove', '1', '--data-dir', dir]);
    expect(gone).toMatchObject({ status: 2, stderr: 'rollcall: no address list entry 1 (see `rollcall security lists`)\n' });
    expect(rollcall(['security', 'lists', 'remove', 'first', '--data-dir', dir]).stderr).toContain('"first" is not an entry id');

    expect(audit(dir).map((e) => [e.action, e.target])).toEqual([
      ['list.add', 'allow 192.0.2.0/24'],
      ['list.add', 'deny 2001:db8::/32'],
      ['list.add', 'allow 198.51.100.7'],
      ['list.remove', 'allow 192.0.2.0/24'],
      ['list.remove', 'deny 2001:db8::/32'],
    ]);
    expect(audit(dir)[3]!.before).toMatchObject({ id: 1, customer: 'acme', note: 'head office' });
  });

  it('refuses a duplicate with exit 1 and an invalid CIDR with exit 2, naming it', () => {
    const dir = fresh('sec-lists-bad');
    rollcall(['security', 'deny', 'add', '10.0.0.0/8', '--data-dir', dir]);
    const dup = rollcall(['security', 'deny', 'add', '10.0.0.0/8', '--data-dir', dir]);
    expect(dup).toMatchObject({ status: 1, stderr: 'rollcall: deny list already has 10.0.0.0/8 (entry 1)\n' });
    // Another customer's entry, or the other list, is not a duplicate.
    expect(rollcall(['security', 'deny', 'add', '10.0.0.0/8', '--customer', 'acme', '--data-dir', dir]).status).toBe(0);
    expect(rollcall(['security', 'allow', 'add', '10.0.0.0/8', '--data-dir', dir]).status).toBe(0);
    const bad = rollcall(['security', 'allow', 'add', '10.0.0.0/33', '--data-dir', dir]);
    expect(bad).toMatchObject({
      status: 2,
      stderr: 'rollcall: "10.0.0.0/33" is not an IPv4 or IPv6 address or CIDR (e.g. 192.0.2.7, 10.0.0.0/8 or 2001:db8::/32)\n',
    });
    expect(query(dir, 'SELECT id FROM address_lists')).toHaveLength(3);
    expect(audit(dir)).toHaveLength(3);
  });
});

describe('rollcall security failures', () => {
  const dir = fresh('sec-failures');
  const now = Date.now();
  const failure = (ago: number, change: Partial<FailureRecord>): FailureRecord => ({
    time: now - ago,
    sourceAddress: '203.0.113.9',
    sourcePort: 5070,
    transport: 'UDP',
    username: '1001',
    userAgent: 'friendly-scanner',
    reason: 'wrong-password',
    detail: null,
    count: 1,
    ...change,
  });

  it('seeds the log as the server would (through the store)', async () => {
    const store = openSqliteStore({ dataDir: dir, synchronous: 'normal', journal: 'inline' });
    try {
      store.bindings.applyNow(
        [
          failure(3 * 3_600_000, { reason: 'unknown-user', username: 'admin' }),
          failure(30 * 60_000, { reason: 'rate-limited', username: null, count: 750, sourceAddress: '198.51.100.7', userAgent: null }),
          failure(20 * 60_000, {}),
          failure(10 * 60_000, { sourceAddress: '2001:db8::7', sourcePort: 5062, transport: 'TLS', username: '1002', reason: 'source-not-allowed', detail: 'not in 192.0.2.0/24', userAgent: 'Yealink T46' }),
          failure(60_000, { count: 2 }),
        ].map((f) => ({ op: 'failure' as const, failure: f })),
      );
    } finally {
      await store.close();
    }
  });

  it('prints recent failures newest first as a table', () => {
    const r = rollcall(['security', 'failures', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+SOURCE\s+TRANSPORT\s+USERNAME\s+REASON\s+COUNT\s+USER AGENT\s+DETAIL$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^\S+Z\s+203\.0\.113\.9:5070\s+UDP\s+1001\s+wrong-password\s+2\s+friendly-scanner\s*$/);
    expect(lines[2]).toMatch(/^\S+Z\s+\[2001:db8::7\]:5062\s+TLS\s+1002\s+source-not-allowed\s+1\s+Yealink T46\s+not in 192\.0\.2\.0\/24$/);
    expect(lines[4]).toMatch(/^\S+Z\s+198\.51\.100\.7:5070\s+UDP\s+-\s+rate-limited\s+750\s+-\s*$/);
  });

  it('filters by time, reason, address and username, and prints JSON', () => {
    const json = (args: string[]) => {
      const r = rollcall(['security', 'failures', '--json', ...args, '--data-dir', dir]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    };
    const all = json([]);
    expect(all).toHaveLength(5);
    expect(all[0]).toEqual({
      id: expect.any(Number),
      time: new Date(now - 60_000).toISOString(),
      sourceAddress: '203.0.113.9',
      sourcePort: 5070,
      transport: 'UDP',
      username: '1001',
      userAgent: 'friendly-scanner',
      reason: 'wrong-password',
      detail: null,
      count: 2,
    });
    expect(json(['--last', '1h'])).toHaveLength(4);
    expect(json(['--last', '15m']).map((f) => f['reason'])).toEqual(['wrong-password', 'source-not-allowed']);
    expect(json(['--since', new Date(now - 25 * 60_000).toISOString(), '--until', new Date(now - 5 * 60_000).toISOString()]).map((f) => f['reason'])).toEqual([
      'source-not-allowed',
      'wrong-password',
    ]);
    expect(json(['--reason', 'wrong-password']).map((f) => f['count'])).toEqual([2, 1]);
    expect(json(['--ip', '198.51.100.7']).map((f) => f['count'])).toEqual([750]);
    expect(json(['--ip', '2001:DB8::7'])).toHaveLength(1);
    expect(json(['--user', 'admin']).map((f) => f['reason'])).toEqual(['unknown-user']);
    expect(json(['--user', '1001', '--last', '1h', '--limit', '1'])).toHaveLength(1);
    const none = rollcall(['security', 'failures', '--reason', 'scanner', '--data-dir', dir]);
    expect(none.stdout).toBe('no failed registrations match\n');
  });

  it('--counts sums by reason, source and username over the range', () => {
    const r = rollcall(['security', 'failures', '--counts', '--json', '--last', '1h', '--data-dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      since: expect.stringMatching(ISO),
      until: null,
      byReason: [
        { reason: 'rate-limited', count: 750 },
        { reason: 'wrong-password', count: 3 },
        { reason: 'source-not-allowed', count: 1 },
      ],
      bySource: [
        { sourceAddress: '198.51.100.7', count: 750 },
        { sourceAddress: '203.0.113.9', count: 3 },
        { sourceAddress: '2001:db8::7', count: 1 },
      ],
      byUsername: [
        { username: '1001', count: 3 },
        { username: '1002', count: 1 },
      ],
    });
    const table = rollcall(['security', 'failures', '--counts', '--limit', '1', '--data-dir', dir]);
    expect(table.stdout).toMatch(/^REASON\s+COUNT\nrate-limited\s+750\n\nSOURCE\s+COUNT\n198\.51\.100\.7\s+750\n\nUSERNAME\s+COUNT\n1001\s+3\n$/);
    expect(rollcall(['security', 'failures', '--counts', '--since', '2099-01-01T00:00:00Z', '--data-dir', dir]).stdout).toBe(
      'no failed registrations since 2099-01-01T00:00:00.000Z\n',
    );
  });

  it('refuses bad flags with exit 2', () => {
    const bad = (...args: string[]) => rollcall(['security', 'failures', ...args, '--data-dir', dir]);
    expect(bad('--reason', 'bad-luck').stderr).toContain('--reason bad-luck: expected one of wrong-password, unknown-user');
    expect(bad('--last', 'an hour').stderr).toContain('--last an hour: expected a duration');
    expect(bad('--since', 'yesterday').stderr).toContain('--since yesterday: expected a date and time');
    expect(bad('--since', '2025-01-01T00:00:00Z', '--last', '1h').stderr).toContain('give --since or --last, not both');
    expect(bad('--ip', '10.0.0.0/8').stderr).toContain('--ip 10.0.0.0/8: expected one IPv4 or IPv6 address');
    expect(bad('--counts', '--user', '1001').stderr).toContain('--counts sums every failure of the time range');
    expect(bad('--limit', '0').status).toBe(2);
  });
});

describe('rollcall accounts add with an auth mode', () => {
  it('adds ip, ip-port and restricted password accounts, and lists their mode and networks', () => {
    const dir = fresh('sec-auth-mode');
    // No password asked for (nothing on stdin): ip accounts get a random one nobody knows.
    const ip = rollcall(['accounts', 'add', '3001', '--domain', 'example.com', '--auth-mode', 'ip', '--allow-from', '192.0.2.0/24', '--allow-from', '198.51.100.7', '--data-dir', dir], '');
    expect(ip.status, ip.stderr).toBe(0);
    expect(ip.stdout).toBe('added 3001@example.com (auth mode ip, from 192.0.2.0/24, 198.51.100.7)\n');
    const port = rollcall(['accounts', 'add', '3002', '--domain', 'example.com', '--auth-mode', 'ip-port', '--allow-from', '[2001:DB8::7]:5060', '--data-dir', dir], '');
    expect(port.stdout).toBe('added 3002@example.com (auth mode ip-port, from [2001:db8::7]:5060)\n');
    const pw = rollcall(['accounts', 'add', '3003', '--domain', 'example.com', '--password', 'secret', '--allow-from', '10.0.0.0/8', '--data-dir', dir]);
    expect(pw.stdout).toBe('added 3003@example.com (password, only from 10.0.0.0/8)\n');
    const both = rollcall(['accounts', 'add', '3004', '--domain', 'example.com', '--auth-mode', 'ip-and-password', '--allow-from', '10.0.0.0/8', '--data-dir', dir], 'secret\n');
    expect(both.stdout).toBe('added 3004@example.com (auth mode ip-and-password, from 10.0.0.0/8)\n');
    rollcall(['accounts', 'add', '3005', '--domain', 'example.com', '--password', 'secret', '--data-dir', dir]);

    const list = JSON.parse(rollcall(['accounts', 'list', '--json', '--data-dir', dir]).stdout) as Array<Record<string, unknown>>;
    expect(list.map((a) => [a['username'], a['authMode'], a['allowedNetworks']])).toEqual([
      ['3001', 'ip', ['192.0.2.0/24', '198.51.100.7']],
      ['3002', 'ip-port', ['[2001:db8::7]:5060']],
      ['3003', 'password', ['10.0.0.0/8']],
      ['3004', 'ip-and-password', ['10.0.0.0/8']],
      ['3005', 'password', null],
    ]);
    const table = rollcall(['accounts', 'list', '--data-dir', dir]).stdout.split('\n');
    expect(table[0]).toMatch(/^ACCOUNT\s+CUSTOMER\s+ENABLED\s+MAX BINDINGS\s+AUTH\s+FROM\s+CREATED$/);
    expect(table[1]).toMatch(/^3001@example\.com\s+-\s+yes\s+default\s+ip\s+192\.0\.2\.0\/24,198\.51\.100\.7\s+\S+$/);
    expect(table[5]).toMatch(/^3005@example\.com\s+-\s+yes\s+default\s+password\s+anywhere\s+\S+$/);
  });

  it('refuses ip without --allow-from, a port outside ip-port, a bad network and an unknown mode, before asking for a password', () => {
    const dir = fresh('sec-auth-bad');
    const add = (...args: string[]) => rollcall(['accounts', 'add', '4001', '--domain', 'example.com', ...args, '--data-dir', dir], '');
    expect(add('--auth-mode', 'ip')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('account 4001@example.com: auth mode ip needs allowedNetworks'),
    });
    expect(add('--auth-mode', 'ip')).toMatchObject({ stderr: expect.stringContaining('give --allow-from 192.0.2.7 (repeatable)') });
    expect(add('--allow-from', '10.0.0.1:5060').stderr).toContain('allowed network "10.0.0.1:5060" has a port, which only auth mode ip-port uses');
    expect(add('--auth-mode', 'ip', '--allow-from', 'office-lan').stderr).toContain('allowed network "office-lan" is not an IPv4 or IPv6 address or CIDR');
    expect(add('--auth-mode', 'certificate').stderr).toContain("argument 'certificate' is invalid");
    expect(JSON.parse(rollcall(['accounts', 'list', '--json', '--data-dir', dir]).stdout)).toEqual([]);
  });
});
