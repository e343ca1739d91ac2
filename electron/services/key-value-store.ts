/**
 * Where the app keeps its settings and instance list: a small key-value interface. The app passes an
 * electron-store; tests (and the e2e harness) use `createConfStore`, backed by `conf`, electron-store's
 * own base, so both write the same JSON file format.
 */
import Conf from 'conf';

/** A persistent key-value store of JSON values. Readers treat every value as `unknown` and parse it. */
export interface KeyValueStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

/** A `conf`-backed store in `dir` (file `<name>.json`). */
export function createConfStore(dir: string, name = 'relay-desk'): KeyValueStore {
  const conf = new Conf<Record<string, unknown>>({ cwd: dir, configName: name, accessPropertiesByDotNotation: false, projectName: 'relay-desk' });
  return {
    get: (key) => conf.get(key),
    set: (key, value) => conf.set(key, value),
    delete: (key) => conf.delete(key),
  };
}

/** A store that lives in memory only (for unit tests and benchmarks). */
export function createMemoryStore(): KeyValueStore {
  const map = new Map<string, unknown>();
  return {
    get: (key) => (map.has(key) ? structuredClone(map.get(key)) : undefined),
    set: (key, value) => void map.set(key, structuredClone(value)),
    delete: (key) => void map.delete(key),
  };
}
