import { describe, expect, it } from 'vitest';
import { catalog } from '../../i18n/catalog.ts';
import { LOCALES } from '../../i18n/message-types.ts';
import type { LogLine } from '../../../../server/protocol/index.ts';
import { createTestApi, ok } from '../../test-support/fake-api.ts';
import { summarize } from './log-line.ts';
import { LOGS_COMPUTED_KEYS } from './logs-keys.ts';
import { LogsModel, toApiFilter } from './logs-model.svelte.ts';

const line = (time: number, extra: Record<string, unknown> = {}): LogLine => ({ time, level: 'info', event: 'queued', ...extra });
const tick = (ms = 80) => new Promise((r) => setTimeout(r, ms));

describe('log lines', () => {
  it('puts the fields that matter first', () => {
    expect(summarize(line(1, { size: 10, sender: 'a@b', client: '192.0.2.1', id: 'q1', pid: 3 }))).toBe('client=192.0.2.1  id=q1  sender=a@b  size=10');
    expect(summarize(line(1, { recipients: ['x@y', 'z@w'], extra: { a: 1 } }))).toBe('recipients=x@y, z@w  extra={"a":1}');
  });
  it('sends only the filter criteria that are set', () => {
    expect(toApiFilter({ events: [], text: ' ', client: '', id: '' })).toEqual({});
    expect(toApiFilter({ events: ['reject', 'queued'], text: 'spam', client: '10.', id: 'q' })).toEqual({ event: ['reject', 'queued'], text: 'spam', client: '10.', id: 'q' });
  });
  it('has every computed key in every language', () => {
    for (const locale of LOCALES) expect(LOGS_COMPUTED_KEYS.filter((k) => !catalog.messages[locale].has(k))).toEqual([]);
  });
});

describe('LogsModel', () => {
  it('tails live lines newest first, holds them while paused, and subscribes with the filter', async () => {
    const t = createTestApi();
    t.control.set('logs.query', () => ok({ items: [line(2, { id: 'old2' }), line(1, { id: 'old1' })], truncated: false }));
    const m = new LogsModel(t.api, 'local');
    const stop = await m.start();
    expect(t.api.subscribeLogs).toHaveBeenCalledWith({ instanceId: 'local', filter: {} });
    expect([m.liveAt(0)?.id, m.liveAt(1)?.id]).toEqual(['old2', 'old1']);

    t.emit('onLogEvent', { instanceId: 'local', line: line(3, { id: 'new3' }) });
    t.emit('onLogEvent', { instanceId: 'other', line: line(4, { id: 'elsewhere' }) });
    await tick();
    expect(m.liveCount).toBe(3);
    expect(m.liveAt(0)?.id).toBe('new3');

    m.setPaused(true);
    t.emit('onLogEvent', { instanceId: 'local', line: line(5, { id: 'held5' }) });
    expect(m.heldCount).toBe(1);
    expect(m.liveAt(0)?.id).toBe('new3');
    m.setPaused(false);
    expect(m.liveAt(0)?.id).toBe('held5');

    m.filter.events = ['reject'];
    await m.resubscribe(false);
    expect(t.api.subscribeLogs).toHaveBeenLastCalledWith({ instanceId: 'local', filter: { event: ['reject'] } });
    stop();
    expect(t.api.unsubscribeLogs).toHaveBeenCalledWith({ instanceId: 'local' });
  });
  it('searches the history with the filter', async () => {
    const t = createTestApi();
    t.control.set('logs.query', () => ok({ items: [line(9)], truncated: true }));
    const m = new LogsModel(t.api, 'local');
    m.filter.text = 'bob';
    await m.search(1000, 2000);
    expect(t.controlCalls.at(-1)?.params).toEqual({ since: 1000, until: 2000, filter: { text: 'bob' }, limit: 2000 });
    expect(m.searchResults).toHaveLength(1);
    expect(m.searchTruncated).toBe(true);
  });

  it('keeps the latest search when an older answer arrives later', async () => {
    const t = createTestApi();
    const answers: Array<(v: ReturnType<typeof ok>) => void> = [];
    t.control.set('logs.query', () => new Promise((resolve) => answers.push(resolve as never)));
    const m = new LogsModel(t.api, 'local');
    const first = m.search(1000, undefined);
    m.filter.text = 'bob';
    const second = m.search(1000, undefined);
    answers[1]!(ok({ items: [line(2, { id: 'bob-only' })], truncated: false }));
    await second;
    answers[0]!(ok({ items: [line(1, { id: 'everything' }), line(2, { id: 'bob-only' })], truncated: false }));
    await first;
    expect(m.searchResults.map((l) => l.id)).toEqual(['bob-only']);
    expect(m.searching).toBe(false);
  });
});
