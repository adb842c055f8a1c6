// SIPp registers over TLS. Debian's SIPp (sip-tester) is built without TLS, so it speaks TCP
// to a local socat that carries each connection over TLS to the server: the server sees a
// TLS client, and the binding must say TLS.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_OPENSSL, makeTestCertificate, type TestCertificate } from '../../src/config/test-certificate.fixture.js';
import { hasCommand, removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { injectionFile, runSipp, scenario, SIPP_AVAILABLE, SIPP_SKIP_REASON } from '../support/sipp.js';

const HAS_SOCAT = hasCommand('socat');
const SKIP_REASON = !SIPP_AVAILABLE
  ? SIPP_SKIP_REASON
  : !HAS_SOCAT
    ? 'socat is not installed (Debian package socat; .ci/run installs it)'
    : !HAS_OPENSSL
      ? 'openssl is not installed (Debian package openssl; .ci/run installs it)'
      : null;
if (SKIP_REASON !== null) console.warn(`skipping the SIPp over TLS interop test: ${SKIP_REASON}`);

const DOMAIN = 'interop-tls.test';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function untilListening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`socat did not listen on ${port}`);
}

describe.skipIf(SKIP_REASON !== null)('SIPp over TLS (through a socat TCP→TLS bridge)', () => {
  let dataDir: string;
  let cert: TestCertificate;
  let server: ServerProcess;
  let socat: ChildProcess;
  let bridgePort: number;

  beforeAll(async () => {
    dataDir = tempDataDir('sipp-tls');
    cert = makeTestCertificate();
    for (const u of ['tls1', 'tls2']) expect(rollcall(['accounts', 'add', u, '--domain', DOMAIN, '--password', `pw-${u}`, '--data-dir', dataDir]).status).toBe(0);
    server = await startServer({ dataDir, domains: [DOMAIN], listen: ['tls:127.0.0.1:0'], extra: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile] });
    bridgePort = await freePort();
    // verify=0: the bridge plays a phone, which does not check the server's certificate either.
    socat = spawn('socat', [`TCP-LISTEN:${bridgePort},bind=127.0.0.1,reuseaddr,fork`, `OPENSSL:127.0.0.1:${server.port('TLS')},verify=0`], { stdio: 'ignore' });
    await untilListening(bridgePort);
  });

  afterAll(async () => {
    socat?.kill('SIGTERM');
    await server?.stop();
    if (dataDir) removeDir(dataDir);
    if (cert) removeDir(cert.dir);
  });

  it('REGISTER → 401 → authenticated REGISTER → 200; the bindings are listed with transport TLS', async () => {
    const run = await runSipp({
      scenario: scenario('register'),
      target: `127.0.0.1:${bridgePort}`,
      transport: 'tcp',
      inf: injectionFile(['tls1', 'tls2'].map((u) => ({ username: u, password: `pw-${u}`, domain: DOMAIN }))),
      calls: 2,
      rate: 2,
      timeoutSeconds: 20,
    });
    expect(run.status, run.errors || run.stdout).toBe(0);
    const r = rollcall(['registrations', 'list', '--json', '--data-dir', dataDir]);
    expect(r.status, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ aor: string; transport: string; status: string; localPort: number }>;
    for (const u of ['tls1', 'tls2']) {
      expect(list.find((b) => b.aor === `sip:${u}@${DOMAIN}`)).toMatchObject({ transport: 'TLS', status: 'Registered', localPort: server.port('TLS') });
    }
  });
});
