import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { i18n } from '../../i18n/index.ts';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import MailGeneralPage from './MailGeneralPage.svelte';

async function setup(config = redactedConfig({ general: { profile: { hostname: 'relay.example.com' } } })) {
  const t = createTestApi();
  let revision = 'r1';
  t.control.set('config.get', () => ok({ config: structuredClone(config), revision }));
  t.control.set('config.apply', (p) => {
    const params = p as { baseRevision: string; config: typeof config };
    if (params.baseRevision !== revision) return { ok: false, error: { code: 'CONFLICT', message: 'changed' } };
    config = params.config;
    revision = 'r2';
    return ok({ revision });
  });
  const { ctx, context } = await testContext(t.api);
  render(MailGeneralPage, { props: { instanceId: 'local', tab: undefined }, context });
  await screen.findByLabelText('Enable SMTP authentication');
  return { ...t, ctx, bumpRevision: () => (revision = 'r9') };
}

const applyButton = () => screen.getByRole('button', { name: 'Apply' });

describe('Mail Delivery › General', () => {
  it('enables Apply only with changes and tracks them', async () => {
    await setup();
    expect(applyButton()).toBeDisabled();
    expect(screen.getByTestId('apply-state').textContent).toContain('No changes');

    await fireEvent.click(screen.getByLabelText('Disable auto-forwarding'));
    expect(applyButton()).toBeEnabled();
    expect(screen.getByTestId('apply-state').textContent).toContain('You have unapplied changes');

    await fireEvent.click(screen.getByLabelText('Disable auto-forwarding'));
    expect(applyButton()).toBeDisabled();
  });

  it('disables the authentication sub-options while authentication is off', async () => {
    await setup();
    expect(screen.getByLabelText('Sender must match the login')).toBeDisabled();
    await fireEvent.click(screen.getByLabelText('Enable SMTP authentication'));
    expect(screen.getByLabelText('Sender must match the login')).toBeEnabled();
  });

  it('shows a translated schema message next to the field', async () => {
    await setup();
    const hostname = screen.getByLabelText('Host name (FQDN)');
    await fireEvent.input(hostname, { target: { value: 'not a host' } });
    expect(hostname).toHaveAttribute('aria-invalid', 'true');
    const errorId = hostname.getAttribute('aria-describedby')?.split(' ')[0] ?? '';
    expect(document.getElementById(errorId)?.textContent).toContain('Not a valid host or domain name');
    expect(screen.getByTestId('apply-state').textContent).toContain('1 field needs your attention');

    i18n.setLocale('de');
    await waitFor(() => expect(document.getElementById(errorId)?.textContent).toContain('Kein gültiger Host- oder Domainname'));
  });

  it('refuses to apply an invalid number and says so', async () => {
    const { controlCalls } = await setup();
    const max = screen.getByLabelText('Max. hops');
    await fireEvent.input(max, { target: { value: 'abc' } });
    expect(max).toHaveAttribute('aria-invalid', 'true');
    await fireEvent.click(applyButton());
    expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(false);
  });

  it('applies the change with the revision it read', async () => {
    const { controlCalls } = await setup();
    await fireEvent.input(screen.getByLabelText('Max. hops'), { target: { value: '30' } });
    await fireEvent.click(applyButton());
    await waitFor(() => expect(screen.getByTestId('apply-state').textContent).toContain('Settings applied'));
    const apply = controlCalls.find((c) => c.method === 'config.apply');
    expect(apply?.params).toMatchObject({ baseRevision: 'r1', config: { general: { profile: { maxHops: 30 } } } });
    expect(applyButton()).toBeDisabled();
  });

  it('edits the external postmaster list', async () => {
    const { controlCalls } = await setup();
    await fireEvent.click(screen.getByRole('button', { name: 'Add address' }));
    const input = screen.getByLabelText('E-mail addresses 1');
    await fireEvent.input(input, { target: { value: 'not-an-address' } });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    await fireEvent.input(input, { target: { value: 'admin@example.com' } });
    expect(input).not.toHaveAttribute('aria-invalid');
    await fireEvent.click(applyButton());
    await waitFor(() => expect(controlCalls.some((c) => c.method === 'config.apply')).toBe(true));
    expect(controlCalls.find((c) => c.method === 'config.apply')?.params).toMatchObject({ config: { general: { externalPostmasters: ['admin@example.com'] } } });
  });

  it('asks what to do when the config changed on the relay meanwhile', async () => {
    const { bumpRevision, controlCalls } = await setup();
    await fireEvent.click(screen.getByLabelText('Disable auto-forwarding'));
    bumpRevision();
    await fireEvent.click(applyButton());
    const dialog = await screen.findByRole('dialog', { name: 'The configuration was changed meanwhile' });
    expect(within(dialog).getByRole('button', { name: 'Reload' })).toBeInTheDocument();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Overwrite' }));
    await waitFor(() => expect(screen.getByTestId('apply-state').textContent).toContain('Settings applied'));
    const applies = controlCalls.filter((c) => c.method === 'config.apply');
    expect(applies.at(-1)?.params).toMatchObject({ baseRevision: 'r9', config: { general: { disableAutoForwarding: true } } });
  });

  it('reload in the conflict dialog drops the changes', async () => {
    const { bumpRevision } = await setup();
    await fireEvent.click(screen.getByLabelText('Disable auto-forwarding'));
    bumpRevision();
    await fireEvent.click(applyButton());
    const dialog = await screen.findByRole('dialog', { name: 'The configuration was changed meanwhile' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Reload' }));
    await waitFor(() => expect(screen.getByLabelText('Disable auto-forwarding')).not.toBeChecked());
    expect(applyButton()).toBeDisabled();
  });

  it('guards leaving the page with unapplied changes', async () => {
    const { ctx } = await setup();
    await fireEvent.click(screen.getByLabelText('Disable auto-forwarding'));
    ctx.nav.go({ kind: 'instance', instanceId: 'local', pageId: 'mail-security' });
    expect(ctx.nav.route).toMatchObject({ pageId: 'mail-general' });
    expect(ctx.nav.pending).not.toBeNull();
    ctx.nav.pending?.confirm();
    expect(ctx.nav.route).toMatchObject({ pageId: 'mail-security' });
    expect(ctx.configEditors.get('local').dirty).toBe(false);
  });
});
