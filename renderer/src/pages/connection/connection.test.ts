import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { InstanceView, RemoteInstanceView } from '../../api/relay-desk.ts';
import { createTestApi, localInstance, ok, testContext } from '../../test-support/fake-api.ts';
import AddInstancePage from '../add-instance/AddInstancePage.svelte';
import ConnectionPage from './ConnectionPage.svelte';
import { i18n } from '../../i18n/index.ts';

const KEY_OLD = { algorithm: 'ssh-ed25519', fingerprint: 'SHA256:Xq3vG1mYt6bJkq2Hn5yR0wZp8cVfLd4sUe7aTn9QiKo' };
const KEY_NEW = { algorithm: 'ssh-ed25519', fingerprint: 'SHA256:b7NfT2kLw9QeR4mZx1VcP6sHy3GdJ8uA0oKiE5tWnYq' };

function remote(state: Partial<InstanceView['state']> = {}, extra: Partial<RemoteInstanceView> = {}): RemoteInstanceView {
  return {
    id: 'nas',
    kind: 'remote',
    name: 'NAS',
    host: 'nas.lan',
    port: 22,
    username: 'admin',
    auth: { method: 'password' },
    dataDir: '~/.local/share/mailrelay',
    installDir: '~/.local/lib/relaydesk',
    nodePath: 'node',
    hasPassword: true,
    hasPassphrase: false,
    hostKey: null,
    state: { status: 'connected', message: '', since: 0, retryAt: null, relayVersion: '0.1.0', hostKey: null, ...state },
    ...extra,
  };
}

describe('Add remote relay', () => {
  it('refuses an incomplete form, maps the main process’s issues to fields, then adds and connects', async () => {
    const t = createTestApi({}, [localInstance()]);
    const added = remote({ status: 'disconnected' }, { id: 'nas-2' });
    const addInstance = vi
      .fn()
      .mockResolvedValueOnce({ ok: false, error: { code: 'INVALID_ARGUMENT', message: 'bad', issues: [{ path: 'instance.host', message: 'must be a host name or an IP address' }] } })
      .mockResolvedValueOnce(ok(added));
    const connect = vi.fn(async () => ok(added.state));
    Object.assign(t.api, { addInstance, connect });
    const { ctx, context } = await testContext(t.api, { kind: 'app', pageId: 'add-instance' });
    render(AddInstancePage, { context });

    await fireEvent.click(screen.getByRole('button', { name: 'Add and connect' }));
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(addInstance).not.toHaveBeenCalled();

    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'NAS branch' } });
    await fireEvent.input(screen.getByLabelText('SSH host'), { target: { value: 'nas branch' } });
    await fireEvent.input(screen.getByLabelText('User'), { target: { value: 'admin' } });
    await fireEvent.click(screen.getByLabelText('Password'));
    const pw = screen.getAllByLabelText('Password').find((el) => el.getAttribute('type') === 'password')!;
    await fireEvent.input(pw, { target: { value: 'pw' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add and connect' }));
    await waitFor(() => expect(screen.getByText('Must be a host name or an IP address')).toBeInTheDocument());

    await fireEvent.input(screen.getByLabelText('SSH host'), { target: { value: 'nas-branch.lan' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add and connect' }));
    await waitFor(() => expect(connect).toHaveBeenCalledWith({ instanceId: 'nas-2' }));
    expect(addInstance).toHaveBeenLastCalledWith({
      instance: { name: 'NAS branch', host: 'nas-branch.lan', port: 22, username: 'admin', auth: { method: 'password' }, dataDir: '~/.local/share/mailrelay', installDir: '~/.local/lib/relaydesk', nodePath: 'node' },
      secrets: { password: 'pw' },
    });
    expect(ctx.nav.route).toEqual({ kind: 'instance', instanceId: 'nas-2', pageId: 'connection' });
  });
});

describe('Connection page', () => {
  it('asks to confirm an unknown host key with its SHA-256 fingerprint', async () => {
    const inst = remote({ status: 'host-key-unknown', hostKey: { presented: KEY_NEW, trusted: null } });
    const trustHostKey = vi.fn(async () => ok({ ...KEY_NEW, addedAt: 1, source: 'confirmed' as const }));
    const t = createTestApi({ trustHostKey }, [localInstance(), inst]);
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
    render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
    await fireEvent.click(screen.getByRole('button', { name: 'Review host key…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Confirm the host key' });
    expect(within(dialog).getByTestId('presented-fingerprint').textContent).toBe(KEY_NEW.fingerprint);
    expect(within(dialog).queryByTestId('trusted-fingerprint')).toBeNull();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Trust and connect' }));
    await waitFor(() => expect(trustHostKey).toHaveBeenCalledWith({ instanceId: 'nas', fingerprint: KEY_NEW.fingerprint }));
  });

  it('shows both fingerprints when the host key changed', async () => {
    const inst = remote({ status: 'host-key-changed', hostKey: { presented: KEY_NEW, trusted: KEY_OLD } }, { hostKey: { ...KEY_OLD, addedAt: 0, source: 'confirmed' } });
    const t = createTestApi({}, [localInstance(), inst]);
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
    render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
    await fireEvent.click(screen.getByRole('button', { name: 'Review host key…' }));
    const dialog = await screen.findByRole('dialog', { name: 'The host key has changed' });
    expect(within(dialog).getByTestId('trusted-fingerprint').textContent).toBe(KEY_OLD.fingerprint);
    expect(within(dialog).getByTestId('presented-fingerprint').textContent).toBe(KEY_NEW.fingerprint);
    expect(within(dialog).getByRole('button', { name: 'Replace the trusted key' })).toBeInTheDocument();
  });

  it('opens the host key dialog when connecting stops at an unknown key', async () => {
    const inst = remote({ status: 'disconnected' });
    const t = createTestApi({}, [localInstance(), inst]);
    const unknown = { ...inst.state, status: 'host-key-unknown' as const, hostKey: { presented: KEY_NEW, trusted: null } };
    Object.assign(t.api, {
      connect: vi.fn(async () => {
        t.emit('onInstanceState', { instanceId: 'nas', state: unknown });
        return ok(unknown);
      }),
    });
    const { ctx, context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
    ctx.instances.start();
    render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(await screen.findByRole('dialog', { name: 'Confirm the host key' })).toBeInTheDocument();
  });

  it('installs the relay with a progress bar that follows the steps', async () => {
    const inst = remote({ status: 'relay-not-installed', relayVersion: null });
    const t = createTestApi({}, [localInstance(), inst]);
    let finish: (() => void) | undefined;
    Object.assign(t.api, {
      installRelay: vi.fn(
        () =>
          new Promise((resolve) => {
            finish = () =>
              resolve(ok({ relayVersion: '0.1.0', nodeVersion: 'v20.11.1', service: 'systemd-user', bundlePath: '/x', dataDir: '/d', durationMs: 1, warnings: [] }));
          }),
      ),
    });
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
    render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
    await fireEvent.click(screen.getByRole('button', { name: 'Install relay' }));
    const bar = await screen.findByRole('progressbar');
    expect(bar).toHaveAttribute('aria-valuenow', '0');
    t.emit('onInstallProgress', { instanceId: 'nas', operation: 'install', step: 'connect', status: 'done', message: '' });
    t.emit('onInstallProgress', { instanceId: 'nas', operation: 'install', step: 'check-node', status: 'done', message: 'v20.11.1' });
    t.emit('onInstallProgress', { instanceId: 'nas', operation: 'install', step: 'upload', status: 'running', message: '', bytes: 512 * 1024, totalBytes: 1024 * 1024 });
    // 2 of 7 steps done, the upload half way: (2 + 0.5) / 7
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', String(Math.round((2.5 / 7) * 100))));
    expect(screen.getByTestId('install-progress').textContent).toContain('512 kB of 1 MB');
    finish?.();
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', '100'));
    expect(screen.getByText(/Relay 0\.1\.0 is running on Node\.js v20\.11\.1 as a systemd user service/)).toBeInTheDocument();
  });

  it('shows the installer lines in German, and its English for a line this app has no words for', async () => {
    i18n.setLocale('de');
    try {
      const inst = remote({ status: 'relay-not-installed', relayVersion: null });
      const t = createTestApi({}, [localInstance(), inst]);
      Object.assign(t.api, { installRelay: vi.fn(() => new Promise(() => undefined)) });
      const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
      render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
      await fireEvent.click(screen.getByRole('button', { name: 'Relay installieren' }));
      await screen.findByRole('progressbar');
      const line = (step: 'data-dir' | 'start', message: string, key: string, params: Record<string, string> = {}) =>
        t.emit('onInstallProgress', { instanceId: 'nas', operation: 'install', step, status: 'running', message, say: { key, params } });
      line('data-dir', 'creating the data folder /srv/mail', 'creatingDataDir', { dataDir: '/srv/mail' });
      line('start', 'warming up the flux capacitor', 'fluxCapacitor');
      const progress = screen.getByTestId('install-progress');
      await waitFor(() => expect(progress.textContent).toContain('Datenordner /srv/mail wird angelegt'));
      expect(progress.textContent).toContain('warming up the flux capacitor');
    } finally {
      i18n.setLocale('en');
    }
  });

  it('shows the state line and a failed install in German', async () => {
    i18n.setLocale('de');
    try {
      const inst = remote({
        status: 'relay-not-installed',
        message: 'no relay is installed on nas.lan (~/.local/lib/relaydesk/mailrelay.mjs)',
        say: { key: 'errors.ssh.relayNotInstalled', params: { host: 'nas.lan', path: '~/.local/lib/relaydesk/mailrelay.mjs' } },
        relayVersion: null,
      });
      const t = createTestApi({}, [localInstance(), inst]);
      const error = {
        code: 'HOST_UNSUITABLE',
        message: 'Node.js v16.20.2 on nas.lan is too old: the relay needs 18 or newer',
        say: { key: 'errors.install.nodeTooOld', params: { version: 'v16.20.2', host: 'nas.lan', minNode: 18 } },
      };
      Object.assign(t.api, { installRelay: vi.fn(async () => ({ ok: false, error })) });
      const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
      render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
      expect(screen.getByText('Auf nas.lan ist kein Relay installiert (~/.local/lib/relaydesk/mailrelay.mjs)')).toBeInTheDocument();
      await fireEvent.click(screen.getByRole('button', { name: 'Relay installieren' }));
      const tooOld = 'Node.js v16.20.2 auf nas.lan ist zu alt: Das Relay braucht 18 oder neuer';
      await waitFor(() => expect(screen.getByText(`Installation fehlgeschlagen: ${tooOld}`)).toBeInTheDocument());
    } finally {
      i18n.setLocale('en');
    }
  });

  it('keeps the stored password when saving other changes', async () => {
    const inst = remote();
    const updateInstance = vi.fn(async () => ok(inst));
    const t = createTestApi({ updateInstance }, [localInstance(), inst]);
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
    render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
    expect(screen.getByLabelText('Keep the stored password')).toBeChecked();
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'NAS 2' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(updateInstance).toHaveBeenCalled());
    expect(updateInstance).toHaveBeenCalledWith({ instanceId: 'nas', patch: expect.objectContaining({ name: 'NAS 2' }), secrets: {} });
    await waitFor(() => expect(screen.getByText(/^Saved\./)).toBeInTheDocument());
  });

  it('shows an error that names no field under the form, and drops it on the next save', async () => {
    const inst = remote();
    const updateInstance = vi.fn().mockResolvedValueOnce({ ok: false, error: { code: 'INTERNAL', message: 'keychain locked' } }).mockResolvedValueOnce(ok(inst));
    const t = createTestApi({ updateInstance }, [localInstance(), inst]);
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'nas', pageId: 'connection' });
    render(ConnectionPage, { props: { instanceId: 'nas', tab: undefined }, context });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByText('keychain locked')).toBeInTheDocument());
    expect(screen.queryByText(/^Saved\./)).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByText(/^Saved\./)).toBeInTheDocument());
    expect(screen.queryByText('keychain locked')).toBeNull();
  });
});
