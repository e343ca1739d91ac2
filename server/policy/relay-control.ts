/**
 * Relay control (SPEC §1.5, §1.3): who may send mail where. A pure function of the recipient, the
 * client's standing and the config. The one promise it keeps: no mail is relayed for an untrusted,
 * unauthenticated client to a domain that is not a relay domain, whatever the address looks like.
 */
import type { RelayConfig } from '../config/schema.ts';
import { toAsciiDomain } from '../config/schema.ts';
import type { ParsedAddress } from './address.ts';
import { PASS, reject, type Verdict } from './verdict.ts';

/** What the session knows about the client when it decides on a recipient. */
export interface ClientStanding {
  /** In relayControl.trustedNetworks. */
  trusted: boolean;
  /** Completed SMTP AUTH. */
  authenticated: boolean;
  /** On the relay host's own subnets or loopback (for auth.skipForLocalNetwork). */
  localNetwork: boolean;
}

export type RecipientClass =
  | { kind: 'relayDomain'; domain: string }
  | { kind: 'postmaster' }
  | { kind: 'local' }
  | { kind: 'remote' };

/**
 * A configured domain in the form parseAddress gives recipient domains: lower case, ASCII, without
 * the root dot the schema allows ("example.com." would otherwise match no address at all, and the
 * policy would disagree with routing, which drops the dot).
 */
function configuredDomain(domain: string): string {
  return toAsciiDomain(domain.trim().toLowerCase().replace(/\.$/, ''));
}

/** The relay's own domains: they have no mailboxes, only postmaster@ / mailer-daemon@. */
export function localDomains(config: RelayConfig): Set<string> {
  const p = config.general.profile;
  return new Set([p.domain, ...p.additionalDomains, p.hostname].map(configuredDomain));
}

export function relayDomainSet(config: RelayConfig): Set<string> {
  return new Set(config.relayControl.relayDomains.map((d) => configuredDomain(d.domain)));
}

export function classifyRecipient(addr: ParsedAddress, locals: Set<string>, relayDomains: Set<string>): RecipientClass {
  if (relayDomains.has(addr.domain)) return { kind: 'relayDomain', domain: addr.domain };
  const localPart = addr.local.toLowerCase();
  const isSystemAlias = localPart === 'postmaster' || localPart === 'mailer-daemon';
  if (addr.domain === '' || locals.has(addr.domain)) return isSystemAlias && !addr.routing ? { kind: 'postmaster' } : { kind: 'local' };
  return { kind: 'remote' };
}

/** May this client relay to arbitrary destinations? */
export function mayRelay(standing: ClientStanding, config: RelayConfig): boolean {
  if (standing.trusted) return true;
  const auth = config.general.auth;
  if (!auth.enabled) return false;
  return standing.authenticated || (auth.skipForLocalNetwork && standing.localNetwork);
}

/** The relay-control verdict for one recipient. */
export function checkRecipientRelay(addr: ParsedAddress, cls: RecipientClass, standing: ClientStanding, config: RelayConfig): Verdict {
  const relayAllowed = mayRelay(standing, config);
  // Sender-specified routing is only honoured for clients that may relay anyway: for anyone else the
  // next hop could forward "user%victim@relaydomain" to victim.
  if (addr.routing && !relayAllowed) return reject(554, '5.7.1', `<${addr.raw}>: Relay access denied (address routing not allowed)`, 'relay-control');
  switch (cls.kind) {
    case 'relayDomain':
      return PASS;
    case 'postmaster':
      if (config.general.externalPostmasters.length === 0) {
        return reject(550, '5.1.1', `<${addr.raw}>: no external postmaster is configured on this relay`, 'external-postmaster');
      }
      return PASS;
    case 'local':
      return reject(550, '5.1.1', `<${addr.raw}>: Recipient address rejected: no mailboxes on this relay`, 'local-domain');
    case 'remote':
      if (addr.literal && !relayAllowed) return reject(554, '5.7.1', `<${addr.raw}>: Relay access denied`, 'relay-control');
      return relayAllowed ? PASS : reject(554, '5.7.1', `<${addr.raw}>: Relay access denied`, 'relay-control');
    default:
      return assertNever(cls);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected case: ${JSON.stringify(x)}`);
}
