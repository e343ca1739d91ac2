// Bundles the relay (server/cli/main.ts and everything it imports) into one ESM file that runs with
// plain `node` >= 18 and no node_modules: dist/mailrelay.mjs. The desktop app ships this same file.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const outfile = 'dist/mailrelay.mjs';
await build({
  entryPoints: ['server/cli/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  // Code that only works from the one-file bundle (the delivery thread runs this very file) checks this.
  define: { __MAILRELAY_BUNDLE__: 'true' },
  logLevel: 'warning',
  // Some dependencies are CommonJS and call require() for Node built-ins: give the ESM bundle one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __mailrelayCreateRequire } from 'node:module';\nconst require = __mailrelayCreateRequire(import.meta.url);",
  },
});
chmodSync(outfile, 0o755);
console.log(`built ${outfile}`);
