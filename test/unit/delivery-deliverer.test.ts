/**
 * The deliverer promises the scheduler a result per recipient and never to reject; should a bug break
 * that promise, the scheduler's own catch must be the only place the error goes — not an unhandled
 * rejection of the deliverer's bookkeeping, which would end the relay.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliverer } from '../../server/delivery/deliverer.ts';
import type { QueueEntry } from '../../server/queue/types.ts';

let rejections: unknown[];
const onRejection = (reason: unknown): void => void rejections.push(reason);
beforeEach(() => {
  rejections = [];
  process.on('unhandledRejection', onRejection);
});
afterEach(() => {
  process.off('unhandledRejection', onRejection);
});

const entry: QueueEntry = {
  envelope: {
    id: '0192f3a1c2d4-5f1a9c07e2',
    receivedAt: 0,
    sender: 's@corp.test',
    recipients: ['r@far.test'],
    client: { ip: '127.0.0.1', hostname: null, helo: 'h', authUser: null, tls: false },
    bodyType: '7bit',
    smtpUtf8: false,
    origin: 'smtp',
  },
  size: 10,
  recipients: [{ address: 'r@far.test', status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null }],
  held: false,
  nextAttemptAt: 0,
  attempts: 0,
  delayWarned: false,
};

describe('deliverer', () => {
  it('leaves a failure it did not turn into results to its caller only', async () => {
    const deliverer = createDeliverer({
      getConfig: () => {
        throw new Error('config broke');
      },
      log: { event: () => undefined },
    });
    await expect(deliverer.deliver(entry, ['r@far.test'], () => Readable.from([]))).rejects.toThrow('config broke');
    // Unhandled rejections are reported at the end of a turn: let one pass.
    await new Promise((r) => setImmediate(r));
    expect(rejections).toEqual([]);
    await deliverer.close();
  });
});
