/**
 * Routing (SPEC §1.4, §1.5): which next hop each recipient of a message goes to. Pure: config
 * and envelope in, routes out; DNS and sockets come later, in the deliverer. Each route becomes
 * one SMTP transaction, so a message whose recipients take different routes is split per route.
 *
 * Order, first match wins:
 *   0. the relay's own (local) domains: postmaster@ / mailer-daemon@ go to the external postmasters
 *      (which are then routed like any other recipient); other local recipients are unroutable
 *      (there are no mailboxes here), unless the domain is also a relay domain;
 *   1. relay exceptions, in config order: a recipient rule matches the recipient, a sender rule the
 *      envelope sender; the rule's relay host takes the recipient;
 *   2. relay domains: `nextHop` if set, else the domain's MX through the internal resolvers;
 *   3. mode "relayHost": the relay host;
 *   4. mode "direct": the recipient domain's MX through the external resolvers.
 * Domains are compared in lower-case ASCII form (IDN → punycode).
 */
import type { RelayConfig, RelayHost } from '../config/schema.ts';
import { parseHostPort } from '../config/value-checks.ts';
import { asciiAddress, asciiDomain, asciiDomainOf, sameAddress, splitAddress } from './address-parts.ts';

/** The parts of the config routing reads. */
export interface RoutingConfig {
  delivery: RelayConfig['delivery'];
  relayControl: Pick<RelayConfig['relayControl'], 'relayDomains'>;
  general: { profile: Pick<RelayConfig['general']['profile'], 'domain' | 'additionalDomains' | 'hostname'>; externalPostmasters: string[] };
}

/** Where a route's SMTP transaction goes. */
export type RouteTarget =
  /** A relay host (smarthost): the default one (rule null) or a relay exception's. */
  | { kind: 'relayHost'; relayHost: RelayHost; rule: string | null }
  /** A relay domain's fixed next hop; port null → the direct-delivery port (25). */
  | { kind: 'nextHop'; host: string; port: number | null; relayDomain: string }
  /** The MX hosts of `domain`, looked up through the internal (relay domains) or external resolvers. */
  | { kind: 'mx'; domain: string; resolvers: 'internal' | 'external' }
  /** No route exists: the recipients fail with this status without any SMTP. */
  | { kind: 'unroutable'; code: number; enhanced: string; reason: string; why: UnroutableWhy; params: Record<string, string> };

/**
 * Why a recipient has no route, for clients that word `reason` in their own language (with
 * `params`): a local-domain address other than postmaster@/mailer-daemon@, postmaster@ with no
 * external postmaster configured, an address without a domain, a relay domain whose next hop is
 * not host[:port].
 */
export const UNROUTABLE_WHY = ['localMailbox', 'noPostmaster', 'noDomain', 'badNextHop'] as const;
export type UnroutableWhy = (typeof UNROUTABLE_WHY)[number];

/** One recipient on a route: `recipient` as queued, `rcpt` the address sent in RCPT TO. */
export interface RouteRecipient {
  recipient: string;
  rcpt: string;
}

/** A group of recipients that share one next hop and so one SMTP transaction. */
export interface Route {
  /** Stable identity of the route within a message, e.g. "mx:external:example.com". */
  key: string;
  target: RouteTarget;
  recipients: RouteRecipient[];
}

const LOCAL_ALIASES = new Set(['postmaster', 'mailer-daemon']);

/** Split the recipients of a message from `sender` into routes (see the file comment for the order). */
export function planRoutes(config: RoutingConfig, sender: string, recipients: readonly string[]): Route[] {
  const routes = new Map<string, Route>();
  const seen = new Set<string>();
  const add = (target: RouteTarget, rr: RouteRecipient): void => {
    const key = routeKey(target);
    const pair = `${key}\0${rr.recipient}\0${asciiAddress(rr.rcpt).toLowerCase()}`;
    if (seen.has(pair)) return;
    seen.add(pair);
    const route = routes.get(key) ?? { key, target, recipients: [] };
    route.recipients.push(rr);
    routes.set(key, route);
  };
  const localDomains = new Set(
    [config.general.profile.domain, config.general.profile.hostname, ...config.general.profile.additionalDomains].map(asciiDomain),
  );
  const relayDomains = new Set(config.relayControl.relayDomains.map((d) => asciiDomain(d.domain)));
  const isLocal = (addr: string): boolean => {
    const domain = asciiDomainOf(addr);
    return localDomains.has(domain) && !relayDomains.has(domain);
  };

  for (const recipient of recipients) {
    if (!isLocal(recipient)) {
      add(routeFor(config, sender, recipient), { recipient, rcpt: recipient });
      continue;
    }
    const local = splitAddress(recipient).local.toLowerCase();
    if (!LOCAL_ALIASES.has(local)) {
      add(unroutable(550, '5.1.1', `${recipient}: no mailboxes on this relay (local domain)`, 'localMailbox', { recipient }), { recipient, rcpt: recipient });
      continue;
    }
    // Postmasters that are themselves local would route back to this alias: a loop, so drop them.
    const postmasters = config.general.externalPostmasters.filter((p) => !isLocal(p));
    if (postmasters.length === 0) {
      add(unroutable(550, '5.1.1', `${recipient}: no external postmaster is configured`, 'noPostmaster', { recipient }), { recipient, rcpt: recipient });
      continue;
    }
    for (const p of postmasters) add(routeFor(config, sender, p), { recipient, rcpt: p });
  }
  return [...routes.values()];
}

function routeFor(config: RoutingConfig, sender: string, recipient: string): RouteTarget {
  for (const rule of config.delivery.exceptions) {
    const subject = rule.targetType === 'recipient' ? recipient : sender;
    if (subject !== '' && rule.targets.some((t) => matchesTarget(t, subject))) {
      return { kind: 'relayHost', relayHost: rule.relayHost, rule: rule.name };
    }
  }
  const domain = asciiDomainOf(recipient);
  if (domain === '') return unroutable(553, '5.1.3', `${recipient}: address has no domain`, 'noDomain', { recipient });
  const relayDomain = config.relayControl.relayDomains.find((d) => asciiDomain(d.domain) === domain);
  if (relayDomain) {
    if (relayDomain.nextHop === '') return { kind: 'mx', domain, resolvers: 'internal' };
    const hp = parseHostPort(relayDomain.nextHop);
    if (!hp) {
      return unroutable(554, '5.3.5', `relay domain ${relayDomain.name}: bad next hop ${relayDomain.nextHop}`, 'badNextHop', { name: relayDomain.name, nextHop: relayDomain.nextHop });
    }
    return { kind: 'nextHop', host: hp.host.includes(':') ? hp.host.toLowerCase() : asciiDomain(hp.host), port: hp.port, relayDomain: relayDomain.name };
  }
  if (config.delivery.mode === 'relayHost' && config.delivery.relayHost) {
    return { kind: 'relayHost', relayHost: config.delivery.relayHost, rule: null };
  }
  return { kind: 'mx', domain, resolvers: 'external' };
}

function unroutable(code: number, enhanced: string, reason: string, why: UnroutableWhy, params: Record<string, string>): RouteTarget {
  return { kind: 'unroutable', code, enhanced, reason, why, params };
}

/**
 * Whether a relay-exception target matches an address: "user@example.com" matches that address
 * (case-insensitive), "example.com" the domain exactly, "*.example.com" any subdomain of it
 * (not example.com itself).
 */
export function matchesTarget(target: string, address: string): boolean {
  const t = target.trim();
  if (t.includes('@')) return sameAddress(t, address);
  const domain = asciiDomainOf(address);
  if (t.startsWith('*.')) return domain.endsWith(`.${asciiDomain(t.slice(2))}`);
  return domain === asciiDomain(t);
}

/** The identity of a route: recipients whose targets have the same key share a transaction. */
export function routeKey(target: RouteTarget): string {
  switch (target.kind) {
    case 'relayHost':
      return target.rule === null ? 'relay:default' : `relay:rule:${target.rule}`;
    case 'nextHop':
      return `nexthop:${target.host}:${target.port ?? 'default'}`;
    case 'mx':
      return `mx:${target.resolvers}:${target.domain}`;
    case 'unroutable':
      return `unroutable:${target.enhanced}:${target.reason}`;
    default:
      return missingCase(target);
  }
}

function missingCase(x: never): never {
  throw new Error(`unhandled route target ${JSON.stringify(x)}`);
}
