/**
 * `test.send` (SPEC §1.7): send one test message along the route real delivery would take — the same
 * route planner, resolvers, endpoint order and nodemailer SMTP client settings — and return the SMTP
 * conversation line by line. Nothing is queued: the message exists only for this conversation, so
 * a failure is reported, never retried. The route is told twice: in English (`route`, for the CLI and
 * older apps) and as data (`routes`), for the app to word in the user's language.
 */
import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { RelayConfig } from '../config/schema.ts';
import type { MethodResult, ParsedParams, TestSendRouteKind } from '../protocol/index.ts';
import { asciiAddress, asciiDomain } from './address-parts.ts';
import { classifyError, normaliseReply } from './reply-classifier.ts';
import { createResolverPair } from './resolvers.ts';
import { planRoutes, type Route } from './route-planner.ts';
import { describeRoute, endpointLabel, routeEndpoints } from './route-endpoints.ts';
import type { Endpoint } from './smtp-client-pool.ts';

type TestSendResult = MethodResult<'test.send'>;
type TranscriptLine = TestSendResult['transcript'][number];
type RouteSummary = NonNullable<TestSendResult['routes']>[number] & { kind: TestSendRouteKind };

export interface TestSendOptions {
  config: RelayConfig;
  /** Port of MX hosts and next hops without one (25; tests use MAILRELAY_DIRECT_PORT). */
  directPort?: number;
  /** The whole test gives up trying further hosts after this long (default 25 s, inside a client's 30 s). */
  deadlineMs?: number;
  timeouts?: { connectMs?: number; greetingMs?: number; socketMs?: number };
  now?: () => number;
}

/** Lines kept; a runaway peer cannot grow the answer past the frame cap. */
const MAX_LINES = 2000;
const MAX_LINE_CHARS = 1000;
const MAX_ENDPOINTS = 5;

/** The conversation so far, as the contract's transcript lines. */
class Transcript {
  readonly lines: TranscriptLine[] = [];
  constructor(private readonly now: () => number) {}

  add(direction: TranscriptLine['direction'], text: string): void {
    for (const line of text.split(/\r?\n/)) {
      if (line === '' || this.lines.length >= MAX_LINES) continue;
      this.lines.push({ at: this.now(), direction, text: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line });
    }
  }

  /** A bunyan-style logger for nodemailer: commands it sends, replies it reads, and its own notes. */
  logger(): Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', (entry: { tnx?: string }, message: string, ...args: unknown[]) => void> {
    const log = (entry: { tnx?: string }, message: string, ...args: unknown[]): void => {
      const direction = entry?.tnx === 'client' ? 'client' : entry?.tnx === 'server' ? 'server' : 'info';
      this.add(direction, format(message, ...args));
    };
    return { trace: log, debug: log, info: log, warn: log, error: log, fatal: log };
  }
}

/** What one SMTP session to one endpoint came to. */
type SessionOutcome =
  | { answered: true; label: string; accepted: string[]; rejected: Map<string, string>; reply: string }
  | { answered: false; label: string; reply: string; category: string };

/** Send the test message of `params` along its real route(s); never throws for delivery problems. */
export async function sendTestMessage(params: ParsedParams<'test.send'>, opts: TestSendOptions): Promise<TestSendResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const deadline = started + (opts.deadlineMs ?? 25_000);
  const config = opts.config;
  const transcript = new Transcript(now);
  const message = await composeTestMessage(params, config);
  const routes = planRoutes(config, params.from, params.to);
  const resolvers = createResolverPair(config.dns, { timeoutMs: 3000, tries: 2 });

  const routeNames: string[] = [];
  const summaries: RouteSummary[] = [];
  const hops: string[] = [];
  let reply: string | null = null;
  let ok = routes.length > 0;
  for (const route of routes) {
    const name = describeRoute(route.target);
    routeNames.push(name);
    summaries.push(routeSummary(route.target));
    transcript.add('info', `route for ${route.recipients.map((r) => r.rcpt).join(', ')}: ${name}`);
    const r = await tryRoute(route, { config, from: params.from, message, transcript, resolvers, directPort: opts.directPort ?? 25, deadline, now, timeouts: opts.timeouts });
    if (r.hop) hops.push(r.hop);
    reply = r.reply;
    ok &&= r.ok;
  }
  return { ok, route: routeNames.join('; ') || 'no route', routes: summaries, nextHop: hops.length ? hops.join(', ') : null, reply, durationMs: now() - started, transcript: transcript.lines };
}

/** A route target as the contract's route description: what `describeRoute` says, as data. */
export function routeSummary(target: Route['target']): RouteSummary {
  switch (target.kind) {
    case 'relayHost': {
      const where = `${target.relayHost.host}:${target.relayHost.port}`;
      return target.rule === null ? { kind: 'relayHost', target: where, name: null } : { kind: 'relayException', target: where, name: target.rule };
    }
    case 'nextHop':
      return { kind: 'nextHop', target: target.port === null ? target.host : `${target.host}:${target.port}`, name: target.relayDomain };
    case 'mx':
      return { kind: target.resolvers === 'internal' ? 'relayDomainMx' : 'directMx', target: target.domain, name: null };
    case 'unroutable':
      return { kind: 'unroutable', target: target.reason, name: null, why: target.why, params: target.params };
  }
}

interface RouteContext {
  config: RelayConfig;
  /** Envelope sender; "" is the null sender. */
  from: string;
  message: Buffer;
  transcript: Transcript;
  resolvers: ReturnType<typeof createResolverPair>;
  directPort: number;
  deadline: number;
  now: () => number;
  timeouts: TestSendOptions['timeouts'];
}

async function tryRoute(route: Route, c: RouteContext): Promise<{ ok: boolean; hop: string | null; reply: string }> {
  const target = route.target;
  if (target.kind === 'unroutable') {
    const reply = `${target.code} ${target.enhanced} ${target.reason}`;
    c.transcript.add('info', `not sent: ${reply}`);
    return { ok: false, hop: null, reply };
  }
  const found = await routeEndpoints(target, {
    resolvers: c.resolvers,
    directPort: c.directPort,
    maxEndpoints: MAX_ENDPOINTS,
    note: (text) => c.transcript.add('info', `DNS: ${text}`),
  });
  if (!found.ok) {
    c.transcript.add('info', `not sent: ${found.failure.message}`);
    return { ok: false, hop: found.what, reply: found.failure.message };
  }
  const queue = [...found.endpoints];
  let last: SessionOutcome | null = null;
  while (queue.length > 0) {
    if (c.now() > c.deadline) {
      c.transcript.add('info', `giving up: the test ran out of time; ${queue.length} more host(s) not tried`);
      break;
    }
    const endpoint = queue.shift()!;
    c.transcript.add('info', `connecting to ${endpointLabel(endpoint)} (${tlsWords(endpoint)})`);
    const outcome = await runSession(endpoint, route, c);
    last = outcome;
    if (outcome.answered) {
      const ok = outcome.rejected.size === 0 && outcome.accepted.length > 0;
      for (const [rcpt, why] of outcome.rejected) c.transcript.add('info', `refused ${rcpt}: ${why}`);
      return { ok, hop: outcome.label, reply: outcome.reply };
    }
    c.transcript.add('info', `failed: ${outcome.reply}`);
    // As the deliverer does for direct MX: a failed TLS handshake is retried in plaintext.
    if (endpoint.tlsMode === 'opportunistic' && outcome.category === 'tls') queue.unshift({ ...endpoint, tlsMode: 'none' });
  }
  return { ok: false, hop: last?.label ?? null, reply: last?.reply ?? 'no host to try' };
}

function tlsWords(ep: Endpoint): string {
  switch (ep.tlsMode) {
    case 'opportunistic':
      return 'STARTTLS if offered';
    case 'none':
      return 'no TLS';
    case 'starttls':
      return `STARTTLS required${ep.verifyCertificate ? ', certificate checked' : ''}`;
    case 'tls':
      return `implicit TLS${ep.verifyCertificate ? ', certificate checked' : ''}`;
  }
}

/** One SMTP session: connect, (AUTH,) one transaction, QUIT. */
function runSession(ep: Endpoint, route: Route, c: RouteContext): Promise<SessionOutcome> {
  const label = endpointLabel(ep);
  const conn = new SMTPConnection({
    host: ep.host,
    port: ep.port,
    name: asciiDomain(c.config.general.profile.hostname),
    secure: ep.tlsMode === 'tls',
    ignoreTLS: ep.tlsMode === 'none',
    requireTLS: ep.tlsMode === 'starttls',
    opportunisticTLS: ep.tlsMode === 'opportunistic',
    servername: ep.name !== ep.host ? ep.name : undefined,
    tls: { rejectUnauthorized: ep.tlsMode !== 'opportunistic' && ep.verifyCertificate },
    connectionTimeout: c.timeouts?.connectMs ?? 10_000,
    greetingTimeout: c.timeouts?.greetingMs ?? 15_000,
    socketTimeout: c.timeouts?.socketMs ?? 20_000,
    socketCloseTimeout: 1000,
    allowInternalNetworkInterfaces: true,
    transactionLog: true,
    logger: c.transcript.logger() as unknown as SMTPConnection.Options['logger'],
  });
  const ended = new Promise<void>((resolve) => conn.once('end', () => resolve()));
  const to = route.recipients.map((r) => asciiAddress(r.rcpt));
  return new Promise<SessionOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: SessionOutcome, quit: boolean): void => {
      if (settled) return;
      settled = true;
      if (quit && !conn.destroyed) conn.quit();
      else conn.close();
      // Keep the QUIT exchange in the transcript, but never wait long for a silent peer.
      const timer = setTimeout(() => conn.close(), 2000);
      void ended.then(() => {
        clearTimeout(timer);
        resolve(outcome);
      });
    };
    const failed = (err: unknown): void => {
      const f = classifyError(err);
      settle({ answered: false, label, reply: f.reply, category: f.category }, false);
    };
    conn.on('error', failed);
    conn.once('end', () => settle({ answered: false, label, reply: 'the connection closed before the message was sent', category: 'network' }, false));
    conn.connect((err) => {
      if (err) return failed(err);
      const send = (): void => {
        conn.send({ from: c.from === '' ? '' : asciiAddress(c.from), to }, c.message, (sendErr, info) => {
          if (sendErr) {
            const e = sendErr as { response?: string; rejectedErrors?: Array<{ recipient?: string; response?: string }> };
            if (typeof e.response !== 'string' || e.response === '') return failed(sendErr);
            const rejected = new Map(to.map((r) => [r, normaliseReply(e.response!)] as const));
            for (const x of e.rejectedErrors ?? []) if (x.recipient && x.response) rejected.set(x.recipient, normaliseReply(x.response));
            return settle({ answered: true, label, accepted: [], rejected, reply: classifyError(sendErr).reply }, true);
          }
          const rejected = new Map<string, string>();
          for (const x of (info.rejectedErrors ?? []) as Array<{ recipient?: string; response?: string }>) {
            if (x.recipient) rejected.set(x.recipient, normaliseReply(x.response ?? 'refused'));
          }
          settle({ answered: true, label, accepted: info.accepted.map(String), rejected, reply: normaliseReply(info.response) }, true);
        });
      };
      if (!ep.auth) return send();
      conn.login({ user: ep.auth.user, pass: ep.auth.pass }, (loginErr) => (loginErr ? failed(loginErr) : send()));
    });
  });
}

/** The test message: plain text, marked as automatic, addressed as the envelope says. */
async function composeTestMessage(params: ParsedParams<'test.send'>, config: RelayConfig): Promise<Buffer> {
  const host = asciiDomain(config.general.profile.hostname);
  const composer = new MailComposer({
    from: params.from === '' ? `Relay Desk <mailer-daemon@${host}>` : params.from,
    to: params.to.join(', '),
    subject: params.subject,
    text: params.body,
    date: new Date(),
    messageId: `<relaydesk-test-${randomBytes(8).toString('hex')}@${host}>`,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Relay-Desk-Test': 'yes' },
  });
  return composer.compile().build();
}
