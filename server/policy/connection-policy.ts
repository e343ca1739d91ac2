/**
 * Connection policy (SPEC §1.6, `security.connectionPolicy`): reverse DNS with forward
 * confirmation, per-client limits on concurrent connections, connection rate and message rate, and
 * protocol errors per session. Limits do not apply to trusted networks or allow-listed clients; the
 * session decides who is exempt and calls these only for the others.
 */
import type { RelayConfig } from '../config/schema.ts';
import type { ClientCounters } from './client-counters.ts';
import { normalizeIp } from './networks.ts';
import { lookupAddresses, type PolicyDns } from './policy-dns.ts';
import { PASS, reject, type Verdict } from './verdict.ts';

/** The `security.connectionPolicy` settings. */
export type ConnectionPolicy = RelayConfig['security']['connectionPolicy'];

/** Counter keys: one namespace per limit. */
export const connectionsKey = (ip: string) => `conn:${ip}`;
export const connectionRateKey = (ip: string) => `conn-rate:${ip}`;
export const messageRateKey = (ip: string) => `msg-rate:${ip}`;

/** `open` counts this connection too. */
export function checkConcurrentConnections(ip: string, open: number, policy: ConnectionPolicy): Verdict {
  const max = policy.maxConnectionsPerClient;
  if (max === null || open <= max) return PASS;
  return reject(421, '4.7.0', `Too many concurrent connections from [${ip}] (at most ${max}), try again later`, 'max-connections-per-client', true);
}

/** Counts this connection in the client's window and refuses it past the limit. */
export function checkConnectionRate(ip: string, policy: ConnectionPolicy, counters: ClientCounters): Verdict {
  const limit = policy.connectionRateLimit;
  if (!limit) return PASS;
  const n = counters.hit(connectionRateKey(ip), limit.perSeconds * 1000);
  if (n <= limit.count) return PASS;
  const wait = Math.ceil(counters.remainingMs(connectionRateKey(ip)) / 1000);
  return reject(421, '4.7.0', `Too many connections from [${ip}] (at most ${limit.count} per ${limit.perSeconds} s), try again in ${wait} s`, 'connection-rate-limit', true);
}

/** Counts one message (MAIL FROM) in the client's window and refuses it past the limit. */
export function checkMessageRate(ip: string, policy: ConnectionPolicy, counters: ClientCounters): Verdict {
  const limit = policy.messageRateLimit;
  if (!limit) return PASS;
  const n = counters.hit(messageRateKey(ip), limit.perSeconds * 1000);
  if (n <= limit.count) return PASS;
  const wait = Math.ceil(counters.remainingMs(messageRateKey(ip)) / 1000);
  return reject(450, '4.7.1', `Too much mail from [${ip}] (at most ${limit.count} messages per ${limit.perSeconds} s), try again in ${wait} s`, 'message-rate-limit');
}

/** Replies that count as protocol errors: unknown command, syntax, sequence, parameter errors. */
export function isProtocolError(code: number): boolean {
  return (code >= 500 && code <= 504) || code === 555;
}

/** After `errors` protocol errors in a session: close it with 421 once the limit is reached. */
export function checkErrorLimit(errors: number, policy: ConnectionPolicy): Verdict {
  const max = policy.maxErrorsPerSession;
  if (max === null || errors < max) return PASS;
  return reject(421, '4.7.0', `Too many errors (${errors}) in this session, closing connection`, 'max-errors-per-session', true);
}

/** What reverse DNS said about a client. */
export interface ClientName {
  /** The PTR name, whether or not it resolves back (for block rules and logs). */
  ptrName: string | null;
  /** A PTR name that resolves back to the client's address (forward-confirmed): safe for allow rules. */
  verifiedName: string | null;
  /** Why there is no verified name. */
  failure: { kind: 'no-ptr' | 'no-forward-match'; permanent: boolean } | null;
}

/** PTR lookup, then A/AAAA of the PTR names (at most 5): verified when one resolves back to `ip`. */
export async function lookupClientName(ip: string, dns: PolicyDns): Promise<ClientName> {
  const ptr = await dns.reverse(ip);
  if (!ptr.ok || ptr.value.length === 0) {
    return { ptrName: null, verifiedName: null, failure: { kind: 'no-ptr', permanent: ptr.ok || ptr.permanent } };
  }
  const names = ptr.value.slice(0, 5);
  const want = normalizeIp(ip);
  // In parallel: a slow name must not add its timeout to the others'.
  const answers = await Promise.all(names.map((name) => lookupAddresses(dns, name)));
  const i = answers.findIndex((a) => a.ok && a.value.some((x) => normalizeIp(x) === want));
  if (i >= 0) return { ptrName: names[i]!, verifiedName: names[i]!, failure: null };
  const temporary = answers.some((a) => !a.ok && !a.permanent);
  return { ptrName: names[0]!, verifiedName: null, failure: { kind: 'no-forward-match', permanent: !temporary } };
}

/**
 * `rejectUnknownReverseClientHostname`: the address has no PTR record. `rejectUnknownClientHostname`:
 * additionally, the PTR name must resolve back to the address. 550 5.7.25, or 450 4.7.25 when DNS
 * failed temporarily (RFC 7372).
 */
export function checkClientName(ip: string, name: ClientName, policy: ConnectionPolicy): Verdict {
  const f = name.failure;
  if (!f) return PASS;
  const needPtr = policy.rejectUnknownReverseClientHostname || policy.rejectUnknownClientHostname;
  if (f.kind === 'no-ptr' && needPtr) {
    return f.permanent
      ? reject(550, '5.7.25', `Client host rejected: cannot find your reverse hostname, [${ip}]`, 'reject-unknown-reverse-client-hostname')
      : reject(450, '4.7.25', `Client host rejected: cannot find your reverse hostname, [${ip}] (DNS temporary failure)`, 'reject-unknown-reverse-client-hostname');
  }
  if (f.kind === 'no-forward-match' && policy.rejectUnknownClientHostname) {
    const rule = 'reject-unknown-client-hostname';
    return f.permanent
      ? reject(550, '5.7.25', `Client host rejected: cannot find your hostname, [${name.ptrName} does not resolve to ${ip}]`, rule)
      : reject(450, '4.7.25', `Client host rejected: cannot find your hostname, [${ip}] (DNS temporary failure)`, rule);
  }
  return PASS;
}

/** Does any part of the connection policy need the client's reverse name? */
export function needsClientName(policy: ConnectionPolicy): boolean {
  return policy.rejectUnknownClientHostname || policy.rejectUnknownReverseClientHostname;
}
