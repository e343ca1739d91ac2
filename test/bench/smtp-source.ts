/**
 * Postfix's `smtp-source` as the load generator, and the two throughput figures of one run:
 * accepted = messages / smtp-source wall time; delivered = messages / time from its start until the
 * sink holds all of them (end to end).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ModeResult } from './bench-results.ts';
import type { SmtpSink } from './smtp-sink.ts';

const SMTP_SOURCE = '/usr/sbin/smtp-source';
const STALL_MS = 30_000;

/** What smtp-source sends and how long deliveries may take. */
export interface SourceOptions {
  sessions: number;
  size: number;
  from: string;
  to: string;
  deliveryTimeoutMs: number;
  /** Polled while waiting, so an interrupted run stops waiting at once. */
  cancelled: () => boolean;
}

const running = new Set<ChildProcess>();

/** Kill any smtp-source still running (for cleanup on signals). */
export function killSmtpSources(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Run smtp-source to completion (`reuse` = `-d`: one connection per session); resolves seconds. */
export function runSmtpSource(port: number, messages: number, o: SourceOptions, reuse: boolean): Promise<number> {
  const args = ['-s', String(o.sessions), '-m', String(messages), '-l', String(o.size), '-f', o.from, '-t', o.to];
  if (reuse) args.push('-d');
  args.push(`127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(SMTP_SOURCE, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('error', (err) => reject(new Error(`cannot run ${SMTP_SOURCE}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`smtp-source failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-2).join(' / ')}`));
    });
  });
}

/** Wait until the sink holds `target` messages; give up at the deadline or after 30 s without progress. */
export async function awaitDeliveries(sink: SmtpSink, target: number, o: SourceOptions): Promise<boolean> {
  const deadline = Date.now() + o.deliveryTimeoutMs;
  let last = sink.delivered();
  let lastChange = Date.now();
  while (Date.now() < deadline && !o.cancelled()) {
    if (await sink.waitForCount(target, 1_000)) return true;
    if (sink.delivered() !== last) {
      last = sink.delivered();
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) return false;
  }
  return false;
}

/** One measured smtp-source run against `port`, deliveries counted at `sink`. */
export async function measureThroughput(port: number, sink: SmtpSink, messages: number, o: SourceOptions, reuse: boolean): Promise<ModeResult> {
  const base = sink.delivered();
  const t0 = performance.now();
  let acceptSeconds: number | null = null;
  let error: string | undefined;
  try {
    acceptSeconds = await runSmtpSource(port, messages, o, reuse);
  } catch (err) {
    error = (err as Error).message;
  }
  // After a failed run we don't know how many were accepted: give what arrives a short while.
  const all = error ? await sink.waitForCount(base + messages, 5_000) : await awaitDeliveries(sink, base + messages, o);
  const deliverSeconds = (performance.now() - t0) / 1000;
  const delivered = sink.delivered() - base;
  if (!all && !error) error = `only ${delivered} of ${messages} delivered (gave up after ${deliverSeconds.toFixed(0)} s)`;
  return {
    acceptedPerSecond: acceptSeconds === null ? null : messages / acceptSeconds,
    deliveredPerSecond: all ? messages / deliverSeconds : null,
    acceptSeconds,
    deliverSeconds: all ? deliverSeconds : null,
    delivered,
    ...(error ? { error } : {}),
  };
}
