/**
 * The intake log: how a small message becomes durable before its 250 without a file of its own.
 *
 * Most mail is relayed within a second of arriving. Giving each message its own file costs a create,
 * a write, an fsync, a close, a rename, a share of a directory fsync and later an unlink; the log
 * instead appends the message to a segment file and fsyncs once for every message that arrived
 * meanwhile. A message leaves the log with a "done" record when it is delivered or deleted, or when
 * it moves to its own file in queue/msg (after a failed first attempt, when held, or when its segment
 * is old: see `evict`). Segments are deleted oldest first once nothing in them is live, so a done
 * record never outlives the segments before it.
 *
 * Done records are not fsynced: after a crash a delivered message may be delivered again, never lost
 * (as with an unlink that did not reach the disk). At start the spool moves every live message of
 * the log into its own file and deletes the segments (intake-log-recovery.ts).
 */
import path from 'node:path';
import { RECORD_DONE, RECORD_MESSAGE, encodeRecord } from './intake-log-format.ts';

/** The file calls the log needs (the spool's file thread). */
export interface IntakeLogIo {
  logAppend(file: string, dir: string, data: Buffer, durable: boolean): Promise<void>;
  logRemove(file: string): Promise<void>;
}

/** A segment file is closed once it passes this size; the next message starts a new one. */
export const SEGMENT_BYTES = 4 * 1024 * 1024;

/** How long done records may wait for a message to travel with. */
const DONE_FLUSH_MS = 20;

/** Closed segments kept while they still hold live messages; past this, the oldest one's move to files. */
const MAX_CLOSED_SEGMENTS = 2;

/** Segment file names: a zero-padded sequence number, so a name sort is the write order. */
export const SEGMENT_NAME = /^(\d{10})\.log$/;

export function segmentName(seq: number): string {
  return `${String(seq).padStart(10, '0')}.log`;
}

interface Segment {
  file: string;
  bytes: number;
  /** Ids whose message record is here and who have not left the log. */
  live: Set<string>;
  closed: boolean;
  /** A done record was written here (it may be about a message in an older segment). */
  hasDone: boolean;
}

export interface IntakeLogOptions {
  /** Sequence number of the first segment to create (after those found at start). */
  firstSeq: number;
  segmentBytes?: number;
  /** Move these messages to their own files and call `done` for each once that is durable. */
  evict(ids: string[]): void;
  /** A segment file could not be deleted (it is tried again at the next start). */
  onRemoveFailed?(file: string, err: Error): void;
}

export class IntakeLog {
  /** Oldest first; the last one takes appends unless it is closed. */
  private readonly segments: Segment[] = [];
  private readonly segmentOf = new Map<string, Segment>();
  private nextSeq: number;
  private readonly segmentBytes: number;
  /**
   * Done records not yet sent to the file thread, all for `doneSegment`: they go with the next
   * message appended there, or after DONE_FLUSH_MS — one hand-off to the thread instead of one per
   * delivered message.
   */
  private doneRecords: Buffer[] = [];
  private doneBytes = 0;
  private doneSegment: Segment | null = null;
  private doneTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly dir: string,
    private readonly io: IntakeLogIo,
    private readonly opts: IntakeLogOptions,
  ) {
    this.nextSeq = opts.firstSeq;
    this.segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
  }

  /** Messages in the log (written or being written, not yet done). */
  get liveCount(): number {
    return this.segmentOf.size;
  }

  /** Append a message (its envelope line and body, as its spool file would hold them); resolves once fsynced. */
  append(id: string, header: Buffer, body: Buffer): Promise<void> {
    const rec = encodeRecord(RECORD_MESSAGE, id, [header, body]);
    const seg = this.segmentFor(rec.length, true);
    seg.live.add(id);
    this.segmentOf.set(id, seg);
    const data = this.doneSegment === seg ? this.takeDone(rec) : rec;
    return this.io.logAppend(seg.file, this.dir, data, true).catch((err: unknown) => {
      // Never acknowledged: forget it, and write no more to a file whose tail may be damaged.
      if (this.segmentOf.get(id) === seg) this.segmentOf.delete(id);
      seg.live.delete(id);
      seg.closed = true;
      this.collect();
      throw err;
    });
  }

  /** The message left the log (delivered, deleted, or durable in its own file). Unknown ids are ignored. */
  done(id: string): void {
    const seg = this.segmentOf.get(id);
    if (!seg) return;
    this.segmentOf.delete(id);
    seg.live.delete(id);
    const rec = encodeRecord(RECORD_DONE, id);
    const cur = this.segmentFor(rec.length, false);
    cur.hasDone = true;
    if (this.doneSegment !== cur) this.flushDone();
    this.doneSegment = cur;
    this.doneRecords.push(rec);
    this.doneBytes += rec.length;
    if (!this.doneTimer) {
      this.doneTimer = setTimeout(() => this.flushDone(), DONE_FLUSH_MS);
      this.doneTimer.unref();
    }
    this.collect();
  }

  /** Send the waiting done records now (the spool calls this before it stops). */
  flushDone(): void {
    const seg = this.doneSegment;
    if (!seg || this.doneRecords.length === 0) return;
    const data = this.takeDone(null);
    // A lost done record means one more delivery after a crash, not a lost message.
    this.io.logAppend(seg.file, this.dir, data, false).catch(() => {
      seg.closed = true;
      this.collect();
    });
  }

  /** The waiting done records, followed by `then`, as one buffer of its own; none wait afterwards. */
  private takeDone(then: Buffer | null): Buffer {
    const data = Buffer.allocUnsafeSlow(this.doneBytes + (then?.length ?? 0));
    let at = 0;
    for (const r of this.doneRecords) at += r.copy(data, at);
    then?.copy(data, at);
    this.dropDone();
    return data;
  }

  private dropDone(): void {
    if (this.doneTimer) clearTimeout(this.doneTimer);
    this.doneTimer = null;
    this.doneRecords = [];
    this.doneBytes = 0;
    this.doneSegment = null;
  }

  /** The segment to append `bytes` to; a message opens a new one when the current one is full. */
  private segmentFor(bytes: number, mayRotate: boolean): Segment {
    let cur = this.segments[this.segments.length - 1];
    if (cur && !cur.closed && mayRotate && cur.bytes > 0 && cur.bytes + bytes > this.segmentBytes) {
      cur.closed = true;
      this.collect();
    }
    if (!cur || cur.closed) {
      cur = { file: path.join(this.dir, segmentName(this.nextSeq++)), bytes: 0, live: new Set(), closed: false, hasDone: false };
      this.segments.push(cur);
      this.evictOld();
    }
    cur.bytes += bytes;
    return cur;
  }

  /**
   * Delete closed segments with nothing live. Oldest first, since a done record must not outlive
   * the segment of its message; a segment that holds no done record (e.g. one whose first append
   * failed on a full disk) may go at once, wherever it is.
   */
  private collect(): void {
    const removable = (s: Segment, i: number): boolean => s.closed && s.live.size === 0 && (i === 0 || !s.hasDone);
    for (let i = 0; i < this.segments.length; ) {
      const seg = this.segments[i]!;
      if (!removable(seg, i)) {
        i++;
        continue;
      }
      this.segments.splice(i, 1);
      // Done records still waiting for it are moot: what they mark is in this segment or older ones, gone too.
      if (this.doneSegment === seg) this.dropDone();
      this.io.logRemove(seg.file).catch((err: Error) => this.opts.onRemoveFailed?.(seg.file, err));
      i = 0; // the new first segment may be removable now
    }
  }

  /**
   * Keep disk use bounded: messages still live in old segments move to their own files. Asked again
   * at every new segment, so a message still being committed the first time, or whose move failed,
   * is not left behind (the spool runs one move per message at a time).
   */
  private evictOld(): void {
    let closed = 0;
    for (const s of this.segments) if (s.closed) closed++;
    for (const s of this.segments) {
      if (closed <= MAX_CLOSED_SEGMENTS) break;
      if (!s.closed) continue;
      closed--;
      if (s.live.size > 0) this.opts.evict([...s.live]);
    }
  }
}
