/**
 * The app's services behind one facade: one handler per IPC call (taking already-validated arguments)
 * and one event emitter per IPC event. Electron's main process wires these to ipcMain; the e2e
 * harness wires the very same object to a WebSocket. Nothing here imports electron: the store, the
 * secret box, the Node runtime and the file picker come in as `deps`.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION, METHODS, type LogFilter, type LogsEvent } from '../../server/protocol/index.ts';
import {
  LOCAL_INSTANCE_ID,
  parseArg,
  type AuthPrompt,
  type CallChannel,
  type CallValue,
  type EventChannel,
  type EventPayload,
  type InstanceState,
  type InstanceView,
  type ParsedCallArgs,
  type RemoteInstanceView,
  type Settings,
  type TrustedHostKey,
} from '../ipc-contract.ts';
import { said } from './app-error-text.ts';
import { AppError } from './app-error.ts';
import { findKnownHostKeys } from './host-key.ts';
import { InstanceRegistry, type StoredInstance } from './instance-registry.ts';
import type { KeyValueStore } from './key-value-store.ts';
import { LocalInstance } from './local-instance.ts';
import type { LocalRelayOptions, NodeRuntime } from './local-relay-supervisor.ts';
import { installRelay } from './remote-installer.ts';
import type { SecretBox } from './secret-box.ts';
import { SshConnection, type SshTiming } from './ssh-connection.ts';

/** What the services need from their host (Electron main, or a test / the e2e harness). */
export interface AppServicesDeps {
  store: KeyValueStore;
  secrets: SecretBox;
  /** The relay bundle (dist/mailrelay.mjs; in the packaged app, resources/relay/mailrelay.mjs). */
  relayBundlePath: string;
  /** The local relay's data dir (in the app's user-data folder). */
  localDataDir: string;
  /** How to run the bundle locally (Electron as Node in the app; node in tests). */
  nodeRuntime: NodeRuntime;
  appVersion: string;
  bundledRelayVersion: string;
  platform?: string;
  /** SSH agent socket, "pageant", or undefined (default: $SSH_AUTH_SOCK; Pageant on Windows). */
  sshAgent?: string | undefined;
  /** known_hosts files to import from (default ~/.ssh/known_hosts). */
  knownHostsFiles?: string[];
  /** A native file dialog (main only); absent means "not available here". */
  pickKeyFile?: () => Promise<string | null>;
  sshTiming?: Partial<SshTiming>;
  localRelay?: Partial<Omit<LocalRelayOptions, 'bundlePath' | 'dataDir' | 'runtime'>>;
  /** Connect remote instances with a trusted host key on start (default true). */
  autoConnect?: boolean;
  /** How long a keyboard-interactive question waits for the user (default 120 s). */
  promptTimeoutMs?: number;
  log?: (message: string) => void;
}

/** One handler per call. */
export type CallHandlers = { [C in CallChannel]: (args: ParsedCallArgs<C>) => Promise<CallValue<C>> };
/** The events, as an emitter keyed by channel. */
export type ServiceEvents = { [E in EventChannel]: [EventPayload<E>] };

/** The facade. */
export interface AppServices {
  readonly handlers: CallHandlers;
  readonly events: EventEmitter<ServiceEvents>;
  /** Start the local relay (per settings) and connect remote instances. */
  start(): Promise<void>;
  /** Disconnect everything; stop the local relay unless "keep running in background" is on. */
  shutdown(): Promise<void>;
  /** The settings as stored now (for the tray menu, built synchronously). */
  settings(): Settings;
  /** For tests and the tray: the local relay instance. */
  readonly local: LocalInstance;
  /** For tests: the connection of a remote instance. */
  connection(id: string): SshConnection;
}

export function createAppServices(deps: AppServicesDeps): AppServices {
  const log = deps.log ?? (() => {});
  const events = new EventEmitter<ServiceEvents>();
  events.setMaxListeners(100);
  const registry = new InstanceRegistry(deps.store, deps.secrets, log);
  const local = new LocalInstance({ bundlePath: deps.relayBundlePath, dataDir: deps.localDataDir, runtime: deps.nodeRuntime, ...deps.localRelay });
  const connections = new Map<string, SshConnection>();
  const prompts = new Map<string, { resolve(answers: string[] | null): void; timer: NodeJS.Timeout }>();
  const busy = new Set<string>();
  const agent = deps.sshAgent !== undefined || 'sshAgent' in deps ? deps.sshAgent : process.platform === 'win32' ? (process.env.SSH_AUTH_SOCK ?? 'pageant') : process.env.SSH_AUTH_SOCK;

  local.on('state', (state) => events.emit('instance.state', { instanceId: LOCAL_INSTANCE_ID, state }));
  local.on('logs.event', (e) => emitLog(LOCAL_INSTANCE_ID, e));
  registry.on('changed', () => events.emit('instances.changed', listViews()));
  registry.on('settings', (s) => events.emit('settings.changed', s));

  function emitLog(instanceId: string, e: LogsEvent): void {
    events.emit('logs.event', e.dropped !== undefined ? { instanceId, line: e.line, dropped: e.dropped } : { instanceId, line: e.line });
  }

  function connection(id: string): SshConnection {
    let c = connections.get(id);
    if (c) return c;
    registry.get(id); // UNKNOWN_INSTANCE
    c = new SshConnection(id, {
      instance: () => registry.get(id),
      password: () => registry.password(id),
      passphrase: () => registry.passphrase(id),
      agent,
      prompt: (q) => askUser(id, q),
      timing: deps.sshTiming,
    });
    c.on('state', (state) => events.emit('instance.state', { instanceId: id, state }));
    c.on('logs.event', (e) => emitLog(id, e));
    connections.set(id, c);
    return c;
  }

  function askUser(instanceId: string, q: Omit<AuthPrompt, 'promptId' | 'instanceId'>): Promise<string[] | null> {
    const promptId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        prompts.delete(promptId);
        resolve(null);
      }, deps.promptTimeoutMs ?? 120_000);
      prompts.set(promptId, { resolve, timer });
      events.emit('auth.prompt', { promptId, instanceId, ...q });
    });
  }

  function stateOf(id: string): InstanceState {
    return connections.get(id)?.state ?? { status: 'disconnected', message: '', since: Date.now(), retryAt: null, relayVersion: null, hostKey: null };
  }

  function remoteView(i: StoredInstance): RemoteInstanceView {
    return {
      id: i.id,
      kind: 'remote',
      name: i.name,
      host: i.host,
      port: i.port,
      username: i.username,
      auth: i.auth,
      dataDir: i.dataDir,
      installDir: i.installDir,
      nodePath: i.nodePath,
      hasPassword: registry.hasSecret(i.id, 'password'),
      hasPassphrase: registry.hasSecret(i.id, 'passphrase'),
      hostKey: i.hostKey,
      state: stateOf(i.id),
    };
  }

  function listViews(): InstanceView[] {
    return [{ id: LOCAL_INSTANCE_ID, kind: 'local', name: 'Local relay', dataDir: local.dataDir, state: local.state }, ...registry.list().map(remoteView)];
  }

  function remoteOnly(id: string, what: 'install' | 'upgrade' | 'edit' | 'remove' | 'hostKeys'): void {
    if (id === LOCAL_INSTANCE_ID) throw new AppError('UNSUPPORTED', said(`remoteOnly.${what}`));
  }

  function target(id: string): LocalInstance | SshConnection {
    return id === LOCAL_INSTANCE_ID ? local : connection(id);
  }

  /** Was the instance meant to be connected (connected, connecting, or waiting to retry)? */
  function isActive(state: InstanceState): boolean {
    return state.status !== 'disconnected' || state.retryAt !== null;
  }

  function trust(id: string, info: { algorithm: string; fingerprint: string }, source: TrustedHostKey['source']): TrustedHostKey {
    const key: TrustedHostKey = { algorithm: info.algorithm, fingerprint: info.fingerprint, addedAt: Date.now(), source };
    registry.setHostKey(id, key);
    return key;
  }

  async function install(id: string, operation: 'install' | 'upgrade') {
    remoteOnly(id, operation);
    if (!existsSync(deps.relayBundlePath)) throw new AppError('INSTALL_FAILED', said('install.bundleMissing', { path: deps.relayBundlePath }));
    if (busy.has(id)) throw new AppError('BUSY', said('install.busy'));
    busy.add(id);
    try {
      return await installRelay({
        connection: connection(id),
        instance: registry.get(id),
        bundlePath: deps.relayBundlePath,
        bundledVersion: deps.bundledRelayVersion,
        onProgress: (p) => events.emit('install.progress', { instanceId: id, operation, ...p }),
      });
    } finally {
      busy.delete(id);
    }
  }

  const handlers: CallHandlers = {
    'app.info': async () => ({ appVersion: deps.appVersion, bundledRelayVersion: deps.bundledRelayVersion, controlProtocol: PROTOCOL_VERSION, platform: deps.platform ?? process.platform }),
    'settings.get': async () => registry.settings(),
    'settings.update': async (patch) => registry.updateSettings(patch),

    'instances.list': async () => listViews(),
    'instances.add': async ({ instance, secrets }) => remoteView(registry.add(instance, secrets)),
    'instances.update': async ({ instanceId, patch, secrets }) => {
      remoteOnly(instanceId, 'edit');
      const { after } = registry.update(instanceId, patch, secrets);
      const c = connections.get(instanceId);
      if (c && isActive(c.state)) {
        await c.disconnect();
        void c.connect();
      }
      return remoteView(after);
    },
    'instances.remove': async ({ instanceId }) => {
      remoteOnly(instanceId, 'remove');
      registry.get(instanceId);
      const c = connections.get(instanceId);
      connections.delete(instanceId);
      await c?.dispose();
      registry.remove(instanceId);
      return { removed: true as const };
    },
    'instances.export': async ({ instanceIds, includeHostKeys }) => registry.exportDocument(instanceIds, includeHostKeys),
    'instances.import': async ({ document }) => {
      const { added, skipped } = registry.importDocument(document);
      return { added: added.map(remoteView), skipped };
    },
    'instances.pickKeyFile': async () => ({ path: deps.pickKeyFile ? await deps.pickKeyFile() : null }),

    'connection.connect': async ({ instanceId }) => target(instanceId).connect(),
    'connection.disconnect': async ({ instanceId }) => target(instanceId).disconnect(),

    'hostKeys.trust': async ({ instanceId, fingerprint }) => {
      remoteOnly(instanceId, 'hostKeys');
      const c = connection(instanceId);
      const pending = c.pendingHostKey;
      if (!pending) throw new AppError('HOST_KEY_MISMATCH', said('hostKeys.nothingPending'));
      if (pending.fingerprint !== fingerprint) {
        throw new AppError('HOST_KEY_MISMATCH', said('hostKeys.otherKey', { presented: pending.fingerprint, fingerprint }));
      }
      const key = trust(instanceId, pending, 'confirmed');
      c.pendingHostKey = null;
      void c.connect();
      return key;
    },
    'hostKeys.forget': async ({ instanceId }) => {
      remoteOnly(instanceId, 'hostKeys');
      const had = registry.get(instanceId).hostKey !== null;
      registry.setHostKey(instanceId, null);
      return { forgotten: had };
    },
    'hostKeys.importKnownHosts': async ({ instanceId }) => {
      remoteOnly(instanceId, 'hostKeys');
      const inst = registry.get(instanceId);
      const files = deps.knownHostsFiles ?? [path.join(os.homedir(), '.ssh', 'known_hosts')];
      const found = files.flatMap((f) => (existsSync(f) ? findKnownHostKeys(readFileSync(f, 'utf8'), inst.host, inst.port) : []));
      if (found.length === 0) return { imported: null, candidates: 0 };
      const pending = connections.get(instanceId)?.pendingHostKey;
      const rank = (alg: string): number => ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'].indexOf(alg) >>> 0;
      const pick = found.find((k) => k.fingerprint === pending?.fingerprint) ?? [...found].sort((a, b) => rank(a.algorithm) - rank(b.algorithm))[0]!;
      const key = trust(instanceId, pick, 'known_hosts');
      const c = connections.get(instanceId);
      if (c && pending?.fingerprint === pick.fingerprint) {
        c.pendingHostKey = null;
        void c.connect();
      }
      return { imported: key, candidates: found.length };
    },
    'auth.respond': async ({ promptId, answers }) => {
      const p = prompts.get(promptId);
      if (!p) return { accepted: false };
      prompts.delete(promptId);
      clearTimeout(p.timer);
      p.resolve(answers);
      return { accepted: true };
    },

    'relay.install': async ({ instanceId }) => install(instanceId, 'install'),
    'relay.upgrade': async ({ instanceId }) => install(instanceId, 'upgrade'),

    'control.call': async ({ instanceId, method, params }) => {
      const def = METHODS[method];
      const parsed = parseArg(def.params, params ?? {}, `params of ${method}`);
      if (!parsed.ok) {
        const detail = (parsed.error.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('; ');
        throw new AppError(parsed.error.code, said('call.invalidParams', { method, detail }), parsed.error.issues);
      }
      if (instanceId !== LOCAL_INSTANCE_ID) registry.get(instanceId);
      return target(instanceId).call(method, params ?? {});
    },
    'logs.subscribe': async ({ instanceId, filter }) => {
      await target(instanceId).setLogFilter(filter as LogFilter);
      return { subscribed: true as const };
    },
    'logs.unsubscribe': async ({ instanceId }) => {
      await target(instanceId).setLogFilter(null);
      return { subscribed: false as const };
    },
  };

  return {
    handlers,
    events,
    local,
    connection,
    settings: () => registry.settings(),
    async start() {
      if (registry.settings().startLocalRelay) void local.connect();
      if (deps.autoConnect ?? true) for (const i of registry.list()) if (i.hostKey) void connection(i.id).connect();
    },
    async shutdown() {
      for (const p of prompts.values()) {
        clearTimeout(p.timer);
        p.resolve(null);
      }
      prompts.clear();
      await Promise.all([...connections.values()].map((c) => c.dispose()));
      connections.clear();
      if (registry.settings().keepLocalRelayRunning) await local.supervisor.release();
      else await local.supervisor.stop();
    },
  };
}
