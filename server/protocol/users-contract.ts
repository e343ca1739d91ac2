/** SMTP AUTH user methods of the control contract (`users.*`), SPEC §1.3. */
import { z } from 'zod';

const controlChars = /[\u0000-\u001f\u007f-\u009f]/;

/** A login name: 1–255 characters, no control characters (SMTP AUTH PLAIN separates fields with NUL). */
export const userNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((v) => !controlChars.test(v), { message: 'must not contain control characters' })
  .refine((v) => v.trim() === v, { message: 'must not start or end with white space' });

/** A password: 1–1024 characters, no NUL (AUTH PLAIN could not carry it). */
export const passwordSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .refine((v) => !v.includes('\u0000'), { message: 'must not contain NUL' });

/** An address a user may send as (besides its login when that is an address). */
export const senderAddressSchema = z
  .string()
  .trim()
  .max(320)
  .regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an e-mail address (local@domain)');

/** A user as listed: never the hash. */
export const userSummarySchema = z
  .object({
    name: userNameSchema,
    allowedSenders: z.array(senderAddressSchema),
    /** Epoch ms. */
    createdAt: z.number(),
    /** Epoch ms of the last change (password or senders). */
    updatedAt: z.number(),
  })
  .strict();
/** A user as listed: never the hash. */
export type UserSummary = z.output<typeof userSummarySchema>;

export const usersListResult = z.object({ users: z.array(userSummarySchema) }).strict();
export const usersAddParams = z
  .object({ name: userNameSchema, password: passwordSchema, allowedSenders: z.array(senderAddressSchema).max(1000).default([]) })
  .strict();
export const usersAddResult = z.object({ user: userSummarySchema }).strict();
export const usersRemoveParams = z.object({ name: userNameSchema }).strict();
export const usersRemoveResult = z.object({ removed: z.literal(true) }).strict();
export const usersSetPasswordParams = z.object({ name: userNameSchema, password: passwordSchema }).strict();
export const usersSetPasswordResult = z.object({ user: userSummarySchema }).strict();
