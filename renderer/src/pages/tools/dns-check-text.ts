/**
 * The words of a `dns.check` check in the user's language. The relay says what it checked and what to
 * fix in English and, since `code` and `params` exist, as data: a known code is worded from the
 * catalog (`tools.dns.check.*`, `tools.dns.fixes.*`) with the relay's params filled in. A check of
 * an older relay (no code) or a newer one (a code this app does not know) keeps the relay's English.
 * The DNS error a lookup-error fix quotes is worded here too when the relay sends it as data
 * (`dnsFailure`); otherwise the fix quotes the relay's English `params.dnsError`.
 */
import type { DnsCheckCode, MethodResult } from '../../../../server/protocol/index.ts';
import type { MessageParams } from '../../i18n/message-types.ts';
import { dnsFailureText } from './dns-found-text.ts';

/** One check of a `dns.check` answer. */
export type DnsCheck = MethodResult<'dns.check'>['checks'][number];
/** `t` of the app's I18n (passed in, so this stays a plain function tests can call without Svelte). */
export type Translate = (key: string, params?: MessageParams) => string;

/** The sentences of a check, ready to show. */
export interface DnsCheckText {
  name: string;
  expected: string;
  fix: string | null;
}

interface CheckKeys {
  nameKey: string;
  expectedKey: string;
}

// What each check is about; the keys are written out so the catalog test finds them.
const HOSTNAME: CheckKeys = { nameKey: 'tools.dns.check.hostname.name', expectedKey: 'tools.dns.check.hostname.expected' };
const REVERSE: CheckKeys = { nameKey: 'tools.dns.check.reverse.name', expectedKey: 'tools.dns.check.reverse.expected' };
const EXTERNAL_MX: CheckKeys = { nameKey: 'tools.dns.check.externalMx.name', expectedKey: 'tools.dns.check.externalMx.expected' };
const NEXT_HOP: CheckKeys = { nameKey: 'tools.dns.check.nextHop.name', expectedKey: 'tools.dns.check.nextHop.expected' };
const INTERNAL_MX: CheckKeys = { nameKey: 'tools.dns.check.internalMx.name', expectedKey: 'tools.dns.check.internalMx.expected' };

/** Every code of the contract; a code added there is a type error here until it has its words. */
export const DNS_CHECK_TEXT_KEYS: Readonly<Record<DnsCheckCode, CheckKeys & { fixKey: string | null }>> = {
  'hostname.ok': { ...HOSTNAME, fixKey: null },
  'hostname.notFqdn': { ...HOSTNAME, fixKey: 'tools.dns.fixes.hostnameNotFqdn' },
  'hostname.noAddress': { ...HOSTNAME, fixKey: 'tools.dns.fixes.hostnameNoAddress' },
  'hostname.lookupError': { ...HOSTNAME, fixKey: 'tools.dns.fixes.lookupError' },
  'reverse.ok': { ...REVERSE, fixKey: null },
  'reverse.mismatch': { ...REVERSE, fixKey: 'tools.dns.fixes.reversePtr' },
  'reverse.missing': { ...REVERSE, fixKey: 'tools.dns.fixes.reversePtr' },
  'reverse.lookupError': { ...REVERSE, fixKey: 'tools.dns.fixes.lookupError' },
  'externalMx.ok': { ...EXTERNAL_MX, fixKey: null },
  'externalMx.implicitOnly': { ...EXTERNAL_MX, fixKey: 'tools.dns.fixes.externalMxImplicitOnly' },
  'externalMx.elsewhere': { ...EXTERNAL_MX, fixKey: 'tools.dns.fixes.externalMxElsewhere' },
  'externalMx.missing': { ...EXTERNAL_MX, fixKey: 'tools.dns.fixes.externalMxMissing' },
  'externalMx.lookupError': { ...EXTERNAL_MX, fixKey: 'tools.dns.fixes.lookupError' },
  'nextHop.ok': { ...NEXT_HOP, fixKey: null },
  'nextHop.loop': { ...NEXT_HOP, fixKey: 'tools.dns.fixes.loop' },
  'nextHop.unresolvable': { ...NEXT_HOP, fixKey: 'tools.dns.fixes.nextHopUnresolvable' },
  'internalMx.ok': { ...INTERNAL_MX, fixKey: null },
  'internalMx.loop': { ...INTERNAL_MX, fixKey: 'tools.dns.fixes.loop' },
  'internalMx.missing': { ...INTERNAL_MX, fixKey: 'tools.dns.fixes.internalMxMissing' },
  'internalMx.missingNoInternalDns': { ...INTERNAL_MX, fixKey: 'tools.dns.fixes.internalMxMissingNoInternalDns' },
  'internalMx.lookupError': { ...INTERNAL_MX, fixKey: 'tools.dns.fixes.lookupError' },
};

const UNFILLED = /\{\w+\}/;

/**
 * Where in the app a fix is made, named as the pages and fields are (the relay names config keys,
 * e.g. relayControl.relayDomains[0].nextHop, which mean nothing on screen). `nextHopField` needs the
 * relay domain (`domain`); without it the sentence keeps its placeholder and the English is shown.
 */
function placesOf(params: Readonly<Record<string, string>>, t: Translate): Record<string, string> {
  const path = (...keys: string[]): string => keys.map((k) => t(k)).join(' › ');
  const places: Record<string, string> = {
    hostnameField: path('mail.general.title', 'mail.general.profile.title', 'mail.general.profile.hostname'),
    dnsField: path('mail.relayControl.title', 'mail.relayControl.dns.title'),
  };
  if (params.domain !== undefined) {
    places.nextHopField = `${path('mail.relayControl.title', 'mail.relayControl.domains.title')} › ${params.domain} › ${t('mail.relayControl.domains.nextHop')}`;
  }
  return places;
}

/** The name, expectation and fix of `check` in the language of `t`, or the relay's English. */
export function dnsCheckText(check: DnsCheck, t: Translate): DnsCheckText {
  const english: DnsCheckText = { name: check.name, expected: check.expected, fix: check.fix };
  const keys = check.code !== undefined && Object.hasOwn(DNS_CHECK_TEXT_KEYS, check.code) ? DNS_CHECK_TEXT_KEYS[check.code as DnsCheckCode] : undefined;
  if (!keys || !check.params) return english;
  const params = { ...check.params, ...placesOf(check.params, t), ...(check.dnsFailure ? { dnsError: dnsFailureText(check.dnsFailure, t) } : {}) };
  const text: DnsCheckText = {
    name: t(keys.nameKey, params),
    expected: t(keys.expectedKey, params),
    fix: keys.fixKey === null ? null : t(keys.fixKey, params),
  };
  // A relay that left out a param the sentence needs would show "{host}": its English is better.
  return [text.name, text.expected, text.fix ?? ''].some((s) => UNFILLED.test(s)) ? english : text;
}
