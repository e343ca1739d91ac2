/**
 * Throughput benchmark: Postfix (private instance, its defaults, fsync before 250) against our relay
 * (the built bundle), each relaying to its own `smtp-sink`, fed by Postfix's `smtp-source`.
 *
 *   npx tsx test/bench/throughput-vs-postfix.ts [--json [FILE]] [--only postfix|relay] [--rounds 1]
 *       [--messages 2000] [--sessions 20] [--size 1024] [--warmup 1000] [--latency-seconds 5]
 *       [--latency-rate MSG_PER_S] [--relay-bundle dist/mailrelay.mjs]
 *
 * Per peer: a warm-up of 1000 messages (Node's JIT and Postfix's process pools both start cold),
 * then `smtp-source -s 20 -m 2000 -l 1024` with a new connection per message and again with `-d`
 * (each session sends all its messages over one connection), `--rounds` times (the table shows
 * medians). Then an open-loop client sends at half the peer's peak accept rate and
 * records accept latency (MAIL FROM to the 250 after DATA). Peak memory of the peer's process tree
 * is sampled throughout. Needs root (private Postfix; smtp-sink -u nobody). Exits 1 if a peer could
 * not be measured, e.g. before `npm run build:relay` has produced the relay bundle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostfix } from '../support/postfix.ts';
import { medianOf, type ModeResult, type PeerName, type PeerResult } from './bench-results.ts';
import { sampleMemory } from './process-memory.ts';
import { measureAcceptLatency, type LatencyResult } from './rate-client.ts';
import { RELAY_BUNDLE, displayPath, startRelay } from './relay-peer.ts';
import { renderNotes, renderTable } from './report-table.ts';
import { startSmtpSink } from './smtp-sink.ts';
import { awaitDeliveries, killSmtpSources, measureThroughput, runSmtpSource, type SourceOptions } from './smtp-source.ts';

const USAGE =
  'usage: npx tsx test/bench/throughput-vs-postfix.ts [--json [FILE]] [--only postfix|relay] [--rounds N] [--messages N] ' +
  '[--sessions N] [--size BYTES] [--warmup N] [--latency-seconds S] [--latency-rate MSG_PER_S] [--relay-bundle FILE]';

interface Options {
  json: string | undefined;
  only: PeerName | undefined;
  relayBundle: string;
  rounds: number;
  messages: number;
  warmup: number;
  latencySeconds: number;
  latencyRate: number | undefined;
  source: SourceOptions;
}

interface RunningPeer {
  port: number;
  rootPid: number;
  stop(): Promise<void>;
}

// ---- cleanup on every exit path ------------------------------------------------------------------

const cleanups: (() => Promise<void> | void)[] = [killSmtpSources];
let interrupted = false;

async function runCleanups(): Promise<void> {
  for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
  }
}

/** Run `body` with `resource.stop` registered as a cleanup; stop it afterwards either way. */
async function using<T extends { stop(): Promise<void> | void }, R>(resource: T, body: (r: T) => Promise<R>): Promise<R> {
  const stop = () => resource.stop();
  cleanups.push(stop);
  try {
    return await body(resource);
  } finally {
    const i = cleanups.lastIndexOf(stop);
    if (i >= 0) cleanups.splice(i, 1);
    await stop();
  }
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    // A second signal skips the orderly stop; the peers' 'exit' hooks still kill what is left.
    if (interrupted) process.exit(code);
    interrupted = true;
    console.error(`\n${signal}: stopping peers and removing temp dirs…`);
    void runCleanups().finally(() => process.exit(code));
  });
}

// ---- arguments -----------------------------------------------------------------------------------

function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: undefined,
    only: undefined,
    relayBundle: RELAY_BUNDLE,
    rounds: 1,
    messages: 2000,
    warmup: 1000,
    latencySeconds: 5,
    latencyRate: undefined,
    source: { sessions: 20, size: 1024, from: 'from@bench.test', to: 'to@bench.test', deliveryTimeoutMs: 180_000, cancelled: () => interrupted },
  };
  const int = (name: string, v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--json') o.json = argv[i + 1] && !argv[i + 1]?.startsWith('--') ? next() : 'throughput-vs-postfix.json';
    else if (a === '--only') {
      const v = next();
      if (v !== 'postfix' && v !== 'relay') throw new Error('--only takes postfix or relay');
      o.only = v;
    } else if (a === '--relay-bundle') o.relayBundle = path.resolve(next() ?? '');
    else if (a === '--rounds') o.rounds = int(a, next(), 1, 50);
    else if (a === '--messages') o.messages = int(a, next(), 1, 1_000_000);
    else if (a === '--sessions') o.source.sessions = int(a, next(), 1, 500);
    else if (a === '--size') o.source.size = int(a, next(), 1, 10_000_000);
    else if (a === '--warmup') o.warmup = int(a, next(), 0, 100_000);
    else if (a === '--latency-seconds') o.latencySeconds = int(a, next(), 1, 600);
    else if (a === '--latency-rate') o.latencyRate = int(a, next(), 1, 100_000);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}\n${USAGE}`);
  }
  return o;
}

// ---- one peer ------------------------------------------------------------------------------------

async function startPeer(name: PeerName, sinkPort: number, o: Options): Promise<RunningPeer> {
  if (name === 'postfix') {
    const pf = await startPostfix({ sinkPort });
    return { port: pf.port, rootPid: pf.masterPid, stop: pf.stop };
  }
  const relay = await startRelay({ sinkPort, bundle: o.relayBundle });
  return { port: relay.port, rootPid: relay.pid, stop: relay.stop };
}

function progress(name: PeerName, what: string): void {
  if (!interrupted) console.error(`[${name}] ${what}`);
}

const describe = (m: ModeResult) =>
  m.error ? `FAILED: ${m.error}` : `${m.acceptedPerSecond?.toFixed(0)} msg/s accepted, ${m.deliveredPerSecond?.toFixed(0)} msg/s delivered`;

async function benchPeer(name: PeerName, o: Options): Promise<PeerResult> {
  const s = o.source;
  return using(await startSmtpSink(), async (sink) =>
    using(await startPeer(name, sink.port, o), async (peer) => {
      const memory = sampleMemory(peer.rootPid);
      try {
        if (o.warmup > 0) {
          progress(name, `warm-up: ${o.warmup} messages`);
          const base = sink.delivered();
          await runSmtpSource(peer.port, o.warmup, s, false);
          if (!(await awaitDeliveries(sink, base + o.warmup, s))) {
            throw new Error(`only ${sink.delivered() - base} of ${o.warmup} warm-up messages reached the sink`);
          }
        }
        const rounds = { newConnectionPerMessage: [] as ModeResult[], connectionReuse: [] as ModeResult[] };
        for (let round = 1; round <= o.rounds && !interrupted; round++) {
          const tag = o.rounds > 1 ? ` (round ${round}/${o.rounds})` : '';
          progress(name, `smtp-source -s ${s.sessions} -m ${o.messages}, new connection per message${tag}`);
          rounds.newConnectionPerMessage.push(await measureThroughput(peer.port, sink, o.messages, s, false));
          progress(name, `  ${describe(rounds.newConnectionPerMessage.at(-1) as ModeResult)}`);
          progress(name, `smtp-source -s ${s.sessions} -m ${o.messages} -d, connection reuse${tag}`);
          rounds.connectionReuse.push(await measureThroughput(peer.port, sink, o.messages, s, true));
          progress(name, `  ${describe(rounds.connectionReuse.at(-1) as ModeResult)}`);
        }
        const fresh = medianOf(rounds.newConnectionPerMessage);
        const reuse = medianOf(rounds.connectionReuse);

        let latency: LatencyResult | null = null;
        const rate = o.latencyRate ?? Math.max(fresh.acceptedPerSecond ?? 0, reuse.acceptedPerSecond ?? 0) / 2;
        if (rate > 0 && !interrupted) {
          const count = Math.min(20_000, Math.max(200, Math.round(rate * o.latencySeconds)));
          progress(name, `accept latency: ${count} messages at ${rate.toFixed(0)} msg/s${o.latencyRate ? '' : ' (half the peak accept rate)'}`);
          const base = sink.delivered();
          latency = await measureAcceptLatency({ host: '127.0.0.1', port: peer.port, rate, count, from: s.from, to: s.to, bodyBytes: s.size });
          progress(name, `  p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms, ${latency.failed} failed`);
          await awaitDeliveries(sink, base + latency.accepted, s);
        }
        return { peer: name, newConnectionPerMessage: fresh, connectionReuse: reuse, rounds, latency, memory: await memory.stop() };
      } finally {
        await memory.stop();
      }
    }),
  );
}

// ---- main ----------------------------------------------------------------------------------------

/** Fraction of all CPUs' time spent busy over `ms` (from /proc/stat), to flag a noisy machine. */
async function cpuBusy(ms: number): Promise<number> {
  const read = () => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    return { idle: (f[3] ?? 0) + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

async function machine() {
  const pfVersion = spawnSync('/usr/sbin/postconf', ['-h', 'mail_version'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    postfix: pfVersion,
    kernel: os.release(),
    busyBeforeRun: await cpuBusy(1_000),
  };
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('run as root: the private Postfix and smtp-sink -u nobody need it');
  for (const bin of ['/usr/sbin/smtp-source', '/usr/sbin/smtp-sink', '/usr/sbin/postfix']) {
    if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install postfix`);
  }
  const peers: PeerName[] = o.only ? [o.only] : ['postfix', 'relay'];
  const notMeasured: Partial<Record<PeerName, string>> = {};
  if (peers.includes('relay') && !existsSync(o.relayBundle)) {
    notMeasured.relay = `relay not measured: ${displayPath(o.relayBundle)} not found — run \`npm run build:relay\` first`;
    console.error(`${notMeasured.relay} (measuring Postfix only)`);
  }
  const info = await machine();
  console.error(`${info.cpus} × ${info.cpuModel}, Node ${info.node}, Postfix ${info.postfix}`);
  if (info.busyBeforeRun > 0.1) {
    console.error(`note: CPUs ${(info.busyBeforeRun * 100).toFixed(0)}% busy before the run; other work on this machine skews the figures`);
  }

  const results: Partial<Record<PeerName, PeerResult>> = {};
  for (const name of peers) {
    if (notMeasured[name] || interrupted) continue;
    try {
      results[name] = await benchPeer(name, o);
    } catch (err) {
      if (interrupted) break;
      notMeasured[name] = `${name} not measured: ${(err as Error).message}`;
      console.error(notMeasured[name]);
    }
  }
  if (interrupted) return 130;

  const s = o.source;
  console.log(
    `\nsmtp-source -s ${s.sessions} -m ${o.messages} -l ${s.size}${o.rounds > 1 ? `, median of ${o.rounds} rounds` : ''}; ` +
      `${info.cpus} CPUs, Node ${info.node}, Postfix ${info.postfix}` +
      `\nratio = relay / postfix (rates: higher is better; latency, memory: lower is better)\n`,
  );
  console.log(renderTable(results, notMeasured));
  for (const note of renderNotes(results)) console.log(note);
  if (o.json) {
    const { cancelled: _cancelled, ...source } = s;
    const options = { ...o, source };
    writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), machine: info, options, results, notMeasured }, null, 2) + '\n');
    console.log(`\nresults written to ${o.json}`);
  }
  const failures = Object.values(notMeasured);
  if (failures.length > 0) {
    console.error(`\n${failures.join('\n')}`);
    return 1;
  }
  return 0;
}

main()
  .catch((err: Error) => {
    console.error(`throughput-vs-postfix: ${err.message}`);
    return 1;
  })
  .then(async (code) => {
    await runCleanups();
    // Exit explicitly: a stray socket or timer must not keep a finished benchmark alive.
    process.exit(code);
  });
