/**
 * What the DNS gave a `dns.check` check, in the user's language. The relay sends `found` as English
 * lines and, since `foundItems` exists, the same lines as data: a known kind is worded from the
 * catalog (`tools.dns.foundText.*`, `tools.dns.dnsErrors.*`). An older relay (no `foundItems`) keeps
 * its English lines; an item of a kind this app does not know (a newer relay) keeps its English line.
 */
import { DNS_FOUND_KINDS, type DnsFailureData, type DnsFoundItem, type DnsFoundKind } from '../../../../server/protocol/index.ts';
import type { DnsCheck, Translate } from './dns-check-text.ts';

/** Why a lookup failed, by resolver code (as the relay's resolvers word it); other codes: `unknown`. */
export const DNS_ERROR_REASON_KEYS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'tools.dns.dnsErrors.notFound',
  ENONAME: 'tools.dns.dnsErrors.notFound',
  ENODATA: 'tools.dns.dnsErrors.noData',
  ESERVFAIL: 'tools.dns.dnsErrors.serverFailure',
  ETIMEOUT: 'tools.dns.dnsErrors.timeout',
  EREFUSED: 'tools.dns.dnsErrors.refused',
  ECONNREFUSED: 'tools.dns.dnsErrors.unreachable',
};

/** A failed DNS lookup in the language of `t`, e.g. "Domain nicht gefunden (NXDOMAIN) bei der MX-Abfrage für example.com". */
export function dnsFailureText(f: DnsFailureData, t: Translate): string {
  const line = (): string => {
    if (f.code === 'NULLMX') return t('tools.dns.foundText.nullMx', { name: f.name });
    if (f.code === 'ENODATA' && f.rrtype === 'A/AAAA') return t('tools.dns.foundText.noAddressRecord', { name: f.name });
    const reason = Object.hasOwn(DNS_ERROR_REASON_KEYS, f.code) ? t(DNS_ERROR_REASON_KEYS[f.code]!) : t('tools.dns.dnsErrors.unknown', { code: f.code });
    return t('tools.dns.foundText.dnsError', { reason, rrtype: f.rrtype, name: f.name });
  };
  return f.noMx ? t('tools.dns.foundText.noMx', { failure: line() }) : line();
}

/** The addresses of an MX host, or "no address". */
function addressesText(addresses: readonly string[], t: Translate): string {
  return addresses.length ? addresses.join(', ') : t('tools.dns.foundText.noAddress');
}

/** Every found kind of the contract; a kind added there is a type error here until it has words. */
const FOUND_ITEM_TEXT: { readonly [K in DnsFoundKind]: (item: Extract<DnsFoundItem, { kind: K }>, t: Translate) => string } = {
  // The priority as it is: a number param would be grouped for the locale (65535 → "65.535").
  mx: (item, t) => t('tools.dns.foundText.mx', { priority: String(item.priority), host: item.host, addresses: addressesText(item.addresses, t) }),
  implicitMx: (item, t) => t('tools.dns.foundText.implicitMx', { host: item.host, addresses: addressesText(item.addresses, t) }),
  value: (item) => item.value,
  dnsError: (item, t) => dnsFailureText(item, t),
};

const knownKinds: ReadonlySet<string> = new Set(DNS_FOUND_KINDS);

function isKnown(item: { kind: string }): item is DnsFoundItem {
  return knownKinds.has(item.kind);
}

/** The `found` lines of `check` in the language of `t`, falling back to the relay's English line by line. */
export function dnsFoundText(check: Pick<DnsCheck, 'found' | 'foundItems'>, t: Translate): string[] {
  const items = check.foundItems;
  // Not the relay's lines item for item (a relay that broke the contract): its English is safer.
  if (!items || items.length !== check.found.length) return check.found;
  return items.map((item, i) => (isKnown(item) ? (FOUND_ITEM_TEXT[item.kind] as (item: DnsFoundItem, t: Translate) => string)(item, t) : (check.found[i] ?? '')));
}
