/**
 * Our relay as a benchmark peer: the bundle `dist/mailrelay.mjs` (what users run), a temp data dir,
 * one plain-text listener on a free loopback port and the sink as relay host. Its logs go straight to
 * a file (not through this process), as Postfix's go to its maillog.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/free-port.ts';
import { waitForSmtpGreeting } from '../support/postfix.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** The relay bundle built by `npm run build:relay`. */
export const RELAY_BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/mailrelay.mjs');

/** A running relay process. */
export interface RelayPeer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export function relayConfig(port: number, sinkPort: number): unknown {
  return {
    listeners: [{ name: 'smtp', host: '127.0.0.1', port, tls: 'none' }],
    delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sinkPort, security: 'none' } },
  };
}

export async function startRelay(opts: { sinkPort: number; bundle?: string; readyTimeoutMs?: number }): Promise<RelayPeer> {
  const bundle = opts.bundle ?? RELAY_BUNDLE;
  if (!existsSync(bundle)) throw new Error(`${displayPath(bundle)} not found: run \`npm run build:relay\` first`);
  const tmp = makeTempDir('relaydesk-bench-relay-');
  const port = await freePort();
  const dataDir = path.join(tmp.path, 'data');
  const configFile = path.join(tmp.path, 'config.json');
  writeFileSync(configFile, JSON.stringify(relayConfig(port, opts.sinkPort), null, 2));
  const logFile = path.join(tmp.path, 'relay.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [bundle, 'serve', '--data-dir', dataDir, '--config', configFile], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `relay exited (${signal ?? code})`;
      resolve();
    });
    child.once('error', (err) => {
      exited = `cannot start the relay: ${err.message}`;
      resolve();
    });
  });
  const logTail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '');

  let stopped = false;
  const onExit = () => {
    if (!stopped) {
      child.kill('SIGKILL');
      tmp.remove();
    }
  };
  process.once('exit', onExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (exited === undefined) child.kill('SIGTERM');
    await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, 10_000))]);
    if (exited === undefined) {
      child.kill('SIGKILL');
      await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, 2_000))]);
    }
    tmp.remove();
  };

  try {
    await waitForSmtpGreeting('127.0.0.1', port, opts.readyTimeoutMs ?? 20_000, () => exited);
  } catch (err) {
    const tail = logTail();
    await stop();
    throw new Error(`relay did not start: ${(err as Error).message}${tail ? `\n${tail}` : ''}`);
  }
  if (child.pid === undefined) throw new Error('relay has no pid');
  return { port, pid: child.pid, stop };
}
