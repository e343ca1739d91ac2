/**
 * A `RelayDeskApi` for component tests: every call answers a neutral success unless the test
 * overrides it, control methods are answered by per-method handlers, every call is recorded, and
 * events can be emitted by the test. Not a model of the real services — tests state what they need.
 */
import { vi } from 'vitest';
import type { InstanceView, RelayDeskApi, Result } from '../api/relay-desk.ts';
import type { RedactedConfig } from '../../../server/protocol/index.ts';
import { relayConfigSchema } from '../../../server/config/schema.ts';
import { ConfigEditors } from '../state/config-editor.svelte.ts';
import { appContextMap, type AppContext } from '../state/context.ts';
import { InstancesStore } from '../state/instances.svelte.ts';
import { Navigation, type Route } from '../state/navigation.svelte.ts';

type ControlHandler = (params: unknown) => Result<unknown> | Promise<Result<unknown>>;
type Listeners = Record<string, Set<(payload: unknown) => void>>;

export interface TestApi {
  api: RelayDeskApi;
  /** Answer a control method (`config.get`, …). */
  control: Map<string, ControlHandler>;
  /** Every control call as made. */
  controlCalls: Array<{ instanceId: string; method: string; params?: unknown }>;
  /** Fire an event as the main process would (`onInstanceState`, …). */
  emit(fn: string, payload: unknown): void;
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** A complete redacted config from the relay's defaults, changed by `patch`. */
export function redactedConfig(input: unknown = {}, hasPassword = false): RedactedConfig {
  const c = relayConfigSchema.parse(input);
  const redact = (rh: { password: string } & Record<string, unknown>) => {
    const { password: _password, ...rest } = rh;
    return { ...rest, hasPassword } as never;
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

export function localInstance(status: InstanceView['state']['status'] = 'connected'): InstanceView {
  return {
    id: 'local',
    kind: 'local',
    name: 'Local relay',
    dataDir: '/data',
    state: { status, message: '', since: 0, retryAt: null, relayVersion: '0.1.0', hostKey: null },
  };
}

export function createTestApi(overrides: Partial<RelayDeskApi> = {}, instances: InstanceView[] = [localInstance()]): TestApi {
  const listeners: Listeners = {};
  const control = new Map<string, ControlHandler>();
  const controlCalls: TestApi['controlCalls'] = [];
  const on =
    (fn: string) =>
    (listener: (payload: never) => void): (() => void) => {
      const set = (listeners[fn] ??= new Set());
      set.add(listener as (payload: unknown) => void);
      return () => set.delete(listener as (payload: unknown) => void);
    };
  const resolved = <T>(value: T) => vi.fn(async () => ok(value));
  const api = {
    getAppInfo: resolved({ appVersion: '0.1.0', bundledRelayVersion: '0.1.0', controlProtocol: 1, platform: 'linux' }),
    getSettings: resolved({ keepLocalRelayRunning: false, startLocalRelay: true }),
    updateSettings: resolved({ keepLocalRelayRunning: false, startLocalRelay: true }),
    listInstances: vi.fn(async () => ok(structuredClone(instances))),
    addInstance: vi.fn(),
    updateInstance: vi.fn(),
    removeInstance: resolved({ removed: true }),
    exportInstances: vi.fn(),
    importInstances: vi.fn(),
    pickKeyFile: resolved({ path: null }),
    connect: vi.fn(),
    disconnect: vi.fn(),
    trustHostKey: vi.fn(),
    forgetHostKey: resolved({ forgotten: true }),
    importKnownHosts: resolved({ imported: null, candidates: 0 }),
    answerAuthPrompt: resolved({ accepted: true }),
    installRelay: vi.fn(),
    upgradeRelay: vi.fn(),
    subscribeLogs: resolved({ subscribed: true }),
    unsubscribeLogs: resolved({ subscribed: false }),
    controlCall: vi.fn(async (request: { instanceId: string; method: string; params?: unknown }) => {
      controlCalls.push(structuredClone(request));
      const handler = control.get(request.method);
      if (!handler) return { ok: false, error: { code: 'METHOD_NOT_FOUND', message: `no test handler for ${request.method}` } };
      return handler(structuredClone(request.params));
    }),
    onInstancesChanged: on('onInstancesChanged'),
    onInstanceState: on('onInstanceState'),
    onLogEvent: on('onLogEvent'),
    onInstallProgress: on('onInstallProgress'),
    onAuthPrompt: on('onAuthPrompt'),
    onSettingsChanged: on('onSettingsChanged'),
    ...overrides,
  } as unknown as RelayDeskApi;
  return {
    api,
    control,
    controlCalls,
    emit: (fn, payload) => listeners[fn]?.forEach((l) => l(payload)),
  };
}

/** The shell's shared state around a test api, loaded, plus the `context` option for render(). */
export async function testContext(api: RelayDeskApi, initial: Route = { kind: 'instance', instanceId: 'local', pageId: 'mail-general' }): Promise<{ ctx: AppContext; context: Map<symbol, AppContext> }> {
  const instances = new InstancesStore(api);
  await instances.refresh();
  const ctx: AppContext = { api, instances, nav: new Navigation({ initial }), configEditors: new ConfigEditors(api) };
  return { ctx, context: appContextMap(ctx) };
}
