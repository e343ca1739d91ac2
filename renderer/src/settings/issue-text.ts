/**
 * Validation messages in the user's language. The schema's own messages are English sentences; the
 * known ones map to i18n keys, the rest are derived from the issue's code (too small, too big, not a
 * number). An unknown message is shown as the schema wrote it rather than hidden.
 */
import { t } from '../i18n/index.ts';
import type { FieldIssue } from '../state/config-validation.ts';

/** Schema messages (server/config/schema.ts, electron/ipc-contract.ts) → `validation.*` keys. */
export const KNOWN_MESSAGES: Readonly<Record<string, string>> = {
  'must not be empty': 'validation.required',
  'is not a valid host or domain name': 'validation.hostname',
  'is not a valid domain (a leading "*." wildcard is allowed)': 'validation.domainPattern',
  'is not a valid e-mail address (local@domain)': 'validation.email',
  'must be a port from 1 to 65535': 'validation.port',
  'must be a single line': 'validation.singleLine',
  'is neither an e-mail address nor a domain': 'validation.emailOrDomain',
  'needs at least one address or domain': 'validation.atLeastOneTarget',
  'is required when mode is "relayHost"': 'validation.relayHostRequired',
  'is not an IPv4/IPv6 address or CIDR network': 'validation.cidr',
  'must be host, host:port or [ipv6]:port': 'validation.hostPort',
  'must be "ip" or "ip:port" ("[ipv6]:port")': 'validation.resolver',
  'an allow rule must use action "allow"': 'validation.allowAction',
  'a block rule must use "reject" or "discard"': 'validation.blockAction',
  'is not an IP address, CIDR network or wildcard': 'validation.clientIp',
  'must be a duration like "30s", "5m", "1h" or "2d"': 'validation.duration',
  'needs at least one step': 'validation.atLeastOneStep',
  'needs at least one listener': 'validation.atLeastOneListener',
  'must be a host name or an IP address': 'validation.host',
  'must not start with "-"': 'validation.noLeadingDash',
  'must be a user name (letters, digits, _ . @ -)': 'validation.username',
  'must be an absolute path or start with ~/ (letters, digits, . _ / + @ - only)': 'validation.remotePath',
  'must not contain ".."': 'validation.noDotDot',
  'must be an absolute path': 'validation.absolutePath',
  'must be a command name or path (letters, digits, . _ / + @ ~ - only)': 'validation.command',
  'must be an instance id': 'validation.instanceId',
  'must not contain NUL': 'validation.noNul',
  'must be a SHA256: fingerprint': 'validation.fingerprint',
};

const LISTENER_IN_USE = /^(.+) is used by another listener$/;

function num(v: number | bigint | undefined): number {
  return typeof v === 'bigint' ? Number(v) : (v ?? 0);
}

/** The translated message of an issue, or undefined when there is none. */
export function issueText(issue: FieldIssue | undefined): string | undefined {
  if (!issue) return undefined;
  const known = KNOWN_MESSAGES[issue.message];
  if (known) return t(known);
  const inUse = LISTENER_IN_USE.exec(issue.message);
  if (inUse) return t('validation.listenerInUse', { address: inUse[1] ?? '' });
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string') return num(issue.minimum) <= 1 ? t('validation.required') : t('validation.minLength', { min: num(issue.minimum) });
      if (issue.origin === 'array') return t('validation.minItems', { count: num(issue.minimum) });
      return t('validation.min', { min: num(issue.minimum) });
    case 'too_big':
      if (issue.origin === 'string') return t('validation.maxLength', { max: num(issue.maximum) });
      if (issue.origin === 'array') return t('validation.maxItems', { count: num(issue.maximum) });
      return t('validation.max', { max: num(issue.maximum) });
    case 'invalid_type':
      return issue.expected === 'number' ? t('validation.number') : t('validation.invalid');
    case 'invalid_value':
      return t('validation.oneOf', { values: (issue.values ?? []).map(String).join(', ') });
    case 'invalid_format':
      return t('validation.invalid');
    default:
      return issue.message;
  }
}
