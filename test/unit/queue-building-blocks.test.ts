// Queue ids, the group commit, the retry schedule and the due-time heap: the parts the spool and the
// scheduler are built from.
import { describe, expect, it } from 'vitest';
import { isQueueId, newQueueId, queueIdTime } from '../../server/queue/queue-id.ts';
import { GroupCommit } from '../../server/queue/group-commit.ts';
import { retryDelayMs, retryDelaysMs } from '../../server/queue/retry-schedule.ts';
import { DueQueue } from '../../server/queue/due-queue.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('queue ids', () => {
  it('are filename-safe, unique and sort by time', () => {
    const ids = Array.from({ length: 10_000 }, () => newQueueId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 10)) expect(id).toMatch(/^[0-9a-f]{12}-[0-9a-f]{10}$/);
    expect(isQueueId(ids[0]!)).toBe(true);
    expect(queueIdTime(ids[0]!)).toBe(1_700_000_000_000);
    const early = newQueueId(1_700_000_000_000);
    const late = newQueueId(1_700_000_000_001);
    expect([late, early].sort()).toEqual([early, late]);
  });

  it('rejects anything that could escape the queue directory', () => {
    for (const bad of ['../etc/passwd', '', '0192f3a1c2d4-5f1a9c07e2/x', '0192F3A1C2D4-5F1A9C07E2', '0192f3a1c2d4-5f1a9c07e2.json']) {
      expect(isQueueId(bad)).toBe(false);
    }
  });
});

describe('GroupCommit', () => {
  it('shares one run among callers that arrive while a run is in flight, and never counts a run that began before the call', async () => {
    const gates: Array<ReturnType<typeof deferred>> = [];
    const gc = new GroupCommit(() => {
      const d = deferred();
      gates.push(d);
      return d.promise;
    });
    const settled: string[] = [];
    const first = gc.run().then(() => settled.push('first'));
    // These three arrive while run 1 is in flight: run 1 may have started before their renames.
    const later = [gc.run(), gc.run(), gc.run()].map((p, i) => p.then(() => settled.push(`later${i}`)));
    expect(gc.runs).toBe(1);
    gates[0]!.resolve();
    await first;
    expect(settled).toEqual(['first']);
    await new Promise((r) => setImmediate(r)); // let the queued run start (all microtasks drain)
    expect(gc.runs).toBe(2); // one run for all three
    expect(settled).toEqual(['first']);
    gates[1]!.resolve();
    await Promise.all(later);
    expect(settled).toEqual(['first', 'later0', 'later1', 'later2']);
    expect(gc.runs).toBe(2);
    expect(gc.idle).toBe(true);
  });

  it('fails only the callers covered by a failing run', async () => {
    let n = 0;
    const gc = new GroupCommit(async () => {
      n++;
      if (n === 1) throw new Error('EIO');
    });
    const a = gc.run();
    const b = gc.run();
    await expect(a).rejects.toThrow('EIO');
    await expect(b).resolves.toBeUndefined();
    await expect(gc.run()).resolves.toBeUndefined();
  });
});

describe('retry schedule', () => {
  it('follows the steps and repeats the last one', () => {
    const d = retryDelaysMs(['5m', '10m', '1h']);
    expect(d).toEqual([300_000, 600_000, 3_600_000]);
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(d, n))).toEqual([300_000, 600_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(retryDelayMs(d, 0)).toBe(300_000);
  });
});

describe('DueQueue', () => {
  it('pops by time, first come first served on ties, skipping rescheduled and cancelled ids', () => {
    const q = new DueQueue();
    q.schedule('c', 30);
    q.schedule('a', 10);
    q.schedule('b', 10);
    q.schedule('d', 40);
    q.schedule('c', 5); // moved earlier: its old item goes stale
    q.cancel('d');
    expect(q.size).toBe(3);
    expect(q.nextAt()).toBe(5);
    expect(q.popDue(4)).toBeUndefined();
    expect([q.popDue(100), q.popDue(100), q.popDue(100), q.popDue(100)]).toEqual(['c', 'a', 'b', undefined]);
    expect(q.nextAt()).toBeUndefined();
  });

  it('stays small when ids are rescheduled over and over', () => {
    const q = new DueQueue();
    for (let round = 0; round < 20; round++) for (let i = 0; i < 1000; i++) q.schedule(`m${i}`, round * 1000 + i);
    expect(q.size).toBe(1000);
    const out: string[] = [];
    for (let id = q.popDue(Infinity); id !== undefined; id = q.popDue(Infinity)) out.push(id);
    expect(out).toHaveLength(1000);
    expect(out[0]).toBe('m0');
    expect(out[999]).toBe('m999');
  });
});
