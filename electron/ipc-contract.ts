/**
 * The IPC contract between the renderer and the main process (DESIGN §2): every call the renderer may
 * make and every event it may receive, each with a zod schema. Main (and the e2e WebSocket bridge)
 * parses every argument with these schemas; the preload generates `window.relayDesk` from the tables
 * below; the renderer imports the types only. Results cross as data: `{ok:true, value}` or
 * `{ok:false, error:{code, message}}` — a call never rejects.
 */
import { z } from 'zod';
import {
  errorCodes as controlErrorCodes,
  LOCAL_ERROR_CODES,
  issueSchema,
  logFilterSchema,
  logLineSchema,
  methodNames,
  type MethodName,
  type MethodParams,
  type MethodResult,
} from '../server/protocol/index.ts';

// ───────────────────────────── errors and results ─────────────────────────────

/** Codes the app itself answers with (besides the control API's own codes, passed through). */
export const APP_ERROR_CODES = [
  /** An argument from the renderer does not match the contract. */
  'INVALID_ARGUMENT',
  /** The call came from a frame that is not the app's own page. */
  'FORBIDDEN_SENDER',
  /** No instance with that id. */
  'UNKNOWN_INSTANCE',
  /** The instance is not connected (or not in the state the call needs). */
  'NOT_CONNECTED',
  /** The host key the user confirmed is not the one the server presented. */
  'HOST_KEY_MISMATCH',
  /** SSH authentication failed. */
  'AUTH_FAILED',
  /** The remote host cannot run the relay (no Node.js ≥ 18, no write access, …). */
  'HOST_UNSUITABLE',
  /** An install/upgrade step failed. */
  'INSTALL_FAILED',
  /** The operation does not apply to this instance (e.g. install on the local relay). */
  'UNSUPPORTED',
  /** Another operation on the instance is running (e.g. a second install). */
  'BUSY',
  /** The user cancelled (e.g. a keyboard-interactive prompt). */
  'CANCELLED',
] as const;

/** Every error code that may reach the renderer: the app's own plus the control API's. */
export const ipcErrorCodes = [...APP_ERROR_CODES, ...controlErrorCodes, ...LOCAL_ERROR_CODES] as const;
export const ipcErrorCodeSchema = z.enum(ipcErrorCodes);
/** Every error code that may reach the renderer. */
export type IpcErrorCode = z.output<typeof ipcErrorCodeSchema>;

/**
 * A message as a key of the UI catalog with its params, so the renderer can word it in the user's
 * language. A param may itself be such a message: the cause inside a sentence ("cannot install: {reason}").
 */
export interface Say {
  key: string;
  params?: Record<string, string | number | Say>;
}
/** A message key with its params (recursive: a param may be a message). */
export const saySchema: z.ZodType<Say> = z.lazy(() =>
  z.object({ key: z.string(), params: z.record(z.string(), z.union([z.string(), z.number(), saySchema])).optional() }),
);

/**
 * An error as data: a stable code, a message a person can act on (English: logs, older renderers, and
 * the fallback for a key the renderer does not know), key-path issues where useful, and the message as
 * a catalog key (absent for errors of the relay's control API, which keep their English).
 */
export const ipcErrorSchema = z.object({ code: ipcErrorCodeSchema, message: z.string(), issues: z.array(issueSchema).optional(), say: saySchema.optional() });
/** An error as data. */
export type IpcError = z.output<typeof ipcErrorSchema>;

/** The answer of every call. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: IpcError };

// ───────────────────────────── shared value schemas ─────────────────────────────

/** The local relay's fixed id. */
export const LOCAL_INSTANCE_ID = 'local';

/** An instance id: `local` or a generated id (letters, digits, dashes). */
export const instanceIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be an instance id');

/** A host name, IPv4 or IPv6 address (no spaces, no leading dash, so it can never read as an option). */
export const hostSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(253)
  .regex(/^[A-Za-z0-9._:[\]%-]+$/, 'must be a host name or an IP address')
  .refine((h) => !h.startsWith('-'), 'must not start with "-"');

/** An SSH user name (POSIX-ish, as NAS boxes use them). */
export const sshUserSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]*\$?$/, 'must be a user name (letters, digits, _ . @ -)');

/**
 * A path on the remote host, used in shell commands there: absolute or starting with `~/`, from a
 * safe alphabet only (no quotes, spaces, `$`, `;`, `..`), so it can never turn into a command.
 */
export const remotePathSchema = z
  .string()
  .trim()
  .min(2)
  .max(512)
  .regex(/^(~\/|\/)[A-Za-z0-9._/+@-]*$/, 'must be an absolute path or start with ~/ (letters, digits, . _ / + @ - only)')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

/** A command name or absolute path of Node.js on the remote host (same safe alphabet). */
export const remoteCommandSchema = z
  .string()
  .trim()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9._/+@~-]+$/, 'must be a command name or path (letters, digits, . _ / + @ ~ - only)')
  .refine((p) => !p.startsWith('-'), 'must not start with "-"');

/** A private key file on this computer: absolute, no NUL. Only ever read as a key, never executed. */
export const localKeyPathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\u0000'), 'must not contain NUL')
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\') || p.startsWith('~/'), 'must be an absolute path');

/** A secret typed by the user (password or passphrase): write-only, never read back. */
export const secretSchema = z.string().min(1, 'must not be empty').max(4096);

/** How to authenticate to the SSH server. */
export const sshAuthSchema = z.discriminatedUnion(
  'method',
  [
    /** The SSH agent ($SSH_AUTH_SOCK; Pageant on Windows). */
    z.object({ method: z.literal('agent') }).strict(),
    /** A private key file, with an optional passphrase kept in the secret box. */
    z.object({ method: z.literal('key'), keyPath: localKeyPathSchema }).strict(),
    /** A password kept in the secret box. */
    z.object({ method: z.literal('password') }).strict(),
    /** keyboard-interactive: the stored password answers a single hidden prompt; anything else asks the user. */
    z.object({ method: z.literal('keyboard-interactive') }).strict(),
  ],
  { error: 'must be {method: "agent" | "key" | "password" | "keyboard-interactive"}' },
);
/** How to authenticate to the SSH server. */
export type SshAuth = z.output<typeof sshAuthSchema>;

/** Defaults for a remote relay's paths (POSIX hosts). */
export const REMOTE_DEFAULTS = {
  port: 22,
  dataDir: '~/.local/share/mailrelay',
  installDir: '~/.local/lib/relaydesk',
  nodePath: 'node',
} as const;

const remoteInstanceShape = {
  name: z.string().trim().min(1, 'must not be empty').max(100),
  host: hostSchema,
  port: z.number().int().min(1).max(65535),
  username: sshUserSchema,
  auth: sshAuthSchema,
  /** The relay's data dir on the remote host. */
  dataDir: remotePathSchema,
  /** Where the installer puts `mailrelay.mjs` on the remote host. */
  installDir: remotePathSchema,
  /** Node.js on the remote host. */
  nodePath: remoteCommandSchema,
};

/** The stored (non-secret) settings of a remote relay; port and paths have defaults. */
export const remoteInstanceFieldsSchema = z
  .object({
    ...remoteInstanceShape,
    port: remoteInstanceShape.port.default(REMOTE_DEFAULTS.port),
    dataDir: remoteInstanceShape.dataDir.default(REMOTE_DEFAULTS.dataDir),
    installDir: remoteInstanceShape.installDir.default(REMOTE_DEFAULTS.installDir),
    nodePath: remoteInstanceShape.nodePath.default(REMOTE_DEFAULTS.nodePath),
  })
  .strict();

/** A change of some fields (no defaults: an absent field stays as it is). */
export const remoteInstancePatchSchema = z.object(remoteInstanceShape).partial().strict();
/** The stored (non-secret) settings of a remote relay. */
export type RemoteInstanceFields = z.output<typeof remoteInstanceFieldsSchema>;

/** Secrets given with add/update: a string sets it, null deletes it, absent leaves it as is. */
export const instanceSecretsSchema = z
  .object({
    password: secretSchema.nullable().optional(),
    passphrase: secretSchema.nullable().optional(),
  })
  .strict();

/** Arguments of `addInstance`. */
export const addInstanceArgs = z.object({ instance: remoteInstanceFieldsSchema, secrets: instanceSecretsSchema.optional() }).strict();

/** Arguments of `updateInstance`: any subset of the fields. */
export const updateInstanceArgs = z
  .object({
    instanceId: instanceIdSchema,
    patch: remoteInstancePatchSchema.default({}),
    secrets: instanceSecretsSchema.optional(),
  })
  .strict();

/** A host key as shown to people: algorithm and OpenSSH-style SHA-256 fingerprint (`SHA256:…`). */
export const hostKeyInfoSchema = z.object({
  algorithm: z.string(),
  fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be a SHA256: fingerprint'),
});
/** A host key as shown to people. */
export type HostKeyInfo = z.output<typeof hostKeyInfoSchema>;

/** A trusted host key of an instance, with where it came from. */
export const trustedHostKeySchema = hostKeyInfoSchema.extend({
  addedAt: z.number(),
  source: z.enum(['confirmed', 'known_hosts']),
});
/** A trusted host key of an instance. */
export type TrustedHostKey = z.output<typeof trustedHostKeySchema>;

/**
 * Where an instance stands (SPEC §2.1). `disconnected`: idle or between reconnects (see `retryAt`);
 * `host-key-unknown`: waiting for the user to confirm the fingerprint; `failed`: the local relay could
 * not start (the reason is in `message`) — no automatic restarts until the user starts it again.
 */
export const instanceStatuses = [
  'disconnected',
  'connecting',
  'connected',
  'auth-failed',
  'host-key-unknown',
  'host-key-changed',
  'relay-not-installed',
  'relay-stopped',
  'version-mismatch',
  'failed',
] as const;
export const instanceStatusSchema = z.enum(instanceStatuses);
/** Where an instance stands. */
export type InstanceStatus = z.output<typeof instanceStatusSchema>;

/** The live state of one instance. */
export const instanceStateSchema = z.object({
  status: instanceStatusSchema,
  /** One line for people: why it is in this state ("" when connected), in English. */
  message: z.string(),
  /** The same line as a catalog key with params, for the user's language (absent when there is no line). */
  say: saySchema.optional(),
  /** Epoch ms of the last change. */
  since: z.number(),
  /** Epoch ms of the next automatic attempt, or null when none is planned. */
  retryAt: z.number().nullable(),
  /** The relay's version once known. */
  relayVersion: z.string().nullable(),
  /** With host-key-unknown / host-key-changed: what the server presented and what we trust (null if nothing). */
  hostKey: z.object({ presented: hostKeyInfoSchema, trusted: hostKeyInfoSchema.nullable() }).nullable(),
});
/** The live state of one instance. */
export type InstanceState = z.output<typeof instanceStateSchema>;

/** The local relay as listed. */
export const localInstanceViewSchema = z.object({
  id: z.literal(LOCAL_INSTANCE_ID),
  kind: z.literal('local'),
  name: z.string(),
  dataDir: z.string(),
  state: instanceStateSchema,
});

/** A remote relay as listed: its fields, whether secrets are stored (never the secrets), trusted key. */
export const remoteInstanceViewSchema = remoteInstanceFieldsSchema.safeExtend({
  id: instanceIdSchema,
  kind: z.literal('remote'),
  hasPassword: z.boolean(),
  hasPassphrase: z.boolean(),
  hostKey: trustedHostKeySchema.nullable(),
  state: instanceStateSchema,
});

export const instanceViewSchema = z.discriminatedUnion('kind', [localInstanceViewSchema, remoteInstanceViewSchema]);
/** One instance as the renderer sees it. */
export type InstanceView = z.output<typeof instanceViewSchema>;
/** The local relay as the renderer sees it. */
export type LocalInstanceView = z.output<typeof localInstanceViewSchema>;
/** A remote relay as the renderer sees it. */
export type RemoteInstanceView = z.output<typeof remoteInstanceViewSchema>;

/** The export file: remote instances without secrets (and without host keys unless asked). */
export const instanceExportSchema = z
  .object({
    format: z.literal('relaydesk-instances'),
    version: z.literal(1),
    exportedAt: z.number(),
    instances: z
      .array(
        remoteInstanceFieldsSchema.safeExtend({
          hostKey: hostKeyInfoSchema.optional(),
        }),
      )
      .max(1000),
  })
  .strict();
/** The export file. */
export type InstanceExport = z.output<typeof instanceExportSchema>;

/** The UI languages the app ships (window, menu, tray and dialogs). */
export const uiLanguages = ['en', 'de'] as const;
/** A UI language the app ships. */
export type UiLanguage = (typeof uiLanguages)[number];
/** The language setting: a shipped language, or `system` (follow the operating system's language). */
export const languageSettingSchema = z.enum([...uiLanguages, 'system'], { error: 'must be "en", "de" or "system"' });
/** The language setting. */
export type LanguageSetting = z.output<typeof languageSettingSchema>;

/** App-wide settings. */
export const settingsSchema = z.object({
  /** Leave the local relay running when the app quits (tray option). */
  keepLocalRelayRunning: z.boolean(),
  /** Start the local relay when the app starts. */
  startLocalRelay: z.boolean(),
  /** The UI language of the renderer and of main's menu, tray and dialogs (default `system`). */
  language: languageSettingSchema,
});
/** App-wide settings. */
export type Settings = z.output<typeof settingsSchema>;

/** Control methods the renderer may call through `controlCall` (log subscriptions have their own calls). */
export const routedMethodNames = methodNames.filter(
  (m): m is RoutedMethodName => m !== 'auth' && m !== 'logs.subscribe' && m !== 'logs.unsubscribe',
) as [RoutedMethodName, ...RoutedMethodName[]];
/** Control methods the renderer may call through `controlCall`. */
export type RoutedMethodName = Exclude<MethodName, 'auth' | 'logs.subscribe' | 'logs.unsubscribe'>;

/** One install/upgrade step. */
export const installSteps = ['connect', 'check-node', 'upload', 'data-dir', 'stop-old', 'start', 'verify'] as const;
export const installStepSchema = z.enum(installSteps);
/** One install/upgrade step. */
export type InstallStep = z.output<typeof installStepSchema>;

/** The report of an install or upgrade. */
export const installReportSchema = z.object({
  relayVersion: z.string(),
  nodeVersion: z.string(),
  /** How the relay is kept running on the host. */
  service: z.enum(['systemd-user', 'detached']),
  bundlePath: z.string(),
  dataDir: z.string(),
  durationMs: z.number(),
  /** Things the administrator should do on the host (e.g. enable lingering), one sentence each. */
  warnings: z.array(z.string()),
  /** `warnings` as catalog keys, item for item (null for one that has none), for the user's language. */
  warningSays: z.array(saySchema.nullable()).optional(),
});
/** The report of an install or upgrade. */
export type InstallReport = z.output<typeof installReportSchema>;

/** What the app knows about itself. */
export const appInfoSchema = z.object({
  appVersion: z.string(),
  /** The version of the relay bundle that ships with the app (what install/upgrade puts on a host). */
  bundledRelayVersion: z.string(),
  controlProtocol: z.number().int(),
  platform: z.string(),
});
/** What the app knows about itself. */
export type AppInfo = z.output<typeof appInfoSchema>;

const noArgs = z.object({}).strict().default({});
const byInstance = z.object({ instanceId: instanceIdSchema }).strict();

// ───────────────────────────── calls ─────────────────────────────

interface CallDef<F extends string, A extends z.ZodType, R extends z.ZodType> {
  /** The name of the function on `window.relayDesk`. */
  readonly fn: F;
  readonly args: A;
  readonly result: R;
  readonly doc: string;
}
function call<const F extends string, A extends z.ZodType, R extends z.ZodType>(def: CallDef<F, A, R>): CallDef<F, A, R> {
  return def;
}

/** Every call, by IPC channel name. */
export const ipcCalls = {
  'app.info': call({ fn: 'getAppInfo', args: noArgs, result: appInfoSchema, doc: 'App, bundled relay and protocol versions.' }),
  'settings.get': call({ fn: 'getSettings', args: noArgs, result: settingsSchema, doc: 'App-wide settings.' }),
  'settings.update': call({ fn: 'updateSettings', args: settingsSchema.partial().strict(), result: settingsSchema, doc: 'Change some settings; returns all.' }),

  'instances.list': call({ fn: 'listInstances', args: noArgs, result: z.array(instanceViewSchema), doc: 'Every instance, the local relay first, with its live state.' }),
  'instances.add': call({ fn: 'addInstance', args: addInstanceArgs, result: remoteInstanceViewSchema, doc: 'Add a remote relay (secrets go to the OS keychain).' }),
  'instances.update': call({ fn: 'updateInstance', args: updateInstanceArgs, result: remoteInstanceViewSchema, doc: 'Change a remote relay; a changed host/port forgets its trusted host key; reconnects when connected.' }),
  'instances.remove': call({ fn: 'removeInstance', args: byInstance, result: z.object({ removed: z.literal(true) }), doc: 'Disconnect and forget a remote relay and its secrets.' }),
  'instances.export': call({
    fn: 'exportInstances',
    args: z.object({ instanceIds: z.array(instanceIdSchema).max(1000).optional(), includeHostKeys: z.boolean().default(true) }).strict().default({ includeHostKeys: true }),
    result: instanceExportSchema,
    doc: 'The remote relays as an export document (never any secret).',
  }),
  'instances.import': call({
    fn: 'importInstances',
    args: z.object({ document: z.unknown() }).strict(),
    result: z.object({ added: z.array(remoteInstanceViewSchema), skipped: z.array(z.object({ name: z.string(), reason: z.string(), say: saySchema.optional() })) }),
    doc: 'Add the relays of an export document; one with the same host, port and user as an existing one is skipped.',
  }),
  'instances.pickKeyFile': call({ fn: 'pickKeyFile', args: noArgs, result: z.object({ path: z.string().nullable() }), doc: 'Let the user choose a private key file in a native dialog (null when cancelled or unavailable).' }),

  'connection.connect': call({ fn: 'connect', args: byInstance, result: instanceStateSchema, doc: 'Connect (local: start the relay). Resolves when it settles: connected or a state that needs the user.' }),
  'connection.disconnect': call({ fn: 'disconnect', args: byInstance, result: instanceStateSchema, doc: 'Disconnect and stop reconnecting (local: stop the relay).' }),

  'hostKeys.trust': call({
    fn: 'trustHostKey',
    args: z.object({ instanceId: instanceIdSchema, fingerprint: hostKeyInfoSchema.shape.fingerprint }).strict(),
    result: trustedHostKeySchema,
    doc: 'Trust the key the server presented (host-key-unknown, or host-key-changed to replace the old one); the fingerprint must be the one shown. Then connects.',
  }),
  'hostKeys.forget': call({ fn: 'forgetHostKey', args: byInstance, result: z.object({ forgotten: z.boolean() }), doc: 'Forget the trusted host key of an instance.' }),
  'hostKeys.importKnownHosts': call({
    fn: 'importKnownHosts',
    args: byInstance,
    result: z.object({ imported: trustedHostKeySchema.nullable(), candidates: z.number().int() }),
    doc: "Trust the instance's host key from ~/.ssh/known_hosts (hashed entries included), when one is there.",
  }),
  'auth.respond': call({
    fn: 'answerAuthPrompt',
    args: z.object({ promptId: z.string().min(1).max(100), answers: z.array(z.string().max(4096)).max(20).nullable() }).strict(),
    result: z.object({ accepted: z.boolean() }),
    doc: 'Answer a keyboard-interactive prompt (null cancels).',
  }),

  'relay.install': call({ fn: 'installRelay', args: byInstance, result: installReportSchema, doc: 'Install the bundled relay on a remote host and start it; progress comes as install events.' }),
  'relay.upgrade': call({ fn: 'upgradeRelay', args: byInstance, result: installReportSchema, doc: 'Replace the relay on a remote host with the bundled one and restart it; the queue stays.' }),

  'control.call': call({
    fn: 'controlCall',
    args: z.object({ instanceId: instanceIdSchema, method: z.enum(routedMethodNames), params: z.unknown().optional() }).strict(),
    result: z.unknown(),
    doc: "Call a control API method on one instance; params and result follow server/protocol's method table.",
  }),
  'logs.subscribe': call({
    fn: 'subscribeLogs',
    args: z.object({ instanceId: instanceIdSchema, filter: logFilterSchema.default({}) }).strict(),
    result: z.object({ subscribed: z.literal(true) }),
    doc: "Receive the instance's log lines as log events (again: replaces the filter; kept across reconnects).",
  }),
  'logs.unsubscribe': call({ fn: 'unsubscribeLogs', args: byInstance, result: z.object({ subscribed: z.literal(false) }), doc: 'Stop the log events of an instance.' }),
} as const;

/** IPC channel names of calls. */
export type CallChannel = keyof typeof ipcCalls;
/** Arguments as the renderer passes them. */
export type CallArgs<C extends CallChannel> = z.input<(typeof ipcCalls)[C]['args']>;
/** Arguments after validation (defaults filled). */
export type ParsedCallArgs<C extends CallChannel> = z.output<(typeof ipcCalls)[C]['args']>;
/** A call's value on success. */
export type CallValue<C extends CallChannel> = z.output<(typeof ipcCalls)[C]['result']>;

// ───────────────────────────── events ─────────────────────────────

interface EventDef<F extends string, P extends z.ZodType> {
  /** The name of the subscription function on `window.relayDesk`. */
  readonly fn: F;
  readonly payload: P;
  readonly doc: string;
}
function event<const F extends string, P extends z.ZodType>(def: EventDef<F, P>): EventDef<F, P> {
  return def;
}

/** Progress of an install or upgrade. */
export const installProgressSchema = z.object({
  instanceId: instanceIdSchema,
  operation: z.enum(['install', 'upgrade']),
  step: installStepSchema,
  status: z.enum(['running', 'done', 'failed']),
  /** What is happening, in English (also what a failure says). */
  message: z.string(),
  /**
   * The same as a message key of the UI catalog (`connection.install.say.<key>`) with its params,
   * for the user's language; absent for failures (the error's message is shown as it is).
   */
  say: z.object({ key: z.string(), params: z.record(z.string(), z.string()) }).optional(),
  /** For `upload`: bytes sent so far and in all. */
  bytes: z.number().optional(),
  totalBytes: z.number().optional(),
});
/** Progress of an install or upgrade. */
export type InstallProgress = z.output<typeof installProgressSchema>;

/** A keyboard-interactive prompt the user must answer with `answerAuthPrompt`. */
export const authPromptSchema = z.object({
  promptId: z.string(),
  instanceId: instanceIdSchema,
  name: z.string(),
  instructions: z.string(),
  prompts: z.array(z.object({ prompt: z.string(), echo: z.boolean() })),
});
/** A keyboard-interactive prompt. */
export type AuthPrompt = z.output<typeof authPromptSchema>;

/** Every event, by IPC channel name. */
export const ipcEvents = {
  'instances.changed': event({ fn: 'onInstancesChanged', payload: z.array(instanceViewSchema), doc: 'The list changed (added, removed, edited, host key trusted).' }),
  'instance.state': event({ fn: 'onInstanceState', payload: z.object({ instanceId: instanceIdSchema, state: instanceStateSchema }), doc: 'One instance changed state.' }),
  'logs.event': event({
    fn: 'onLogEvent',
    payload: z.object({ instanceId: instanceIdSchema, line: logLineSchema, dropped: z.number().int().optional() }),
    doc: 'A log line of a subscribed instance.',
  }),
  'install.progress': event({ fn: 'onInstallProgress', payload: installProgressSchema, doc: 'A step of an install or upgrade.' }),
  'auth.prompt': event({ fn: 'onAuthPrompt', payload: authPromptSchema, doc: 'An SSH server asks keyboard-interactive questions.' }),
  'settings.changed': event({ fn: 'onSettingsChanged', payload: settingsSchema, doc: 'Settings changed (e.g. from the tray menu).' }),
} as const;

/** IPC channel names of events. */
export type EventChannel = keyof typeof ipcEvents;
/** An event's payload. */
export type EventPayload<E extends EventChannel> = z.output<(typeof ipcEvents)[E]['payload']>;

/** Every IPC channel carries this prefix; the preload and main accept no other. */
export const IPC_PREFIX = 'relay-desk:';

// ───────────────────────────── window.relayDesk ─────────────────────────────

type CallFns = {
  [C in CallChannel as (typeof ipcCalls)[C]['fn']]: C extends 'control.call'
    ? never
    : // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every argument is optional"
      {} extends CallArgs<C>
      ? (args?: CallArgs<C>) => Promise<Result<CallValue<C>>>
      : (args: CallArgs<C>) => Promise<Result<CallValue<C>>>;
};
type EventFns = {
  [E in EventChannel as (typeof ipcEvents)[E]['fn']]: (listener: (payload: EventPayload<E>) => void) => () => void;
};

/** A control call routed to one instance, typed from server/protocol's method table. */
export type ControlCallRequest<M extends RoutedMethodName> = { instanceId: string; method: M } & (
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every param is optional"
  {} extends MethodParams<M> ? { params?: MethodParams<M> } : { params: MethodParams<M> }
);

/**
 * What `window.relayDesk` looks like: one function per call (resolving with a Result, never
 * rejecting), one `on*` per event (returning an unsubscribe function).
 */
export type RelayDeskApi = Omit<CallFns, 'controlCall'> &
  EventFns & {
    controlCall<M extends RoutedMethodName>(request: ControlCallRequest<M>): Promise<Result<MethodResult<M>>>;
  };

/** The names of the call functions and event subscriptions, for generating an implementation. */
export const apiFunctionNames = {
  calls: Object.fromEntries(Object.entries(ipcCalls).map(([channel, def]) => [def.fn, channel])) as Record<string, CallChannel>,
  events: Object.fromEntries(Object.entries(ipcEvents).map(([channel, def]) => [def.fn, channel])) as Record<string, EventChannel>,
};

// ───────────────────────────── validation ─────────────────────────────

function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of p) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

/** Parse `input` with `schema`: the value, or an INVALID_ARGUMENT error naming every key path. */
export function parseArg<S extends z.ZodType>(schema: S, input: unknown, what: string): Result<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => ({
    path: formatPath(i.path),
    message: i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message,
  }));
  return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues } };
}

/** Validate the arguments of a call that came in on `channel` (unknown channel names are refused too). */
export function parseCallArgs(channel: string, input: unknown): Result<{ channel: CallChannel; args: unknown }> {
  if (!Object.hasOwn(ipcCalls, channel)) return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `unknown call "${channel}"` } };
  const c = channel as CallChannel;
  const r = parseArg(ipcCalls[c].args, input === undefined ? {} : input, `${ipcCalls[c].fn}()`);
  return r.ok ? { ok: true, value: { channel: c, args: r.value } } : r;
}
