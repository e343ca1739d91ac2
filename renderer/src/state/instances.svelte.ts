/**
 * The list of instances with their live state: loaded once, then kept current from the
 * `instances.changed` and `instance.state` events. One per app, shared through context.
 */
import type { InstanceState, InstanceView, IpcError, RelayDeskApi } from '../api/relay-desk.ts';

export class InstancesStore {
  readonly #api: RelayDeskApi;
  #list = $state<InstanceView[]>([]);
  #loaded = $state(false);
  #error = $state<IpcError | null>(null);
  #unsubscribe: Array<() => void> = [];
  /** State events that arrive while a list request is in flight: newer than the list it returns. */
  #eventsDuringRefresh: Map<string, InstanceState> | null = null;

  constructor(api: RelayDeskApi) {
    this.#api = api;
  }

  /** Every instance, the local relay first. */
  get list(): readonly InstanceView[] {
    return this.#list;
  }
  /** Whether the first load finished (successfully or not). */
  get loaded(): boolean {
    return this.#loaded;
  }
  /** The error of the last load, if it failed. */
  get error(): IpcError | null {
    return this.#error;
  }

  /** One instance by id, or undefined. */
  get(id: string): InstanceView | undefined {
    return this.#list.find((i) => i.id === id);
  }

  /** Subscribe to changes, then load the list. Returns a function that unsubscribes. */
  start(): () => void {
    this.#unsubscribe.push(
      this.#api.onInstancesChanged((list) => {
        this.#list = list;
        this.#loaded = true;
      }),
      this.#api.onInstanceState(({ instanceId, state }) => this.#setState(instanceId, state)),
    );
    void this.refresh();
    return () => this.stop();
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /** Load the list again. */
  async refresh(): Promise<void> {
    const newer = new Map<string, InstanceState>();
    this.#eventsDuringRefresh = newer;
    const r = await this.#api.listInstances();
    if (this.#eventsDuringRefresh === newer) this.#eventsDuringRefresh = null;
    if (r.ok) {
      this.#list = r.value.map((i) => {
        const state = newer.get(i.id);
        return state ? { ...i, state } : i;
      });
      this.#error = null;
    } else this.#error = r.error;
    this.#loaded = true;
  }

  #setState(instanceId: string, state: InstanceState): void {
    this.#eventsDuringRefresh?.set(instanceId, state);
    const i = this.#list.findIndex((x) => x.id === instanceId);
    const current = this.#list[i];
    if (current) this.#list[i] = { ...current, state };
  }
}
