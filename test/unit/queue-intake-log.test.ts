// The intake log on real files: small messages are made durable in a segment file before their 250,
// leave it with a done record, move to their own file when they stay, and come back after a stop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';
import { Spool, type NewEnvelope } from '../../server/queue/spool.ts';
import { RECORD_DONE, RECORD_MESSAGE, crc32, encodeRecord, parseSegment, tableCrc32 } from '../../server/queue/intake-log-format.ts';
import type { QueueEntry } from '../../server/queue/types.ts';

const envelope: NewEnvelope = {
  sender: 'alice@example.com',
  recipients: ['bob@example.net'],
  client: { ip: '192.0.2.10', hostname: null, helo: 'client.example.com', authUser: null, tls: false },
  bodyType: '8bitmime',
  smtpUtf8: false,
  origin: 'smtp',
};

async function store(spool: Spool, body: Buffer): Promise<QueueEntry> {
  const w = spool.createWriter(envelope);
  await pipeline(Readable.from([body]), w);
  return w.commit();
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const bodyOf = (i: number): Buffer => Buffer.from(`Subject: message ${i}\r\n\r\n.leading dot\r\n\u00e4 ${'x'.repeat(i)}\r\n`, 'latin1');

let tmp: TempDir;
beforeEach(() => {
  tmp = makeTempDir('relaydesk-intake-log-');
});
afterEach(() => tmp.remove());

describe('intake log records', () => {
  it('computes the standard CRC-32 (IEEE), in JavaScript as zlib does, also in parts', () => {
    for (const f of [crc32, tableCrc32]) {
      expect(f(Buffer.from('123456789'))).toBe(0xcbf43926);
      expect(f(Buffer.alloc(0))).toBe(0);
      const data = Buffer.from('0123456789abcdef'.repeat(50));
      expect(f(data, 7, 500, f(data, 3, 7))).toBe(f(data.subarray(3, 500)));
    }
  });

  it('round-trips message and done records, and stops at the first cut-short or altered record', () => {
    const a = encodeRecord(RECORD_MESSAGE, '0192f3a1c2d4-5f1a9c07e2', [Buffer.from('{"id":1}\n'), Buffer.from('body')]);
    const b = encodeRecord(RECORD_DONE, '0192f3a1c2d4-5f1a9c07e2');
    const c = encodeRecord(RECORD_MESSAGE, '0192f3a1c2d5-0000000000', [Buffer.from('second')]);
    const whole = Buffer.concat([a, b, c]);
    const parsed = parseSegment(whole);
    expect(parsed.validBytes).toBe(whole.length);
    expect(parsed.records.map((r) => [r.kind, r.id, r.payload.toString()])).toEqual([
      [RECORD_MESSAGE, '0192f3a1c2d4-5f1a9c07e2', '{"id":1}\nbody'],
      [RECORD_DONE, '0192f3a1c2d4-5f1a9c07e2', ''],
      [RECORD_MESSAGE, '0192f3a1c2d5-0000000000', 'second'],
    ]);
    // A write cut short: the last record is not there.
    expect(parseSegment(whole.subarray(0, whole.length - 1)).records).toHaveLength(2);
    // One flipped bit in the first payload: nothing from there on counts.
    const flipped = Buffer.from(whole);
    flipped[a.length - 2]! ^= 0x04;
    expect(parseSegment(flipped)).toEqual({ records: [], validBytes: 0 });
    // Zeros after the records (a file extended but never written): ignored.
    expect(parseSegment(Buffer.concat([a, Buffer.alloc(64)])).validBytes).toBe(a.length);
  });
});

describe('Spool with the intake log', () => {
  it('acknowledges a small message with no file of its own, keeps its bytes, and lets it go with a done record', async () => {
    const spool = await Spool.open(tmp.path);
    const body = bodyOf(1);
    const entry = await store(spool, body);
    const id = entry.envelope.id;
    expect(readdirSync(spool.msgDir)).toEqual([]);
    expect(spool.loggedCount).toBe(1);
    expect(spool.bodyBuffer(id)?.equals(body)).toBe(true);
    expect((await readAll(spool.openBody(id))).equals(body)).toBe(true);
    // The segment holds exactly what the message file would: envelope line, then the bytes.
    const [segment] = readdirSync(spool.logDir);
    const records = parseSegment(readFileSync(path.join(spool.logDir, segment!))).records;
    expect(records.map((r) => [r.kind, r.id])).toEqual([[RECORD_MESSAGE, id]]);
    const payload = records[0]!.payload;
    expect(JSON.parse(payload.subarray(0, payload.indexOf(10)).toString())).toEqual(entry.envelope);
    expect(payload.subarray(payload.indexOf(10) + 1).equals(body)).toBe(true);

    // Delivered: forgetBody comes first (as after every attempt), then the removal.
    spool.forgetBody(id);
    expect(spool.bodyBuffer(id)?.equals(body)).toBe(true); // still only in the log: kept
    await spool.remove(id);
    expect(spool.loggedCount).toBe(0);
    await spool.close();
    expect(parseSegment(readFileSync(path.join(spool.logDir, segment!))).records.map((r) => r.kind)).toEqual([RECORD_MESSAGE, RECORD_DONE]);

    // Not resurrected after a restart, and the log starts empty.
    const reopened = await Spool.open(tmp.path);
    expect(reopened.size).toBe(0);
    expect(readdirSync(reopened.logDir)).toEqual([]);
    await reopened.close();
  });

  it('after a stop at any point, every acknowledged message that was not done comes back as a file with its exact bytes', async () => {
    const spool = await Spool.open(tmp.path);
    const entries = await Promise.all(Array.from({ length: 30 }, (_, i) => store(spool, bodyOf(i))));
    const done = new Set(entries.filter((_, i) => i % 3 === 0).map((e) => e.envelope.id));
    for (const id of done) await spool.remove(id);
    // No clean shutdown step writes anything more: closing leaves the log as a crash would.
    await spool.close();

    const reopened = await Spool.open(tmp.path);
    const expected = entries.filter((e) => !done.has(e.envelope.id));
    expect([...reopened.entries()].map((e) => e.envelope.id).sort()).toEqual(expected.map((e) => e.envelope.id).sort());
    for (const e of expected) {
      const i = entries.indexOf(e);
      expect(reopened.get(e.envelope.id)?.envelope).toEqual(e.envelope);
      expect((await readAll(reopened.openBody(e.envelope.id))).equals(bodyOf(i))).toBe(true);
    }
    expect(readdirSync(reopened.msgDir)).toHaveLength(expected.length);
    expect(readdirSync(reopened.logDir)).toEqual([]);
    expect(readdirSync(reopened.tmpDir)).toEqual([]);
    await reopened.close();
  });

  it('a message that stays (state saved, or held) moves to its own file first, then lets go of its bytes', async () => {
    const spool = await Spool.open(tmp.path);
    const body = bodyOf(2);
    const { envelope: env } = await store(spool, body);
    spool.forgetBody(env.id); // after a first attempt that did not deliver everything
    await spool.updateState(env.id, { attempts: 1, nextAttemptAt: Date.now() + 60_000 });
    expect(readdirSync(spool.msgDir)).toEqual([env.id]);
    const raw = readFileSync(path.join(spool.msgDir, env.id));
    expect(raw.subarray(raw.indexOf(10) + 1).equals(body)).toBe(true);
    expect(spool.loggedCount).toBe(0);
    expect(spool.bodyBuffer(env.id)).toBeNull();
    expect((await readAll(spool.openBody(env.id))).equals(body)).toBe(true);

    const held = await store(spool, bodyOf(3));
    await spool.updateState(held.envelope.id, { held: true });
    expect(readdirSync(spool.msgDir).sort()).toEqual([env.id, held.envelope.id].sort());
    expect(spool.bodyBuffer(held.envelope.id)).toBeNull();
    await spool.close();

    // Moved messages come back once: from their files, not also from the log.
    const reopened = await Spool.open(tmp.path);
    expect(reopened.size).toBe(2);
    expect(reopened.get(env.id)?.attempts).toBe(1);
    expect(reopened.get(held.envelope.id)?.held).toBe(true);
    await reopened.close();
  });

  it('moves a message to its file even over a temp file an earlier, interrupted move left behind', async () => {
    const spool = await Spool.open(tmp.path);
    const body = bodyOf(10);
    const { envelope: env } = await store(spool, body);
    writeFileSync(path.join(spool.tmpDir, env.id), 'half a move');
    await spool.updateState(env.id, { held: true });
    const raw = readFileSync(path.join(spool.msgDir, env.id));
    expect(raw.subarray(raw.indexOf(10) + 1).equals(body)).toBe(true);
    expect(readdirSync(spool.tmpDir)).toEqual([]);
    await spool.close();
  });

  it('deletes segments once nothing in them is live, and moves messages that linger in old segments to files', async () => {
    const spool = await Spool.open(tmp.path, { intakeLogSegmentBytes: 1024 });
    const first = await store(spool, bodyOf(500)); // stays: its segment must not pile up others behind it
    const later: QueueEntry[] = [];
    for (let i = 0; i < 12; i++) later.push(await store(spool, bodyOf(500)));
    for (const e of later) await spool.remove(e.envelope.id);
    // The lingering message was given its own file, so the old segments could go.
    await waitFor('the lingering message to move to its own file', () => existsSync(path.join(spool.msgDir, first.envelope.id)));
    await waitFor('old segments to be deleted', () => readdirSync(spool.logDir).length <= 2);
    expect(spool.loggedCount).toBe(0);
    expect(spool.bodyBuffer(first.envelope.id)?.length).toBe(bodyOf(500).length); // no attempt yet: still in memory
    await spool.close();
    const reopened = await Spool.open(tmp.path);
    expect([...reopened.entries()].map((e) => e.envelope.id)).toEqual([first.envelope.id]);
    await reopened.close();
  });

  it('records own their memory, so they can be moved to the file thread on every Node version', () => {
    // Node >= 21 refuses to transfer a slice of its shared Buffer pool (DataCloneError).
    for (const rec of [encodeRecord(RECORD_DONE, '0192f3a1c2d4-5f1a9c07e2'), encodeRecord(RECORD_MESSAGE, '0192f3a1c2d4-5f1a9c07e2', [Buffer.from('x')])]) {
      expect(rec.byteOffset).toBe(0);
      expect(rec.buffer.byteLength).toBe(rec.length);
    }
  });

  it('keeps an id taken while its message is being removed during its move to a file', async () => {
    const spool = await Spool.open(tmp.path);
    const { envelope: env } = await store(spool, bodyOf(8));
    const moving = spool.updateState(env.id, { attempts: 1 }); // starts the move to queue/msg
    const removing = spool.remove(env.id);
    // A new message with the same id would be told "done" by the end of the old one's move.
    expect(() => spool.createWriter({ ...envelope, id: env.id })).toThrow(/already in use/);
    await Promise.allSettled([moving, removing]);
    const again = spool.createWriter({ ...envelope, id: env.id });
    await pipeline(Readable.from([bodyOf(9)]), again);
    await again.commit();
    expect(spool.loggedCount).toBe(1);
    await spool.close();
    const reopened = await Spool.open(tmp.path);
    expect((await readAll(reopened.openBody(env.id))).equals(bodyOf(9))).toBe(true);
    await reopened.close();
  });

  it('moves messages that linger in old segments even when they arrived in one burst', async () => {
    const spool = await Spool.open(tmp.path, { intakeLogSegmentBytes: 4 * 1024 });
    // All at once: the segments fill while the commits are still running.
    const burst = await Promise.all(Array.from({ length: 80 }, (_, i) => store(spool, bodyOf(i % 50))));
    for (let i = 0; i < 30; i++) await spool.remove((await store(spool, bodyOf(1))).envelope.id);
    // 80 moves to files, each with its fsync: slow on a busy machine, hence the long wait.
    await waitFor('old segments to be emptied and deleted', () => readdirSync(spool.logDir).length <= 4, 25_000);
    expect(spool.size).toBe(80);
    expect(readdirSync(spool.msgDir).length + spool.loggedCount).toBe(80);
    await spool.close();
    const reopened = await Spool.open(tmp.path);
    expect(new Set([...reopened.entries()].map((e) => e.envelope.id))).toEqual(new Set(burst.map((e) => e.envelope.id)));
    await reopened.close();
  });

  it('keeps a segment that ends in a damaged record in queue/corrupt and recovers every intact message before it', async () => {
    const spool = await Spool.open(tmp.path);
    const a = await store(spool, bodyOf(4));
    const b = await store(spool, bodyOf(5));
    await spool.close();
    const [segment] = readdirSync(spool.logDir);
    const file = path.join(spool.logDir, segment!);
    // A crash in the middle of writing a third record.
    const third = encodeRecord(RECORD_MESSAGE, '0192f3a1c2d5-0000000000', [Buffer.from('{}\n'), Buffer.from('never acknowledged')]);
    appendFileSync(file, third.subarray(0, third.length - 5));

    const reopened = await Spool.open(tmp.path);
    expect([...reopened.entries()].map((e) => e.envelope.id).sort()).toEqual([a.envelope.id, b.envelope.id].sort());
    expect(readdirSync(reopened.logDir)).toEqual([]);
    const kept = readdirSync(reopened.corruptDir);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(new RegExp(`^intake-log-[0-9a-f]+-${segment}$`));

    // The same again: segment numbers start over, but what was kept is never overwritten.
    await store(reopened, bodyOf(6));
    await reopened.close();
    appendFileSync(path.join(reopened.logDir, segment!), third.subarray(0, 20));
    await waitFor('a new millisecond', () => Date.now().toString(16) !== kept[0]!.split('-')[2]);
    const third2 = await Spool.open(tmp.path);
    expect(readdirSync(third2.corruptDir)).toHaveLength(2);
    expect(third2.size).toBe(3);
    await third2.close();
  });

  it('a segment cut inside its first record recovers nothing from it and starts a fresh log', async () => {
    const spool = await Spool.open(tmp.path);
    await store(spool, bodyOf(6));
    await spool.close();
    const [segment] = readdirSync(spool.logDir);
    truncateSync(path.join(spool.logDir, segment!), 10);
    const reopened = await Spool.open(tmp.path);
    expect(reopened.size).toBe(0);
    const next = await store(reopened, bodyOf(7));
    expect(reopened.get(next.envelope.id)).toBeDefined();
    // New segments never reuse the name of one seen before.
    expect(readdirSync(reopened.logDir).every((n) => n > segment!)).toBe(true);
    await reopened.close();
  });
});
