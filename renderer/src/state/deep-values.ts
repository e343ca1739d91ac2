/** Structural equality and path-wise merging of plain JSON-like values (configs). */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of JSON-like values; key order does not matter, array order does. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** A path of object keys; arrays are treated as single values. */
export type KeyPath = readonly string[];

/** The paths where `after` differs from `before` (objects descended into; arrays and scalars compared whole). */
export function changedPaths(before: unknown, after: unknown, prefix: KeyPath = []): KeyPath[] {
  if (deepEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => changedPaths(before[k], after[k], [...prefix, k]));
  }
  return [prefix];
}

function getAt(v: unknown, path: KeyPath): unknown {
  let cur = v;
  for (const k of path) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur;
}

/** Copy of `target` with the value of `source` at each path written in (creating objects on the way). */
export function withValuesAt<T>(target: T, source: unknown, paths: readonly KeyPath[]): T {
  const out = structuredClone(target) as unknown;
  for (const path of paths) {
    if (path.length === 0) return structuredClone(source) as T;
    let cur = out as Record<string, unknown>;
    for (const k of path.slice(0, -1)) {
      if (!isPlainObject(cur[k])) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    const last = path[path.length - 1] as string;
    const value = getAt(source, path);
    if (value === undefined) delete cur[last];
    else cur[last] = structuredClone(value);
  }
  return out as T;
}
