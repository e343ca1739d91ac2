import { render, screen, waitFor, fireEvent } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../i18n/catalog.ts';
import { i18n } from '../../i18n/index.ts';
import { LOCALES } from '../../i18n/message-types.ts';
import type { QueueSummary } from '../../../../server/protocol/index.ts';
import { createTestApi, ok, testContext } from '../../test-support/fake-api.ts';
import QueuePage from './QueuePage.svelte';
import { emptyFilter, toApiFilter } from './queue-filter.ts';
import { QUEUE_COMPUTED_KEYS } from './queue-keys.ts';
import { QueueModel } from './queue-model.svelte.ts';
import { nextSort, sortOrder } from './queue-sort.ts';
import { rowFormat } from './row-format.ts';

function rows(n: number): QueueSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `id-${String(i).padStart(6, '0')}`,
    receivedAt: 1_700_000_000_000 + i * 1000,
    sender: `sender${(i * 7) % 13}@example.com`,
    recipients: [`rcpt${i}@example.net`],
    pendingRecipients: 1,
    size: 1000 + i,
    state: i % 10 === 0 ? 'held' : 'deferred',
    attempts: i % 4,
    nextAttemptAt: 1_800_000_000_000,
    lastError: i % 2 ? '451 4.7.1 try later' : null,
    clientIp: '192.0.2.1',
  }));
}

/** A relay queue behind `queue.list` (oldest first, paged) with the bulk actions recorded. */
function fakeQueue(all: QueueSummary[]) {
  const t = createTestApi();
  t.control.set('queue.list', (p) => {
    const { offset = 0, limit = 100, filter = {} } = p as { offset?: number; limit?: number; filter?: { sender?: string } };
    const match = all.filter((r) => !filter.sender || r.sender.includes(filter.sender));
    return ok({ total: match.length, items: match.slice(offset, offset + limit) });
  });
  for (const action of ['retry', 'hold', 'release', 'delete', 'bounce']) {
    t.control.set(`queue.${action}`, (p) => ok({ affected: 'ids' in (p as object) ? (p as { ids: string[] }).ids.length : all.length }));
  }
  return t;
}

describe('filter and sort', () => {
  it('sends only the criteria that are set', () => {
    expect(toApiFilter(emptyFilter())).toEqual({});
    expect(toApiFilter({ ...emptyFilter(), sender: ' bob ', domain: '@Example.COM', minAgeSeconds: 3600 })).toEqual({ sender: 'bob', domain: 'example.com', minAgeSeconds: 3600 });
  });
  it('sorts stably and leaves the server order alone', () => {
    const r = rows(50);
    expect(sortOrder(r, { key: 'receivedAt', dir: 'asc' })).toBeNull();
    const bySender = sortOrder(r, { key: 'sender', dir: 'asc' })!;
    const senders = Array.from(bySender, (i) => r[i]!.sender);
    expect(senders).toEqual([...senders].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
    // ties keep the oldest first
    const first = Array.from(bySender).filter((i) => r[i]!.sender === r[bySender[0]!]!.sender);
    expect(first).toEqual([...first].sort((a, b) => a - b));
    expect(nextSort({ key: 'sender', dir: 'asc' }, 'sender')).toEqual({ key: 'sender', dir: 'desc' });
    expect(nextSort({ key: 'sender', dir: 'desc' }, 'size')).toEqual({ key: 'size', dir: 'asc' });
  });
  it('formats rows like the i18n formatters', () => {
    for (const locale of LOCALES) {
      i18n.setLocale(locale);
      const f = rowFormat(locale);
      for (const s of [0, 59, 61, 3599, 3661, 90_000, 400_000]) expect(f.duration(s)).toBe(i18n.duration(s));
      for (const b of [0, 512, 2048, 5_000_000]) expect(f.bytes(b)).toBe(i18n.bytes(b));
      expect(f.relative(1_000_000 + 300_000, 1_000_000)).toBe(i18n.relativeTime(1_000_000 + 300_000, 1_000_000));
    }
  });
  it('has every computed key in every language', () => {
    for (const locale of LOCALES) expect(QUEUE_COMPUTED_KEYS.filter((k) => !catalog.messages[locale].has(k))).toEqual([]);
  });
});

describe('QueueModel', () => {
  it('pages through queue.list until every row is loaded', async () => {
    const t = fakeQueue(rows(2500));
    const m = new QueueModel(t.api, 'local');
    await m.load();
    expect(m.total).toBe(2500);
    expect(m.loaded).toBe(2500);
    expect(t.controlCalls.filter((c) => c.method === 'queue.list').map((c) => (c.params as { offset: number }).offset)).toEqual([0, 1000, 2000]);
    expect(m.rowAt(2499)?.id).toBe('id-002499');
  });
  it('acts on hand-picked ids, or on the filter when all matching are selected', async () => {
    const t = fakeQueue(rows(30));
    const m = new QueueModel(t.api, 'local');
    m.filter.sender = 'sender1';
    await m.load();
    m.toggle(m.rowAt(0)!.id);
    m.selectRange(0, 2);
    expect(m.targetCount).toBe(3);
    const r = await m.bulk('delete');
    expect(r).toEqual({ affected: 3 });
    expect(t.controlCalls.find((c) => c.method === 'queue.delete')?.params).toEqual({ ids: [m.rowAt(0)?.id, m.rowAt(1)?.id, m.rowAt(2)?.id].filter(Boolean) });
    m.selectAllMatching();
    expect(m.targetCount).toBe(m.total);
    await m.bulk('hold');
    expect(t.controlCalls.find((c) => c.method === 'queue.hold')?.params).toEqual({ filter: { sender: 'sender1' }, state: 'all' });
  });
});

describe('QueuePage', () => {
  it('keeps only a window of 5000 rows in the DOM and confirms a bulk action with its count', async () => {
    const t = fakeQueue(rows(5000));
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'queue' });
    render(QueuePage, { props: { instanceId: 'local', tab: undefined }, context });
    await waitFor(() => expect(screen.getByTestId('queue-total').textContent).toContain('5,000 messages match'));
    await waitFor(() => expect(screen.queryByRole('progressbar')).toBeNull());
    const rendered = document.querySelectorAll('[role="row"][data-index]').length;
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(60);

    await fireEvent.click(screen.getByRole('checkbox', { name: 'Select all loaded' }));
    await waitFor(() => expect(screen.getByTestId('queue-selected').textContent).toContain('5,000 selected'));
    await fireEvent.click(screen.getByRole('button', { name: 'Bounce' }));
    await waitFor(() => expect(screen.getByTestId('confirm-body').textContent).toContain('5,000 messages will fail now'));
    expect(screen.getByRole('button', { name: 'Bounce 5,000 messages' })).toBeInTheDocument();
  });
});
