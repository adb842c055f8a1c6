import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite-store.js';

const fixture = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('durability of the worker journal', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rollcall-crash-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every binding acknowledged before kill -9 is there after reopening', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    const acknowledged: number[] = [];
    let partial = '';
    let killed = false;
    const KILL_AFTER = 5000;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!; // an id is acknowledged only once its line is complete
      for (const line of lines) if (line !== 'ready') acknowledged.push(Number(line));
      if (!killed && acknowledged.length >= KILL_AFTER) {
        killed = true;
        child.kill('SIGKILL'); // mid-stream: commits are in flight and queued
      }
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    expect(stderr).toBe('');
    expect(exit.signal).toBe('SIGKILL');
    // Lines that were already in the pipe when it died count too: each was printed after done.
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);

    const store = openSqliteStore({ dataDir, synchronous: 'full', journal: 'inline' });
    try {
      const stored = new Set(store.bindings.loadAll().map((b) => b.id));
      const lost = acknowledged.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      expect(store.bindings.lastMessages(acknowledged.at(-1)!)?.request).toMatch(/^REGISTER /);
    } finally {
      await store.close();
    }
  });
});
