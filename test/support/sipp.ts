// Runs SIPp (Debian's sip-tester) against a server: the real interop peer of our tests.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, hasCommand } from './rollcall-process.js';

export const SIPP_AVAILABLE = hasCommand('sipp');
export const SIPP_SKIP_REASON = 'sipp is not installed (Debian package sip-tester; .ci/run installs it)';

export function scenario(name: string): string {
  return join(ROOT, 'test/sipp', `${name}.xml`);
}

export interface SippAccount {
  readonly username: string;
  readonly password: string;
  readonly domain: string;
}

/** Writes a SIPp injection file (username;password;domain), read in sequence. */
export function injectionFile(accounts: readonly SippAccount[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-sipp-'));
  const file = join(dir, 'accounts.csv');
  writeFileSync(file, ['SEQUENTIAL', ...accounts.map((a) => `${a.username};${a.password};${a.domain}`)].join('\n') + '\n');
  return file;
}

export interface SippRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Content of the -trace_err log, if any (unexpected messages). */
  readonly errors: string;
}

export interface SippOptions {
  readonly scenario: string;
  readonly target: string;
  readonly transport: 'udp' | 'tcp';
  readonly inf: string;
  readonly calls: number;
  readonly rate?: number;
  readonly limit?: number;
  readonly timeoutSeconds?: number;
  readonly localIp?: string;
  readonly extra?: readonly string[];
}

export function runSipp(o: SippOptions): Promise<SippRun> {
  const work = mkdtempSync(join(tmpdir(), 'rollcall-sipp-run-'));
  const args = [
    '-sf', o.scenario,
    '-inf', o.inf,
    '-t', o.transport === 'udp' ? 'u1' : 't1',
    '-i', o.localIp ?? '127.0.0.1',
    '-m', String(o.calls),
    '-r', String(o.rate ?? 100),
    '-l', String(o.limit ?? 500),
    '-timeout', `${o.timeoutSeconds ?? 60}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err',
    '-error_file', join(work, 'errors.log'),
    ...(o.extra ?? []),
    o.target,
  ];
  return new Promise((resolve) => {
    const child = spawn('sipp', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => {
      let errors = '';
      for (const f of readdirSync(work)) if (f.endsWith('.log')) errors += readFileSync(join(work, f), 'utf8');
      resolve({ status, stdout: stdout.slice(-4000), stderr: stderr.slice(-4000), errors: errors.slice(-4000) });
    });
  });
}
