/**
 * The durable spool (SPEC §1.4, §3): a queued message is one file `DIR/queue/msg/<id>` holding its
 * envelope as a JSON line followed by the message bytes exactly as received. Per-recipient state
 * lives beside it in `queue/state/<id>.json` only once there is something to remember. A small new
 * message is first made durable in the intake log instead (`queue/log`, intake-log.ts) and gets its
 * own file only if it is still queued after its first delivery attempt, is held, or stays long.
 * In memory the spool keeps the QueueEntry objects, and a small message's bytes until its first
 * delivery attempt ends (BODY_CACHE_BYTES); otherwise bodies are streamed from disk when needed.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { RelayLog } from '../logging/relay-log.ts';
import type { Envelope, QueueEntry } from './types.ts';
import { fsyncDir as fsyncDirectory } from './atomic-file.ts';
import { openFd, unlinkIfExists } from './fd-io.ts';
import { GroupCommit } from './group-commit.ts';
import { IntakeLog } from './intake-log.ts';
import { recoverIntakeLog } from './intake-log-recovery.ts';
import { SpoolIoThread } from './spool-io-thread.ts';
import { isQueueId, newQueueId } from './queue-id.ts';
import { SpoolUnavailableError, UnknownMessageError, toSpoolUnavailable } from './spool-errors.ts';
import { scanMessageFiles, type CorruptMessageFile, type ScannedMessage } from './spool-recovery.ts';
import { StateStore, idOfStateFile, type EntryState } from './spool-state.ts';
import { SpoolWriter, initialRecipientStates, type NewEnvelope, type SpoolWriterHost } from './spool-writer.ts';

export type { NewEnvelope } from './spool-writer.ts';
export type { EntryState } from './spool-state.ts';

/** Options of Spool.open; the seams exist so tests can count fsyncs and simulate a full disk. */
export interface SpoolOptions {
  log?: Pick<RelayLog, 'event'>;
  /** How a directory is fsynced (default: open + fsync; a no-op where the OS cannot, i.e. Windows). */
  fsyncDir?: (dir: string) => Promise<void>;
  /** Bytes of message bodies kept in memory for their first delivery (default BODY_CACHE_BYTES). */
  bodyCacheBytes?: number;
  /** How a message's temp file is created, resolving its descriptor (default: exclusive create, mode 0600). */
  openTempFile?: (file: string) => Promise<number>;
  /** false: every message gets its own file at once, as when a seam replaces the file calls (default true). */
  intakeLog?: boolean;
  /** Size at which an intake log segment is closed (default SEGMENT_BYTES; tests use small ones). */
  intakeLogSegmentBytes?: number;
}

interface SpoolRecord {
  entry: QueueEntry;
  bodyOffset: number;
  /** A state file may exist, so removal must delete it too. */
  hasState: boolean;
  /** The message bytes kept from intake until the first delivery attempt is over (see bodyBuffer). */
  cached: Buffer | null;
  /** Set while the message lives in the intake log, not in a file: its envelope line. Its bytes are then `cached`. */
  logged: Buffer | null;
  /** The move from the log to its own file, while it runs. */
  moving: Promise<void> | null;
  /** forgetBody was called while the message was in the log: drop the bytes once it has its file. */
  forgetWhenMoved: boolean;
}

const PARALLEL_FILE_OPS = 32;

/**
 * Bodies kept in memory between intake and the end of their first delivery attempt, in all. Most mail
 * is relayed at once, and reading it back from disk cost a third of the delivery's CPU time; past
 * this budget (a backlog: next hop down) messages are simply read from their files.
 */
const BODY_CACHE_BYTES = 32 * 1024 * 1024;

/** The queue on disk and its index in memory; get one with `Spool.open`. */
export class Spool {
  /** DIR/queue */
  readonly root: string;
  readonly tmpDir: string;
  readonly msgDir: string;
  readonly stateDir: string;
  readonly corruptDir: string;
  readonly logDir: string;
  private readonly records = new Map<string, SpoolRecord>();
  /** Ids handed to writers that have not committed or aborted yet. */
  private readonly reserved = new Set<string>();
  private readonly msgDirSync: GroupCommit;
  private readonly states: StateStore;
  private readonly log: Pick<RelayLog, 'event'> | undefined;
  private readonly writerHost: SpoolWriterHost;
  private cachedBytes = 0;
  private closed = false;
  private readonly bodyCacheBytes: number;
  /** Per-message file work off the main thread (see spool-io-thread.ts); null when tests replace the file calls. */
  private readonly io: SpoolIoThread | null;
  /** Set by load() when there is a file thread to write it. */
  private intakeLog: IntakeLog | null = null;
  private readonly useIntakeLog: boolean;
  private readonly intakeLogSegmentBytes: number | undefined;

  private constructor(dataDir: string, opts: SpoolOptions) {
    this.root = path.join(dataDir, 'queue');
    this.tmpDir = path.join(this.root, 'tmp');
    this.msgDir = path.join(this.root, 'msg');
    this.stateDir = path.join(this.root, 'state');
    this.corruptDir = path.join(this.root, 'corrupt');
    this.logDir = path.join(this.root, 'log');
    this.log = opts.log;
    this.bodyCacheBytes = opts.bodyCacheBytes ?? BODY_CACHE_BYTES;
    const seams = opts.fsyncDir !== undefined || opts.openTempFile !== undefined;
    const io = seams ? null : new SpoolIoThread();
    this.io = io;
    this.useIntakeLog = io !== null && opts.intakeLog !== false;
    this.intakeLogSegmentBytes = opts.intakeLogSegmentBytes;
    const fsyncDir = opts.fsyncDir ?? fsyncDirectory;
    this.msgDirSync = new GroupCommit(() => (io ? io.syncDir(this.msgDir) : fsyncDir(this.msgDir)));
    this.states = new StateStore(this.stateDir, (id) => this.records.get(id)?.entry, fsyncDir);
    const openTempFile = opts.openTempFile ?? ((file: string) => openFd(file, 'wx', 0o600));
    this.writerHost = {
      tempPath: (id) => path.join(this.tmpDir, id),
      messagePath: (id) => this.messagePath(id),
      openTempFile,
      storeWhole: io ? (tmp, final, bufs) => io.store(tmp, final, bufs) : undefined,
      storeInLog: (id, header, body) => {
        const log = this.intakeLog;
        if (!log || this.cachedBytes + body.length > this.bodyCacheBytes) return null;
        // Room in memory is taken now: a logged message's bytes stay in memory until it leaves the log.
        this.cachedBytes += body.length;
        return log.append(id, header, body).catch((err: unknown) => {
          this.cachedBytes -= body.length;
          throw err;
        });
      },
      syncMessageDir: () => this.msgDirSync.run(),
      committed: (entry, bodyOffset, body, loggedHeader) => {
        let cached: Buffer | null = null;
        if (loggedHeader) cached = body; // counted by storeInLog
        else if (body && this.cachedBytes + body.length <= this.bodyCacheBytes) {
          cached = body;
          this.cachedBytes += body.length;
        }
        this.records.set(entry.envelope.id, { entry, bodyOffset, hasState: false, cached, logged: loggedHeader, moving: null, forgetWhenMoved: false });
      },
      released: (id) => this.reserved.delete(id),
    };
  }

  /**
   * Open (creating if needed) the spool under `dataDir/queue`: discard temp files of messages that
   * were never acknowledged, and recover every committed message with its state (all recipients
   * queued when the state file is missing or unreadable).
   */
  static async open(dataDir: string, opts: SpoolOptions = {}): Promise<Spool> {
    const spool = new Spool(dataDir, opts);
    try {
      await spool.load();
    } catch (err) {
      throw toSpoolUnavailable(err, `cannot open the queue in ${spool.root}`);
    }
    return spool;
  }

  /** Number of queued messages. */
  get size(): number {
    return this.records.size;
  }

  /** Directory fsyncs of queue/msg so far: fewer than commits when commits overlap (group commit). */
  get messageDirSyncs(): number {
    return this.msgDirSync.runs + (this.io?.dirSyncs ?? 0);
  }

  /**
   * Start storing a message. The id is known at once (`writer.id`) so the SMTP layer can put it in
   * the Received header it writes as the first bytes of the body.
   */
  createWriter(envelope: NewEnvelope): SpoolWriter {
    if (this.closed) throw new SpoolUnavailableError('ECANCELED', 'the queue is closed (the relay is stopping)');
    if (envelope.recipients.length === 0) throw new Error('a message needs at least one recipient');
    const receivedAt = envelope.receivedAt ?? Date.now();
    let id = envelope.id;
    if (id !== undefined) {
      if (!isQueueId(id)) throw new Error(`not a queue id: ${JSON.stringify(id)}`);
      if (this.records.has(id) || this.reserved.has(id)) throw new Error(`queue id ${id} is already in use`);
    } else {
      do id = newQueueId(receivedAt);
      while (this.records.has(id) || this.reserved.has(id));
    }
    this.reserved.add(id);
    // Listed field by field: the envelope line is a file format, not whatever the caller passed along.
    const env: Envelope = {
      id,
      receivedAt,
      sender: envelope.sender,
      recipients: [...envelope.recipients],
      client: envelope.client,
      bodyType: envelope.bodyType,
      smtpUtf8: envelope.smtpUtf8,
      origin: envelope.origin,
    };
    return new SpoolWriter(this.writerHost, env);
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  /** The live entry (do not mutate it; use updateState). */
  get(id: string): QueueEntry | undefined {
    return this.records.get(id)?.entry;
  }

  /** All queued messages, oldest first for recovered ones, then in commit order. */
  *entries(): IterableIterator<QueueEntry> {
    for (const r of this.records.values()) yield r.entry;
  }

  /** The message bytes as received (without the envelope line); `maxBytes` for a header preview. */
  openBody(id: string, options: { maxBytes?: number } = {}): Readable {
    const rec = this.records.get(id);
    if (!rec) throw new UnknownMessageError(id);
    if (rec.cached) return Readable.from([options.maxBytes === undefined ? rec.cached : rec.cached.subarray(0, Math.max(0, options.maxBytes))]);
    const start = rec.bodyOffset;
    if (options.maxBytes === undefined) return createReadStream(this.messagePath(id), { start });
    if (options.maxBytes <= 0) return Readable.from([]);
    return createReadStream(this.messagePath(id), { start, end: start + options.maxBytes - 1 });
  }

  /**
   * The whole message as bytes when it is still held from intake (until `forgetBody`), else null:
   * then read it with openBody.
   */
  bodyBuffer(id: string): Buffer | null {
    return this.records.get(id)?.cached ?? null;
  }

  /** Where a message's bytes are on disk: its file, from the end of the envelope line. */
  bodyFile(id: string): { path: string; start: number } {
    const rec = this.records.get(id);
    if (!rec) throw new UnknownMessageError(id);
    return { path: this.messagePath(id), start: rec.bodyOffset };
  }

  /**
   * Drop the in-memory copy of a message's bytes (after its first delivery attempt). A message still
   * in the intake log keeps them until it has its own file (or is removed).
   */
  forgetBody(id: string): void {
    const rec = this.records.get(id);
    if (!rec) return;
    if (rec.logged) rec.forgetWhenMoved = true;
    else this.dropCached(rec);
  }

  /** Messages made durable in the intake log and not yet delivered, deleted or moved to their own file. */
  get loggedCount(): number {
    return this.intakeLog?.liveCount ?? 0;
  }

  private dropCached(rec: SpoolRecord): void {
    if (rec.cached) {
      this.cachedBytes -= rec.cached.length;
      rec.cached = null;
    }
  }

  /** Give a message of the intake log its own file (durable), then let the log forget it. */
  private moveToFile(rec: SpoolRecord): Promise<void> {
    if (!rec.logged) return Promise.resolve();
    rec.moving ??= (async () => {
      const id = rec.entry.envelope.id;
      const header = rec.logged!;
      const tmp = path.join(this.tmpDir, id);
      const store = () => this.io!.store(tmp, this.messagePath(id), [header, rec.cached!]);
      try {
        await store().catch(async (err: NodeJS.ErrnoException) => {
          // tmp/<id> can only be left from an earlier move of this very message (a file thread that
          // died mid-way): it is ours to replace.
          if (err.code !== 'EEXIST') throw err;
          await unlinkIfExists(tmp);
          await store();
        });
      } finally {
        rec.moving = null;
      }
      rec.logged = null;
      this.intakeLog?.done(id);
      if (rec.forgetWhenMoved) this.dropCached(rec);
    })();
    return rec.moving;
  }

  /**
   * Change a message's delivery state in memory at once and (unless `persist: false`, used for
   * "try now" changes that are harmless to forget) atomically on disk. False if the id is unknown.
   */
  async updateState(id: string, patch: Partial<EntryState>, opts: { persist?: boolean } = {}): Promise<boolean> {
    const rec = this.records.get(id);
    if (!rec) return false;
    const e = rec.entry;
    if (patch.recipients !== undefined) e.recipients = patch.recipients;
    if (patch.held !== undefined) e.held = patch.held;
    // A held message may wait for days: its bytes are read from the file when it is released.
    if (patch.held === true) this.forgetBody(id);
    if (patch.nextAttemptAt !== undefined) e.nextAttemptAt = patch.nextAttemptAt;
    if (patch.attempts !== undefined) e.attempts = patch.attempts;
    if (patch.delayWarned !== undefined) e.delayWarned = patch.delayWarned;
    if (opts.persist === false) return true;
    try {
      // The state file names a message file: the message gets one first.
      if (rec.logged) await this.moveToFile(rec);
      rec.hasState = true;
      await this.states.write(id);
    } catch (err) {
      throw toSpoolUnavailable(err, `cannot save the state of message ${id}`);
    }
    return true;
  }

  /**
   * Forget a message and delete its files. No directory fsync: if the unlink is lost in a crash the
   * message is delivered again, and a duplicate is acceptable where a loss is not.
   */
  async remove(id: string): Promise<boolean> {
    const rec = this.records.get(id);
    if (!rec) return false;
    this.records.delete(id);
    if (rec.moving) {
      // The id stays taken until the move is over: its end tells the intake log this id is done.
      this.reserved.add(id);
      await rec.moving.catch(() => undefined);
      this.reserved.delete(id);
    }
    this.dropCached(rec);
    if (rec.logged) {
      // Never written to a file, never given a state: the done record is all there is to do.
      rec.logged = null;
      this.intakeLog?.done(id);
      return true;
    }
    // The message file goes first: a state file left alone by a crash is cleaned up at the next open.
    await (this.io ? this.io.unlink(this.messagePath(id)) : unlinkIfExists(this.messagePath(id)));
    if (rec.hasState) await this.states.remove(id);
    return true;
  }

  /** Take no more messages, let the file thread finish its work, and stop it. */
  async close(): Promise<void> {
    this.closed = true;
    this.intakeLog?.flushDone();
    await this.io?.close();
  }

  private messagePath(id: string): string {
    return path.join(this.msgDir, id);
  }

  private async load(): Promise<void> {
    // Wait for every mkdir before failing: one still running after the rejection would create
    // directories behind the caller's back.
    const made = await Promise.allSettled([this.tmpDir, this.msgDir, this.stateDir].map((d) => fs.mkdir(d, { recursive: true, mode: 0o700 })));
    const failed = made.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // A temp file is a message whose 250 was never sent (the crash came before rename + fsync).
    const leftovers = await fs.readdir(this.tmpDir);
    await forEachLimited(leftovers, (n) => fs.rm(path.join(this.tmpDir, n), { force: true, recursive: true }));
    // Messages of the intake log become files, so that what follows sees them like any other.
    const { nextSeq } = await recoverIntakeLog({ logDir: this.logDir, tmpDir: this.tmpDir, msgDir: this.msgDir, corruptDir: this.corruptDir }, this.log);
    if (this.io && this.useIntakeLog) {
      this.intakeLog = new IntakeLog(this.logDir, this.io, {
        firstSeq: nextSeq,
        segmentBytes: this.intakeLogSegmentBytes,
        evict: (ids) => {
          for (const id of ids) {
            const rec = this.records.get(id);
            if (!rec) continue;
            this.moveToFile(rec).catch((err: Error) => this.log?.event('error', { what: 'queue', id, msg: `cannot move the message from the intake log to its own file: ${err.message}` }, 'error'));
          }
        },
        onRemoveFailed: (file, err) => this.log?.event('error', { what: 'queue', file, msg: `cannot delete an intake log segment: ${err.message}` }, 'warn'),
      });
    }

    const all = await fs.readdir(this.msgDir);
    const names = all.filter(isQueueId).sort();
    if (names.length !== all.length) {
      this.log?.event('error', { what: 'queue', msg: `ignoring ${all.length - names.length} file(s) in ${this.msgDir} that are not queue files` }, 'warn');
    }
    const known = new Set(names);
    const withState = new Set<string>();
    const strays: string[] = [];
    for (const n of await fs.readdir(this.stateDir)) {
      const id = idOfStateFile(n);
      if (id && known.has(id)) withState.add(id);
      else strays.push(n); // temp files of interrupted state writes, states of removed messages
    }
    known.clear();
    await forEachLimited(strays, (n) => fs.rm(path.join(this.stateDir, n), { force: true, recursive: true }));

    const corrupt: CorruptMessageFile[] = [];
    const visit = (m: ScannedMessage): void => {
      const id = m.envelope.id;
      let s: EntryState | null = null;
      if (withState.has(id)) {
        s = this.states.readSync(id, m.envelope.recipients);
        if (!s) this.log?.event('error', { what: 'queue', id, msg: 'state file unreadable; all recipients queued again' }, 'warn');
      }
      const entry: QueueEntry = {
        envelope: m.envelope,
        size: m.size,
        recipients: s?.recipients ?? initialRecipientStates(m.envelope.recipients),
        held: s?.held ?? false,
        nextAttemptAt: s?.nextAttemptAt ?? 0,
        attempts: s?.attempts ?? 0,
        delayWarned: s?.delayWarned ?? false,
      };
      this.records.set(id, { entry, bodyOffset: m.bodyOffset, hasState: withState.has(id), cached: null, logged: null, moving: null, forgetWhenMoved: false });
    };
    await scanMessageFiles(this.msgDir, names, visit, (c) => corrupt.push(c));
    for (const c of corrupt) await this.quarantine(c);
  }

  /** Unreadable files are moved aside for a person to look at, never deleted: they may be mail. */
  private async quarantine(c: CorruptMessageFile): Promise<void> {
    const name = path.basename(c.file);
    await fs.mkdir(this.corruptDir, { recursive: true, mode: 0o700 });
    await fs.rename(c.file, path.join(this.corruptDir, name));
    await this.states.remove(name);
    this.log?.event('error', { what: 'queue', file: c.file, movedTo: this.corruptDir, msg: c.message }, 'error');
  }
}

async function forEachLimited<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_FILE_OPS, items.length) }, worker));
}

export { SpoolWriter, SpoolUnavailableError, UnknownMessageError };
