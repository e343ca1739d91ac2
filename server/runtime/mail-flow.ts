/**
 * The outbound half of the relay: the scheduler decides when, delivery decides how, and this glue
 * turns bounces and delay warnings into DSN messages that go back into the same durable queue.
 */
import type { RelayConfig } from '../config/schema.ts';
import type { RelayLog } from '../logging/relay-log.ts';
import type { Spool } from '../queue/spool.ts';
import { Scheduler, type BounceReason } from '../queue/scheduler.ts';
import type { QueueEntry, RecipientState } from '../queue/types.ts';
import { createDeliverer, type Deliverer } from '../delivery/deliverer.ts';
import { createThreadedDeliverer } from '../delivery/delivery-thread.ts';

/** Set (true) by the bundler in dist/mailrelay.mjs; undefined when running from the sources. */
declare const __MAILRELAY_BUNDLE__: boolean | undefined;
import { bounceRecipients, composeDsn, dsnRecipientFromState, readHeaderBlock } from '../delivery/dsn.ts';

export interface MailFlowOptions {
  getConfig(): RelayConfig;
  log: RelayLog;
  spool: Spool;
  /** Port for direct MX delivery (25; tests set MAILRELAY_DIRECT_PORT to reach loopback sinks). */
  directPort?: number;
  count?(name: 'delivered' | 'deferred' | 'bounced', n?: number): void;
}

export interface MailFlow {
  readonly scheduler: Scheduler;
  readonly deliverer: Deliverer;
  /** A message was committed to the spool: try it now. */
  enqueue(entry: QueueEntry): void;
  start(): void;
  configChanged(): void;
  stop(): Promise<void>;
}

export function createMailFlow(opts: MailFlowOptions): MailFlow {
  const { spool, log } = opts;
  const envPort = Number(process.env.MAILRELAY_DIRECT_PORT);
  const directPort = opts.directPort ?? (Number.isInteger(envPort) && envPort > 0 ? envPort : undefined);
  // In a thread of its own where the relay runs from its bundle (see delivery-thread.ts);
  // MAILRELAY_DELIVERY_THREAD=0 keeps it in-process.
  const threaded = typeof __MAILRELAY_BUNDLE__ !== 'undefined' && process.env.MAILRELAY_DELIVERY_THREAD !== '0';
  const deliverer: Deliverer & { configChanged?(): void } = threaded
    ? createThreadedDeliverer({ getConfig: opts.getConfig, log, directPort, bodyOf: (id) => spool.bodyBuffer(id) ?? spool.bodyFile(id) })
    : createDeliverer({ getConfig: opts.getConfig, log, directPort });

  async function queueDsn(entry: QueueEntry, states: RecipientState[], kind: 'failure' | 'delay', reason: string): Promise<void> {
    const config = opts.getConfig();
    const to = bounceRecipients(entry, config, kind);
    if (to.length === 0) {
      log.event('dsn', { id: entry.envelope.id, kind, reason, sent: false, why: 'no one to report to (null sender and no external postmaster)' }, 'warn');
      return;
    }
    // A message file that cannot be read (gone, damaged) must not cost the report: it goes without the headers.
    const originalHeaders = await (async () => readHeaderBlock(spool.openBody(entry.envelope.id)))().catch((err: unknown) => {
      log.event('error', { what: 'dsn', id: entry.envelope.id, msg: `original headers not readable: ${err instanceof Error ? err.message : String(err)}` }, 'warn');
      return Buffer.alloc(0);
    });
    const willRetryUntil = entry.envelope.receivedAt + config.queue.maxLifetimeHours * 3_600_000;
    const dsn = composeDsn({
      entry,
      kind,
      recipients: states.map((s) => dsnRecipientFromState(s, kind === 'failure' ? 'failed' : 'delayed', kind === 'delay' ? willRetryUntil : null)),
      reportingMta: config.general.profile.hostname,
      to,
      originalHeaders,
      now: Date.now(),
    });
    const writer = spool.createWriter({
      sender: '',
      recipients: dsn.recipients,
      client: { ip: '127.0.0.1', hostname: null, helo: config.general.profile.hostname, authUser: null, tls: false },
      bodyType: dsn.bodyType,
      smtpUtf8: dsn.smtpUtf8,
      origin: 'dsn',
    });
    writer.end(dsn.message);
    const queued = await writer.commit();
    log.event('dsn', { id: queued.envelope.id, about: entry.envelope.id, kind, reason, to: dsn.recipients, recipients: states.map((s) => s.address) });
    scheduler.enqueue(queued);
  }

  const scheduler = new Scheduler({
    spool,
    config: opts.getConfig().queue,
    log,
    deliver: async (entry, recipients) => {
      const id = entry.envelope.id;
      let results;
      try {
        results = await deliverer.deliver(entry, recipients, () => spool.bodyBuffer(id) ?? spool.openBody(id));
      } finally {
        // Kept in memory for the first attempt only: a deferred message waits on disk, not in RAM.
        spool.forgetBody(id);
      }
      // Bounces are counted in onBounce, which also sees expiries and admin bounces.
      for (const r of results) if (r.outcome !== 'failed') opts.count?.(r.outcome);
      return results;
    },
    onBounce: async (entry, failed, reason: BounceReason) => {
      await queueDsn(entry, failed, 'failure', reason);
      // Counted once the bounce is final: one whose DSN could not be queued is tried (and counted) again.
      opts.count?.('bounced', failed.length);
    },
    onDelayWarning: (entry, pending) => queueDsn(entry, pending, 'delay', 'delay-warning'),
  });

  return {
    scheduler,
    deliverer,
    enqueue: (entry) => scheduler.enqueue(entry),
    start: () => scheduler.start(),
    configChanged: () => {
      scheduler.updateConfig(opts.getConfig().queue);
      deliverer.configChanged?.();
    },
    async stop() {
      await scheduler.stop(10_000);
      await deliverer.close();
    },
  };
}
