/**
 * Delivery in a worker thread of its own: the deliverer (nodemailer sessions, DNS, TLS towards the
 * next hops) runs there, so the main thread keeps its time for SMTP intake.
 *
 * Why: measured on a 2-core machine with a new client connection per message, the main thread was
 * what capped the relay (about 0.8 ms per message, a fifth of it delivery) while the other core still
 * had room. The thread runs the relay's own bundle file (`import.meta.url`; the CLI entry starts
 * `runDeliveryThread` when it finds itself in a worker with this role), so the relay stays one file.
 * Run from the TypeScript sources (tsx, tests) the deliverer stays in-process: a worker could not
 * load them.
 *
 * The main side keeps the Deliverer contract: deliver() never rejects (a thread that dies turns what
 * it had into deferrals and is started again), stats() answers at once from the thread's last report.
 */
import { createReadStream } from 'node:fs';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import type { RelayConfig } from '../config/schema.ts';
import type { RelayEventName, RelayLog } from '../logging/relay-log.ts';
import type { QueueEntry } from '../queue/types.ts';
import { createDeliverer, type Deliverer } from './deliverer.ts';
import type { PoolStats } from './smtp-client-pool.ts';
import type { RecipientResult } from './types.ts';

/** How long close() lets the thread finish before stopping it. */
const CLOSE_WAIT_MS = 5_000;

/** `workerData.mailrelayRole` of the delivery thread (checked by the CLI entry). */
export const DELIVERY_THREAD_ROLE = 'delivery';

/** Where a message's bytes are for the thread: in memory, or in its spool file from `start`. */
export type BodySource = Buffer | { path: string; start: number };

type ToThread =
  | { t: 'config'; config: RelayConfig }
  | { t: 'deliver'; seq: number; entry: QueueEntry; recipients: string[]; body: Uint8Array | null; file: { path: string; start: number } | null }
  | { t: 'close' };

type FromThread =
  | { t: 'result'; seq: number; results: RecipientResult[] }
  | { t: 'log'; name: RelayEventName; fields: Record<string, unknown>; level: 'info' | 'warn' | 'error' | undefined }
  | { t: 'stats'; stats: PoolStats }
  | { t: 'closed' };

interface ThreadData {
  mailrelayRole: string;
  config: RelayConfig;
  directPort: number | undefined;
}

/** The thread's program: a deliverer driven by messages from the main thread. */
export function runDeliveryThread(): void {
  const port = parentPort!;
  const data = workerData as ThreadData;
  let config = data.config;
  const post = (m: FromThread): void => port.postMessage(m);
  const deliverer = createDeliverer({
    getConfig: () => config,
    log: { event: (name, fields, level) => post({ t: 'log', name, fields, level }) },
    directPort: data.directPort,
  });
  let reported = '';
  const report = (): void => {
    const stats = deliverer.stats();
    const key = `${stats.open},${stats.idle},${stats.busy},${stats.waiting},${stats.created}`;
    if (key === reported) return;
    reported = key;
    post({ t: 'stats', stats });
  };
  // Sessions also close on their own (idle timeout): the main side's status follows within a second.
  const ticker = setInterval(report, 1000);
  port.on('message', (m: ToThread) => {
    if (m.t === 'config') config = m.config;
    else if (m.t === 'deliver') {
      const body = m.body ? Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength) : null;
      const file = m.file;
      const open = (): Buffer | ReturnType<typeof createReadStream> => body ?? createReadStream(file!.path, { start: file!.start });
      void deliverer.deliver(m.entry, m.recipients, open).then((results) => {
        post({ t: 'result', seq: m.seq, results });
        report();
      });
    } else {
      clearInterval(ticker);
      void deliverer.close().then(() => {
        report();
        post({ t: 'closed' });
      });
    }
  });
}

export interface ThreadedDelivererOptions {
  getConfig(): RelayConfig;
  log: Pick<RelayLog, 'event'>;
  directPort?: number;
  /** The bytes of a queued message: its buffer while the spool holds it, else where its file is. */
  bodyOf(id: string): BodySource;
  /** The thread's program (default: this bundle; tests give one that fails on purpose). */
  threadUrl?: URL;
}

/** A Deliverer whose work happens in the delivery thread; `configChanged` passes a reload on. */
export function createThreadedDeliverer(opts: ThreadedDelivererOptions): Deliverer & { configChanged(): void } {
  let worker: Worker | null = null;
  let seq = 0;
  let closed = false;
  const waiting = new Map<number, { recipients: string[]; resolve(r: RecipientResult[]): void }>();
  let stats: PoolStats = { open: 0, idle: 0, busy: 0, waiting: 0, created: 0 };
  let onClosed: (() => void) | null = null;

  const stopped = (w: Worker, why: string): void => {
    if (worker !== w) return;
    worker = null;
    stats = { ...stats, open: 0, idle: 0, busy: 0, waiting: 0 };
    const all = [...waiting.values()];
    waiting.clear();
    // Never a rejection: the scheduler retries deferrals.
    for (const p of all) p.resolve(p.recipients.map((recipient) => deferral(recipient, `the delivery thread stopped (${why})`)));
    onClosed?.();
    if (!closed) opts.log.event('error', { what: 'delivery', msg: `the delivery thread stopped (${why}); it starts again with the next delivery` }, 'error');
  };

  const thread = (): Worker => {
    if (worker) return worker;
    const data: ThreadData = { mailrelayRole: DELIVERY_THREAD_ROLE, config: opts.getConfig(), directPort: opts.directPort };
    const w = new Worker(opts.threadUrl ?? new URL(import.meta.url), { workerData: data, name: 'delivery' });
    w.on('message', (m: FromThread) => {
      if (m.t === 'result') {
        const p = waiting.get(m.seq);
        waiting.delete(m.seq);
        p?.resolve(m.results);
      } else if (m.t === 'log') opts.log.event(m.name, m.fields, m.level);
      else if (m.t === 'stats') stats = m.stats;
      else onClosed?.();
    });
    w.on('error', (err) => stopped(w, err.message));
    w.on('exit', (code) => stopped(w, `exit code ${code}`));
    worker = w;
    return w;
  };

  return {
    deliver(entry, recipients) {
      if (closed) return Promise.resolve(recipients.map((r) => deferral(r, 'delivery is shutting down')));
      let source: BodySource;
      try {
        source = opts.bodyOf(entry.envelope.id);
      } catch (err) {
        // Gone from the spool meanwhile (deleted by the administrator): nothing to send.
        return Promise.resolve(recipients.map((r) => deferral(r, `cannot read the message: ${(err as Error).message}`)));
      }
      let body: Uint8Array | null = null;
      let file: { path: string; start: number } | null = null;
      if (Buffer.isBuffer(source)) {
        // A copy with memory of its own, moved rather than cloned (the spool keeps its buffer).
        body = Buffer.allocUnsafeSlow(source.length);
        source.copy(body);
      } else file = source;
      const id = ++seq;
      return new Promise<RecipientResult[]>((resolve) => {
        waiting.set(id, { recipients, resolve });
        const msg: ToThread = { t: 'deliver', seq: id, entry, recipients, body, file };
        try {
          thread().postMessage(msg, body ? [body.buffer as ArrayBuffer] : []);
        } catch (err) {
          waiting.delete(id);
          resolve(recipients.map((r) => deferral(r, `cannot hand the message to the delivery thread: ${(err as Error).message}`)));
        }
      });
    },
    stats: () => stats,
    configChanged() {
      worker?.postMessage({ t: 'config', config: opts.getConfig() } satisfies ToThread);
    },
    async close() {
      closed = true;
      const w = worker;
      if (!w) return;
      await new Promise<void>((resolve) => {
        // The scheduler has already given deliveries in flight their time to finish (see its stop):
        // a thread still stuck with one (a next hop that never answers) is stopped, its messages stay queued.
        const timer = setTimeout(resolve, CLOSE_WAIT_MS);
        onClosed = () => {
          clearTimeout(timer);
          resolve();
        };
        w.postMessage({ t: 'close' } satisfies ToThread);
      });
      // What it did not finish comes back as deferrals: those messages are tried again after the restart.
      stopped(w, 'the relay is stopping');
      await w.terminate();
    },
  };
}

function deferral(recipient: string, reason: string): RecipientResult {
  return { recipient, outcome: 'deferred', code: null, enhanced: '4.3.0', reply: reason, nextHop: '(none)', durationMs: 0, category: 'local' };
}
