/**
 * DNS for delivery: `node:dns` Resolver objects for the internal and external servers of
 * `dns.internal` / `dns.external` (SPEC §1.2; empty → the system's servers), MX lookup with
 * RFC 5321 §5.1 semantics (priority order, random among equals, implicit MX on A/AAAA, RFC 7505
 * null MX), and failures split into permanent (the name or record does not exist) and temporary
 * (SERVFAIL, timeout, refused) so the queue can bounce or retry.
 */
import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { parseHostPort } from '../config/value-checks.ts';

type Resolver = dnsPromises.Resolver;

/** A DNS answer, or why there is none. */
export type DnsAnswer<T> = { ok: true; value: T } | DnsFailure;

/** A lookup that failed; `permanent` means the name or record type does not exist. */
export interface DnsFailure {
  ok: false;
  permanent: boolean;
  /** The resolver's error code (ENOTFOUND, ENODATA, ESERVFAIL, ETIMEOUT, …) or NULLMX. */
  code: string;
  /** One line for logs and DSNs. */
  message: string;
}

/** One mail exchanger of a domain, in the order it should be tried. */
export interface MxHost {
  exchange: string;
  priority: number;
  /** True when the domain has no MX and its own A/AAAA records stand in (RFC 5321 §5.1). */
  implicit: boolean;
}

/** Timeouts for a Resolver. */
export interface ResolverOptions {
  /** Per-try timeout in ms (c-ares default is 5 s per try, 4 tries: far too long for a queue). */
  timeoutMs?: number;
  tries?: number;
}

/** "ip", "ip:port" or "[v6]:port" as node:dns `setServers` wants it. */
export function toResolverServer(address: string): string {
  const hp = parseHostPort(address);
  if (!hp || net.isIP(hp.host) === 0) throw new Error(`not a resolver address: ${address}`);
  if (hp.port === null) return hp.host;
  return net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** A Resolver for the given servers; an empty list keeps the system's servers. */
export function createResolver(servers: readonly string[], opts: ResolverOptions = {}): Resolver {
  const resolver = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? 3000, tries: opts.tries ?? 2 });
  if (servers.length > 0) resolver.setServers(servers.map(toResolverServer));
  return resolver;
}

/** The internal and external resolvers of a config; `sameServers` when both use the same list. */
export interface ResolverPair {
  internal: Resolver;
  external: Resolver;
  sameServers: boolean;
}

export function createResolverPair(dns: { internal: readonly string[]; external: readonly string[] }, opts: ResolverOptions = {}): ResolverPair {
  const sameServers = dns.internal.join(',') === dns.external.join(',');
  const external = createResolver(dns.external, opts);
  return { external, internal: sameServers ? external : createResolver(dns.internal, opts), sameServers };
}

const PERMANENT_CODES = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NULLMX']);

/** Turn a node:dns rejection into a DnsFailure. */
export function dnsFailure(err: unknown, name: string, rrtype: string): DnsFailure {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EUNKNOWN';
  const permanent = PERMANENT_CODES.has(code);
  return { ok: false, permanent, code, message: `${describeDnsCode(code)} looking up ${rrtype} ${name}` };
}

function describeDnsCode(code: string): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'ENONAME':
      return 'domain not found (NXDOMAIN)';
    case 'ENODATA':
      return 'no record (NODATA)';
    case 'ESERVFAIL':
      return 'DNS server failure (SERVFAIL)';
    case 'ETIMEOUT':
      return 'DNS timeout';
    case 'EREFUSED':
      return 'DNS query refused';
    case 'ECONNREFUSED':
      return 'DNS server unreachable';
    default:
      return `DNS error ${code}`;
  }
}

async function query<T>(name: string, rrtype: string, run: () => Promise<T>): Promise<DnsAnswer<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    return dnsFailure(err, name, rrtype);
  }
}

/**
 * The mail exchangers of `domain` in the order to try them: by priority, shuffled among equal
 * priorities (`random` is injectable for tests). No MX → the domain itself (implicit MX) if it
 * has A or AAAA records. A null MX ("." RFC 7505) is a permanent failure with code NULLMX.
 */
export async function lookupMx(resolver: Resolver, domain: string, random: () => number = Math.random): Promise<DnsAnswer<MxHost[]>> {
  const mx = await query(domain, 'MX', () => resolver.resolveMx(domain));
  if (!mx.ok) {
    if (mx.code !== 'ENODATA') return mx;
    const addresses = await lookupAddresses(resolver, domain);
    if (!addresses.ok) return { ...addresses, message: `no MX record, and ${addresses.message}` };
    return { ok: true, value: [{ exchange: domain, priority: 0, implicit: true }] };
  }
  const records = mx.value.map((r) => ({ exchange: r.exchange.replace(/\.$/, '').toLowerCase(), priority: r.priority }));
  const real = records.filter((r) => r.exchange !== '');
  if (real.length === 0) {
    return { ok: false, permanent: true, code: 'NULLMX', message: `domain ${domain} accepts no mail (null MX)` };
  }
  return { ok: true, value: sortByPriority(real, random).map((r) => ({ ...r, implicit: false })) };
}

/** Sort by priority ascending; equal priorities in random order (RFC 5321 §5.1 load spreading). */
export function sortByPriority<T extends { priority: number }>(records: readonly T[], random: () => number = Math.random): T[] {
  const keyed = records.map((r) => ({ r, k: random() }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || a.k - b.k);
  return keyed.map((x) => x.r);
}

/**
 * IPv4 then IPv6 addresses of `host` (an IP literal is returned as is). Fails only when neither
 * family has an address: permanent if both say NXDOMAIN/NODATA, otherwise temporary.
 */
export async function lookupAddresses(resolver: Resolver, host: string): Promise<DnsAnswer<string[]>> {
  if (net.isIP(host) !== 0) return { ok: true, value: [host] };
  const [v4, v6] = await Promise.all([query(host, 'A', () => resolver.resolve4(host)), query(host, 'AAAA', () => resolver.resolve6(host))]);
  const value = [...(v4.ok ? v4.value : []), ...(v6.ok ? v6.value : [])];
  if (value.length > 0) return { ok: true, value };
  const failures = [v4, v6].filter((a): a is DnsFailure => !a.ok);
  const temporary = failures.find((f) => !f.permanent);
  if (temporary) return temporary;
  const nx = failures.find((f) => f.code === 'ENOTFOUND');
  return nx ?? { ok: false, permanent: true, code: 'ENODATA', message: `no A or AAAA record for ${host}` };
}

/**
 * Run `lookup` against the internal resolvers, then the external ones if that fails (SPEC §1.5).
 * The external answer wins when it succeeds; otherwise the more telling failure is returned:
 * temporary beats permanent, since a permanent verdict from one side only is not conclusive.
 */
export async function withFallback<T>(pair: ResolverPair, lookup: (r: Resolver) => Promise<DnsAnswer<T>>): Promise<DnsAnswer<T>> {
  const first = await lookup(pair.internal);
  if (first.ok || pair.sameServers) return first;
  const second = await lookup(pair.external);
  if (second.ok) return second;
  return !first.permanent ? first : second;
}
