// Robustness: bursts of random bytes, mangled REGISTERs and broken TCP streams neither crash
// nor stall the server; a valid REGISTER is answered right after. Loopback only, bounded.
// The abuse comes from its own loopback addresses: a source that keeps sending past its rate
// limit without ever authenticating is flood-blocked (security.floodBlock), which is the
// defence working, so the probe that proves the server still answers comes from 127.0.0.1.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { registerText, TcpSipConnection, UdpSipClient } from '../support/sip-client.js';

const DOMAIN = 'robust.test';
const GARBAGE_UDP_SOURCE = '127.0.0.66';
const GARBAGE_TCP_SOURCE = '127.0.0.67';

/** A deterministic pseudo-random source so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

const valid = (viaPort: number, user = 'nobody', cseq = 1) =>
  registerText({ user, password: 'x', domain: DOMAIN, contactHost: '127.0.0.1', contactPort: 5999, expires: 600, viaPort, callId: `${user}-${cseq}@robust` }, cseq, null);

describe('robustness', () => {
  const dataDir = tempDataDir('robust');
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({ dataDir, domains: [DOMAIN] });
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(dataDir);
  });

  async function stillAnswers(): Promise<void> {
    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
    try {
      // A burst of 60 KB datagrams can fill the socket buffer: the probe may need the
      // retransmission any UDP client makes after 500 ms.
      const r = await c.request(valid(c.port, 'probe', Math.floor(Math.random() * 1e6)), 2000);
      expect(r.status).toBe(401);
    } finally {
      c.close();
    }
    const t = await TcpSipConnection.open('127.0.0.1', server.port('TCP'));
    t.write(valid(t.socket.localPort!, 'probe-tcp', 1));
    await t.waitFor(1, 1000);
    expect(t.responses[0]?.status).toBe(401);
    t.close();
  }

  it('survives a burst of garbage and mangled datagrams', async () => {
    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') }, GARBAGE_UDP_SOURCE);
    const rand = rng(42);
    const base = Buffer.from(valid(c.port));
    for (let i = 0; i < 5000; i++) {
      const kind = i % 4;
      let buf: Buffer;
      if (kind === 0) buf = randomBytes(Math.floor(rand() * 1400));
      else if (kind === 1) buf = base.subarray(0, Math.floor(rand() * base.length));
      else if (kind === 2) {
        buf = Buffer.from(base);
        for (let k = 0; k < 8; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      } else {
        // Plausible-looking but hostile: huge header, bad Content-Length, NULs.
        buf = Buffer.from(base.toString().replace('Content-Length: 0', ['Content-Length: 99999', 'Content-Length: -1', 'X: ' + 'a'.repeat(60000), 'Content-Length: 0\r\nContent-Length: 5', 'Via: \u0000\u0000'][i % 5]!));
      }
      c.sendRaw(buf);
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    c.close();
    expect(server.exited()).toBe(false);
    await stillAnswers();
  });

  it('survives truncated, oversized and garbage TCP streams', async () => {
    const port = server.port('TCP');
    const base = valid(40000);
    const abuses: Array<(t: TcpSipConnection) => void> = [
      (t) => t.write(base.slice(0, 60)), // truncated, then closed
      (t) => t.write(randomBytes(5000)),
      (t) => t.write(base.replace('Content-Length: 0\r\n', '')), // no Content-Length on a stream
      (t) => t.write(base.replace('Content-Length: 0', 'Content-Length: 9999999')),
      (t) => t.write('X'.repeat(200_000)), // no end of headers, ever
      (t) => t.write('\r\n\r\n\r\n'), // keep-alives only
      (t) => t.write(base + base.slice(0, 100)), // a whole message then half of one
    ];
    for (const abuse of abuses) {
      for (let i = 0; i < 20; i++) {
        const t = await TcpSipConnection.open('127.0.0.1', port, GARBAGE_TCP_SOURCE);
        abuse(t);
        await new Promise((r) => setTimeout(r, 5));
        t.close();
      }
    }
    expect(server.exited()).toBe(false);
    await stillAnswers();
  });
});
