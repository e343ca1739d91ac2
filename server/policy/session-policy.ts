/**
 * The security policies by SMTP stage: what the session asks at connect, HELO/EHLO, MAIL FROM, RCPT
 * TO and end of data, and what each stage leaves behind for the later ones (allow and discard marks,
 * rejections held for later). Each check is a function of the client's state, the compiled config and
 * the lookups in the context; the SMTP session only turns the verdicts into replies and log lines.
 *
 * Rules of the game (SPEC §1.6):
 * - List rules are checked at the earliest stage that sees their criterion: client IP and host name
 *   at connect, HELO at HELO/EHLO, sender at MAIL FROM, recipient at RCPT TO. Allow rules first.
 * - An allow rule exempts the client (connect, HELO) or the message (sender) or that recipient from
 *   block rules and from the sender, connection and advanced policies — never from relay control or
 *   from "sender must match login".
 * - Limits (connections, rates, errors) spare trusted networks. The checks on the client itself
 *   (reverse DNS, DNSBL, HELO, pipelining) spare every client that may relay (trusted, logged in, or
 *   local with skipForLocalNetwork). The checks on addresses (sender and recipient FQDN and domain)
 *   apply to every client: a printer's typo in a recipient domain is better refused than bounced.
 * - A policy rejection found at connect or HELO (reverse DNS, DNSBL, HELO checks) is answered there
 *   when AUTH is off. With AUTH on it is held until MAIL FROM, so that a user who logs in — possibly
 *   from a dial-up address on a blocklist, with a laptop's bare HELO name — is not turned away first.
 */
import type { RelayConfig } from '../config/schema.ts';
import { parseAddress, type ParsedAddress } from './address.ts';
import { checkDnsbl, checkHeloName, checkHeloResolves, checkRecipientDomain, checkRecipientFqdn, REQUIRE_HELO } from './advanced-policy.ts';
import type { ClientCounters } from './client-counters.ts';
import {
  checkClientName,
  checkConcurrentConnections,
  checkConnectionRate,
  checkMessageRate,
  connectionsKey,
  lookupClientName,
  needsClientName,
} from './connection-policy.ts';
import type { CompiledLists, ListMatch } from './lists.ts';
import type { NetworkList } from './networks.ts';
import type { PolicyDns } from './policy-dns.ts';
import { checkRecipientRelay, classifyRecipient, mayRelay, type ClientStanding } from './relay-control.ts';
import { checkLocalSender, checkSenderDomain, checkSenderFqdn, checkSenderLogin } from './sender-policy.ts';
import { PASS, reject, type Rejection, type Verdict } from './verdict.ts';

/** Everything a stage check may consult. */
export interface PolicyContext {
  config: RelayConfig;
  lists: CompiledLists;
  trusted: NetworkList;
  locals: Set<string>;
  relayDomains: Set<string>;
  dns: PolicyDns;
  counters: ClientCounters;
}

/** What a stage left for later ones. */
export interface StageMarks {
  allow: ListMatch | null;
  discard: ListMatch | null;
  /** A policy rejection to answer at MAIL FROM unless the client logs in first. */
  held: Rejection | null;
}

/** The policy view of one SMTP session. */
export interface ClientState {
  ip: string;
  standing: ClientStanding;
  /** Logged-in user name. */
  user: string | null;
  /** Forward-confirmed reverse name, when it was looked up. */
  hostname: string | null;
  connect: StageMarks;
  helo: StageMarks;
  /** The current transaction (reset at each MAIL FROM). */
  tx: { allow: ListMatch | null; discard: ListMatch | null; discardedRcpts: Map<string, ListMatch> };
  /** Counted in the per-client connection gauge (released when the session closes). */
  countedConnection: boolean;
  /** Protocol errors so far. */
  errors: number;
}

const noMarks = (): StageMarks => ({ allow: null, discard: null, held: null });

export function newClientState(ip: string, standing: ClientStanding): ClientState {
  return { ip, standing, user: null, hostname: null, connect: noMarks(), helo: noMarks(), tx: newTx(), countedConnection: false, errors: 0 };
}

function newTx(): ClientState['tx'] {
  return { allow: null, discard: null, discardedRcpts: new Map() };
}

/** An allow rule matched the client (IP, host name) or its HELO. */
export function clientAllowed(s: ClientState): ListMatch | null {
  return s.connect.allow ?? s.helo.allow;
}

/** Exempt from the per-client limits (SPEC: trusted networks; and allow-listed clients). */
export function limitsExempt(s: ClientState): boolean {
  return s.standing.trusted || clientAllowed(s) !== null;
}

/** Exempt from the checks on the client itself (reverse DNS, DNSBL, HELO, pipelining, require HELO). */
export function policiesExempt(s: ClientState, config: RelayConfig): boolean {
  return mayRelay(s.standing, config) || clientAllowed(s) !== null || s.tx.allow !== null;
}

/** Exempt from the checks on addresses: only allow rules exempt. */
function addressChecksExempt(s: ClientState): boolean {
  return clientAllowed(s) !== null || s.tx.allow !== null;
}

/** A block rule's rejection, worded for its stage (the rule's name goes to the log, not the client). */
function listRejection(m: ListMatch, subject: string): Rejection {
  return reject(554, '5.7.1', `${subject}: Access denied`, m.rule);
}

/** Hold a connect/HELO policy rejection until MAIL FROM when the client could still log in. */
function answerOrHold(v: Verdict, marks: StageMarks, config: RelayConfig): Verdict {
  if (v.ok) return PASS;
  if (config.general.auth.enabled && !v.disconnect) {
    marks.held = v;
    return PASS;
  }
  return v;
}

/** Connect: client IP and host name lists, limits, reverse DNS, DNSBL. */
export async function checkConnect(s: ClientState, ctx: PolicyContext): Promise<Verdict> {
  const { config, lists } = ctx;
  const policy = config.security.connectionPolicy;
  const byIp = lists.check({ clientIp: s.ip });
  if (byIp?.action === 'reject') return listRejection(byIp, 'Client host rejected');
  if (byIp?.action === 'allow') s.connect.allow = byIp;
  if (byIp?.action === 'discard') s.connect.discard = byIp;

  if (!limitsExempt(s)) {
    s.countedConnection = true;
    const open = ctx.counters.acquire(connectionsKey(s.ip));
    const limits = [checkConcurrentConnections(s.ip, open, policy), checkConnectionRate(s.ip, policy, ctx.counters)];
    const refused = limits.find((v) => !v.ok);
    if (refused) return refused;
  }

  const exempt = () => policiesExempt(s, config);
  const wantName = (!s.connect.allow && lists.uses('clientHostname')) || (needsClientName(policy) && !exempt());
  const wantDnsbl = config.security.advanced.dnsblZones.length > 0 && !exempt();
  const [name, dnsbl] = await Promise.all([
    wantName ? lookupClientName(s.ip, ctx.dns) : null,
    wantDnsbl ? checkDnsbl(s.ip, config.security.advanced, ctx.dns) : null,
  ]);
  if (name) {
    s.hostname = name.verifiedName;
    if (!s.connect.allow) {
      // Anyone can publish any PTR name for their own address: only a forward-confirmed name may
      // allow; a block rule may also match the unconfirmed one.
      const allow = name.verifiedName ? lists.allowed({ clientHostname: name.verifiedName }) : null;
      const m = allow ?? (name.ptrName ? lists.blocked({ clientHostname: name.ptrName }) : null);
      if (m?.action === 'reject') return listRejection(m, `Client host rejected: ${name.ptrName}`);
      if (m?.action === 'allow') s.connect.allow = m;
      if (m?.action === 'discard') s.connect.discard ??= m;
    }
  }
  if (exempt()) return PASS;
  const verdict = name ? checkClientName(s.ip, name, policy) : PASS;
  return answerOrHold(verdict.ok && dnsbl ? dnsbl.verdict : verdict, s.connect, config);
}

/** HELO/EHLO: the HELO list rules, then the HELO name checks. */
export async function checkHelo(s: ClientState, helo: string, ctx: PolicyContext): Promise<Verdict> {
  const { config, lists } = ctx;
  s.helo = noMarks();
  if (!s.connect.allow) {
    const m = lists.check({ helo });
    if (m?.action === 'reject') return listRejection(m, `<${helo.slice(0, 100)}>: Helo command rejected`);
    if (m?.action === 'allow') s.helo.allow = m;
    if (m?.action === 'discard') s.helo.discard = m;
  }
  if (policiesExempt(s, config)) return PASS;
  const adv = config.security.advanced;
  const syntax = checkHeloName(helo, adv);
  const verdict = syntax.ok ? await checkHeloResolves(helo, adv, ctx.dns) : syntax;
  return answerOrHold(verdict, s.helo, config);
}

/** MAIL/RCPT/DATA before any HELO: refused when HELO is required, else the session goes on. */
export function checkMissingHelo(s: ClientState, config: RelayConfig): Verdict {
  return config.security.advanced.requireHelo && !policiesExempt(s, config) ? REQUIRE_HELO : PASS;
}

/** MAIL FROM. `allowedSenders` is only called for logged-in users when senderMustMatchLogin is on. */
export async function checkMailFrom(s: ClientState, raw: string, ctx: PolicyContext, allowedSenders: (user: string) => Promise<string[]>): Promise<Verdict> {
  const { config, lists } = ctx;
  s.tx = newTx();
  let addr: ParsedAddress | null = null;
  if (raw !== '') {
    const parsed = parseAddress(raw);
    if (parsed.ok) addr = parsed.address;
    else if (!raw.includes('@') && !addressChecksExempt(s)) {
      const v = checkSenderFqdn(raw, null, config.security.senderPolicy);
      if (!v.ok) return v;
    }
    if (!parsed.ok) return reject(553, '5.1.7', `<${raw}>: ${parsed.reason}`, 'address-syntax');
  }

  if (!clientAllowed(s)) {
    const m = lists.check({ senderAddress: raw, ...(addr && addr.domain ? { senderDomain: addr.domain } : {}) });
    if (m?.action === 'reject') return listRejection(m, `<${raw}>: Sender address rejected`);
    if (m?.action === 'allow') s.tx.allow = m;
    if (m?.action === 'discard') s.tx.discard = m;
  }

  if (s.user && config.general.auth.senderMustMatchLogin && raw !== '') {
    const v = checkSenderLogin(raw, s.user, await allowedSenders(s.user), config.general.auth);
    if (!v.ok) return v;
  }

  if (clientAllowed(s) || s.tx.allow) return PASS;
  const held = s.connect.held ?? s.helo.held;
  if (held && !s.standing.authenticated) return held;
  if (!limitsExempt(s)) {
    const v = checkMessageRate(s.ip, config.security.connectionPolicy, ctx.counters);
    if (!v.ok) return v;
  }
  if (!addr) return PASS;
  const policy = config.security.senderPolicy;
  const sync = [checkSenderFqdn(raw, addr, policy), checkLocalSender(addr, mayRelay(s.standing, config), ctx.locals, policy)].find((v) => !v.ok);
  if (sync) return sync;
  // The relay's own and its relay domains are known without asking DNS (they may not be public).
  if (ctx.locals.has(addr.domain) || ctx.relayDomains.has(addr.domain)) return PASS;
  return checkSenderDomain(addr, policy, ctx.dns);
}

/** RCPT TO: relay control (always), recipient lists, recipient policies. `discard` drops just this one. */
export async function checkRcptTo(s: ClientState, raw: string, ctx: PolicyContext): Promise<{ verdict: Verdict; discard: ListMatch | null }> {
  const { config, lists } = ctx;
  const parsed = parseAddress(raw);
  if (!parsed.ok) {
    const fqdn = !raw.includes('@') && !addressChecksExempt(s) ? checkRecipientFqdn(raw, null, config.security.advanced) : PASS;
    return { verdict: fqdn.ok ? reject(553, '5.1.3', `<${raw}>: ${parsed.reason}`, 'address-syntax') : fqdn, discard: null };
  }
  const addr = parsed.address;
  const cls = classifyRecipient(addr, ctx.locals, ctx.relayDomains);
  const relay = checkRecipientRelay(addr, cls, s.standing, config);
  if (!relay.ok) return { verdict: relay, discard: null };

  let rcptAllowed = false;
  if (!clientAllowed(s) && !s.tx.allow) {
    const m = lists.check({ recipientAddress: raw, ...(addr.domain ? { recipientDomain: addr.domain } : {}) });
    if (m?.action === 'reject') return { verdict: listRejection(m, `<${raw}>: Recipient address rejected`), discard: null };
    if (m?.action === 'discard') return { verdict: PASS, discard: m };
    rcptAllowed = m?.action === 'allow';
  }
  if (rcptAllowed || addressChecksExempt(s)) return { verdict: PASS, discard: null };
  const adv = config.security.advanced;
  const fqdn = checkRecipientFqdn(raw, addr, adv);
  if (!fqdn.ok) return { verdict: fqdn, discard: null };
  // The relay's own and its relay domains are known without asking DNS (they may not be public).
  if (cls.kind !== 'remote') return { verdict: PASS, discard: null };
  return { verdict: await checkRecipientDomain(raw, addr, adv, ctx.dns), discard: null };
}

/** End of data: the rule that drops the whole message, if any (allow rules win over discards). */
export function discardOf(s: ClientState): ListMatch | null {
  if (clientAllowed(s) || s.tx.allow) return null;
  return s.connect.discard ?? s.helo.discard ?? s.tx.discard;
}
