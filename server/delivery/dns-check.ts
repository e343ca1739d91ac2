/**
 * `dns.check` (SPEC §1.5, §1.7): is the DNS set up for this relay? For the relay's host name: it has
 * A/AAAA records and each address's PTR names it back. For every relay domain: its public MX points
 * at this relay (the external resolvers), and the relay's own way on to the main server (the next
 * hop, or the MX the internal resolvers give) exists and does not lead back here. Each check passes
 * or says in one line what to fix — in English, and as a `code` with the `params` the sentences
 * interpolate, so the app can say the same in the user's language. What the DNS gave (`found`) is
 * English too, and data item for item (`foundItems`), for the same reason.
 */
import os from 'node:os';
import net from 'node:net';
import type { RelayConfig } from '../config/schema.ts';
import { parseHostPort } from '../config/value-checks.ts';
import type { DnsCheckCode, DnsFoundItem, MethodResult } from '../protocol/index.ts';
import { asciiDomain } from './address-parts.ts';
import { createResolverPair, dnsFailure, dnsFailureMessage, lookupAddresses, lookupMx, withFallback, type DnsAnswer, type DnsLookupFailure, type MxHost, type ResolverPair } from './resolvers.ts';

type DnsCheckResult = MethodResult<'dns.check'>;
/** A check as this relay makes it: the contract's optional `code`, `params` and `foundItems` always set. */
type Check = DnsCheckResult['checks'][number] & { code: DnsCheckCode; params: Record<string, string>; foundItems: DnsFoundItem[] };
/** What a check is about, before its outcome is known. */
type CheckBase = Pick<Check, 'name' | 'subject' | 'expected' | 'params'>;

export interface DnsCheckOptions {
  /** Addresses of this machine; default: every interface address. */
  localAddresses?: string[];
  timeoutMs?: number;
  /** The resolvers to ask; default: those of `config.dns` (tests hand in their own). */
  resolvers?: ResolverPair;
}

/** Run every check against the config's resolvers. */
export async function checkDnsSetup(config: RelayConfig, opts: DnsCheckOptions = {}): Promise<DnsCheckResult> {
  const pair = opts.resolvers ?? createResolverPair(config.dns, { timeoutMs: opts.timeoutMs ?? 2000, tries: 2 });
  const host = asciiDomain(config.general.profile.hostname);
  const checks: Check[] = [];

  // Sorted, so the report reads the same whatever order the DNS server answers in.
  const forward = sortedAnswer(await lookupAddresses(pair.external, host));
  checks.push(hostnameCheck(host, forward));
  const hostAddrs = forward.ok ? forward.value : [];
  for (const ip of hostAddrs) checks.push(await reverseCheck(pair, host, ip));

  const ours = new Set([...hostAddrs, ...(opts.localAddresses ?? interfaceAddresses())].map(normaliseIp));
  const isThisRelay = async (name: string, resolver: (fn: (r: ResolverPair['external']) => Promise<DnsAnswer<string[]>>) => Promise<DnsAnswer<string[]>>): Promise<{ us: boolean; addrs: string[] }> => {
    if (asciiDomain(name) === host) return { us: true, addrs: hostAddrs };
    const a = sortedAnswer(await resolver((r) => lookupAddresses(r, name)));
    const addrs = a.ok ? a.value : [];
    return { us: addrs.some((ip) => ours.has(normaliseIp(ip))), addrs };
  };
  const external = (fn: (r: ResolverPair['external']) => Promise<DnsAnswer<string[]>>) => fn(pair.external);
  const internal = (fn: (r: ResolverPair['external']) => Promise<DnsAnswer<string[]>>) => withFallback(pair, fn);

  for (const [i, rd] of config.relayControl.relayDomains.entries()) {
    const domain = asciiDomain(rd.domain);
    const key = `relayControl.relayDomains[${i}]`;

    // Public MX → this relay.
    const mx = await lookupMx(pair.external, domain);
    const base: CheckBase = { name: `external MX of ${domain} points at this relay`, subject: domain, expected: `an MX host that is ${host} or has one of its addresses`, params: { domain, host } };
    if (!mx.ok) {
      checks.push(lookupProblem(base, mx, 'externalMx', 'externalMx.missing', `Add "${domain}. MX 10 ${host}." to the public DNS of ${domain}.`));
    } else {
      const hosts = await Promise.all(mx.value.map(async (m) => ({ m, ...(await isThisRelay(m.exchange, external)) })));
      const pointsHere = hosts.some((h) => h.us);
      const implicit = mx.value.every((m) => m.implicit);
      checks.push({
        ...base,
        status: !pointsHere ? 'fail' : implicit ? 'warn' : 'pass',
        code: !pointsHere ? 'externalMx.elsewhere' : implicit ? 'externalMx.implicitOnly' : 'externalMx.ok',
        ...found(hosts.map(({ m, addrs }) => mxItem(m, addrs))),
        fix: !pointsHere
          ? `Add "${domain}. MX 10 ${host}." to the public DNS of ${domain} (as its only MX, or as a backup MX with a higher number than the main server's).`
          : implicit
            ? `${domain} has no MX record; mail finds this relay through its A record only. Add "${domain}. MX 10 ${host}." to the public DNS.`
            : null,
      });
    }

    // This relay → the main server.
    if (rd.nextHop !== '') {
      const hp = parseHostPort(rd.nextHop);
      const hopHost = hp?.host ?? rd.nextHop;
      const hop: CheckBase = {
        name: `next hop of ${domain} reaches the main server`,
        subject: domain,
        expected: `${rd.nextHop} resolves to a server other than this relay`,
        params: { domain, nextHop: rd.nextHop, hopHost, key },
      };
      if (net.isIP(hopHost)) {
        const us = ours.has(normaliseIp(hopHost)) && (hp?.port ?? 25) === 25;
        checks.push({ ...hop, status: us ? 'fail' : 'pass', code: us ? 'nextHop.loop' : 'nextHop.ok', ...foundValues([hopHost]), fix: us ? loopFix(domain, key) : null });
      } else {
        const { us, addrs } = await isThisRelay(hopHost, internal);
        const code = addrs.length === 0 ? 'nextHop.unresolvable' : us && (hp?.port ?? 25) === 25 ? 'nextHop.loop' : 'nextHop.ok';
        checks.push({
          ...hop,
          status: code === 'nextHop.ok' ? 'pass' : 'fail',
          code,
          ...foundValues(addrs),
          fix: code === 'nextHop.unresolvable' ? `The next hop ${hopHost} has no A/AAAA record in the internal DNS: fix the name there, or set ${key}.nextHop to the main server's IP address.` : code === 'nextHop.loop' ? loopFix(domain, key) : null,
        });
      }
      continue;
    }
    const imx = await withFallback(pair, (r) => lookupMx(r, domain));
    const internalDns = config.dns.internal.join(', ');
    const ibase: CheckBase = {
      name: `internal MX of ${domain} points at the main server`,
      subject: domain,
      expected: `an MX host other than this relay (${host}), found through the internal DNS`,
      params: { domain, host, key, internalDns },
    };
    if (!imx.ok) {
      const addFix = `Add an MX record for ${domain} pointing at the main mail server to the internal DNS${internalDns ? ` (${internalDns})` : ' and list that server in dns.internal'}, or set ${key}.nextHop to the main server.`;
      checks.push(lookupProblem(ibase, imx, 'internalMx', internalDns ? 'internalMx.missing' : 'internalMx.missingNoInternalDns', addFix));
      continue;
    }
    const ihosts = await Promise.all(imx.value.map(async (m) => ({ m, ...(await isThisRelay(m.exchange, internal)) })));
    const loops = ihosts.some((h) => h.us);
    checks.push({
      ...ibase,
      status: loops ? 'fail' : 'pass',
      code: loops ? 'internalMx.loop' : 'internalMx.ok',
      ...found(ihosts.map(({ m, addrs }) => mxItem(m, addrs))),
      fix: loops ? loopFix(domain, key) : null,
    });
  }
  return { ok: checks.every((c) => c.status === 'pass' || c.status === 'warn'), checks };
}

function hostnameCheck(host: string, forward: DnsAnswer<string[]>): Check {
  const base: CheckBase = { name: `host name ${host} has an address`, subject: host, expected: `an A or AAAA record for ${host} with this relay's public address`, params: { host } };
  if (!host.includes('.') || host.startsWith('localhost')) {
    const fix = "Set general.profile.hostname to the relay's public name (a fully qualified domain name), then give that name an A record.";
    return { ...base, status: 'fail', code: 'hostname.notFqdn', ...foundValues(forward.ok ? forward.value : []), fix };
  }
  if (forward.ok) return { ...base, status: 'pass', code: 'hostname.ok', ...foundValues(forward.value), fix: null };
  return lookupProblem(base, forward, 'hostname', 'hostname.noAddress', `Add an A record (and an AAAA record for IPv6) for ${host} with this relay's public address to the public DNS.`);
}

async function reverseCheck(pair: ResolverPair, host: string, ip: string): Promise<Check> {
  const base: CheckBase = { name: `reverse DNS of ${ip} names ${host}`, subject: ip, expected: `a PTR record for ${ip} with the name ${host}`, params: { host, ip } };
  const fix = `Ask whoever runs the network of ${ip} (usually the provider) to set its PTR record to ${host}; many receivers refuse mail when the reverse name does not match.`;
  let names: string[];
  try {
    names = (await pair.external.reverse(ip)).map((n) => asciiDomain(n));
  } catch (err) {
    return lookupProblem(base, dnsFailure(err, ip, 'PTR'), 'reverse', 'reverse.missing', fix);
  }
  const match = names.includes(host);
  return { ...base, status: match ? 'pass' : 'fail', code: match ? 'reverse.ok' : 'reverse.mismatch', ...foundValues(names), fix: match ? null : fix };
}

/**
 * A check whose lookup failed: missing records fail with `missingCode` and `fix`; a DNS that did not
 * answer is an error (`<check>.lookupError`, with the resolver's message as `dnsError`, and as data).
 */
function lookupProblem(base: CheckBase, f: DnsLookupFailure, check: 'hostname' | 'reverse' | 'externalMx' | 'internalMx', missingCode: DnsCheckCode, fix: string): Check {
  const cause = { code: f.code, rrtype: f.rrtype, name: f.name, noMx: f.noMx };
  const failed = found([{ kind: 'dnsError', ...cause }]);
  if (f.permanent) return { ...base, status: 'fail', code: missingCode, ...failed, fix };
  return {
    ...base,
    params: { ...base.params, dnsError: f.message },
    dnsFailure: cause,
    status: 'error',
    code: `${check}.lookupError`,
    ...failed,
    fix: `The DNS did not answer (${f.message}): check the servers in dns.internal / dns.external and try again.`,
  };
}

function loopFix(domain: string, key: string): string {
  return `Mail for ${domain} would come back to this relay (a loop): give the internal DNS (dns.internal) an MX for ${domain} that names the main mail server, or set ${key}.nextHop to it.`;
}

function mxItem(m: MxHost, addresses: string[]): DnsFoundItem {
  return m.implicit ? { kind: 'implicitMx', host: m.exchange, addresses } : { kind: 'mx', priority: m.priority, host: m.exchange, addresses };
}

/** `found` in English (for older apps, the CLI and logs) and the same lines as data (`foundItems`). */
function found(items: DnsFoundItem[]): Pick<Check, 'found' | 'foundItems'> {
  return { found: items.map(foundLine), foundItems: items };
}

function foundValues(values: string[]): Pick<Check, 'found' | 'foundItems'> {
  return found(values.map((value) => ({ kind: 'value', value })));
}

function foundLine(item: DnsFoundItem): string {
  switch (item.kind) {
    case 'mx':
    case 'implicitMx': {
      const where = item.addresses.length ? ` (${item.addresses.join(', ')})` : ' (no address)';
      return item.kind === 'implicitMx' ? `${item.host}${where}, no MX record: its A/AAAA` : `MX ${item.priority} ${item.host}${where}`;
    }
    case 'value':
      return item.value;
    case 'dnsError':
      return dnsFailureMessage(item);
  }
}

function sortedAnswer(a: DnsAnswer<string[]>): DnsAnswer<string[]> {
  return a.ok ? { ok: true, value: [...a.value].sort() } : a;
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

function normaliseIp(ip: string): string {
  const v = ip.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return v.replace(/%.*$/, '');
}
