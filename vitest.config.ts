import { defineConfig } from 'vitest/config';

// Integration tests start real processes (relay, dnsmasq, sshd, smtp sinks); on a 2-core machine
// running too many files at once only makes them slower and flakier, so cap the pool.
export default defineConfig({
  test: {
    // Two projects: the node tests below, and the renderer's component tests (happy-dom; own config).
    projects: [
      { extends: true, test: { name: 'node', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'] } },
      'renderer/vitest.config.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
