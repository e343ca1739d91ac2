/**
 * DNS lookups for the security policies (SPEC §1.6): PTR, A/AAAA, MX and DNSBL queries through the
 * external resolvers (`dns.external`; empty → the system's servers). Answers are values that say
 * whether a missing record is permanent (NXDOMAIN / NODATA: a policy may answer 5xx) or temporary
 * (SERVFAIL, timeout, refused: a policy answers 4xx at most). Policies only see the `PolicyDns`
 * interface, so unit tests hand them an in-memory one.
 */
import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { parseHostPort } from '../config/value-checks.ts';

/** A DNS answer, or why there is none. */
export type Lookup<T> = { ok: true; value: T } | LookupFailure;

/** No answer: `permanent` when the name or the record type does not exist. */
export interface LookupFailure {
  ok: false;
  permanent: boolean;
  /** ENOTFOUND, ENODATA, ESERVFAIL, ETIMEOUT, … */
  code: string;
}

/** The lookups the policies need; every method resolves (never rejects). */
export interface PolicyDns {
  /** PTR names of an IP address, without the trailing dot. */
  reverse(ip: string): Promise<Lookup<string[]>>;
  /** A records of a name (DNSBL queries, forward confirmation). */
  a(name: string): Promise<Lookup<string[]>>;
  /** AAAA records of a name. */
  aaaa(name: string): Promise<Lookup<string[]>>;
  /** MX records of a domain; a null MX (RFC 7505) is an exchange of "". */
  mx(domain: string): Promise<Lookup<{ exchange: string; priority: number }[]>>;
}

/** Resolver timeouts and the answer cache of `createPolicyDns`. */
export interface PolicyDnsOptions {
  /** Per-try timeout (c-ares' default of 5 s × 4 tries would hold a session for 20 s). */
  timeoutMs?: number;
  tries?: number;
  /** Keep answers (not temporary failures) this long; 0 = no cache. */
  cacheMs?: number;
  /** Entries kept at most; the oldest go first. */
  cacheEntries?: number;
  now?: () => number;
}

const PERMANENT = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);

function failure(err: unknown): LookupFailure {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EUNKNOWN';
  return { ok: false, permanent: PERMANENT.has(code), code };
}

/** "ip", "ip:port" or "[v6]:port" as node:dns `setServers` wants it. */
function resolverServer(address: string): string {
  const hp = parseHostPort(address);
  if (!hp || net.isIP(hp.host) === 0) throw new Error(`not a resolver address: ${address}`);
  if (hp.port === null) return hp.host;
  return net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** A PolicyDns on node:dns for the given servers (empty → the system's), with a small answer cache. */
export function createPolicyDns(servers: readonly string[], opts: PolicyDnsOptions = {}): PolicyDns {
  const resolver = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  if (servers.length > 0) resolver.setServers(servers.map(resolverServer));
  const cacheMs = opts.cacheMs ?? 30_000;
  const maxEntries = opts.cacheEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  // Lookups in flight are shared too: twenty sessions from one client ask for one PTR record.
  const cache = new Map<string, { expires: number; answer: Promise<Lookup<unknown>> }>();

  function cached<T>(key: string, run: () => Promise<T>): Promise<Lookup<T>> {
    const t = now();
    const hit = cache.get(key);
    if (hit && hit.expires > t) return hit.answer as Promise<Lookup<T>>;
    if (hit) cache.delete(key);
    const answer: Promise<Lookup<T>> = run().then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => failure(err),
    );
    if (cacheMs <= 0) return answer;
    cache.set(key, { expires: t + cacheMs, answer });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    // A temporary failure must not stick: the next session asks again.
    void answer.then((a) => {
      if (!a.ok && !a.permanent && cache.get(key)?.answer === answer) cache.delete(key);
    });
    return answer;
  }

  const strip = (n: string) => n.replace(/\.$/, '').toLowerCase();
  return {
    // resolvePtr, not reverse(): c-ares' reverse lookup reports SERVFAIL and timeouts as ENOTFOUND,
    // which would turn a DNS outage into a permanent rejection.
    reverse: (ip) =>
      cached(`PTR ${ip}`, async () => {
        const name = reversedName(ip, net.isIPv4(ip) ? 'in-addr.arpa' : 'ip6.arpa');
        if (!name) throw Object.assign(new Error(`not an IP address: ${ip}`), { code: 'ENOTFOUND' });
        return (await resolver.resolvePtr(name)).map(strip);
      }),
    a: (name) => cached(`A ${name}`, () => resolver.resolve4(name)),
    aaaa: (name) => cached(`AAAA ${name}`, () => resolver.resolve6(name)),
    mx: (domain) => cached(`MX ${domain}`, async () => (await resolver.resolveMx(domain)).map((r) => ({ exchange: strip(r.exchange), priority: r.priority }))),
  };
}

/** IPv4 and IPv6 addresses of a name: permanent failure only when both families say so. */
export async function lookupAddresses(dns: PolicyDns, name: string): Promise<Lookup<string[]>> {
  const [v4, v6] = await Promise.all([dns.a(name), dns.aaaa(name)]);
  const value = [...(v4.ok ? v4.value : []), ...(v6.ok ? v6.value : [])];
  if (value.length > 0) return { ok: true, value };
  const failures = [v4, v6].filter((x): x is LookupFailure => !x.ok);
  return failures.find((f) => !f.permanent) ?? failures.find((f) => f.code === 'ENOTFOUND') ?? { ok: false, permanent: true, code: 'ENODATA' };
}

/** Whether a domain can take part in mail: has MX, or (no MX) A/AAAA; a null MX cannot. */
export type MailDomainStatus = { ok: true } | { ok: false; permanent: boolean; reason: string };

export async function mailDomainStatus(dns: PolicyDns, domain: string): Promise<MailDomainStatus> {
  const mx = await dns.mx(domain);
  if (mx.ok) {
    if (mx.value.length > 0 && mx.value.every((r) => r.exchange === '')) return { ok: false, permanent: true, reason: 'domain accepts no mail (null MX)' };
    if (mx.value.length > 0) return { ok: true };
  } else if (!mx.permanent) {
    return { ok: false, permanent: false, reason: `DNS lookup failed (${mx.code})` };
  } else if (mx.code !== 'ENODATA') {
    return { ok: false, permanent: true, reason: 'Domain not found' };
  }
  const addr = await lookupAddresses(dns, domain);
  if (addr.ok) return { ok: true };
  return addr.permanent ? { ok: false, permanent: true, reason: 'Domain not found' } : { ok: false, permanent: false, reason: `DNS lookup failed (${addr.code})` };
}

/** The DNSBL query name of an address: reversed octets (IPv4) or nibbles (IPv6) under the zone. */
export function dnsblQueryName(ip: string, zone: string): string | null {
  return reversedName(ip, zone);
}

/** Reversed octets (IPv4) or nibbles (IPv6) of an address under `zone` (in-addr.arpa, a DNSBL zone, …). */
function reversedName(ip: string, zone: string): string | null {
  if (net.isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.${zone}`;
  if (!net.isIPv6(ip)) return null;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  if (t.some((g) => g.includes('.')) || h.some((g) => g.includes('.'))) return null; // embedded IPv4: not listed this way
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${groups.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.${zone}`;
}

/**
 * A PolicyDns answering from a table, for unit tests and offline checks. Keys are "TYPE name"
 * ("A host.example", "MX example", "PTR 192.0.2.1"); MX values are "priority exchange". A value of
 * "SERVFAIL" or "TIMEOUT" fails temporarily. A missing key answers NODATA when the table has any
 * other type for the name, else NXDOMAIN.
 */
export function createStaticPolicyDns(records: Record<string, string[] | 'SERVFAIL' | 'TIMEOUT'>): PolicyDns & { queries: string[] } {
  const queries: string[] = [];
  const names = new Set(Object.keys(records).map((k) => k.slice(k.indexOf(' ') + 1).toLowerCase()));
  const answer = async (type: string, name: string): Promise<Lookup<string[]>> => {
    const key = `${type} ${name.toLowerCase()}`;
    queries.push(key);
    const v = Object.entries(records).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
    if (v === 'SERVFAIL') return { ok: false, permanent: false, code: 'ESERVFAIL' };
    if (v === 'TIMEOUT') return { ok: false, permanent: false, code: 'ETIMEOUT' };
    if (v) return { ok: true, value: v };
    return { ok: false, permanent: true, code: names.has(name.toLowerCase()) ? 'ENODATA' : 'ENOTFOUND' };
  };
  return {
    queries,
    reverse: (ip) => answer('PTR', ip),
    a: (name) => answer('A', name),
    aaaa: (name) => answer('AAAA', name),
    mx: async (domain) => {
      const r = await answer('MX', domain);
      if (!r.ok) return r;
      return { ok: true, value: r.value.map((v) => ({ priority: Number(v.split(' ')[0]), exchange: (v.split(' ')[1] ?? '').replace(/\.$/, '') })) };
    },
  };
}
