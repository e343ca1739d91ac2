/**
 * Debian's Chromium driven by playwright-core: headless, fresh profile per launch, and a page that
 * gets `window.relayDesk` from the bridge before any of the app's scripts run.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { apiFunctionNames } from '../../../electron/ipc-contract.ts';
import { makeTempDir, type TempDir } from '../../support/temp-dir.ts';
import type { BridgeConfig } from './bridge-protocol.ts';

export const CHROMIUM = process.env.RELAYDESK_CHROMIUM ?? '/usr/bin/chromium';

const here = path.dirname(fileURLToPath(import.meta.url));
let compiled: Promise<string> | null = null;

/** bridge-browser.ts as one browser script (types stripped, no imports left). */
function bridgeScript(): Promise<string> {
  compiled ??= transform(readFileSync(path.join(here, 'bridge-browser.ts'), 'utf8'), { loader: 'ts', format: 'iife', target: 'es2022' }).then((r) => r.code);
  return compiled;
}

export interface AppBrowser {
  context: BrowserContext;
  /** Open a page of the app at `url` with `window.relayDesk` bridged to `bridgeUrl`. */
  openApp(url: string, bridgeUrl: string): Promise<Page>;
  close(): Promise<void>;
}

/** Launch headless Chromium with a fresh user-data dir (removed on close). */
export async function launchAppBrowser(opts: { locale?: string; viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<AppBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const profile: TempDir = makeTempDir('relaydesk-chromium-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
      locale: opts.locale ?? 'en-US',
      viewport: opts.viewport ?? { width: 1360, height: 860 },
      colorScheme: opts.colorScheme ?? 'light',
      timezoneId: 'Europe/Berlin',
    });
  } catch (err) {
    profile.remove();
    throw err;
  }
  return {
    context,
    async openApp(url, bridgeUrl) {
      const config: BridgeConfig = { url: bridgeUrl, calls: apiFunctionNames.calls, events: apiFunctionNames.events };
      const script = `globalThis.__relayDeskBridgeConfig = ${JSON.stringify(config)};\n${await bridgeScript()}`;
      const page = context.pages().find((p) => p.url() === 'about:blank') ?? (await context.newPage());
      await page.addInitScript({ content: script });
      await page.goto(url);
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      profile.remove();
    },
  };
}
