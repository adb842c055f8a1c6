// The built server on real sockets, driven by our own test UA where SIPp cannot go: SHA-256
// digest (SIPp 3.6.1 only knows MD5), IPv6, retransmissions, OPTIONS and other methods.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValue } from '../../src/sip/message.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { digestAuthorization, registerText, registerWithDigest, UdpSipClient } from '../support/sip-client.js';

const DOMAIN = 'wire.test';

function events(dataDir: string, aor: string): string[] {
  const db = new Database(join(dataDir, 'rollcall.db'), { readonly: true });
  try {
    return (db.prepare('SELECT type FROM events WHERE aor = ? ORDER BY id').all(aor) as Array<{ type: string }>).map((r) => r.type);
  } finally {
    db.close();
  }
}

describe('registrar on the wire', () => {
  const dataDir = tempDataDir('wire');
  let server: ServerProcess;
  let client: UdpSipClient;

  beforeAll(async () => {
    for (const u of ['sha', 'md5', 'six', 'retx']) expect(rollcall(['accounts', 'add', u, '--domain', DOMAIN, '--password', `pw-${u}`, '--data-dir', dataDir]).status).toBe(0);
    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['udp:127.0.0.1:0', 'udp:[::1]:0'] });
    client = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    removeDir(dataDir);
  });

  const params = (user: string) => ({ user, password: `pw-${user}`, domain: DOMAIN, contactHost: '127.0.0.1', contactPort: 5999, expires: 600 });

  it('challenges with MD5 and SHA-256 (in the configured order) and accepts SHA-256 credentials', async () => {
    const challenge = await client.request(registerText({ ...params('sha'), viaPort: client.port }, 1, null));
    expect(challenge.status).toBe(401);
    expect(challenge.wwwAuthenticate.map((w) => w.params.get('algorithm'))).toEqual(['MD5', 'SHA-256']);
    const ok = await client.request(registerText({ ...params('sha'), viaPort: client.port }, 2, digestAuthorization(challenge, 'sha', 'pw-sha', `sip:${DOMAIN}`, 'SHA-256')));
    expect(ok.status).toBe(200);
    expect(headerValue(ok, 'contact')).toBe('<sip:sha@127.0.0.1:5999>;expires=600');
  });

  it('registers over IPv6 and records the IPv6 source', async () => {
    const six = await UdpSipClient.open({ host: '::1', port: server.port('UDP', 6) }, '::1');
    try {
      const r = await registerWithDigest(six, { ...params('six'), contactHost: '[::1]' });
      expect(r.status).toBe(200);
      expect(r.via[0]!.params).toContainEqual(['received', '::1']);
    } finally {
      six.close();
    }
    const list = JSON.parse(rollcall(['registrations', 'list', '--json', '--data-dir', dataDir]).stdout) as Array<{ aor: string; sourceAddress: string; contact: string }>;
    expect(list.find((b) => b.aor === `sip:six@${DOMAIN}`)).toMatchObject({ sourceAddress: '::1', contact: 'sip:six@[::1]:5999' });
  });

  it('answers a retransmitted REGISTER with the same bytes and processes it once', async () => {
    const p = { ...params('retx'), viaPort: client.port };
    const challenge = await client.request(registerText(p, 1, null));
    const text = registerText(p, 2, digestAuthorization(challenge, 'retx', 'pw-retx', `sip:${DOMAIN}`));
    const raw: Buffer[] = [];
    const onMessage = (buf: Buffer) => {
      if (buf.toString().includes('CSeq: 2 REGISTER')) raw.push(Buffer.from(buf));
    };
    client.socket.on('message', onMessage);
    client.sendRaw(text);
    client.sendRaw(text);
    client.sendRaw(text);
    await new Promise((r) => setTimeout(r, 300));
    client.socket.off('message', onMessage);
    // Retransmissions that arrive while the first is being committed are absorbed; the
    // rest get the stored response. Either way: one 200, byte for byte the same each time.
    expect(raw.length).toBeGreaterThanOrEqual(1);
    for (const b of raw) expect(b.equals(raw[0]!)).toBe(true);
    expect(raw[0]!.toString()).toMatch(/^SIP\/2\.0 200 OK/);
    await new Promise((r) => setTimeout(r, 100));
    expect(events(dataDir, `sip:retx@${DOMAIN}`)).toEqual(['registered']);
  });

  it('answers OPTIONS to the server with its capabilities, and other methods as documented', async () => {
    const req = (method: string, uri: string, cseq: number) =>
      `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-${method}-${cseq}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@${DOMAIN}>;tag=p\r\nTo: <${uri}>\r\nCall-ID: m-${method}-${cseq}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`;
    const options = await client.request(req('OPTIONS', `sip:${DOMAIN}`, 1));
    expect(options.status).toBe(200);
    expect(headerValue(options, 'allow')).toBe('REGISTER, OPTIONS');
    expect(headerValue(options, 'accept')).toBe('application/sdp');
    expect(headerValue(options, 'supported')).toBe('path, outbound');
    expect((await client.request(req('MESSAGE', `sip:${DOMAIN}`, 2))).status).toBe(405);
    expect((await client.request(req('MESSAGE', `sip:nobody@${DOMAIN}`, 3))).status).toBe(404);
    expect((await client.request(req('MESSAGE', 'sip:someone@elsewhere.example', 4))).status).toBe(404);
    expect((await client.request(req('FROBNICATE', `sip:${DOMAIN}`, 5))).status).toBe(501);
    expect((await client.request(req('MESSAGE', `sip:sha@${DOMAIN}`, 6))).status).toBe(480);
  });
});
