import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { createTestApi, localInstance, ok, redactedConfig } from '../test-support/fake-api.ts';
import App from './App.svelte';

async function setup() {
  const t = createTestApi({}, [localInstance('connected'), { ...localInstance('disconnected'), id: 'nas', kind: 'remote', name: 'NAS', host: 'nas.lan', port: 22, username: 'a', auth: { method: 'agent' }, installDir: '~/x', nodePath: 'node', hasPassword: false, hasPassphrase: false, hostKey: null } as never]);
  t.control.set('config.get', () => ok({ config: redactedConfig(), revision: 'r1' }));
  window.location.hash = '#/i/local/mail-security';
  render(App, { props: { api: t.api } });
  await screen.findByRole('heading', { level: 1, name: 'Security' });
  return t;
}

describe('app shell', () => {
  it('lists the relays with their live state', async () => {
    const t = await setup();
    const sidebar = screen.getByRole('complementary');
    const nas = within(sidebar).getByText('NAS').closest('a')!;
    expect(nas.textContent).toContain('Disconnected');
    t.emit('onInstanceState', { instanceId: 'nas', state: { ...localInstance('auth-failed').state } });
    await waitFor(() => expect(nas.textContent).toContain('Authentication failed'));
  });

  it('opens the pages of the selected relay and keeps the route in the URL', async () => {
    await setup();
    await fireEvent.click(screen.getByRole('link', { name: 'Relay Control' }));
    await screen.findByRole('heading', { level: 1, name: 'Relay Control' });
    expect(window.location.hash).toBe('#/i/local/mail-relay-control');
  });

  it('shows a not-connected panel for a relay that is not connected', async () => {
    await setup();
    await fireEvent.click(screen.getByText('NAS'));
    expect(await screen.findByRole('heading', { name: 'NAS is not connected' })).toBeInTheDocument();
  });

  it('switches language at run time', async () => {
    await setup();
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'de' } });
    expect(await screen.findByRole('heading', { level: 1, name: 'Sicherheit' })).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Black- und Whitelists' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Relay-Steuerung' })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe('de');
  });

  it('moves between tabs with the arrow keys', async () => {
    await setup();
    const first = screen.getByRole('tab', { name: 'Black and white lists' });
    expect(first).toHaveAttribute('aria-selected', 'true');
    await fireEvent.keyDown(first, { key: 'ArrowRight' });
    const second = screen.getByRole('tab', { name: 'Sender policy' });
    await waitFor(() => expect(second).toHaveAttribute('aria-selected', 'true'));
    expect(document.activeElement).toBe(second);
    expect(window.location.hash).toBe('#/i/local/mail-security/sender');
    await fireEvent.keyDown(second, { key: 'End' });
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Advanced' })).toHaveAttribute('aria-selected', 'true'));
  });

  it('asks before leaving a page with unapplied changes', async () => {
    await setup();
    await fireEvent.click(screen.getByRole('tab', { name: 'Sender policy' }));
    await fireEvent.click(await screen.findByLabelText('Reject senders from unknown domains'));
    await fireEvent.click(screen.getByRole('link', { name: 'General' }));
    const dialog = await screen.findByRole('dialog', { name: 'Unapplied changes' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Stay on page' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Security' })).toBeInTheDocument();
    await fireEvent.click(screen.getByRole('link', { name: 'General' }));
    await fireEvent.click(within(await screen.findByRole('dialog', { name: 'Unapplied changes' })).getByRole('button', { name: 'Discard and leave' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'General' })).toBeInTheDocument();
  });
});
