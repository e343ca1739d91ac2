/**
 * Field-level validation of the settings with the relay's own schema (server/config/schema.ts), so
 * the form refuses exactly what the relay would. Issues are keyed by their path
 * (`general.profile.hostname`, `relayControl.trustedNetworks[0].network`).
 */
import type { z } from 'zod';
import { relayConfigSchema } from '../../../server/config/schema.ts';
import { formatIssuePath } from '../../../server/protocol/index.ts';
import type { EditableConfig, EditableRelayHost } from './config-shapes.ts';

/** One problem at a key path, with what is needed to translate it. */
export interface FieldIssue {
  readonly path: string;
  /** zod's issue code, or `server` for an issue the relay reported. */
  readonly code: string;
  /** The schema's own (English) message. */
  readonly message: string;
  readonly minimum?: number | bigint | undefined;
  readonly maximum?: number | bigint | undefined;
  /** What the size check applied to: `string`, `number`, `array`, … */
  readonly origin?: string | undefined;
  readonly expected?: string | undefined;
  readonly values?: readonly unknown[] | undefined;
}

/** Turn zod issues into field issues. */
export function fieldIssuesFromZod(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): FieldIssue[] {
  return issues.map((i) => {
    const base = { path: formatIssuePath([...prefix, ...i.path]), code: i.code, message: i.message };
    switch (i.code) {
      case 'too_small':
        return { ...base, minimum: i.minimum, origin: i.origin };
      case 'too_big':
        return { ...base, maximum: i.maximum, origin: i.origin };
      case 'invalid_type':
        return { ...base, expected: i.expected };
      case 'invalid_value':
        return { ...base, values: i.values };
      default:
        return base;
    }
  });
}

/** A relay host as relayConfigSchema reads it: `hasPassword` dropped, the password a plain string. */
export function relayHostForValidation(rh: EditableRelayHost): Record<string, unknown> {
  const { hasPassword: _hasPassword, password, ...rest } = rh;
  return { ...rest, password: password ?? '' };
}

/** The editor's config in the shape relayConfigSchema reads (passwords as plain strings). */
export function toValidationShape(config: EditableConfig): unknown {
  return {
    ...config,
    delivery: {
      ...config.delivery,
      relayHost: config.delivery.relayHost ? relayHostForValidation(config.delivery.relayHost) : null,
      exceptions: config.delivery.exceptions.map((e) => ({ ...e, relayHost: relayHostForValidation(e.relayHost) })),
    },
  };
}

/** Every problem of the config, by path (the first issue per path). */
export function validateConfig(config: EditableConfig): Map<string, FieldIssue> {
  const r = relayConfigSchema.safeParse(toValidationShape(config));
  const out = new Map<string, FieldIssue>();
  if (r.success) return out;
  // Keys this app does not know come from a newer relay's config: they go back to it unchanged,
  // and that relay checks them (the form has no field for them, so nothing to say here).
  const known = r.error.issues.filter((i) => i.code !== 'unrecognized_keys');
  for (const issue of fieldIssuesFromZod(known)) if (!out.has(issue.path)) out.set(issue.path, issue);
  return out;
}

/** Validate one item with its own schema (list editors' dialogs), issues keyed by the item's own paths. */
export function validateItem<S extends z.ZodType>(schema: S, value: unknown): Map<string, FieldIssue> {
  const r = schema.safeParse(value);
  const out = new Map<string, FieldIssue>();
  if (r.success) return out;
  for (const issue of fieldIssuesFromZod(r.error.issues)) if (!out.has(issue.path)) out.set(issue.path, issue);
  return out;
}
