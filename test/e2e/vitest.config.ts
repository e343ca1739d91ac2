import { defineConfig } from 'vitest/config';

// The e2e tests drive one Chromium against real relays, sshd and swaks: one file at a time in one
// fork, with timeouts long enough for a relay install over SSH.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ['default'],
  },
});
