// Interop with SIPp, the real SIP load tool: the scenarios in test/sipp/ drive the built
// server over UDP and TCP, and the results are checked both from SIPp's side (its exit
// status: every expected message arrived, every check passed) and from Rollcall's side
// (the registrations the CLI lists).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, rollcall, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { injectionFile, runSipp, scenario, SIPP_AVAILABLE, SIPP_SKIP_REASON, type SippAccount } from '../support/sipp.js';

if (!SIPP_AVAILABLE) console.warn(`skipping SIPp interop tests: ${SIPP_SKIP_REASON}`);

const DOMAIN = 'interop.test';
const BULK = 1000;

describe.skipIf(!SIPP_AVAILABLE)('SIPp interop', () => {
  let dataDir: string;
  let server: ServerProcess;

  const account = (name: string): SippAccount => ({ username: name, password: `pw-${name}`, domain: DOMAIN });

  function registrations(): Array<{ aor: string; contact: string; transport: string; remaining: number; status: string }> {
    const r = rollcall(['registrations', 'list', '--json', '--data-dir', dataDir]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Array<{ aor: string; contact: string; transport: string; remaining: number; status: string }>;
  }

  beforeAll(async () => {
    dataDir = tempDataDir('sipp');
    const names = ['wrongpw', 'rightpw'];
    for (const t of ['udp', 'tcp']) for (const s of ['register', 'refresh', 'unregister', 'star', 'brief']) names.push(`${s}-${t}`);
    for (let i = 1; i <= BULK; i++) names.push(`bulk${i}`);
    const csv = ['username,domain,password,customer', ...names.map((n) => `${n},${DOMAIN},pw-${n},interop`)].join('\n');
    const file = join(dataDir, 'accounts.csv');
    writeFileSync(file, csv + '\n');
    const imported = rollcall(['accounts', 'import', file, '--data-dir', dataDir]);
    expect(imported.status, imported.stderr).toBe(0);
    server = await startServer({ dataDir, domains: [DOMAIN] });
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) removeDir(dataDir);
  });

  for (const transport of ['udp', 'tcp'] as const) {
    const target = () => `127.0.0.1:${server.port(transport === 'udp' ? 'UDP' : 'TCP')}`;
    const sipp = (name: string, user: string) =>
      runSipp({ scenario: scenario(name), target: target(), transport, inf: injectionFile([account(user)]), calls: 1, rate: 1, timeoutSeconds: 20 });

    describe(`over ${transport.toUpperCase()}`, () => {
      it('REGISTER → 401 → authenticated REGISTER → 200, binding listed', async () => {
        const run = await sipp('register', `register-${transport}`);
        expect(run.status, run.errors || run.stdout).toBe(0);
        const b = registrations().find((x) => x.aor === `sip:register-${transport}@${DOMAIN}`);
        expect(b).toMatchObject({ transport: transport.toUpperCase(), status: 'Registered' });
        expect(b!.remaining).toBeGreaterThan(3500);
      });

      it('a refresh keeps one binding with the new expiry', async () => {
        const run = await sipp('refresh', `refresh-${transport}`);
        expect(run.status, run.errors || run.stdout).toBe(0);
        const list = registrations().filter((x) => x.aor === `sip:refresh-${transport}@${DOMAIN}`);
        expect(list).toHaveLength(1);
        expect(list[0]!.remaining).toBeGreaterThan(880);
        expect(list[0]!.remaining).toBeLessThanOrEqual(900);
      });

      it('Expires: 0 removes the binding', async () => {
        const run = await sipp('unregister', `unregister-${transport}`);
        expect(run.status, run.errors || run.stdout).toBe(0);
        expect(registrations().some((x) => x.aor === `sip:unregister-${transport}@${DOMAIN}`)).toBe(false);
      });

      it('Contact: * with Expires: 0 removes every binding', async () => {
        const run = await sipp('star', `star-${transport}`);
        expect(run.status, run.errors || run.stdout).toBe(0);
        expect(registrations().some((x) => x.aor === `sip:star-${transport}@${DOMAIN}`)).toBe(false);
      });

      it('423 with Min-Expires for a too-short expiry', async () => {
        const run = await sipp('interval-too-brief', `brief-${transport}`);
        expect(run.status, run.errors || run.stdout).toBe(0);
        expect(registrations().some((x) => x.aor === `sip:brief-${transport}@${DOMAIN}`)).toBe(false);
      });
    });
  }

  it('a wrong password never gets 200 (and the scenario would notice one)', async () => {
    const target = `127.0.0.1:${server.port('UDP')}`;
    const wrong = await runSipp({ scenario: scenario('wrong-password'), target, transport: 'udp', inf: injectionFile([{ ...account('wrongpw'), password: 'not-it' }]), calls: 1, timeoutSeconds: 20 });
    expect(wrong.status, wrong.errors || wrong.stdout).toBe(0);
    expect(registrations().some((x) => x.aor === `sip:wrongpw@${DOMAIN}`)).toBe(false);
    // The same scenario with the right password gets 200 where it expects 401: SIPp fails it.
    const right = await runSipp({ scenario: scenario('wrong-password'), target, transport: 'udp', inf: injectionFile([account('rightpw')]), calls: 1, timeoutSeconds: 20 });
    expect(right.status).not.toBe(0);
  });

  it(`${BULK} distinct accounts register in one SIPp run with zero failures`, async () => {
    const accounts = Array.from({ length: BULK }, (_, i) => account(`bulk${i + 1}`));
    const run = await runSipp({ scenario: scenario('register'), target: `127.0.0.1:${server.port('UDP')}`, transport: 'udp', inf: injectionFile(accounts), calls: BULK, rate: 500, limit: 1000, timeoutSeconds: 60 });
    expect(run.status, run.errors || run.stdout).toBe(0);
    const bulk = registrations().filter((x) => x.aor.startsWith('sip:bulk'));
    expect(new Set(bulk.map((b) => b.aor)).size).toBe(BULK);
  });
});
