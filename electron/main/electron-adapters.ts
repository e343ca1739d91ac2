/** Electron's store and keychain behind the services' interfaces. */
import { safeStorage } from 'electron';
import Store from 'electron-store';
import type { KeyValueStore } from '../services/key-value-store.ts';
import type { StringEncryptor } from '../services/secret-box.ts';

/** electron-store as a KeyValueStore. */
export function createElectronStore(): KeyValueStore {
  const store = new Store<Record<string, unknown>>({ name: 'relay-desk', accessPropertiesByDotNotation: false });
  return {
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
  };
}

/**
 * safeStorage as a StringEncryptor. On Linux without a keyring Chromium falls back to a hard-coded
 * key ("basic_text"): that is plain text in disguise, so it counts as "no keychain".
 */
export function keychainEncryptor(): StringEncryptor {
  return {
    isEncryptionAvailable: () =>
      safeStorage.isEncryptionAvailable() && !(process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text'),
    encryptString: (plain) => safeStorage.encryptString(plain),
    decryptString: (encrypted) => safeStorage.decryptString(encrypted),
  };
}
