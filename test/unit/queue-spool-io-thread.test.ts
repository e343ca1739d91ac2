// The spool's file thread on real files: a store is all or nothing, errors come back typed with
// their errno code, and a thread that dies fails what it had in flight and is started again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { SpoolIoThread } from '../../server/queue/spool-io-thread.ts';

let tmp: TempDir;
let io: SpoolIoThread;
beforeEach(() => {
  tmp = makeTempDir('relaydesk-spool-io-');
  mkdirSync(path.join(tmp.path, 'tmp'));
  mkdirSync(path.join(tmp.path, 'msg'));
  io = new SpoolIoThread();
});
afterEach(async () => {
  await io.close();
  tmp.remove();
});

const tmpFile = (name: string) => path.join(tmp.path, 'tmp', name);
const msgFile = (name: string) => path.join(tmp.path, 'msg', name);

describe('spool file thread', () => {
  it('stores a message as one file with exactly the given bytes, mode 0600, and no temp file left', async () => {
    const parts = [Buffer.from('{"id":"a"}\n'), Buffer.from('Subject: one\r\n\r\n'), Buffer.alloc(70_000, 'y')];
    await io.store(tmpFile('a'), msgFile('a'), parts);
    expect(readFileSync(msgFile('a')).equals(Buffer.concat(parts))).toBe(true);
    expect(statSync(msgFile('a')).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.join(tmp.path, 'tmp'))).toEqual([]);
  });

  it('many stores at once all land with fewer directory fsyncs than stores; syncDir and unlink work on them', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await Promise.all(names.map((n) => io.store(tmpFile(n), msgFile(n), [Buffer.from(n)])));
    expect(io.dirSyncs).toBeGreaterThan(0);
    expect(io.dirSyncs).toBeLessThan(names.length);
    await io.syncDir(path.join(tmp.path, 'msg'));
    expect(readdirSync(path.join(tmp.path, 'msg')).sort()).toEqual([...names].sort());
    await Promise.all(names.map((n) => io.unlink(msgFile(n))));
    await io.unlink(msgFile('m0')); // already gone: not an error
    expect(readdirSync(path.join(tmp.path, 'msg'))).toEqual([]);
  });

  it('appends to a log file in the order sent, and a removal comes after every append sent before it', async () => {
    const logDir = path.join(tmp.path, 'log');
    mkdirSync(logDir);
    const file = path.join(logDir, '0000000001.log');
    const own = (text: string) => {
      const b = Buffer.allocUnsafeSlow(text.length);
      b.write(text);
      return b;
    };
    await Promise.all([io.logAppend(file, logDir, own('one,'), true), io.logAppend(file, logDir, own('two,'), false), io.logAppend(file, logDir, own('three'), true)]);
    expect(readFileSync(file, 'utf8')).toBe('one,two,three');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Sent back to back while the thread is busy with a big durable append, so that both wait and are
    // taken in the same turn: were the removal done first, the append would create the file again.
    const other = path.join(logDir, '0000000002.log');
    const big = io.logAppend(path.join(logDir, '0000000003.log'), logDir, Buffer.allocUnsafeSlow(16 * 1024 * 1024).fill(7), true);
    await Promise.all([big, io.logAppend(other, logDir, own('late'), false), io.logRemove(other)]);
    await io.logRemove(path.join(logDir, '0000000003.log'));
    expect(existsSync(other)).toBe(false);
    await io.logRemove(file);
    expect(readdirSync(logDir)).toEqual([]);
  });

  it('a log append that fails is reported with its errno code, and that file takes no more appends', async () => {
    const missingDir = path.join(tmp.path, 'no-such-dir');
    const own = () => Buffer.allocUnsafeSlow(4).fill(1);
    await expect(io.logAppend(path.join(missingDir, 'x.log'), missingDir, own(), true)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a temp file that already exists is refused (exclusive create) and left alone', async () => {
    writeFileSync(tmpFile('dup'), 'someone else');
    await expect(io.store(tmpFile('dup'), msgFile('dup'), [Buffer.from('x')])).rejects.toMatchObject({ code: 'EEXIST' });
    expect(existsSync(msgFile('dup'))).toBe(false);
    expect(readFileSync(tmpFile('dup'), 'utf8')).toBe('someone else');
  });

  it('a rename that fails removes the temp file and reports the errno code', async () => {
    const nowhere = path.join(tmp.path, 'missing-dir', 'b');
    await expect(io.store(tmpFile('b'), nowhere, [Buffer.from('x')])).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(path.join(tmp.path, 'tmp'))).toEqual([]);
  });

  it('an fsync of a directory that does not exist is refused with ENOENT', async () => {
    await expect(io.syncDir(path.join(tmp.path, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('close() lets work in flight finish, then refuses new work without starting a thread', async () => {
    const inFlight = Array.from({ length: 50 }, (_, i) => io.store(tmpFile(`c${i}`), msgFile(`c${i}`), [Buffer.alloc(1024)]));
    await io.close();
    await Promise.all(inFlight); // none was cut off: all stored
    expect(readdirSync(path.join(tmp.path, 'msg'))).toHaveLength(50);
    await expect(io.store(tmpFile('late'), msgFile('late'), [Buffer.from('x')])).rejects.toMatchObject({ code: 'ECANCELED' });
    await expect(io.unlink(msgFile('c0'))).rejects.toMatchObject({ code: 'ECANCELED' });
    expect(existsSync(tmpFile('late'))).toBe(false);
    expect(existsSync(msgFile('c0'))).toBe(true);
  });

  it('a thread that dies fails what it had and the next call starts a new one', async () => {
    await io.store(tmpFile('e'), msgFile('e'), [Buffer.from('before')]);
    // The crash: the thread ends under the spool's feet (a test-only reach into the private field).
    await (io as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await io.store(tmpFile('f'), msgFile('f'), [Buffer.from('after')]);
    expect(readFileSync(msgFile('f'), 'utf8')).toBe('after');
  });
});
