/**
 * A remote relay through a real sshd on loopback: add it in the UI, confirm its host key (the
 * fingerprint shown is sshd's), install the bundled relay on it with the progress bar, and see it
 * with its queue in the fleet view — in English and German.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eRelayConfig, startE2eApp, type E2eApp } from './harness/e2e-app.ts';
import { sendMail } from './harness/mail.ts';
import { collectPageErrors, goto, main, screenshot, switchLanguage, waitForText } from './harness/ui.ts';
import { freePort } from '../support/free-port.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { waitFor } from '../support/wait-for.ts';

let app: E2eApp;
let sshd: Sshd;
let errors: string[];
let remoteDataDir: string;
let remoteSmtpPort: number;
let instanceId = '';
let installed = false;

beforeAll(async () => {
  sshd = await startSshd();
  app = await startE2eApp();
  errors = collectPageErrors(app.page);
  // The "remote host" is this machine: give its relay its own data dir and ports.
  const remoteRoot = path.join(app.dir.path, 'remote-host');
  remoteDataDir = path.join(remoteRoot, 'data');
  mkdirSync(remoteDataDir, { recursive: true, mode: 0o700 });
  remoteSmtpPort = await freePort();
  writeFileSync(path.join(remoteDataDir, 'config.json'), JSON.stringify(e2eRelayConfig(remoteSmtpPort, await freePort()), null, 2), { mode: 0o600 });
});

afterAll(async () => {
  // Stop the relay the test installed on the "remote" host, then everything else.
  if (instanceId) {
    const pidFile = path.join(remoteDataDir, 'relaydesk-relay.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : null;
    await app.services.handlers['control.call']({ instanceId, method: 'service.stop', params: {} }).catch(() => {});
    if (pid) {
      await waitFor('the remote relay to exit', () => !alive(pid), 15_000).catch(() => process.kill(pid, 'SIGKILL'));
    }
  }
  await app?.close();
  await sshd?.stop();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** sshd's host key as OpenSSH prints it: "SHA256:…". */
function sshdFingerprint(): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(path.dirname(sshd.clientKey), 'host_key.pub')], { encoding: 'utf8' });
  return /SHA256:[A-Za-z0-9+/]{43}/.exec(out)![0];
}

describe('remote relay over SSH', () => {
  it('adds the relay and shows its host key for confirmation', async () => {
    const page = app.page;
    await goto(page, '/app/add-instance');
    const form = main(page);
    await form.getByLabel('Name', { exact: true }).fill('NAS office');
    await form.getByLabel('SSH host').fill(sshd.host);
    await form.getByLabel('Port').fill(String(sshd.port));
    await form.getByLabel('User', { exact: true }).click();
    // The number field must keep what was typed (sshd listens on a random port, not 22).
    expect(await form.getByLabel('Port').inputValue()).toBe(String(sshd.port));
    await form.getByLabel('User', { exact: true }).fill(sshd.user);
    await form.getByRole('radio', { name: /Private key file/ }).check();
    await form.getByLabel('Key file', { exact: true }).fill(sshd.clientKey);
    await form.getByLabel('Relay data folder').fill(remoteDataDir);
    await form.locator('summary').filter({ hasText: 'Advanced' }).click();
    await form.getByLabel('Install folder').fill(path.join(path.dirname(remoteDataDir), 'lib'));
    await form.getByLabel('Node.js command').fill(process.execPath);
    await screenshot(page, 'page-add-instance-filled-en');
    await form.getByRole('button', { name: 'Add and connect' }).click();

    const dialog = page.getByRole('dialog').filter({ hasText: 'Confirm the host key' });
    await dialog.waitFor({ timeout: 30_000 });
    const shown = (await page.getByTestId('presented-fingerprint').textContent())?.trim();
    expect(shown).toBe(sshdFingerprint());
    await screenshot(page, 'flow-host-key-confirm-en');
    const id = (await app.services.handlers['instances.list']({})).find((i) => i.kind === 'remote')!.id;
    await dialog.getByRole('button', { name: 'Trust and connect' }).click();
    await waitFor('relay-not-installed', async () => (await app.services.handlers['instances.list']({})).find((i) => i.id === id)?.state.status === 'relay-not-installed', 30_000);
    instanceId = id;
    const stored = (await app.services.handlers['instances.list']({})).find((i) => i.id === instanceId);
    expect(stored?.kind === 'remote' && stored.hostKey?.fingerprint).toBe(sshdFingerprint());
  });

  it('installs the relay with the progress bar', async () => {
    expect(instanceId, 'the relay was added and its host key trusted').not.toBe('');
    const page = app.page;
    await goto(page, `/i/${instanceId}/connection`);
    await main(page).getByRole('button', { name: 'Install relay' }).click();
    const progress = page.getByTestId('install-progress');
    await progress.getByRole('progressbar').waitFor();
    await waitForText(progress, /Relay .* is running on Node\.js/, 90_000);
    expect(await progress.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    // Each step's name stays on one line ("Create the data folder" beside a long path).
    const labelHeights = await progress.locator('li .label').evaluateAll((labels) => labels.map((l) => (l as unknown as { offsetHeight: number }).offsetHeight));
    expect(labelHeights.length).toBe(7);
    expect(Math.max(...labelHeights)).toBeLessThanOrEqual(20);
    await screenshot(page, 'flow-install-done-en');
    await waitFor('connected', async () => (await app.services.handlers['instances.list']({})).find((i) => i.id === instanceId)?.state.status === 'connected', 30_000);
    installed = true;
  });

  it('shows the remote relay and its queue in the fleet view', async () => {
    expect(installed, 'the relay was installed').toBe(true);
    await sendMail(remoteSmtpPort, [{ from: 'nas@office.example', to: 'someone@example.net' }]);
    const page = app.page;
    await goto(page, '/app/fleet');
    const row = page.locator(`tr[data-instance="${instanceId}"]`);
    await waitForText(row, 'NAS office');
    await waitForText(row, 'Connected');
    await main(page).getByRole('button', { name: 'Refresh' }).click();
    await waitFor('the deferred message in the fleet row', async () => (await row.locator('td').nth(3).textContent())?.trim() === '1', 20_000);
    await waitForText(page.getByTestId('fleet-relays'), '2');
    await screenshot(page, 'page-fleet-remote-en');
  });

  it('shows the remote relay in German too', async () => {
    expect(installed, 'the relay was installed').toBe(true);
    const page = app.page;
    await switchLanguage(page, 'de');
    const row = page.locator(`tr[data-instance="${instanceId}"]`);
    await waitForText(row, 'Verbunden');
    // The German headers are long: every column, the last included, fits in the window.
    const overflow = await page.locator('table[aria-label]').first().evaluate((t) => t.parentElement!.scrollWidth - t.parentElement!.clientWidth);
    expect(overflow).toBe(0);
    await screenshot(page, 'page-fleet-remote-de');
    await goto(page, `/i/${instanceId}/connection`);
    await waitForText(main(page), 'Relay-Software');
    await screenshot(page, 'page-connection-remote-de');
    await goto(page, `/i/${instanceId}/dashboard`);
    await waitForText(main(page), 'Laufzeit');
    await screenshot(page, 'page-dashboard-remote-de');
    await switchLanguage(page, 'en');
    await goto(page, `/i/${instanceId}/connection`);
    await screenshot(page, 'page-connection-remote-en');
  });

  it('says in German why a host cannot be reached', async () => {
    const page = app.page;
    await switchLanguage(page, 'de');
    const closed = await freePort(); // nothing listens there
    const added = await app.services.handlers['instances.add']({
      instance: {
        name: 'Alter NAS',
        host: '127.0.0.1',
        port: closed,
        username: sshd.user,
        auth: { method: 'key', keyPath: sshd.clientKey },
        dataDir: remoteDataDir,
        installDir: path.join(path.dirname(remoteDataDir), 'lib'),
        nodePath: process.execPath,
      },
    });
    await app.services.handlers['connection.connect']({ instanceId: added.id });
    await goto(page, `/i/${added.id}/connection`);
    // The main process sends the reason in English plus its catalog key; the page words it in German.
    await waitForText(main(page), `Unter 127.0.0.1:${closed} nimmt kein Dienst Verbindungen an (Verbindung abgelehnt)`);
    expect(await main(page).innerText()).not.toContain('connection refused');
    await screenshot(page, 'page-connection-refused-de');
    await app.services.handlers['instances.remove']({ instanceId: added.id });
    await switchLanguage(page, 'en');
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
