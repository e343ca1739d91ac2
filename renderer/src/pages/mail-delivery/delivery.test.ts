import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import MailDeliveryPage from './MailDeliveryPage.svelte';

async function setup(config = redactedConfig()) {
  const t = createTestApi();
  t.control.set('config.get', () => ok({ config, revision: 'r1' }));
  t.control.set('config.apply', () => ok({ revision: 'r2' }));
  const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'mail-delivery' });
  render(MailDeliveryPage, { props: { instanceId: 'local', tab: undefined }, context });
  await screen.findByLabelText('Direct delivery');
  return t;
}

async function applied(controlCalls: Array<{ method: string; params?: unknown }>) {
  await fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
  await waitFor(() => expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(true));
  return (controlCalls.find((c) => c.method === 'config.apply')?.params as { config: { delivery: Record<string, unknown> } }).config.delivery;
}

describe('Mail Delivery › Delivery', () => {
  it('switching to a relay host asks for one and validates it', async () => {
    const { controlCalls } = await setup();
    expect(screen.queryByLabelText('Server')).toBeNull();
    await fireEvent.click(screen.getByLabelText('Relay host (smarthost)'));
    const server = screen.getByLabelText('Server');
    await fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(server).toHaveAttribute('aria-invalid', 'true');
    expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(false);

    await fireEvent.input(server, { target: { value: 'smtp.provider.example' } });
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 's3cret' } });
    const delivery = await applied(controlCalls);
    expect(delivery).toMatchObject({ mode: 'relayHost', relayHost: { host: 'smtp.provider.example', port: 587, security: 'starttls', password: 's3cret' } });
  });

  it('keeps the stored password unless the user replaces it', async () => {
    const { controlCalls } = await setup(redactedConfig({ delivery: { mode: 'relayHost', relayHost: { host: 'smtp.example.com', username: 'u', password: 'x' } } }, true));
    const keep = screen.getByLabelText('Keep current password');
    expect(keep).toBeChecked();
    expect(screen.queryByLabelText('New password')).toBeNull();
    await fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'relay' } });
    let delivery = await applied(controlCalls);
    expect(delivery['relayHost']).not.toHaveProperty('password');

    controlCalls.length = 0;
    await fireEvent.click(screen.getByLabelText('Keep current password'));
    await fireEvent.input(screen.getByLabelText('New password'), { target: { value: 'n3w' } });
    delivery = await applied(controlCalls);
    expect(delivery['relayHost']).toMatchObject({ password: 'n3w' });
  });

  it('creates a relay exception with its own relay host', async () => {
    const { controlCalls } = await setup();
    const table = screen.getByTestId('relay-exceptions');
    await fireEvent.click(within(table).getByRole('button', { name: /Create/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Create relay exception' });
    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Partner' } });
    await fireEvent.input(within(dialog).getByLabelText('Addresses and domains 1'), { target: { value: 'partner.example' } });
    await fireEvent.input(within(dialog).getByLabelText('Server'), { target: { value: '10.8.0.2' } });
    await fireEvent.change(within(dialog).getByLabelText('Encryption'), { target: { value: 'none' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(within(table).getByText('Partner')).toBeInTheDocument();
    const delivery = await applied(controlCalls);
    expect(delivery['exceptions']).toEqual([
      { name: 'Partner', targetType: 'recipient', targets: ['partner.example'], relayHost: expect.objectContaining({ host: '10.8.0.2', security: 'none' }) },
    ]);
  });

  it('reorders relay exceptions (the first match wins)', async () => {
    const rh = { host: 'smtp.example.com' };
    const { controlCalls } = await setup(
      redactedConfig({
        delivery: {
          exceptions: [
            { name: 'First', targetType: 'recipient', targets: ['a.example'], relayHost: rh },
            { name: 'Second', targetType: 'sender', targets: ['b.example'], relayHost: rh },
          ],
        },
      }),
    );
    const table = screen.getByTestId('relay-exceptions');
    expect(within(table).getByRole('button', { name: 'Move up: First' })).toBeDisabled();
    await fireEvent.click(within(table).getByRole('button', { name: 'Move up: Second' }));
    const names = within(table).getAllByRole('row').slice(1).map((r) => r.querySelector('td')?.textContent?.trim());
    expect(names).toEqual(['Second', 'First']);
    const delivery = await applied(controlCalls);
    expect((delivery['exceptions'] as Array<{ name: string }>).map((e) => e.name)).toEqual(['Second', 'First']);
  });

  it('starts the item dialog in its first field', async () => {
    await setup();
    await fireEvent.click(within(screen.getByTestId('relay-exceptions')).getByRole('button', { name: /Create/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Create relay exception' });
    expect(document.activeElement).toBe(within(dialog).getByLabelText('Name'));
  });
});
