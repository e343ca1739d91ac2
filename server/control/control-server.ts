/**
 * The control socket (SPEC §1.7): `DIR/control.sock` (0600) or, on Windows, a named pipe derived
 * from DIR. Each connection is a ControlSession; this file owns the listening, the connection cap
 * and the log lines about rejects.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { ControlError, ERROR_NUMBERS } from '../protocol/index.ts';
import type { RelayLog } from '../logging/relay-log.ts';
import { controlSocketPath, loadServerKeys } from './control-key.ts';
import { encodeFrame } from './frame-codec.ts';
import { ControlSession } from './control-session.ts';
import type { RelayControlApi } from './relay-control-api.ts';
import { RELAY_VERSION } from './relay-version.ts';

/** What startControlServer needs; everything but dataDir, api and log has a default. */
export interface ControlServerOptions {
  dataDir: string;
  api: RelayControlApi;
  log: Pick<RelayLog, 'event'>;
  /** Sent in `hello`; defaults to the package version. */
  version?: string;
  /** Connections at once (authenticated or not); more are answered UNAVAILABLE and closed. */
  maxConnections?: number;
  authTimeoutMs?: number;
  /** Check every handler result against the contract; default on under vitest / NODE_ENV=development|test. */
  assertResults?: boolean;
}

/** A running control server. */
export interface ControlServer {
  /** The socket path or pipe name clients connect to. */
  readonly path: string;
  /** Open connections right now. */
  readonly connections: number;
  /** Stop listening, drop every connection, remove the socket file. */
  close(): Promise<void>;
}

/** Unix socket paths longer than this do not fit in sockaddr_un (104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;
/** Reject and auth-failure lines per minute before they are summarised (a flood must not flood the log). */
const REPORTS_PER_MINUTE = 20;

/** Start the control server; fails with BIND_FAILED when the socket cannot be made or another relay owns it. */
export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const socketPath = controlSocketPath(opts.dataDir);
  const isPipe = process.platform === 'win32';
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  if (!isPipe && Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new ControlError('BIND_FAILED', `control socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter --data-dir`);
  }
  const keys = await loadServerKeys(opts.dataDir);
  if (!isPipe) await removeStaleSocket(socketPath);

  const maxConnections = opts.maxConnections ?? 64;
  const assertResults = opts.assertResults ?? (!!process.env.VITEST || process.env.NODE_ENV === 'development' || process.env.NODE_ENV === 'test');
  const version = opts.version ?? RELAY_VERSION;
  const reporter = new ThrottledReporter(opts.log);
  const sessions = new Set<ControlSession>();
  let nextId = 1;

  const server = net.createServer((socket) => {
    if (sessions.size >= maxConnections) {
      reporter.report('warn', { action: 'reject', reason: 'too many control connections', limit: maxConnections });
      const frame = encodeFrame({
        jsonrpc: '2.0',
        id: null,
        error: { code: ERROR_NUMBERS.UNAVAILABLE, message: `too many control connections (limit ${maxConnections}); try again later`, data: { code: 'UNAVAILABLE' } },
      });
      socket.on('error', () => undefined);
      socket.end(frame ?? '');
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const session = new ControlSession({
      socket,
      id: nextId++,
      keys,
      api: opts.api,
      version,
      authTimeoutMs: opts.authTimeoutMs,
      assertResults,
      report: (level, fields) => (level === 'info' ? opts.log.event('control', fields, 'info') : reporter.report(level, fields)),
    });
    sessions.add(session);
    socket.on('close', () => sessions.delete(session));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ControlError('BIND_FAILED', `cannot listen on the control socket ${socketPath}: ${err.code === 'EADDRINUSE' ? 'in use by another process' : err.message}`)),
    );
    server.listen({ path: socketPath, backlog: 1024 }, () => resolve());
  });
  server.on('error', (err) => opts.log.event('control', { action: 'server-error', error: err.message }, 'error'));
  if (!isPipe) await fs.chmod(socketPath, 0o600);

  return {
    path: socketPath,
    get connections() {
      return sessions.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
      reporter.stop();
      if (!isPipe) await fs.rm(socketPath, { force: true });
    },
  };
}

/**
 * A socket file left by a relay that died can be removed; one that answers belongs to a running
 * relay and must not be; anything that is not a socket is not ours to delete.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const st = await fs.lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) throw new ControlError('BIND_FAILED', `${socketPath} exists and is not a socket; move it away`);
  const answers = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    const done = (alive: boolean): void => {
      probe.destroy();
      resolve(alive);
    };
    probe.once('connect', () => done(true));
    probe.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
    probe.setTimeout(2000, () => done(true));
  });
  if (answers) throw new ControlError('BIND_FAILED', `another relay is running with this data dir (its control socket ${socketPath} answers)`);
  await fs.rm(socketPath, { force: true });
}

/** Logs 'control' warnings, at most REPORTS_PER_MINUTE a minute; the rest are counted and summarised. */
class ThrottledReporter {
  private count = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly log: Pick<RelayLog, 'event'>) {}

  report(level: 'warn' | 'error', fields: Record<string, unknown>): void {
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), 60_000);
      this.timer.unref();
    }
    if (++this.count <= REPORTS_PER_MINUTE || level === 'error') this.log.event('control', fields, level);
    else this.suppressed++;
  }

  private flush(): void {
    if (this.suppressed) this.log.event('control', { action: 'suppressed', count: this.suppressed, note: 'more control rejects in the last minute' }, 'warn');
    this.count = 0;
    this.suppressed = 0;
    this.timer = null;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
  }
}
