/** Load, validate and atomically save the relay config file. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { relayConfigSchema, type RelayConfig } from './schema.ts';
import { writeFileAtomic } from '../queue/atomic-file.ts';

/** One problem with a config: where it is and what is wrong, in words a person can act on. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type ConfigResult = { ok: true; config: RelayConfig } | { ok: false; issues: ConfigIssue[] };

/** Render a zod issue path like ["listeners", 0, "port"] as "listeners[0].port". */
export function formatKeyPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of p) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

/** Validate any value as a relay config; unknown keys and bad values come back as issues. */
export function validateConfig(input: unknown): ConfigResult {
  const r = relayConfigSchema.safeParse(input);
  if (r.success) return { ok: true, config: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => {
      const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return { path: formatKeyPath(i.path), message: i.code === 'unrecognized_keys' ? `unknown key${keys}` : i.message };
    }),
  };
}

/** The embedded default config: what `mailrelay serve` writes on first start. */
export function defaultConfig(): RelayConfig {
  return relayConfigSchema.parse({});
}

/** Thrown for a config file that cannot be used; the message names the file and every key path. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** Read and validate a config file. */
export async function loadConfigFile(file: string): Promise<RelayConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'file not found' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigFileError(file, [{ path: '(file)', message: why }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(file, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const r = validateConfig(json);
  if (!r.ok) throw new ConfigFileError(file, r.issues);
  return r.config;
}

/** Write a config atomically (temp + fsync + rename + directory fsync), mode 0600 as it may hold secrets. */
export async function saveConfigFile(file: string, config: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n', 0o600);
}
