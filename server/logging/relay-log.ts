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
  level?: pino.Level;
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
  const lines = new EventEmitter<{ line: [Record<string, unknown>] }>();
  const logger = pino(
    { level: opts.level ?? 'info', base: undefined, timestamp: pino.stdTimeFunctions.epochTime, messageKey: 'msg' },
    dest,
  );

  async function rotate(): Promise<void> {
    rotating = true;
    try {
      dest.flushSync();
      for (let i = maxFiles - 1; i >= 1; i--) await fs.rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
      await fs.rename(file, `${file}.1`).catch(() => undefined);
      await fs.rm(`${file}.${maxFiles + 1}`, { force: true });
      dest.reopen();
      written = 0;
    } finally {
      rotating = false;
    }
  }

  return {
    file,
    lines,
    event(name, fields, level = 'info') {
      const obj = { event: name, ...fields };
      logger[level](obj);
      const line = { time: Date.now(), level, ...obj };
      if (opts.echo) process.stdout.write(JSON.stringify(line) + '\n');
      lines.emit('line', line);
      written += 200; // estimate: exact byte counts would mean serialising twice
      if (written > maxFileBytes && !rotating) {
        written = safeSize(file);
        if (written > maxFileBytes) void rotate();
      }
    },
    flush: () => new Promise<void>((resolve) => dest.flush(() => resolve())),
    close: () =>
      new Promise<void>((resolve) => {
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
