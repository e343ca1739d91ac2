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
export type DnsAnswer<T> = { ok: true; value: T } | DnsLookupFailure;

/** A lookup that failed; `permanent` means the name or record type does not exist. */
export interface DnsFailure {
  ok: false;
  permanent: boolean;
  /** The resolver's error code (ENOTFOUND, ENODATA, ESERVFAIL, ETIMEOUT, …) or NULLMX. */
  code: string;
  /** One line for logs and DSNs. */
  message: string;
}

/**
 * A failure of this module's lookups, with what was asked as data (`message` is made from it by
 * `dnsFailureMessage`), so a client can word it in another language.
 */
export interface DnsLookupFailure extends DnsFailure {
  /** The record type asked for: MX, A, AAAA, PTR; "A/AAAA" when the name has neither (ENODATA). */
  rrtype: string;
  /** The name looked up (the IP address for PTR). */
  name: string;
  /** The name has no MX record, and this is the failure of the A/AAAA lookup standing in for it. */
  noMx: boolean;
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
export function dnsFailure(err: unknown, name: string, rrtype: string): DnsLookupFailure {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EUNKNOWN';
  return lookupFailure(code, rrtype, name);
}

function lookupFailure(code: string, rrtype: string, name: string, noMx = false): DnsLookupFailure {
  const cause = { code, rrtype, name, noMx };
  return { ok: false, permanent: PERMANENT_CODES.has(code), ...cause, message: dnsFailureMessage(cause) };
}

/** The English line of a failed lookup, e.g. "domain not found (NXDOMAIN) looking up MX example.com". */
export function dnsFailureMessage(f: Pick<DnsLookupFailure, 'code' | 'rrtype' | 'name' | 'noMx'>): string {
  const line =
    f.code === 'NULLMX'
      ? `domain ${f.name} accepts no mail (null MX)`
      : f.code === 'ENODATA' && f.rrtype === 'A/AAAA'
        ? `no A or AAAA record for ${f.name}`
        : `${describeDnsCode(f.code)} looking up ${f.rrtype} ${f.name}`;
  return f.noMx ? `no MX record, and ${line}` : line;
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
    if (!addresses.ok) return lookupFailure(addresses.code, addresses.rrtype, addresses.name, true);
    return { ok: true, value: [{ exchange: domain, priority: 0, implicit: true }] };
  }
  const records = mx.value.map((r) => ({ exchange: r.exchange.replace(/\.$/, '').toLowerCase(), priority: r.priority }));
  const real = records.filter((r) => r.exchange !== '');
  if (real.length === 0) {
    return lookupFailure('NULLMX', 'MX', domain);
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
  const failures = [v4, v6].filter((a): a is DnsLookupFailure => !a.ok);
  const temporary = failures.find((f) => !f.permanent);
  if (temporary) return temporary;
  const nx = failures.find((f) => f.code === 'ENOTFOUND');
  return nx ?? lookupFailure('ENODATA', 'A/AAAA', host);
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
