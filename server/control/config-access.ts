/**
 * The config as the control API shows and takes it (SPEC §1.2): reads redact relay-host passwords to
 * `hasPassword`; writes that leave a password out keep the stored one — only while host and username
 * are unchanged, so an edit can never send an old password to a new server.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { validateConfig } from '../config/config-file.ts';
import type { RelayConfig, RelayHost } from '../config/schema.ts';
import { ControlError, applyConfigSchema, issuesFromZod, type ApplyConfig, type Issue, type RedactedConfig } from '../protocol/index.ts';

type ApplyRelayHost = NonNullable<ApplyConfig['delivery']['relayHost']>;

/** The config with every relay-host password replaced by `hasPassword`. */
export function redactConfig(config: RelayConfig): RedactedConfig {
  const redact = ({ password, ...rest }: RelayHost) => ({ ...rest, hasPassword: password !== '' });
  const { delivery } = config;
  return {
    ...config,
    delivery: {
      ...delivery,
      relayHost: delivery.relayHost ? redact(delivery.relayHost) : null,
      exceptions: delivery.exceptions.map((e) => ({ ...e, relayHost: redact(e.relayHost) })),
    },
  };
}

function restoreHost(host: ApplyRelayHost, old: RelayHost | null | undefined): RelayHost {
  const { password, hasPassword: _ignored, ...rest } = host;
  if (password !== undefined) return { ...rest, password };
  const same = old && old.host.toLowerCase() === rest.host.toLowerCase() && old.username === rest.username;
  return { ...rest, password: same ? old.password : '' };
}

/** Fill the passwords a write left out from the current config (relay exceptions are matched by name). */
export function restoreSecrets(input: ApplyConfig, current: RelayConfig): RelayConfig {
  const oldExceptions = new Map(current.delivery.exceptions.map((e) => [e.name, e.relayHost] as const));
  return {
    ...input,
    delivery: {
      ...input.delivery,
      relayHost: input.delivery.relayHost ? restoreHost(input.delivery.relayHost, current.delivery.relayHost) : null,
      exceptions: input.delivery.exceptions.map((e) => ({ ...e, relayHost: restoreHost(e.relayHost, oldExceptions.get(e.name)) })),
    },
  };
}

/** The outcome of checking a config written through the API. */
export type ConfigWriteCheck = { ok: true; config: RelayConfig } | { ok: false; issues: Issue[] };

/** Check a config as `config.validate` / `config.apply` take it: every problem with its key path (from the config's root). */
export function checkConfigWrite(input: unknown, current: RelayConfig): ConfigWriteCheck {
  const parsed = applyConfigSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error) };
  const r = validateConfig(restoreSecrets(parsed.data, current));
  return r.ok ? { ok: true, config: r.config } : { ok: false, issues: r.issues };
}

/** Like checkConfigWrite, but throws CONFIG_INVALID listing every problem. */
export function resolveConfigWrite(input: unknown, current: RelayConfig): RelayConfig {
  const r = checkConfigWrite(input, current);
  if (r.ok) return r.config;
  throw new ControlError('CONFIG_INVALID', `the config is not valid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, r.issues);
}

/**
 * Keys the revision. The config it is computed over holds the relay-host passwords, and a plain hash
 * of it would let any reader (read-only key, `status`) test password guesses offline against the
 * revision, since everything else in the config is shown to them.
 */
const REVISION_KEY = randomBytes(32);

/**
 * A revision for `config.get` / `config.apply`: changes whenever the effective config does (also when
 * only a password does). Valid for the life of the process: after a restart, apply on a fresh read.
 */
export function configRevision(config: RelayConfig): string {
  return createHmac('sha256', REVISION_KEY).update(JSON.stringify(config)).digest('hex').slice(0, 16);
}
