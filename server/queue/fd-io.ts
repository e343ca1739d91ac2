/**
 * The spool's file calls on plain descriptors, for what does not go through its file thread: a big
 * message written in slices as it arrives, directory fsyncs of the state files, and spools opened
 * with test seams. Each is one libuv request in one promise: fs/promises' FileHandle adds its own
 * bookkeeping to every call (ref counting, close tracking), which showed up in the relay's CPU
 * profile. They stay asynchronous: made synchronously on the main thread, the same calls cost it
 * more under load than the hand-off (ext4 makes metadata calls wait while its journal commits).
 * A plain descriptor may be closed while a write on it is queued: callers wait for their writes
 * first (see SpoolWriter.writing).
 */
import fs from 'node:fs';

/** open(2) with flags such as 'wx' (exclusive create) and a mode. */
export function openFd(file: string, flags: string, mode: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export function renameFile(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => fs.rename(from, to, (err) => (err ? reject(err) : resolve())));
}

/** unlink(2); a file that is already gone is not an error. */
export function unlinkIfExists(file: string): Promise<void> {
  return new Promise((resolve, reject) => fs.unlink(file, (err) => (err && err.code !== 'ENOENT' ? reject(err) : resolve())));
}

/**
 * Write every buffer at the file's current position. writev can be short on a nearly full disk;
 * the rest goes in plain writes so that ENOSPC surfaces as an error rather than a short file.
 */
export function writeAllFd(fd: number, bufs: readonly Buffer[]): Promise<void> {
  let total = 0;
  for (const b of bufs) total += b.length;
  return new Promise((resolve, reject) => {
    fs.writev(fd, bufs as Buffer[], (err, written) => {
      if (err) return reject(err);
      if (written === total) return resolve();
      const rest = Buffer.concat(bufs as Buffer[]).subarray(written);
      const more = (off: number): void => {
        if (off >= rest.length) return resolve();
        fs.write(fd, rest, off, rest.length - off, null, (e, n) => {
          if (e) return reject(e);
          if (n === 0) return reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
          more(off + n);
        });
      };
      more(0);
    });
  });
}
