// Crash recovery: the files are left exactly as a process killed at that instant would leave them,
// then the spool is opened again as the restarted relay would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';
import { Spool } from '../../server/queue/spool.ts';
import { newQueueId } from '../../server/queue/queue-id.ts';
import type { Envelope } from '../../server/queue/types.ts';

let tmp: TempDir;
let dirs: { tmp: string; msg: string; state: string; corrupt: string };
beforeEach(() => {
  tmp = makeTempDir('relaydesk-recovery-');
  const q = path.join(tmp.path, 'queue');
  dirs = { tmp: path.join(q, 'tmp'), msg: path.join(q, 'msg'), state: path.join(q, 'state'), corrupt: path.join(q, 'corrupt') };
  for (const d of [dirs.tmp, dirs.msg, dirs.state]) mkdirSync(d, { recursive: true });
});
afterEach(() => tmp.remove());

function env(id: string, recipients = ['bob@example.net', 'carol@example.org']): Envelope {
  return {
    id,
    receivedAt: 1_700_000_000_000,
    sender: 'alice@example.com',
    recipients,
    client: { ip: '192.0.2.10', hostname: null, helo: 'client', authUser: null, tls: false },
    bodyType: '7bit',
    smtpUtf8: false,
    origin: 'smtp',
  };
}

/** A committed message file, as the write path leaves it after the rename. */
function committed(e: Envelope, body = 'Subject: t\r\n\r\nbody\r\n'): void {
  writeFileSync(path.join(dirs.msg, e.id), JSON.stringify(e) + '\n' + body);
}

function events(): { log: { event: (name: string, fields: Record<string, unknown>) => void }; seen: Array<[string, Record<string, unknown>]> } {
  const seen: Array<[string, Record<string, unknown>]> = [];
  return { seen, log: { event: (name, fields) => seen.push([name, fields]) } };
}

describe('Spool recovery', () => {
  it('discards a message killed before its rename: it was never acknowledged', async () => {
    const id = newQueueId();
    // Killed mid-DATA: envelope line and half a body in tmp/.
    writeFileSync(path.join(dirs.tmp, id), JSON.stringify(env(id)) + '\nSubject: half');
    const spool = await Spool.open(tmp.path);
    expect(spool.size).toBe(0);
    expect(readdirSync(dirs.tmp)).toEqual([]);
  });

  it('recovers a message killed after its rename (before or after the 250) with every recipient queued', async () => {
    const e = env(newQueueId());
    const body = 'Received: by relay\r\nSubject: t\r\n\r\nbody\r\n';
    committed(e, body);
    const spool = await Spool.open(tmp.path);
    const entry = spool.get(e.id)!;
    expect(entry.envelope).toEqual(e);
    expect(entry.size).toBe(Buffer.byteLength(body));
    expect(entry.recipients.map((r) => r.status)).toEqual(['queued', 'queued']);
    expect([entry.held, entry.attempts, entry.nextAttemptAt]).toEqual([false, 0, 0]);
    const chunks: Buffer[] = [];
    for await (const c of spool.openBody(e.id)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(body);
  });

  it('a missing, torn or mismatched state file means: all recipients queued again (duplicates over loss)', async () => {
    const [a, b, c] = [env(newQueueId()), env(newQueueId()), env(newQueueId())];
    for (const e of [a, b, c]) committed(e);
    writeFileSync(path.join(dirs.state, `${b.id}.json`), '{"v":1,"recipients":[{"addr'); // torn
    writeFileSync(
      path.join(dirs.state, `${c.id}.json`),
      JSON.stringify({ v: 1, held: false, nextAttemptAt: 5, attempts: 1, delayWarned: false, recipients: [{ address: 'someone@else', status: 'delivered', attempts: 1 }] }),
    );
    const { log, seen } = events();
    const spool = await Spool.open(tmp.path, { log });
    for (const e of [a, b, c]) expect(spool.get(e.id)!.recipients.map((r) => r.status)).toEqual(['queued', 'queued']);
    expect(seen.filter(([, f]) => typeof f.msg === 'string' && f.msg.includes('state file unreadable'))).toHaveLength(2);
  });

  it('restores recipients that were already delivered so they are not sent twice', async () => {
    const e = env(newQueueId());
    committed(e);
    const recipients = [
      { address: 'bob@example.net', status: 'delivered', attempts: 1, lastAttemptAt: 10, lastReply: '250 ok', nextHop: 'mx[192.0.2.1]:25' },
      { address: 'carol@example.org', status: 'deferred', attempts: 1, lastAttemptAt: 10, lastReply: '451 later', nextHop: 'mx2[192.0.2.2]:25' },
    ];
    writeFileSync(path.join(dirs.state, `${e.id}.json`), JSON.stringify({ v: 1, held: false, nextAttemptAt: 300_010, attempts: 1, delayWarned: false, recipients }));
    const spool = await Spool.open(tmp.path);
    expect(spool.get(e.id)!.recipients).toEqual(recipients);
    expect(spool.get(e.id)!.nextAttemptAt).toBe(300_010);
  });

  it('cleans up state files of removed messages and interrupted state writes', async () => {
    const e = env(newQueueId());
    committed(e);
    const gone = newQueueId();
    writeFileSync(path.join(dirs.state, `${gone}.json`), '{}'); // crash between the two unlinks of remove()
    writeFileSync(path.join(dirs.state, `${e.id}.json.tmp`), '{"v":1'); // crash inside a state write
    const spool = await Spool.open(tmp.path);
    expect(spool.size).toBe(1);
    expect(readdirSync(dirs.state)).toEqual([]);
  });

  it('moves unreadable message files aside instead of deleting them, and leaves foreign files alone', async () => {
    const good = env(newQueueId());
    committed(good);
    const noLine = newQueueId();
    const notJson = newQueueId();
    const wrongId = newQueueId();
    writeFileSync(path.join(dirs.msg, noLine), 'no envelope line at all');
    writeFileSync(path.join(dirs.msg, notJson), '{oops\nbody');
    writeFileSync(path.join(dirs.msg, wrongId), JSON.stringify(env(newQueueId())) + '\nbody');
    writeFileSync(path.join(dirs.msg, 'README'), 'not ours');
    const { log, seen } = events();
    const spool = await Spool.open(tmp.path, { log });
    expect([...spool.entries()].map((x) => x.envelope.id)).toEqual([good.id]);
    expect(readdirSync(dirs.corrupt).sort()).toEqual([noLine, notJson, wrongId].sort());
    expect(readFileSync(path.join(dirs.corrupt, noLine), 'utf8')).toBe('no envelope line at all');
    expect(existsSync(path.join(dirs.msg, 'README'))).toBe(true);
    expect(seen.filter(([name]) => name === 'error').length).toBeGreaterThanOrEqual(3);
  });

  it('reads envelope lines longer than its first read', async () => {
    const many = Array.from({ length: 400 }, (_, i) => `recipient-number-${i}@a-rather-long-domain-name.example`);
    const e = env(newQueueId(), many);
    committed(e, 'Subject: big envelope\r\n\r\n');
    expect(JSON.stringify(e).length).toBeGreaterThan(16_384);
    const spool = await Spool.open(tmp.path);
    expect(spool.get(e.id)!.recipients).toHaveLength(400);
    expect(spool.get(e.id)!.size).toBe('Subject: big envelope\r\n\r\n'.length);
  });

  it('lists recovered messages oldest first, and survives repeated crash/restart cycles without loss', async () => {
    const ids = [5, 1, 3].map((t) => newQueueId(1_700_000_000_000 + t));
    for (const id of ids) committed(env(id));
    let spool = await Spool.open(tmp.path);
    expect([...spool.entries()].map((e) => e.envelope.id)).toEqual([...ids].sort());

    // A message in the middle of being written when the next "crash" happens.
    const w = spool.createWriter({ ...env(newQueueId()), id: undefined, receivedAt: undefined });
    // Big enough (over 128 KiB) that its temp file exists while the body streams in.
    w.write(Buffer.concat([Buffer.from('Subject: never acknowledged\r\n\r\n'), Buffer.alloc(200 * 1024, 'x')]));
    await waitFor('temp file of the unfinished message', () => existsSync(path.join(dirs.tmp, w.id)));
    const acked = spool.createWriter({ ...env(newQueueId()), id: undefined });
    await pipeline(Readable.from(['Subject: acknowledged\r\n\r\n']), acked);
    await acked.commit();

    spool = await Spool.open(tmp.path); // the restarted process
    expect(spool.size).toBe(4);
    expect(spool.has(acked.id)).toBe(true);
    expect(spool.has(w.id)).toBe(false);
    expect(readdirSync(dirs.tmp)).toEqual([]);
    await w.abort();
  });
});
