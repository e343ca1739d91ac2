// The spool's write path and state files on real files in a temp dir.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';
import { Spool, type NewEnvelope } from '../../server/queue/spool.ts';
import { fsyncDir } from '../../server/queue/atomic-file.ts';
import { isQueueId } from '../../server/queue/queue-id.ts';
import type { QueueEntry } from '../../server/queue/types.ts';

function envelope(over: Partial<NewEnvelope> = {}): NewEnvelope {
  return {
    sender: 'alice@example.com',
    recipients: ['bob@example.net', 'carol@example.org'],
    client: { ip: '192.0.2.10', hostname: 'client.example.com', helo: 'client.example.com', authUser: null, tls: true },
    bodyType: '8bitmime',
    smtpUtf8: false,
    origin: 'smtp',
    ...over,
  };
}

async function store(spool: Spool, body: Buffer | Buffer[], over: Partial<NewEnvelope> = {}): Promise<QueueEntry> {
  const w = spool.createWriter(envelope(over));
  await pipeline(Readable.from(Array.isArray(body) ? body : [body]), w);
  return w.commit();
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let tmp: TempDir;
beforeEach(() => {
  tmp = makeTempDir('relaydesk-spool-');
});
afterEach(() => tmp.remove());

describe('Spool write path', () => {
  it('stores one file per message: the envelope line, then the bytes exactly as received', async () => {
    // The file format; new small messages go to the intake log first (queue-intake-log.test.ts).
    const spool = await Spool.open(tmp.path, { intakeLog: false });
    // CRLF, a lone LF, 8-bit bytes and a leading dot must all survive unchanged.
    const body = Buffer.concat([Buffer.from('Received: from client (client [192.0.2.10])\r\n\tby relay; now\r\nSubject: hi\r\n\r\n.dot\nlf only\r\n'), Buffer.from([0xe4, 0xf6, 0x00, 0xff])]);
    const w = spool.createWriter(envelope());
    expect(isQueueId(w.id)).toBe(true); // known before the body, for the Received header
    await pipeline(Readable.from([body]), w);
    const entry = await w.commit();

    expect(entry.envelope.id).toBe(w.id);
    expect(entry.size).toBe(body.length);
    expect(entry.recipients.map((r) => [r.address, r.status, r.attempts])).toEqual([
      ['bob@example.net', 'queued', 0],
      ['carol@example.org', 'queued', 0],
    ]);
    expect(readdirSync(spool.msgDir)).toEqual([w.id]);
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    expect(readdirSync(spool.stateDir)).toEqual([]); // the common path is one file

    const raw = readFileSync(path.join(spool.msgDir, w.id));
    const nl = raw.indexOf(10);
    expect(JSON.parse(raw.subarray(0, nl).toString())).toEqual(entry.envelope);
    expect(raw.subarray(nl + 1).equals(body)).toBe(true);
    expect((await readAll(spool.openBody(w.id))).equals(body)).toBe(true);
    expect((await readAll(spool.openBody(w.id, { maxBytes: 9 }))).toString()).toBe('Received:');
    expect(spool.get(w.id)).toBe(entry);
    expect([...spool.entries()]).toEqual([entry]);
    expect(spool.size).toBe(1);
  });

  it('streams large bodies in slices and keeps them intact', async () => {
    const spool = await Spool.open(tmp.path);
    const chunks = Array.from({ length: 40 }, () => randomBytes(64 * 1024 + 7));
    const entry = await store(spool, chunks);
    expect(entry.size).toBe(40 * (64 * 1024 + 7));
    expect((await readAll(spool.openBody(entry.envelope.id))).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('keeps envelope fields with newlines and non-ASCII on one line', async () => {
    const spool = await Spool.open(tmp.path, { intakeLog: false });
    const entry = await store(spool, Buffer.from('x'), { sender: 'jörg@bücher.example', client: { ip: '::1', hostname: null, helo: 'evil\r\nhelo', authUser: 'jörg', tls: false } });
    const raw = readFileSync(path.join(spool.msgDir, entry.envelope.id));
    expect(raw.subarray(raw.indexOf(10) + 1).toString()).toBe('x');
    const reopened = await Spool.open(tmp.path);
    expect(reopened.get(entry.envelope.id)?.envelope).toEqual(entry.envelope);
  });

  it('acknowledges N concurrent commits with fewer than N directory fsyncs, each after an fsync that began after its rename', async () => {
    const N = 40;
    // Every fsync notes which message files existed when it began: only those does it make durable.
    const syncs: Array<{ covered: Set<string>; done: boolean }> = [];
    const msgDir = path.join(tmp.path, 'queue', 'msg');
    const spool = await Spool.open(tmp.path, {
      fsyncDir: async (dir) => {
        const s = { covered: new Set(dir === msgDir ? readdirSync(dir) : []), done: false };
        syncs.push(s);
        // Hold the first fsync until every writer has renamed, so the test does not depend on timing.
        if (syncs.length === 1) await waitFor('all renames', () => readdirSync(msgDir).length === N);
        await fsyncDir(dir);
        s.done = true;
      },
    });
    const before = spool.messageDirSyncs;
    const bodies = Array.from({ length: N }, (_, i) => Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`));
    const acknowledged = await Promise.all(
      bodies.map(async (b) => {
        const entry = await store(spool, b);
        // At the moment of the 250: a completed fsync must have seen this file in the directory.
        expect(syncs.some((s) => s.done && s.covered.has(entry.envelope.id))).toBe(true);
        return entry.envelope.id;
      }),
    );
    expect(new Set(acknowledged).size).toBe(N);
    expect(spool.messageDirSyncs - before).toBeLessThan(N);
    expect(spool.messageDirSyncs - before).toBe(2);
  });

  it('the file thread path (no seams) also shares directory fsyncs among concurrent commits', async () => {
    const spool = await Spool.open(tmp.path, { intakeLog: false });
    const before = spool.messageDirSyncs;
    const N = 40;
    const entries = await Promise.all(Array.from({ length: N }, (_, i) => store(spool, Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`))));
    expect(readdirSync(spool.msgDir)).toHaveLength(N);
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    expect(new Set(entries.map((e) => e.envelope.id)).size).toBe(N);
    expect(spool.messageDirSyncs - before).toBeGreaterThan(0);
    expect(spool.messageDirSyncs - before).toBeLessThan(N);
    await spool.close();
  });

  it('abort removes the temp file and swallows the rest of the body', async () => {
    const spool = await Spool.open(tmp.path);
    const w = spool.createWriter(envelope());
    // Past the in-memory size (128 KiB) the temp file is created while the body streams in.
    w.write(Buffer.concat([Buffer.from('Subject: half a message\r\n\r\n'), Buffer.alloc(200 * 1024, 'x')]));
    await waitFor('temp file', () => existsSync(path.join(spool.tmpDir, w.id)));
    await w.abort();
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    // The SMTP layer may still be draining DATA into it: no error, no file.
    await pipeline(Readable.from([Buffer.alloc(300 * 1024)]), w);
    await expect(w.commit()).rejects.toMatchObject({ name: 'SpoolUnavailableError' });
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    expect(readdirSync(spool.msgDir)).toEqual([]);
    expect(spool.size).toBe(0);
    await w.abort(); // idempotent
  });

  it('refuses ids that are not queue ids or already in use', async () => {
    const spool = await Spool.open(tmp.path);
    expect(() => spool.createWriter(envelope({ id: '../../escape' }))).toThrow(/not a queue id/);
    const entry = await store(spool, Buffer.from('x'));
    expect(() => spool.createWriter(envelope({ id: entry.envelope.id }))).toThrow(/already in use/);
    expect(() => spool.createWriter(envelope({ recipients: [] }))).toThrow(/recipient/);
  });
});

describe('Spool body kept in memory for the first delivery', () => {
  it('holds a small message from commit until forgetBody, with the same bytes as the file', async () => {
    const spool = await Spool.open(tmp.path, { intakeLog: false });
    const body = Buffer.from('Subject: in memory\r\n\r\nhello\r\n');
    const { envelope: env } = await store(spool, [body.subarray(0, 7), body.subarray(7)]);
    expect(spool.bodyBuffer(env.id)?.equals(body)).toBe(true);
    expect((await readAll(spool.openBody(env.id, { maxBytes: 8 }))).toString()).toBe('Subject:');
    spool.forgetBody(env.id);
    expect(spool.bodyBuffer(env.id)).toBeNull();
    // Holding a message lets go of its bytes too.
    const other = await store(spool, body);
    expect(spool.bodyBuffer(other.envelope.id)).not.toBeNull();
    await spool.updateState(other.envelope.id, { held: true });
    expect(spool.bodyBuffer(other.envelope.id)).toBeNull();
    // Now read back from the file: the same bytes.
    expect((await readAll(spool.openBody(env.id))).equals(body)).toBe(true);
    await spool.close();
  });

  it('keeps no copy of a message that went to disk in slices, nor past the memory budget', async () => {
    const spool = await Spool.open(tmp.path, { bodyCacheBytes: 100 });
    const big = await store(spool, Buffer.alloc(300 * 1024, 'b'));
    expect(spool.bodyBuffer(big.envelope.id)).toBeNull();
    const first = await store(spool, Buffer.alloc(60, 'f'));
    const second = await store(spool, Buffer.alloc(60, 's')); // 60 + 60 > 100
    expect(spool.bodyBuffer(first.envelope.id)?.length).toBe(60);
    expect(spool.bodyBuffer(second.envelope.id)).toBeNull();
    // Removing a message gives its share of the budget back.
    await spool.remove(first.envelope.id);
    const third = await store(spool, Buffer.alloc(60, 't'));
    expect(spool.bodyBuffer(third.envelope.id)?.length).toBe(60);
    await spool.close();
  });
});

describe('Spool state files', () => {
  it('round-trips per-recipient state, held, schedule and warning flag across a reopen', async () => {
    const spool = await Spool.open(tmp.path);
    const entry = await store(spool, Buffer.from('Subject: s\r\n\r\nx\r\n'));
    const id = entry.envelope.id;
    const recipients = entry.recipients.map((r, i) => ({ ...r, status: i === 0 ? ('delivered' as const) : ('deferred' as const), attempts: 1, lastAttemptAt: 1234, lastReply: i === 0 ? '250 2.0.0 ok' : '451 4.7.1 later', nextHop: 'mx.example.net[198.51.100.7]:25' }));
    await spool.updateState(id, { recipients, held: true, nextAttemptAt: 99_999, attempts: 1, delayWarned: true });
    expect(readdirSync(spool.stateDir)).toEqual([`${id}.json`]);

    const reopened = await Spool.open(tmp.path);
    const back = reopened.get(id)!;
    expect(back.recipients).toEqual(recipients);
    expect([back.held, back.nextAttemptAt, back.attempts, back.delayWarned, back.size]).toEqual([true, 99_999, 1, true, entry.size]);

    expect(await reopened.remove(id)).toBe(true);
    expect(readdirSync(reopened.msgDir)).toEqual([]);
    expect(readdirSync(reopened.stateDir)).toEqual([]);
    expect(reopened.get(id)).toBeUndefined();
    expect(await reopened.remove(id)).toBe(false);
    expect(await reopened.updateState(id, { held: false })).toBe(false);
    expect(() => reopened.openBody(id)).toThrow(/no queued message/);
  });

  it('persist: false changes memory only', async () => {
    const spool = await Spool.open(tmp.path);
    const { envelope: env } = await store(spool, Buffer.from('x'));
    await spool.updateState(env.id, { nextAttemptAt: 42 }, { persist: false });
    expect(spool.get(env.id)!.nextAttemptAt).toBe(42);
    expect(readdirSync(spool.stateDir)).toEqual([]);
  });

  it('overlapping updates of one message end with the newest state on disk', async () => {
    const spool = await Spool.open(tmp.path);
    const { envelope: env } = await store(spool, Buffer.from('x'));
    await Promise.all(Array.from({ length: 25 }, (_, i) => spool.updateState(env.id, { attempts: i + 1, nextAttemptAt: 1000 + i })));
    const onDisk = JSON.parse(readFileSync(path.join(spool.stateDir, `${env.id}.json`), 'utf8'));
    expect([onDisk.attempts, onDisk.nextAttemptAt]).toEqual([25, 1024]);
    expect(readdirSync(spool.stateDir)).toEqual([`${env.id}.json`]); // no temp files left
  });

  it('a removal racing a state write leaves no state file behind', async () => {
    const spool = await Spool.open(tmp.path);
    const { envelope: env } = await store(spool, Buffer.from('x'));
    const write = spool.updateState(env.id, { held: true });
    const removal = spool.remove(env.id);
    await Promise.all([write, removal]);
    expect(readdirSync(spool.stateDir)).toEqual([]);
    expect(readdirSync(spool.msgDir)).toEqual([]);
  });
});
