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

/**
 * The kinds of route a `test.send` route description names: the default relay host, a relay
 * exception's relay host, a relay domain's fixed next hop, a relay domain's MX through the internal
 * DNS, direct delivery to the MX of the recipient domain, and no route at all.
 */
export const TEST_SEND_ROUTE_KINDS = ['relayHost', 'relayException', 'nextHop', 'relayDomainMx', 'directMx', 'unroutable'] as const;
/** A kind of route of `test.send` (see TEST_SEND_ROUTE_KINDS). */
export type TestSendRouteKind = (typeof TEST_SEND_ROUTE_KINDS)[number];

/** One route of a test message, as data, so a client can describe it in its own language. */
const testSendRoute = z
  .object({
    /**
     * One of TEST_SEND_ROUTE_KINDS. A plain string, not an enum, so that an app accepts kinds of a
     * newer relay (and shows the English `route` for them) instead of refusing the whole answer.
     */
    kind: z.string(),
    /** host:port (relay hosts), host or host:port (next hop), the domain (MX kinds), the relay's English reason (unroutable). */
    target: z.string(),
    /** The relay exception (relayException) or relay domain (nextHop) that chose the route; else null. */
    name: z.string().nullable(),
    /**
     * unroutable only: why, for wording `target` in another language — localMailbox, noPostmaster,
     * noDomain (params: recipient), badNextHop (params: name, nextHop). A plain string for the same
     * reason as `kind`.
     */
    why: z.string().optional(),
    params: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const testSendResult = z
  .object({
    ok: z.boolean(),
    /** The route taken, in English, e.g. "direct MX delivery to example.com" or the name of a relay exception. */
    route: z.string(),
    /** The same routes as data, in order (empty: no route); absent from relays that predate it. */
    routes: z.array(testSendRoute).optional(),
    nextHop: z.string().nullable(),
    /** The final reply of the next hop, or our reason when there was none. */
    reply: z.string().nullable(),
    durationMs: z.number().min(0),
    transcript: z.array(transcriptLine),
  })
  .strict();

/**
 * What a DNS check checked and how it came out, `<check>.<outcome>`. Checks: `hostname` (the relay's
 * host name has A/AAAA records), `reverse` (each of those addresses has a PTR naming the host back),
 * `externalMx` (a relay domain's public MX points at this relay), `nextHop` (a relay domain's fixed
 * next hop resolves and is not this relay), `internalMx` (a relay domain's MX in the internal DNS
 * names the main server, not this relay). Outcomes: `ok`; `lookupError` (the DNS did not answer);
 * `notFqdn`, `noAddress`, `missing`, `mismatch`, `elsewhere`, `implicitOnly` (no MX record, only an
 * A record), `unresolvable`, `loop` (mail would come back here); `missingNoInternalDns` is `missing`
 * when dns.internal is empty.
 */
export const DNS_CHECK_CODES = [
  'hostname.ok',
  'hostname.notFqdn',
  'hostname.noAddress',
  'hostname.lookupError',
  'reverse.ok',
  'reverse.mismatch',
  'reverse.missing',
  'reverse.lookupError',
  'externalMx.ok',
  'externalMx.implicitOnly',
  'externalMx.elsewhere',
  'externalMx.missing',
  'externalMx.lookupError',
  'nextHop.ok',
  'nextHop.loop',
  'nextHop.unresolvable',
  'internalMx.ok',
  'internalMx.loop',
  'internalMx.missing',
  'internalMx.missingNoInternalDns',
  'internalMx.lookupError',
] as const;
/** The kind and outcome of one DNS check (see DNS_CHECK_CODES). */
export type DnsCheckCode = (typeof DNS_CHECK_CODES)[number];

/**
 * A DNS lookup that failed, as data (the relay words it in English as, e.g., "domain not found
 * (NXDOMAIN) looking up MX example.com").
 */
export const dnsFailureSchema = z
  .object({
    /**
     * The resolver's code: ENOTFOUND (NXDOMAIN), ENODATA (no record of that type), ESERVFAIL,
     * ETIMEOUT, EREFUSED, ECONNREFUSED (server unreachable), NULLMX (RFC 7505: the domain accepts no
     * mail), …. A plain string: an app words a code it does not know generically ("DNS error CODE").
     */
    code: z.string(),
    /** The record type asked for: MX, A, AAAA, PTR; "A/AAAA" when the name has neither (ENODATA). */
    rrtype: z.string(),
    /** The name looked up (the IP address for PTR). */
    name: z.string(),
    /** The name has no MX record, and this is the failure of the A/AAAA lookup standing in for it (RFC 5321 §5.1). */
    noMx: z.boolean(),
  })
  .strict();
/** A failed DNS lookup as data (see dnsFailureSchema). */
export type DnsFailureData = z.infer<typeof dnsFailureSchema>;

/**
 * The kinds of a `dns.check` found item: `mx` (an MX record, with its host's addresses), `implicitMx`
 * (no MX record: the domain's own A/AAAA records stand in), `value` (an address or a name, as
 * found), `dnsError` (the lookup failed).
 */
export const DNS_FOUND_KINDS = ['mx', 'implicitMx', 'value', 'dnsError'] as const;
/** A kind of `dns.check` found item (see DNS_FOUND_KINDS). */
export type DnsFoundKind = (typeof DNS_FOUND_KINDS)[number];
const knownFoundKinds: ReadonlySet<string> = new Set(DNS_FOUND_KINDS);

/** The addresses of an MX host, sorted; empty when it has none. */
const foundAddresses = z.array(z.string());

/** One line of a check's `found`, as data. */
const knownFoundItem = z.discriminatedUnion('kind', [
  z
    .object({
      /** An MX record: "MX 10 mail.example.com (192.0.2.1)". */
      kind: z.literal('mx'),
      priority: z.number().int().min(0),
      host: z.string(),
      addresses: foundAddresses,
    })
    .strict(),
  z
    .object({
      /** No MX record; mail goes to the domain's own A/AAAA records: "example.com (192.0.2.1), no MX record: its A/AAAA". */
      kind: z.literal('implicitMx'),
      /** The domain itself. */
      host: z.string(),
      addresses: foundAddresses,
    })
    .strict(),
  z
    .object({
      /** An address or a name, shown as it is. */
      kind: z.literal('value'),
      value: z.string(),
    })
    .strict(),
  dnsFailureSchema
    .extend({
      /** The lookup failed: "domain not found (NXDOMAIN) looking up MX example.com". */
      kind: z.literal('dnsError'),
    })
    .strict(),
]);
/** One line of a check's `found` as data, of a kind this contract knows. */
export type DnsFoundItem = z.infer<typeof knownFoundItem>;

/**
 * An item of a kind a newer relay added: accepted, so that one new kind does not make an app refuse
 * the whole answer (as `code` is a plain string). Only `kind` is read — the app shows the English
 * `found` line for it. A known kind must come with its fields.
 */
const otherFoundItem = z.object({ kind: z.string().refine((k) => !knownFoundKinds.has(k), 'a known kind must have its fields') }).strict();

/** One DNS check of SPEC §1.5's setup. */
const dnsCheck = z
  .object({
    /** e.g. "external MX of example.com points at this relay". */
    name: z.string(),
    /** The domain or host name checked. */
    subject: z.string(),
    status: z.enum(['pass', 'warn', 'fail', 'error']),
    expected: z.string(),
    /** What the DNS gave, one line each, in English: addresses, names, MX hosts or the lookup's failure. */
    found: z.array(z.string()),
    /**
     * `found` as data, item for item (same length and order), for clients that word it in their own
     * language; absent from relays that predate it. An item of a kind the app does not know (a newer
     * relay) is shown as its `found` line.
     */
    foundItems: z.array(z.union([knownFoundItem, otherFoundItem])).optional(),
    /** What to change when it does not pass; null when it passes. */
    fix: z.string().nullable(),
    /**
     * One of DNS_CHECK_CODES, for clients that word `name`, `expected` and `fix` in their own
     * language. A plain string, not an enum, so that an app accepts codes of a newer relay (and shows
     * the English text for them); absent from relays that predate it.
     */
    code: z.string().optional(),
    /**
     * The values the sentences interpolate: `host` (the relay's host name), `ip`, `domain` (a relay
     * domain), `nextHop` (as configured), `hopHost` (its host part), `key` (the relay domain's config
     * key, e.g. "relayControl.relayDomains[0]"), `internalDns` (dns.internal, comma-separated) and
     * `dnsError` (the resolver's English error) — each where the check has it.
     */
    params: z.record(z.string(), z.string()).optional(),
    /** `.lookupError` checks: the failure that `params.dnsError` words in English, as data; absent from relays that predate it. */
    dnsFailure: dnsFailureSchema.optional(),
  })
  .strict();

export const dnsCheckResult = z.object({ ok: z.boolean(), checks: z.array(dnsCheck) }).strict();
