#!/usr/bin/env node
// In-process benchmark of the registration hot path without sockets or disk: parse →
// transaction → registrar (digest, decision, binding table) → serialize, for REGISTER → 401 →
// authenticated REGISTER over 10,000 accounts. It isolates the JavaScript cost that
// `npm run bench` measures together with system calls and SQLite.
//
// With --rport the REGISTERs' Via ends in `;rport` (RFC 3581), as nearly every phone's does.
//
//   npm run build && node bench/hot-path.mjs [registrations] [--rport]

import { createHash, randomBytes } from 'node:crypto';
import { computeHa1 } from '../dist/auth/digest.js';
import { NonceService } from '../dist/auth/nonce.js';
import { BindingTable } from '../dist/registrar/binding-table.js';
import { DomainResolver } from '../dist/registrar/domain-resolver.js';
import { Registrar } from '../dist/registrar/registrar.js';
import { parseMessage } from '../dist/sip/parser.js';
import { TransactionLayer } from '../dist/transaction/server-transactions.js';
import { inboundRequest } from '../dist/transport/transport-layer.js';

const N = Number(process.argv.find((a, i) => i >= 2 && !a.startsWith('--')) ?? 200_000);
const VIA_TAIL = process.argv.includes('--rport') ? ';rport' : '';
const ACCOUNTS = 10_000;
const DOMAIN = 'bench.local';
const md5 = (s) => createHash('md5').update(s).digest('hex');

const accounts = new Map();
for (let i = 1; i <= ACCOUNTS; i++) {
  const u = `b${i}`;
  accounts.set(`${u}@${DOMAIN}`, { id: i, username: u, domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', u, DOMAIN, `pw${i}`), ha1Sha256: computeHa1('SHA-256', u, DOMAIN, `pw${i}`), enabled: true, minExpires: null, maxExpires: null, maxBindings: null, createdAt: 0, updatedAt: 0 });
}
const settings = { policy: { defaultExpires: 3600, minExpires: 60, maxExpires: 7200, maxBindings: 1, replacePolicy: 'on', expirySpread: 0 }, expiringShare: 0.1, algorithms: ['MD5', 'SHA-256'], recordRefreshes: true, serverHeader: 'Rollcall' };
const table = new BindingTable(Date.now(), () => 0.1);
let lastOps = 0;
const registrar = new Registrar({
  table,
  journal: { submit: (ops, done) => { lastOps += ops.length; done(null); }, close: async () => {} },
  accounts: { find: (u, d) => accounts.get(`${u}@${d}`) ?? null },
  nonces: new NonceService({ secret: randomBytes(32), lifetime: 300 }, Date.now() - 1000),
  domains: new DomainResolver({ configured: [DOMAIN], defaultDomain: null, aliases: [], ownAddresses: new Set(['127.0.0.1']), accountDomains: [] }),
  settings: () => settings,
  firstBindingId: 1,
  log: { error() {}, info() {}, debug() {} },
});
const listener = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, sendTo() {}, close: async () => {} };
let last = null;
const transactions = new TransactionLayer({ send: (_f, _t, buf) => (last = buf), onRequest: (tx) => registrar.handle(tx) });

/** What TransportLayer does with a datagram (forceRport on, its default). */
function inbound(buf, port) {
  const msg = parseMessage(buf, 'datagram');
  const flow = { transport: 'UDP', remoteAddress: '127.0.0.1', remotePort: port, localAddress: '127.0.0.1', localPort: 5060, listener, connection: null };
  return inboundRequest(msg, flow, true, Date.now());
}

function request(i, cseq, auth) {
  const u = `b${(i % ACCOUNTS) + 1}`;
  return Buffer.from(
    `REGISTER sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${i}-${cseq}${VIA_TAIL}\r\nFrom: <sip:${u}@${DOMAIN}>;tag=${i}B\r\nTo: <sip:${u}@${DOMAIN}>\r\nCall-ID: ${i}-bench@127.0.0.1\r\nCSeq: ${cseq} REGISTER\r\nContact: <sip:${u}@127.0.0.1:5061>\r\nMax-Forwards: 70\r\nExpires: 3600\r\nUser-Agent: SIPp bench\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Content-Length: 0\r\n\r\n`,
  );
}

function authorization(challenge, i) {
  const u = `b${(i % ACCOUNTS) + 1}`;
  const nonce = /nonce="([^"]+)"/.exec(challenge.toString())[1];
  const ha1 = md5(`${u}:${DOMAIN}:pw${(i % ACCOUNTS) + 1}`);
  const response = md5(`${ha1}:${nonce}:00000001:abcdef:auth:${md5(`REGISTER:sip:${DOMAIN}`)}`);
  return `Digest username="${u}",realm="${DOMAIN}",cnonce="abcdef",nc=00000001,qop=auth,uri="sip:${DOMAIN}",nonce="${nonce}",response="${response}",algorithm=MD5`;
}

/** One round: N challenges, then N authenticated REGISTERs (requests built outside the timing). */
function round(base, n) {
  const firsts = [];
  for (let i = 0; i < n; i++) firsts.push(request(base + i, 1, null));
  const t0 = process.hrtime.bigint();
  const challenges = [];
  for (let i = 0; i < n; i++) {
    transactions.receive(inbound(firsts[i], 5061));
    challenges.push(last);
  }
  const t1 = process.hrtime.bigint();
  const auths = challenges.map((ch, i) => request(base + i, 2, authorization(ch, base + i)));
  const t2 = process.hrtime.bigint();
  let ok = 0;
  for (let i = 0; i < n; i++) {
    transactions.receive(inbound(auths[i], 5061));
    if (last.subarray(0, 14).toString() === 'SIP/2.0 200 OK') ok++;
  }
  const t3 = process.hrtime.bigint();
  return { ok, challengeUs: Number(t1 - t0) / 1000 / n, registerUs: Number(t3 - t2) / 1000 / n };
}

round(0, 20_000); // warm-up
const r = round(1_000_000, N);
// Live heap after a full collection (with --expose-gc): what the table and the lingering
// transactions really hold.
globalThis.gc?.();
console.log(JSON.stringify({ registrations: N, ok: r.ok, bindings: table.size, challengeUs: +r.challengeUs.toFixed(2), authenticatedUs: +r.registerUs.toFixed(2), perRegistrationUs: +(r.challengeUs + r.registerUs).toFixed(2), heapMb: Math.round(process.memoryUsage().heapUsed / 1048576), heapMeasuredAfterGc: typeof globalThis.gc === 'function', opsPerRegistration: +(lastOps / (N + 20_000)).toFixed(2) }));
