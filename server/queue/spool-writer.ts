/**
 * The write path of one message: a Writable the SMTP layer pipes the body into. `commit()` makes the
 * message durable — only then may the session reply 250 — either in the intake log or as the file
 * `queue/tmp/<id>` = envelope JSON + "\n" + body, fsynced, renamed into `queue/msg/`, and covered by a
 * (shared) fsync of that directory.
 *
 * A message that stays under FLUSH_BYTES (most mail) is held in memory and stored at commit in one
 * go: appended to the intake log (`storeInLog`), or, when the log cannot take it, as its own file by
 * one operation of the spool's file thread (`storeWhole`). A bigger one gets its temp file at the
 * first slice and is written as it arrives.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { closeFd, fsyncFd, renameFile, unlinkIfExists, writeAllFd } from './fd-io.ts';
import type { Envelope, QueueEntry, RecipientState } from './types.ts';
import { SpoolUnavailableError, toSpoolUnavailable } from './spool-errors.ts';

/** An envelope as the SMTP layer knows it before DATA; the spool fills in id and time if missing. */
export type NewEnvelope = Omit<Envelope, 'id' | 'receivedAt'> & { id?: string; receivedAt?: number };

/** What a writer needs from its spool (kept narrow so the writer does not reach into the spool). */
export interface SpoolWriterHost {
  tempPath(id: string): string;
  messagePath(id: string): string;
  /** Create the temp file; resolves its descriptor. */
  openTempFile(file: string): Promise<number>;
  /**
   * Create, write, fsync, close and rename a whole message and fsync its directory, in one go (the
   * file thread); a failure leaves neither file. Absent when tests replace the file calls: then the
   * steps run one by one.
   */
  storeWhole?(tmp: string, final: string, bufs: Buffer[]): Promise<void>;
  /**
   * Make a whole small message durable in the intake log (intake-log.ts), which then holds its bytes
   * in memory too. Null when the log cannot take it (no log, or no room in memory): then it gets its
   * own file.
   */
  storeInLog?(id: string, header: Buffer, body: Buffer): Promise<void> | null;
  /** Resolves after an fsync of queue/msg that started after the call. */
  syncMessageDir(): Promise<void>;
  /**
   * The message is durable: start tracking it. `body` is the message bytes when the writer still
   * held all of them in memory (small messages), so the first delivery need not read the file back.
   * `loggedHeader` (the envelope line) is set when the message went to the intake log instead of a file.
   */
  committed(entry: QueueEntry, bodyOffset: number, body: Buffer | null, loggedHeader: Buffer | null): void;
  /** The writer is done with its id, committed or not. */
  released(id: string): void;
}

// Small messages (most mail) go to disk in a single writev at commit; big ones in slices of this size.
const FLUSH_BYTES = 128 * 1024;

/** Every recipient queued, never tried: the state of a new or state-less recovered message. */
export function initialRecipientStates(recipients: readonly string[]): RecipientState[] {
  return recipients.map((address) => ({ address, status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null }));
}

/**
 * I/O errors are latched rather than emitted: the SMTP layer's body stream keeps draining into the
 * writer (a stalled pipe would hang the session), and `commit()` rejects with a SpoolUnavailableError
 * at end of DATA, which becomes 452 4.3.1. After `abort()` the writer likewise swallows further input.
 */
export class SpoolWriter extends Writable {
  readonly id: string;
  readonly envelope: Envelope;
  private readonly header: Buffer;
  private fd: number | null = null;
  /** The temp file's creation, started by the first slice written (or by commit). */
  private opened: Promise<void> | null = null;
  /**
   * The slice being written, if any. A plain descriptor (unlike a FileHandle) may be closed while a
   * write on it is still queued; its number could then be reused by another file or a socket before
   * the write runs. Whoever closes waits for this first.
   */
  private writing: Promise<void> = Promise.resolve();
  private pending: Buffer[];
  private pendingBytes: number;
  private bodyBytes = 0;
  /** Every body chunk, while the whole message is still in memory (null once a slice went to disk). */
  private inMemory: Buffer[] | null = [];
  private failure: SpoolUnavailableError | null = null;
  private phase: 'writing' | 'committing' | 'done' = 'writing';
  private commitPromise: Promise<QueueEntry> | null = null;

  constructor(
    private readonly host: SpoolWriterHost,
    envelope: Envelope,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.id = envelope.id;
    this.envelope = envelope;
    // JSON escapes control characters inside strings, so the only "\n" in the line is its terminator.
    this.header = Buffer.from(JSON.stringify(envelope) + '\n', 'utf8');
    this.pending = [this.header];
    this.pendingBytes = this.header.length;
  }

  /** Body bytes received so far (without the envelope line). */
  get size(): number {
    return this.bodyBytes;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure || this.phase === 'done') return callback();
    this.bodyBytes += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < FLUSH_BYTES) {
      this.inMemory?.push(chunk);
      return callback();
    }
    this.inMemory = null;
    void this.flush().then(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Still all in memory: commit stores it in one go.
    if (this.opened === null) return callback();
    void this.flush().then(() => callback());
  }

  /**
   * Make the message durable and return its queue entry. Ends the stream if the caller has not; call
   * it after the body has been written (e.g. after `pipeline(body, writer)`). Rejects with
   * SpoolUnavailableError; the temp file is gone by then.
   */
  commit(): Promise<QueueEntry> {
    if (this.commitPromise) return this.commitPromise;
    if (this.phase === 'done') return Promise.reject(new SpoolUnavailableError('ECANCELED', `message ${this.id} was aborted`));
    this.phase = 'committing';
    this.commitPromise = this.doCommit();
    return this.commitPromise;
  }

  /**
   * Give up on the message and delete its temp file. Safe to call at any time and more than once;
   * during a commit it waits for that commit instead (the client may already have its 250, and a
   * duplicate is better than a loss).
   */
  async abort(): Promise<void> {
    if (this.commitPromise) {
      await this.commitPromise.catch(() => undefined);
      return;
    }
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.pending = [];
    this.pendingBytes = 0;
    if (this.opened) await this.opened;
    await this.discard(false);
  }

  private async doCommit(): Promise<QueueEntry> {
    if (!this.writableEnded) this.end();
    await finished(this, { readable: false }).catch((err: unknown) => this.fail(err, 'write failed'));
    let renamed = false;
    let logged = false;
    try {
      if (this.failure) throw this.failure;
      const tmp = this.host.tempPath(this.id);
      const final = this.host.messagePath(this.id);
      const inLog = this.opened === null && this.inMemory ? this.host.storeInLog?.(this.id, this.header, this.body()!) : null;
      if (inLog) {
        this.pending = [];
        this.pendingBytes = 0;
        await inLog;
        logged = true;
      } else if (this.opened === null && this.host.storeWhole) {
        const bufs = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        await this.host.storeWhole(tmp, final, bufs);
      } else {
        await this.flush();
        if (this.failure) throw this.failure;
        const fd = this.fd;
        if (fd === null) throw new SpoolUnavailableError('EIO', `queue unavailable: temp file of ${this.id} is not open`);
        await fsyncFd(fd);
        this.fd = null;
        await closeFd(fd);
        await renameFile(tmp, final);
        renamed = true;
        await this.host.syncMessageDir();
      }
    } catch (err) {
      const typed = toSpoolUnavailable(err, `cannot store message ${this.id}`);
      this.phase = 'done';
      await this.discard(renamed);
      throw typed;
    }
    this.phase = 'done';
    const entry: QueueEntry = {
      envelope: this.envelope,
      size: this.bodyBytes,
      recipients: initialRecipientStates(this.envelope.recipients),
      held: false,
      nextAttemptAt: 0,
      attempts: 0,
      delayWarned: false,
    };
    const body = this.body();
    this.inMemory = null;
    this.host.committed(entry, this.header.length, body, logged ? this.header : null);
    this.host.released(this.id);
    return entry;
  }

  /** The body as one buffer while it is all in memory (joined once, then kept), else null. */
  private body(): Buffer | null {
    if (!this.inMemory) return null;
    if (this.inMemory.length !== 1) this.inMemory = [Buffer.concat(this.inMemory, this.bodyBytes)];
    return this.inMemory[0]!;
  }

  private open(): Promise<void> {
    this.opened ??= this.host.openTempFile(this.host.tempPath(this.id)).then(
      (fd) => {
        this.fd = fd;
      },
      (err: unknown) => this.fail(err, 'cannot create temp file'),
    );
    return this.opened;
  }

  private flush(): Promise<void> {
    const run = this.writing.then(() => this.flushNow());
    this.writing = run;
    return run;
  }

  private async flushNow(): Promise<void> {
    if (this.failure || this.pendingBytes === 0) return;
    await this.open();
    if (this.failure) return;
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      if (this.fd === null) throw new SpoolUnavailableError('EIO', `queue unavailable: temp file of ${this.id} is not open`);
      await writeAllFd(this.fd, bufs);
    } catch (err) {
      this.fail(err, 'write failed');
    }
  }

  private fail(err: unknown, what: string): void {
    this.failure ??= toSpoolUnavailable(err, `${what} (message ${this.id})`);
    this.inMemory = null;
    this.pending = [];
    this.pendingBytes = 0;
  }

  // A message that was never acknowledged must leave no trace: not in tmp/, and (if the rename
  // happened but the directory fsync failed) not in msg/ either, or it would be delivered after all.
  private async discard(renamed: boolean): Promise<void> {
    await this.writing;
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await closeFd(fd).catch(() => undefined);
    await unlinkIfExists(this.host.tempPath(this.id)).catch(() => undefined);
    if (renamed) await unlinkIfExists(this.host.messagePath(this.id)).catch(() => undefined);
    this.host.released(this.id);
  }
}
