/**
 * Progress of an install or upgrade on one instance, from the `install.progress` events: each step's
 * status, the upload's bytes, and one overall fraction for the progress bar.
 */
import type { InstallProgress, InstallReport, InstallStep, IpcError, RelayDeskApi } from '../api/relay-desk.ts';

/** The steps in the order the installer runs them (electron/ipc-contract.ts installSteps). */
export const INSTALL_STEPS: readonly InstallStep[] = ['connect', 'check-node', 'upload', 'data-dir', 'stop-old', 'start', 'verify'];

export type StepStatus = 'pending' | 'running' | 'done' | 'failed';

export class InstallRun {
  readonly instanceId: string;
  readonly #api: RelayDeskApi;
  #operation = $state<'install' | 'upgrade' | null>(null);
  #steps = $state<Record<InstallStep, StepStatus>>(Object.fromEntries(INSTALL_STEPS.map((s) => [s, 'pending'])) as Record<InstallStep, StepStatus>);
  #messages = $state<Partial<Record<InstallStep, Pick<InstallProgress, 'message' | 'say'>>>>({});
  #bytes = $state<{ sent: number; total: number } | null>(null);
  #report = $state<InstallReport | null>(null);
  #error = $state<IpcError | null>(null);
  #running = $state(false);

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.instanceId = instanceId;
  }

  get operation(): 'install' | 'upgrade' | null {
    return this.#operation;
  }
  get running(): boolean {
    return this.#running;
  }
  get report(): InstallReport | null {
    return this.#report;
  }
  get error(): IpcError | null {
    return this.#error;
  }
  get bytes(): { sent: number; total: number } | null {
    return this.#bytes;
  }
  status(step: InstallStep): StepStatus {
    return this.#steps[step];
  }
  /** The latest line of a step: English, and (from current apps' installers) as a message key. */
  message(step: InstallStep): Pick<InstallProgress, 'message' | 'say'> | undefined {
    return this.#messages[step];
  }

  /** 0…1 over all steps; the upload step counts by bytes. */
  get fraction(): number {
    const per = 1 / INSTALL_STEPS.length;
    let f = 0;
    for (const step of INSTALL_STEPS) {
      const s = this.#steps[step];
      if (s === 'done') f += per;
      else if (s === 'running' && step === 'upload' && this.#bytes && this.#bytes.total > 0) f += per * (this.#bytes.sent / this.#bytes.total);
    }
    return Math.min(1, f);
  }

  /** Apply one progress event (ignored when it is for another instance). */
  onProgress(p: InstallProgress): void {
    if (p.instanceId !== this.instanceId) return;
    this.#steps[p.step] = p.status;
    if (p.message) this.#messages[p.step] = { message: p.message, say: p.say };
    if (p.step === 'upload' && p.bytes !== undefined && p.totalBytes !== undefined) this.#bytes = { sent: p.bytes, total: p.totalBytes };
  }

  /** Run an install or upgrade to the end; progress arrives through `onProgress`. */
  async run(operation: 'install' | 'upgrade'): Promise<boolean> {
    this.#operation = operation;
    this.#running = true;
    this.#report = null;
    this.#error = null;
    this.#bytes = null;
    this.#messages = {};
    for (const s of INSTALL_STEPS) this.#steps[s] = 'pending';
    const off = this.#api.onInstallProgress((p) => this.onProgress(p));
    try {
      const r = operation === 'install' ? await this.#api.installRelay({ instanceId: this.instanceId }) : await this.#api.upgradeRelay({ instanceId: this.instanceId });
      if (r.ok) {
        this.#report = r.value;
        for (const s of INSTALL_STEPS) if (this.#steps[s] !== 'failed') this.#steps[s] = 'done';
        return true;
      }
      this.#error = r.error;
      for (const s of INSTALL_STEPS) if (this.#steps[s] === 'running') this.#steps[s] = 'failed';
      return false;
    } finally {
      off();
      this.#running = false;
    }
  }
}
