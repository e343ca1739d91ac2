import { defineConfig } from 'vitest/config';

// Integration tests start real processes (relay, dnsmasq, sshd, smtp sinks); on a 2-core machine
// running too many files at once only makes them slower and flakier, so cap the pool.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
