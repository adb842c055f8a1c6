// Conformance on the wire: every RFC 4475 / RFC 5118 torture message, sent to the live
// server over UDP and over TCP, is answered or dropped as the RFCs expect, and the server
// keeps answering afterwards. The corpus is read from ../shared (never copied here).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parser.js';
import { removeDir, ROOT, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { TcpSipConnection, UdpSipClient } from '../support/sip-client.js';

const CORPUS = join(ROOT, '..', 'shared', 'conformance', 'sip-torture');
const present = existsSync(join(CORPUS, 'expectations.json'));
if (!present) console.warn(`skipping live torture tests: ${CORPUS} is absent (CI has ../shared beside the clone)`);

type Rule = 'reject-or-silence' | 'final-response' | 'survive';
interface Expectation {
  readonly class: string;
  readonly rule_udp: Rule;
  readonly rule_tcp: Rule;
}

function verdict(rule: Rule, responses: readonly SipResponse[]): string | null {
  const finals = responses.filter((r) => r.status >= 200);
  if (rule === 'reject-or-silence' && finals.some((r) => r.status < 300)) return `answered ${finals.map((r) => r.status).join(',')}, expected no 2xx`;
  if (rule === 'final-response' && finals.length === 0) return 'no final response';
  return null;
}

describe.skipIf(!present)('torture messages on the wire', () => {
  const expectations = present ? (JSON.parse(readFileSync(join(CORPUS, 'expectations.json'), 'utf8')) as Record<string, Expectation>) : {};
  const names = Object.keys(expectations).filter((k) => !k.startsWith('_'));
  const dataDir = tempDataDir('torture');
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({ dataDir, domains: ['example.com'] });
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(dataDir);
  });

  async function alive(): Promise<void> {
    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
    try {
      const id = Math.random().toString(36).slice(2);
      const r = await c.request(
        `OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK${id}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=1\r\nTo: <sip:example.com>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        1500,
      );
      expect(r.status).toBe(200);
    } finally {
      c.close();
    }
  }

  it.each(names)('%s over UDP', async (name) => {
    const bytes = readFileSync(join(CORPUS, `${name}.dat`));
    const c = await UdpSipClient.open({ host: '127.0.0.1', port: server.port('UDP') });
    const responses: SipResponse[] = [];
    c.socket.on('message', (buf) => {
      const m = parseMessage(buf, 'datagram');
      if (m.kind === 'response') responses.push(m);
    });
    c.sendRaw(bytes);
    await new Promise((r) => setTimeout(r, 300));
    c.close();
    expect(verdict(expectations[name]!.rule_udp, responses)).toBeNull();
    await alive();
  });

  it.each(names)('%s over TCP', async (name) => {
    const bytes = readFileSync(join(CORPUS, `${name}.dat`));
    const t = await TcpSipConnection.open('127.0.0.1', server.port('TCP'));
    t.write(bytes);
    await t.waitFor(1, 300);
    await new Promise((r) => setTimeout(r, 50));
    t.close();
    expect(verdict(expectations[name]!.rule_tcp, t.responses)).toBeNull();
    await alive();
  });
});
