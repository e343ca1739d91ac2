/**
 * The event log must never take the relay down: a rotation that meets an obstacle and a stdout that
 * went away (closed pipe or terminal) are reported, and logging goes on.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRelayLog } from '../../server/logging/relay-log.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

let tmp: TempDir;
let rejections: unknown[];
const onRejection = (reason: unknown): void => void rejections.push(reason);

beforeEach(() => {
  tmp = makeTempDir('relaydesk-log-');
  rejections = [];
  process.on('unhandledRejection', onRejection);
});
afterEach(() => {
  process.off('unhandledRejection', onRejection);
  tmp.remove();
});

/** One full turn of the event loop: timers, I/O callbacks, immediates, and the rejection check after them. */
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('relay log', () => {
  it('rotates past an obstacle in the log dir without an unhandled rejection, and keeps logging', async () => {
    // A directory where the oldest rotated file would be removed: fs.rm refuses it (EISDIR).
    mkdirSync(path.join(tmp.path, 'relay.log.3'));
    const log = openRelayLog({ dir: tmp.path, maxFileBytes: 2000, maxFiles: 2 });
    for (let i = 0; i < 40; i++) log.event('connect', { client: '192.0.2.1', n: i, pad: 'x'.repeat(100) });
    await log.flush();
    // The size is checked against the file (the writer buffers): more lines now see it past the limit.
    for (let i = 0; i < 40; i++) log.event('connect', { client: '192.0.2.1', n: `more${i}`, pad: 'x'.repeat(100) });
    await waitFor('the rotation', () => readdirSync(tmp.path).includes('relay.log.1'));
    log.event('connect', { client: '192.0.2.1', n: 'after' });
    await log.close();
    // The line after the rotation is in the reopened file, so the rotation has run to its end.
    expect(readFileSync(path.join(tmp.path, 'relay.log'), 'utf8')).toContain('"n":"after"');
    await nextTurn();
    expect(rejections).toEqual([]);
  });

  it('echoes to stdout in batches: a burst of lines is one write, in order', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const log = openRelayLog({ dir: tmp.path, echo: true, echoTo: out });
    for (let n = 0; n < 100; n++) log.event('connect', { n });
    await waitFor('the batch on stdout', () => chunks.length > 0);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([...Array(100).keys()]);
    await log.close();
  });

  it('stops echoing when stdout fails (EPIPE) instead of throwing, and the file keeps every line', async () => {
    let writes = 0;
    const brokenPipe = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const log = openRelayLog({ dir: tmp.path, echo: true, echoTo: brokenPipe });
    // The echo goes out in batches (flush() sends it now); the stream's error arrives right after it.
    log.event('connect', { n: 1 });
    await log.flush();
    await nextTurn();
    log.event('connect', { n: 2 });
    await log.flush();
    await log.close();
    expect(writes).toBe(1);
    const lines = readFileSync(path.join(tmp.path, 'relay.log'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([1, 2]);
  });
});
