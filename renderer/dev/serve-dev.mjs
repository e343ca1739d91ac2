// DEV STAND-IN ONLY: build the renderer with the fake window.relayDesk (dev/main.ts) and serve it,
// for looking at pages and taking screenshots. Usage: node renderer/dev/serve-dev.mjs [port]
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
const input = fileURLToPath(new URL('./index.html', import.meta.url));
const outDir = fileURLToPath(new URL('./dist', import.meta.url));
const port = Number(process.argv[2] ?? 4174);

await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true, rollupOptions: { input } } });
const server = await preview({ configFile, build: { outDir }, preview: { port, strictPort: true, host: '127.0.0.1', open: false } });
console.log(`dev stand-in at http://127.0.0.1:${port}/dev/index.html`);
process.on('SIGTERM', () => server.httpServer.close(() => process.exit(0)));
