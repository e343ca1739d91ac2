/** Log methods of the control contract (`logs.query`, `logs.subscribe`, `logs.unsubscribe`, `logs.event`). */
import { z } from 'zod';

/** Names of the events the relay logs (mirrors RelayEventName in server/logging/relay-log.ts). */
export const relayEventNames = [
  'start',
  'stop',
  'reload',
  'connect',
  'disconnect',
  'auth',
  'reject',
  'discard',
  'queued',
  'delivered',
  'deferred',
  'bounced',
  'expired',
  'dsn',
  'error',
  'control',
] as const;
export const relayEventNameSchema = z.enum(relayEventNames);

/** One log line: `time` (epoch ms), `level` and `event`, plus the event's own fields. */
export const logLineSchema = z.looseObject({ time: z.number(), level: z.string(), event: z.string() });
/** One log line: `time` (epoch ms), `level` and `event`, plus the event's own fields. */
export type LogLine = z.output<typeof logLineSchema>;

/**
 * Which lines to return; all given criteria must match. `event`: one name or a list; `text`: a
 * case-insensitive substring of the raw line; `id`: a queue id (`id` field of the line); `client`: a
 * case-insensitive substring of the client's address or host name.
 */
export const logFilterSchema = z
  .object({
    event: z.union([relayEventNameSchema, z.array(relayEventNameSchema).min(1)], { error: 'must be an event name or a list of them' }).optional(),
    text: z.string().min(1).max(500).optional(),
    id: z.string().min(1).max(64).optional(),
    client: z.string().min(1).max(255).optional(),
  })
  .strict();
/** Which log lines to return; all given criteria must match. */
export type LogFilter = z.output<typeof logFilterSchema>;

export const logsQueryParams = z
  .object({
    /** Epoch ms: lines at or after this time. */
    since: z.number().min(0),
    /** Epoch ms: lines before this time (default: now). */
    until: z.number().min(0).optional(),
    filter: logFilterSchema.default({}),
    limit: z.number().int().min(1).max(5000).default(500),
  })
  .strict();
/** Newest first; `truncated` says more matching lines exist beyond `limit`. */
export const logsQueryResult = z.object({ items: z.array(logLineSchema), truncated: z.boolean() }).strict();

/** Subscribing again on the same connection replaces the filter. */
export const logsSubscribeParams = z.object({ filter: logFilterSchema.default({}) }).strict();
export const logsSubscribeResult = z.object({ subscribed: z.literal(true) }).strict();
export const logsUnsubscribeResult = z.object({ subscribed: z.literal(false) }).strict();

/**
 * Params of the `logs.event` notification. `dropped` counts lines left out before this one because
 * the connection could not keep up.
 */
export const logsEventParams = z.object({ line: logLineSchema, dropped: z.number().int().min(0).optional() }).strict();
/** Params of the `logs.event` notification. */
export type LogsEvent = z.output<typeof logsEventParams>;
