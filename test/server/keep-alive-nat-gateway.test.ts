// Keep-alive answers from a big NAT (an office, a carrier-grade NAT) after a restart: many
// phones behind one address, their bindings restored from the store, none of them has
// authenticated since the start, so the address is a new source with the lowest rate limit.
// The answers to our own pings must not be held to it — limited, they would be lost (the
// phones flagged unreachable) and the address blocked as a flood, locking the whole site out.
// Loopback only; 60 phones answer one ping a second each against a limit of 5 a second.

import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1 } from '../../src/auth/digest.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { login, type ApiClient } from '../api/api-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

const DOMAIN = 'nat.test';
const PHONES = 60;
const GATEWAY = '127.0.0.3';

/** A free UDP port on 127.0.0.1: the bindings must name the socket the server will listen on. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Every phone behind the gateway at once: answers each OPTIONS with 200 OK. */
async function natGateway(): Promise<{ socket: Socket; port: number; pings: () => number }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  let pings = 0;
  socket.on('message', (m, from) => {
    const text = m.toString('latin1');
    if (!text.startsWith('OPTIONS ')) return;
    pings++;
    const header = (name: string) => new RegExp(`^${name}:.*$`, 'mi').exec(text)?.[0] ?? '';
    socket.send(['SIP/2.0 200 OK', header('Via'), header('From'), `${header('To')};tag=gw`, header('Call-ID'), header('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'), from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, GATEWAY, r));
  return { socket, port: socket.address().port, pings: () => pings };
}

describe('keep-alive answers from many phones behind one NAT address, right after a restart', () => {
  let dataDir: string;
  let server: ServerProcess;
  let admin: ApiClient;
  let gateway: Awaited<ReturnType<typeof natGateway>>;

  beforeAll(async () => {
    dataDir = tempDataDir('natgw');
    gateway = await natGateway();
    const port = await freePort();
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'admin-password-long', '--data-dir', dataDir]).status).toBe(0);
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    store.accounts.addMany(Array.from({ length: PHONES }, (_, i) => ({ username: `p${i + 1}`, domain: DOMAIN, customer: null, ha1Md5: computeHa1('MD5', `p${i + 1}`, DOMAIN, 'pw'), ha1Sha256: computeHa1('SHA-256', `p${i + 1}`, DOMAIN, 'pw') })));
    const now = Date.now();
    store.bindings.applyNow(
      Array.from({ length: PHONES }, (_, i) => ({
        op: 'put-binding' as const,
        binding: {
          id: i + 1, aor: `sip:p${i + 1}@${DOMAIN}`, username: `p${i + 1}`, domain: DOMAIN, contact: `sip:p${i + 1}@192.168.7.${i + 10}:5060`,
          instance: null, regId: null, q: null, callId: `gw${i + 1}`, cseq: 1, expires: 3600, expiresAt: now + 3_600_000,
          registeredAt: now - 1000, refreshedAt: now - 1000, sourceAddress: GATEWAY, sourcePort: gateway.port, transport: 'UDP' as const,
          localAddress: '127.0.0.1', localPort: port, userAgent: 'gw-phone', path: [], nat: true,
        },
        lastRequest: Buffer.from('REGISTER'),
        lastResponse: Buffer.from('SIP/2.0 200 OK'),
      })),
    );
    await store.close();
    const cfg = join(dataDir, 'rollcall.yaml');
    // 60 answers a second against 5 (burst 10); 20 refusals would make a flood.
    writeFileSync(cfg, ['nat:', '  keepAlive:', '    interval: 1', '    maxMisses: 2', 'security:', '  kernelFilter: off', '  rateLimit:', '    newSourceRate: 5', '    newSourceBurst: 10', '  floodBlock:', '    threshold: 20', ''].join('\n'));
    server = await startServer({ dataDir, domains: [DOMAIN], listen: [`udp:127.0.0.1:${port}`], extra: ['--config', cfg] });
    admin = await login(server.httpUrl!, 'admin', 'admin-password-long');
  });

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((r) => (gateway ? gateway.socket.close(() => r()) : r()));
    if (dataDir) removeDir(dataDir);
  });

  it('every phone is reachable through four intervals, and the address is not blocked', async () => {
    await new Promise((r) => setTimeout(r, 4000));
    // Four intervals: each phone pinged about four times, far past what the limit lets through.
    expect(gateway.pings()).toBeGreaterThanOrEqual(PHONES * 3);
    const regs = await admin.json<{ items: Array<{ number: string; reachability: string; rttMs: number | null; keepAliveMisses: number }> }>('GET', `/api/registrations?limit=${PHONES}`);
    expect(regs.items).toHaveLength(PHONES);
    const notReachable = regs.items.filter((r) => r.reachability !== 'reachable').map((r) => r.number);
    expect(notReachable).toEqual([]);
    expect(regs.items.every((r) => r.rttMs !== null && r.keepAliveMisses === 0)).toBe(true);
    const blocks = await admin.json<unknown[] | { items: unknown[] }>('GET', '/api/security/blocks');
    expect(JSON.stringify(blocks)).not.toContain(GATEWAY);
  });
});
