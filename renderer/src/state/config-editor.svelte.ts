/**
 * The settings of one relay while an administrator edits them: the config as last read (`base`) and
 * its revision, the working copy (`draft`) the pages bind to, field issues from the relay's schema,
 * whether anything changed, and applying with `baseRevision` — a CONFLICT (someone else applied
 * meanwhile) is kept in `conflict` until the user reloads or overwrites.
 */
import { controlCall, type IpcError, type RelayDeskApi } from '../api/relay-desk.ts';
import type { EditableConfig } from './config-shapes.ts';
import { validateConfig, type FieldIssue } from './config-validation.ts';
import { changedPaths, deepEqual, withValuesAt } from './deep-values.ts';

/** Where loading stands. */
export type LoadState = 'idle' | 'loading' | 'ready' | 'error';

/** How an apply ended. */
export type ApplyOutcome = 'applied' | 'unchanged' | 'invalid' | 'conflict' | 'error';

/** Key-path prefixes that a settings page owns (`general`, `listeners`, …). */
export type Sections = readonly string[];

function snapshot<T>(value: T): T {
  return structuredClone($state.snapshot(value)) as T;
}

function pathInSections(path: string, sections: Sections | undefined): boolean {
  if (!sections) return true;
  return sections.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
}

export class ConfigEditor {
  readonly instanceId: string;
  readonly #api: RelayDeskApi;
  #base = $state<EditableConfig | null>(null);
  #revision = $state<string | null>(null);
  #loadState = $state<LoadState>('idle');
  #loadError = $state<IpcError | null>(null);
  #applying = $state(false);
  #applyError = $state<IpcError | null>(null);
  #serverIssues = $state<FieldIssue[]>([]);
  #conflict = $state(false);
  #lastAppliedAt = $state<number | null>(null);

  /** The working copy the forms bind to; null until loaded. */
  draft = $state<EditableConfig | null>(null);

  readonly #issues = $derived(this.draft ? validateConfig(this.draft) : new Map<string, FieldIssue>());
  readonly #dirty = $derived(this.draft !== null && this.#base !== null && !deepEqual(this.draft, this.#base));

  constructor(api: RelayDeskApi, instanceId: string) {
    this.#api = api;
    this.instanceId = instanceId;
  }

  get loadState(): LoadState {
    return this.#loadState;
  }
  get loadError(): IpcError | null {
    return this.#loadError;
  }
  /** The config as last read from the relay. */
  get base(): EditableConfig | null {
    return this.#base;
  }
  get revision(): string | null {
    return this.#revision;
  }
  get applying(): boolean {
    return this.#applying;
  }
  /** The error of the last apply (not CONFLICT, which sets `conflict`). */
  get applyError(): IpcError | null {
    return this.#applyError;
  }
  /** Set when the relay refused an apply because its config changed since it was read. */
  get conflict(): boolean {
    return this.#conflict;
  }
  get lastAppliedAt(): number | null {
    return this.#lastAppliedAt;
  }
  /** Whether the draft differs from what the relay has. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Whether the draft differs in any of these sections. */
  isDirtyIn(sections: Sections): boolean {
    if (!this.draft || !this.#base) return false;
    return changedPaths(this.#base, $state.snapshot(this.draft)).some((p) => pathInSections(p.join('.'), sections));
  }

  /** Every issue (schema first, then what the relay reported on the last apply). */
  issues(sections?: Sections): FieldIssue[] {
    const all = [...this.#issues.values(), ...this.#serverIssues.filter((i) => !this.#issues.has(i.path))];
    return all.filter((i) => pathInSections(i.path, sections));
  }

  /** The issue at exactly this path (e.g. `general.profile.hostname`), if any. */
  issueAt(path: string): FieldIssue | undefined {
    return this.#issues.get(path) ?? this.#serverIssues.find((i) => i.path === path);
  }

  /** Issues at this path or below it (for list rows: `relayControl.trustedNetworks[2]`). */
  issuesUnder(path: string): FieldIssue[] {
    return this.issues().filter((i) => i.path === path || i.path.startsWith(`${path}.`) || i.path.startsWith(`${path}[`));
  }

  /** Read the config from the relay, replacing the draft. */
  async load(): Promise<void> {
    this.#loadState = 'loading';
    const r = await controlCall(this.#api, this.instanceId, 'config.get');
    if (!r.ok) {
      this.#loadError = r.error;
      this.#loadState = 'error';
      return;
    }
    this.#setBase(r.value.config, r.value.revision);
    this.#loadState = 'ready';
  }

  /** Load once; later calls keep the draft. */
  async ensureLoaded(): Promise<void> {
    if (this.#loadState === 'idle' || this.#loadState === 'error') await this.load();
  }

  /** Throw away the changes. */
  discard(): void {
    if (this.#base) this.draft = snapshot(this.#base);
    this.#serverIssues = [];
    this.#applyError = null;
  }

  /** Send the draft to the relay with the revision it was based on. */
  async apply(): Promise<ApplyOutcome> {
    if (!this.draft || !this.#revision) return 'error';
    if (!this.#dirty) return 'unchanged';
    if (this.#issues.size > 0) return 'invalid';
    this.#applying = true;
    this.#applyError = null;
    this.#serverIssues = [];
    try {
      const config = $state.snapshot(this.draft);
      const r = await controlCall(this.#api, this.instanceId, 'config.apply', { config, baseRevision: this.#revision });
      if (r.ok) {
        this.#lastAppliedAt = Date.now();
        await this.#reloadAfterApply(r.value.revision);
        return 'applied';
      }
      if (r.error.code === 'CONFLICT') {
        this.#conflict = true;
        return 'conflict';
      }
      if (r.error.issues?.length) {
        this.#serverIssues = r.error.issues.map((i) => ({ path: i.path.replace(/^(params\.)?config\./, ''), code: 'server', message: i.message }));
      }
      this.#applyError = r.error;
      return r.error.issues?.length ? 'invalid' : 'error';
    } finally {
      this.#applying = false;
    }
  }

  /** Conflict answer 1: take the relay's current config, dropping our changes. */
  async resolveConflictByReload(): Promise<void> {
    this.#conflict = false;
    await this.load();
  }

  /**
   * Conflict answer 2: re-read the relay's config and apply our changes on top of it. Settings we did
   * not touch keep the other side's values; the ones we changed get ours.
   */
  async resolveConflictByOverwrite(): Promise<ApplyOutcome> {
    this.#conflict = false;
    if (!this.draft || !this.#base) return 'error';
    const ours = changedPaths(this.#base, $state.snapshot(this.draft));
    const draft = $state.snapshot(this.draft);
    const r = await controlCall(this.#api, this.instanceId, 'config.get');
    if (!r.ok) {
      this.#applyError = r.error;
      return 'error';
    }
    this.#base = snapshot(r.value.config);
    this.#revision = r.value.revision;
    this.draft = withValuesAt(snapshot(r.value.config) as EditableConfig, draft, ours);
    return this.apply();
  }

  /** Dismiss the conflict without choosing (the draft stays; the next apply will conflict again). */
  dismissConflict(): void {
    this.#conflict = false;
  }

  #setBase(config: EditableConfig, revision: string): void {
    this.#base = snapshot(config);
    this.#revision = revision;
    this.draft = snapshot(config);
    this.#serverIssues = [];
    this.#applyError = null;
  }

  async #reloadAfterApply(revision: string): Promise<void> {
    const r = await controlCall(this.#api, this.instanceId, 'config.get');
    if (r.ok) this.#setBase(r.value.config, r.value.revision);
    else if (this.draft) {
      // The apply went through; without a fresh read, treat what we sent as the new base.
      this.#setBase($state.snapshot(this.draft), revision);
    }
  }
}

/** One editor per instance, kept while the app runs so switching pages keeps the draft. */
export class ConfigEditors {
  readonly #api: RelayDeskApi;
  readonly #editors = new Map<string, ConfigEditor>();

  constructor(api: RelayDeskApi) {
    this.#api = api;
  }

  get(instanceId: string): ConfigEditor {
    let e = this.#editors.get(instanceId);
    if (!e) {
      // Its derived state must outlive the page that first asked for it: give it its own root.
      let created: ConfigEditor | undefined;
      $effect.root(() => {
        created = new ConfigEditor(this.#api, instanceId);
      });
      e = created as ConfigEditor;
      this.#editors.set(instanceId, e);
    }
    return e;
  }
}
