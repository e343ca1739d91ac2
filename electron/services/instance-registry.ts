/**
 * The list of remote relays and the app's settings, kept in a KeyValueStore, with passwords and
 * passphrases in a SecretBox (never in the store). Everything read back from the store is parsed:
 * a damaged record is dropped with a note instead of breaking the app. Export documents never carry
 * secrets.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import {
  instanceExportSchema,
  remoteInstanceFieldsSchema,
  settingsSchema,
  trustedHostKeySchema,
  type InstanceExport,
  type RemoteInstanceFields,
  type Say,
  type Settings,
  type TrustedHostKey,
} from '../ipc-contract.ts';
import { said } from './app-error-text.ts';
import { AppError } from './app-error.ts';
import type { KeyValueStore } from './key-value-store.ts';
import type { SecretBox } from './secret-box.ts';

/** A remote relay as stored. */
export const storedInstanceSchema = remoteInstanceFieldsSchema.safeExtend({
  id: z.string().min(1),
  hostKey: trustedHostKeySchema.nullable().default(null),
  createdAt: z.number().default(0),
});
/** A remote relay as stored. */
export type StoredInstance = z.output<typeof storedInstanceSchema>;

/** Secrets given with add/update: a string sets, null deletes, undefined keeps. */
export interface SecretsPatch {
  password?: string | null | undefined;
  passphrase?: string | null | undefined;
}

const DEFAULT_SETTINGS: Settings = { keepLocalRelayRunning: false, startLocalRelay: true, language: 'system' };

/** Events of the registry. */
export interface RegistryEvents {
  /** The instance list or a record changed. */
  changed: [];
  settings: [Settings];
}

/** Instances and settings on top of a store and a secret box. */
export class InstanceRegistry extends EventEmitter<RegistryEvents> {
  constructor(
    private readonly store: KeyValueStore,
    private readonly secrets: SecretBox,
    private readonly warn: (message: string) => void = () => {},
  ) {
    super();
  }

  list(): StoredInstance[] {
    const raw = this.store.get('instances');
    if (!Array.isArray(raw)) return [];
    const out: StoredInstance[] = [];
    for (const item of raw) {
      const r = storedInstanceSchema.safeParse(item);
      if (r.success) out.push(r.data);
      else this.warn(`ignoring a damaged instance record: ${r.error.issues[0]?.message ?? 'invalid'}`);
    }
    return out;
  }

  /** The instance, or UNKNOWN_INSTANCE. */
  get(id: string): StoredInstance {
    const found = this.list().find((i) => i.id === id);
    if (!found) throw new AppError('UNKNOWN_INSTANCE', said('instances.unknown', { id }));
    return found;
  }

  add(fields: RemoteInstanceFields, secrets: SecretsPatch = {}): StoredInstance {
    const list = this.list();
    this.checkName(list, fields.name, null);
    const record: StoredInstance = { ...fields, id: randomUUID(), hostKey: null, createdAt: Date.now() };
    this.checkSecrets(record, secrets);
    this.applySecrets(record, secrets);
    this.save([...list, record]);
    return record;
  }

  update(id: string, patch: Partial<RemoteInstanceFields>, secrets: SecretsPatch = {}): { before: StoredInstance; after: StoredInstance } {
    const list = this.list();
    const before = list.find((i) => i.id === id);
    if (!before) throw new AppError('UNKNOWN_INSTANCE', said('instances.unknown', { id }));
    if (patch.name !== undefined) this.checkName(list, patch.name, id);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<RemoteInstanceFields>;
    const after: StoredInstance = { ...before, ...defined };
    // A key trusted for one address says nothing about another.
    if (after.host !== before.host || after.port !== before.port) after.hostKey = null;
    this.checkSecrets(after, secrets);
    this.applySecrets(after, secrets);
    if (after.auth.method !== 'key') this.secrets.delete(secretName(id, 'passphrase'));
    if (after.auth.method !== 'password' && after.auth.method !== 'keyboard-interactive') this.secrets.delete(secretName(id, 'password'));
    this.save(list.map((i) => (i.id === id ? after : i)));
    return { before, after };
  }

  remove(id: string): void {
    const list = this.list();
    if (!list.some((i) => i.id === id)) throw new AppError('UNKNOWN_INSTANCE', said('instances.unknown', { id }));
    this.secrets.delete(secretName(id, 'password'));
    this.secrets.delete(secretName(id, 'passphrase'));
    this.save(list.filter((i) => i.id !== id));
  }

  setHostKey(id: string, key: TrustedHostKey | null): void {
    const list = this.list();
    if (!list.some((i) => i.id === id)) throw new AppError('UNKNOWN_INSTANCE', said('instances.unknown', { id }));
    this.save(list.map((i) => (i.id === id ? { ...i, hostKey: key } : i)));
  }

  password(id: string): string | null {
    return this.secrets.get(secretName(id, 'password'));
  }
  passphrase(id: string): string | null {
    return this.secrets.get(secretName(id, 'passphrase'));
  }

  /** An export document of some (default: all) instances: no secrets, host keys only when asked. */
  exportDocument(ids: string[] | undefined, includeHostKeys: boolean): InstanceExport {
    const list = this.list().filter((i) => !ids || ids.includes(i.id));
    if (ids) for (const id of ids) if (!list.some((i) => i.id === id)) throw new AppError('UNKNOWN_INSTANCE', said('instances.unknown', { id }));
    return {
      format: 'relaydesk-instances',
      version: 1,
      exportedAt: Date.now(),
      instances: list.map((i) => {
        const fields: RemoteInstanceFields = remoteInstanceFieldsSchema.parse({
          name: i.name,
          host: i.host,
          port: i.port,
          username: i.username,
          auth: i.auth,
          dataDir: i.dataDir,
          installDir: i.installDir,
          nodePath: i.nodePath,
        });
        return includeHostKeys && i.hostKey ? { ...fields, hostKey: { algorithm: i.hostKey.algorithm, fingerprint: i.hostKey.fingerprint } } : fields;
      }),
    };
  }

  /** Add the instances of an export document; the same host+port+user (or name) as an existing one is skipped. */
  importDocument(document: unknown): { added: StoredInstance[]; skipped: { name: string; reason: string; say?: Say }[] } {
    const parsed = instanceExportSchema.safeParse(document);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new AppError('INVALID_ARGUMENT', said('instances.notAnExport', { detail: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid' }));
    }
    const list = this.list();
    const added: StoredInstance[] = [];
    const skipped: { name: string; reason: string; say?: Say }[] = [];
    for (const entry of parsed.data.instances) {
      const { hostKey, ...fields } = entry;
      const same = list.find((i) => i.host.toLowerCase() === fields.host.toLowerCase() && i.port === fields.port && i.username === fields.username);
      if (same) {
        const why = said('instances.importDuplicate', { existing: same.name, target: `${fields.username}@${fields.host}:${fields.port}` });
        skipped.push({ name: fields.name, reason: why.message, say: why.say });
        continue;
      }
      if (list.some((i) => i.name.toLowerCase() === fields.name.toLowerCase())) {
        const why = said('instances.importNameTaken');
        skipped.push({ name: fields.name, reason: why.message, say: why.say });
        continue;
      }
      const record: StoredInstance = {
        ...fields,
        id: randomUUID(),
        // An imported fingerprint is what the exporting user confirmed; keep where it came from honest.
        hostKey: hostKey ? { ...hostKey, addedAt: Date.now(), source: 'confirmed' } : null,
        createdAt: Date.now(),
      };
      list.push(record);
      added.push(record);
    }
    if (added.length) this.save(list);
    return { added, skipped };
  }

  settings(): Settings {
    const raw = this.store.get('settings');
    const stored = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    // Field by field: one unreadable value (e.g. a language a newer version wrote) falls back to its
    // default without resetting the others.
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const [key, schema] of Object.entries(settingsSchema.shape)) {
      const r = schema.safeParse(stored[key]);
      if (r.success) out[key] = r.data;
    }
    return out as Settings;
  }

  updateSettings(patch: Partial<Settings>): Settings {
    const next = { ...this.settings(), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    this.store.set('settings', next);
    this.emit('settings', next);
    return next;
  }

  private save(list: StoredInstance[]): void {
    this.store.set('instances', list);
    this.emit('changed');
  }

  private checkName(list: StoredInstance[], name: string, self: string | null): void {
    if (list.some((i) => i.id !== self && i.name.toLowerCase() === name.toLowerCase())) {
      throw new AppError('CONFLICT', said('instances.nameTaken', { name }));
    }
  }

  private checkSecrets(record: StoredInstance, secrets: SecretsPatch): void {
    if (typeof secrets.passphrase === 'string' && record.auth.method !== 'key') {
      throw new AppError('INVALID_ARGUMENT', said('instances.passphraseWithoutKey'));
    }
    if (typeof secrets.password === 'string' && record.auth.method !== 'password' && record.auth.method !== 'keyboard-interactive') {
      throw new AppError('INVALID_ARGUMENT', said('instances.passwordNotUsed', { method: record.auth.method }));
    }
    if ((typeof secrets.password === 'string' || typeof secrets.passphrase === 'string') && !this.secrets.available) {
      throw new AppError('UNSUPPORTED', said('instances.noKeychain'));
    }
  }

  private applySecrets(record: StoredInstance, secrets: SecretsPatch): void {
    for (const kind of ['password', 'passphrase'] as const) {
      const v = secrets[kind];
      if (typeof v === 'string') this.secrets.set(secretName(record.id, kind), v);
      else if (v === null) this.secrets.delete(secretName(record.id, kind));
    }
  }

  hasSecret(id: string, kind: 'password' | 'passphrase'): boolean {
    return this.secrets.get(secretName(id, kind)) !== null;
  }
}

function secretName(id: string, kind: 'password' | 'passphrase'): string {
  return `${id}.${kind}`;
}
