/**
 * The relay's config schema (SPEC §1.2). One zod schema is the single source of truth: the relay
 * validates its file with it, the control API validates `config.apply` with it, and the app derives
 * its form validation from it. Every key has a default, so a config may name only what differs;
 * unknown keys are refused (`.strict()`), never silently dropped.
 */
import { z } from 'zod';
import { isValidCidrOrIp, isValidHostPort, isValidResolverAddress } from './value-checks.ts';

const hostnameRe = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/i;

/** A DNS host name or domain; non-ASCII (IDN) names are allowed and checked in their ASCII form. */
export const hostname = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((v) => hostnameRe.test(toAsciiDomain(v)), { message: 'is not a valid host or domain name' });

/** A domain that may carry one leading `*.` wildcard label. */
const domainPattern = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((v) => hostnameRe.test(toAsciiDomain(v.replace(/^\*\./, ''))), {
    message: 'is not a valid domain (a leading "*." wildcard is allowed)',
  });

const emailAddress = z
  .string()
  .trim()
  .refine((v) => /^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+$/.test(v) && hostnameRe.test(toAsciiDomain(v.split('@')[1] ?? '')), {
    message: 'is not a valid e-mail address (local@domain)',
  });

/** Domain names are compared and looked up in their ASCII (punycode) form. */
export function toAsciiDomain(domain: string): string {
  try {
    return new URL(`http://${domain}`).hostname;
  } catch {
    return domain;
  }
}

const port = z.number().int().min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535');

/** One SMTP listening socket. */
export const listenerSchema = z
  .object({
    name: z.string().trim().min(1).max(64).default('smtp'),
    host: z.string().trim().min(1).default('127.0.0.1'),
    port: port.default(2525),
    tls: z.enum(['none', 'starttls', 'implicit']).default('starttls'),
  })
  .strict();

/** Certificate and key files; null means "generate a self-signed pair in DIR/tls/". */
export const tlsSchema = z
  .object({ certFile: z.string().min(1), keyFile: z.string().min(1) })
  .strict()
  .nullable()
  .default(null);

export const authSchema = z
  .object({
    enabled: z.boolean().default(false),
    skipForLocalNetwork: z.boolean().default(false),
    senderMustMatchLogin: z.boolean().default(false),
    requireTls: z.boolean().default(true),
    maxFailures: z.number().int().min(1).max(1000).default(5),
    failureWindowSeconds: z.number().int().min(1).max(86_400).default(600),
  })
  .strict();

export const profileSchema = z
  .object({
    domain: hostname.default('localhost.localdomain'),
    additionalDomains: z.array(hostname).default([]),
    hostname: hostname.default('localhost.localdomain'),
    banner: z
      .string()
      .max(200)
      .refine((v) => !/[\r\n]/.test(v), { message: 'must be a single line' })
      // smtp-server already puts "ESMTP" after the host name in the greeting.
      .default('Relay Desk mailrelay'),
    maxRecipientsPerMessage: z.number().int().min(1).max(100_000).default(100),
    maxHops: z.number().int().min(1).max(1000).default(50),
    maxMessageSizeMB: z.number().min(0.01).max(2048).default(25),
    attachmentSizeLimitMB: z.number().min(0.01).max(2048).nullable().default(null),
  })
  .strict();

export const relayHostSchema = z
  .object({
    host: hostname,
    port: port.default(587),
    security: z.enum(['none', 'starttls', 'tls']).default('starttls'),
    username: z.string().default(''),
    /** Write-only: never returned by the control API (reads show hasPassword). */
    password: z.string().default(''),
    verifyCertificate: z.boolean().default(true),
  })
  .strict();

export const relayExceptionSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    targetType: z.enum(['recipient', 'sender']),
    /** Addresses (`user@example.com`) or domains (`example.com`, `*.example.com`). */
    targets: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .refine((v) => (v.includes('@') ? emailAddress.safeParse(v).success : domainPattern.safeParse(v).success), {
            message: 'is neither an e-mail address nor a domain',
          }),
      )
      .min(1, 'needs at least one address or domain'),
    relayHost: relayHostSchema,
  })
  .strict();

export const deliverySchema = z
  .object({
    mode: z.enum(['direct', 'relayHost']).default('direct'),
    relayHost: relayHostSchema.nullable().default(null),
    exceptions: z.array(relayExceptionSchema).default([]),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.mode === 'relayHost' && !d.relayHost) {
      ctx.addIssue({ code: 'custom', path: ['relayHost'], message: 'is required when mode is "relayHost"' });
    }
  });

export const trustedNetworkSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    network: z.string().trim().refine(isValidCidrOrIp, { message: 'is not an IPv4/IPv6 address or CIDR network' }),
  })
  .strict();

export const relayDomainSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    domain: hostname,
    /** `host`, `host:port` or `[ipv6]:port`; empty → MX via the internal resolvers. */
    nextHop: z
      .string()
      .trim()
      .refine((v) => v === '' || isValidHostPort(v), { message: 'must be host, host:port or [ipv6]:port' })
      .default(''),
  })
  .strict();

export const relayControlSchema = z
  .object({
    trustedNetworks: z.array(trustedNetworkSchema).default([
      { name: 'Loopback (IPv4)', network: '127.0.0.0/8' },
      { name: 'Loopback (IPv6)', network: '::1/128' },
    ]),
    relayDomains: z.array(relayDomainSchema).default([]),
  })
  .strict();

const resolverAddress = z.string().trim().refine(isValidResolverAddress, { message: 'must be "ip" or "ip:port" ("[ipv6]:port")' });

export const dnsSchema = z
  .object({ internal: z.array(resolverAddress).default([]), external: z.array(resolverAddress).default([]) })
  .strict();

export const listRuleSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    type: z.enum(['block', 'allow']),
    action: z.enum(['reject', 'discard', 'allow']),
    criterion: z.enum(['senderAddress', 'senderDomain', 'recipientAddress', 'recipientDomain', 'clientIp', 'clientHostname', 'helo']),
    value: z.string().trim().min(1).max(512),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.type === 'allow' && r.action !== 'allow') ctx.addIssue({ code: 'custom', path: ['action'], message: 'an allow rule must use action "allow"' });
    if (r.type === 'block' && r.action === 'allow') ctx.addIssue({ code: 'custom', path: ['action'], message: 'a block rule must use "reject" or "discard"' });
    if (r.criterion === 'clientIp' && !r.value.includes('*') && !isValidCidrOrIp(r.value)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'is not an IP address, CIDR network or wildcard' });
    }
  });

const rateLimit = z
  .object({ count: z.number().int().min(1), perSeconds: z.number().int().min(1).max(86_400) })
  .strict()
  .nullable()
  .default(null);

export const securitySchema = z
  .object({
    lists: z.array(listRuleSchema).default([]),
    senderPolicy: z
      .object({
        rejectNonFqdnSender: z.boolean().default(false),
        rejectUnknownSenderDomain: z.boolean().default(false),
        rejectUnauthenticatedLocalSender: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    connectionPolicy: z
      .object({
        rejectUnknownClientHostname: z.boolean().default(false),
        rejectUnknownReverseClientHostname: z.boolean().default(false),
        maxConnectionsPerClient: z.number().int().min(1).nullable().default(null),
        connectionRateLimit: rateLimit,
        messageRateLimit: rateLimit,
        maxErrorsPerSession: z.number().int().min(1).nullable().default(null),
      })
      .strict()
      .prefault({}),
    advanced: z
      .object({
        requireHelo: z.boolean().default(false),
        rejectInvalidHelo: z.boolean().default(false),
        rejectNonFqdnHelo: z.boolean().default(false),
        rejectUnknownHeloHostname: z.boolean().default(false),
        rejectUnauthPipelining: z.boolean().default(false),
        rejectNonFqdnRecipient: z.boolean().default(false),
        rejectUnknownRecipientDomain: z.boolean().default(false),
        dnsblZones: z.array(hostname).default([]),
        dnsblThreshold: z.number().int().min(1).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const duration = z.string().trim().regex(/^\d+(s|m|h|d)$/, 'must be a duration like "30s", "5m", "1h" or "2d"');

export const queueSchema = z
  .object({
    retrySchedule: z.array(duration).min(1, 'needs at least one step').default(['5m', '10m', '30m', '1h', '2h', '4h']),
    maxLifetimeHours: z.number().min(0.01).max(24 * 30).default(120),
    delayWarningHours: z.number().min(0).max(24 * 30).nullable().default(4),
    maxConcurrentDeliveries: z.number().int().min(1).max(10_000).default(100),
    maxConnectionsPerDestination: z.number().int().min(1).max(1000).default(20),
  })
  .strict();

/** The whole relay config. */
export const relayConfigSchema = z
  .object({
    listeners: z.array(listenerSchema).min(1, 'needs at least one listener').default([{ name: 'smtp', host: '127.0.0.1', port: 2525, tls: 'starttls' }]),
    tls: tlsSchema,
    general: z
      .object({
        auth: authSchema.prefault({}),
        disableAutoForwarding: z.boolean().default(false),
        profile: profileSchema.prefault({}),
        externalPostmasters: z.array(emailAddress).default([]),
      })
      .strict()
      .prefault({}),
    delivery: deliverySchema.prefault({}),
    relayControl: relayControlSchema.prefault({}),
    dns: dnsSchema.prefault({}),
    security: securitySchema.prefault({}),
    queue: queueSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.listeners.forEach((l, i) => {
      const key = `${l.host}:${l.port}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'port'], message: `${key} is used by another listener` });
      seen.add(key);
    });
  });

/** A fully defaulted, validated relay config. */
export type RelayConfig = z.output<typeof relayConfigSchema>;
/** A config as written by a person: any key may be left out. */
export type RelayConfigInput = z.input<typeof relayConfigSchema>;
export type Listener = RelayConfig['listeners'][number];
export type RelayHost = z.output<typeof relayHostSchema>;
export type RelayException = z.output<typeof relayExceptionSchema>;
export type ListRule = z.output<typeof listRuleSchema>;

/** Parse a duration like "5m" into milliseconds. */
export function durationMs(d: string): number {
  const n = Number(d.slice(0, -1));
  const unit = d.slice(-1);
  const mult = unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
  return n * mult;
}
