/** Top reject and deferral reasons for the dashboard, from stats counters or from log lines. */
import type { LogLine, StatsSeries } from '../../../../server/protocol/index.ts';

/** One reason and how often it happened. */
export interface ReasonCount {
  readonly reason: string;
  readonly count: number;
}

/** The `limit` most frequent reasons of a `{reason: count}` map. */
export function topReasons(counts: Readonly<Record<string, number>> | undefined, limit = 6): ReasonCount[] {
  return Object.entries(counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, limit);
}

/**
 * Replies differ in ports, addresses and queue ids even when the cause is the same: fold those so
 * "connect ECONNREFUSED 10.0.0.5:25" and "…10.0.0.6:25" count as one reason.
 */
export function normalizeReply(reply: string): string {
  return reply
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<ip>')
    .replace(/\[[0-9a-f:.]+\](:\d+)?/gi, '[<ip>]')
    .replace(/\b[0-9a-f]{10,}(-[0-9a-z]+)?\b/gi, '<id>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
}

/** Count log lines by reason: `reply` (normalized), else `rule`, else `error`. */
export function reasonsFromLogs(lines: readonly LogLine[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const raw = [l['reply'], l['rule'], l['error'], l['category']].find((v): v is string => typeof v === 'string' && v.length > 0);
    const key = raw ? normalizeReply(raw) : l.event;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The reasons the stats kept for a counter over the whole series, if any. */
export function statsReasons(series: StatsSeries | null, counter: 'rejected' | 'deferred'): Record<string, number> | undefined {
  const r = series?.totals.reasons[counter];
  return r && Object.keys(r).length > 0 ? r : undefined;
}
