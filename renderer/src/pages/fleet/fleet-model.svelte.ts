/**
 * The fleet view's figures: for every connected relay its status (queue by state, oldest message),
 * deliveries and rejects in the last hour (`stats.get`), and how many deferred messages are older
 * than an hour (`queue.list` count). Polled; relays that are not connected keep no figures.
 */
import { controlCall, type InstanceView, type IpcError, type RelayDeskApi } from '../../api/relay-desk.ts';
import type { MethodResult } from '../../../../server/protocol/index.ts';
import { OLD_DEFERRED_SECONDS } from './fleet-alerts.ts';

/** What the fleet shows of one connected relay. */
export interface RelayFigures {
  readonly status: MethodResult<'status'>;
  readonly delivered1h: number;
  readonly rejected1h: number;
  readonly oldDeferred: number;
  readonly at: number;
}

const EVERY_MS = 15_000;

export class FleetModel {
  readonly #api: RelayDeskApi;
  readonly #list: () => readonly InstanceView[];
  #timer: ReturnType<typeof setInterval> | null = null;
  #inFlight = new Set<string>();

  figures = $state.raw<Record<string, RelayFigures>>({});
  errors = $state.raw<Record<string, IpcError>>({});

  constructor(api: RelayDeskApi, list: () => readonly InstanceView[]) {
    this.#api = api;
    this.#list = list;
  }

  start(): () => void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), EVERY_MS);
    return () => {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
    };
  }

  /** Fetch the figures of every connected relay (in parallel; one call set per relay at a time). */
  async refresh(): Promise<void> {
    await Promise.all(this.#list().filter((i) => i.state.status === 'connected').map((i) => this.refreshOne(i.id)));
  }

  async refreshOne(id: string): Promise<void> {
    if (this.#inFlight.has(id)) return;
    this.#inFlight.add(id);
    try {
      const now = Date.now();
      const to = (Math.floor(now / 60_000) + 1) * 60_000;
      const [status, stats, old] = await Promise.all([
        controlCall(this.#api, id, 'status'),
        controlCall(this.#api, id, 'stats.get', { from: to - 3600_000, to, step: 60 }),
        controlCall(this.#api, id, 'queue.list', { state: 'deferred', filter: { minAgeSeconds: OLD_DEFERRED_SECONDS }, limit: 1 }),
      ]);
      if (!status.ok) {
        this.errors = { ...this.errors, [id]: status.error };
        return;
      }
      const { [id]: _gone, ...rest } = this.errors;
      this.errors = rest;
      this.figures = {
        ...this.figures,
        [id]: {
          status: status.value,
          delivered1h: stats.ok ? stats.value.totals.counts.delivered : 0,
          rejected1h: stats.ok ? stats.value.totals.counts.rejected : 0,
          oldDeferred: old.ok ? old.value.total : 0,
          at: now,
        },
      };
    } finally {
      this.#inFlight.delete(id);
    }
  }
}
