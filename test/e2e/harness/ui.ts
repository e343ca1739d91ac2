/**
 * Small helpers for driving the app in e2e tests: go to a screen, wait for text, take the
 * screenshots the run keeps as artifacts (test-results/screenshots/, gitignored).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { PageWindow } from './page-globals.ts';

export const SCREENSHOT_DIR = path.resolve('test-results/screenshots');

/** Go to a screen by its hash route (`/i/local/queue`, `/app/fleet`), as a click on a link would. */
export async function goto(page: Page, route: string): Promise<void> {
  await page.evaluate((hash) => {
    (globalThis as unknown as PageWindow).location.hash = hash;
  }, `#${route}`);
  await page.waitForFunction((hash) => (globalThis as unknown as PageWindow).location.hash === hash, `#${route}`);
}

/** The main area of the shell (where pages render). */
export function main(page: Page): Locator {
  return page.locator('main#main');
}

/** Wait until `locator` shows text matching `text`. */
export async function waitForText(locator: Locator, text: string | RegExp, timeoutMs = 15_000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/** Wait until the page has no pending layout work worth waiting for (two animation frames). */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as PageWindow;
    return new Promise<void>((resolve) => w.requestAnimationFrame(() => w.requestAnimationFrame(() => resolve())));
  });
}

/** Save a screenshot of the viewport as `<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await settle(page);
  await page.screenshot({ path: file });
  return file;
}

/** Switch the UI language with the language menu in the sidebar. */
export async function switchLanguage(page: Page, locale: 'en' | 'de'): Promise<void> {
  await page.getByTestId('language').selectOption(locale);
  await page.waitForFunction((l) => (globalThis as unknown as PageWindow).document.documentElement.lang === l, locale);
}

/** Collect the page's console errors and uncaught exceptions (asserted empty at the end of a test file). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A meta CSP with frame-ancestors is the app's, and harmless in a browser tab.
    if (m.type() === 'error' && !m.text().includes('frame-ancestors')) errors.push(`console: ${m.text()}`);
  });
  return errors;
}
