/**
 * DEV STAND-IN ONLY — an in-memory `window.relayDesk` for looking at the UI without Electron and
 * relays (renderer/dev/serve-dev.mjs). Nothing here is real behaviour: no test relies on it; the e2e
 * harness (test/e2e) provides the real services. Implements the config and status methods and the
 * instance/connection calls; other control methods answer METHOD_NOT_FOUND.
 */
import type {
  AuthPrompt,
  HostKeyInfo,
  InstallProgress,
  InstanceState,
  InstanceView,
  RelayDeskApi,
  RemoteInstanceView,
  Result,
  Settings,
} from '../../electron/ipc-contract.ts';
import { relayConfigSchema } from '../../server/config/schema.ts';
import type { RedactedConfig } from '../../server/protocol/index.ts';

type Listener<T> = (payload: T) => void;

function ok<T>(value: T): Promise<Result<T>> {
  return Promise.resolve({ ok: true, value });
}
function fail<T>(code: 'NOT_FOUND' | 'CONFLICT' | 'UNSUPPORTED' | 'METHOD_NOT_FOUND' | 'CONFIG_INVALID' | 'UNKNOWN_INSTANCE', message: string): Promise<Result<T>> {
  return Promise.resolve({ ok: false, error: { code, message } });
}
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function state(status: InstanceState['status'], extra: Partial<InstanceState> = {}): InstanceState {
  return { status, message: '', since: Date.now() - 3_600_000 * 5, retryAt: null, relayVersion: status === 'connected' ? '0.1.0' : null, hostKey: null, ...extra };
}

const KEY_A: HostKeyInfo = { algorithm: 'ssh-ed25519', fingerprint: 'SHA256:Xq3vG1mYt6bJkq2Hn5yR0wZp8cVfLd4sUe7aTn9QiKo' };
const KEY_B: HostKeyInfo = { algorithm: 'ssh-ed25519', fingerprint: 'SHA256:b7NfT2kLw9QeR4mZx1VcP6sHy3GdJ8uA0oKiE5tWnYq' };

function sampleConfig(): RedactedConfig {
  const c = relayConfigSchema.parse({
    listeners: [
      { name: 'smtp', host: '0.0.0.0', port: 25, tls: 'starttls' },
      { name: 'submission', host: '0.0.0.0', port: 587, tls: 'starttls' },
    ],
    general: {
      auth: { enabled: true, skipForLocalNetwork: true },
      profile: { domain: 'example.com', additionalDomains: ['example.org'], hostname: 'relay.example.com', maxMessageSizeMB: 40 },
      externalPostmasters: ['it-admin@example.com'],
    },
    delivery: {
      mode: 'relayHost',
      relayHost: { host: 'smtp.provider.example', port: 587, username: 'relay@example.com', password: 'x' },
      exceptions: [
        { name: 'Partner via VPN', targetType: 'recipient', targets: ['partner.example', '*.partner.example'], relayHost: { host: '10.8.0.2', port: 25, security: 'none' } },
      ],
    },
    relayControl: {
      trustedNetworks: [
        { name: 'Loopback (IPv4)', network: '127.0.0.0/8' },
        { name: 'Loopback (IPv6)', network: '::1/128' },
        { name: 'Office LAN', network: '192.168.10.0/24' },
        { name: 'Printer 2nd floor', network: '192.168.10.45' },
      ],
      relayDomains: [{ name: 'Main office', domain: 'example.com', nextHop: 'exchange.corp.example:25' }],
    },
    dns: { internal: ['192.168.10.1'], external: ['9.9.9.9', '1.1.1.1'] },
    security: {
      lists: [
        { name: 'Known spammer', type: 'block', action: 'reject', criterion: 'senderDomain', value: '*.spam.example' },
        { name: 'Old scanner', type: 'block', action: 'discard', criterion: 'clientIp', value: '192.168.10.99', enabled: false },
        { name: 'Partner', type: 'allow', action: 'allow', criterion: 'senderDomain', value: 'partner.example' },
      ],
      senderPolicy: { rejectNonFqdnSender: true },
      connectionPolicy: { maxConnectionsPerClient: 20, messageRateLimit: { count: 100, perSeconds: 60 } },
      advanced: { requireHelo: true, rejectInvalidHelo: true, dnsblZones: ['zen.spamhaus.org'] },
    },
  });
  const redact = <T extends { password: string }>(rh: T): Omit<T, 'password'> & { hasPassword: boolean } => {
    const { password, ...rest } = rh;
    return { ...rest, hasPassword: password !== '' };
  };
  return {
    ...c,
    delivery: {
      ...c.delivery,
      relayHost: c.delivery.relayHost ? redact(c.delivery.relayHost) : null,
      exceptions: c.delivery.exceptions.map((e) => ({ ...e, relayHost: redact(e.relayHost) })),
    },
  };
}

interface RelayState {
  config: RedactedConfig;
  revision: number;
}

/** The stand-in and dev hooks (`bumpRevision` simulates another admin applying). */
export function createFakeRelayDesk(): RelayDeskApi & { dev: { bumpRevision(id: string): void; setState(id: string, s: InstanceState): void } } {
  const listeners = {
    instances: new Set<Listener<InstanceView[]>>(),
    state: new Set<Listener<{ instanceId: string; state: InstanceState }>>(),
    install: new Set<Listener<InstallProgress>>(),
    auth: new Set<Listener<AuthPrompt>>(),
    settings: new Set<Listener<Settings>>(),
  };
  const remote = (id: string, name: string, host: string, st: InstanceState, hostKey: RemoteInstanceView['hostKey']): RemoteInstanceView => ({
    id,
    kind: 'remote',
    name,
    host,
    port: 22,
    username: 'admin',
    auth: { method: 'agent' },
    dataDir: '~/.local/share/mailrelay',
    installDir: '~/.local/lib/relaydesk',
    nodePath: 'node',
    hasPassword: false,
    hasPassphrase: false,
    hostKey,
    state: st,
  });
  let instances: InstanceView[] = [
    { id: 'local', kind: 'local', name: 'Local relay', dataDir: '/home/admin/.config/Relay Desk/relay', state: state('connected') },
    remote('nas-office', 'NAS office', 'nas-office.lan', state('connected'), { ...KEY_A, addedAt: Date.now() - 86_400_000 * 30, source: 'confirmed' }),
    remote('nas-branch', 'NAS branch', '10.20.0.5', state('host-key-unknown', { message: 'Confirm the host key to connect.', hostKey: { presented: KEY_B, trusted: null } }), null),
    remote('backup', 'Backup NAS', 'backup.lan', state('host-key-changed', { message: 'The host key of backup.lan:22 has changed.', hostKey: { presented: KEY_B, trusted: KEY_A } }), { ...KEY_A, addedAt: Date.now() - 86_400_000 * 90, source: 'known_hosts' }),
  ];
  const relays = new Map<string, RelayState>();
  let settings: Settings = { keepLocalRelayRunning: false, startLocalRelay: true, language: 'system' };

  const emitInstances = (): void => listeners.instances.forEach((l) => l(structuredClone(instances)));
  const setState = (id: string, s: InstanceState): void => {
    instances = instances.map((i) => (i.id === id ? { ...i, state: s } : i));
    listeners.state.forEach((l) => l({ instanceId: id, state: s }));
  };
  const relay = (id: string): RelayState => {
    let r = relays.get(id);
    if (!r) relays.set(id, (r = { config: sampleConfig(), revision: 1 }));
    return r;
  };

  async function control(request: { instanceId: string; method: string; params?: unknown }): Promise<Result<unknown>> {
    await delay(120);
    const inst = instances.find((i) => i.id === request.instanceId);
    if (!inst) return fail('UNKNOWN_INSTANCE', 'no such instance');
    const r = relay(inst.id);
    switch (request.method) {
      case 'status':
        return ok({
          version: '0.1.0', protocol: 1, pid: 4242, startedAt: Date.now() - 18_000_000, uptimeSeconds: 18_000, hostname: 'relay', platform: 'linux',
          nodeVersion: 'v20.20.2', dataDir: '/var/lib/mailrelay', configRevision: String(r.revision), listeners: [], queue: { active: 2, deferred: 14, held: 1, total: 17, oldestAgeSeconds: 5400 }, activity: { smtpSessions: 0, deliveriesInFlight: 0, outboundConnections: 0, outboundBusy: 0, controlConnections: 1 },
        });
      case 'config.get':
        return ok({ config: structuredClone(r.config), revision: String(r.revision) });
      case 'config.apply': {
        const p = request.params as { config: RedactedConfig & { delivery: { relayHost: { password?: string } | null } }; baseRevision: string };
        if (p.baseRevision !== String(r.revision)) return fail('CONFLICT', 'the configuration changed since it was read');
        const next = structuredClone(p.config);
        const rh = next.delivery.relayHost as (RedactedConfig['delivery']['relayHost'] & { password?: string }) | null;
        if (rh) {
          if (rh.password !== undefined) rh.hasPassword = rh.password !== '';
          delete rh.password;
        }
        for (const e of next.delivery.exceptions as Array<{ relayHost: { password?: string; hasPassword: boolean } }>) {
          if (e.relayHost.password !== undefined) e.relayHost.hasPassword = e.relayHost.password !== '';
          delete e.relayHost.password;
        }
        r.config = next;
        r.revision++;
        return ok({ revision: String(r.revision) });
      }
      default:
        return fail('METHOD_NOT_FOUND', `${request.method} is not in the dev stand-in`);
    }
  }

  async function install(instanceId: string, operation: 'install' | 'upgrade'): Promise<Result<never>> {
    const steps = ['connect', 'check-node', 'upload', 'data-dir', 'stop-old', 'start', 'verify'] as const;
    for (const step of steps) {
      const emit = (p: Partial<InstallProgress>): void => listeners.install.forEach((l) => l({ instanceId, operation, step, status: 'running', message: '', ...p }));
      if (step === 'upload') {
        for (let b = 0; b <= 1_800_000; b += 300_000) {
          emit({ bytes: b, totalBytes: 1_800_000, message: 'mailrelay.mjs' });
          await delay(250);
        }
      } else emit({});
      await delay(350);
      emit({ status: 'done' });
    }
    return ok({ relayVersion: '0.1.0', nodeVersion: 'v20.11.1', service: 'systemd-user', bundlePath: '~/.local/lib/relaydesk/mailrelay.mjs', dataDir: '~/.local/share/mailrelay', durationMs: 4200, warnings: [] } as never);
  }

  const api: RelayDeskApi = {
    getAppInfo: () => ok({ appVersion: '0.1.0', bundledRelayVersion: '0.1.0', controlProtocol: 1, platform: 'linux' }),
    getSettings: () => ok(settings),
    updateSettings: (patch) => {
      settings = { ...settings, ...patch };
      listeners.settings.forEach((l) => l(settings));
      return ok(settings);
    },
    listInstances: async () => {
      await delay(80);
      return ok(structuredClone(instances));
    },
    addInstance: async ({ instance }) => {
      const id = instance.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'relay';
      const view = remote(id, instance.name, instance.host, state('disconnected'), null);
      Object.assign(view, { port: instance.port ?? 22, username: instance.username, auth: instance.auth });
      instances = [...instances, view];
      emitInstances();
      return ok(view);
    },
    updateInstance: async ({ instanceId, patch }) => {
      instances = instances.map((i) => (i.id === instanceId && i.kind === 'remote' ? ({ ...i, ...patch } as RemoteInstanceView) : i));
      emitInstances();
      const v = instances.find((i) => i.id === instanceId);
      return v && v.kind === 'remote' ? ok(v) : fail('UNKNOWN_INSTANCE', 'no such instance');
    },
    removeInstance: async ({ instanceId }) => {
      instances = instances.filter((i) => i.id !== instanceId);
      emitInstances();
      return ok({ removed: true as const });
    },
    exportInstances: () => ok({ format: 'relaydesk-instances' as const, version: 1 as const, exportedAt: Date.now(), instances: [] }),
    importInstances: () => ok({ added: [], skipped: [] }),
    pickKeyFile: () => ok({ path: '/home/admin/.ssh/id_ed25519' }),
    connect: async ({ instanceId }) => {
      setState(instanceId, state('connecting', { relayVersion: null }));
      await delay(600);
      const inst = instances.find((i) => i.id === instanceId);
      const next = inst?.kind === 'remote' && !inst.hostKey ? state('host-key-unknown', { hostKey: { presented: KEY_B, trusted: null } }) : state('connected');
      setState(instanceId, next);
      return ok(next);
    },
    disconnect: async ({ instanceId }) => {
      const s = state(instanceId === 'local' ? 'relay-stopped' : 'disconnected', { relayVersion: null });
      setState(instanceId, s);
      return ok(s);
    },
    trustHostKey: async ({ instanceId, fingerprint }) => {
      const key = { algorithm: 'ssh-ed25519', fingerprint, addedAt: Date.now(), source: 'confirmed' as const };
      instances = instances.map((i) => (i.id === instanceId && i.kind === 'remote' ? { ...i, hostKey: key } : i));
      emitInstances();
      setState(instanceId, state('relay-not-installed', { message: 'mailrelay is not installed in ~/.local/lib/relaydesk.' }));
      return ok(key);
    },
    forgetHostKey: async ({ instanceId }) => {
      instances = instances.map((i) => (i.id === instanceId && i.kind === 'remote' ? { ...i, hostKey: null } : i));
      emitInstances();
      return ok({ forgotten: true });
    },
    importKnownHosts: () => ok({ imported: null, candidates: 3 }),
    answerAuthPrompt: () => ok({ accepted: true }),
    installRelay: async ({ instanceId }) => {
      const r = await install(instanceId, 'install');
      setState(instanceId, state('connected'));
      return r;
    },
    upgradeRelay: ({ instanceId }) => install(instanceId, 'upgrade'),
    controlCall: control as RelayDeskApi['controlCall'],
    subscribeLogs: () => ok({ subscribed: true as const }),
    unsubscribeLogs: () => ok({ subscribed: false as const }),
    onInstancesChanged: (l) => (listeners.instances.add(l), () => listeners.instances.delete(l)),
    onInstanceState: (l) => (listeners.state.add(l), () => listeners.state.delete(l)),
    onLogEvent: () => () => {},
    onInstallProgress: (l) => (listeners.install.add(l), () => listeners.install.delete(l)),
    onAuthPrompt: (l) => (listeners.auth.add(l), () => listeners.auth.delete(l)),
    onSettingsChanged: (l) => (listeners.settings.add(l), () => listeners.settings.delete(l)),
  };
  return {
    ...api,
    dev: {
      bumpRevision: (id) => {
        const r = relay(id);
        r.revision++;
        r.config.general.profile.banner = 'ESMTP changed by someone else';
      },
      setState,
    },
  };
}
