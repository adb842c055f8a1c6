#!/usr/bin/env node
// Registrations API benchmark (issue 3): 100,000 bindings restored from the store, then
// filtered pages of the registrations list timed over real HTTP (p50/p95/max per query
// kind), and the full CSV export. The floor: p95 under 50 ms for a filtered page.
//
//   npm run build && node bench/api-list.mjs [--bindings 100000] [--rounds 100]

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const { openSqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const N = Number(arg('bindings', '100000'));
const ROUNDS = Number(arg('rounds', '100'));
const DOMAIN = 'bench.local';
const PASSWORD = 'bench-admin-password';

const dir = mkdtempSync(join(tmpdir(), 'rollcall-api-bench-'));
const dataDir = join(dir, 'data');
spawnSync(process.execPath, [CLI, 'users', 'add', 'admin', '--role', 'admin', '--password', PASSWORD, '--data-dir', dataDir], { stdio: 'inherit' });

// Accounts (every tenth of 100 customers) and bindings, written straight into the store.
const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
const now = Date.now();
const agents = ['Yealink SIP-T46S 66.86.0.15', 'Grandstream GXP2170 1.0.11.3', 'Polycom VVX 411 6.4.3', 'Cisco/SPA504G-7.6.2', 'Zoiper rv2.10', 'MicroSIP/3.21.3'];
const accounts = [];
for (let i = 1; i <= N; i++) {
  accounts.push({ username: `${100000 + i}`, domain: DOMAIN, customer: `customer-${i % 100}`, ha1Md5: '0'.repeat(32), ha1Sha256: '0'.repeat(64) });
}
store.accounts.addMany(accounts);
const ops = [];
for (let i = 1; i <= N; i++) {
  const user = `${100000 + i}`;
  const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  ops.push({
    op: 'put-binding',
    binding: {
      id: i, aor: `sip:${user}@${DOMAIN}`, username: user, domain: DOMAIN,
      contact: `sip:${user}@192.168.${i % 256}.${(i >> 8) % 256}:5060`, instance: null, regId: null, q: null,
      callId: `c${i}@bench`, cseq: 2, expires: 3600, expiresAt: now + 600_000 + (i % 3000) * 1000,
      registeredAt: now - 1000, refreshedAt: now - 1000, sourceAddress: src, sourcePort: 5060 + (i % 1000),
      transport: i % 5 === 0 ? 'TCP' : 'UDP', localAddress: '127.0.0.1', localPort: 5060, userAgent: agents[i % agents.length], path: [],
    },
    lastRequest: Buffer.from(`REGISTER sip:${DOMAIN} SIP/2.0\r\n`.padEnd(600, 'x')),
    lastResponse: Buffer.from('SIP/2.0 200 OK\r\n'.padEnd(400, 'y')),
  });
}
store.bindings.applyNow(ops);
await store.close();

const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--listen', 'udp:127.0.0.1:0', '--http', '127.0.0.1:0', '--domain', DOMAIN], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res, rej) => {
  let buf = '';
  let u = null;
  child.stdout.on('data', (c) => {
    buf += c;
    for (const line of buf.split('\n')) {
      try {
        const rec = JSON.parse(line);
        if (rec.msg === 'HTTP listening') u = rec.url;
        if (rec.msg === 'Rollcall is ready') res(u);
      } catch {}
    }
  });
  child.on('exit', (code) => rej(new Error(`server exited ${code}`)));
});

const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
const cookie = login.headers.get('set-cookie').split(';')[0];
const get = (path) => fetch(url + path, { headers: { cookie } });

const queries = {
  'first page, no filter': '/api/registrations?limit=100',
  'number prefix': '/api/registrations?numberPrefix=1500&limit=100',
  'IP wildcard (source)': '/api/registrations?ip=10.0.1.x&limit=100',
  'IP CIDR (contact)': '/api/registrations?ip=192.168.7.0/24&limit=100',
  'customer': '/api/registrations?customer=customer-42&limit=100',
  'user agent substring': '/api/registrations?userAgent=polycom&limit=100',
  'status + transport': '/api/registrations?status=registered&transport=TCP&limit=100',
  'sorted by expiry, desc': '/api/registrations?sort=expiresAt&order=desc&limit=100',
};

console.log(`# Registrations API benchmark, ${new Date().toISOString()}, ${N} bindings, ${ROUNDS} rounds per query`);
const results = [];
for (const [name, path] of Object.entries(queries)) {
  // Follow the cursor too: a page deep into the list costs the same scan as the first.
  const first = await (await get(path)).json();
  const deep = first.nextCursor ? `${path}&cursor=${first.nextCursor}` : path;
  for (let i = 0; i < 5; i++) await (await get(path)).arrayBuffer();
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    const r = await get(i % 2 ? deep : path);
    await r.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(1);
  const row = { query: name, total: first.total, p50: pct(50), p95: pct(95), max: times[times.length - 1].toFixed(1) };
  results.push(row);
  console.log(JSON.stringify(row));
}
const t0 = Date.now();
const csv = await (await get('/api/registrations/export?format=csv')).text();
const exportMs = Date.now() - t0;
const rss = Number(spawnSync('ps', ['-o', 'rss=', '-p', String(child.pid)], { encoding: 'utf8' }).stdout.trim()) / 1024;
console.log('\n| query | matches | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.query} | ${r.total} | ${r.p50} | ${r.p95} | ${r.max} |`);
console.log(`\nCSV export of ${csv.trimEnd().split('\r\n').length - 1} rows: ${exportMs} ms, ${(csv.length / 1e6).toFixed(1)} MB; server RSS after: ${rss.toFixed(0)} MB`);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
rmSync(dir, { recursive: true, force: true });
