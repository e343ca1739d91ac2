/**
 * One relay per data dir: a second one would open the same spool (and discard the first one's
 * messages in flight as leftovers), so it must stop before touching anything. The lock is a pid file
 * hard-linked into place (link() fails when it exists), so two relays starting in the same instant
 * cannot both take it; a pid file left by a killed relay (its process is gone) is replaced.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const LOCK_FILE_NAME = 'mailrelay.pid';

export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Thrown when another live relay holds the data dir. */
export class DataDirBusyError extends Error {}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = path.join(dataDir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 5; attempt++) {
    // The pid goes into a private file first and is then hard-linked into place: link() fails if the
    // lock exists, and a lock that exists always holds its pid (no window with an empty file).
    const mine = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await fs.writeFile(mine, `${process.pid}\n`, { mode: 0o644 });
    let taken = false;
    try {
      await fs.link(mine, file);
      taken = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await fs.rm(mine, { force: true });
    }
    if (taken) {
      return {
        file,
        release: async () => {
          // Only remove our own lock: a reclaimed file belongs to someone else now.
          if (readPid(file) === process.pid) await fs.rm(file, { force: true });
        },
      };
    }
    const holder = readPid(file);
    // Our own pid counts as a live holder too: another relay in this process (tests, the app).
    if (holder !== null && (holder === process.pid || isRelayProcess(holder))) {
      throw new DataDirBusyError(`data dir ${dataDir}: another relay is running with this data dir (pid ${holder}, ${file})`);
    }
    await removeStale(file, holder);
  }
  throw new DataDirBusyError(`data dir ${dataDir}: could not take ${LOCK_FILE_NAME} (another relay keeps starting?)`);
}

/**
 * Remove a lock whose holder is gone. Two relays may find the same stale lock: each moves the file
 * aside and checks it still names the dead holder; one that moved a fresh lock puts it back.
 */
async function removeStale(file: string, stalePid: number | null): Promise<void> {
  const aside = `${file}.stale.${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (readPid(aside) !== stalePid) await fs.link(aside, file).catch(() => undefined);
  await fs.rm(aside, { force: true });
}

function readPid(file: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Is `pid` alive, and (where /proc tells) a Node process rather than an unrelated one that reused the pid? */
function isRelayProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|mailrelay|electron|relay/i.test(cmdline);
  } catch {
    return true; // no /proc (macOS, Windows): a live pid is taken as the holder
  }
}
