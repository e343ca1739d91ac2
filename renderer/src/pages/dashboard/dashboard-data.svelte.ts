/**
 * The dashboard's data: the relay's status (polled), the traffic series of the chosen range from
 * `stats.get`, and the top reject and deferral reasons (stats counters where the relay keeps
 * reasons, else the matching log lines of the range).
 */
import { controlCall, type IpcError, type RelayDeskApi } from '../../api/relay-desk.ts';
import type { MethodResult, StatsSeries } from '../../../../server/protocol/index.ts';
import { reasonsFromLogs, statsReasons, topReasons, type ReasonCount } from './reasons.ts';

/** The time ranges the charts offer, with their bucket width. */
export const RANGES = {
  '1h': { ms: 3600_000, step: 60, refreshMs: 10_000 },
  '24h': { ms: 86_400_000, step: 900, refreshMs: 60_000 },
  '7d': { ms: 7 * 86_400_000, step: 3600, refreshMs: 300_000 },
} as const;
/** A time range of the charts. */
export type RangeId = keyof typeof RANGES;

/** What `status` returns. */
export type RelayStatus = MethodResult<'status'>;

const STATUS_EVERY_MS = 5000;

export class DashboardData {
  readonly #api: RelayDeskApi;
  readonly #instanceId: string;
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #seriesTimer: ReturnType<typeof setTimeout> | null = null;
  #generation = 0;
  #stopped = false;

  status = $state.raw<RelayStatus | null>(null);
  series = $state.raw<StatsSeries | null>(null);
  rejectReasons = $state.raw<ReasonCount[]>([]);
  deferReasons = $state.raw<ReasonCount[]>([]);
  range = $state<RangeId>('1h');
  error = $state<IpcError | null>(null);
  loadingSeries = $state(false);

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.#instanceId = instanceId;
  }

  /** Load now and keep polling; returns the stop function. */
  start(): () => void {
    void this.refreshStatus();
    void this.refreshSeries();
    this.#timers.push(setInterval(() => void this.refreshStatus(), STATUS_EVERY_MS));
    return () => this.stop();
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    if (this.#seriesTimer) clearTimeout(this.#seriesTimer);
    this.#seriesTimer = null;
    this.#generation++;
    this.#stopped = true;
  }

  setRange(range: RangeId): void {
    this.range = range;
    this.series = null;
    void this.refreshSeries();
  }

  async refreshStatus(): Promise<void> {
    const r = await controlCall(this.#api, this.#instanceId, 'status');
    if (r.ok) {
      this.status = r.value;
      this.error = null;
    } else this.error = r.error;
  }

  /** Load the series of the range now, and again after the range's refresh interval. */
  async refreshSeries(): Promise<void> {
    if (this.#seriesTimer) clearTimeout(this.#seriesTimer);
    this.#seriesTimer = null;
    if (this.#stopped) return;
    const gen = ++this.#generation;
    const { ms, step, refreshMs } = RANGES[this.range];
    this.#seriesTimer = setTimeout(() => void this.refreshSeries(), refreshMs);
    const stepMs = step * 1000;
    // Whole buckets, the current (partial) one included.
    const to = (Math.floor(Date.now() / stepMs) + 1) * stepMs;
    const from = to - ms;
    this.loadingSeries = true;
    const [stats, rejects, defers] = await Promise.all([
      controlCall(this.#api, this.#instanceId, 'stats.get', { from, to, step }),
      controlCall(this.#api, this.#instanceId, 'logs.query', { since: from, filter: { event: 'reject' }, limit: 2000 }),
      controlCall(this.#api, this.#instanceId, 'logs.query', { since: from, filter: { event: 'deferred' }, limit: 2000 }),
    ]);
    if (gen !== this.#generation) return;
    this.loadingSeries = false;
    if (!stats.ok) {
      this.error = stats.error;
      return;
    }
    this.series = stats.value;
    this.rejectReasons = topReasons(statsReasons(stats.value, 'rejected') ?? (rejects.ok ? reasonsFromLogs(rejects.value.items) : {}));
    this.deferReasons = topReasons(statsReasons(stats.value, 'deferred') ?? (defers.ok ? reasonsFromLogs(defers.value.items) : {}));
  }
}
