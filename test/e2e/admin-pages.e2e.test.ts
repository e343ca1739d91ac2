/**
 * Dashboard, Users and Tools against a real relay: the dashboard counts the mail that went through,
 * users added in the UI can log in with SMTP AUTH, and a test message through a real next hop
 * (an SMTP sink as relay host) shows its transcript; the DNS check runs and reports — in English and,
 * worded by the app from the relay's codes, in German.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eApp, type E2eApp } from './harness/e2e-app.ts';
import { sendMail } from './harness/mail.ts';
import { collectPageErrors, goto, main, screenshot, switchLanguage, waitForText } from './harness/ui.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startDnsServer } from '../support/dns-server.ts';
import { swaks } from '../support/swaks.ts';
import { waitFor } from '../support/wait-for.ts';

let app: E2eApp;
let sink: SmtpSink;
let errors: string[];

beforeAll(async () => {
  sink = await startSmtpSink({ rcptReply: (to) => (to.startsWith('nobody@') ? { code: 550, message: '5.1.1 no such user' } : null) });
  app = await startE2eApp({
    localConfig: {
      delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none', username: '', password: '', verifyCertificate: false } },
      general: { profile: { domain: 'relay.test', hostname: 'relay.test' }, auth: { enabled: true, requireTls: false } },
    },
  });
  errors = collectPageErrors(app.page);
});
afterAll(async () => {
  await app?.close();
  await sink?.close();
});

describe('dashboard', () => {
  it('shows state, uptime and the traffic of the last hour', async () => {
    await sendMail(app.smtpPort, [
      { from: 'a@sales.example', to: 'x@partner.example' },
      { from: 'b@sales.example', to: 'y@partner.example' },
      { from: 'c@sales.example', to: 'nobody@partner.example' },
    ]);
    // Two messages and the bounce of the third reach the sink.
    await waitFor('3 messages at the sink', () => sink.messages.length >= 3, 20_000);
    const page = app.page;
    await goto(page, '/app/fleet');
    await goto(page, '/i/local/dashboard');
    await waitForText(main(page), 'Connected');
    await waitForText(page.getByTestId('total-received'), '3');
    await waitForText(page.getByTestId('total-delivered'), '3');
    await waitForText(page.getByTestId('total-bounced'), '1');
    await waitForText(main(page), /mailrelay \d+\.\d+\.\d+/);
    // All mail left: no oldest message, said in the tile's small print, not as a big figure.
    await waitForText(main(page), 'The queue is empty.');
    expect((await page.getByTestId('oldest').innerText()).trim()).toBe('—');
    await screenshot(page, 'flow-dashboard-traffic-en');
  });
});

describe('users', () => {
  it('adds a user who can then log in with SMTP AUTH', async () => {
    const page = app.page;
    await goto(page, '/i/local/users');
    await main(page).getByRole('button', { name: 'Add user' }).click();
    const dialog = page.locator('#users-dialog');
    await dialog.getByLabel('User name').fill('scanner@relay.test');
    await dialog.getByLabel('Password', { exact: true }).fill('s3cret-pass');
    await dialog.getByLabel('Repeat password').fill('typo');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await waitForText(dialog, 'The passwords do not match.');
    await dialog.getByLabel('Repeat password').fill('s3cret-pass');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await waitForText(main(page), 'User scanner@relay.test was added.');
    await waitForText(page.getByRole('table', { name: 'SMTP users' }), 'scanner@relay.test');

    const ok = await swaks({ server: '127.0.0.1', port: app.smtpPort, localAddress: '127.0.0.9', from: 'scanner@relay.test', to: 'z@partner.example', auth: { user: 'scanner@relay.test', password: 's3cret-pass' } });
    expect(ok.exitCode).toBe(0);
    await screenshot(page, 'flow-users-added-en');
  });

  it('changes the password and removes the user', async () => {
    const page = app.page;
    await main(page).getByRole('button', { name: 'Set password of scanner@relay.test' }).click();
    const dialog = page.locator('#users-dialog');
    await dialog.getByLabel('Password', { exact: true }).fill('n3w-pass');
    await dialog.getByLabel('Repeat password').fill('n3w-pass');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await waitForText(main(page), 'The password of scanner@relay.test was changed.');
    const old = await swaks({ server: '127.0.0.1', port: app.smtpPort, localAddress: '127.0.0.9', from: 'scanner@relay.test', to: 'z@partner.example', auth: { user: 'scanner@relay.test', password: 's3cret-pass' } });
    expect(old.exitCode).not.toBe(0);

    await main(page).getByRole('button', { name: 'Remove scanner@relay.test' }).click();
    await page.locator('#users-dialog').getByRole('button', { name: 'Remove' }).click();
    await waitForText(main(page), 'User scanner@relay.test was removed.');
    expect((await app.ctl('users.list', {})).users).toEqual([]);
  });
});

describe('tools', () => {
  it('sends a test message through the relay host and shows the transcript', async () => {
    const page = app.page;
    await goto(page, '/i/local/tools');
    await main(page).getByLabel('To', { exact: true }).fill('check@partner.example');
    await main(page).getByRole('button', { name: 'Send test message' }).click();
    const result = page.getByTestId('send-result');
    await waitForText(result, 'The next hop accepted the message');
    await waitForText(result, /RCPT TO:<check@partner\.example>/);
    await waitForText(result, /^.*250/);
    expect(sink.messages.some((m) => m.to.includes('check@partner.example'))).toBe(true);
    await screenshot(page, 'flow-tools-test-send-en');
  });

  it('shows a refused recipient as not accepted', async () => {
    const page = app.page;
    await main(page).getByLabel('To', { exact: true }).fill('nobody@partner.example');
    await main(page).getByRole('button', { name: 'Send test message' }).click();
    await waitForText(page.getByTestId('send-result'), 'The message was not accepted');
    await waitForText(page.getByTestId('send-result'), '550');
  });

  it('runs the DNS check against a real DNS server and says what to fix', async () => {
    // dnsmasq: the relay's host name resolves (and back); office.example's MX points at this relay —
    // right for the public MX, a mail loop for the internal one (the same server answers both here).
    const dns = await startDnsServer({
      records: [
        { type: 'A', name: 'relay.test', address: '127.0.0.1' },
        { type: 'MX', name: 'office.example', exchange: 'relay.test', priority: 10 },
      ],
      localDomains: ['relay.test', 'office.example'],
    });
    try {
      const { config, revision } = await app.ctl('config.get', {});
      await app.ctl('config.apply', {
        config: { ...config, dns: { internal: [dns.address], external: [dns.address] }, relayControl: { ...config.relayControl, relayDomains: [{ name: 'Office', domain: 'office.example', nextHop: '' }] } },
        baseRevision: revision,
      });
      const page = app.page;
      await main(page).getByRole('tab', { name: 'DNS check' }).click();
      await main(page).getByRole('button', { name: 'Run DNS check' }).click();
      const checks = page.getByTestId('dns-checks');
      await waitForText(main(page), /\d of \d checks passed/);
      await waitForText(checks, 'Pass');
      await waitForText(checks, 'Fail');
      await waitForText(checks, 'What to fix:');
      await waitForText(checks, 'internal MX of office.example points at the main server');
      await screenshot(page, 'flow-tools-dns-en');

      // The same answer in German, without a new check: the app words it from the codes.
      await switchLanguage(page, 'de');
      await waitForText(main(page), /\d von \d Prüfungen bestanden/);
      await waitForText(checks, 'Hostname relay.test hat einen A-/AAAA-Eintrag');
      await waitForText(checks, 'Reverse-DNS (PTR) von 127.0.0.1 ergibt relay.test');
      await waitForText(checks, 'Interner MX-Eintrag von office.example zeigt auf den Haupt-E-Mail-Server');
      await waitForText(checks, 'E-Mails für office.example kämen zu diesem Relay zurück (Mail-Schleife)');
      expect(await checks.innerText()).not.toMatch(/points at|What to fix/);
      await screenshot(page, 'flow-tools-dns-de');
    } finally {
      await dns.stop();
    }
  });

  it('describes the route of a test message in German', async () => {
    const page = app.page;
    await main(page).getByRole('tab', { name: 'Testnachricht senden' }).click();
    await main(page).getByLabel('An', { exact: true }).fill('check@partner.example');
    await main(page).getByRole('button', { name: 'Testnachricht senden' }).click();
    const result = page.getByTestId('send-result');
    await waitForText(result, 'Der nächste Server hat die Nachricht angenommen');
    await waitForText(page.getByTestId('send-route'), `Relay-Server 127.0.0.1:${sink.port}`);
    await screenshot(page, 'flow-tools-test-send-de');
    await switchLanguage(page, 'en');
    await waitForText(page.getByTestId('send-route'), `relay host 127.0.0.1:${sink.port}`);
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
