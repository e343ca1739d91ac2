import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linesNewestFirst, matchesLogFilter, queryLogs } from '../../server/logging/log-query.ts';
import { logsQueryParams } from '../../server/protocol/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

let tmp: TempDir;
let dir: string;
beforeEach(() => {
  tmp = makeTempDir();
  dir = path.join(tmp.path, 'logs');
  mkdirSync(dir);
});
afterEach(() => tmp.remove());

const T0 = 1_700_000_000_000;
const line = (i: number, event: string, extra: object = {}): string => `${JSON.stringify({ level: 30, time: T0 + i * 1000, event, ...extra })}\n`;

/** relay.log.2 (oldest) … relay.log (newest); times ascend across them. */
function writeLogs(): void {
  writeFileSync(path.join(dir, 'relay.log.2'), [0, 1, 2].map((i) => line(i, 'connect', { client: { ip: '192.0.2.1' } })).join(''));
  writeFileSync(path.join(dir, 'relay.log.1'), [3, 4, 5].map((i) => line(i, 'reject', { ip: '198.51.100.9', reply: `554 5.7.1 Relay access denied #${i}` })).join(''));
  writeFileSync(path.join(dir, 'relay.log'), [6, 7, 8].map((i) => line(i, 'queued', { id: `id-${i}` })).join('') + '{"level":30,"time":');
  for (const [n, i] of [['relay.log.2', 2], ['relay.log.1', 5], ['relay.log', 8]] as const) {
    utimesSync(path.join(dir, n), (T0 + i * 1000) / 1000, (T0 + i * 1000) / 1000);
  }
}
const q = (params: object) => queryLogs(dir, logsQueryParams.parse({ since: 0, ...params }));

describe('log query', () => {
  it('reads the current file then the rotated ones, newest first, skipping a torn last line', async () => {
    writeLogs();
    const r = await q({});
    expect(r.items.map((l) => l.time - T0)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => i * 1000));
    expect(r.items[0]).toMatchObject({ level: 'info', event: 'queued', id: 'id-8' });
    expect(r.truncated).toBe(false);
  });

  it('stops at limit (saying so) and at since, honours until', async () => {
    writeLogs();
    expect(await q({ limit: 2 })).toMatchObject({ truncated: true, items: [{ id: 'id-8' }, { id: 'id-7' }] });
    expect((await q({ since: T0 + 4000 })).items.map((l) => (l.time - T0) / 1000)).toEqual([8, 7, 6, 5, 4]);
    expect((await q({ since: T0 + 4000, until: T0 + 7000 })).items.map((l) => (l.time - T0) / 1000)).toEqual([6, 5, 4]);
  });

  it('filters by event, text, id and client', async () => {
    writeLogs();
    expect((await q({ filter: { event: 'reject' } })).items).toHaveLength(3);
    expect((await q({ filter: { event: ['reject', 'queued'] } })).items).toHaveLength(6);
    expect((await q({ filter: { text: 'RELAY ACCESS denied #4' } })).items.map((l) => l.time)).toEqual([T0 + 4000]);
    expect((await q({ filter: { id: 'id-7' } })).items).toHaveLength(1);
    expect((await q({ filter: { client: '192.0.2.' } })).items).toHaveLength(3);
    expect((await q({ filter: { client: '198.51' } })).items).toHaveLength(3);
    expect(matchesLogFilter({ time: 1, level: 'info', event: 'auth', client: 'printer.lan' }, { client: 'PRINTER' })).toBe(true);
  });

  it('copes with no log directory and with long files read in small chunks', async () => {
    expect(await queryLogs(path.join(tmp.path, 'none'), logsQueryParams.parse({ since: 0 }))).toEqual({ items: [], truncated: false });
    const file = path.join(dir, 'big.log');
    for (let i = 0; i < 500; i++) appendFileSync(file, `line ${i} ${'€'.repeat(i % 7)}\n`);
    const got: string[] = [];
    for await (const l of linesNewestFirst(file, 17)) got.push(l);
    expect(got).toHaveLength(500);
    expect(got[0]).toBe(`line 499 ${'€'.repeat(499 % 7)}`);
    expect(got[499]).toBe('line 0 ');
  });
});
