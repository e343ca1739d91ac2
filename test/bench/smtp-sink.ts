/**
 * Postfix's `smtp-sink` as the next hop of a benchmarked peer, with a delivery counter. `-c` makes it
 * print `sess=N quit=N mesg=N\r` whenever a message ends ("." received) or a session ends; the last
 * `mesg=` is the number of messages delivered to it. It handles well over 10 000 msg/s on loopback,
 * so it is never the bottleneck, and it throws messages away (no disk).
 */
import { spawn } from 'node:child_process';
import { freePort } from '../support/free-port.ts';
import { waitForSmtpGreeting } from '../support/postfix.ts';

const SMTP_SINK = '/usr/sbin/smtp-sink';

/** A running smtp-sink. */
export interface SmtpSink {
  port: number;
  /** Messages received so far. */
  delivered(): number;
  /** Resolve true once `count` messages have arrived, false after `timeoutMs`. */
  waitForCount(count: number, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const args = [...(asRoot ? ['-u', 'nobody'] : []), '-c', '-m', '512', `127.0.0.1:${port}`, '1000'];
  const child = spawn(SMTP_SINK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let count = 0;
  let pending = '';
  let stderr = '';
  let exited: string | undefined;
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    const cut = pending.lastIndexOf('\r');
    if (cut < 0) return;
    const m = /mesg=(\d+)[^\r]*$/.exec(pending.slice(0, cut));
    pending = pending.slice(cut + 1);
    if (m) {
      count = Number(m[1]);
      for (const w of [...waiters]) w();
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2_000);
  });
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `smtp-sink exited (${signal ?? code}): ${stderr.trim()}`;
      for (const w of [...waiters]) w();
      resolve();
    });
    child.once('error', (err) => {
      exited = `cannot run ${SMTP_SINK}: ${err.message}`;
      resolve();
    });
  });

  // Last resort if the host process exits without calling stop().
  const onExit = () => {
    if (exited === undefined) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (exited === undefined) child.kill('SIGTERM');
    await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, 3_000))]);
    if (exited === undefined) child.kill('SIGKILL');
  };
  try {
    await waitForSmtpGreeting('127.0.0.1', port, 10_000, () => exited);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    delivered: () => count,
    waitForCount(target, timeoutMs) {
      if (count >= target) return Promise.resolve(true);
      return new Promise((resolve) => {
        const check = () => {
          if (count >= target || exited !== undefined) finish(count >= target);
        };
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(ok);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        waiters.add(check);
      });
    },
    stop,
  };
}
