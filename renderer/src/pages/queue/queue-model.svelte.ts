/**
 * The queue page's state: every message matching the filter, paged in from `queue.list` (1000 per
 * call) into a plain array — not deep reactive state, so 100 000 rows cost no proxies — with a
 * `version` counter that tells the view when rows changed. Sorting, multi-select and bulk actions
 * (by ids, or by the filter when "all matching" is selected) work on top of it.
 */
import { controlCall, type IpcError, type RelayDeskApi } from '../../api/relay-desk.ts';
import type { QueueDetail, QueueSelection, QueueSummary } from '../../../../server/protocol/index.ts';
import { emptyFilter, toApiFilter, type QueueFilterForm } from './queue-filter.ts';
import { DEFAULT_SORT, isDefaultSort, nextSort, sortOrder, type QueueSort, type QueueSortKey } from './queue-sort.ts';

/** Bulk actions of the queue (`queue.<action>`). */
export const BULK_ACTIONS = ['retry', 'hold', 'release', 'delete', 'bounce'] as const;
/** A bulk action of the queue. */
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** Rows per `queue.list` call (the API's maximum). */
export const PAGE_SIZE = 1000;
/** The API takes at most this many ids per bulk call. */
const IDS_PER_CALL = 10_000;

export class QueueModel {
  readonly #api: RelayDeskApi;
  readonly #instanceId: string;
  #rows: QueueSummary[] = [];
  #order: Int32Array | null = null;
  #selected = new Set<string>();
  #generation = 0;

  /** The filter as edited (applied with `load()`). */
  filter = $state<QueueFilterForm>(emptyFilter());
  /** Bumped whenever rows, order or selection change. */
  version = $state(0);
  /** Rows loaded so far. */
  loaded = $state(0);
  /** Messages matching the filter, as the relay counted them. */
  total = $state(0);
  loading = $state(false);
  /** When the last complete load finished (epoch ms). */
  loadedAt = $state<number | null>(null);
  error = $state<IpcError | null>(null);
  sort = $state.raw<QueueSort>(DEFAULT_SORT);
  selectedCount = $state(0);
  /** "All N matching messages" is selected: bulk actions go by filter, not ids. */
  allMatching = $state(false);

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.#instanceId = instanceId;
  }

  /** The row at a view position (after sorting). */
  rowAt = (index: number): QueueSummary | undefined => {
    // Rows that arrived after the last sort follow in arrival order until the next one.
    const order = this.#order;
    return this.#rows[order && index < order.length ? order[index]! : index];
  };

  /** Rows in view order (for tests and the benchmark). */
  get count(): number {
    return this.loaded;
  }

  isSelected = (id: string): boolean => this.allMatching || this.#selected.has(id);

  /** (Re)load every matching message, page by page; an older load in flight is abandoned. */
  async load(): Promise<void> {
    const gen = ++this.#generation;
    const filter = toApiFilter(this.filter);
    const state = this.filter.state;
    this.loading = true;
    this.error = null;
    const rows: QueueSummary[] = [];
    const seen = new Set<string>();
    let first = true;
    let pages = 0;
    for (let offset = 0; ; ) {
      const r = await controlCall(this.#api, this.#instanceId, 'queue.list', { state, filter, offset, limit: PAGE_SIZE });
      if (gen !== this.#generation) return;
      if (!r.ok) {
        this.error = r.error;
        break;
      }
      // Messages may leave the queue between pages, so offsets can shift: skip what we already have.
      for (const item of r.value.items) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        rows.push(item);
      }
      this.total = r.value.total;
      if (first) {
        // Show the first page at once; later pages extend the same array.
        first = false;
        this.#rows = rows;
        this.#pruneSelection(null);
      }
      this.loaded = rows.length;
      // Re-sorting 100 000 rows after every page would cost more than the load: every tenth page.
      if (isDefaultSort(this.sort) || pages % 10 === 0) this.#resort();
      else this.version++;
      pages++;
      offset += r.value.items.length;
      if (r.value.items.length < PAGE_SIZE || offset >= r.value.total) break;
    }
    if (first) this.#rows = rows;
    this.#pruneSelection(seen);
    this.loaded = rows.length;
    this.#resort();
    this.loading = false;
    this.loadedAt = Date.now();
  }

  setSort(key: QueueSortKey): void {
    this.sort = nextSort(this.sort, key);
    this.#resort();
  }

  toggle(id: string): void {
    if (this.allMatching) {
      // Leaving "all matching" for a hand-picked selection of what is loaded.
      this.allMatching = false;
      for (const r of this.#rows) this.#selected.add(r.id);
    }
    if (this.#selected.has(id)) this.#selected.delete(id);
    else this.#selected.add(id);
    this.#selectionChanged();
  }

  /** Select the rows between two view positions (shift-click). */
  selectRange(fromIndex: number, toIndex: number): void {
    const [a, b] = fromIndex <= toIndex ? [fromIndex, toIndex] : [toIndex, fromIndex];
    for (let i = a; i <= b; i++) {
      const row = this.rowAt(i);
      if (row) this.#selected.add(row.id);
    }
    this.#selectionChanged();
  }

  /** Select every loaded row. */
  selectLoaded(): void {
    for (const r of this.#rows) this.#selected.add(r.id);
    this.#selectionChanged();
  }

  /** Select every message matching the filter, including ones not loaded. */
  selectAllMatching(): void {
    this.allMatching = true;
    this.#selectionChanged();
  }

  clearSelection(): void {
    this.#selected.clear();
    this.allMatching = false;
    this.#selectionChanged();
  }

  /** How many messages a bulk action would touch now. */
  get targetCount(): number {
    return this.allMatching ? this.total : this.selectedCount;
  }

  /** Run a bulk action on the selection; resolves with how many messages the relay changed. */
  async bulk(action: BulkAction, onlyId?: string): Promise<{ affected: number } | { error: IpcError }> {
    const selections: QueueSelection[] = [];
    if (onlyId) selections.push({ ids: [onlyId] });
    else if (this.allMatching) selections.push({ filter: toApiFilter(this.filter), state: this.filter.state });
    else {
      const ids = [...this.#selected];
      for (let i = 0; i < ids.length; i += IDS_PER_CALL) selections.push({ ids: ids.slice(i, i + IDS_PER_CALL) });
    }
    let affected = 0;
    for (const selection of selections) {
      const r = await controlCall(this.#api, this.#instanceId, `queue.${action}`, selection);
      if (!r.ok) return { error: r.error };
      affected += r.value.affected;
    }
    if (!onlyId) this.clearSelection();
    void this.load();
    return { affected };
  }

  /** One message in full. */
  async show(id: string): Promise<{ detail: QueueDetail } | { error: IpcError }> {
    const r = await controlCall(this.#api, this.#instanceId, 'queue.show', { id });
    return r.ok ? { detail: r.value } : { error: r.error };
  }

  /** The selected ids (hand-picked only). */
  selectedIds(): string[] {
    return [...this.#selected];
  }

  #resort(): void {
    this.#order = sortOrder(this.#rows, this.sort);
    this.version++;
  }

  #pruneSelection(present: Set<string> | null): void {
    if (present) for (const id of this.#selected) if (!present.has(id)) this.#selected.delete(id);
    this.#selectionChanged();
  }

  #selectionChanged(): void {
    this.selectedCount = this.#selected.size;
    this.version++;
  }
}
