import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite-store.js';

const fixture = fileURLToPath(new URL('./journal-lifetime.fixture.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function run(dataDir: string, mode: 'idle' | 'pending'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, mode], { cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Hanging is the failure we look for: kill it well before the test times out.
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('worker journal and process lifetime', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-lifetime-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an idle journal does not keep the process alive', async () => {
    expect(await run(dataDir, 'idle')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a pending commit keeps the process alive until it is durable', async () => {
    expect(await run(dataDir, 'pending')).toEqual({ code: 0, stdout: 'durable\n', stderr: '' });
    const store = openSqliteStore({ dataDir, synchronous: 'normal', journal: 'inline' });
    try {
      expect(store.bindings.loadAll().map((b) => b.id)).toEqual([1]);
    } finally {
      await store.close();
    }
  });
});
