import { describe, expect, it } from 'vitest';
import { listQueue, matchesQueueFilter, messageState, selectQueue, toQueueSummary } from '../../server/control/queue-view.ts';
import { findMethod, queueSummarySchema } from '../../server/protocol/index.ts';
import type { QueueEntry, RecipientState } from '../../server/queue/types.ts';

const NOW = 1_700_000_000_000;

function entry(id: string, ageSeconds: number, recipients: Partial<RecipientState>[], extra: Partial<QueueEntry> = {}): QueueEntry {
  return {
    envelope: {
      id,
      receivedAt: NOW - ageSeconds * 1000,
      sender: 'Alice@Example.org',
      recipients: recipients.map((r) => r.address!),
      client: { ip: '192.0.2.7', hostname: null, helo: 'printer', authUser: null, tls: false },
      bodyType: '7bit',
      smtpUtf8: false,
      origin: 'smtp',
    },
    size: 1234,
    recipients: recipients.map((r) => ({ status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null, address: '', ...r })),
    held: false,
    nextAttemptAt: 0,
    attempts: 0,
    delayWarned: false,
    ...extra,
  };
}

const entries = [
  entry('000000000003-aaaaaaaaaa', 30, [{ address: 'bob@mail.example.com' }]),
  entry('000000000001-bbbbbbbbbb', 7200, [
    { address: 'carol@example.net', status: 'deferred', attempts: 2, lastAttemptAt: NOW - 60_000, lastReply: '451 4.7.1 greylisted' },
    { address: 'dave@example.net', status: 'delivered', lastReply: '250 ok' },
  ], { attempts: 2 }),
  entry('000000000002-cccccccccc', 600, [{ address: 'erin@example.com' }], { held: true }),
];
const list = (params: unknown) => listQueue(entries, findMethod('queue.list')!.params.parse(params) as never, NOW);

describe('queue view', () => {
  it('derives the state and a contract-valid summary', () => {
    expect(entries.map(messageState)).toEqual(['active', 'deferred', 'held']);
    const s = toQueueSummary(entries[1]!);
    expect(queueSummarySchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({ pendingRecipients: 1, lastError: '451 4.7.1 greylisted', state: 'deferred', clientIp: '192.0.2.7' });
  });

  it('lists oldest first with total and paging', () => {
    expect(list({}).items.map((i) => i.id)).toEqual(['000000000001-bbbbbbbbbb', '000000000002-cccccccccc', '000000000003-aaaaaaaaaa']);
    const page = list({ offset: 1, limit: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((i) => i.id)).toEqual(['000000000002-cccccccccc']);
    expect(list({ state: 'held' }).items.map((i) => i.id)).toEqual(['000000000002-cccccccccc']);
  });

  it('filters by sender, recipient, domain (with subdomains), error text and age', () => {
    const ids = (filter: object): string[] => list({ filter }).items.map((i) => i.id.slice(-1));
    expect(ids({ sender: 'alice@EXAMPLE' })).toHaveLength(3);
    expect(ids({ recipient: 'CAROL' })).toEqual(['b']);
    expect(ids({ domain: 'example.com' })).toEqual(['c', 'a']);
    expect(ids({ domain: 'mail.example.com' })).toEqual(['a']);
    expect(ids({ domain: 'ample.com' })).toEqual([]);
    expect(ids({ error: 'greylisted' })).toEqual(['b']);
    expect(ids({ minAgeSeconds: 500 })).toEqual(['b', 'c']);
    expect(ids({ maxAgeSeconds: 700 })).toEqual(['c', 'a']);
    expect(matchesQueueFilter(entries[1]!, 'all', { error: '250 ok' }, NOW)).toBe(false); // delivered replies are not errors
  });

  it('selects by ids (skipping unknown ones) or by filter and state', () => {
    const byIds = findMethod('queue.delete')!.params.parse({ ids: ['000000000002-cccccccccc', '000000000009-dddddddddd'] }) as never;
    expect(selectQueue(entries, byIds, NOW).map((e) => e.envelope.id)).toEqual(['000000000002-cccccccccc']);
    const byFilter = findMethod('queue.release')!.params.parse({ filter: {}, state: 'held' }) as never;
    expect(selectQueue(entries, byFilter, NOW)).toHaveLength(1);
  });
});
