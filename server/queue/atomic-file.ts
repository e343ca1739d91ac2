/** Crash-safe file writes: a reader sees either the old file or the new one, never a torn one. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { closeFd, fsyncFd, openFd } from './fd-io.ts';

/**
 * fsync a directory so that a rename or unlink inside it survives a power loss. Windows cannot open a
 * directory as a file (EISDIR/EPERM); NTFS journals the rename itself, so there it is a no-op.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fd = await openFd(dir, 'r', 0);
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/** Write `data` to a temp file beside `file`, fsync it, rename it over `file`, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}
