#!/usr/bin/env node
// `npx mailrelay` entry. In a source checkout it runs the TypeScript directly (through tsx), so the
// command works on a fresh clone without a build; elsewhere it runs the bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'server', 'cli', 'main.ts');
const bundle = path.join(root, 'dist', 'mailrelay.mjs');

if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(bundle).href);
}
