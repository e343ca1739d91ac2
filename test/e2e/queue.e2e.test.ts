/**
 * The Queue page against real queued mail: the relay host is a closed port, so everything stays
 * deferred. Filter by sender, open a message's detail, select the matches and bulk-delete them with
 * the confirmation naming how many; the relay's queue loses exactly those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eApp, type E2eApp } from './harness/e2e-app.ts';
import { sendMail } from './harness/mail.ts';
import { collectPageErrors, goto, main, screenshot, waitForText } from './harness/ui.ts';
import { waitFor } from '../support/wait-for.ts';

let app: E2eApp;
let errors: string[];

beforeAll(async () => {
  app = await startE2eApp();
  errors = collectPageErrors(app.page);
  const mails = [];
  for (let i = 0; i < 6; i++) mails.push({ from: `alice${i}@sales.example`, to: [`bob${i}@partner.example`, 'archive@example.org'], subject: `Offer ${i}` });
  for (let i = 0; i < 4; i++) mails.push({ from: `carol${i}@support.example`, to: `dave${i}@customer.example`, subject: `Ticket ${i}` });
  await sendMail(app.smtpPort, mails);
  // Every message has had its first (failed) attempt: deferred.
  await waitFor('10 deferred messages', async () => (await app.ctl('status', {})).queue.deferred === 10, 20_000);
});
afterAll(async () => {
  await app?.close();
});

describe('queue page', () => {
  it('lists the deferred mail with its last reply', async () => {
    const page = app.page;
    await goto(page, '/i/local/queue');
    await waitForText(page.getByTestId('queue-total'), '10 messages match');
    const grid = page.getByRole('grid', { name: 'Queued messages' });
    await waitForText(grid, 'alice0@sales.example');
    await waitForText(grid, /connection failed|ECONNREFUSED|refused/i);
    await screenshot(page, 'flow-queue-all-en');
  });

  it('filters by sender and by state, and shows a message in full', async () => {
    const page = app.page;
    await main(page).getByLabel('Sender').fill('carol');
    await waitForText(page.getByTestId('queue-total'), '4 messages match');
    await main(page).getByRole('radio', { name: 'Held' }).click();
    await waitForText(page.getByTestId('queue-total'), 'No messages match');
    await main(page).getByRole('radio', { name: 'Deferred' }).click();
    await waitForText(page.getByTestId('queue-total'), '4 messages match');

    const grid = page.getByRole('grid', { name: 'Queued messages' });
    await grid.getByText('carol0@support.example').click();
    const detail = page.locator('#queue-detail');
    await waitForText(detail, 'dave0@customer.example');
    await waitForText(detail, 'Subject:');
    await waitForText(detail, 'Ticket 0');
    await waitForText(detail, /ECONNREFUSED|refused/i);
    await screenshot(page, 'flow-queue-detail-en');
    await detail.getByRole('button', { name: 'Close' }).last().click();
  });

  it('bulk-deletes the selected messages after a confirmation that says how many', async () => {
    const page = app.page;
    await main(page).getByLabel('Sender').fill('alice');
    await waitForText(page.getByTestId('queue-total'), '6 messages match');
    await main(page).getByRole('checkbox', { name: 'Select all loaded' }).check();
    await waitForText(page.getByTestId('queue-selected'), '6 selected');
    // Each of the six rows shows its tick, as the header's checkbox and the count do.
    const rows = page.getByRole('grid', { name: 'Queued messages' }).getByRole('checkbox', { name: 'Select', exact: true });
    await expect.poll(async () => (await Promise.all((await rows.all()).map((r) => r.isChecked()))).filter(Boolean).length).toBe(6);
    await main(page).getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.locator('#queue-confirm');
    await waitForText(confirm, '6 messages will be removed from the queue');
    await screenshot(page, 'flow-queue-confirm-delete-en');
    await confirm.getByRole('button', { name: 'Delete 6 messages' }).click();
    await waitForText(main(page), '6 messages were deleted.');
    await waitForText(page.getByTestId('queue-total'), 'No messages match');

    const left = await app.ctl('queue.list', { state: 'all', filter: {}, offset: 0, limit: 100 });
    expect(left.total).toBe(4);
    expect(left.items.every((m) => m.sender.startsWith('carol'))).toBe(true);
  });

  it('holds one message from the keyboard and releases it', async () => {
    const page = app.page;
    await main(page).getByRole('button', { name: 'Clear filters' }).click();
    await waitForText(page.getByTestId('queue-total'), '4 messages match');
    const grid = page.getByRole('grid', { name: 'Queued messages' });
    await grid.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    await waitForText(page.getByTestId('queue-selected'), '1 selected');
    await main(page).getByRole('button', { name: 'Hold', exact: true }).click();
    await page.locator('#queue-confirm').getByRole('button', { name: 'Hold 1 message' }).click();
    await waitForText(main(page), '1 message is on hold.');
    expect((await app.ctl('status', {})).queue.held).toBe(1);
    await main(page).getByRole('radio', { name: 'Held' }).click();
    await waitForText(page.getByTestId('queue-total'), '1 message matches');
    await main(page).getByRole('checkbox', { name: 'Select all loaded' }).check();
    await main(page).getByRole('button', { name: 'Release', exact: true }).click();
    await page.locator('#queue-confirm').getByRole('button', { name: 'Release 1 message' }).click();
    await waitForText(main(page), '1 message was released.');
    expect((await app.ctl('status', {})).queue.held).toBe(0);
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
