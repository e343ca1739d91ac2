/**
 * The running relay: loads the config, opens the log and the spool, starts the listeners, the
 * scheduler and delivery, and keeps them in step on reload and stop. This is wiring only; each part
 * decides for itself in its own module.
 */
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { ConfigFileError, defaultConfig, loadConfigFile, saveConfigFile } from '../config/config-file.ts';
import type { RelayConfig } from '../config/schema.ts';
import { openRelayLog, type RelayLog } from '../logging/relay-log.ts';
import { Spool } from '../queue/spool.ts';
import { newQueueId } from '../queue/queue-id.ts';
import { createSessionHandlers } from '../smtp/session-handlers.ts';
import { startListener, updateListenerOptions, type RunningListener } from '../smtp/smtp-listeners.ts';
import { loadTlsMaterial, type TlsMaterial } from '../smtp/tls-material.ts';
import { createMailFlow, type MailFlow } from './mail-flow.ts';
import { Stats } from '../stats/stats.ts';
import { UserStore } from '../users/user-store.ts';
import { startControlServer, type ControlServer } from '../control/control-server.ts';
import type { MethodResult } from '../protocol/index.ts';
import { createRelayControlApi } from './control-api.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';

export interface RelayOptions {
  dataDir: string;
  /** Config file; default DIR/config.json (written from the embedded default when missing). */
  configFile?: string;
  /** Echo log lines on stdout (foreground `serve`). */
  echoLog?: boolean;
}

/** A start-up failure: one line naming the file, key path or port. */
export class RelayStartError extends Error {}

export interface Relay {
  readonly dataDir: string;
  readonly configFile: string;
  readonly log: RelayLog;
  readonly spool: Spool;
  readonly flow: MailFlow;
  readonly stats: Stats;
  readonly users: UserStore;
  /** Epoch ms of the start. */
  readonly startedAt: number;
  config(): RelayConfig;
  /** Sessions, deliveries and connections right now (for `status`). */
  activity(): MethodResult<'status'>['activity'];
  /** Bound ports by listener name (useful when a listener asked for port 0). */
  ports(): Record<string, number>;
  /** Re-read the config file and apply it without dropping established sessions. */
  reload(): Promise<void>;
  /** Validate and apply a new config; listeners that fail to bind roll everything back. */
  applyConfig(next: RelayConfig): Promise<void>;
  stop(): Promise<void>;
  /** The control API can ask the process to stop (service.stop); `serve` decides how. */
  onStopRequested(fn: () => void): void;
  requestStop(): void;
}

export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const startedAt = Date.now();
  const dataDir = path.resolve(opts.dataDir);
  await ensureWritableDir(dataDir);
  let lock: DataDirLock;
  try {
    lock = await lockDataDir(dataDir);
  } catch (err) {
    throw new RelayStartError((err as Error).message);
  }
  try {
    return await startLocked(opts, dataDir, startedAt, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(opts: RelayOptions, dataDir: string, startedAt: number, lock: DataDirLock): Promise<Relay> {
  const configFile = opts.configFile ?? path.join(dataDir, 'config.json');
  let config = await loadOrCreateConfig(configFile, !opts.configFile);
  const log = openRelayLog({ dir: path.join(dataDir, 'logs'), echo: opts.echoLog });
  let spool: Spool;
  try {
    spool = await Spool.open(dataDir);
  } catch (err) {
    throw new RelayStartError(`queue in ${path.join(dataDir, 'queue')}: ${(err as Error).message}`);
  }
  let tls: TlsMaterial;
  try {
    tls = await loadTlsMaterial(config, dataDir);
  } catch (err) {
    throw new RelayStartError((err as Error).message);
  }

  const stats = await Stats.open(path.join(dataDir, 'stats'), { onWarning: (message) => log.event('error', { part: 'stats', error: message }, 'warn') });
  const users = await UserStore.open(path.join(dataDir, 'users.json'));
  const flow = createMailFlow({ getConfig: () => config, log, spool, count: (name, n) => stats.count(name, n) });
  const handlers = createSessionHandlers({
    getConfig: () => config,
    log,
    newMessageId: () => newQueueId(),
    createWriter: (envelope) => spool.createWriter(envelope),
    onQueued: (entry) => flow.enqueue(entry),
    verifyUser: (name, password) => users.verify(name, password),
    allowedSenders: async (name) => (await users.get(name))?.allowedSenders ?? [],
    count: (name, reason) => stats.count(name, 1, reason),
  });
  // The queue-size gauge is sampled rather than pushed from every enqueue/remove.
  const gaugeTimer = setInterval(() => stats.setGauge('queueSize', spool.size), 10_000);
  gaugeTimer.unref();
  stats.setGauge('queueSize', spool.size);

  async function bindAll(cfg: RelayConfig): Promise<RunningListener[]> {
    const started: RunningListener[] = [];
    try {
      for (const l of cfg.listeners) started.push(await startListener(l, cfg, tls, handlers));
    } catch (err) {
      await Promise.all(started.map((s) => s.close()));
      throw err;
    }
    return started;
  }

  let listeners: RunningListener[];
  try {
    listeners = await bindAll(config);
  } catch (err) {
    await log.close();
    throw new RelayStartError((err as Error).message);
  }
  const stopListeners: Array<() => void> = [];
  let stopped = false;
  /** Listeners replaced by a config change whose sessions are still running. */
  const draining = new Set<RunningListener>();

  // Applies run one at a time (SIGHUP reloads and control-socket applies may arrive together).
  let applying: Promise<unknown> = Promise.resolve();
  function applyConfig(next: RelayConfig): Promise<void> {
    const run = applying.then(() => applyNow(next));
    applying = run.catch(() => undefined);
    return run;
  }

  async function applyNow(next: RelayConfig): Promise<void> {
    const listenersChanged = JSON.stringify(next.listeners) !== JSON.stringify(config.listeners) || JSON.stringify(next.tls) !== JSON.stringify(config.tls);
    if (listenersChanged) {
      const newTls = JSON.stringify(next.tls) !== JSON.stringify(config.tls) ? await loadTlsMaterial(next, dataDir) : tls;
      // Close the old listening sockets first (sessions in flight continue on their own sockets) so a
      // listener may keep its port; if the new set fails to bind, the old one comes back. The port is
      // free as soon as close() returns; its callback waits for every open session, so it is not awaited.
      const old = listeners;
      for (const l of old) {
        draining.add(l);
        l.server.server.close(() => draining.delete(l));
      }
      const prevTls = tls;
      tls = newTls;
      try {
        listeners = await bindAll(next);
      } catch (err) {
        tls = prevTls;
        listeners = await bindAll(config);
        throw err;
      }
    } else {
      for (const l of listeners) updateListenerOptions(l, next);
    }
    config = next;
    flow.configChanged();
  }

  let control: ControlServer | null = null;
  const relay: Relay = {
    dataDir,
    configFile,
    log,
    spool,
    flow,
    stats,
    users,
    startedAt,
    config: () => config,
    ports: () => Object.fromEntries(listeners.map((l) => [l.listener.name, l.port])),
    activity: () => {
      const pool = flow.deliverer.stats();
      let smtpSessions = 0;
      for (const l of [...listeners, ...draining]) smtpSessions += l.server.connections.size;
      return {
        smtpSessions,
        deliveriesInFlight: flow.scheduler.inFlight,
        outboundConnections: pool.open,
        outboundBusy: pool.busy,
        controlConnections: control?.connections ?? 0,
      };
    },
    async reload() {
      const next = await loadConfigFile(configFile);
      await applyConfig(next);
      log.event('reload', { ok: true });
    },
    applyConfig,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking new connections; sessions in flight either finish (their data is committed before
      // 250) or are cut off before a 250, so nothing acknowledged is lost.
      await Promise.all([...listeners, ...draining].map((l) => l.close()));
      // After the listeners: a service.stop reply has long been written by now.
      await control?.close();
      await flow.stop();
      await spool.close();
      clearInterval(gaugeTimer);
      stats.setGauge('queueSize', spool.size);
      await stats.close();
      await log.close();
      await lock.release();
    },
    onStopRequested(fn) {
      stopListeners.push(fn);
    },
    requestStop() {
      for (const fn of stopListeners) fn();
    },
  };

  // The control socket opens once the listeners are bound, and before the start line, so whoever
  // waits for that line can manage the relay at once. It also refuses a second relay on this data dir.
  try {
    control = await startControlServer({ dataDir, api: createRelayControlApi(relay), log });
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await spool.close();
    clearInterval(gaugeTimer);
    await stats.close();
    await log.close();
    throw new RelayStartError(`control socket: ${(err as Error).message}`);
  }
  flow.start();
  log.event('start', {
    dataDir,
    configFile,
    listeners: listeners.map((l) => `${l.listener.name}=${l.listener.host}:${l.port}/${l.listener.tls}`),
    queued: spool.size,
    pid: process.pid,
  });

  return relay;
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.access(dir, fsc.W_OK | fsc.R_OK | fsc.X_OK);
    const probe = path.join(dir, `.write-test-${process.pid}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'not a directory' : e.code === 'EROFS' ? 'read-only file system' : e.message;
    throw new RelayStartError(`data dir ${dir}: not writable (${why})`);
  }
}

/** Load the config; the data dir's own config.json is created from the embedded default when missing. */
export async function loadOrCreateConfig(file: string, createIfMissing: boolean): Promise<RelayConfig> {
  if (createIfMissing) {
    try {
      await fs.access(file);
    } catch {
      const config = defaultConfig();
      await saveConfigFile(file, config);
      return config;
    }
  }
  try {
    return await loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new RelayStartError(`bad config: ${err.message}`);
    throw err;
  }
}
