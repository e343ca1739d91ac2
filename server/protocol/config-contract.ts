/**
 * Config methods of the control contract. The config shapes are the relay's own schema
 * (server/config/schema.ts, pure zod) with one change each way: reads carry `hasPassword` instead of
 * relay-host passwords; writes may leave a password out to keep the stored one.
 */
import { z } from 'zod';
// schema.ts is pure (zod + ipaddr.js, no Node built-ins); the contract must reuse it, not copy it.
import { deliverySchema, relayConfigSchema, relayExceptionSchema, relayHostSchema } from '../config/schema.ts';
import { issueSchema } from './errors.ts';

/** A relay host as read through the API: the password is replaced by whether one is set. */
export const redactedRelayHostSchema = relayHostSchema.omit({ password: true }).extend({ hasPassword: z.boolean() });

const redactedDeliverySchema = z
  .object({
    ...deliverySchema.shape,
    relayHost: redactedRelayHostSchema.nullable(),
    exceptions: z.array(relayExceptionSchema.extend({ relayHost: redactedRelayHostSchema })),
  })
  .strict();

/** The config as `config.get` returns it: complete, with every relay-host password redacted. */
export const redactedConfigSchema = z.object({ ...relayConfigSchema.shape, delivery: redactedDeliverySchema }).strict();
/** The config as `config.get` returns it. */
export type RedactedConfig = z.output<typeof redactedConfigSchema>;

/**
 * A relay host as written through the API: `password` left out keeps the stored one (as long as
 * host and username are unchanged); `hasPassword` from a read is accepted and ignored so a read
 * config can be sent back as it is.
 */
export const applyRelayHostSchema = relayHostSchema.extend({ password: z.string().optional(), hasPassword: z.boolean().optional() });

const applyDeliverySchema = z
  .object({
    ...deliverySchema.shape,
    relayHost: applyRelayHostSchema.nullable().default(null),
    exceptions: z.array(relayExceptionSchema.extend({ relayHost: applyRelayHostSchema })).default([]),
  })
  .strict();

/**
 * The config as `config.apply` takes it. Cross-field rules of the relay schema (relay host required
 * in relayHost mode, unique listeners) run when the relay validates the merged config, and come back
 * as CONFIG_INVALID with the same key paths.
 */
export const applyConfigSchema = z.object({ ...relayConfigSchema.shape, delivery: applyDeliverySchema.prefault({}) }).strict();
/** The config as `config.apply` takes it (after parsing: defaults filled, passwords maybe absent). */
export type ApplyConfig = z.output<typeof applyConfigSchema>;
/** The config as a client may write it for `config.apply`. */
export type ApplyConfigInput = z.input<typeof applyConfigSchema>;

/** Opaque config revision (changes whenever the stored config changes). */
export const revisionSchema = z.string().min(1).max(128);

export const configGetResult = z.object({ config: redactedConfigSchema, revision: revisionSchema }).strict();

export const configValidateParams = z.object({ config: z.unknown() }).strict();
export const configValidateResult = z.object({ ok: z.boolean(), issues: z.array(issueSchema) }).strict();

export const configApplyParams = z.object({ config: applyConfigSchema, baseRevision: revisionSchema }).strict();
export const configApplyResult = z.object({ revision: revisionSchema }).strict();
