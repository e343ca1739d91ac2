/** The SMTP AUTH users of one relay (`users.*`), and whether the relay asks for authentication at all. */
import { controlCall, type IpcError, type RelayDeskApi } from '../../api/relay-desk.ts';
import type { UserSummary } from '../../../../server/protocol/index.ts';

export class UsersModel {
  readonly #api: RelayDeskApi;
  readonly #instanceId: string;

  users = $state.raw<UserSummary[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  /** `general.auth.enabled` of the running config (null until known). */
  authEnabled = $state<boolean | null>(null);

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.#instanceId = instanceId;
  }

  async load(): Promise<void> {
    const [users, config] = await Promise.all([controlCall(this.#api, this.#instanceId, 'users.list'), controlCall(this.#api, this.#instanceId, 'config.get')]);
    if (users.ok) {
      this.users = [...users.value.users].sort((a, b) => a.name.localeCompare(b.name));
      this.error = null;
    } else this.error = users.error;
    if (config.ok) this.authEnabled = config.value.config.general.auth.enabled;
    this.loaded = true;
  }

  async add(name: string, password: string, allowedSenders: string[]): Promise<IpcError | null> {
    const r = await controlCall(this.#api, this.#instanceId, 'users.add', { name, password, allowedSenders });
    if (r.ok) await this.load();
    return r.ok ? null : r.error;
  }

  async setPassword(name: string, password: string): Promise<IpcError | null> {
    const r = await controlCall(this.#api, this.#instanceId, 'users.setPassword', { name, password });
    if (r.ok) await this.load();
    return r.ok ? null : r.error;
  }

  async remove(name: string): Promise<IpcError | null> {
    const r = await controlCall(this.#api, this.#instanceId, 'users.remove', { name });
    if (r.ok) await this.load();
    return r.ok ? null : r.error;
  }
}
