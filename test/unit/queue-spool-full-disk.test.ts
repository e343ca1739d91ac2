// A full disk or failing file system must turn into a typed error (the SMTP layer answers 452 4.3.1)
// and leave no trace of the refused message.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { Spool, SpoolUnavailableError, type NewEnvelope } from '../../server/queue/spool.ts';
import { fsyncDir } from '../../server/queue/atomic-file.ts';
import { waitFor } from '../support/wait-for.ts';

const envelope: NewEnvelope = {
  sender: 'alice@example.com',
  recipients: ['bob@example.net'],
  client: { ip: '127.0.0.1', hostname: null, helo: 'localhost', authUser: null, tls: false },
  bodyType: '7bit',
  smtpUtf8: false,
  origin: 'smtp',
};

async function tryStore(spool: Spool, body: Buffer): Promise<unknown> {
  const w = spool.createWriter(envelope);
  await pipeline(Readable.from([body]), w);
  return w.commit().then(
    () => 'stored',
    (err: unknown) => err,
  );
}

/** A 64 KiB tmpfs: a real kernel ENOSPC. Needs root with mount rights, so it may be unavailable. */
function mountSmallTmpfs(): string | null {
  if (process.platform !== 'linux') return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relaydesk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

const smallFs = mountSmallTmpfs();
afterAll(() => {
  if (!smallFs) return;
  execFileSync('umount', [smallFs], { stdio: 'ignore' });
  rmSync(smallFs, { recursive: true, force: true });
});

describe.runIf(smallFs)('Spool on a full file system (64 KiB tmpfs)', () => {
  it('refuses a message that does not fit with ENOSPC, removes its temp file, and accepts again once there is room', async () => {
    const spool = await Spool.open(smallFs!);
    const err = await tryStore(spool, Buffer.alloc(256 * 1024, 'a'));
    expect(err).toBeInstanceOf(SpoolUnavailableError);
    expect((err as SpoolUnavailableError).code).toBe('ENOSPC');
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    expect(readdirSync(spool.msgDir)).toEqual([]);
    expect(spool.size).toBe(0);

    // Space frees up (here: the refused message was cleaned up): small mail goes through again.
    expect(await tryStore(spool, Buffer.from('Subject: small\r\n\r\nok\r\n'))).toBe('stored');
    expect(spool.size).toBe(1);
    await spool.close();
  });

  it('refuses a small message the intake log cannot take with ENOSPC, and the log takes mail again once there is room', async () => {
    const dataDir = path.join(smallFs!, 'log-test');
    const spool = await Spool.open(dataDir);
    expect(await tryStore(spool, Buffer.from('Subject: first\r\n\r\nok\r\n'))).toBe('stored');
    // Under the size that is written in slices, so it goes to the log, and bigger than the whole tmpfs.
    const err = await tryStore(spool, Buffer.alloc(100 * 1024, 'a'));
    expect(err).toBeInstanceOf(SpoolUnavailableError);
    expect((err as SpoolUnavailableError).code).toBe('ENOSPC');
    expect(spool.size).toBe(1);
    expect(await tryStore(spool, Buffer.from('Subject: after\r\n\r\nok\r\n'))).toBe('stored');
    expect(spool.size).toBe(2);
    await spool.close();
    // Both acknowledged messages come back after a restart, the refused one does not.
    const reopened = await Spool.open(dataDir);
    expect(reopened.size).toBe(2);
    expect(readdirSync(reopened.tmpDir)).toEqual([]);
    await reopened.close();
  });

  it('does not pile up log files while the disk stays full behind a message that stays in the log', async () => {
    const dataDir = path.join(smallFs!, 'pile-test');
    const spool = await Spool.open(dataDir);
    expect(await tryStore(spool, Buffer.from('Subject: stays\r\n\r\nok\r\n'))).toBe('stored');
    // Each refusal ends the segment it failed in; those must go even though an older one is still live.
    for (let i = 0; i < 20; i++) expect(await tryStore(spool, Buffer.alloc(100 * 1024, 'a'))).toBeInstanceOf(SpoolUnavailableError);
    await waitFor('failed segments to be deleted', () => readdirSync(path.join(dataDir, 'queue', 'log')).length <= 2);
    expect(await tryStore(spool, Buffer.from('Subject: after\r\n\r\nok\r\n'))).toBe('stored');
    await spool.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('Spool write failures (injected through the spool seams)', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = makeTempDir('relaydesk-fail-');
  });
  afterEach(() => tmp.remove());

  it.runIf(existsSync('/dev/full'))('ENOSPC from the device (/dev/full behind the temp file) rejects with a typed error and no temp file', async () => {
    const spool = await Spool.open(tmp.path, {
      openTempFile: async (file) => {
        writeFileSync(file, ''); // the temp file exists, as it would on a real disk
        return openSync('/dev/full', 'w');
      },
    });
    const err = await tryStore(spool, Buffer.from('Subject: x\r\n\r\nbody\r\n'));
    expect(err).toBeInstanceOf(SpoolUnavailableError);
    expect((err as SpoolUnavailableError).code).toBe('ENOSPC');
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    expect(spool.size).toBe(0);
  });

  it('a temp file that cannot be created (e.g. EACCES) rejects at commit, after the body was drained', async () => {
    const spool = await Spool.open(tmp.path, {
      openTempFile: () => Promise.reject(Object.assign(new Error('permission denied'), { code: 'EACCES' })),
    });
    const err = await tryStore(spool, Buffer.alloc(1024 * 1024));
    expect(err).toMatchObject({ name: 'SpoolUnavailableError', code: 'EACCES' });
  });

  it('a failed directory fsync after the rename withdraws the message: it was never acknowledged', async () => {
    const msgDir = path.join(tmp.path, 'queue', 'msg');
    const spool = await Spool.open(tmp.path, {
      fsyncDir: async (dir) => {
        if (dir === msgDir) throw Object.assign(new Error('I/O error'), { code: 'EIO' });
        await fsyncDir(dir);
      },
    });
    const err = await tryStore(spool, Buffer.from('Subject: x\r\n\r\nbody\r\n'));
    expect(err).toMatchObject({ name: 'SpoolUnavailableError', code: 'EIO' });
    expect(readdirSync(spool.msgDir)).toEqual([]);
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    expect(spool.size).toBe(0);
  });

  it('a data dir that cannot hold a queue fails to open with a clear, typed error', async () => {
    const notADir = path.join(tmp.path, 'file');
    writeFileSync(notADir, '');
    await expect(Spool.open(notADir)).rejects.toMatchObject({ name: 'SpoolUnavailableError', message: expect.stringContaining(path.join(notADir, 'queue')) });
  });
});
