/**
 * Every page in English and German: switch the language at run time, look for untranslated keys on
 * every screen, check locale formatting, and save a screenshot of each screen in both languages (and
 * a few in the dark theme) to test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startE2eApp, type E2eApp } from './harness/e2e-app.ts';
import { sendMail } from './harness/mail.ts';
import type { PageWindow } from './harness/page-globals.ts';
import { collectPageErrors, goto, main, screenshot, settle, switchLanguage, waitForText } from './harness/ui.ts';
import { waitFor } from '../support/wait-for.ts';

/** Every screen of the local relay and of the app, with a sub-tab where a page has several. */
const SCREENS = [
  '/app/fleet',
  '/app/add-instance',
  '/i/local/dashboard',
  '/i/local/mail-general/general',
  '/i/local/mail-general/listeners',
  '/i/local/mail-delivery/delivery',
  '/i/local/mail-delivery/queue',
  '/i/local/mail-relay-control',
  '/i/local/mail-security/lists',
  '/i/local/mail-security/sender',
  '/i/local/mail-security/connection',
  '/i/local/mail-security/advanced',
  '/i/local/queue',
  '/i/local/logs/live',
  '/i/local/logs/search',
  '/i/local/users',
  '/i/local/tools/send',
  '/i/local/tools/dns',
  '/i/local/connection',
];

/** Text that looks like an i18n key of one of the app's areas (a missing translation shows its key). */
const KEY_LIKE = /\b(common|shell|mail|settings|validation|connection|dashboard|queue|logs|users|tools|fleet)\.[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9-]+)*\b/;

let app: E2eApp;
let errors: string[];
const missing: string[] = [];

beforeAll(async () => {
  app = await startE2eApp();
  errors = collectPageErrors(app.page);
  app.page.on('console', (m) => {
    if (m.text().includes('i18n: missing message')) missing.push(m.text());
  });
  // Something to show: deferred mail, a user, log lines, a rule.
  await sendMail(app.smtpPort, [
    { from: 'alice@sales.example', to: ['bob@partner.example', 'carol@partner.example'] },
    { from: 'dave@support.example', to: 'erin@customer.example' },
    { from: 'frank@sales.example', to: 'grace@partner.example' },
  ]);
  await waitFor('3 deferred', async () => (await app.ctl('status', {})).queue.deferred === 3, 20_000);
  await app.ctl('users.add', { name: 'printer@relay.test', password: 'pw-printer-1', allowedSenders: ['scans@relay.test'] });
  const { config, revision } = await app.ctl('config.get', {});
  await app.ctl('config.apply', {
    config: {
      ...config,
      relayControl: { ...config.relayControl, relayDomains: [{ name: 'Main office', domain: 'office.example', nextHop: '192.0.2.25' }] },
      security: { ...config.security, lists: [{ name: 'Known spammer', type: 'block', action: 'reject', criterion: 'senderDomain', value: '*.spam.example', enabled: true }] },
    },
    baseRevision: revision,
  });
});
afterAll(async () => {
  await app?.close();
});

async function visitAll(page: Page, locale: 'en' | 'de', theme = ''): Promise<string[]> {
  const problems: string[] = [];
  for (const route of SCREENS) {
    await goto(page, route);
    await main(page).locator('h1').first().waitFor();
    // Let data arrive (status, lists) before looking.
    await page.waitForLoadState('networkidle').catch(() => {});
    await waitFor(`${route} to finish loading`, async () => !(await main(page).innerText()).includes(locale === 'de' ? 'Wird geladen…' : 'Loading…'), 10_000).catch(() => {});
    await settle(page);
    // Relay data (log lines, headers) may contain dotted words like "users.add": skip grid cells.
    const text = await page.evaluate(() => {
      const clone = (globalThis as unknown as PageWindow).document.body.cloneNode(true);
      for (const el of clone.querySelectorAll('[role="gridcell"], pre')) el.remove();
      return clone.textContent ?? '';
    });
    const key = KEY_LIKE.exec(text);
    if (key) problems.push(`${route} (${locale}): shows "${key[0]}"`);
    await screenshot(page, `page-${route.replace(/^\/(i\/local|app)\//, '').replace(/\//g, '-')}-${locale}${theme}`);
  }
  return problems;
}

describe('languages', () => {
  it('shows every screen in English without untranslated keys', async () => {
    expect(await visitAll(app.page, 'en')).toEqual([]);
  });

  it('switches to German at run time, with German dates and numbers', async () => {
    const page = app.page;
    await goto(page, '/i/local/dashboard');
    await switchLanguage(page, 'de');
    await waitForText(main(page), 'Laufzeit');
    await waitForText(page.locator('nav, aside').first(), 'Warteschlange');
    // German date format: "seit 28.11.2026, 12:20:39".
    await waitForText(main(page), /seit \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}/);
    expect(await visitAll(page, 'de')).toEqual([]);
  });

  it('shows the queue and its confirmations in German', async () => {
    const page = app.page;
    await goto(page, '/i/local/queue');
    await waitForText(page.getByTestId('queue-total'), '3 Nachrichten passen');
    await main(page).getByRole('checkbox', { name: 'Alle geladenen auswählen' }).check();
    await main(page).getByRole('button', { name: 'Zurückweisen', exact: true }).click();
    await waitForText(page.locator('#queue-confirm'), '3 Nachrichten schlagen jetzt fehl');
    await screenshot(page, 'flow-queue-confirm-bounce-de');
    await page.locator('#queue-confirm').getByRole('button', { name: 'Abbrechen' }).click();
  });

  it('switches back to English', async () => {
    const page = app.page;
    await switchLanguage(page, 'en');
    await waitForText(main(page), 'Queue');
    await waitForText(page.getByTestId('queue-total'), '3 messages match');
    // The choice is remembered across a reload.
    await page.reload();
    await waitForText(page.getByTestId('queue-total'), '3 messages match');
  });

  it('renders in the dark theme too', async () => {
    const page = app.page;
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const route of ['/app/fleet', '/i/local/dashboard', '/i/local/queue', '/i/local/logs/live', '/i/local/mail-relay-control']) {
      await goto(page, route);
      await main(page).locator('h1').first().waitFor();
      await page.waitForTimeout(300);
      await screenshot(page, `dark-${route.replace(/^\/(i\/local|app)\//, '').replace(/\//g, '-')}-en`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('logged no errors and no missing messages', () => {
    expect(errors).toEqual([]);
    expect(missing).toEqual([]);
  });
});
