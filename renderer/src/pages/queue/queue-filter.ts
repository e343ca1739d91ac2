/**
 * The queue page's filter form and how it turns into the control API's `queue.list` filter: empty
 * fields are left out, ages are chosen from presets (seconds since acceptance).
 */
import type { QueueFilter } from '../../../../server/protocol/index.ts';

/** Which messages the list shows. */
export const QUEUE_STATES = ['all', 'active', 'deferred', 'held'] as const;
/** Which messages the list shows. */
export type QueueStateChoice = (typeof QUEUE_STATES)[number];

/** Age presets in seconds (0 = any). */
export const AGE_PRESETS = [0, 600, 3600, 4 * 3600, 86_400, 3 * 86_400] as const;

/** What the filter bar edits. */
export interface QueueFilterForm {
  state: QueueStateChoice;
  sender: string;
  recipient: string;
  domain: string;
  error: string;
  /** Only messages at least this old (seconds; 0 = any). */
  minAgeSeconds: number;
  /** Only messages at most this old (seconds; 0 = any). */
  maxAgeSeconds: number;
}

export function emptyFilter(): QueueFilterForm {
  return { state: 'all', sender: '', recipient: '', domain: '', error: '', minAgeSeconds: 0, maxAgeSeconds: 0 };
}

/** The control API's filter for a form: trimmed, empty criteria left out. */
export function toApiFilter(form: QueueFilterForm): QueueFilter {
  const f: QueueFilter = {};
  const sender = form.sender.trim();
  const recipient = form.recipient.trim();
  const domain = form.domain.trim().replace(/^@/, '').toLowerCase();
  const error = form.error.trim();
  if (sender) f.sender = sender;
  if (recipient) f.recipient = recipient;
  if (domain) f.domain = domain;
  if (error) f.error = error;
  if (form.minAgeSeconds > 0) f.minAgeSeconds = form.minAgeSeconds;
  if (form.maxAgeSeconds > 0) f.maxAgeSeconds = form.maxAgeSeconds;
  return f;
}

/** Whether any criterion besides the state is set. */
export function hasCriteria(form: QueueFilterForm): boolean {
  return Object.keys(toApiFilter(form)).length > 0;
}
