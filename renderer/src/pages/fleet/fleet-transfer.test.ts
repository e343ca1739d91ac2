import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RemoteInstanceView } from '../../api/relay-desk.ts';
import { i18n } from '../../i18n/index.ts';
import { createTestApi, localInstance, ok, testContext } from '../../test-support/fake-api.ts';
import FleetPage from './FleetPage.svelte';
import { exportFileName, parseImportText, type InstanceExport } from './fleet-transfer.ts';

const FP = 'SHA256:Xq3vG1mYt6bJkq2Hn5yR0wZp8cVfLd4sUe7aTn9QiKo';
const fields = { port: 22, username: 'admin', auth: { method: 'password' as const }, dataDir: '~/.local/share/mailrelay', installDir: '~/.local/lib/relaydesk', nodePath: 'node' };

function remote(id: string, name: string, host: string): RemoteInstanceView {
  return {
    id,
    kind: 'remote',
    name,
    host,
    ...fields,
    hasPassword: false,
    hasPassphrase: false,
    hostKey: null,
    state: { status: 'disconnected', message: '', since: 0, retryAt: null, relayVersion: null, hostKey: null },
  };
}

const exportDoc = (exportedAt: number): InstanceExport => ({
  format: 'relaydesk-instances',
  version: 1,
  exportedAt,
  instances: [{ name: 'NAS', host: 'nas.lan', ...fields, hostKey: { algorithm: 'ssh-ed25519', fingerprint: FP } }],
});

async function renderFleet(overrides: Parameters<typeof createTestApi>[0]) {
  const t = createTestApi(overrides, [localInstance('disconnected'), remote('nas', 'NAS', 'nas.lan')]);
  const { context } = await testContext(t.api, { kind: 'app', pageId: 'fleet' });
  render(FleetPage, { props: { instanceId: undefined, tab: undefined } as never, context });
  return t;
}

async function chooseFile(input: HTMLElement, content: string, name = 'relays.json'): Promise<void> {
  const file = new File([content], name, { type: 'application/json' });
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  await fireEvent.change(input);
}

afterEach(() => vi.restoreAllMocks());

describe('relay list export', () => {
  it('names the file by date and checks a chosen file', () => {
    expect(exportFileName(new Date(2026, 0, 5, 23, 59).getTime())).toBe('relay-desk-relays-2026-01-05.json');
    expect(parseImportText('{')).toEqual({ ok: false, error: { kind: 'notJson' } });
    expect(parseImportText('[]')).toEqual({ ok: false, error: { kind: 'notExport' } });
    expect(parseImportText('{"format":"other","version":1,"instances":[]}')).toEqual({ ok: false, error: { kind: 'notExport' } });
    expect(parseImportText('{"format":"relaydesk-instances","version":2,"instances":[{}]}')).toEqual({ ok: false, error: { kind: 'version', version: '2' } });
    expect(parseImportText('{"format":"relaydesk-instances","version":1,"instances":[]}')).toEqual({ ok: false, error: { kind: 'noInstances' } });
    const doc = exportDoc(1);
    expect(parseImportText(JSON.stringify(doc))).toEqual({ ok: true, document: doc, count: 1 });
  });

  it('calls exportInstances with the chosen option and downloads a JSON file', async () => {
    const exportedAt = new Date(2026, 10, 28, 12).getTime();
    const exportInstances = vi.fn(async () => ok(exportDoc(exportedAt)));
    await renderFleet({ exportInstances });
    const blobs: Blob[] = [];
    const createObjectURL = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => (blobs.push(b as Blob), 'blob:relays'));
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    const clicks: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this);
    });

    await fireEvent.click(screen.getByRole('button', { name: 'Export list…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Export the relay list' });
    expect(within(dialog).getByText(/Passwords and key passphrases are never exported/)).toBeInTheDocument();
    const hostKeys = within(dialog).getByLabelText('Include trusted host keys');
    expect(hostKeys).toBeChecked();
    await fireEvent.click(hostKeys);
    expect(hostKeys).not.toBeChecked();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));

    await waitFor(() => expect(clicks).toHaveLength(1));
    expect(exportInstances).toHaveBeenCalledWith({ includeHostKeys: false });
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    expect(clicks[0]!.download).toBe('relay-desk-relays-2026-11-28.json');
    expect(clicks[0]!.getAttribute('href')).toBe('blob:relays');
    expect(blobs[0]!.type).toBe('application/json');
    expect(JSON.parse(await blobs[0]!.text())).toEqual(exportDoc(exportedAt));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Export the relay list' })).toBeNull());
  });
});

describe('relay list import', () => {
  it('sends the parsed document to importInstances and shows what was added and skipped', async () => {
    const doc = { ...exportDoc(1), instances: [...exportDoc(1).instances, { name: 'Branch', host: 'branch.lan', ...fields }] };
    const importInstances = vi.fn(async () => ok({ added: [remote('b1', 'Branch', 'branch.lan')], skipped: [{ name: 'NAS', reason: '"NAS" already connects to admin@nas.lan:22' }] }));
    await renderFleet({ importInstances });

    await fireEvent.click(screen.getByRole('button', { name: 'Import list…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Import a relay list' });
    const importButton = within(dialog).getByRole('button', { name: 'Import' });
    expect(importButton).toBeDisabled();
    const input = within(dialog).getByLabelText('Relay list (JSON file)');
    expect(input).toHaveAttribute('accept', '.json,application/json');
    await chooseFile(input, JSON.stringify(doc));
    await waitFor(() => expect(within(dialog).getByText('relays.json contains 2 relays.')).toBeInTheDocument());
    expect(importButton).toBeEnabled();
    await fireEvent.click(importButton);

    await waitFor(() => expect(within(dialog).getByTestId('import-summary')).toBeInTheDocument());
    expect(importInstances).toHaveBeenCalledWith({ document: doc });
    const summary = within(dialog).getByTestId('import-summary');
    expect(within(summary).getByText('1 relay added')).toBeInTheDocument();
    expect(within(summary).getByText('Branch')).toBeInTheDocument();
    expect(within(summary).getByText('1 relay skipped')).toBeInTheDocument();
    expect(summary.textContent).toContain('NAS: "NAS" already connects to admin@nas.lan:22');
  });

  it('shows the summary in German with locale plurals', async () => {
    const importInstances = vi.fn(async () => ok({ added: [], skipped: [{ name: 'NAS', reason: 'an instance with this name exists' }] }));
    await renderFleet({ importInstances });
    i18n.setLocale('de');
    await fireEvent.click(await screen.findByRole('button', { name: 'Liste importieren…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Relay-Liste importieren' });
    await chooseFile(within(dialog).getByLabelText('Relay-Liste (JSON-Datei)'), JSON.stringify(exportDoc(1)));
    await fireEvent.click(await within(dialog).findByRole('button', { name: 'Importieren' }));
    await waitFor(() => expect(within(dialog).getByText('0 Relays hinzugefügt')).toBeInTheDocument());
    expect(within(dialog).getByText('1 Relay übersprungen')).toBeInTheDocument();
  });

  it('shows an error next to the control for a bad file and for a refused list', async () => {
    const importInstances = vi.fn(async () => ({ ok: false as const, error: { code: 'INVALID_ARGUMENT' as const, message: 'not a Relay Desk instance export: instances.0.host: must be a host name or an IP address' } }));
    await renderFleet({ importInstances });
    await fireEvent.click(screen.getByRole('button', { name: 'Import list…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Import a relay list' });
    const input = within(dialog).getByLabelText('Relay list (JSON file)');

    await chooseFile(input, 'not json at all', 'notes.json');
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toBe('This file is not valid JSON. Choose a relay list exported by Relay Desk.');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAttribute('aria-describedby', alert.id);
    expect(within(dialog).getByRole('button', { name: 'Import' })).toBeDisabled();

    await chooseFile(input, JSON.stringify({ hello: 'world' }));
    await waitFor(() => expect(within(dialog).getByRole('alert').textContent).toContain('not a Relay Desk relay list'));
    expect(importInstances).not.toHaveBeenCalled();

    await chooseFile(input, JSON.stringify(exportDoc(1)));
    await fireEvent.click(await within(dialog).findByRole('button', { name: 'Import' }));
    await waitFor(() => expect(within(dialog).getByRole('alert').textContent).toBe('The list was not imported: not a Relay Desk instance export: instances.0.host: must be a host name or an IP address'));
    expect(within(dialog).queryByTestId('import-summary')).toBeNull();
  });
});
