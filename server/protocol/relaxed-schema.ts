/**
 * Schemas as a client reads a relay's answers: the same shapes, but strict objects at every depth
 * let keys they do not know through instead of refusing the answer. The contract grows by adding
 * fields (SPEC: "extend freely"), and a fleet mixes versions: an app must still read the answers of
 * a newer relay. `relaxed` drops such keys; `keepingUnknown` keeps them, for the config, which goes
 * back whole with config.apply. The relay itself keeps checking params and config strictly.
 */
import { z } from 'zod';

type AnySchema = z.ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  innerType?: AnySchema;
  options?: AnySchema[];
  valueType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  catchall?: AnySchema;
}

/** What `clone` gives every zod 4 schema: a copy with another definition (checks are kept). */
interface Clonable {
  _zod: { def: Def };
  clone(def: Def): AnySchema;
}

/** What a relaxed strict object does with a key it does not know: drop it, or keep it as it is. */
type Unknown = 'strip' | 'keep';

const caches: Record<Unknown, WeakMap<AnySchema, AnySchema>> = { strip: new WeakMap(), keep: new WeakMap() };

/** `schema` with unknown object keys stripped instead of refused, at every depth. */
export function relaxed<T extends AnySchema>(schema: T): T {
  return relaxedAs(schema, 'strip');
}

/**
 * `schema` with unknown object keys kept as they are, at every depth: for the config, which an app
 * reads, edits and writes back whole — settings of a newer relay must survive the round trip (the
 * relay checks them strictly when they come back).
 */
export function keepingUnknown<T extends AnySchema>(schema: T): T {
  return relaxedAs(schema, 'keep');
}

function relaxedAs<T extends AnySchema>(schema: T, unknown: Unknown): T {
  const cache = caches[unknown];
  const hit = cache.get(schema);
  if (hit) return hit as T;
  const out = relax(schema, unknown);
  cache.set(schema, out);
  return out as T;
}

function relax(schema: AnySchema, unknown: Unknown): AnySchema {
  const again = (s: AnySchema): AnySchema => relaxedAs(s, unknown);
  const s = schema as unknown as Clonable;
  const def = s._zod.def;
  switch (def.type) {
    case 'object': {
      const shape: Record<string, AnySchema> = {};
      for (const [k, v] of Object.entries(def.shape ?? {})) shape[k] = again(v);
      // Only strict objects (catchall never) change; loose ones keep passing unknown keys through.
      const strict = (def.catchall as unknown as Clonable | undefined)?._zod.def.type === 'never';
      const catchall = !strict ? def.catchall : unknown === 'keep' ? z.unknown() : undefined;
      return s.clone({ ...def, shape, catchall });
    }
    case 'array':
      return s.clone({ ...def, element: again(def.element!) });
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return s.clone({ ...def, innerType: again(def.innerType!) });
    case 'union':
      return s.clone({ ...def, options: def.options!.map((o) => again(o)) });
    case 'record':
      return s.clone({ ...def, valueType: again(def.valueType!) });
    case 'pipe':
      return s.clone({ ...def, in: again(def.in!), out: again(def.out!) });
    default:
      return schema;
  }
}
