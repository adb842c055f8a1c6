import { defineConfig } from 'vitest/config';

// Unit tests live next to the layer they test (src/**/*.test.ts); tests that drive the
// built server with real SIP tools live in test/. Forks, not threads: interop tests spawn
// processes and bind sockets, and a crashed fork must not take the others with it.
// The flood test runs alone, after everything else: it measures whether phones get every
// answer within 1 s while the machine's two cores are busy with a flood, which other test
// files running beside it would falsify. The browser softphone test too: Chromium takes
// both cores for seconds, which delays the timers of whatever server runs beside it (the
// keep-alive test counts pings per second).
const ALONE = ['test/security/flood.test.ts', 'test/e2e/softphone.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'all', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: ['**/node_modules/**', ...ALONE], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
