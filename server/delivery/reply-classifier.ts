/**
 * What a next hop's reply (or a failure to get one) means for a recipient: deferred (retry later)
 * or failed (bounce now), plus a coarse category for statistics and DSNs.
 *
 * The base rule is RFC 5321's: 4xx → deferred, 5xx → failed. `REPLY_RULES` is the table of known
 * exceptions and categories, matched against the whole normalised reply ("550 5.1.1 text"):
 * each rule may set the outcome, the category, or both; the first rule that sets each wins.
 * Network, DNS and TLS failures without a reply are always deferred.
 */
import type { DeliveryOutcome, FailureCategory } from './types.ts';

type Verdict = Exclude<DeliveryOutcome, 'delivered'>;

/** One row of the reply table. */
export interface ReplyRule {
  name: string;
  /** Tested against the normalised reply, e.g. "452 4.5.3 Too many recipients". */
  pattern: RegExp;
  /** Overrides the 4xx/5xx rule when set. */
  outcome?: Verdict;
  category?: FailureCategory;
}

/** Outcome, category and enhanced status code of a reply or error. */
export interface Classification {
  outcome: Verdict;
  category: FailureCategory;
  /** Enhanced status code whose class digit agrees with the outcome (4.x.x deferred, 5.x.x failed). */
  enhanced: string;
}

/** A classified failure as delivery reports it. */
export interface ClassifiedFailure extends Classification {
  /** The reply code, or null when there was no reply (network, DNS, TLS, local errors). */
  code: number | null;
  /** One line: the reply (with the command it answered), or what went wrong. */
  reply: string;
}

/** Known replies, first match wins per field (outcome / category). Order matters. */
export const REPLY_RULES: readonly ReplyRule[] = [
  { name: 'greylisting', pattern: /gr[ae]y-?list/i, outcome: 'deferred', category: 'greylisted' },
  {
    name: 'rate limit',
    pattern: /rate[- ]?limit|too many (connections|messages|mails|e-?mails|sessions|concurrent)|throttl|slow down|(sending|message|connection) rate|\b[45]\.7\.28\b/i,
    outcome: 'deferred',
    category: 'rate-limit',
  },
  { name: 'too many recipients', pattern: /too many recipients|\b[45]\.5\.3\b/i, outcome: 'deferred', category: 'too-many-recipients' },
  {
    name: 'temporary wording in a 5xx',
    pattern: /try (again )?later|retry later|please retry|temporar(il)?y|not available right now|transient/i,
    outcome: 'deferred',
  },
  {
    name: 'TLS required',
    pattern: /starttls|\btls (is )?(required|not available|unavailable)|must (issue|use) .*tls|encryption (is )?required|\b[45]\.7\.1[01]\b/i,
    outcome: 'deferred',
    category: 'tls',
  },
  {
    name: 'authentication',
    pattern: /^53[0458]\b|authenticat(e|ion) (is )?(required|failed|invalid|unsuccessful)|invalid (login|credentials)|\b[45]\.7\.[89]\b/i,
    outcome: 'deferred',
    category: 'auth',
  },
  { name: 'bad command sequence', pattern: /^503\b/, outcome: 'deferred', category: 'protocol' },
  { name: 'service closing', pattern: /^421\b/, category: 'network' },
  { name: 'hop count / loop', pattern: /\b5\.4\.6\b|too many hops|mail loop|loops back/i, outcome: 'failed', category: 'routing' },
  { name: 'mailbox full', pattern: /mailbox (is )?full|over ?quota|quota (exceeded|full)|exceeded (storage|quota)|\b[45]\.2\.2\b/i, category: 'mailbox-full' },
  {
    name: 'message size',
    pattern: /\b[45]\.3\.4\b|\b[45]\.2\.3\b|message (size|length) exceeds|message (is )?too (big|large)|exceeds? (the )?(maximum|fixed|size)/i,
    category: 'message-size',
  },
  {
    name: 'unknown user',
    pattern:
      /\b5\.1\.[016]\b|user unknown|unknown (user|recipient|mailbox)|no such (user|mailbox|recipient|address)|mailbox (unavailable|not found|does not exist)|(recipient|address|account) (not found|unknown|does not exist)|invalid (recipient|mailbox)/i,
    category: 'unknown-user',
  },
  { name: 'spam / content', pattern: /\bspam\b|junk|virus|malware|content (rejected|filter)|message content/i, category: 'spam' },
  {
    name: 'policy',
    pattern:
      /block(ed|list)|black ?list|\blisted\b|dnsbl|\brbl\b|spamhaus|reputation|policy|not (allowed|permitted|authori[sz]ed)|relay(ing)? (access )?(denied|not permitted|prohibited)|access denied|\bspf\b|dmarc|dkim|\b[45]\.7\.\d{1,3}\b/i,
    category: 'policy',
  },
  {
    name: 'DNS / domain',
    pattern: /domain (not found|does not exist|unknown)|host (not found|unknown)|unroutable|unrouteable|no mx|null mx|\b[45]\.1\.(2|8|10)\b|\b[45]\.4\.4\b/i,
    category: 'dns',
  },
];

/** Enhanced codes we assign when a reply carries none, by category (class digit added later). */
const DEFAULT_DETAIL: Record<FailureCategory, string> = {
  'unknown-user': '1.1',
  'mailbox-full': '2.2',
  'message-size': '3.4',
  policy: '7.1',
  spam: '7.1',
  greylisted: '7.1',
  'rate-limit': '7.0',
  'too-many-recipients': '5.3',
  auth: '7.8',
  tls: '7.5',
  dns: '4.3',
  network: '4.2',
  protocol: '5.0',
  capability: '6.3',
  routing: '4.6',
  local: '3.0',
  other: '0.0',
};

/** A server reply on one line: continuation lines joined, their code prefixes dropped. */
export function normaliseReply(reply: string): string {
  const lines = reply.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return '';
  const first = lines[0]!.replace(/^(\d{3})-/, '$1 ').trim();
  const rest = lines.slice(1).map((l) => l.replace(/^\d{3}[ -](\d\.\d{1,3}\.\d{1,3} )?/, '').trim());
  return [first, ...rest].join(' ').replace(/\s+/g, ' ').slice(0, 1000);
}

/** Classify a complete server reply ("550 5.1.1 <a@b>: user unknown", may be multi-line). */
export function classifyReply(reply: string): ClassifiedFailure {
  const line = normaliseReply(reply);
  const codeMatch = /^([1-5]\d\d)\b/.exec(line);
  const code = codeMatch ? Number(codeMatch[1]) : null;
  let outcome: Verdict | undefined;
  let category: FailureCategory | undefined;
  for (const rule of REPLY_RULES) {
    if (!rule.pattern.test(line)) continue;
    outcome ??= rule.outcome;
    category ??= rule.category;
    if (outcome && category) break;
  }
  outcome ??= code !== null && code >= 500 ? 'failed' : 'deferred';
  category ??= 'other';
  const given = /^\d{3}[ -]([245])\.(\d{1,3}\.\d{1,3})\b/.exec(line);
  const detail = given ? given[2]! : DEFAULT_DETAIL[category];
  return { outcome, category, enhanced: `${outcome === 'failed' ? 5 : 4}.${detail}`, code, reply: line };
}

const TLS_ERROR_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_SSL|ERR_TLS|HOSTNAME_MISMATCH|ALTNAME/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'ECONNABORTED']);

interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
}

/**
 * Classify whatever an SMTP attempt failed with: a nodemailer error carrying a server reply is
 * classified by that reply; connection, DNS, TLS and local errors are deferred by kind.
 */
export function classifyError(err: unknown): ClassifiedFailure {
  const e: ErrorLike = typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
  const message = oneLine(typeof e.message === 'string' ? e.message : String(err));
  const code = typeof e.code === 'string' ? e.code : '';
  const original = typeof e.originalCode === 'string' ? e.originalCode : '';
  if (typeof e.response === 'string' && /^[2-5]\d\d/.test(e.response.trim())) {
    const c = classifyReply(e.response);
    const command = typeof e.command === 'string' && /^[A-Z]/.test(e.command) && e.command !== 'CONN' ? e.command : '';
    const reply = command ? `${c.reply} (in reply to ${command})` : c.reply;
    // A refused STARTTLS or AUTH is our session setup failing against this peer (a config problem
    // to fix, not a verdict on the message): retry, whatever the reply code.
    if (code === 'ETLS' || code === 'EAUTH') {
      const category = code === 'ETLS' ? 'tls' : 'auth';
      const given = /^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}\b/.test(c.reply) ? c.enhanced.slice(2) : DEFAULT_DETAIL[category];
      return { outcome: 'deferred', category, enhanced: `4.${given}`, code: c.code, reply };
    }
    return { ...c, reply };
  }
  const fail = (outcome: Verdict, category: FailureCategory, what: string): ClassifiedFailure => ({
    outcome,
    category,
    enhanced: `${outcome === 'failed' ? 5 : 4}.${DEFAULT_DETAIL[category]}`,
    code: null,
    reply: `${what}: ${message}`,
  });
  if (code === 'ETLS' || TLS_ERROR_CODES.test(original) || TLS_ERROR_CODES.test(code)) return fail('deferred', 'tls', 'TLS failure');
  if (code === 'EDNS' || original === 'ENOTFOUND' || original === 'EAI_AGAIN') return fail('deferred', 'dns', 'host lookup failed');
  if (code === 'ETIMEDOUT' || original === 'ETIMEDOUT') return fail('deferred', 'network', 'timed out');
  if (NETWORK_CODES.has(original) || NETWORK_CODES.has(code)) return { ...fail('deferred', 'network', 'connection failed'), enhanced: '4.4.1' };
  if (code === 'ESOCKET' || code === 'ECONNECTION') return fail('deferred', 'network', 'connection lost');
  if (code === 'EAUTH' || code === 'ENOAUTH') return fail('deferred', 'auth', 'authentication failed');
  if (code === 'EMESSAGE' && /size/i.test(message)) return fail('failed', 'message-size', 'message too large for next hop');
  if (code === 'ESTREAM') return fail('deferred', 'local', 'could not read the stored message');
  if (code === 'EPROTOCOL') return fail('deferred', 'protocol', 'protocol error');
  return fail('deferred', 'other', 'delivery error');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 500);
}
