// Bundles the desktop app's main process and preload with esbuild (DESIGN §3):
//   node build/bundle-app.mjs [--renderer] [--launch]
//   --renderer  also builds the Svelte UI (`npm run build:renderer`, when package.json has it)
//   --launch    then starts Electron on out/main/main.mjs (`npm start`); without Electron's binary it
//               says so in one line and exits 1
// Outputs:
//   out/main/main.mjs       ESM, for Electron's Node (electron stays external; ssh2's optional native
//                           add-ons are left out so the pure-JS path is used everywhere)
//   out/preload/preload.cjs CommonJS, as sandboxed preloads must be
//   out/icons/              the window and tray icons
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const common = { bundle: true, sourcemap: 'linked', legalComments: 'none', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['electron/main/main.ts'],
  outfile: 'out/main/main.mjs',
  platform: 'node',
  target: 'node22',
  format: 'esm',
  external: ['electron', 'cpu-features', '*.node'],
  // CommonJS dependencies (ssh2, conf's deps) call require() for Node built-ins: give the ESM bundle one.
  banner: { js: "import { createRequire as __relayDeskCreateRequire } from 'node:module'; const require = __relayDeskCreateRequire(import.meta.url);" },
});

// The preload needs only the names in the contract (channel → function), not its zod schemas:
// evaluate the contract once here and hand the preload a names-only copy of it.
const tmp = 'out/.contract-names.mjs';
await build({ ...common, sourcemap: false, entryPoints: ['electron/ipc-contract.ts'], outfile: tmp, platform: 'node', format: 'esm' });
const contract = await import(pathToFileURL(path.resolve(tmp)).href);
rmSync(tmp);
const names = (table) => Object.fromEntries(Object.entries(table).map(([channel, def]) => [channel, { fn: def.fn }]));
const namesOnly = [
  `export const IPC_PREFIX = ${JSON.stringify(contract.IPC_PREFIX)};`,
  `export const ipcCalls = ${JSON.stringify(names(contract.ipcCalls))};`,
  `export const ipcEvents = ${JSON.stringify(names(contract.ipcEvents))};`,
].join('\n');
const contractNamesOnly = {
  name: 'contract-names-only',
  setup(b) {
    b.onResolve({ filter: /ipc-contract\.ts$/ }, () => ({ path: 'ipc-contract-names', namespace: 'contract-names' }));
    b.onLoad({ filter: /.*/, namespace: 'contract-names' }, () => ({ contents: namesOnly, loader: 'js' }));
  },
};

await build({
  ...common,
  plugins: [contractNamesOnly],
  entryPoints: ['electron/preload/preload.ts'],
  outfile: 'out/preload/preload.cjs',
  platform: 'browser',
  target: 'chrome130',
  format: 'cjs',
  external: ['electron'],
});

mkdirSync('out/icons', { recursive: true });
for (const name of ['icon.png', 'tray.png', 'trayTemplate.png', 'trayTemplate@2x.png']) {
  if (existsSync(`build/icons/${name}`)) cpSync(`build/icons/${name}`, `out/icons/${name}`);
}
console.log('built out/main/main.mjs, out/preload/preload.cjs');

const args = new Set(process.argv.slice(2));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

if (args.has('--renderer')) {
  const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts ?? {};
  if (scripts['build:renderer']) {
    const r = spawnSync(npm, ['run', '--silent', 'build:renderer'], { stdio: 'inherit', shell: process.platform === 'win32' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  } else {
    console.log('no build:renderer script yet: the window shows a placeholder page');
  }
}

if (args.has('--launch')) {
  let electronBinary;
  try {
    electronBinary = createRequire(import.meta.url)('electron');
    if (typeof electronBinary !== 'string' || !existsSync(electronBinary)) throw new Error('missing');
  } catch {
    console.error(
      "Electron's binary is not installed (node_modules/electron/dist is missing): run `npm install` without ELECTRON_SKIP_BINARY_DOWNLOAD (install scripts must be allowed; package.json has allowScripts.electron=true), or `node node_modules/electron/install.js`.",
    );
    process.exit(1);
  }
  const child = spawn(electronBinary, ['out/main/main.mjs', ...process.argv.slice(2).filter((a) => !a.startsWith('--renderer') && a !== '--launch')], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
