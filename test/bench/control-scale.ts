/**
 * Benchmark (not a test): the control API at scale.
 *   npx tsx test/bench/control-scale.ts [messages=100000]
 * Needs the bundle (npm run build:relay) and, for the SSH figures, openssh-server.
 *
 * 1. Fills a data dir with N messages through the Spool API (real write path: fsync + rename),
 *    each with a persisted state: tried once and deferred for a day, every tenth one held.
 * 2. Starts the relay (the bundle) on it, delivery to a closed port: start-up time and RSS.
 * 3. queue.list first page and filtered pages, status, over the Unix socket.
 * 4. status round trips per second on an empty relay: over the socket and through sshd + dial-stdio
 *    (exec channel opened by the ssh2 library the app uses, and by the system ssh client).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { connectControl, openLocalControl, type ControlClient } from '../../server/control/control-client.ts';
import { Spool } from '../../server/queue/spool.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE, startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSshd } from '../support/sshd.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const count = Number(process.argv[2] ?? 100_000);
const DAY = 86_400_000;

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Median and max of `runs` timed calls, in ms. */
async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ median: number; max: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, max: ms[ms.length - 1]! };
}

/** Sequential status calls for `seconds`: round trips per second. */
async function statusRate(client: ControlClient, seconds = 3): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    await client.call('status');
    n++;
  }
  return n / seconds;
}

async function fillSpool(dataDir: string): Promise<number> {
  const spool = await Spool.open(dataDir);
  const t0 = Date.now();
  const body = Buffer.from(`Subject: bench\r\nFrom: x@example.com\r\n\r\n${'x'.repeat(1500)}\r\n`);
  let next = 0;
  const replies = ['451 4.7.1 greylisted, try again later', '421 4.7.0 too many connections from your host', 'connection failed: connect ECONNREFUSED'];
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const w = spool.createWriter({
        sender: `sender${i % 977}@corp${i % 7}.example`,
        recipients: [`rcpt${i}@example.net`, ...(i % 3 === 0 ? [`other${i % 13}@example.org`] : [])],
        client: { ip: '192.0.2.10', hostname: null, helo: 'app.corp.example', authUser: null, tls: false },
        bodyType: '7bit',
        smtpUtf8: false,
        origin: 'smtp',
        receivedAt: t0 - (count - i) * 1000,
      });
      await pipeline(Readable.from([body]), w);
      const entry = await w.commit();
      const recipients = entry.recipients.map((r) => ({ ...r, status: 'deferred' as const, attempts: 1, lastAttemptAt: t0, lastReply: replies[i % 3]!, nextHop: 'mx.example.net[198.51.100.7]:25' }));
      await spool.updateState(entry.envelope.id, { recipients, attempts: 1, nextAttemptAt: t0 + DAY, held: i % 10 === 0 });
    }
  };
  await Promise.all(Array.from({ length: 128 }, worker));
  return Date.now() - t0;
}

async function main(): Promise<void> {
  const out: string[] = [];
  const report = (line: string): void => {
    out.push(line);
    console.log(line);
  };
  const dir = makeTempDir('rd-bench-ctl-');
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => dir.remove()];
  try {
    const fillMs = await fillSpool(dir.path);
    report(`filled the spool: ${count} messages (with state) in ${(fillMs / 1000).toFixed(1)} s`);

    const closed = await freePort();
    const config = { delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: closed, security: 'none' } } };
    const t0 = performance.now();
    const relay: RelayProcess = await startRelayProcess({ dataDir: dir.path, tls: 'none', config });
    const startMs = performance.now() - t0;
    cleanups.unshift(() => relay.stop());
    const client = await openLocalControl(dir.path);
    const readyMs = performance.now() - t0;
    cleanups.unshift(() => client.close());
    report(`relay start-up with ${count} queued: ${startMs.toFixed(0)} ms to the start line, ${readyMs.toFixed(0)} ms to an authenticated control session (target < 3000 ms)`);
    report(`relay RSS after start: ${rssMiB(relay.child.pid!).toFixed(0)} MiB (target < 300 MiB)`);

    const status = await client.call('status');
    report(`queue: ${JSON.stringify(status.queue)}`);
    const cases: Array<[string, Parameters<ControlClient['call']>[1]]> = [
      ['queue.list first page (100)', {}],
      ['queue.list page 500 (offset 50 000)', { offset: 50_000, limit: 100 }],
      ['queue.list held', { state: 'held' }],
      ['queue.list filter domain+sender', { filter: { domain: 'example.org', sender: 'sender12' } }],
      ['queue.list filter error text', { state: 'deferred', filter: { error: 'greylisted' }, limit: 500 }],
      ['queue.list filter age > 1 day', { filter: { minAgeSeconds: 86_400 } }],
    ];
    for (const [name, params] of cases) {
      let total = 0;
      const t = await timed(10, async () => {
        total = (await client.call('queue.list', params as never)).total;
      });
      report(`${name}: median ${t.median.toFixed(1)} ms, max ${t.max.toFixed(1)} ms (matches ${total}; target < 200 ms)`);
    }
    const st = await timed(20, () => client.call('status'));
    report(`status with ${count} queued: median ${st.median.toFixed(1)} ms`);
    report(`relay RSS after the queries: ${rssMiB(relay.child.pid!).toFixed(0)} MiB`);
    await client.close();
    await relay.stop();
    cleanups.splice(0, 2);

    const empty = await startRelayProcess({ tls: 'none' });
    cleanups.unshift(() => empty.stop());
    const local = await openLocalControl(empty.dataDir);
    cleanups.unshift(() => local.close());
    await statusRate(local, 0.5); // warm-up
    report(`status round trips over the Unix socket (empty queue): ${(await statusRate(local)).toFixed(0)}/s`);

    let sshd;
    try {
      sshd = await startSshd();
    } catch (err) {
      report(`SSH: skipped (${(err as Error).message.split('\n')[0]})`);
    }
    if (sshd) {
      const s = sshd;
      cleanups.unshift(() => s.stop());
      const command = [process.execPath, RELAY_BUNDLE, 'dial-stdio', '--data-dir', empty.dataDir];
      for (const [via, open] of [
        ['ssh2 library', () => s.ssh2(command)],
        ['system ssh client', async () => s.ssh(command)],
      ] as const) {
        const t = performance.now();
        const session = await open();
        if (!session) {
          report(`SSH via ${via}: skipped (not installed)`);
          continue;
        }
        const remote = await connectControl(session.stream, { preAuthenticated: true });
        report(`SSH via ${via}: connect + dial-stdio ready in ${(performance.now() - t).toFixed(0)} ms`);
        await statusRate(remote, 0.5);
        report(`status round trips over SSH via ${via} (sshd + dial-stdio): ${(await statusRate(remote)).toFixed(0)}/s`);
        await remote.close();
      }
    }
  } finally {
    for (const c of cleanups) await c();
  }
}

await main();
