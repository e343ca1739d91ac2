/** Status, service and tool methods of the control contract (`status`, `service.*`, `test.send`, `dns.check`). */
import { z } from 'zod';
import { revisionSchema } from './config-contract.ts';

/** Methods without parameters take `{}` (or no `params` member at all). */
export const noParams = z.object({}).strict();

const queueCounts = z
  .object({
    active: z.number().int().min(0),
    deferred: z.number().int().min(0),
    held: z.number().int().min(0),
    total: z.number().int().min(0),
    /** Age in seconds of the oldest message in the queue; null when empty. */
    oldestAgeSeconds: z.number().min(0).nullable(),
  })
  .strict();

/** One SMTP listener as running now. */
const listenerStatus = z
  .object({
    name: z.string(),
    host: z.string(),
    port: z.number().int(),
    tls: z.enum(['none', 'starttls', 'implicit']),
    listening: z.boolean(),
    /** Why it is not listening (e.g. "127.0.0.1:25 is in use"), else null. */
    error: z.string().nullable(),
  })
  .strict();

export const statusResult = z
  .object({
    version: z.string(),
    protocol: z.number().int(),
    pid: z.number().int(),
    /** Epoch ms of the relay's start. */
    startedAt: z.number(),
    uptimeSeconds: z.number().min(0),
    hostname: z.string(),
    platform: z.string(),
    nodeVersion: z.string(),
    dataDir: z.string(),
    configRevision: revisionSchema,
    listeners: z.array(listenerStatus),
    queue: queueCounts,
    /** What the relay is doing right now. */
    activity: z
      .object({
        /** Open inbound SMTP sessions. */
        smtpSessions: z.number().int().min(0),
        /** Messages in a delivery attempt now. */
        deliveriesInFlight: z.number().int().min(0),
        /** Outbound SMTP connections: open (busy + idle, kept for reuse). */
        outboundConnections: z.number().int().min(0),
        outboundBusy: z.number().int().min(0),
        /** Open control connections (this one included). */
        controlConnections: z.number().int().min(0),
      })
      .strict(),
  })
  .strict();

export const serviceReloadResult = z.object({ revision: revisionSchema }).strict();
/** `service.stop` answers before the relay stops, so the reply always reaches the caller. */
export const serviceStopResult = z.object({ stopping: z.literal(true) }).strict();

const addressLike = z.string().trim().min(3).max(320).regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an e-mail address (local@domain)');

export const testSendParams = z
  .object({
    /** Envelope sender; "" sends with the null sender. */
    from: z.union([addressLike, z.literal('')]),
    to: z.array(addressLike).min(1).max(100),
    subject: z.string().max(998).default('Relay Desk test message'),
    body: z.string().max(64 * 1024).default('This is a test message sent by Relay Desk.'),
  })
  .strict();

/** One line of an SMTP conversation, as shown in the test transcript. */
const transcriptLine = z
  .object({
    /** Epoch ms. */
    at: z.number(),
    /** `client`: we sent it; `server`: the next hop replied; `info`: our note (DNS, connect, TLS). */
    direction: z.enum(['client', 'server', 'info']),
    text: z.string(),
  })
  .strict();

export const testSendResult = z
  .object({
    ok: z.boolean(),
    /** The route taken, e.g. "direct MX" or the name of a relay exception. */
    route: z.string(),
    nextHop: z.string().nullable(),
    /** The final reply of the next hop, or our reason when there was none. */
    reply: z.string().nullable(),
    durationMs: z.number().min(0),
    transcript: z.array(transcriptLine),
  })
  .strict();

/** One DNS check of SPEC §1.5's setup. */
const dnsCheck = z
  .object({
    /** e.g. "external MX of example.com points at this relay". */
    name: z.string(),
    /** The domain or host name checked. */
    subject: z.string(),
    status: z.enum(['pass', 'warn', 'fail', 'error']),
    expected: z.string(),
    found: z.array(z.string()),
    /** What to change when it does not pass; null when it passes. */
    fix: z.string().nullable(),
  })
  .strict();

export const dnsCheckResult = z.object({ ok: z.boolean(), checks: z.array(dnsCheck) }).strict();
