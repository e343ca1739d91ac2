/** Queue methods of the control contract (`queue.*`); shapes mirror server/queue/types.ts. */
import { z } from 'zod';

/**
 * A queue id as the spool makes them (hex timestamp, dash, random). Restricted to a safe alphabet
 * because handlers may turn it into a file name.
 */
export const queueIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a queue id (letters, digits, "-" and "_", at most 64)');

/** The queue-level state of a message. */
export const messageStateSchema = z.enum(['active', 'deferred', 'held']);

/** Which messages a list or bulk operation looks at. */
export const queueStateSelector = z.enum(['active', 'deferred', 'held', 'all']);

/**
 * Narrows a queue selection; all given criteria must match. `sender`, `recipient` and `error` are
 * case-insensitive substrings (of the sender, of any recipient, of any recipient's last reply);
 * `domain` is a recipient domain, matching it and its subdomains; ages are since acceptance.
 */
export const queueFilterSchema = z
  .object({
    sender: z.string().max(320).optional(),
    recipient: z.string().max(320).optional(),
    domain: z.string().max(253).optional(),
    error: z.string().max(500).optional(),
    minAgeSeconds: z.number().min(0).optional(),
    maxAgeSeconds: z.number().min(0).optional(),
  })
  .strict();
/** Narrows a queue selection; all given criteria must match. */
export type QueueFilter = z.output<typeof queueFilterSchema>;

/** One row of the queue view. */
export const queueSummarySchema = z
  .object({
    id: queueIdSchema,
    /** Epoch ms of acceptance. */
    receivedAt: z.number(),
    sender: z.string(),
    recipients: z.array(z.string()),
    /** Recipients not yet delivered or bounced. */
    pendingRecipients: z.number().int().min(0),
    size: z.number().int().min(0),
    state: messageStateSchema,
    attempts: z.number().int().min(0),
    /** Epoch ms of the next attempt (0 = as soon as possible). */
    nextAttemptAt: z.number(),
    /** Last reply or reason of a recipient that is not delivered yet, if any. */
    lastError: z.string().nullable(),
    clientIp: z.string(),
  })
  .strict();
/** One row of the queue view. */
export type QueueSummary = z.output<typeof queueSummarySchema>;

export const queueListParams = z
  .object({
    state: queueStateSelector.default('all'),
    filter: queueFilterSchema.default({}),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict();
/** Oldest first; `total` counts every match, `items` is the requested page. */
export const queueListResult = z.object({ total: z.number().int().min(0), items: z.array(queueSummarySchema) }).strict();

const clientInfoSchema = z
  .object({ ip: z.string(), hostname: z.string().nullable(), helo: z.string(), authUser: z.string().nullable(), tls: z.boolean() })
  .strict();

const envelopeSchema = z
  .object({
    id: queueIdSchema,
    receivedAt: z.number(),
    sender: z.string(),
    recipients: z.array(z.string()),
    client: clientInfoSchema,
    bodyType: z.enum(['7bit', '8bitmime']),
    smtpUtf8: z.boolean(),
    origin: z.enum(['smtp', 'dsn', 'local']),
  })
  .strict();

const recipientStateSchema = z
  .object({
    address: z.string(),
    status: z.enum(['queued', 'deferred', 'delivered', 'bounced']),
    attempts: z.number().int().min(0),
    lastAttemptAt: z.number().nullable(),
    lastReply: z.string().nullable(),
    nextHop: z.string().nullable(),
  })
  .strict();

export const queueShowParams = z.object({ id: queueIdSchema }).strict();
/** A message in full: envelope, per-recipient state, schedule and its header fields. */
export const queueShowResult = z
  .object({
    state: messageStateSchema,
    envelope: envelopeSchema,
    size: z.number().int().min(0),
    recipients: z.array(recipientStateSchema),
    held: z.boolean(),
    nextAttemptAt: z.number(),
    attempts: z.number().int().min(0),
    delayWarned: z.boolean(),
    /** Header fields in order, unfolded. */
    headers: z.array(z.object({ name: z.string(), value: z.string() }).strict()),
  })
  .strict();
/** A message in full, as `queue.show` returns it. */
export type QueueDetail = z.output<typeof queueShowResult>;

/** A bulk operation's target: explicit ids, or every message matching a filter in a state. */
export const queueSelectionParams = z.union(
  [
    z.object({ ids: z.array(queueIdSchema).min(1).max(10_000) }).strict(),
    z.object({ filter: queueFilterSchema, state: queueStateSelector.default('all') }).strict(),
  ],
  { error: 'give either "ids" or "filter" (with an optional "state"), not both' },
);
/** A bulk operation's target. */
export type QueueSelection = z.output<typeof queueSelectionParams>;

/** How many messages a bulk operation changed (ids that no longer exist are not counted). */
export const queueAffectedResult = z.object({ affected: z.number().int().min(0) }).strict();
