/**
 * Per-client counters for the connection policy and the AUTH throttle: fixed windows (a count that
 * starts with the first event and resets once the window has passed) and gauges (open connections).
 * One small in-memory store for the whole relay. Expired windows and zero gauges are dropped, and the
 * store never holds more than `maxEntries` windows, so a flood of distinct clients cannot grow it.
 */

/** Clock (tests inject one) and the cap on stored windows. */
export interface ClientCountersOptions {
  now?: () => number;
  maxEntries?: number;
}

interface Window {
  start: number;
  expires: number;
  count: number;
}

/** The per-client windows and gauges of one relay process. */
export class ClientCounters {
  private readonly windows = new Map<string, Window>();
  private readonly gauges = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  private nextSweep = 0;

  constructor(opts: ClientCountersOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  /** Count one event for `key` in its window of `windowMs`; returns the count including this one. */
  hit(key: string, windowMs: number): number {
    const w = this.current(key, windowMs, true)!;
    w.count++;
    return w.count;
  }

  /** Events counted for `key` in its current window (0 when none or expired). */
  count(key: string): number {
    return this.current(key, 0, false)?.count ?? 0;
  }

  /** Milliseconds until `key`'s window resets (0 when it has none). */
  remainingMs(key: string): number {
    const w = this.current(key, 0, false);
    return w ? Math.max(0, w.expires - this.now()) : 0;
  }

  /** Open one (e.g. connection) for `key`; returns how many are open now, this one included. */
  acquire(key: string): number {
    const n = (this.gauges.get(key) ?? 0) + 1;
    this.gauges.set(key, n);
    return n;
  }

  /** How many are open for `key` now (0 when none). */
  gauge(key: string): number {
    return this.gauges.get(key) ?? 0;
  }

  release(key: string): void {
    const n = (this.gauges.get(key) ?? 0) - 1;
    if (n > 0) this.gauges.set(key, n);
    else this.gauges.delete(key);
  }

  /** Entries held (for tests: the store must not grow without bound). */
  get size(): number {
    return this.windows.size + this.gauges.size;
  }

  private current(key: string, windowMs: number, create: boolean): Window | null {
    const t = this.now();
    this.sweep(t);
    let w = this.windows.get(key);
    if (w && w.expires <= t) {
      this.windows.delete(key);
      w = undefined;
    }
    if (!w && create) {
      w = { start: t, expires: t + windowMs, count: 0 };
      this.windows.set(key, w);
      // Map order is insertion order: the first entry is the oldest window.
      if (this.windows.size > this.maxEntries) this.windows.delete(this.windows.keys().next().value as string);
    }
    return w ?? null;
  }

  /** Drop expired windows, at most once a second (amortised: O(entries) per second). */
  private sweep(t: number): void {
    if (t < this.nextSweep) return;
    this.nextSweep = t + 1000;
    for (const [key, w] of this.windows) if (w.expires <= t) this.windows.delete(key);
  }
}
