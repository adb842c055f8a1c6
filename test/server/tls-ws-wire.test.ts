// The built server with tls, ws and wss listeners (certificate made by openssl at test time):
// REGISTER with digest over each, with Node's own tls and ws clients, and the binding seen in
// the API with its transport; start-up refused with the key to fix when the certificate is
// missing or bad; IPv6 listeners.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HAS_OPENSSL, makeTestCertificate, OPENSSL_SKIP_REASON, type TestCertificate } from '../../src/config/test-certificate.fixture.js';
import { headerValue, type SipResponse } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parser.js';
import { StreamFramer } from '../../src/sip/stream-framer.js';
import { ApiClient } from '../api/api-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { digestAuthorization } from '../support/sip-client.js';

const DOMAIN = 'tls-ws.test';

if (!HAS_OPENSSL) console.warn(`skipping the TLS and WebSocket wire tests: ${OPENSSL_SKIP_REASON}`);

/** One SIP conversation over a connection: send a request, take the next response. */
interface SipChannel {
  readonly localPort: number;
  /** WebSocket ping frames received (the keep-alive's, on WS/WSS). */
  readonly pings: number;
  send(text: string): void;
  next(timeoutMs?: number): Promise<SipResponse>;
  close(): void;
}

function channel(sendBytes: (b: string) => void, localPort: number, close: () => void): SipChannel & { deliver(r: SipResponse): void } {
  const queue: SipResponse[] = [];
  const waiters: Array<(r: SipResponse) => void> = [];
  return {
    localPort,
    pings: 0,
    send: sendBytes,
    deliver(r) {
      const w = waiters.shift();
      if (w) w(r);
      else queue.push(r);
    },
    next(timeoutMs = 5000) {
      const r = queue.shift();
      if (r) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no response')), timeoutMs);
        waiters.push((x) => {
          clearTimeout(t);
          resolve(x);
        });
      });
    },
    close,
  };
}

function tlsChannel(host: string, port: number, ca: Buffer): Promise<SipChannel> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host, port, ca, servername: 'localhost' }, () => {
      const ch = channel((t) => socket.write(t), socket.localPort!, () => socket.destroy());
      const framer = new StreamFramer(65535, (ev) => {
        if (ev.type !== 'message') return;
        const m = parseMessage(ev.buf, 'stream');
        if (m.kind === 'response') ch.deliver(m);
      });
      socket.on('data', (d) => framer.push(d));
      resolve(ch);
    });
    socket.once('error', reject);
  });
}

function wsChannel(url: string, ca?: Buffer): Promise<SipChannel> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['sip'], ca ? { ca } : {});
    ws.once('error', reject);
    ws.once('open', () => {
      const localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
      const ch = channel((t) => ws.send(t), localPort, () => ws.close());
      ws.on('ping', () => void (ch as { pings: number }).pings++);
      ws.on('message', (d: Buffer) => {
        const m = parseMessage(d, 'datagram');
        if (m.kind === 'response') ch.deliver(m);
      });
      resolve(ch);
    });
  });
}

/** A REGISTER as a browser or TLS phone writes it: Via with its transport, a Contact of its own. */
function register(user: string, transport: 'TLS' | 'WS' | 'WSS', contact: string, cseq: number, auth: string | null): string {
  const viaHost = transport === 'TLS' ? '127.0.0.1:5061' : 'df7jal23ls0d.invalid';
  return [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${viaHost};branch=z9hG4bK${randomBytes(8).toString('hex')}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${DOMAIN}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${user}@${DOMAIN}>`,
    `Call-ID: ${user}-${transport}@test`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <${contact}>`,
    'Expires: 600',
    'User-Agent: rollcall-wire-test',
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function registerOver(ch: SipChannel, user: string, transport: 'TLS' | 'WS' | 'WSS', contact: string): Promise<SipResponse> {
  ch.send(register(user, transport, contact, 1, null));
  const challenge = await ch.next();
  expect(challenge.status).toBe(401);
  ch.send(register(user, transport, contact, 2, digestAuthorization(challenge, user, `pw-${user}`, `sip:${DOMAIN}`)));
  return ch.next();
}

interface Registration {
  aor: string;
  contact: string;
  transport: string;
  sourceAddress: string;
  sourcePort: number;
  localPort: number;
  connectionId: number | null;
  reachability: string;
}

describe.skipIf(!HAS_OPENSSL)('TLS, WS and WSS on the wire', () => {
  const dataDir = tempDataDir('tls-ws');
  let cert: TestCertificate;
  let server: ServerProcess;
  let api: ApiClient;

  const registrations = async (aor: string): Promise<Registration[]> => {
    const page = await api.json<{ items: Registration[] }>('GET', `/api/registrations?limit=1000`);
    return page.items.filter((r) => r.aor === aor);
  };

  beforeAll(async () => {
    cert = makeTestCertificate();
    for (const u of ['tlsuser', 'wsuser', 'wssuser', 'six', 'wsping']) expect(rollcall(['accounts', 'add', u, '--domain', DOMAIN, '--password', `pw-${u}`, '--data-dir', dataDir]).status).toBe(0);
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'correct-horse-battery', '--data-dir', dataDir]).status).toBe(0);
    server = await startServer({
      dataDir,
      domains: [DOMAIN],
      listen: ['udp:127.0.0.1:0', 'tls:127.0.0.1:0', 'ws:127.0.0.1:0', 'wss:127.0.0.1:0', 'tls:[::1]:0', 'wss:[::1]:0'],
      // Keep-alive every second, so that its WebSocket ping frames are seen within the test.
      extra: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--set', 'nat.keepAlive.interval=1'],
    });
    const token = rollcall(['users', 'token', 'admin', '--data-dir', dataDir]);
    expect(token.status, token.stderr).toBe(0);
    api = ApiClient.withToken(server.httpUrl!, token.stdout.trim());
  });

  afterAll(async () => {
    await server?.stop();
    removeDir(dataDir);
    if (cert) removeDir(cert.dir);
  });

  it('logs every listener with its transport; `rollcall status` lists them as --listen takes them', () => {
    expect(server.listening.map((l) => `${l.transport} ${l.address}`).sort()).toEqual(['TLS 127.0.0.1', 'TLS ::1', 'UDP 127.0.0.1', 'WS 127.0.0.1', 'WSS 127.0.0.1', 'WSS ::1']);
    const status = JSON.parse(rollcall(['status', '--json', '--data-dir', dataDir]).stdout) as { listen: string[] };
    expect(status.listen).toContain(`tls:[::1]:${server.listening.find((l) => l.transport === 'TLS' && l.address === '::1')!.port}`);
    expect(status.listen).toContain(`ws:127.0.0.1:${server.port('WS')}`);
  });

  it('REGISTER with digest over TLS; the binding is listed with transport TLS and its connection', async () => {
    const ch = await tlsChannel('127.0.0.1', server.port('TLS'), cert.cert);
    try {
      const ok = await registerOver(ch, 'tlsuser', 'TLS', `sip:tlsuser@127.0.0.1:${ch.localPort};transport=tls`);
      expect(ok.status).toBe(200);
      expect(headerValue(ok, 'contact')).toBe(`<sip:tlsuser@127.0.0.1:${ch.localPort};transport=tls>;expires=600`);
      expect(ok.via[0]!.transport).toBe('TLS');
      const [b] = await registrations(`sip:tlsuser@${DOMAIN}`);
      expect(b).toMatchObject({ transport: 'TLS', sourceAddress: '127.0.0.1', sourcePort: ch.localPort, localPort: server.port('TLS') });
      expect(b!.connectionId).not.toBeNull();
    } finally {
      ch.close();
    }
  });

  it('REGISTER with digest over WS from a browser-style .invalid contact; listed with transport WS', async () => {
    const ch = await wsChannel(`ws://127.0.0.1:${server.port('WS')}/`);
    try {
      const ok = await registerOver(ch, 'wsuser', 'WS', 'sip:wsuser@df7jal23ls0d.invalid;transport=ws');
      expect(ok.status).toBe(200);
      expect(ok.via[0]!.transport).toBe('WS');
      const [b] = await registrations(`sip:wsuser@${DOMAIN}`);
      expect(b).toMatchObject({ transport: 'WS', contact: 'sip:wsuser@df7jal23ls0d.invalid;transport=ws', sourceAddress: '127.0.0.1', sourcePort: ch.localPort });
      expect(b!.connectionId).not.toBeNull();
    } finally {
      ch.close();
    }
  });

  it('REGISTER with digest over WSS; listed with transport WSS', async () => {
    const ch = await wsChannel(`wss://localhost:${server.port('WSS')}/sip`, cert.cert);
    try {
      const ok = await registerOver(ch, 'wssuser', 'WSS', 'sip:wssuser@df7jal23ls0d.invalid;transport=ws');
      expect(ok.status).toBe(200);
      expect(ok.via[0]!.transport).toBe('WSS');
      const [b] = await registrations(`sip:wssuser@${DOMAIN}`);
      expect(b).toMatchObject({ transport: 'WSS', sourcePort: ch.localPort });
    } finally {
      ch.close();
    }
  });

  it('the keep-alive pings a WebSocket endpoint (behind NAT: its contact is .invalid) with ping frames; it is reachable', async () => {
    const ch = await wsChannel(`ws://127.0.0.1:${server.port('WS')}/`);
    try {
      expect((await registerOver(ch, 'wsping', 'WS', 'sip:wsping@a8kd0qq2.invalid;transport=ws')).status).toBe(200);
      const deadline = Date.now() + 5000;
      while (ch.pings < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(ch.pings).toBeGreaterThanOrEqual(2);
      const [b] = await registrations(`sip:wsping@${DOMAIN}`);
      expect(b).toMatchObject({ transport: 'WS', reachability: 'reachable' });
    } finally {
      ch.close();
    }
  });

  it('the bindings whose TLS, WS and WSS connections closed (the tests above) are marked unreachable, not removed', async () => {
    for (const user of ['tlsuser', 'wsuser', 'wssuser']) {
      const deadline = Date.now() + 5000;
      let b: Registration | undefined;
      while (Date.now() < deadline) {
        [b] = await registrations(`sip:${user}@${DOMAIN}`);
        if (b?.reachability === 'unreachable') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(b, user).toMatchObject({ reachability: 'unreachable' });
    }
  });

  it('over IPv6: WSS and TLS on [::1]', async () => {
    const ws = await wsChannel(`wss://[::1]:${server.port('WSS', 6)}/`, cert.cert);
    try {
      const ok = await registerOver(ws, 'six', 'WSS', 'sip:six@df7jal23ls0d.invalid;transport=ws');
      expect(ok.status).toBe(200);
      const [b] = await registrations(`sip:six@${DOMAIN}`);
      expect(b).toMatchObject({ transport: 'WSS', sourceAddress: '::1', localPort: server.port('WSS', 6) });
    } finally {
      ws.close();
    }
    const tls = await tlsChannel('::1', server.port('TLS', 6), cert.cert);
    try {
      tls.send(register('six', 'TLS', 'sip:six@[::1]:5061;transport=tls', 1, null));
      expect((await tls.next()).status).toBe(401);
    } finally {
      tls.close();
    }
  });

  it('refuses a WebSocket handshake without the sip subprotocol', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port('WS')}/`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('opened without the sip subprotocol')));
      ws.on('error', () => {});
    });
    expect(status).toBe(400);
  });
});

describe.skipIf(!HAS_OPENSSL)('start-up with a bad certificate', () => {
  it('a tls listener without a certificate, or with a path that does not exist, fails naming sip.tls.cert; no stack trace', () => {
    const dataDir = tempDataDir('tls-bad');
    try {
      const none = rollcall(['serve', '--data-dir', dataDir, '--listen', 'tls:127.0.0.1:0', '--http', 'off']);
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/^rollcall: tls listeners need a certificate: sip\.tls\.cert and sip\.tls\.key not set\. Give the PEM files with --tls-cert FILE --tls-key FILE/);
      const missing = join(dataDir, 'no-such-cert.pem');
      const bad = rollcall(['serve', '--data-dir', dataDir, '--listen', 'wss:127.0.0.1:0', '--tls-cert', missing, '--tls-key', missing, '--http', 'off']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toBe(`rollcall: sip.tls.cert: cannot read the certificate file ${missing} (no such file). Point sip.tls.cert (--tls-cert) at a readable PEM file.\n`);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    } finally {
      removeDir(dataDir);
    }
  });

  it('a key that does not belong to the certificate fails naming both keys, and never shows the key', () => {
    const dataDir = tempDataDir('tls-mismatch');
    const a = makeTestCertificate();
    const b = makeTestCertificate();
    try {
      const r = rollcall(['serve', '--data-dir', dataDir, '--listen', 'tls:127.0.0.1:0', '--tls-cert', a.certFile, '--tls-key', b.keyFile, '--http', 'off']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^rollcall: sip\.tls\.cert \(.*\) and sip\.tls\.key \(.*\) do not load as a certificate and its key: /);
      expect(r.stderr + r.stdout).not.toMatch(/PRIVATE KEY/);
    } finally {
      removeDir(dataDir);
      removeDir(a.dir);
      removeDir(b.dir);
    }
  });
});
