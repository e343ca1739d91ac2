/**
 * The relay's event log (SPEC §1.8): one JSON line per event in DIR/logs/relay.log, rotated by size
 * (relay.log → relay.log.1 … relay.log.N). Every line has `time` (epoch ms), `level` and `event`;
 * the rest depends on the event. The control API's logs.query reads these files back.
 */
import { promises as fs, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import pino from 'pino';

/** Names of the events the relay logs; logs.query filters on these. */
export type RelayEventName =
  | 'start'
  | 'stop'
  | 'reload'
  | 'connect'
  | 'disconnect'
  | 'auth'
  | 'reject'
  | 'discard'
  | 'queued'
  | 'delivered'
  | 'deferred'
  | 'bounced'
  | 'expired'
  | 'dsn'
  | 'error'
  | 'control';

export interface RelayLogOptions {
  dir: string;
  /** Rotate when the current file passes this size. */
  maxFileBytes?: number;
  /** Rotated files kept besides the current one. */
  maxFiles?: number;
  /** Also echo lines to stdout (for `serve` in the foreground). */
  echo?: boolean;
  /** Where echoed lines go (default process.stdout; tests pass their own). */
  echoTo?: NodeJS.WritableStream;
  level?: 'info' | 'warn' | 'error';
}

/** The logger every part of the relay writes events through. */
export interface RelayLog {
  event(name: RelayEventName, fields: Record<string, unknown>, level?: 'info' | 'warn' | 'error'): void;
  /** Every logged line, as an object, for live subscribers (logs.subscribe). */
  readonly lines: EventEmitter<{ line: [Record<string, unknown>] }>;
  readonly file: string;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export const LOG_FILE_NAME = 'relay.log';

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** The stdout echo's batching: written after this long, or once this much is waiting. */
const ECHO_FLUSH_MS = 20;
const ECHO_FLUSH_BYTES = 64 * 1024;

export function openRelayLog(opts: RelayLogOptions): RelayLog {
  mkdirSync(opts.dir, { recursive: true });
  const file = path.join(opts.dir, LOG_FILE_NAME);
  const maxFileBytes = opts.maxFileBytes ?? 20 * 1024 * 1024;
  const maxFiles = opts.maxFiles ?? 10;
  const dest = pino.destination({ dest: file, sync: false, mkdir: true, minLength: 4096 });
  // A full or failing disk must not take the relay down with it: mail intake answers 452 on its own;
  // the log reports the problem once on stderr and keeps trying.
  let reportedError = false;
  dest.on('error', (err: Error) => {
    if (reportedError) return;
    reportedError = true;
    process.stderr.write(`mailrelay: cannot write ${file}: ${err.message}\n`);
  });
  let written = safeSize(file);
  let rotating = false;
  const minLevel = LEVELS[opts.level ?? 'info'];
  const lines = new EventEmitter<{ line: [Record<string, unknown>] }>();
  // Each line is serialised once and handed to the file (SonicBoom buffers it) and, for `serve` in
  // the foreground, to stdout in batches: at most one write per ECHO_FLUSH_MS (stdout to a file or
  // a pipe is written synchronously; under load a write per event-loop turn was one per message).
  let echoBuffer: string[] = [];
  let echoBytes = 0;
  let echoTimer: NodeJS.Timeout | null = null;
  let echo = !!opts.echo;
  const echoTo = opts.echoTo ?? process.stdout;
  if (echo) {
    // stdout that went away (a closed pipe or terminal: EPIPE, EIO) would otherwise be an uncaught
    // 'error' that ends the relay; the log file still has every line, so the echo just stops.
    echoTo.on('error', (err: Error) => {
      if (!echo) return;
      echo = false;
      echoBuffer = [];
      process.stderr.write(`mailrelay: stopped echoing the log to stdout: ${err.message}\n`);
    });
  }
  const flushEcho = () => {
    if (echoTimer) clearTimeout(echoTimer);
    echoTimer = null;
    if (echoBuffer.length === 0) return;
    const chunk = echoBuffer.join('');
    echoBuffer = [];
    echoBytes = 0;
    if (echo) echoTo.write(chunk);
  };

  // Runs unawaited from event(): it must never reject (an unhandled rejection ends the process). No
  // flushSync before the rename: writes in flight land in the renamed file, reopen() waits for them,
  // and flushSync would retry a failing write (ENOSPC) forever with the event loop blocked.
  async function rotate(): Promise<void> {
    rotating = true;
    try {
      for (let i = maxFiles - 1; i >= 1; i--) await fs.rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
      await fs.rename(file, `${file}.1`).catch(() => undefined);
      await fs.rm(`${file}.${maxFiles + 1}`, { force: true }).catch(() => undefined);
      dest.reopen();
      written = 0;
    } catch (err) {
      process.stderr.write(`mailrelay: cannot rotate ${file}: ${(err as Error).message}\n`);
    } finally {
      rotating = false;
    }
  }

  return {
    file,
    lines,
    event(name, fields, level = 'info') {
      if (LEVELS[level] < minLevel) return;
      const line = { time: Date.now(), level, event: name, ...fields };
      const text = JSON.stringify(line) + '\n';
      dest.write(text);
      if (echo) {
        echoBuffer.push(text);
        echoBytes += text.length;
        if (echoBytes >= ECHO_FLUSH_BYTES) flushEcho();
        else echoTimer ??= setTimeout(flushEcho, ECHO_FLUSH_MS);
      }
      if (lines.listenerCount('line') > 0) lines.emit('line', line);
      written += text.length;
      if (written > maxFileBytes && !rotating) {
        written = safeSize(file);
        if (written > maxFileBytes) void rotate();
      }
    },
    flush: () => {
      flushEcho();
      return new Promise<void>((resolve) => dest.flush(() => resolve()));
    },
    close: () =>
      new Promise<void>((resolve) => {
        flushEcho();
        dest.flush(() => {
          dest.end();
          resolve();
        });
      }),
  };
}

function safeSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
