/**
 * Per-message delivery state in `queue/state/<id>.json`: written only once a message outlives its first
 * attempt (or is held), so the common path writes no state at all. Writes are atomic (temp file,
 * fsync, rename), serialised per message (the last state always wins), bounded in number (a bulk hold
 * of 100 000 messages must not run out of file descriptors), and share directory fsyncs.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import type { QueueEntry, RecipientState, RecipientStatus } from './types.ts';
import { GroupCommit } from './group-commit.ts';

/** The mutable part of a queue entry, as persisted. */
export type EntryState = Pick<QueueEntry, 'recipients' | 'held' | 'nextAttemptAt' | 'attempts' | 'delayWarned'>;

const STATE_SUFFIX = '.json';
const TEMP_SUFFIX = '.json.tmp';
const MAX_PARALLEL_WRITES = 16;
const STATUSES: ReadonlySet<RecipientStatus> = new Set(['queued', 'deferred', 'delivered', 'bounced']);

/** `<id>.json` */
export function stateFileName(id: string): string {
  return id + STATE_SUFFIX;
}

/** The id a state file belongs to, or null for temp files and strays. */
export function idOfStateFile(name: string): string | null {
  return name.endsWith(STATE_SUFFIX) && !name.endsWith(TEMP_SUFFIX) ? name.slice(0, -STATE_SUFFIX.length) : null;
}

/** The state files of one spool (see the top of this file). */
export class StateStore {
  private readonly writers = new Map<string, GroupCommit>();
  private readonly dirSync: GroupCommit;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** `current(id)` gives the state to persist when a write starts; undefined when the message is gone. */
  constructor(
    readonly dir: string,
    private readonly current: (id: string) => EntryState | undefined,
    fsyncDir: (dir: string) => Promise<void>,
  ) {
    this.dirSync = new GroupCommit(() => fsyncDir(dir));
  }

  /**
   * Persist the message's state as it is when the write actually starts, so calls queued behind a
   * write in flight collapse into one write of the newest state.
   */
  write(id: string): Promise<void> {
    let gc = this.writers.get(id);
    if (!gc) {
      const created = new GroupCommit(() => this.writeNow(id));
      this.writers.set(id, created);
      gc = created;
    }
    const done = gc.run();
    const forget = (): void => {
      if (this.writers.get(id)?.idle) this.writers.delete(id);
    };
    done.then(forget, forget);
    return done;
  }

  /** Delete a message's state file once any write of it in flight has finished. */
  async remove(id: string): Promise<void> {
    const gc = this.writers.get(id);
    if (gc && !gc.idle) await gc.run().catch(() => undefined);
    await fs.rm(path.join(this.dir, stateFileName(id)), { force: true });
  }

  /**
   * Read and check a state file against the envelope's recipients; null when missing or unusable.
   * Synchronous because it runs inside the batched start-up scan (see spool-recovery.ts).
   */
  readSync(id: string, recipients: readonly string[]): EntryState | null {
    let text: string;
    try {
      text = readFileSync(path.join(this.dir, stateFileName(id)), 'utf8');
    } catch {
      return null;
    }
    try {
      return parseState(JSON.parse(text), recipients);
    } catch {
      return null;
    }
  }

  private async writeNow(id: string): Promise<void> {
    await this.acquire();
    try {
      const state = this.current(id);
      if (!state) return;
      const file = path.join(this.dir, stateFileName(id));
      const tmp = path.join(this.dir, id + TEMP_SUFFIX);
      const fh = await fs.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify({ v: 1, ...pickState(state) }));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, file);
    } finally {
      this.release();
    }
    await this.dirSync.run();
  }

  private acquire(): Promise<void> {
    if (this.active < MAX_PARALLEL_WRITES) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

function pickState(s: EntryState): EntryState {
  return { recipients: s.recipients, held: s.held, nextAttemptAt: s.nextAttemptAt, attempts: s.attempts, delayWarned: s.delayWarned };
}

/** Accept a stored state only if it describes exactly the envelope's recipients, in order. */
function parseState(raw: unknown, recipients: readonly string[]): EntryState | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  if (typeof o.held !== 'boolean' || typeof o.delayWarned !== 'boolean') return null;
  if (!isCount(o.nextAttemptAt) || !isCount(o.attempts)) return null;
  if (!Array.isArray(o.recipients) || o.recipients.length !== recipients.length) return null;
  const states: RecipientState[] = [];
  for (let i = 0; i < recipients.length; i++) {
    const r = o.recipients[i] as Record<string, unknown> | null;
    if (!r || typeof r !== 'object' || r.address !== recipients[i]) return null;
    if (typeof r.status !== 'string' || !STATUSES.has(r.status as RecipientStatus) || !isCount(r.attempts)) return null;
    states.push({
      address: recipients[i]!,
      status: r.status as RecipientStatus,
      attempts: r.attempts as number,
      lastAttemptAt: isCount(r.lastAttemptAt) ? r.lastAttemptAt : null,
      lastReply: typeof r.lastReply === 'string' ? r.lastReply : null,
      nextHop: typeof r.nextHop === 'string' ? r.nextHop : null,
    });
  }
  return { recipients: states, held: o.held, nextAttemptAt: o.nextAttemptAt as number, attempts: o.attempts as number, delayWarned: o.delayWarned };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
