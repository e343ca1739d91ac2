/**
 * `dns.check` (SPEC §1.5, §1.7): is the DNS set up for this relay? For the relay's host name: it has
 * A/AAAA records and each address's PTR names it back. For every relay domain: its public MX points
 * at this relay (the external resolvers), and the relay's own way on to the main server (the next
 * hop, or the MX the internal resolvers give) exists and does not lead back here. Each check passes
 * or says in one line what to fix.
 */
import os from 'node:os';
import net from 'node:net';
import type { RelayConfig } from '../config/schema.ts';
import { parseHostPort } from '../config/value-checks.ts';
import type { MethodResult } from '../protocol/index.ts';
import { asciiDomain } from './address-parts.ts';
import { createResolverPair, dnsFailure, lookupAddresses, lookupMx, withFallback, type DnsAnswer, type DnsFailure, type MxHost, type ResolverPair } from './resolvers.ts';

type DnsCheckResult = MethodResult<'dns.check'>;
type Check = DnsCheckResult['checks'][number];

export interface DnsCheckOptions {
  /** Addresses of this machine; default: every interface address. */
  localAddresses?: string[];
  timeoutMs?: number;
}

/** Run every check against the config's resolvers. */
export async function checkDnsSetup(config: RelayConfig, opts: DnsCheckOptions = {}): Promise<DnsCheckResult> {
  const pair = createResolverPair(config.dns, { timeoutMs: opts.timeoutMs ?? 2000, tries: 2 });
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
    const name = `external MX of ${domain} points at this relay`;
    const expected = `an MX host that is ${host} or has one of its addresses`;
    if (!mx.ok) {
      checks.push(lookupProblem(name, domain, expected, mx, `Add "${domain}. MX 10 ${host}." to the public DNS of ${domain}.`));
    } else {
      const hosts = await Promise.all(mx.value.map(async (m) => ({ m, ...(await isThisRelay(m.exchange, external)) })));
      const found = hosts.map(({ m, addrs }) => describeMx(m, addrs));
      const pointsHere = hosts.some((h) => h.us);
      const implicit = mx.value.every((m) => m.implicit);
      checks.push({
        name,
        subject: domain,
        status: !pointsHere ? 'fail' : implicit ? 'warn' : 'pass',
        expected,
        found,
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
      const check = `next hop of ${domain} reaches the main server`;
      const expectedHop = `${rd.nextHop} resolves to a server other than this relay`;
      if (net.isIP(hopHost)) {
        const us = ours.has(normaliseIp(hopHost)) && (hp?.port ?? 25) === 25;
        checks.push({ name: check, subject: domain, status: us ? 'fail' : 'pass', expected: expectedHop, found: [hopHost], fix: us ? loopFix(domain, key) : null });
      } else {
        const { us, addrs } = await isThisRelay(hopHost, internal);
        const status = addrs.length === 0 ? 'fail' : us && (hp?.port ?? 25) === 25 ? 'fail' : 'pass';
        checks.push({
          name: check,
          subject: domain,
          status,
          expected: expectedHop,
          found: addrs,
          fix: addrs.length === 0 ? `The next hop ${hopHost} has no A/AAAA record in the internal DNS: fix the name there, or set ${key}.nextHop to the main server's IP address.` : status === 'fail' ? loopFix(domain, key) : null,
        });
      }
      continue;
    }
    const imx = await withFallback(pair, (r) => lookupMx(r, domain));
    const iname = `internal MX of ${domain} points at the main server`;
    const iexpected = `an MX host other than this relay (${host}), found through the internal DNS`;
    const addFix = `Add an MX record for ${domain} pointing at the main mail server to the internal DNS${config.dns.internal.length ? ` (${config.dns.internal.join(', ')})` : ' and list that server in dns.internal'}, or set ${key}.nextHop to the main server.`;
    if (!imx.ok) {
      checks.push(lookupProblem(iname, domain, iexpected, imx, addFix));
      continue;
    }
    const ihosts = await Promise.all(imx.value.map(async (m) => ({ m, ...(await isThisRelay(m.exchange, internal)) })));
    const loops = ihosts.some((h) => h.us);
    checks.push({
      name: iname,
      subject: domain,
      status: loops ? 'fail' : 'pass',
      expected: iexpected,
      found: ihosts.map(({ m, addrs }) => describeMx(m, addrs)),
      fix: loops ? loopFix(domain, key) : null,
    });
  }
  return { ok: checks.every((c) => c.status === 'pass' || c.status === 'warn'), checks };
}

function hostnameCheck(host: string, forward: DnsAnswer<string[]>): Check {
  const name = `host name ${host} has an address`;
  const expected = `an A or AAAA record for ${host} with this relay's public address`;
  if (!host.includes('.') || host.startsWith('localhost')) {
    return { name, subject: host, status: 'fail', expected, found: forward.ok ? forward.value : [], fix: "Set general.profile.hostname to the relay's public name (a fully qualified domain name), then give that name an A record." };
  }
  if (forward.ok) return { name, subject: host, status: 'pass', expected, found: forward.value, fix: null };
  return lookupProblem(name, host, expected, forward, `Add an A record (and an AAAA record for IPv6) for ${host} with this relay's public address to the public DNS.`);
}

async function reverseCheck(pair: ResolverPair, host: string, ip: string): Promise<Check> {
  const name = `reverse DNS of ${ip} names ${host}`;
  const expected = `a PTR record for ${ip} with the name ${host}`;
  const fix = `Ask whoever runs the network of ${ip} (usually the provider) to set its PTR record to ${host}; many receivers refuse mail when the reverse name does not match.`;
  let names: string[];
  try {
    names = (await pair.external.reverse(ip)).map((n) => asciiDomain(n));
  } catch (err) {
    return lookupProblem(name, ip, expected, dnsFailure(err, ip, 'PTR'), fix);
  }
  const match = names.includes(host);
  return { name, subject: ip, status: match ? 'pass' : 'fail', expected, found: names, fix: match ? null : fix };
}

/** A check whose lookup failed: missing records fail with `fix`; a DNS that did not answer is an error. */
function lookupProblem(name: string, subject: string, expected: string, f: DnsFailure, fix: string): Check {
  if (f.permanent) return { name, subject, status: 'fail', expected, found: [f.message], fix };
  return { name, subject, status: 'error', expected, found: [f.message], fix: `The DNS did not answer (${f.message}): check the servers in dns.internal / dns.external and try again.` };
}

function loopFix(domain: string, key: string): string {
  return `Mail for ${domain} would come back to this relay (a loop): give the internal DNS (dns.internal) an MX for ${domain} that names the main mail server, or set ${key}.nextHop to it.`;
}

function describeMx(m: MxHost, addrs: string[]): string {
  const where = addrs.length ? ` (${addrs.join(', ')})` : ' (no address)';
  return m.implicit ? `${m.exchange}${where}, no MX record: its A/AAAA` : `MX ${m.priority} ${m.exchange}${where}`;
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
