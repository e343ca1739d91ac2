/**
 * Advanced policy (SPEC §1.6, `security.advanced`): HELO required / valid / fully qualified /
 * resolvable, unauthorized pipelining, recipient FQDN and domain checks, DNSBL zones with a
 * threshold. Pure functions of the value, the settings and the DNS lookups they are handed.
 */
import net from 'node:net';
import type { RelayConfig } from '../config/schema.ts';
import { isFqdn, type ParsedAddress } from './address.ts';
import { dnsblQueryName, lookupAddresses, mailDomainStatus, type PolicyDns } from './policy-dns.ts';
import { PASS, reject, type Rejection, type Verdict } from './verdict.ts';

/** The `security.advanced` settings. */
export type AdvancedPolicy = RelayConfig['security']['advanced'];

/** How long untrusted clients wait for the greeting when unauthorized pipelining is rejected. */
export const PIPELINING_GREETING_DELAY_MS = 1000;

export const REQUIRE_HELO: Rejection = reject(503, '5.5.1', 'Error: send HELO/EHLO first', 'require-helo');

/**
 * A client that talked before the greeting, or sent commands ahead where RFC 2920 makes it wait for
 * a reply (or without having seen PIPELINING). 5xx rather than smtp-server's 421 "You talk too soon":
 * the client is out of step with the dialogue, so a retry of the same behaviour would fail again.
 * The connection is closed: every later reply would answer the wrong command.
 */
export function unauthorizedPipelining(beforeGreeting: boolean): Rejection {
  return beforeGreeting
    ? reject(554, '5.5.0', 'Protocol error: you talked before the greeting (improper use of SMTP command pipelining)', 'reject-unauth-pipelining', true)
    : reject(554, '5.5.0', 'Protocol error: improper use of SMTP command pipelining', 'reject-unauth-pipelining', true);
}

const hostnameRe = /^(?=.{1,253}$)(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$/i;

/** Host name syntax (underscores tolerated, as Windows machines use them); the last label is not numeric. */
function isHostname(helo: string): boolean {
  return hostnameRe.test(helo) && !/(^|\.)\d+\.?$/.test(helo);
}

function isAddressLiteral(helo: string): boolean {
  const m = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(helo);
  return !!m && net.isIP(m[1]!) !== 0 && (helo.toLowerCase().startsWith('[ipv6:') ? net.isIPv6(m[1]!) : net.isIPv4(m[1]!));
}

/** Syntax and FQDN checks of a HELO/EHLO name (no DNS). */
export function checkHeloName(helo: string, policy: AdvancedPolicy): Verdict {
  const shown = helo.slice(0, 100);
  const literal = isAddressLiteral(helo);
  if (policy.rejectInvalidHelo && !literal && !isHostname(helo)) {
    return reject(501, '5.5.2', `<${shown}>: Helo command rejected: Invalid name`, 'reject-invalid-helo');
  }
  if (policy.rejectNonFqdnHelo && !literal && !/\.[a-z0-9_-]+\.?$/i.test(helo)) {
    return reject(504, '5.5.2', `<${shown}>: Helo command rejected: need fully-qualified hostname`, 'reject-non-fqdn-helo');
  }
  return PASS;
}

/** `rejectUnknownHeloHostname`: the name has no A, AAAA or MX record. Address literals pass. */
export async function checkHeloResolves(helo: string, policy: AdvancedPolicy, dns: PolicyDns): Promise<Verdict> {
  if (!policy.rejectUnknownHeloHostname || isAddressLiteral(helo) || !isHostname(helo)) return PASS;
  const name = helo.replace(/\.$/, '').toLowerCase();
  const addrs = await lookupAddresses(dns, name);
  if (addrs.ok) return PASS;
  const mx = addrs.permanent ? await dns.mx(name) : null;
  if (mx?.ok && mx.value.length > 0) return PASS;
  const temporary = !addrs.permanent || (mx !== null && !mx.ok && !mx.permanent);
  return temporary
    ? reject(450, '4.7.1', `<${helo}>: Helo command rejected: Host not found (DNS temporary failure)`, 'reject-unknown-helo-hostname')
    : reject(550, '5.7.1', `<${helo}>: Helo command rejected: Host not found`, 'reject-unknown-helo-hostname');
}

/** `rejectNonFqdnRecipient`: the recipient's domain has a single label (or is missing). */
export function checkRecipientFqdn(raw: string, addr: ParsedAddress | null, policy: AdvancedPolicy): Verdict {
  if (!policy.rejectNonFqdnRecipient) return PASS;
  if (addr && (addr.literal || isFqdn(addr.domain))) return PASS;
  if (addr && addr.domain === '' && addr.local.toLowerCase() === 'postmaster') return PASS; // RFC 5321 §4.5.1
  return reject(504, '5.5.2', `<${raw}>: Recipient address rejected: need fully-qualified address`, 'reject-non-fqdn-recipient');
}

/** `rejectUnknownRecipientDomain`: the domain has no MX, A or AAAA record (or a null MX). */
export async function checkRecipientDomain(raw: string, addr: ParsedAddress, policy: AdvancedPolicy, dns: PolicyDns): Promise<Verdict> {
  if (!policy.rejectUnknownRecipientDomain || addr.literal || addr.domain === '') return PASS;
  const status = await mailDomainStatus(dns, addr.domain);
  if (status.ok) return PASS;
  return status.permanent
    ? reject(550, '5.1.2', `<${raw}>: Recipient address rejected: ${status.reason}`, 'reject-unknown-recipient-domain')
    : reject(450, '4.1.2', `<${raw}>: Recipient address rejected: Domain not found (${status.reason})`, 'reject-unknown-recipient-domain');
}

/**
 * DNSBL zones: the client is refused when it is listed on at least `dnsblThreshold` zones. Only
 * answers in 127.0.0.0/8 count as a listing (127.255.255.x are the lists' own error codes). A zone
 * that does not answer counts as not listing the client: a blocklist outage must not stop all mail.
 */
export async function checkDnsbl(ip: string, policy: AdvancedPolicy, dns: PolicyDns): Promise<{ verdict: Verdict; listedOn: string[]; failedZones: string[] }> {
  if (policy.dnsblZones.length === 0) return { verdict: PASS, listedOn: [], failedZones: [] };
  const results = await Promise.all(
    policy.dnsblZones.map(async (zone) => {
      const name = dnsblQueryName(ip, zone.replace(/\.$/, '').toLowerCase());
      if (!name) return { zone, listed: false, failed: false };
      const a = await dns.a(name);
      if (!a.ok) return { zone, listed: false, failed: !a.permanent };
      return { zone, listed: a.value.some((v) => v.startsWith('127.') && !v.startsWith('127.255.255.')), failed: false };
    }),
  );
  const listedOn = results.filter((r) => r.listed).map((r) => r.zone);
  const failedZones = results.filter((r) => r.failed).map((r) => r.zone);
  if (listedOn.length === 0 || listedOn.length < policy.dnsblThreshold) return { verdict: PASS, listedOn, failedZones };
  const of = policy.dnsblThreshold > 1 ? ` (${listedOn.length} lists, threshold ${policy.dnsblThreshold})` : '';
  return {
    verdict: reject(554, '5.7.1', `Service unavailable; client host [${ip}] blocked using ${listedOn.join(', ')}${of}`, `dnsbl:${listedOn.join(',')}`),
    listedOn,
    failedZones,
  };
}
