/**
 * A worker thread for the spool's file work: append to the intake log (intake-log.ts), store a
 * message durably in its own file (create the temp file, write, fsync, close, rename into queue/msg,
 * fsync queue/msg), fsync a directory, delete a file.
 *
 * Why a thread of its own: measured on a 2-core VM, every file call handed to libuv's thread pool
 * cost the main thread tens of microseconds (a cross-CPU wake-up per call), five or six calls per
 * message; and the same calls made synchronously on the main thread were worse, because ext4 makes
 * metadata calls wait while its journal commits. Here the main thread posts one message per file
 * operation and gets the answers back in batches; the hand-offs to the thread pool (which still
 * runs the calls, in parallel) and their wake-ups cost this thread instead.
 *
 * The thread runs from source text (`eval`), so it works the same from the TypeScript sources and
 * from the single-file bundle, with no second file to find at run time.
 */
import type * as Fs from 'node:fs';
import type * as WorkerThreads from 'node:worker_threads';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

type Request =
  | { seq: number; op: 'store'; tmp: string; final: string; dir: string; data: Uint8Array }
  | { seq: number; op: 'syncDir'; dir: string }
  | { seq: number; op: 'unlink'; file: string }
  | { seq: number; op: 'logAppend'; file: string; dir: string; data: Uint8Array; durable: boolean }
  | { seq: number; op: 'logRemove'; file: string };

interface Reply {
  seq: number;
  /** errno code and message when the operation failed. */
  code?: string;
  message?: string;
}

/** What the thread posts: the answers of one event-loop turn, and its directory fsyncs so far. */
interface ReplyBatch {
  replies: Reply[];
  dirSyncs: number;
}

/**
 * The thread's whole program. It runs from its source text (`threadMain.toString()`), so it may use
 * nothing from this module: only its parameter and Node's built-in modules through `require`. Each
 * store ends with the temp file renamed, or with no temp file at all; answers go back once per
 * event-loop turn, as one array.
 */
function threadMain(require: (id: string) => unknown): void {
  const { parentPort } = require('node:worker_threads') as typeof WorkerThreads;
  const fs = require('node:fs') as typeof Fs;
  const port = parentPort!;
  let replies: Reply[] = [];
  let dirSyncs = 0;
  const reply = (r: Reply): void => {
    if (replies.length === 0) {
      setImmediate(() => {
        const batch: ReplyBatch = { replies, dirSyncs };
        replies = [];
        port.postMessage(batch);
      });
    }
    replies.push(r);
  };
  const failed = (seq: number, err: unknown): Reply => {
    const e = err as NodeJS.ErrnoException | null;
    return { seq, code: e?.code ?? 'EIO', message: e?.message ?? String(err) };
  };
  // A write can be short on a nearly full disk; the rest goes in further writes so ENOSPC surfaces.
  const writeAll = (fd: number, data: Uint8Array, done: (err: unknown) => void): void => {
    const more = (off: number): void => {
      if (off >= data.length) return done(null);
      fs.write(fd, data, off, data.length - off, null, (err, n) => {
        if (err) return done(err);
        if (n === 0) return done(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
        more(off + n);
      });
    };
    more(0);
  };
  const quietly = (fn: () => void): void => {
    try {
      fn();
    } catch {
      // cleanup after a failure that is already being reported
    }
  };
  // Every call goes through the thread pool, so a slow file system (a create that takes
  // milliseconds) delays one message, not every store queued behind it.
  const store = (m: Extract<Request, { op: 'store' }>): void => {
    fs.open(m.tmp, 'wx', 0o600, (openErr, fd) => {
      // Not created by us (EEXIST: someone else's file, or EACCES): nothing of ours to remove.
      if (openErr) return reply(failed(m.seq, openErr));
      const giveUp = (err: unknown, open: boolean): void => {
        const removeTmp = (): void => fs.unlink(m.tmp, () => reply(failed(m.seq, err)));
        if (open) fs.close(fd, removeTmp);
        else removeTmp();
      };
      writeAll(fd, m.data, (writeErr) => {
        if (writeErr) return giveUp(writeErr, true);
        fs.fsync(fd, (syncErr) => {
          if (syncErr) return giveUp(syncErr, true);
          fs.close(fd, (closeErr) => {
            if (closeErr) return giveUp(closeErr, false);
            fs.rename(m.tmp, m.final, (renameErr) => (renameErr ? giveUp(renameErr, false) : afterRename(m)));
          });
        });
      });
    });
  };
  // Group commit of the directory: one fsync covers every rename made before it started; renames
  // that arrive while it runs wait for the next one. A failed fsync withdraws the files it should
  // have made durable: a message is never kept unless its 250 could be sent.
  const dirs = new Map<string, { waiting: Extract<Request, { op: 'store' }>[]; running: boolean }>();
  const afterRename = (m: Extract<Request, { op: 'store' }>): void => {
    // Windows cannot open a directory to fsync it; NTFS journals the rename itself.
    if (process.platform === 'win32') return reply({ seq: m.seq });
    let d = dirs.get(m.dir);
    if (!d) {
      d = { waiting: [], running: false };
      dirs.set(m.dir, d);
    }
    d.waiting.push(m);
    if (!d.running) syncRenamed(m.dir, d);
  };
  const syncRenamed = (dir: string, d: { waiting: Extract<Request, { op: 'store' }>[]; running: boolean }): void => {
    d.running = true;
    // One turn later, so that the renames of this turn share the fsync.
    setImmediate(() => {
      const batch = d.waiting;
      d.waiting = [];
      const done = (err: unknown): void => {
        for (const m of batch) {
          if (!err) {
            reply({ seq: m.seq });
            continue;
          }
          quietly(() => fs.unlinkSync(m.final));
          reply(failed(m.seq, err));
        }
        if (d.waiting.length > 0) syncRenamed(dir, d);
        else d.running = false;
      };
      let fd: number;
      try {
        fd = fs.openSync(dir, 'r');
      } catch (err) {
        return done(err);
      }
      dirSyncs++;
      fs.fsync(fd, (err) => {
        quietly(() => fs.closeSync(fd));
        done(err);
      });
    });
  };
  const syncDir = (m: Extract<Request, { op: 'syncDir' }>): void => {
    if (process.platform === 'win32') return reply({ seq: m.seq });
    let fd: number;
    try {
      fd = fs.openSync(m.dir, 'r');
    } catch (err) {
      return reply(failed(m.seq, err));
    }
    fs.fsync(fd, (err) => {
      quietly(() => fs.closeSync(fd));
      reply(err ? failed(m.seq, err) : { seq: m.seq });
    });
  };

  // The intake log is written with blocking calls, on purpose: while an fdatasync runs, the appends
  // that arrive queue up behind it and share the next one (group commit without timers), and a
  // message costs one write instead of a file's five calls and their thread-pool hand-offs.
  interface LogFile {
    fd: number;
    size: number;
    /** Set by a failed write or fsync: the file is not appended to again (the spool starts a new one). */
    failed: unknown;
    /** A new file's directory entry must be durable before its first record is acknowledged. */
    dirToSync: string | null;
  }
  type LogAppend = Extract<Request, { op: 'logAppend' }>;
  const logFiles = new Map<string, LogFile>();
  let logQueue: LogAppend[] = [];
  const writeAllSync = (fd: number, data: Uint8Array): void => {
    for (let off = 0; off < data.length; ) {
      const n = fs.writeSync(fd, data, off, data.length - off);
      if (n === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      off += n;
    }
  };
  const syncDirSync = (dir: string): void => {
    if (process.platform === 'win32') return;
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  const appendAll = (file: string, reqs: LogAppend[]): void => {
    let f = logFiles.get(file);
    if (!f) {
      try {
        const fd = fs.openSync(file, 'a', 0o600);
        f = { fd, size: fs.fstatSync(fd).size, failed: null, dirToSync: reqs[0]!.dir };
      } catch (err) {
        for (const r of reqs) reply(failed(r.seq, err));
        return;
      }
      logFiles.set(file, f);
    }
    let err: unknown = f.failed;
    const start = f.size;
    let durable = false;
    for (const r of reqs) {
      if (err) break;
      try {
        writeAllSync(f.fd, r.data);
        f.size += r.data.length;
        durable ||= r.durable;
      } catch (e) {
        err = e;
      }
    }
    if (!err && durable) {
      try {
        fs.fdatasyncSync(f.fd);
        if (f.dirToSync !== null) syncDirSync(f.dirToSync);
        f.dirToSync = null;
      } catch (e) {
        err = e;
      }
    }
    if (err) {
      // Cut the file back to what was there before this batch, so no half-written record is left
      // in front of anything (a best effort: recovery stops at a damaged record anyway), and let go
      // of it: the spool starts a new file and deletes this one once nothing in it is live.
      if (!f.failed) {
        quietly(() => fs.ftruncateSync(f.fd, start));
        quietly(() => fs.closeSync(f.fd));
      }
      f.failed = err;
      for (const r of reqs) reply(failed(r.seq, err));
      return;
    }
    for (const r of reqs) reply({ seq: r.seq });
  };
  const flushLog = (): void => {
    const batch = logQueue;
    logQueue = [];
    const byFile = new Map<string, LogAppend[]>();
    for (const m of batch) {
      const list = byFile.get(m.file);
      if (list) list.push(m);
      else byFile.set(m.file, [m]);
    }
    for (const [file, reqs] of byFile) appendAll(file, reqs);
  };
  const removeLog = (m: Extract<Request, { op: 'logRemove' }>): void => {
    // Appends posted before the removal are written first, as they were sent.
    if (logQueue.length > 0) flushLog();
    const f = logFiles.get(m.file);
    logFiles.delete(m.file);
    if (f && !f.failed) quietly(() => fs.closeSync(f.fd));
    fs.unlink(m.file, (err) => reply(err && err.code !== 'ENOENT' ? failed(m.seq, err) : { seq: m.seq }));
  };

  port.on('message', (m: Request) => {
    if (m.op === 'logAppend') {
      // Everything posted within the next millisecond goes into one write-and-fsync: with a new
      // client connection per message, appends arrive one by one, and waiting that long for company
      // (as PostgreSQL's commit_delay does) means fewer fsyncs and, measured, less CPU per message.
      if (logQueue.length === 0) setTimeout(flushLog, 1);
      logQueue.push(m);
    } else if (m.op === 'store') store(m);
    else if (m.op === 'syncDir') syncDir(m);
    else if (m.op === 'logRemove') removeLog(m);
    else fs.unlink(m.file, (err) => reply(err && err.code !== 'ENOENT' ? failed(m.seq, err) : { seq: m.seq }));
  });
}

// `__name`: esbuild with keepNames (tsx, which runs the relay from a checkout) wraps named arrow
// functions in a call to that helper, defined in the module but not in the thread: an identity
// stand-in keeps the names harmlessly. test/integration/relay-cli.test.ts runs the relay that way.
const THREAD_SOURCE = `'use strict';\nconst __name = (target) => target;\n(${threadMain.toString()})(require);`;

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

/** How long `close()` lets the thread finish what it was given before stopping it anyway. */
const CLOSE_DRAIN_MS = 10_000;

/** The spool's file thread; started on first use, restarted if it ever dies, never after close(). */
export class SpoolIoThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;
  /** Called when `pending` becomes empty (close() waits on it). */
  private onIdle: (() => void) | null = null;
  private syncsOfEarlierThreads = 0;
  private syncsOfThisThread = 0;

  /** Directory fsyncs the stores needed so far (fewer than stores when they overlap). */
  get dirSyncs(): number {
    return this.syncsOfEarlierThreads + this.syncsOfThisThread;
  }

  /**
   * Write `bufs` to a new file `tmp` (exclusive create, 0600), fsync it, close it, rename it to
   * `final` and fsync `final`'s directory (shared with the other stores of the moment). Resolves
   * once all of that is done; on failure neither file is left.
   */
  store(tmp: string, final: string, bufs: Buffer[]): Promise<void> {
    // One buffer of its own, moved to the thread rather than copied: posting the parts would clone
    // the whole backing store of each (small Buffers share 8 KiB pool slabs, socket reads larger ones).
    let total = 0;
    for (const b of bufs) total += b.length;
    const whole = Buffer.allocUnsafeSlow(total);
    let at = 0;
    for (const b of bufs) at += b.copy(whole, at);
    return this.call({ seq: 0, op: 'store', tmp, final, dir: path.dirname(final), data: whole }, [whole.buffer as ArrayBuffer]);
  }

  /** fsync a directory (after renames or unlinks in it). */
  syncDir(dir: string): Promise<void> {
    return this.call({ seq: 0, op: 'syncDir', dir });
  }

  /**
   * Append `data` to the intake log file `file` (created if missing, in directory `dir`). With
   * `durable`, resolves after an fdatasync that covers it (and, for a new file, an fsync of `dir`).
   * `data` must be a buffer of its own: it is moved to the thread. After a failure the file takes no
   * more appends.
   */
  logAppend(file: string, dir: string, data: Buffer, durable: boolean): Promise<void> {
    return this.call({ seq: 0, op: 'logAppend', file, dir, data, durable }, [data.buffer as ArrayBuffer]);
  }

  /** Close and delete an intake log file. */
  logRemove(file: string): Promise<void> {
    return this.call({ seq: 0, op: 'logRemove', file });
  }

  /** Delete a file; one that is already gone is not an error. */
  unlink(file: string): Promise<void> {
    return this.call({ seq: 0, op: 'unlink', file });
  }

  /**
   * Refuse new work, let the thread finish what it has (an unlink reported as failed but done
   * anyway would mean a second delivery after the restart), then stop it. What is still running
   * after CLOSE_DRAIN_MS is rejected.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending.size > 0 && this.worker) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onIdle = resolve;
        timer = setTimeout(resolve, CLOSE_DRAIN_MS);
      });
      clearTimeout(timer);
      this.onIdle = null;
    }
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll(new Error('the spool file thread was stopped'));
  }

  private call(req: Request, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.closed) return Promise.reject(Object.assign(new Error('the queue is closed (the relay is stopping)'), { code: 'ECANCELED' }));
    const seq = ++this.seq;
    req.seq = seq;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      try {
        this.thread().postMessage(req, transfer);
      } catch (err) {
        // Not sent (e.g. a buffer that cannot be moved): nothing will answer it.
        this.pending.delete(seq);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    this.syncsOfEarlierThreads += this.syncsOfThisThread;
    this.syncsOfThisThread = 0;
    const w = new Worker(THREAD_SOURCE, { eval: true, name: 'spool-io' });
    // Never what keeps the relay alive: sockets and timers decide that.
    w.unref();
    w.on('message', ({ replies, dirSyncs }: ReplyBatch) => {
      // A late batch of a thread already replaced must not overwrite the new thread's count.
      if (this.worker === w) this.syncsOfThisThread = dirSyncs;
      for (const r of replies) {
        const p = this.pending.get(r.seq);
        if (!p) continue;
        this.pending.delete(r.seq);
        if (r.code === undefined) p.resolve();
        else p.reject(Object.assign(new Error(r.message ?? r.code), { code: r.code }));
      }
      if (this.pending.size === 0) this.onIdle?.();
    });
    const died = (err: Error): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.failAll(Object.assign(new Error(`the spool file thread stopped: ${err.message}`), { code: 'EIO' }));
    };
    w.on('error', died);
    w.on('exit', (code) => died(new Error(`exit code ${code}`)));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
    this.onIdle?.();
  }
}
