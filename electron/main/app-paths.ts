/** Where the app's files are, in development (the repo) and packaged (app.asar + resources). */
import { app } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** out/main (the main bundle's folder). */
const mainDir = path.dirname(fileURLToPath(import.meta.url));
/** The repo root in development; the root of app.asar when packaged. */
export const appRoot = path.resolve(mainDir, '..', '..');

export const preloadPath = path.join(appRoot, 'out', 'preload', 'preload.cjs');
export const rendererRoot = path.join(appRoot, 'renderer', 'dist');
export const iconDir = path.join(appRoot, 'out', 'icons');

/** The relay bundle: an extra resource when packaged (outside the asar, so Node can run it). */
export function relayBundlePath(): string {
  return app.isPackaged ? path.join(process.resourcesPath, 'relay', 'mailrelay.mjs') : path.join(appRoot, 'dist', 'mailrelay.mjs');
}
