import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Stats } from '../../server/stats/stats.ts';
import { statsGetResult } from '../../server/protocol/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

const MIN = 60_000;
/** 2024-03-10 23:50 UTC: ten minutes before a day boundary. */
const T0 = Date.UTC(2024, 2, 10, 23, 50);

let tmp: TempDir;
let dir: string;
let now: number;
const clock = { now: () => now, flushIntervalMs: 0 };
beforeEach(() => {
  tmp = makeTempDir();
  dir = path.join(tmp.path, 'stats');
  now = T0;
});
afterEach(() => tmp.remove());

async function fill(stats: Stats): Promise<void> {
  stats.count('received', 3);
  stats.count('rejected', 1, 'relay access denied');
  stats.setGauge('queueSize', 5);
  now = T0 + 5 * MIN + 10_000;
  stats.count('delivered', 2);
  stats.count('rejected', 2, 'dnsbl zen.example');
  stats.setGauge('queueSize', 9);
  stats.setGauge('queueSize', 4);
  now = T0 + 15 * MIN; // next UTC day
  stats.count('deferred', 1, '451 greylisted');
  stats.count('bounced');
  stats.setGauge('queueSize', 1);
}

describe('stats', () => {
  it('aggregates minutes into aligned buckets with reasons, totals and queue size', async () => {
    const stats = await Stats.open(dir, clock);
    await fill(stats);
    const perMinute = stats.query(T0, T0 + 20 * MIN, 60);
    expect(statsGetResult.parse(perMinute)).toEqual(perMinute);
    expect(perMinute.buckets).toHaveLength(20);
    expect(perMinute.buckets[0]).toMatchObject({ start: T0, counts: { received: 3, rejected: 1 }, reasons: { rejected: { 'relay access denied': 1 } }, queueSize: 5, queueSizeMax: 5 });
    expect(perMinute.buckets[1]).toMatchObject({ counts: { received: 0 }, queueSize: null });
    expect(perMinute.buckets[5]).toMatchObject({ counts: { delivered: 2, rejected: 2 }, queueSize: 4, queueSizeMax: 9 });
    expect(perMinute.totals).toEqual({
      counts: { received: 3, rejected: 3, delivered: 2, deferred: 1, bounced: 1 },
      reasons: { rejected: { 'relay access denied': 1, 'dnsbl zen.example': 2 }, deferred: { '451 greylisted': 1 } },
    });

    const hourly = stats.query(T0, T0 + 20 * MIN, 3600);
    // Aligned to whole hours since the epoch: 23:00 and 00:00.
    expect(hourly.buckets.map((b) => b.start)).toEqual([Date.UTC(2024, 2, 10, 23), Date.UTC(2024, 2, 11, 0)]);
    expect(hourly.buckets[0]).toMatchObject({ counts: { received: 3, delivered: 2, rejected: 3 }, queueSize: 4, queueSizeMax: 9 });
    expect(hourly.buckets[1]).toMatchObject({ counts: { deferred: 1, bounced: 1 }, queueSize: 1 });

    // `from` inside a bucket: minutes before it are left out.
    expect(stats.query(T0 + MIN, T0 + 10 * MIN, 3600).totals.counts).toMatchObject({ received: 0, delivered: 2 });
    await stats.close();
  });

  it('persists across restarts in one file per UTC day', async () => {
    const stats = await Stats.open(dir, clock);
    await fill(stats);
    const before = stats.query(T0, T0 + 20 * MIN, 60);
    await stats.close();
    expect(readdirSync(dir).sort()).toEqual(['2024-03-10.json', '2024-03-11.json']);
    const reopened = await Stats.open(dir, clock);
    expect(reopened.query(T0, T0 + 20 * MIN, 60)).toEqual(before);
    reopened.count('received');
    expect(reopened.query(T0 + 15 * MIN, T0 + 16 * MIN, 60).totals.counts.received).toBe(1);
    await reopened.close();
  });

  it('keeps at least 7 days and drops older ones, from memory and disk', async () => {
    const stats = await Stats.open(dir, clock);
    stats.count('received', 7);
    await stats.flush();
    now = T0 + 7 * 86_400_000;
    stats.count('received', 1);
    await stats.flush();
    expect(stats.query(T0, now + MIN, 86_400).totals.counts.received).toBe(8);
    now = T0 + 10 * 86_400_000;
    stats.count('received', 1);
    await stats.flush();
    expect(existsSync(path.join(dir, '2024-03-10.json'))).toBe(false);
    expect(stats.query(T0, now + MIN, 86_400).totals.counts.received).toBe(2);
    await stats.close();
    const reopened = await Stats.open(dir, clock);
    expect(reopened.query(T0, now + MIN, 86_400).totals.counts.received).toBe(2);
    await reopened.close();
  });

  it('stamps the last queue size into minutes without a sample when it flushes', async () => {
    const stats = await Stats.open(dir, clock);
    stats.setGauge('queueSize', 12);
    now += 3 * MIN;
    await stats.flush();
    expect(stats.query(T0, T0 + 4 * MIN, 60).buckets.map((b) => b.queueSize)).toEqual([12, null, null, 12]);
    await stats.close();
  });

  it('caps distinct reasons per minute and skips unreadable files', async () => {
    const warnings: string[] = [];
    const stats = await Stats.open(dir, { ...clock, onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 150; i++) stats.count('rejected', 1, `reason ${i}`);
    const reasons = stats.query(T0, T0 + MIN, 60).totals.reasons.rejected!;
    expect(Object.keys(reasons)).toHaveLength(101);
    expect(reasons.other).toBe(50);
    await stats.close();
    writeFileSync(path.join(dir, '2024-03-10.json'), '{"version":1,');
    const reopened = await Stats.open(dir, { ...clock, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(/2024-03-10\.json/)]);
    expect(reopened.query(T0, T0 + MIN, 60).totals.counts.rejected).toBe(0);
    await reopened.close();
  });
});
