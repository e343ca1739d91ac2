/**
 * Result schemas as a client reads them: the same shapes, but objects at every depth drop keys they
 * do not know instead of refusing the answer. The contract grows by adding fields (SPEC: "extend
 * freely"), and a fleet mixes versions: an app must still read the answers of a newer relay. Params
 * and config stay strict where they are checked, on the relay, so a typo is still an error there.
 */
import type { z } from 'zod';

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

const cache = new WeakMap<AnySchema, AnySchema>();

/** `schema` with unknown object keys stripped instead of refused, at every depth. */
export function relaxed<T extends AnySchema>(schema: T): T {
  const hit = cache.get(schema);
  if (hit) return hit as T;
  const out = relax(schema);
  cache.set(schema, out);
  return out as T;
}

function relax(schema: AnySchema): AnySchema {
  const s = schema as unknown as Clonable;
  const def = s._zod.def;
  switch (def.type) {
    case 'object': {
      const shape: Record<string, AnySchema> = {};
      for (const [k, v] of Object.entries(def.shape ?? {})) shape[k] = relaxed(v);
      // Only strict objects (catchall never) change; loose ones keep passing unknown keys through.
      const strict = (def.catchall as unknown as Clonable | undefined)?._zod.def.type === 'never';
      return s.clone({ ...def, shape, catchall: strict ? undefined : def.catchall });
    }
    case 'array':
      return s.clone({ ...def, element: relaxed(def.element!) });
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return s.clone({ ...def, innerType: relaxed(def.innerType!) });
    case 'union':
      return s.clone({ ...def, options: def.options!.map((o) => relaxed(o)) });
    case 'record':
      return s.clone({ ...def, valueType: relaxed(def.valueType!) });
    case 'pipe':
      return s.clone({ ...def, in: relaxed(def.in!), out: relaxed(def.out!) });
    default:
      return schema;
  }
}
