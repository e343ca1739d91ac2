// Component and state tests of the renderer: Svelte compiled for the browser, run in happy-dom.
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  plugins: [svelte()],
  resolve: { conditions: ['browser'] },
  test: {
    name: 'renderer',
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-support/setup.ts'],
    testTimeout: 15_000,
  },
});
