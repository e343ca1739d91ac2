/**
 * `queue.*` on the running relay: lists and details come from the spool's index in memory (headers
 * from the first bytes of the message file), changes go through the scheduler, which orders them
 * with any delivery attempt running for the same message.
 */
import { listQueue, messageState, selectQueue } from '../control/queue-view.ts';
import type { RelayControlApi } from '../control/relay-control-api.ts';
import { readHeaderBlock } from '../delivery/dsn.ts';
import { ControlError, type QueueSelection } from '../protocol/index.ts';
import type { Relay } from './relay.ts';
import { parseHeaderFields } from './header-fields.ts';

/** What the queue handlers need from the relay. */
export type QueueHost = Pick<Relay, 'spool' | 'flow'>;

type QueueHandlers = Pick<
  RelayControlApi,
  'queue.list' | 'queue.show' | 'queue.retry' | 'queue.hold' | 'queue.release' | 'queue.delete' | 'queue.bounce' | 'queue.flush'
>;

/** The largest header block `queue.show` reads. */
const HEADER_BYTES = 64 * 1024;

export function queueHandlers(relay: QueueHost, now: () => number = Date.now): QueueHandlers {
  const { spool } = relay;
  const scheduler = () => relay.flow.scheduler;
  const ids = (sel: QueueSelection): string[] => selectQueue(spool.entries(), sel, now()).map((e) => e.envelope.id);
  const notFound = (id: string) => new ControlError('NOT_FOUND', `message ${id} is not in the queue (delivered, bounced or deleted meanwhile?)`);

  return {
    'queue.list': async (p) => listQueue(spool.entries(), p, now()),
    'queue.show': async (p) => {
      const entry = spool.get(p.id);
      if (!entry) throw notFound(p.id);
      let block: Buffer;
      try {
        block = await readHeaderBlock(spool.openBody(p.id, { maxBytes: HEADER_BYTES }), HEADER_BYTES);
      } catch (err) {
        // Removed between the lookup and the read: it is gone, not broken.
        if (!spool.has(p.id)) throw notFound(p.id);
        throw err;
      }
      return {
        state: messageState(entry),
        envelope: entry.envelope,
        size: entry.size,
        recipients: entry.recipients,
        held: entry.held,
        nextAttemptAt: entry.nextAttemptAt,
        attempts: entry.attempts,
        delayWarned: entry.delayWarned,
        headers: parseHeaderFields(block),
      };
    },
    'queue.retry': async (sel) => ({ affected: await scheduler().retry(ids(sel)) }),
    'queue.hold': async (sel) => ({ affected: await scheduler().hold(ids(sel)) }),
    'queue.release': async (sel) => ({ affected: await scheduler().release(ids(sel)) }),
    'queue.delete': async (sel) => ({ affected: await scheduler().delete(ids(sel)) }),
    'queue.bounce': async (sel) => ({ affected: await scheduler().bounce(ids(sel)) }),
    'queue.flush': async () => ({ affected: await scheduler().flush() }),
  };
}
