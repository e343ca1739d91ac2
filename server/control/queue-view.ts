/**
 * The queue as the control API shows it: queue entries turned into contract rows, filtered and paged
 * for `queue.list`, and selected for the bulk operations. Pure functions over QueueEntry, so the
 * relay's wiring only supplies the entries.
 */
import type { MessageState, QueueEntry } from '../queue/types.ts';
import type { ParsedParams, QueueFilter, QueueSelection, QueueSummary } from '../protocol/index.ts';

const isPending = (status: string): boolean => status === 'queued' || status === 'deferred';

/** held if held; deferred once a delivery round has failed for a pending recipient; else active. */
export function messageState(entry: QueueEntry): MessageState {
  if (entry.held) return 'held';
  const pending = entry.recipients.filter((r) => isPending(r.status));
  return entry.attempts > 0 || pending.some((r) => r.status === 'deferred') ? 'deferred' : 'active';
}

/** The last reply of a recipient that is still pending (or bounced), newest attempt first. */
function lastError(entry: QueueEntry): string | null {
  let best: { at: number; reply: string } | null = null;
  for (const r of entry.recipients) {
    if (r.status === 'delivered' || !r.lastReply) continue;
    const at = r.lastAttemptAt ?? 0;
    if (!best || at > best.at) best = { at, reply: r.lastReply };
  }
  return best?.reply ?? null;
}

/** One queue.list row. */
export function toQueueSummary(entry: QueueEntry): QueueSummary {
  const { envelope } = entry;
  return {
    id: envelope.id,
    receivedAt: envelope.receivedAt,
    sender: envelope.sender,
    recipients: entry.recipients.map((r) => r.address),
    pendingRecipients: entry.recipients.filter((r) => isPending(r.status)).length,
    size: entry.size,
    state: messageState(entry),
    attempts: entry.attempts,
    nextAttemptAt: entry.nextAttemptAt,
    lastError: lastError(entry),
    clientIp: envelope.client.ip,
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Whether an entry is in `state` and passes every criterion of `filter` (see queueFilterSchema). */
export function matchesQueueFilter(entry: QueueEntry, state: MessageState | 'all', filter: QueueFilter, now: number): boolean {
  if (state !== 'all' && messageState(entry) !== state) return false;
  const has = (hay: string, needle: string | undefined): boolean => needle === undefined || hay.toLowerCase().includes(needle.toLowerCase());
  if (!has(entry.envelope.sender, filter.sender)) return false;
  if (filter.recipient !== undefined && !entry.recipients.some((r) => has(r.address, filter.recipient))) return false;
  if (filter.domain !== undefined) {
    const d = filter.domain.toLowerCase().replace(/^\.+|\.+$/g, '');
    if (!entry.recipients.some((r) => domainOf(r.address) === d || domainOf(r.address).endsWith(`.${d}`))) return false;
  }
  if (filter.error !== undefined && !entry.recipients.some((r) => r.status !== 'delivered' && r.lastReply !== null && has(r.lastReply, filter.error))) return false;
  const ageSeconds = (now - entry.envelope.receivedAt) / 1000;
  if (filter.minAgeSeconds !== undefined && ageSeconds < filter.minAgeSeconds) return false;
  if (filter.maxAgeSeconds !== undefined && ageSeconds > filter.maxAgeSeconds) return false;
  return true;
}

/** queue.list over a set of entries: oldest first, one page. */
export function listQueue(entries: Iterable<QueueEntry>, params: ParsedParams<'queue.list'>, now: number): { total: number; items: QueueSummary[] } {
  const matching: QueueEntry[] = [];
  for (const e of entries) if (matchesQueueFilter(e, params.state, params.filter, now)) matching.push(e);
  matching.sort((a, b) => a.envelope.receivedAt - b.envelope.receivedAt || (a.envelope.id < b.envelope.id ? -1 : 1));
  return { total: matching.length, items: matching.slice(params.offset, params.offset + params.limit).map(toQueueSummary) };
}

/** The entries a bulk operation targets (ids that are not in `entries` are skipped). */
export function selectQueue(entries: Iterable<QueueEntry>, selection: QueueSelection, now: number): QueueEntry[] {
  const out: QueueEntry[] = [];
  if ('ids' in selection) {
    const ids = new Set(selection.ids);
    for (const e of entries) if (ids.has(e.envelope.id)) out.push(e);
  } else {
    for (const e of entries) if (matchesQueueFilter(e, selection.state, selection.filter, now)) out.push(e);
  }
  return out;
}
