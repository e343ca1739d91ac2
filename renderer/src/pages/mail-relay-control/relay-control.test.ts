import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import RelayControlPage from './RelayControlPage.svelte';

async function setup() {
  const t = createTestApi();
  t.control.set('config.get', () => ok({ config: redactedConfig({ relayControl: { relayDomains: [{ name: 'Main', domain: 'example.com' }] } }), revision: 'r1' }));
  t.control.set('config.apply', () => ok({ revision: 'r2' }));
  const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'mail-relay-control' });
  render(RelayControlPage, { props: { instanceId: 'local', tab: undefined }, context });
  const trusted = await screen.findByTestId('trusted-networks');
  return { ...t, trusted };
}

function rows(table: HTMLElement): string[] {
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map((r) => r.textContent?.replace(/\s+/g, ' ').trim() ?? '');
}

describe('Mail Delivery › Relay Control', () => {
  it('creates a trusted network through the dialog, with validation', async () => {
    const { trusted, controlCalls } = await setup();
    expect(rows(trusted)).toHaveLength(2);
    await fireEvent.click(within(trusted).getByRole('button', { name: /Create/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Create trusted IP' });

    // A new entry shows its problems only after the first OK.
    expect(within(dialog).queryByText('Required')).toBeNull();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));
    expect(within(dialog).getAllByText('Required').length).toBeGreaterThan(0);

    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Office LAN' } });
    await fireEvent.input(within(dialog).getByLabelText('IP address or subnet'), { target: { value: '192.168.1.0/33' } });
    expect(within(dialog).getByText(/Not an IPv4\/IPv6 address or network/)).toBeInTheDocument();
    await fireEvent.input(within(dialog).getByLabelText('IP address or subnet'), { target: { value: '192.168.1.0/24' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(rows(trusted).at(-1)).toContain('Office LAN');
    expect(rows(trusted).at(-1)).toContain('192.168.1.0/24');

    await fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(true));
    const sent = controlCalls.find((c) => c.method === 'config.apply')?.params as { config: { relayControl: { trustedNetworks: unknown[] } } };
    expect(sent.config.relayControl.trustedNetworks.at(-1)).toEqual({ name: 'Office LAN', network: '192.168.1.0/24' });
  });

  it('edits and deletes entries; Cancel changes nothing', async () => {
    const { trusted } = await setup();
    await fireEvent.click(within(trusted).getByRole('button', { name: 'Edit: Loopback (IPv6)' }));
    let dialog = await screen.findByRole('dialog', { name: 'Edit trusted IP' });
    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'IPv6 loopback' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(rows(trusted)[1]).toContain('Loopback (IPv6)');

    await fireEvent.click(within(trusted).getByRole('button', { name: 'Edit: Loopback (IPv6)' }));
    dialog = await screen.findByRole('dialog', { name: 'Edit trusted IP' });
    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'IPv6 loopback' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(rows(trusted)[1]).toContain('IPv6 loopback'));

    await fireEvent.click(within(trusted).getByRole('button', { name: 'Delete: Loopback (IPv4)' }));
    expect(rows(trusted)).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Apply' })).toBeEnabled();
  });

  it('shows the domain list with the next hop or the internal MX', async () => {
    await setup();
    const domains = screen.getByTestId('relay-domains');
    expect(rows(domains)[0]).toContain('MX via internal DNS');
  });

  it('validates DNS servers per entry', async () => {
    await setup();
    await fireEvent.click(screen.getAllByRole('button', { name: 'Add DNS server' })[0]!);
    const input = screen.getByLabelText('Internal DNS servers 1');
    await fireEvent.input(input, { target: { value: 'dns.example.com' } });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    await fireEvent.input(input, { target: { value: '192.168.1.1:5353' } });
    expect(input).not.toHaveAttribute('aria-invalid');
  });
});
