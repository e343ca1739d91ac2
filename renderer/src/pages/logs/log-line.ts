/** How a relay log line reads in the list: the fields that matter for its event first, the rest after. */
import type { LogLine } from '../../../../server/protocol/index.ts';

/** Fields shown in their own columns or not at all. */
const SKIP = new Set(['time', 'level', 'event', 'msg', 'pid', 'hostname', 'v']);
/** Fields in the order a person scans them. */
const LEADING = ['client', 'id', 'session', 'user', 'stage', 'rule', 'from', 'sender', 'to', 'rcpt', 'recipients', 'nextHop', 'reply', 'reason', 'error', 'size'];

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(show).join(', ');
  return JSON.stringify(v);
}

/** One line as `key=value` pairs, the important keys first. */
export function summarize(line: LogLine): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const k of LEADING) {
    if (line[k] === undefined || line[k] === null || line[k] === '') continue;
    seen.add(k);
    parts.push(`${k}=${show(line[k])}`);
  }
  for (const [k, v] of Object.entries(line)) {
    if (SKIP.has(k) || seen.has(k) || v === undefined || v === null || v === '') continue;
    parts.push(`${k}=${show(v)}`);
  }
  return parts.join('  ');
}

/** A colour family per event, for the badge. */
export function eventTone(event: string): 'danger' | 'warning' | 'success' | 'accent' | 'neutral' {
  switch (event) {
    case 'reject':
    case 'bounced':
    case 'expired':
    case 'error':
      return 'danger';
    case 'deferred':
    case 'discard':
      return 'warning';
    case 'delivered':
      return 'success';
    case 'queued':
    case 'auth':
      return 'accent';
    default:
      return 'neutral';
  }
}
