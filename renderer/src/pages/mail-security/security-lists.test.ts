import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import SecurityPage from './SecurityPage.svelte';

async function setup(tab?: string) {
  const t = createTestApi();
  t.control.set(
    'config.get',
    () =>
      ok({
        config: redactedConfig({
          security: {
            lists: [
              { name: 'Spammer', type: 'block', action: 'reject', criterion: 'senderDomain', value: 'spam.example' },
              { name: 'Partner', type: 'allow', action: 'allow', criterion: 'senderDomain', value: 'partner.example' },
            ],
          },
        }),
        revision: 'r1',
      }),
  );
  t.control.set('config.apply', () => ok({ revision: 'r2' }));
  const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'mail-security' });
  render(SecurityPage, { props: { instanceId: 'local', tab }, context });
  return t;
}

describe('Mail Delivery › Security', () => {
  it('enables and disables a rule from the list', async () => {
    const { controlCalls } = await setup();
    const table = await screen.findByTestId('security-lists');
    const toggle = within(table).getByLabelText('On: Spammer');
    expect(toggle).toBeChecked();
    await fireEvent.click(toggle);
    await fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(true));
    const sent = controlCalls.find((c) => c.method === 'config.apply')?.params as { config: { security: { lists: Array<{ enabled: boolean }> } } };
    expect(sent.config.security.lists[0]?.enabled).toBe(false);
  });

  it('filters by blacklist / whitelist', async () => {
    await setup();
    const table = await screen.findByTestId('security-lists');
    await fireEvent.click(screen.getByRole('radio', { name: 'Whitelist' }));
    expect(within(table).queryByText('Spammer')).toBeNull();
    expect(within(table).getByText('Partner')).toBeInTheDocument();
  });

  it('creates a block rule; a client-IP value must be an address, network or wildcard', async () => {
    await setup();
    const table = await screen.findByTestId('security-lists');
    await fireEvent.click(within(table).getByRole('button', { name: /Create/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Create rule' });
    await fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Bad net' } });
    await fireEvent.change(within(dialog).getByLabelText('Criterion'), { target: { value: 'clientIp' } });
    await fireEvent.input(within(dialog).getByLabelText('Value'), { target: { value: 'not-an-ip' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));
    expect(within(dialog).getByText('Not an IP address, network or wildcard')).toBeInTheDocument();
    await fireEvent.input(within(dialog).getByLabelText('Value'), { target: { value: '203.0.113.0/24' } });
    await fireEvent.change(within(dialog).getByLabelText('Action'), { target: { value: 'discard' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const row = within(table).getByText('Bad net').closest('tr')!;
    expect(row.textContent).toContain('Client IP address');
    expect(row.textContent).toContain('Discard');
  });

  it('switching a rule to the whitelist makes its action "allow"', async () => {
    await setup();
    const table = await screen.findByTestId('security-lists');
    await fireEvent.click(within(table).getByRole('button', { name: 'Edit: Spammer' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit rule' });
    await fireEvent.change(within(dialog).getByLabelText('List'), { target: { value: 'allow' } });
    expect(within(dialog).queryByLabelText('Action')).toBeNull();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(within(table).getByText('Spammer').closest('tr')?.textContent).toContain('Allow');
  });

  it('edits the connection policy limits', async () => {
    const { controlCalls } = await setup('connection');
    await fireEvent.click(await screen.findByLabelText('Limit the message rate per client'));
    await fireEvent.input(screen.getByLabelText('At most'), { target: { value: '50' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(true));
    const sent = controlCalls.find((c) => c.method === 'config.apply')?.params as { config: { security: { connectionPolicy: unknown } } };
    expect(sent.config.security.connectionPolicy).toMatchObject({ messageRateLimit: { count: 50, perSeconds: 60 } });
  });
});
