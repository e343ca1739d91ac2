/** Exponential backoff with jitter, for reconnects and restarts. */

/** How retries are spaced. */
export interface BackoffOptions {
  /** First delay (ms). */
  initialMs: number;
  /** Longest delay (ms). */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** ± fraction of random spread, so many instances do not retry in lockstep (default 0.2). */
  jitter?: number;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * (opts.factor ?? 2) ** Math.max(0, attempt));
  const spread = base * (opts.jitter ?? 0.2);
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
