/**
 * Benchmark (not a test): how long Spool.open takes on a queue of N messages, and what it costs in
 * memory. Writes the spool files directly (as a previous run would have left them), then opens it.
 *   npx tsx test/bench/queue-open.ts [count=100000] [bodyBytes=2000]
 * Also times N concurrent commits through the real write path (fsync + group-committed dir fsync).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { makeTempDir } from '../support/temp-dir.ts';
import { Spool } from '../../server/queue/spool.ts';
import { newQueueId } from '../../server/queue/queue-id.ts';
import type { Envelope } from '../../server/queue/types.ts';

const count = Number(process.argv[2] ?? 100_000);
const bodyBytes = Number(process.argv[3] ?? 2000);
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

const tmp = makeTempDir('relaydesk-bench-');
try {
  const msgDir = path.join(tmp.path, 'queue', 'msg');
  const stateDir = path.join(tmp.path, 'queue', 'state');
  mkdirSync(msgDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const body = Buffer.alloc(bodyBytes, 'x');
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const env: Envelope = {
      id: newQueueId(t0 - count + i),
      receivedAt: t0 - count + i,
      sender: `sender${i % 977}@example.com`,
      recipients: [`rcpt${i}@example.net`, `other${i % 13}@example.org`],
      client: { ip: '192.0.2.10', hostname: 'client.example.com', helo: 'client.example.com', authUser: null, tls: true },
      bodyType: '8bitmime',
      smtpUtf8: false,
      origin: 'smtp',
    };
    writeFileSync(path.join(msgDir, env.id), Buffer.concat([Buffer.from(JSON.stringify(env) + '\n'), body]));
    // Every tenth message has been tried before, so it has a state file.
    if (i % 10 === 0) {
      const recipients = env.recipients.map((address) => ({ address, status: 'deferred', attempts: 1, lastAttemptAt: t0, lastReply: '451 4.7.1 try later', nextHop: 'mx.example.net[198.51.100.7]:25' }));
      writeFileSync(path.join(stateDir, `${env.id}.json`), JSON.stringify({ v: 1, recipients, held: false, nextAttemptAt: t0 + 300_000, attempts: 1, delayWarned: false }));
    }
  }
  console.log(`wrote ${count} messages of ${bodyBytes} bytes in ${Date.now() - t0} ms`);

  globalThis.gc?.();
  const before = process.memoryUsage();
  const start = performance.now();
  const spool = await Spool.open(tmp.path);
  const ms = performance.now() - start;
  globalThis.gc?.();
  const after = process.memoryUsage();
  console.log(`Spool.open: ${spool.size} messages in ${ms.toFixed(0)} ms`);
  console.log(`RSS ${mb(after.rss)} (+${mb(after.rss - before.rss)}), heap used +${mb(after.heapUsed - before.heapUsed)}${globalThis.gc ? '' : ' (run with node --expose-gc for exact heap numbers)'}`);

  const commits = 1000;
  const cStart = performance.now();
  const syncsBefore = spool.messageDirSyncs;
  await Promise.all(
    Array.from({ length: commits }, async () => {
      const w = spool.createWriter({
        sender: 'a@example.com',
        recipients: ['b@example.net'],
        client: { ip: '127.0.0.1', hostname: null, helo: 'localhost', authUser: null, tls: false },
        bodyType: '7bit',
        smtpUtf8: false,
        origin: 'smtp',
      });
      await pipeline(Readable.from([body]), w);
      await w.commit();
    }),
  );
  const cMs = performance.now() - cStart;
  console.log(`${commits} concurrent commits: ${cMs.toFixed(0)} ms (${((commits / cMs) * 1000).toFixed(0)}/s), ${spool.messageDirSyncs - syncsBefore} dir fsyncs`);
} finally {
  tmp.remove();
}
