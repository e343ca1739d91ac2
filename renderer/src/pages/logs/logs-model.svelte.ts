/**
 * The logs page's state. Live: a subscription (`subscribeLogs`, server-side filter) whose lines
 * arrive as `onLogEvent`, newest first, capped at MAX_LIVE lines; pausing keeps receiving but holds
 * new lines back until resumed. Search: `logs.query` over the relay's history with the same filter.
 */
import { controlCall, type IpcError, type RelayDeskApi } from '../../api/relay-desk.ts';
import type { LogFilter, LogLine } from '../../../../server/protocol/index.ts';
import { relayEventNames } from '../../../../server/protocol/logs-contract.ts';

/** Lines kept in the live view. */
export const MAX_LIVE = 5000;
/** Lines a search returns at most. */
export const SEARCH_LIMIT = 2000;
/** Event names the relay logs. */
export const EVENT_NAMES = relayEventNames;
/** An event name the relay logs. */
export type EventName = (typeof relayEventNames)[number];

/** What the filter bar edits. */
export interface LogFilterForm {
  events: EventName[];
  text: string;
  client: string;
  id: string;
}

export function toApiFilter(form: LogFilterForm): LogFilter {
  const f: LogFilter = {};
  if (form.events.length > 0) f.event = [...form.events];
  if (form.text.trim()) f.text = form.text.trim();
  if (form.client.trim()) f.client = form.client.trim();
  if (form.id.trim()) f.id = form.id.trim();
  return f;
}

export class LogsModel {
  readonly #api: RelayDeskApi;
  readonly #instanceId: string;
  #live: LogLine[] = [];
  #held: LogLine[] = [];
  #off: (() => void) | null = null;
  #searchSeq = 0;
  #incoming: LogLine[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;

  filter = $state<LogFilterForm>({ events: [], text: '', client: '', id: '' });
  paused = $state(false);
  /** Lines held back while paused. */
  heldCount = $state(0);
  /** Lines the relay dropped because we could not keep up. */
  dropped = $state(0);
  liveCount = $state(0);
  liveVersion = $state(0);
  subscribed = $state(false);
  error = $state<IpcError | null>(null);

  searchResults = $state.raw<LogLine[]>([]);
  searchTruncated = $state(false);
  searching = $state(false);
  searchedAt = $state<number | null>(null);

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.#instanceId = instanceId;
  }

  /** The live line at a view position (newest first). */
  liveAt = (index: number): LogLine | undefined => this.#live[index];

  /** Subscribe, show the last minutes of history, and receive lines; returns the stop function. */
  async start(): Promise<() => void> {
    this.#off = this.#api.onLogEvent(({ instanceId, line, dropped }) => {
      if (instanceId !== this.#instanceId) return;
      if (dropped) this.dropped += dropped;
      if (this.paused) {
        this.#held.push(line);
        if (this.#held.length > MAX_LIVE) this.#held.splice(0, this.#held.length - MAX_LIVE);
        this.heldCount = this.#held.length;
      } else {
        // Lines come one per message; re-render at most every 50 ms however fast they come.
        this.#incoming.push(line);
        this.#flushTimer ??= setTimeout(() => {
          this.#flushTimer = null;
          this.#prepend(this.#incoming.splice(0));
        }, 50);
      }
    });
    await this.resubscribe(true);
    return () => this.stop();
  }

  stop(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#off?.();
    this.#off = null;
    if (this.subscribed) void this.#api.unsubscribeLogs({ instanceId: this.#instanceId });
    this.subscribed = false;
  }

  /** Apply the filter to the live view: subscribe again and reload recent history with it. */
  async resubscribe(withHistory = true): Promise<void> {
    const filter = toApiFilter(this.filter);
    this.#live = [];
    this.#held = [];
    this.heldCount = 0;
    this.#bump();
    const r = await this.#api.subscribeLogs({ instanceId: this.#instanceId, filter });
    this.subscribed = r.ok;
    this.error = r.ok ? null : r.error;
    if (!withHistory) return;
    const h = await controlCall(this.#api, this.#instanceId, 'logs.query', { since: Date.now() - 3600_000, filter, limit: 200 });
    if (h.ok) {
      // Lines that arrived live meanwhile are newer than the history.
      const have = new Set(this.#live.map((l) => `${l.time}|${JSON.stringify(l)}`));
      const older = h.value.items.filter((l) => !have.has(`${l.time}|${JSON.stringify(l)}`));
      this.#live = [...this.#live, ...older].slice(0, MAX_LIVE);
      this.#bump();
    }
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused && this.#held.length > 0) {
      this.#prepend(this.#held);
      this.#held = [];
      this.heldCount = 0;
    }
  }

  clearLive(): void {
    this.#live = [];
    this.#bump();
  }

  /** Search the relay's log between two times with the filter. */
  async search(since: number, until: number | undefined): Promise<void> {
    // Typing searches as you go and the Search button searches too: only the latest answer counts,
    // an older one arriving late must not replace it.
    const seq = ++this.#searchSeq;
    this.searching = true;
    const r = await controlCall(this.#api, this.#instanceId, 'logs.query', {
      since,
      ...(until !== undefined ? { until } : {}),
      filter: toApiFilter(this.filter),
      limit: SEARCH_LIMIT,
    });
    if (seq !== this.#searchSeq) return;
    this.searching = false;
    this.searchedAt = Date.now();
    if (r.ok) {
      this.searchResults = r.value.items;
      this.searchTruncated = r.value.truncated;
      this.error = null;
    } else this.error = r.error;
  }

  /** `lines` in arrival order (oldest first) go on top of the newest-first list. */
  #prepend(lines: readonly LogLine[]): void {
    const newestFirst = [...lines].reverse();
    this.#live = newestFirst.concat(this.#live);
    if (this.#live.length > MAX_LIVE) this.#live.length = MAX_LIVE;
    this.#bump();
  }

  #bump(): void {
    this.liveCount = this.#live.length;
    this.liveVersion++;
  }
}
