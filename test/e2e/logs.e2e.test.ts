/**
 * The Logs page while mail flows: the live tail shows each message as the relay logs it, pause holds
 * new lines back until resumed, the event filter narrows the subscription, and search finds lines
 * in the relay's history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eApp, type E2eApp } from './harness/e2e-app.ts';
import { sendMail } from './harness/mail.ts';
import { collectPageErrors, goto, main, screenshot, waitForText } from './harness/ui.ts';

let app: E2eApp;
let errors: string[];

beforeAll(async () => {
  app = await startE2eApp();
  errors = collectPageErrors(app.page);
});
afterAll(async () => {
  await app?.close();
});

describe('logs page', () => {
  it('shows mail in the live tail as it flows', async () => {
    const page = app.page;
    await goto(page, '/i/local/logs');
    const live = page.getByRole('grid', { name: 'Live log lines' });
    await live.waitFor();
    await sendMail(app.smtpPort, [{ from: 'live1@flow.example', to: 'someone@example.net' }]);
    await waitForText(live, 'sender=live1@flow.example');
    await waitForText(live, /Deferred/);
    await screenshot(page, 'flow-logs-live-en');
  });

  it('holds new lines back while paused', async () => {
    const page = app.page;
    const live = page.getByRole('grid', { name: 'Live log lines' });
    await main(page).getByRole('button', { name: 'Pause' }).click();
    await waitForText(main(page), 'Paused');
    await sendMail(app.smtpPort, [{ from: 'paused2@flow.example', to: 'someone@example.net' }]);
    await waitForText(main(page), /new lines? held back/);
    expect(await live.getByText('sender=paused2@flow.example').count()).toBe(0);
    await main(page).getByRole('button', { name: 'Resume' }).click();
    await waitForText(live, 'sender=paused2@flow.example');
  });

  it('narrows the live tail to the chosen events', async () => {
    const page = app.page;
    const live = page.getByRole('grid', { name: 'Live log lines' });
    await main(page).locator('summary').filter({ hasText: 'Events' }).click();
    await main(page).getByRole('checkbox', { name: 'Queued' }).check();
    await main(page).locator('summary').filter({ hasText: 'Events' }).click();
    await waitForText(main(page), 'Events: Queued');
    await sendMail(app.smtpPort, [{ from: 'filtered3@flow.example', to: 'someone@example.net' }]);
    await waitForText(live, 'sender=filtered3@flow.example');
    // Only "queued" lines are in the view now.
    const events = await live.locator('.ev').allTextContents();
    expect(new Set(events)).toEqual(new Set(['Queued']));
  });

  it('searches the history', async () => {
    const page = app.page;
    await main(page).getByRole('tab', { name: 'Search history' }).click();
    await main(page).getByLabel('Text').fill('paused2@flow.example');
    await main(page).getByRole('button', { name: 'Search' }).click();
    const found = page.getByRole('grid', { name: 'Log lines found' });
    await waitForText(found, 'sender=paused2@flow.example');
    await waitForText(page.getByTestId('search-count'), /found/);
    // Typing already started searches; wait for the answer to the last one, which has only paused2.
    await expect.poll(() => found.textContent(), { timeout: 15_000 }).not.toContain('live1@flow.example');
    await screenshot(page, 'flow-logs-search-en');
    await found.getByText('sender=paused2@flow.example').first().click();
    await waitForText(page.locator('#log-detail'), '"sender": "paused2@flow.example"');
    await page.locator('#log-detail').getByRole('button', { name: 'Close' }).last().click();
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
