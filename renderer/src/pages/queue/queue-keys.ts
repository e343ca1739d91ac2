/**
 * The queue page's i18n keys that depend on a value (state, action, column), written out so that a
 * new value is a type error here and the key test (queue-keys.test.ts) sees every key.
 */
import type { QueueStateChoice } from './queue-filter.ts';
import type { BulkAction } from './queue-model.svelte.ts';
import type { QueueSortKey } from './queue-sort.ts';

export const STATE_KEYS: Record<QueueStateChoice, string> = {
  all: 'queue.state.all',
  active: 'queue.state.active',
  deferred: 'queue.state.deferred',
  held: 'queue.state.held',
};

export const COLUMN_KEYS: Record<QueueSortKey, string> = {
  receivedAt: 'queue.column.received',
  sender: 'queue.column.sender',
  recipients: 'queue.column.recipients',
  state: 'queue.column.state',
  attempts: 'queue.column.attempts',
  nextAttemptAt: 'queue.column.nextAttempt',
  size: 'queue.column.size',
  lastError: 'queue.column.lastError',
};

/** Per bulk action: button label, confirmation title / body / button, and the result line. */
export const ACTION_KEYS: Record<BulkAction, { label: string; title: string; body: string; button: string; done: string }> = {
  retry: { label: 'queue.action.retry', title: 'queue.confirm.title.retry', body: 'queue.confirm.body.retry', button: 'queue.confirm.button.retry', done: 'queue.done.retry' },
  hold: { label: 'queue.action.hold', title: 'queue.confirm.title.hold', body: 'queue.confirm.body.hold', button: 'queue.confirm.button.hold', done: 'queue.done.hold' },
  release: { label: 'queue.action.release', title: 'queue.confirm.title.release', body: 'queue.confirm.body.release', button: 'queue.confirm.button.release', done: 'queue.done.release' },
  delete: { label: 'queue.action.delete', title: 'queue.confirm.title.delete', body: 'queue.confirm.body.delete', button: 'queue.confirm.button.delete', done: 'queue.done.delete' },
  bounce: { label: 'queue.action.bounce', title: 'queue.confirm.title.bounce', body: 'queue.confirm.body.bounce', button: 'queue.confirm.button.bounce', done: 'queue.done.bounce' },
};

export const ORIGIN_KEYS: Record<'smtp' | 'dsn' | 'local', string> = {
  smtp: 'queue.detail.origins.smtp',
  dsn: 'queue.detail.origins.dsn',
  local: 'queue.detail.origins.local',
};

export const RECIPIENT_STATUS_KEYS: Record<'queued' | 'deferred' | 'delivered' | 'bounced', string> = {
  queued: 'queue.detail.status.queued',
  deferred: 'queue.detail.status.deferred',
  delivered: 'queue.detail.status.delivered',
  bounced: 'queue.detail.status.bounced',
};

/** Every key above. */
export const QUEUE_COMPUTED_KEYS: string[] = [
  ...Object.values(STATE_KEYS),
  ...Object.values(COLUMN_KEYS),
  ...Object.values(ACTION_KEYS).flatMap((a) => Object.values(a)),
  ...Object.values(ORIGIN_KEYS),
  ...Object.values(RECIPIENT_STATUS_KEYS),
];
