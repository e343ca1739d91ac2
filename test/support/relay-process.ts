/**
 * Start the real relay as a child process (the bundle `dist/mailrelay.mjs`, as users run it) with a
 * config written by the test, and follow its JSON log lines on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { EventEmitter } from 'node:events';
import { freePort } from './free-port.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';

export const RELAY_BUNDLE = path.resolve('dist/mailrelay.mjs');
/** The `mailrelay` command of this checkout (runs server/ through tsx). */
export const CHECKOUT_ENTRY = path.resolve('bin/mailrelay.js');

export interface RelayProcessOptions {
  /** Config (partial: the relay fills in defaults). `listeners` is set by the harness unless given. */
  config?: Record<string, unknown>;
  /** Reuse a data dir (e.g. to restart after a kill). */
  dataDir?: string;
  /** Reuse a port (restart). */
  port?: number;
  env?: Record<string, string>;
  /** TLS mode of the single listener the harness creates. */
  tls?: 'none' | 'starttls' | 'implicit';
  /**
   * What runs: the bundle (default, what users and the app run) or `bin/mailrelay.js` from this
   * checkout, the TypeScript through tsx (what `npx mailrelay serve` runs in a clone).
   */
  entry?: 'bundle' | 'checkout';
}

export type LogLine = Record<string, unknown> & { event?: string };

export class RelayProcess {
  readonly lines: LogLine[] = [];
  readonly events = new EventEmitter();
  stderr = '';
  exitCode: number | null = null;
  private exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly port: number,
    private readonly ownedDir: TempDir | null,
  ) {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      try {
        const obj = JSON.parse(l) as LogLine;
        this.lines.push(obj);
        this.events.emit('line', obj);
      } catch {
        // not a log line
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        this.events.emit('exit', this.exitCode);
        resolve(this.exitCode);
      }),
    );
  }

  /** Resolve with the first log line (past or future) that matches. */
  waitForLine(pred: (l: LogLine) => boolean, what = 'log line', timeoutMs = 20_000): Promise<LogLine> {
    const found = this.lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr.slice(-500)}`));
      }, timeoutMs);
      const onLine = (l: LogLine) => {
        if (pred(l)) {
          cleanup();
          resolve(l);
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`relay exited (${code}) while waiting for ${what}; stderr: ${this.stderr.slice(-500)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('line', onLine);
        this.events.off('exit', onExit);
      };
      this.events.on('line', onLine);
      this.events.on('exit', onExit);
    });
  }

  /** Wait until `n` lines of this event have been logged. */
  async waitForCount(event: string, n: number, timeoutMs = 30_000): Promise<LogLine[]> {
    const count = () => this.lines.filter((l) => l.event === event).length;
    if (count() < n) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.events.off('line', onLine);
          reject(new Error(`timed out waiting for ${n} "${event}" lines (have ${count()}); stderr: ${this.stderr.slice(-300)}`));
        }, timeoutMs);
        const onLine = () => {
          if (count() >= n) {
            clearTimeout(timer);
            this.events.off('line', onLine);
            resolve();
          }
        };
        this.events.on('line', onLine);
      });
    }
    return this.lines.filter((l) => l.event === event);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.exitCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** Stop gracefully and remove the data dir the harness created. */
  async stop(): Promise<void> {
    if (this.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.ownedDir?.remove();
  }

  /** Remove the data dir without stopping (after kill). */
  cleanup(): void {
    this.ownedDir?.remove();
  }
}

/** Write the config and start `mailrelay serve`; resolves once the relay logged its `start` line. */
export async function startRelayProcess(opts: RelayProcessOptions = {}): Promise<RelayProcess> {
  const entry = opts.entry === 'checkout' ? CHECKOUT_ENTRY : RELAY_BUNDLE;
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build:relay" first`);
  const owned = opts.dataDir ? null : makeTempDir('relay-it-');
  const dataDir = opts.dataDir ?? owned!.path;
  mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const config = { listeners: [{ name: 'smtp', host: '127.0.0.1', port, tls: opts.tls ?? 'starttls' }], ...opts.config };
  const configFile = path.join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [entry, 'serve', '--data-dir', dataDir, '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const relay = new RelayProcess(child, dataDir, port, owned);
  try {
    await relay.waitForLine((l) => l.event === 'start', 'the relay to start');
  } catch (err) {
    await relay.stop();
    throw err;
  }
  return relay;
}
