/** Result shapes of the throughput benchmark (also the layout of its `--json` file). */
import type { MemoryPeak } from './process-memory.ts';
import type { LatencyResult } from './rate-client.ts';

/** The two peers compared. */
export type PeerName = 'postfix' | 'relay';

/** One smtp-source run: accept and end-to-end rates in msg/s (null when the run failed). */
export interface ModeResult {
  acceptedPerSecond: number | null;
  deliveredPerSecond: number | null;
  acceptSeconds: number | null;
  deliverSeconds: number | null;
  delivered: number;
  error?: string;
}

/** Everything measured for one peer; with several rounds the mode figures are medians. */
export interface PeerResult {
  peer: PeerName;
  newConnectionPerMessage: ModeResult;
  connectionReuse: ModeResult;
  rounds: { newConnectionPerMessage: ModeResult[]; connectionReuse: ModeResult[] };
  latency: LatencyResult | null;
  memory: MemoryPeak | null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Median of each figure over the rounds that succeeded; the first error if none did. */
export function medianOf(rounds: ModeResult[]): ModeResult {
  const ok = rounds.filter((r) => !r.error);
  if (ok.length === 0) return rounds[0] ?? { acceptedPerSecond: null, deliveredPerSecond: null, acceptSeconds: null, deliverSeconds: null, delivered: 0, error: 'not run' };
  const pick = (f: (r: ModeResult) => number | null) => median(ok.map(f).filter((v): v is number => v !== null));
  return {
    acceptedPerSecond: pick((r) => r.acceptedPerSecond),
    deliveredPerSecond: pick((r) => r.deliveredPerSecond),
    acceptSeconds: pick((r) => r.acceptSeconds),
    deliverSeconds: pick((r) => r.deliverSeconds),
    delivered: Math.round(median(ok.map((r) => r.delivered)) ?? 0),
    ...(ok.length < rounds.length ? { error: `${rounds.length - ok.length} of ${rounds.length} rounds failed` } : {}),
  };
}
