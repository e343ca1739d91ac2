/**
 * Delivery of one queued message to its next hops (SPEC §1.4): plan routes, find each route's
 * hosts (relay host, next hop, or MX through the internal/external resolvers), try them in order
 * until one takes a transaction, and report one RecipientResult per recipient. The queue scheduler
 * decides what to do with the results (retry, bounce, log); this module never touches the spool.
 */
import type { RelayConfig } from '../config/schema.ts';
import type { RelayLog } from '../logging/relay-log.ts';
import type { QueueEntry } from '../queue/types.ts';
import { asciiAddress, asciiDomain, isAscii } from './address-parts.ts';
import { classifyError, type ClassifiedFailure, normaliseReply } from './reply-classifier.ts';
import { createResolverPair, type DnsFailure, type ResolverPair } from './resolvers.ts';
import { planRoutes, type Route, type RouteRecipient, type RouteTarget } from './route-planner.ts';
import { endpointLabel, routeEndpoints } from './route-endpoints.ts';
import { createSmtpClientPool, type Endpoint, type PoolStats } from './smtp-client-pool.ts';
import { runTransaction } from './smtp-transaction.ts';
import type { RecipientResult } from './types.ts';
import type { MessageBody } from './smtp-transaction.ts';

/** What the deliverer needs from the relay; everything but getConfig and log has a default. */
export interface DelivererOptions {
  /** The current config; read at the start of every delivery, so reloads apply to the next one. */
  getConfig: () => RelayConfig;
  log: Pick<RelayLog, 'event'>;
  /** Port for direct (MX) and next-hop delivery without a port; 25 unless a test says otherwise. */
  directPort?: number;
  now?: () => number;
  /** How long an idle outbound session is kept for reuse (default 5 s). */
  idleMs?: number;
  /** Per-try DNS timeout (default 3 s, 2 tries). */
  dnsTimeoutMs?: number;
  /** SMTP timeouts (defaults: connect 30 s, greeting 60 s, inactivity 5 min). */
  timeouts?: { connectMs?: number; greetingMs?: number; socketMs?: number };
  /** Random source for shuffling MX hosts of equal priority (tests pass a fixed one). */
  random?: () => number;
}

/** Outbound delivery as the queue scheduler sees it. */
export interface Deliverer {
  /**
   * Try to deliver `recipients` (a subset of the entry's, those due now). `openBody` returns the
   * stored message bytes (with our Received header), as a stream or, when still in memory, a
   * buffer; it may be called once per attempted transaction. Never rejects: every problem becomes a deferred or failed result.
   */
  deliver(entry: QueueEntry, recipients: string[], openBody: () => MessageBody): Promise<RecipientResult[]>;
  /** Outbound connection counters (for status and tests). */
  stats(): PoolStats;
  /** Wait for deliveries in flight, then close every outbound session. */
  close(): Promise<void>;
}

/** Most addresses tried per route and attempt; more only costs time against a dead domain. */
const MAX_ENDPOINTS = 10;

/**
 * Recipients per transaction. RFC 5321 §4.5.3.1.8 only promises room for 100; beyond that a
 * server may answer 452 to each further RCPT, which would only defer them to the next round.
 */
export const MAX_RCPT_PER_TRANSACTION = 100;

function inChunks(route: Route): Route[] {
  if (route.recipients.length <= MAX_RCPT_PER_TRANSACTION) return [route];
  const chunks: Route[] = [];
  for (let i = 0; i < route.recipients.length; i += MAX_RCPT_PER_TRANSACTION) {
    chunks.push({ ...route, recipients: route.recipients.slice(i, i + MAX_RCPT_PER_TRANSACTION) });
  }
  return chunks;
}

type Outcome = Omit<RecipientResult, 'recipient'>;

interface Candidate {
  endpoint: Endpoint;
  fresh: boolean;
}

export function createDeliverer(opts: DelivererOptions): Deliverer {
  const now = opts.now ?? Date.now;
  const directPort = opts.directPort ?? 25;
  const pool = createSmtpClientPool({
    limits: () => {
      const q = opts.getConfig().queue;
      return { maxConnections: q.maxConcurrentDeliveries, maxPerDestination: q.maxConnectionsPerDestination };
    },
    clientName: () => asciiDomain(opts.getConfig().general.profile.hostname),
    idleMs: opts.idleMs,
    timeouts: opts.timeouts,
  });
  let resolverCache: { config: RelayConfig; key: string; pair: ResolverPair } | null = null;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  function resolvers(config: RelayConfig): ResolverPair {
    // The same config object (no reload since) has the same DNS settings: skip serialising them.
    if (resolverCache?.config === config) return resolverCache.pair;
    const key = JSON.stringify(config.dns);
    if (resolverCache?.key !== key) {
      resolverCache = { config, key, pair: createResolverPair(config.dns, { timeoutMs: opts.dnsTimeoutMs ?? 3000, tries: 2 }) };
    } else resolverCache.config = config;
    return resolverCache.pair;
  }

  async function deliver(entry: QueueEntry, recipients: string[], openBody: () => MessageBody): Promise<RecipientResult[]> {
    const config = opts.getConfig();
    const started = now();
    if (closed) return recipients.map((r) => ({ recipient: r, ...localFailure('delivery is shutting down', started) }));
    const routes = planRoutes(config, entry.envelope.sender, recipients).flatMap(inChunks);
    const perRoute = await Promise.all(
      routes.map((route) =>
        deliverRoute(config, entry, route, openBody, started).catch((err: unknown) => {
          const reason = `internal error: ${err instanceof Error ? err.message : String(err)}`;
          opts.log.event('error', { id: entry.envelope.id, route: route.key, error: reason }, 'error');
          return route.recipients.map((rr) => ({ rr, outcome: localFailure(reason, started) }));
        }),
      ),
    );
    return combine(recipients, perRoute.flat(), started);
  }

  /** One result per queued recipient; an alias (postmaster@) counts as delivered once any copy is. */
  function combine(recipients: string[], results: { rr: RouteRecipient; outcome: Outcome }[], started: number): RecipientResult[] {
    const rank = { delivered: 0, deferred: 1, failed: 2 } as const;
    const best = new Map<string, Outcome>();
    for (const { rr, outcome } of results) {
      const prev = best.get(rr.recipient);
      if (!prev || rank[outcome.outcome] < rank[prev.outcome]) best.set(rr.recipient, outcome);
    }
    return recipients.map((recipient) => ({ recipient, ...(best.get(recipient) ?? localFailure('no route was planned for this recipient', started)) }));
  }

  function localFailure(reason: string, started: number): Outcome {
    return { outcome: 'deferred', code: null, enhanced: '4.3.0', reply: reason, nextHop: '(none)', durationMs: now() - started, category: 'local' };
  }

  async function deliverRoute(
    config: RelayConfig,
    entry: QueueEntry,
    route: Route,
    openBody: () => MessageBody,
    started: number,
  ): Promise<{ rr: RouteRecipient; outcome: Outcome }[]> {
    const everyone = (o: Omit<Outcome, 'durationMs'>): { rr: RouteRecipient; outcome: Outcome }[] =>
      route.recipients.map((rr) => ({ rr, outcome: { ...o, durationMs: now() - started } }));
    const target = route.target;
    if (target.kind === 'unroutable') {
      return everyone({ outcome: 'failed', code: null, enhanced: target.enhanced, reply: target.reason, nextHop: '(none)', category: 'routing' });
    }
    const found = await routeEndpoints(target, { resolvers: resolvers(config), directPort, maxEndpoints: MAX_ENDPOINTS, random: opts.random });
    if (!found.ok) {
      return everyone({ ...dnsOutcome(found.failure, found.what), nextHop: found.what });
    }

    const queue: Candidate[] = found.endpoints.slice(0, MAX_ENDPOINTS).map((endpoint) => ({ endpoint, fresh: false }));
    let last: Omit<Outcome, 'durationMs'> | null = null;
    while (queue.length > 0) {
      const { endpoint, fresh } = queue.shift()!;
      let pc;
      try {
        pc = await pool.acquire(endpoint, { fresh });
      } catch (err) {
        // A host that refuses the session (even with 5xx) has said nothing about this message: the
        // next host is tried, and if none is left the message waits (Postfix: smtp_skip_5xx_greeting).
        const f = asDeferred(classifyError(err));
        last = failureOutcome(f, endpointLabel(endpoint), undefined);
        opts.log.event('error', { id: entry.envelope.id, nextHop: endpointLabel(endpoint), error: f.reply, category: f.category }, 'warn');
        // Direct MX: a failed TLS handshake is retried in plaintext, as other MTAs do.
        if (endpoint.tlsMode === 'opportunistic' && f.category === 'tls') queue.unshift({ endpoint: { ...endpoint, tlsMode: 'none' }, fresh: true });
        continue;
      }

      if (entry.envelope.bodyType === '8bitmime' && pc.extensions && !pc.extensions.has('8BITMIME')) {
        // Chosen: defer rather than convert or send 8-bit data to a 7-bit peer; another MX host
        // may offer it, and the message's bytes stay unchanged (SPEC §1.4).
        pool.release(pc, 'clean');
        last = {
          outcome: 'deferred',
          code: null,
          enhanced: '4.6.3',
          reply: `${pc.label} does not offer 8BITMIME, which this message needs`,
          nextHop: pc.label,
          tls: pc.tls,
          category: 'capability',
        };
        continue;
      }

      const utf8 = pc.extensions === null || pc.extensions.has('SMTPUTF8');
      const wire = (address: string): string => (utf8 ? address : asciiAddress(address));
      const noUtf8 = (what: string): Outcome => ({
        outcome: 'failed',
        code: null,
        enhanced: '5.6.7',
        reply: `${what} has a non-ASCII local part and ${pc.label} does not offer SMTPUTF8`,
        nextHop: pc.label,
        durationMs: now() - started,
        tls: pc.tls,
        category: 'capability',
      });
      const from = wire(entry.envelope.sender);
      if (!utf8 && !isAscii(from)) {
        pool.release(pc, 'clean');
        return route.recipients.map((rr) => ({ rr, outcome: noUtf8(`sender ${entry.envelope.sender}`) }));
      }
      // One RCPT per distinct wire address; aliases that expand to the same address share it.
      const results: { rr: RouteRecipient; outcome: Outcome }[] = [];
      const groups = new Map<string, { wire: string; members: RouteRecipient[] }>();
      for (const rr of route.recipients) {
        const w = wire(rr.rcpt);
        if (!utf8 && !isAscii(w)) {
          results.push({ rr, outcome: noUtf8(`recipient ${rr.rcpt}`) });
          continue;
        }
        const group = groups.get(w.toLowerCase()) ?? { wire: w, members: [] };
        group.members.push(rr);
        groups.set(w.toLowerCase(), group);
      }
      if (groups.size === 0) {
        pool.release(pc, 'clean');
        return results;
      }
      const settle = (outcomeFor: (wireAddress: string) => Outcome): { rr: RouteRecipient; outcome: Outcome }[] => {
        for (const g of groups.values()) {
          const outcome = outcomeFor(g.wire);
          for (const rr of g.members) results.push({ rr, outcome });
        }
        return results;
      };

      const to = [...groups.values()].map((g) => g.wire);
      const tx = await runTransaction(pc, { from, to, size: entry.size, use8BitMime: entry.envelope.bodyType === '8bitmime' }, openBody);
      pool.release(pc, tx.release);
      if (!tx.answered) {
        const firstError = [...tx.byRcpt.values()].find((o) => !o.ok);
        const f = classifyError(firstError && !firstError.ok ? firstError.error : new Error('no reply'));
        const failure = failureOutcome(f, pc.label, pc.tls);
        // A reused session may have been closed by the server while idle: retry once on a fresh one.
        if (pc.uses > 0 && !fresh && f.category === 'network') {
          queue.unshift({ endpoint, fresh: true });
          last = failure;
          continue;
        }
        if (f.category === 'network' || f.category === 'tls') {
          opts.log.event('error', { id: entry.envelope.id, nextHop: pc.label, error: f.reply, category: f.category }, 'warn');
          last = failure;
          continue;
        }
        return settle(() => ({ ...failure, durationMs: now() - started }));
      }
      return settle((w) => {
        const o = tx.byRcpt.get(w);
        if (o?.ok) return delivered(o.reply, pc.label, pc.tls, now() - started);
        return { ...failureOutcome(classifyError(o ? o.error : new Error('no result')), pc.label, pc.tls), durationMs: now() - started };
      });
    }
    return everyone(
      last ?? { outcome: 'deferred', code: null, enhanced: '4.4.1', reply: 'no host to try', nextHop: describeTarget(target), category: 'network' },
    );
  }

  return {
    deliver(entry, recipients, openBody) {
      const p = deliver(entry, recipients, openBody);
      inFlight.add(p);
      // Not p.finally(): its promise would reject with p, unhandled, if a bug ever made p reject.
      const forget = (): void => void inFlight.delete(p);
      p.then(forget, forget);
      return p;
    },
    stats: () => pool.stats(),
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      await pool.close();
    },
  };
}

function delivered(reply: string, nextHop: string, tls: boolean, durationMs: number): Outcome {
  const line = normaliseReply(reply);
  const code = Number(/^(\d{3})/.exec(line)?.[1] ?? 250);
  const enhanced = /^\d{3}[ -](2\.\d{1,3}\.\d{1,3})\b/.exec(line)?.[1] ?? '2.0.0';
  return { outcome: 'delivered', code, enhanced, reply: line, nextHop, durationMs, tls };
}

function asDeferred(f: ClassifiedFailure): ClassifiedFailure {
  return f.outcome === 'deferred' ? f : { ...f, outcome: 'deferred', enhanced: `4${f.enhanced.slice(1)}` };
}

function failureOutcome(f: ClassifiedFailure, nextHop: string, tls: boolean | undefined): Omit<Outcome, 'durationMs'> {
  const o: Omit<Outcome, 'durationMs'> = { outcome: f.outcome, code: f.code, enhanced: f.enhanced, reply: f.reply, nextHop, category: f.category };
  if (tls !== undefined) o.tls = tls;
  return o;
}

/** DNS trouble: permanent → bounce (RFC 7505 null MX gets its own status), temporary → retry. */
function dnsOutcome(f: DnsFailure, what: string): Omit<Outcome, 'durationMs' | 'nextHop'> {
  if (!f.permanent) return { outcome: 'deferred', code: null, enhanced: '4.4.3', reply: `${f.message} (for ${what})`, category: 'dns' };
  const enhanced = f.code === 'NULLMX' ? '5.1.10' : f.code === 'ENOADDR' ? '5.4.4' : '5.1.2';
  return { outcome: 'failed', code: null, enhanced, reply: f.message, category: 'dns' };
}

function describeTarget(t: RouteTarget): string {
  switch (t.kind) {
    case 'relayHost':
      return `${t.relayHost.host}:${t.relayHost.port}`;
    case 'nextHop':
      return t.port === null ? t.host : `${t.host}:${t.port}`;
    case 'mx':
      return `${t.domain} (MX)`;
    default:
      return '(none)';
  }
}
