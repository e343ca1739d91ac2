import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataDirBusyError, LOCK_FILE_NAME, lockDataDir } from '../../server/runtime/data-dir-lock.ts';
import { makeTempDir } from '../support/temp-dir.ts';

describe('data dir lock', () => {
  it('refuses a second holder while the first is alive, and frees the dir on release', async () => {
    const dir = makeTempDir();
    try {
      // a live Node process that is not us holds the lock
      const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      try {
        writeFileSync(path.join(dir.path, LOCK_FILE_NAME), `${holder.pid}\n`);
        await expect(lockDataDir(dir.path)).rejects.toThrow(DataDirBusyError);
        await expect(lockDataDir(dir.path)).rejects.toThrow(new RegExp(`another relay is running with this data dir \\(pid ${holder.pid}`));
      } finally {
        holder.kill('SIGKILL');
        await new Promise((r) => holder.once('exit', r));
      }
      // the holder died without releasing: its pid file is stale and is taken over
      const lock = await lockDataDir(dir.path);
      expect(existsSync(lock.file)).toBe(true);
      await lock.release();
      expect(existsSync(lock.file)).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('lets exactly one of many simultaneous takers win', async () => {
    const dir = makeTempDir();
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockDataDir(dir.path)));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won.length).toBe(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof DataDirBusyError)).toBe(true);
      for (const w of won) await (w as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    } finally {
      dir.remove();
    }
  });
});
