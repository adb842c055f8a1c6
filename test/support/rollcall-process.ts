// Runs the built `rollcall` CLI as a child process, the way an operator would: a server on
// ephemeral loopback ports (learned from its JSON log), and one-shot commands.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransportName } from '../../src/transport/transport.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

export function tempDataDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `rollcall-${tag}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs a CLI command to completion. */
export function rollcall(args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface Listening {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly listening: Listening[];
  /** Every JSON log line so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** The console/API address from the log (`http://127.0.0.1:PORT`), null when off. */
  readonly httpUrl: string | null;
  port(transport: TransportName, family?: 4 | 6): number;
  /** SIGTERM and wait. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
  exited(): boolean;
}

export interface StartOptions {
  readonly dataDir: string;
  /** Defaults to UDP and TCP on 127.0.0.1, ephemeral ports. */
  readonly listen?: readonly string[];
  readonly domains?: readonly string[];
  readonly extra?: readonly string[];
  readonly timeoutMs?: number;
}

export function startServer(o: StartOptions): Promise<ServerProcess> {
  const listen = o.listen ?? ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'];
  const args = [CLI, 'serve', '--data-dir', o.dataDir, '--log-level', 'info'];
  for (const l of listen) args.push('--listen', l);
  for (const d of o.domains ?? ['test.local']) args.push('--domain', d);
  // Every test server gets its own console/API port (the default 8080 would collide).
  if (!(o.extra ?? []).includes('--http')) args.push('--http', '127.0.0.1:0');
  args.push(...(o.extra ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const listening: Listening[] = [];
  let stderr = '';
  let exitCode: number | null | undefined;
  let httpUrl: string | null = null;
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => {
    exitCode = code;
    res(code);
  }));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not become ready: ${stderr}`));
    }, o.timeoutMs ?? 20_000);
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        logs.push(rec);
        if (rec['msg'] === 'listening') {
          listening.push({ transport: rec['transport'] as TransportName, address: rec['address'] as string, port: rec['port'] as number });
        }
        if (rec['msg'] === 'HTTP listening') httpUrl = rec['url'] as string;
        if (rec['msg'] === 'Rollcall is ready') {
          clearTimeout(timer);
          resolvePromise(server);
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (c: string) => (stderr += c));
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready: ${stderr}`));
    });
    const server: ServerProcess = {
      child,
      dataDir: o.dataDir,
      listening,
      logs,
      get httpUrl() {
        return httpUrl;
      },
      port(transport, family = 4) {
        const l = listening.find((x) => x.transport === transport && (family === 6) === x.address.includes(':'));
        if (!l) throw new Error(`no ${transport} IPv${family} listener`);
        return l.port;
      },
      async stop() {
        if (exitCode !== undefined) return exitCode;
        child.kill('SIGTERM');
        return exit;
      },
      async kill() {
        if (exitCode !== undefined) return;
        child.kill('SIGKILL');
        await exit;
      },
      exited: () => exitCode !== undefined,
    };
  });
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
