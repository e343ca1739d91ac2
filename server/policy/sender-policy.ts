/**
 * Sender policy (SPEC §1.6, `security.senderPolicy`) and "sender must match login" (SPEC §1.3):
 * checks on the MAIL FROM address. The null sender `<>` (bounces) is never refused here.
 */
import type { RelayConfig } from '../config/schema.ts';
import { isFqdn, type ParsedAddress } from './address.ts';
import { normalizeAddressValue } from './lists.ts';
import { mailDomainStatus, type PolicyDns } from './policy-dns.ts';
import { PASS, reject, type Verdict } from './verdict.ts';

/** The `security.senderPolicy` settings. */
export type SenderPolicy = RelayConfig['security']['senderPolicy'];

/** `rejectNonFqdnSender`: `user` or `user@host` (one label) → 504 5.5.2. `addr` is null when it has no domain. */
export function checkSenderFqdn(raw: string, addr: ParsedAddress | null, policy: SenderPolicy): Verdict {
  if (!policy.rejectNonFqdnSender || raw === '') return PASS;
  if (addr && (addr.literal || isFqdn(addr.domain))) return PASS;
  return reject(504, '5.5.2', `<${raw}>: Sender address rejected: need fully-qualified address`, 'reject-non-fqdn-sender');
}

/**
 * `rejectUnauthenticatedLocalSender`: a client that may not relay (untrusted, not logged in) uses
 * one of the relay's own domains as sender → 553 5.7.1. `mayRelay` is the client's standing.
 */
export function checkLocalSender(addr: ParsedAddress, mayRelay: boolean, locals: ReadonlySet<string>, policy: SenderPolicy): Verdict {
  if (!policy.rejectUnauthenticatedLocalSender || mayRelay || !locals.has(addr.domain)) return PASS;
  return reject(553, '5.7.1', `<${addr.raw}>: Sender address rejected: not logged in (local domain ${addr.domain})`, 'reject-unauthenticated-local-sender');
}

/** `rejectUnknownSenderDomain`: no MX/A/AAAA (or a null MX) → 550 5.1.8; DNS failing → 450 4.1.8. */
export async function checkSenderDomain(addr: ParsedAddress, policy: SenderPolicy, dns: PolicyDns): Promise<Verdict> {
  if (!policy.rejectUnknownSenderDomain || addr.literal || addr.domain === '') return PASS;
  const status = await mailDomainStatus(dns, addr.domain);
  if (status.ok) return PASS;
  return status.permanent
    ? reject(550, '5.1.8', `<${addr.raw}>: Sender address rejected: ${status.reason}`, 'reject-unknown-sender-domain')
    : reject(450, '4.1.8', `<${addr.raw}>: Sender address rejected: Domain not found (${status.reason})`, 'reject-unknown-sender-domain');
}

/**
 * `senderMustMatchLogin`: an authenticated user may use its login (when that is an address) and the
 * addresses listed for it in the user store; anything else → 553 5.7.1.
 */
export function checkSenderLogin(raw: string, user: string, allowedSenders: readonly string[], auth: RelayConfig['general']['auth']): Verdict {
  if (!auth.senderMustMatchLogin || raw === '') return PASS;
  const sender = normalizeAddressValue(raw);
  const owned = [user, ...allowedSenders].filter((a) => a.includes('@')).map(normalizeAddressValue);
  if (owned.includes(sender)) return PASS;
  return reject(553, '5.7.1', `<${raw}>: Sender address rejected: not owned by user ${user.slice(0, 64)}`, 'sender-login-mismatch');
}
