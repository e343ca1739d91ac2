/**
 * Settings pages change the running relay: a trusted network added on Mail Delivery › Relay Control
 * lets a client from that address relay; a blacklist rule on › Security makes swaks get the reject;
 * a config applied behind the UI's back makes Apply show the conflict dialog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eApp, type E2eApp } from './harness/e2e-app.ts';
import { collectPageErrors, goto, main, screenshot, waitForText } from './harness/ui.ts';
import { sendMail } from './harness/mail.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { swaks, type SwaksResult } from '../support/swaks.ts';
import { waitFor } from '../support/wait-for.ts';

let app: E2eApp;
let errors: string[];

beforeAll(async () => {
  app = await startE2eApp();
  errors = collectPageErrors(app.page);
});
afterAll(async () => {
  await app?.close();
});

/** swaks exits 0 only when the relay took the message (250 after DATA). */
function accepted(r: SwaksResult): boolean {
  return r.exitCode === 0 && /<[-~]\s+250 .*queued/i.test(r.transcript);
}

async function applyAndWait(): Promise<void> {
  const page = app.page;
  await main(page).getByRole('button', { name: 'Apply', exact: true }).click();
  await waitForText(page.getByTestId('apply-state'), 'Settings applied');
}

describe('settings pages', () => {
  it('a new trusted network lets a client from 127.0.0.9 relay', async () => {
    const send = () => swaks({ server: '127.0.0.1', port: app.smtpPort, localAddress: '127.0.0.9', from: 'printer@office.example', to: 'someone@example.net' });
    const before = await send();
    expect(before.transcript).toMatch(/554 5\.7\.1/);

    const page = app.page;
    await goto(page, '/i/local/mail-relay-control');
    const list = page.getByTestId('trusted-networks');
    await list.waitFor();
    await list.getByRole('button', { name: 'Create' }).click();
    const dialog = page.locator('#item-dialog');
    await dialog.getByLabel('Name').fill('Office printer');
    await dialog.getByLabel('IP address or subnet').fill('127.0.0.9');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await waitForText(list, '127.0.0.9');
    await screenshot(page, 'flow-relay-control-dirty-en');
    await applyAndWait();

    const { config } = await app.ctl('config.get', {});
    expect(config.relayControl.trustedNetworks.map((n) => n.network)).toContain('127.0.0.9');
    const after = await send();
    expect(accepted(after)).toBe(true);
  });

  it('a blacklist rule makes swaks get the reject', async () => {
    const send = () => swaks({ server: '127.0.0.1', port: app.smtpPort, from: 'spammer@bad.example', to: 'someone@example.net' });
    expect(accepted(await send())).toBe(true);

    const page = app.page;
    await goto(page, '/i/local/mail-security/lists');
    const list = page.getByTestId('security-lists');
    await list.waitFor();
    await list.getByRole('button', { name: 'Create' }).click();
    const dialog = page.locator('#item-dialog');
    await dialog.getByLabel('Name').fill('Known spammer');
    await dialog.getByLabel('Criterion').selectOption('senderAddress');
    await dialog.getByLabel('Value').fill('spammer@bad.example');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await waitForText(list, 'spammer@bad.example');
    await screenshot(page, 'flow-security-lists-dirty-en');
    await applyAndWait();

    const after = await send();
    expect(accepted(after)).toBe(false);
    expect(after.transcript).toMatch(/<\*\* +5\d\d .*/);
  });

  it('shows the conflict dialog when the config changed behind its back', async () => {
    const page = app.page;
    await goto(page, '/i/local/mail-relay-control');
    const list = page.getByTestId('trusted-networks');
    await waitForText(list, '127.0.0.9');

    // Someone else changes another setting through the control socket.
    const { config, revision } = await app.ctl('config.get', {});
    await app.ctl('config.apply', { config: { ...config, general: { ...config.general, profile: { ...config.general.profile, banner: 'Changed by another admin' } } }, baseRevision: revision });

    await list.getByRole('button', { name: 'Create' }).click();
    const dialog = page.locator('#item-dialog');
    await dialog.getByLabel('Name').fill('Scanner');
    await dialog.getByLabel('IP address or subnet').fill('127.0.0.10');
    await dialog.getByRole('button', { name: 'OK' }).click();
    await main(page).getByRole('button', { name: 'Apply', exact: true }).click();

    const conflict = page.locator('#conflict-dialog');
    await waitForText(conflict, 'The configuration was changed meanwhile');
    await screenshot(page, 'flow-conflict-dialog-en');
    await conflict.getByRole('button', { name: 'Overwrite' }).click();
    await waitForText(page.getByTestId('apply-state'), 'Settings applied');

    // Overwrite applies our change on top of theirs: both are in the running config.
    const after = await app.ctl('config.get', {});
    expect(after.config.relayControl.trustedNetworks.map((n) => n.network)).toEqual(expect.arrayContaining(['127.0.0.9', '127.0.0.10']));
    expect(after.config.general.profile.banner).toBe('Changed by another admin');
  });

  it('a new greeting text on General is what SMTP clients see', async () => {
    const page = app.page;
    await goto(page, '/i/local/mail-general/general');
    await main(page).getByLabel('Greeting text').fill('Relay of the e2e office');
    await applyAndWait();
    const r = await swaks({ server: '127.0.0.1', port: app.smtpPort, from: 'a@sales.example', to: 'b@partner.example', extra: ['--quit-after', 'CONNECT'] });
    expect(r.transcript).toMatch(/220 .*Relay of the e2e office/);
  });

  it('a relay host set on Delivery gets the deferred mail', async () => {
    const sink = await startSmtpSink();
    try {
      await sendMail(app.smtpPort, [{ from: 'waiting@sales.example', to: 'someone@partner.example' }]);
      const page = app.page;
      await goto(page, '/i/local/mail-delivery/delivery');
      await main(page).getByLabel('Server', { exact: true }).fill('127.0.0.1');
      await main(page).getByLabel('Port', { exact: true }).fill(String(sink.port));
      await main(page).getByLabel('Server', { exact: true }).click();
      expect(await main(page).getByLabel('Port', { exact: true }).inputValue(), 'the Port field keeps what was typed').toBe(String(sink.port));
      await applyAndWait();
      expect((await app.ctl('config.get', {})).config.delivery.relayHost?.port).toBe(sink.port);
      await goto(page, '/i/local/queue');
      await main(page).getByRole('button', { name: 'Try all deferred now' }).click();
      await waitFor('the deferred mail at the new relay host', () => sink.messages.some((m) => m.from === 'waiting@sales.example'), 20_000);
    } finally {
      await sink.close();
    }
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
