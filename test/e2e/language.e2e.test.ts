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

/** What the layout check reads of an element (the project's tsconfig has no DOM library). */
interface LayoutElement {
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly textContent: string | null;
  readonly classList: { contains(name: string): boolean };
  closest(selector: string): LayoutElement | null;
  querySelectorAll(selector: string): ArrayLike<LayoutElement>;
  getBoundingClientRect(): { left: number };
}

/**
 * What runs out of its box on the screen shown: the main area scrolling sideways, a table wider than
 * its frame, a cell whose content runs into the next one (cells that cut their text with "…" on
 * purpose excepted). `wideTables`: the fleet's nine columns may scroll inside their own frame (in the
 * smallest window they cannot fit), every other table must fit.
 */
async function layoutProblems(page: Page, wideTables: 'scroll' | 'fit' = 'fit'): Promise<string[]> {
  return page.evaluate((fleetMayScroll) => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<LayoutElement> } }).document;
    const problems: string[] = [];
    const over = (el: LayoutElement): number => el.scrollWidth - el.clientWidth;
    const name = (el: LayoutElement): string => (el.textContent ?? '').trim().slice(0, 50);
    for (const el of doc.querySelectorAll('main#main')) if (over(el) > 0) problems.push(`the page scrolls sideways by ${over(el)} px`);
    for (const el of doc.querySelectorAll('main#main .table-wrap')) {
      if (fleetMayScroll && el.closest('.table-area')) continue;
      if (over(el) > 0) problems.push(`table "${name(el)}" is ${over(el)} px wider than its frame`);
    }
    for (const el of doc.querySelectorAll('main#main th, main#main td, main#main [role="gridcell"], main#main [role="columnheader"]')) {
      if (!el.classList.contains('ellipsis') && over(el) > 1) problems.push(`cell "${name(el)}" runs ${over(el)} px out of its column`);
    }
    // A grid's header cells start where the cells of its rows start.
    for (const grid of doc.querySelectorAll('main#main [role="grid"]')) {
      const rows = grid.querySelectorAll('[role="row"]');
      const heads = rows[0]?.querySelectorAll('[role="columnheader"]') ?? [];
      const cells = rows[1]?.querySelectorAll('[role="gridcell"]') ?? [];
      if (heads.length !== cells.length) continue;
      for (let i = 0; i < heads.length; i++) {
        const shift = Math.round(cells[i]!.getBoundingClientRect().left - heads[i]!.getBoundingClientRect().left);
        if (shift !== 0) problems.push(`column "${name(heads[i]!)}" of "${name(grid).slice(0, 20)}" is ${shift} px off its header`);
      }
    }
    return problems;
  }, wideTables === 'scroll');
}

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
    // Long (German) words fit their boxes: nothing runs out of a column, a table or the window.
    for (const p of await layoutProblems(page)) problems.push(`${route} (${locale}): ${p}`);
    // Opened by its URL, the search tab searches the last hour rather than saying "Loading…" forever.
    if (route.endsWith('/logs/search') && !(await page.getByTestId('search-count').innerText()).trim()) problems.push(`${route} (${locale}): searched nothing`);
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

  it('fits the smallest window (900 px) in German', async () => {
    const page = app.page;
    await page.setViewportSize({ width: 900, height: 700 });
    const problems: string[] = [];
    try {
      for (const route of ['/app/fleet', '/i/local/dashboard', '/i/local/queue', '/i/local/logs/live', '/i/local/users', '/i/local/mail-delivery/delivery', '/i/local/mail-relay-control', '/i/local/mail-security/lists', '/i/local/mail-general/listeners']) {
        await goto(page, route);
        await main(page).locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle').catch(() => {});
        await settle(page);
        // The page's buttons wrap under its title; tables wrap their headers and fit (the fleet's
        // nine columns may scroll inside their frame, the queue and log grids inside theirs).
        for (const p of await layoutProblems(page, 'scroll')) problems.push(`${route}: ${p}`);
        if (['/app/fleet', '/i/local/users', '/i/local/mail-security/lists', '/i/local/queue'].includes(route)) await screenshot(page, `narrow-${route.replace(/^\/(i\/local|app)\//, '').replace(/\//g, '-')}-de`);
      }
    } finally {
      await page.setViewportSize({ width: 1360, height: 860 });
    }
    expect(problems).toEqual([]);
  });

  it('says there is nothing to export while there are no remote relays', async () => {
    const page = app.page;
    await goto(page, '/app/fleet');
    await main(page).getByRole('button', { name: 'Liste exportieren…' }).click();
    await waitForText(page.getByRole('dialog'), 'Es gibt noch keine entfernten Relays zum Exportieren.');
    expect(await page.getByRole('dialog').innerText()).not.toContain('Speichert 0');
    await page.getByRole('dialog').getByRole('button', { name: 'Abbrechen' }).click();
  });

  it('shows the queue and its confirmations in German', async () => {
    const page = app.page;
    await goto(page, '/i/local/queue');
    await waitForText(page.getByTestId('queue-total'), '3 passende Nachrichten');
    await main(page).getByRole('checkbox', { name: 'Alle geladenen auswählen' }).check();
    await waitForText(page.getByTestId('queue-selected'), '3 ausgewählt');
    // Every row shows that it is selected, not only the header's checkbox.
    const rows = page.getByRole('grid').getByRole('checkbox', { name: 'Auswählen', exact: true });
    await expect.poll(async () => (await Promise.all((await rows.all()).map((r) => r.isChecked()))).join()).toBe('true,true,true');
    await main(page).getByRole('button', { name: 'Zurücksenden', exact: true }).click();
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
      // The page's data has arrived: no "Loading…" left (screenshot() then waits for layout itself).
      await main(page).getByText('Loading…').first().waitFor({ state: 'hidden' });
      await screenshot(page, `dark-${route.replace(/^\/(i\/local|app)\//, '').replace(/\//g, '-')}-en`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('logged no errors and no missing messages', () => {
    expect(errors).toEqual([]);
    expect(missing).toEqual([]);
  });
});
