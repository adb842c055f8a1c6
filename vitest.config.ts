import { defineConfig } from 'vitest/config';

// Unit tests live next to the layer they test (src/**/*.test.ts); tests that drive the
// built server with real SIP tools live in test/. Forks, not threads: interop tests spawn
// processes and bind sockets, and a crashed fork must not take the others with it.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
