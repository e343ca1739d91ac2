/**
 * The delivery thread (server/delivery/delivery-thread.ts): the relay bundle run as a worker with the
 * delivery role delivers to a real SMTP sink, from memory or from a spool file, takes config
 * reloads, and reports its log lines, pool counters and the end of its work. The main side never
 * rejects, also when the thread dies (a stand-in program that exits), and starts a new one. Every
 * relay-process test runs the bundle, so delivery there goes through the thread as well.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { relayConfigSchema, type RelayConfig } from '../../server/config/schema.ts';
import { DELIVERY_THREAD_ROLE, createThreadedDeliverer } from '../../server/delivery/delivery-thread.ts';
import type { QueueEntry } from '../../server/queue/types.ts';
import { RELAY_BUNDLE } from '../bench/relay-peer.ts';
import { freePort } from '../support/free-port.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

let sink: SmtpSink;
let tmp: TempDir;
let config: RelayConfig;

beforeAll(async () => {
  sink = await startSmtpSink();
  tmp = makeTempDir('relaydesk-delivery-thread-');
  config = relayConfigSchema.parse({ delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } } });
});

afterAll(async () => {
  await sink?.close();
  tmp?.remove();
});

function entry(id: string, recipients: string[]): QueueEntry {
  return {
    envelope: { id, receivedAt: Date.now(), sender: 'alice@example.org', recipients, client: { ip: '127.0.0.1', hostname: null, helo: 'localhost', authUser: null, tls: false }, bodyType: '8bitmime', smtpUtf8: false, origin: 'smtp' },
    size: 0,
    recipients: recipients.map((address) => ({ address, status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null })),
    held: false,
    nextAttemptAt: 0,
    attempts: 0,
    delayWarned: false,
  };
}

type FromThread = { t: 'result'; seq: number; results: Array<{ recipient: string; outcome: string }> } | { t: 'log'; name: string; fields: Record<string, unknown> } | { t: 'stats'; stats: { created: number } } | { t: 'closed' };

describe('delivery thread', () => {
  it('the relay bundle, run as the delivery thread, delivers from memory and from a spool file and reports back', async () => {
    const worker = new Worker(RELAY_BUNDLE, { workerData: { mailrelayRole: DELIVERY_THREAD_ROLE, config, directPort: undefined } });
    const seen: FromThread[] = [];
    worker.on('message', (m: FromThread) => seen.push(m));
    try {
      const inMemory = Buffer.from('Subject: from memory\r\n\r\n.dot first\r\nbody\r\n');
      const own = Buffer.allocUnsafeSlow(inMemory.length);
      inMemory.copy(own);
      worker.postMessage({ t: 'deliver', seq: 1, entry: entry('0192f3a1c2d4-0000000001', ['bob@example.com']), recipients: ['bob@example.com'], body: own, file: null }, [own.buffer]);
      // A message that waits in its spool file: envelope line, then the bytes from `start`.
      const fileBody = Buffer.from('Subject: from the file\r\n\r\nbody\r\n');
      const file = path.join(tmp.path, 'msg');
      const header = '{"envelope":"line"}\n';
      writeFileSync(file, Buffer.concat([Buffer.from(header), fileBody]));
      worker.postMessage({ t: 'deliver', seq: 2, entry: entry('0192f3a1c2d4-0000000002', ['carol@example.com']), recipients: ['carol@example.com'], body: null, file: { path: file, start: header.length } });

      await waitFor('both results', () => seen.filter((m) => m.t === 'result').length === 2);
      const results = seen.filter((m): m is Extract<FromThread, { t: 'result' }> => m.t === 'result').sort((a, b) => a.seq - b.seq);
      expect(results.map((r) => r.results.map((x) => [x.recipient, x.outcome]))).toEqual([[['bob@example.com', 'delivered']], [['carol@example.com', 'delivered']]]);
      const got = await sink.waitForMessages(2);
      expect(got.find((m) => m.to.includes('bob@example.com'))?.body.toString()).toContain('.dot first\r\nbody');
      expect(got.find((m) => m.to.includes('carol@example.com'))?.body.toString()).toContain('Subject: from the file');
      // Its pool counters come to the main thread…
      expect(seen.some((m) => m.t === 'stats' && m.stats.created >= 1)).toBe(true);

      // …a reloaded config applies to the next delivery, and its log lines come too.
      const down = await freePort();
      worker.postMessage({ t: 'config', config: relayConfigSchema.parse({ delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: down, security: 'none' } } }) });
      const again = Buffer.allocUnsafeSlow(inMemory.length);
      inMemory.copy(again);
      worker.postMessage({ t: 'deliver', seq: 3, entry: entry('0192f3a1c2d4-0000000005', ['frank@example.com']), recipients: ['frank@example.com'], body: again, file: null }, [again.buffer]);
      await waitFor('the third result', () => seen.some((m) => m.t === 'result' && m.seq === 3));
      expect(seen.find((m): m is Extract<FromThread, { t: 'result' }> => m.t === 'result' && m.seq === 3)?.results).toEqual([expect.objectContaining({ recipient: 'frank@example.com', outcome: 'deferred' })]);
      expect(seen.some((m) => m.t === 'log' && m.name === 'error' && String(m.fields.nextHop).includes(`:${down}`))).toBe(true);

      worker.postMessage({ t: 'close' });
      await waitFor('the thread to finish its work', () => seen.some((m) => m.t === 'closed'));
    } finally {
      await worker.terminate();
    }
  });

  it('a thread that dies turns its deliveries into deferrals, logs why, starts again for the next one, and never rejects', async () => {
    // A stand-in program that takes the first delivery and ends its thread (as a crash would), then
    // answers every later one as delivered.
    const program = path.join(tmp.path, 'dying-thread.mjs');
    const marker = path.join(tmp.path, 'died-once');
    writeFileSync(
      program,
      `import { parentPort } from 'node:worker_threads';
       import { existsSync, writeFileSync } from 'node:fs';
       parentPort.on('message', (m) => {
         if (m.t === 'close') return parentPort.postMessage({ t: 'closed' });
         if (m.t !== 'deliver') return;
         if (!existsSync(${JSON.stringify(marker)})) { writeFileSync(${JSON.stringify(marker)}, ''); process.exit(3); }
         parentPort.postMessage({ t: 'result', seq: m.seq, results: m.recipients.map((recipient) => ({ recipient, outcome: 'delivered', code: 250, enhanced: '2.0.0', reply: '250 ok', nextHop: 'stand-in', durationMs: 0 })) });
       });`,
    );
    const logged: Array<{ name: string; fields: Record<string, unknown> }> = [];
    const deliverer = createThreadedDeliverer({
      getConfig: () => config,
      log: { event: (name, fields) => logged.push({ name, fields }) },
      bodyOf: () => Buffer.from('Subject: x\r\n\r\nx\r\n'),
      threadUrl: pathToFileURL(program),
    });
    const first = await deliverer.deliver(entry('0192f3a1c2d4-0000000003', ['dave@example.com']), ['dave@example.com'], () => Buffer.alloc(0));
    expect(first).toEqual([expect.objectContaining({ recipient: 'dave@example.com', outcome: 'deferred', code: null, enhanced: '4.3.0', reply: 'the delivery thread stopped (exit code 3)' })]);
    expect(logged.some((l) => l.name === 'error' && /delivery thread stopped \(exit code 3\); it starts again/.test(String(l.fields.msg)))).toBe(true);
    expect(deliverer.stats()).toMatchObject({ open: 0, busy: 0 });
    // The next delivery starts a new thread.
    expect(await deliverer.deliver(entry('0192f3a1c2d4-0000000004', ['erin@example.com']), ['erin@example.com'], () => Buffer.alloc(0))).toEqual([
      expect.objectContaining({ recipient: 'erin@example.com', outcome: 'delivered' }),
    ]);

    // A message that is gone from the spool by the time it is tried: a deferral too, not a throw.
    const gone = createThreadedDeliverer({
      getConfig: () => config,
      log: { event: () => undefined },
      bodyOf: () => {
        throw new Error('no message 0192f3a1c2d4-0000000006 in the queue');
      },
      threadUrl: pathToFileURL(program),
    });
    expect(await gone.deliver(entry('0192f3a1c2d4-0000000006', ['gina@example.com']), ['gina@example.com'], () => Buffer.alloc(0))).toEqual([
      expect.objectContaining({ outcome: 'deferred', reply: 'cannot read the message: no message 0192f3a1c2d4-0000000006 in the queue' }),
    ]);
    await gone.close();

    await deliverer.close();
    expect(await deliverer.deliver(entry('0192f3a1c2d4-0000000005', ['frank@example.com']), ['frank@example.com'], () => Buffer.alloc(0))).toEqual([
      expect.objectContaining({ outcome: 'deferred', reply: 'delivery is shutting down' }),
    ]);
  });
});
