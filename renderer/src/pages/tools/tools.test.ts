import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../i18n/catalog.ts';
import { LOCALES } from '../../i18n/message-types.ts';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import ToolsPage from './ToolsPage.svelte';
import { DNS_STATUS_KEYS } from './tools-model.svelte.ts';

describe('ToolsPage', () => {
  it('refuses bad recipients and shows the transcript of a test message', async () => {
    const t = createTestApi();
    t.control.set('config.get', () => ok({ config: redactedConfig({ general: { profile: { domain: 'corp.example' } } }), revision: 'r' }));
    t.control.set('test.send', () =>
      ok({
        ok: true,
        route: 'direct MX',
        nextHop: 'mx.example.net[192.0.2.7]:25',
        reply: '250 2.0.0 queued',
        durationMs: 420,
        transcript: [
          { at: 1, direction: 'info', text: 'connecting to mx.example.net' },
          { at: 2, direction: 'server', text: '220 mx.example.net ESMTP' },
          { at: 3, direction: 'client', text: 'MAIL FROM:<postmaster@corp.example>' },
        ],
      }),
    );
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'tools' });
    render(ToolsPage, { props: { instanceId: 'local', tab: undefined }, context });
    await waitFor(() => expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('postmaster@corp.example'));
    await fireEvent.input(screen.getByLabelText('To'), { target: { value: 'not-an-address' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send test message' }));
    expect(screen.getByText('“not-an-address” is not an e-mail address (local@domain).')).toBeInTheDocument();
    expect(t.controlCalls.some((c) => c.method === 'test.send')).toBe(false);

    await fireEvent.input(screen.getByLabelText('To'), { target: { value: 'a@example.net, b@example.net' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send test message' }));
    await waitFor(() => expect(screen.getByText('The next hop accepted the message')).toBeInTheDocument());
    expect(t.controlCalls.find((c) => c.method === 'test.send')?.params).toMatchObject({ from: 'postmaster@corp.example', to: ['a@example.net', 'b@example.net'] });
    expect(screen.getByText('MAIL FROM:<postmaster@corp.example>')).toBeInTheDocument();
  });
  it('has the label of every DNS check status in every language', () => {
    for (const locale of LOCALES) expect(Object.values(DNS_STATUS_KEYS).filter((k) => !catalog.messages[locale].has(k))).toEqual([]);
  });
});
