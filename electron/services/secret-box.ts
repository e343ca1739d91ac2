/**
 * Passwords and key passphrases (SPEC §2.1: only through the OS keychain, never in plain text). The
 * services see a `SecretBox`; the app builds an `EncryptedSecretBox` on Electron's `safeStorage`
 * (passed in as a `StringEncryptor`, so this file never imports electron); tests use
 * `PlaintextTestSecretBox`, a file of plain text that says what it is in its name.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { said } from './app-error-text.ts';
import { AppError } from './app-error.ts';
import type { KeyValueStore } from './key-value-store.ts';

/** Named secrets. `available` false means nothing can be stored (no OS keychain). */
export interface SecretBox {
  readonly available: boolean;
  get(name: string): string | null;
  set(name: string, value: string): void;
  delete(name: string): void;
}

/** What Electron's `safeStorage` offers (structurally), so it can be passed in as is. */
export interface StringEncryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

const cipherMapSchema = z.record(z.string(), z.string());
const STORE_KEY = 'secrets';

/** Secrets encrypted by the OS keychain (safeStorage), stored as base64 in the app's store. */
export class EncryptedSecretBox implements SecretBox {
  constructor(
    private readonly store: KeyValueStore,
    private readonly encryptor: StringEncryptor,
  ) {}

  get available(): boolean {
    return this.encryptor.isEncryptionAvailable();
  }

  get(name: string): string | null {
    const cipher = this.all()[name];
    if (cipher === undefined || !this.available) return null;
    try {
      return this.encryptor.decryptString(Buffer.from(cipher, 'base64'));
    } catch {
      return null; // keychain changed (another OS user, reset): the user types it again
    }
  }

  set(name: string, value: string): void {
    if (!this.available) throw new AppError('UNSUPPORTED', said('instances.noKeychain'));
    this.store.set(STORE_KEY, { ...this.all(), [name]: this.encryptor.encryptString(value).toString('base64') });
  }

  delete(name: string): void {
    const all = this.all();
    if (!(name in all)) return;
    delete all[name];
    this.store.set(STORE_KEY, all);
  }

  private all(): Record<string, string> {
    const r = cipherMapSchema.safeParse(this.store.get(STORE_KEY) ?? {});
    return r.success ? { ...r.data } : {};
  }
}

/** FOR TESTS ONLY: secrets in a plain JSON file (mode 0600). Stands in for the OS keychain. */
export class PlaintextTestSecretBox implements SecretBox {
  readonly available = true;
  constructor(private readonly file: string) {}

  get(name: string): string | null {
    return this.read()[name] ?? null;
  }
  set(name: string, value: string): void {
    this.write({ ...this.read(), [name]: value });
  }
  delete(name: string): void {
    const all = this.read();
    delete all[name];
    this.write(all);
  }
  /** For tests: the raw file content. */
  raw(): string {
    return existsSync(this.file) ? readFileSync(this.file, 'utf8') : '';
  }

  private read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    const r = cipherMapSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    return r.success ? { ...r.data } : {};
  }
  private write(all: Record<string, string>): void {
    writeFileSync(this.file, JSON.stringify(all), { mode: 0o600 });
    chmodSync(this.file, 0o600);
  }
}
