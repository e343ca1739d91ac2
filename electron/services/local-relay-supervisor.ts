/**
 * The local relay (SPEC §2.1): the bundled `mailrelay.mjs` run as a child process by the app's own
 * Node (Electron with ELECTRON_RUN_AS_NODE=1; plain node in tests), data in the app's user-data
 * folder. It waits for the control socket, restarts with backoff when the relay dies, stops it
 * cleanly, and — when the relay fails while starting (bad config, port in use) — reports the
 * relay's own one-line reason and stays `failed` instead of restarting in a loop. A relay left
 * running from an earlier session ("keep running in background") is adopted, not started twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openLocalControl, type ControlClient } from '../../server/control/control-client.ts';
import type { Say } from '../ipc-contract.ts';
import { foreign, said, type Said } from './app-error-text.ts';
import { AppError } from './app-error.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

/** How to run JavaScript: Electron's binary as Node in the app, `process.execPath` in tests. */
export interface NodeRuntime {
  execPath: string;
  /** Extra environment (the app passes ELECTRON_RUN_AS_NODE=1). */
  env?: Record<string, string>;
}

/** Options of the supervisor. */
export interface LocalRelayOptions {
  bundlePath: string;
  dataDir: string;
  runtime: NodeRuntime;
  /** Where the relay's stderr goes (default: `<dataDir>/../local-relay.stderr.log`). */
  stderrFile?: string;
  /** Time from spawn to an answering control socket (default 20 s). */
  startTimeoutMs?: number;
  /** Restart spacing after a crash (default 1 s … 30 s). */
  backoff?: BackoffOptions;
  /** This many crashes within `crashWindowMs` turn into `failed` (default 5 in 60 s). */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** Time for a clean stop before SIGKILL (default 15 s). */
  stopTimeoutMs?: number;
}

/** Where the local relay stands. */
export type SupervisorStatus = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

/** A snapshot for the UI. */
export interface SupervisorSnapshot {
  status: SupervisorStatus;
  /** Why (for failed / restarting / stopped-by-itself), else "". */
  message: string;
  /** The same as a catalog key with params (see app-error-text.ts), when there is a message. */
  say?: Say;
  retryAt: number | null;
  pid: number | null;
  version: string | null;
  /** True when the relay was already running (not our child). */
  adopted: boolean;
}

/** Events of the supervisor. */
export interface SupervisorEvents {
  change: [SupervisorSnapshot];
}

export class LocalRelaySupervisor extends EventEmitter<SupervisorEvents> {
  private snap: SupervisorSnapshot = { status: 'stopped', message: '', retryAt: null, pid: null, version: null, adopted: false };
  private child: ChildProcess | null = null;
  private childExited: Promise<void> | null = null;
  private client: ControlClient | null = null;
  private wanted = false;
  private generation = 0;
  private crashes: number[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private starting: Promise<void> | null = null;

  constructor(private readonly opts: LocalRelayOptions) {
    super();
  }

  get snapshot(): SupervisorSnapshot {
    return { ...this.snap };
  }

  /** The control session to the running relay, or null. */
  get control(): ControlClient | null {
    return this.client && !this.client.closed ? this.client : null;
  }

  /** Start (or adopt) the relay; resolves when its control socket answers, rejects with the reason. */
  start(): Promise<void> {
    this.wanted = true;
    this.crashes = [];
    this.clearRetry();
    if (this.snap.status === 'running' && this.control) return Promise.resolve();
    return this.launch();
  }

  /** Stop the relay cleanly (service.stop, then SIGTERM, then SIGKILL) and wait for it to exit. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.generation++;
    this.clearRetry();
    await this.starting?.catch(() => {});
    const client = this.control;
    const pid = this.snap.pid;
    const stopTimeout = this.opts.stopTimeoutMs ?? 15_000;
    if (client) {
      try {
        await client.call('service.stop', {}, { timeoutMs: 5000 });
      } catch {
        // fall through to signals
      }
    }
    if (this.child && this.childExited) {
      const child = this.child;
      if (!client) child.kill('SIGTERM');
      const term = setTimeout(() => child.kill('SIGTERM'), Math.min(5000, stopTimeout / 2));
      const kill = setTimeout(() => child.kill('SIGKILL'), stopTimeout);
      await this.childExited;
      clearTimeout(term);
      clearTimeout(kill);
    } else if (pid !== null) {
      await waitForPidExit(pid, stopTimeout);
    }
    await client?.close();
    this.client = null;
    this.set({ status: 'stopped', ...line(null), retryAt: null, pid: null, adopted: false });
  }

  /** Quit without stopping the relay ("keep running in background"): let go of the child. */
  async release(): Promise<void> {
    this.wanted = false;
    this.generation++;
    this.clearRetry();
    await this.starting?.catch(() => {});
    this.child?.removeAllListeners('exit');
    this.child?.unref();
    this.child = null;
    this.childExited = null;
    const c = this.client;
    this.client = null;
    await c?.close();
    this.set({ status: 'stopped', ...line(said('local.leftRunning')), retryAt: null });
  }

  private launch(): Promise<void> {
    if (this.starting) return this.starting;
    const gen = ++this.generation;
    this.starting = this.doLaunch(gen).finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async doLaunch(gen: number): Promise<void> {
    this.set({ status: 'starting', ...line(null), retryAt: null });
    const adopted = await openLocalControl(this.opts.dataDir, { handshakeTimeoutMs: 3000 }).catch(() => null);
    if (adopted) {
      if (gen !== this.generation) return void (await adopted.close());
      return this.onReady(adopted, null);
    }
    mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
    const stderrFile = this.stderrFile();
    const fd = openSync(stderrFile, 'w');
    let child: ChildProcess;
    try {
      child = spawn(this.opts.runtime.execPath, [this.opts.bundlePath, 'serve', '--data-dir', this.opts.dataDir], {
        stdio: ['ignore', 'ignore', fd],
        env: { ...process.env, ...this.opts.runtime.env },
        // Its own process group: it can outlive the app when the user keeps it running.
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    this.childExited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        exitInfo = { code, signal };
        resolve();
      }),
    );
    child.once('error', () => {}); // reported through exit / the stderr file
    void this.childExited.then(() => this.onExit(child, exitInfo!));
    this.set({ pid: child.pid ?? null, adopted: false });

    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 20_000);
    for (;;) {
      if (gen !== this.generation) return;
      if (exitInfo) throw this.fail(said('local.didNotStart', { reason: this.reasonOf(exitInfo) }));
      const client = await openLocalControl(this.opts.dataDir, { handshakeTimeoutMs: 3000 }).catch(() => null);
      if (client) {
        if (gen !== this.generation) return void (await client.close());
        return this.onReady(client, child);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await this.childExited;
        const seconds = (this.opts.startTimeoutMs ?? 20_000) / 1000;
        const detail = this.lastStderrLine();
        throw this.fail(detail ? said('local.noControlSocketBecause', { seconds, detail }) : said('local.noControlSocket', { seconds }));
      }
      await Promise.race([new Promise((r) => setTimeout(r, 50)), this.childExited]);
    }
  }

  private async onReady(client: ControlClient, child: ChildProcess | null): Promise<void> {
    this.client = client;
    let pid = child?.pid ?? null;
    let version: string | null = client.server.version || null;
    try {
      const status = await client.call('status', {}, { timeoutMs: 5000 });
      pid = status.pid;
      version = status.version;
    } catch {
      // the session is up; status will be asked again by whoever needs it
    }
    client.once('close', () => this.onControlClosed(client));
    this.set({ status: 'running', ...line(null), retryAt: null, pid, version, adopted: child === null });
  }

  private onControlClosed(client: ControlClient): void {
    if (this.client !== client) return;
    this.client = null;
    if (!this.wanted) return;
    // Our child: its exit handler decides. Adopted: the relay went away under us.
    if (this.child) {
      // Usually the process is dying and its exit handler restarts it; if it lives on, only the
      // session dropped: open a new one to the same process.
      const child = this.child;
      const t = setTimeout(() => void this.reattach(child), 250);
      t.unref();
      return;
    }
    this.onCrash(said('local.adoptedStoppedAnswering'));
  }

  private async reattach(child: ChildProcess): Promise<void> {
    if (!this.wanted || this.child !== child || child.exitCode !== null || child.signalCode !== null || this.client) return;
    const client = await openLocalControl(this.opts.dataDir, { handshakeTimeoutMs: 3000 }).catch(() => null);
    if (!client) {
      const t = setTimeout(() => void this.reattach(child), 1000);
      t.unref();
      return;
    }
    if (this.child !== child || !this.wanted) return void (await client.close());
    await this.onReady(client, child);
  }

  private onExit(child: ChildProcess, info: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.child !== child) return;
    this.child = null;
    this.childExited = null;
    if (!this.wanted || this.snap.status === 'starting') return; // start() reports it
    if (info.code === 0) {
      // It stopped on purpose (service.stop from the UI, or a signal from the user): respect it.
      this.wanted = false;
      this.client = null;
      this.set({ status: 'stopped', ...line(said('local.stopped')), retryAt: null, pid: null });
      return;
    }
    this.onCrash(this.reasonOf(info));
  }

  private onCrash(reason: Said): void {
    const now = Date.now();
    const window = this.opts.crashWindowMs ?? 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < window), now];
    if (this.crashes.length >= (this.opts.maxCrashes ?? 5)) {
      this.wanted = false;
      this.set({ status: 'failed', ...line(said('local.crashedTooOften', { crashes: this.crashes.length, seconds: window / 1000, reason })), retryAt: null, pid: null });
      return;
    }
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: Said): void {
    this.clearRetry();
    const delay = backoffDelay(this.crashes.length - 1, this.opts.backoff ?? { initialMs: 1000, maxMs: 30_000 });
    this.set({ status: 'restarting', ...line(said('local.restarting', { reason })), retryAt: Date.now() + delay, pid: null });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted) this.launch().catch(() => {}); // a failed restart is in the snapshot
    }, delay);
  }

  private fail(text: Said): AppError {
    this.wanted = false;
    this.set({ status: 'failed', ...line(text), retryAt: null, pid: null });
    return new AppError('UNAVAILABLE', text);
  }

  /** Why the relay exited: its own last words (English, the relay's), else the exit code or signal. */
  private reasonOf(info: { code: number | null; signal: NodeJS.Signals | null }): Said {
    const last = this.lastStderrLine();
    if (last) return foreign(last.replace(/^mailrelay:\s*/, ''));
    return info.signal ? said('local.killedBy', { signal: info.signal }) : said('local.exitCode', { code: String(info.code) });
  }

  private stderrFile(): string {
    return this.opts.stderrFile ?? path.join(path.dirname(this.opts.dataDir), 'local-relay.stderr.log');
  }

  /** The relay prints one clear line on a start error; a stack trace's first line is the next best thing. */
  private lastStderrLine(): string {
    const file = this.stderrFile();
    if (!existsSync(file)) return '';
    const lines = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    const clear = lines.filter((l) => l.startsWith('mailrelay:'));
    return (clear.at(-1) ?? lines[0] ?? '').slice(0, 500);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private set(patch: Partial<SupervisorSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.emit('change', this.snapshot);
  }
}

/** The message fields of a snapshot: a line (English and its key), or none. */
function line(text: Said | null): Pick<SupervisorSnapshot, 'message' | 'say'> {
  return { message: text?.message ?? '', say: text?.say };
}

function stillRelay(pid: number): boolean {
  try {
    return /mailrelay|electron|node/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

async function waitForPidExit(pid: number, timeoutMs: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Pids are reused: kill only if the pid still names a relay (where /proc can tell).
  if (alive() && stillRelay(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
