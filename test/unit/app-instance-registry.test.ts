/**
 * The instance registry on a real `conf` store file (what electron-store writes in the app) with the
 * file-backed PlaintextTestSecretBox standing in for the OS keychain; and EncryptedSecretBox with a
 * stand-in for Electron's safeStorage.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RemoteInstanceFields } from '../../electron/ipc-contract.ts';
import { instanceExportSchema, remoteInstanceFieldsSchema } from '../../electron/ipc-contract.ts';
import { InstanceRegistry } from '../../electron/services/instance-registry.ts';
import { createConfStore, createMemoryStore } from '../../electron/services/key-value-store.ts';
import { EncryptedSecretBox, PlaintextTestSecretBox, type StringEncryptor } from '../../electron/services/secret-box.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

const dirs: TempDir[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function setup() {
  const dir = makeTempDir('app-registry-');
  dirs.push(dir);
  const store = createConfStore(dir.path);
  const secrets = new PlaintextTestSecretBox(path.join(dir.path, 'secrets.json'));
  const warnings: string[] = [];
  return { dir, store, secrets, warnings, registry: new InstanceRegistry(store, secrets, (m) => warnings.push(m)), storeFile: path.join(dir.path, 'relay-desk.json') };
}

const nas = (over: Partial<RemoteInstanceFields> = {}): RemoteInstanceFields =>
  remoteInstanceFieldsSchema.parse({ name: 'NAS', host: 'nas.local', username: 'admin', auth: { method: 'password' }, ...over });

describe('instance registry', () => {
  it('stores instances in the store and secrets only in the secret box', () => {
    const { registry, storeFile, secrets } = setup();
    const a = registry.add(nas(), { password: 'hunter2-secret' });
    expect(registry.list()).toHaveLength(1);
    expect(registry.password(a.id)).toBe('hunter2-secret');
    expect(registry.hasSecret(a.id, 'password')).toBe(true);
    expect(readFileSync(storeFile, 'utf8')).not.toContain('hunter2-secret');
    expect(secrets.raw()).toContain('hunter2-secret');
  });

  it('refuses duplicate names and secrets that do not fit the auth method', () => {
    const { registry } = setup();
    registry.add(nas());
    expect(() => registry.add(nas({ host: 'other' }))).toThrow(/named "NAS" exists/);
    expect(() => registry.add(nas({ name: 'B', auth: { method: 'agent' } }), { password: 'x' })).toThrow(/uses no password/);
    expect(() => registry.add(nas({ name: 'C' }), { passphrase: 'x' })).toThrow(/only a key file has a passphrase/);
  });

  it('forgets the host key when host or port change, and secrets when the auth method no longer uses them', () => {
    const { registry } = setup();
    const a = registry.add(nas(), { password: 'pw' });
    registry.setHostKey(a.id, { algorithm: 'ssh-ed25519', fingerprint: `SHA256:${'a'.repeat(43)}`, addedAt: 1, source: 'confirmed' });
    registry.update(a.id, { name: 'NAS 2' });
    expect(registry.get(a.id).hostKey).not.toBeNull();
    registry.update(a.id, { port: 2222 });
    expect(registry.get(a.id).hostKey).toBeNull();
    registry.update(a.id, { auth: { method: 'agent' } });
    expect(registry.password(a.id)).toBeNull();
  });

  it('removes an instance with its secrets', () => {
    const { registry, secrets } = setup();
    const a = registry.add(nas(), { password: 'pw-to-forget' });
    registry.remove(a.id);
    expect(registry.list()).toEqual([]);
    expect(secrets.raw()).not.toContain('pw-to-forget');
    expect(() => registry.get(a.id)).toThrow(/no instance/);
  });

  it('exports without secrets and imports, skipping what exists', () => {
    const { registry } = setup();
    const a = registry.add(nas({ auth: { method: 'key', keyPath: '/home/admin/.ssh/id_ed25519' } }), { passphrase: 'secret-pp' });
    registry.setHostKey(a.id, { algorithm: 'ssh-ed25519', fingerprint: `SHA256:${'b'.repeat(43)}`, addedAt: 1, source: 'confirmed' });
    const doc = registry.exportDocument(undefined, true);
    expect(instanceExportSchema.safeParse(doc).success).toBe(true);
    expect(JSON.stringify(doc)).not.toContain('secret-pp');
    expect(doc.instances[0]).toMatchObject({ name: 'NAS', hostKey: { fingerprint: `SHA256:${'b'.repeat(43)}` } });
    expect(registry.exportDocument(undefined, false).instances[0]).not.toHaveProperty('hostKey');

    const other = setup().registry;
    const r1 = other.importDocument(JSON.parse(JSON.stringify(doc)));
    expect(r1.added).toHaveLength(1);
    expect(other.get(r1.added[0]!.id).hostKey?.fingerprint).toBe(`SHA256:${'b'.repeat(43)}`);
    expect(other.passphrase(r1.added[0]!.id)).toBeNull();
    const r2 = other.importDocument(doc);
    expect(r2.added).toEqual([]);
    expect(r2.skipped[0]!.reason).toMatch(/already connects to admin@nas\.local:22/);
  });

  it('refuses a document that is not an export, naming the problem', () => {
    const { registry } = setup();
    expect(() => registry.importDocument({ format: 'something-else' })).toThrow(/not a Relay Desk instance export: format/);
    expect(() => registry.importDocument({ format: 'relaydesk-instances', version: 1, exportedAt: 0, instances: [{ name: 'x', host: '-oProxyCommand=x', username: 'a', auth: { method: 'agent' } }] })).toThrow(/instances\.0\.host/);
  });

  it('drops a damaged record with a warning instead of failing', () => {
    const { registry, store, warnings } = setup();
    registry.add(nas());
    store.set('instances', [...(store.get('instances') as unknown[]), { id: 'broken', host: 42 }]);
    expect(registry.list().map((i) => i.name)).toEqual(['NAS']);
    expect(warnings[0]).toMatch(/damaged instance record/);
  });

  it('keeps settings with defaults', () => {
    const { registry } = setup();
    expect(registry.settings()).toEqual({ keepLocalRelayRunning: false, startLocalRelay: true, language: 'system' });
    const seen: unknown[] = [];
    registry.on('settings', (s) => seen.push(s));
    expect(registry.updateSettings({ keepLocalRelayRunning: true })).toEqual({ keepLocalRelayRunning: true, startLocalRelay: true, language: 'system' });
    expect(seen).toHaveLength(1);
  });

  it('stores the UI language in the store file and reads it back in a new registry', () => {
    const { registry, dir, secrets, storeFile } = setup();
    const seen: unknown[] = [];
    registry.on('settings', (s) => seen.push(s));
    expect(registry.updateSettings({ language: 'de' })).toEqual({ keepLocalRelayRunning: false, startLocalRelay: true, language: 'de' });
    expect(seen).toEqual([{ keepLocalRelayRunning: false, startLocalRelay: true, language: 'de' }]);
    expect(JSON.parse(readFileSync(storeFile, 'utf8')).settings).toMatchObject({ language: 'de' });
    // As after a restart: a fresh store on the same file.
    const again = new InstanceRegistry(createConfStore(dir.path), secrets);
    expect(again.settings().language).toBe('de');
    again.updateSettings({ keepLocalRelayRunning: true });
    expect(new InstanceRegistry(createConfStore(dir.path), secrets).settings()).toEqual({ keepLocalRelayRunning: true, startLocalRelay: true, language: 'de' });
    again.updateSettings({ language: 'system' });
    expect(new InstanceRegistry(createConfStore(dir.path), secrets).settings().language).toBe('system');
  });

  it('falls back to the default for an unreadable stored setting without losing the others', () => {
    const { registry, store } = setup();
    store.set('settings', { keepLocalRelayRunning: true, startLocalRelay: false, language: 'fr' });
    expect(registry.settings()).toEqual({ keepLocalRelayRunning: true, startLocalRelay: false, language: 'system' });
    store.set('settings', { keepLocalRelayRunning: true });
    expect(registry.settings()).toEqual({ keepLocalRelayRunning: true, startLocalRelay: true, language: 'system' });
    store.set('settings', 'junk');
    expect(registry.settings()).toEqual({ keepLocalRelayRunning: false, startLocalRelay: true, language: 'system' });
  });
});

/** Stands in for Electron's safeStorage: reversible, but not plain text. */
function fakeSafeStorage(available = true): StringEncryptor {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (s) => Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a)),
    decryptString: (b) => Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'),
  };
}

describe('EncryptedSecretBox (safeStorage stand-in)', () => {
  it('stores only ciphertext in the store', () => {
    const store = createMemoryStore();
    const box = new EncryptedSecretBox(store, fakeSafeStorage());
    box.set('a.password', 'plain-pw');
    expect(JSON.stringify(store.get('secrets'))).not.toContain('plain-pw');
    expect(box.get('a.password')).toBe('plain-pw');
    box.delete('a.password');
    expect(box.get('a.password')).toBeNull();
  });

  it('refuses to store anything when no keychain is available', () => {
    const store = createMemoryStore();
    const box = new EncryptedSecretBox(store, fakeSafeStorage(false));
    expect(box.available).toBe(false);
    expect(() => box.set('a.password', 'pw')).toThrow(/no OS keychain/);
    const registry = new InstanceRegistry(store, box);
    expect(() => registry.add(nas(), { password: 'pw' })).toThrow(/no OS keychain/);
    expect(registry.list()).toEqual([]);
  });
});
