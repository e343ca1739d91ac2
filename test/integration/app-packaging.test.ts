/**
 * The packaged file set, without the Electron binary: electron-builder itself (the real packager,
 * `--dir` target) runs on a copy of the project with a stand-in Electron distribution (an empty
 * executable), using build/electron-builder.yml unchanged. The app's files and the relay bundle must be
 * in the package; sources, tests, source maps and node_modules must not.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import asar from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

const run = promisify(execFile);
const repo = path.resolve('.');
let tmp: TempDir;
let appOut: string;
let files: string[];

beforeAll(async () => {
  if (!existsSync(RELAY_BUNDLE)) throw new Error(`${RELAY_BUNDLE} is missing: run "npm run build:relay" first`);
  tmp = makeTempDir('app-pack-');
  const project = path.join(tmp.path, 'project');
  mkdirSync(project);
  // The project as `npm run dist` sees it: fresh app bundles, the relay bundle, a built renderer
  // (a stand-in page if the UI is not built here), plus dev files that must stay out.
  await run(process.execPath, [path.join(repo, 'build/bundle-app.mjs')], { cwd: repo });
  for (const p of ['package.json', 'build', 'out', 'dist', 'electron', 'server', 'test', 'tsconfig.json']) {
    if (existsSync(path.join(repo, p))) cpSync(path.join(repo, p), path.join(project, p), { recursive: true });
  }
  const rendererDist = path.join(repo, 'renderer', 'dist');
  if (existsSync(rendererDist)) cpSync(rendererDist, path.join(project, 'renderer', 'dist'), { recursive: true });
  else {
    mkdirSync(path.join(project, 'renderer', 'dist', 'assets'), { recursive: true });
    writeFileSync(path.join(project, 'renderer', 'dist', 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
    writeFileSync(path.join(project, 'renderer', 'dist', 'assets', 'app.js'), 'console.log(1)');
  }
  mkdirSync(path.join(project, 'renderer', 'src'), { recursive: true });
  writeFileSync(path.join(project, 'renderer', 'src', 'App.svelte'), '<p>source</p>');
  // The real dependencies (electron-builder walks them even though the app bundles everything).
  symlinkSync(path.join(repo, 'node_modules'), path.join(project, 'node_modules'), 'dir');

  const electronDist = path.join(tmp.path, 'electron-dist');
  mkdirSync(path.join(electronDist, 'resources'), { recursive: true });
  writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const electronVersion = (JSON.parse(readFileSync(path.join(repo, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;

  const out = path.join(tmp.path, 'release');
  await run(
    path.join(repo, 'node_modules/.bin/electron-builder'),
    [
      '--linux', 'dir',
      '--projectDir', project,
      '--config', path.join(project, 'build/electron-builder.yml'),
      `-c.electronDist=${electronDist}`,
      `-c.electronVersion=${electronVersion}`,
      `-c.directories.output=${out}`,
      '--publish', 'never',
    ],
    { cwd: project, env: { ...process.env, CI: '1' }, maxBuffer: 16 << 20 },
  );
  appOut = path.join(out, 'linux-unpacked');
  files = asar.listPackage(path.join(appOut, 'resources', 'app.asar'), { isPack: false }).map((f) => f.replace(/\\/g, '/'));
}, 120_000);

afterAll(() => tmp?.remove());

describe('packaged file set (electron-builder with a stand-in Electron distribution)', () => {
  it('contains the main and preload bundles, the icons, the built renderer and package.json pointing at main', () => {
    for (const f of ['/out/main/main.mjs', '/out/preload/preload.cjs', '/out/icons/icon.png', '/out/icons/tray.png', '/renderer/dist/index.html', '/package.json']) {
      expect(files).toContain(f);
    }
    const pkg = JSON.parse(asar.extractFile(path.join(appOut, 'resources', 'app.asar'), 'package.json').toString()) as { main: string; version: string };
    expect(pkg.main).toBe('out/main/main.mjs');
  });

  it('ships the relay bundle as an extra resource outside the asar (Electron-as-Node runs it, the installer uploads it)', () => {
    const relay = path.join(appOut, 'resources', 'relay', 'mailrelay.mjs');
    expect(readFileSync(relay).equals(readFileSync(RELAY_BUNDLE))).toBe(true);
    expect(files.some((f) => f.includes('mailrelay'))).toBe(false);
  });

  it('leaves out sources, tests, source maps, renderer sources and node_modules', () => {
    const leaked = files.filter((f) => /\.(ts|map|svelte)$/.test(f) || /^\/(server|electron|test|build|dist|node_modules)\//.test(f) || f.includes('/node_modules/') || f.startsWith('/renderer/src'));
    expect(leaked).toEqual([]);
  });

  it('lists exactly the files the app runs', () => {
    const isDir = (f: string): boolean => files.some((g) => g.startsWith(`${f}/`));
    const leafs = files.filter((f) => !isDir(f));
    for (const f of leafs) expect(f).toMatch(/^\/(package\.json|out\/(main\/main\.mjs|preload\/preload\.cjs|icons\/[\w@]+\.png)|renderer\/dist\/.+)$/);
  });
});
