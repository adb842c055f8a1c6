// A real browser softphone: JsSIP, bundled for the page with esbuild, in headless Chromium,
// registers to the built server over ws:// and wss:// (RFC 7118), and the bindings appear in
// the API with transport WS and WSS. With the default digest algorithms: JsSIP answers only
// the last WWW-Authenticate of a 401 and only knows MD5, which the registrar allows for by
// putting MD5 last over WebSocket.

import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_OPENSSL, makeTestCertificate, type TestCertificate } from '../../src/config/test-certificate.fixture.js';
import { ApiClient } from '../api/api-client.js';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP_REASON = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (Debian package chromium; .ci/run installs it)`
  : !HAS_OPENSSL
    ? 'openssl is not installed (Debian package openssl; .ci/run installs it)'
    : null;
if (SKIP_REASON !== null) console.warn(`skipping the browser softphone test: ${SKIP_REASON}`);

const DOMAIN = 'softphone.test';

/** JsSIP as one script that defines `window.JsSIP`. */
async function jssipBundle(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('jssip');
  const out = await build({ entryPoints: [entry], bundle: true, format: 'iife', globalName: 'JsSIP', platform: 'browser', write: false, logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

/** The little of JsSIP's API the page uses. */
interface JsSipGlobal {
  WebSocketInterface: new (url: string) => unknown;
  UA: new (configuration: object) => { on(event: string, listener: (e: never) => void): void; start(): void };
}

interface RegistrationResult {
  readonly ok: boolean;
  readonly cause: string | null;
  readonly viaTransport: string | null;
}

/** Registers a JsSIP UA in the page; resolves when it is registered or has failed. */
function registerInPage(page: Page, url: string, user: string, password: string): Promise<RegistrationResult> {
  return page.evaluate(
    ({ url, user, password, domain }) =>
      new Promise<RegistrationResult>((resolve) => {
        const page = globalThis as unknown as { JsSIP: JsSipGlobal; uas?: unknown[] };
        const J = page.JsSIP;
        const socket = new J.WebSocketInterface(url);
        const ua = new J.UA({ sockets: [socket], uri: `sip:${user}@${domain}`, password, register: true, register_expires: 600, user_agent: 'JsSIP softphone e2e' });
        let via: string | null = null;
        ua.on('registered', (e: { response: { getHeader(n: string): string } }) => {
          via = e.response.getHeader('Via');
          page.uas = [...(page.uas ?? []), ua]; // kept: a UA that is collected would stop refreshing
          resolve({ ok: true, cause: null, viaTransport: /SIP\/2\.0\/(\w+)/.exec(via ?? '')?.[1] ?? null });
        });
        ua.on('registrationFailed', (e: { cause: string }) => resolve({ ok: false, cause: e.cause, viaTransport: null }));
        ua.start();
      }),
    { url, user, password, domain: DOMAIN },
  );
}

interface Registration {
  aor: string;
  contact: string;
  transport: string;
  userAgent: string | null;
  sourceAddress: string;
  connectionId: number | null;
  reachability: string;
  rttMs: number | null;
}

describe.skipIf(SKIP_REASON !== null)('browser softphone (JsSIP in Chromium)', () => {
  let dataDir: string;
  let cert: TestCertificate;
  let server: ServerProcess;
  let api: ApiClient;
  let browser: Browser;
  let pageServer: Server;
  let pageUrl: string;
  const pageErrors: string[] = [];

  /**
   * The softphone's page comes from a loopback origin like the server: Chromium's Local
   * Network Access checks block a page from elsewhere (even about:blank) from connecting to
   * 127.0.0.1.
   */
  async function servePage(): Promise<void> {
    const html = `<!doctype html><meta charset="utf-8"><title>softphone</title><script>${await jssipBundle()}</script>`;
    pageServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    });
    await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', () => r()));
    pageUrl = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`;
  }

  async function softphonePage(): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pageUrl);
    return page;
  }

  const registrations = async (): Promise<Registration[]> => (await api.json<{ items: Registration[] }>('GET', '/api/registrations?limit=1000')).items;

  beforeAll(async () => {
    dataDir = tempDataDir('softphone');
    cert = makeTestCertificate();
    for (const u of ['1001', '1002']) expect(rollcall(['accounts', 'add', u, '--domain', DOMAIN, '--password', `pw-${u}`, '--data-dir', dataDir]).status).toBe(0);
    expect(rollcall(['users', 'add', 'admin', '--role', 'admin', '--password', 'correct-horse-battery', '--data-dir', dataDir]).status).toBe(0);
    server = await startServer({
      dataDir,
      domains: [DOMAIN],
      listen: ['ws:127.0.0.1:0', 'wss:127.0.0.1:0'],
      // Keep-alive every second: the browser's pongs are seen within the test.
      extra: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--set', 'nat.keepAlive.interval=1'],
    });
    const token = rollcall(['users', 'token', 'admin', '--data-dir', dataDir]);
    expect(token.status, token.stderr).toBe(0);
    api = ApiClient.withToken(server.httpUrl!, token.stdout.trim());
    await servePage();
    // The server's certificate is self-signed: the browser is told to accept it.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--ignore-certificate-errors'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    pageServer?.close();
    await server?.stop();
    if (dataDir) removeDir(dataDir);
    if (cert) removeDir(cert.dir);
  });

  it('registers over ws://; the binding is listed with transport WS', async () => {
    const page = await softphonePage();
    const r = await registerInPage(page, `ws://127.0.0.1:${server.port('WS')}`, '1001', 'pw-1001');
    expect(r).toEqual({ ok: true, cause: null, viaTransport: 'WS' });
    const b = (await registrations()).find((x) => x.aor === `sip:1001@${DOMAIN}`);
    expect(b).toMatchObject({ transport: 'WS', sourceAddress: '127.0.0.1', userAgent: 'JsSIP softphone e2e' });
    expect(b!.contact).toMatch(/^sip:\w+@\w+\.invalid;transport=ws$/);
    expect(b!.connectionId).not.toBeNull();
    // The keep-alive's ping frames are answered by the browser itself (a pong): reachable,
    // with the pong's round-trip time.
    const end = Date.now() + 10_000;
    let seen: Registration | undefined;
    while (Date.now() < end) {
      seen = (await registrations()).find((x) => x.aor === `sip:1001@${DOMAIN}`);
      if (seen?.reachability === 'reachable' && seen.rttMs !== null) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(seen).toMatchObject({ reachability: 'reachable', rttMs: expect.any(Number) });
    expect(pageErrors).toEqual([]);
  });

  it('registers over wss://; the binding is listed with transport WSS', async () => {
    const page = await softphonePage();
    const r = await registerInPage(page, `wss://127.0.0.1:${server.port('WSS')}`, '1002', 'pw-1002');
    expect(r).toEqual({ ok: true, cause: null, viaTransport: 'WSS' });
    const b = (await registrations()).find((x) => x.aor === `sip:1002@${DOMAIN}`);
    expect(b).toMatchObject({ transport: 'WSS', sourceAddress: '127.0.0.1' });
    expect(pageErrors).toEqual([]);
  });

  it('a wrong password is challenged again, which JsSIP reports as an Authentication Error', async () => {
    const page = await softphonePage();
    const r = await registerInPage(page, `ws://127.0.0.1:${server.port('WS')}`, '1001', 'not-the-password');
    expect(r).toEqual({ ok: false, cause: 'Authentication Error', viaTransport: null });
    expect((await registrations()).filter((x) => x.aor === `sip:1001@${DOMAIN}`)).toHaveLength(1);
  });
});
