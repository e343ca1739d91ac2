// The scheduler against a real spool in a temp dir, a manual clock and a deliver function written
// here (real SMTP peers are tested in the delivery and integration tests).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { Spool } from '../../server/queue/spool.ts';
import { Scheduler, type BounceReason, type DeliverFn, type QueueConfig, type SchedulerClock } from '../../server/queue/scheduler.ts';
import type { QueueEntry, RecipientState } from '../../server/queue/types.ts';
import type { DeliveryOutcome, RecipientResult } from '../../server/delivery/types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = 1_700_000_000_000;

/** Time that moves only when the test says so; timers fire in time order as it passes them. */
class ManualClock implements SchedulerClock {
  t = T0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now = (): number => this.t;
  setTimer = (fn: () => void, delayMs: number): unknown => {
    const h = ++this.seq;
    this.timers.set(h, { at: this.t + delayMs, fn });
    return h;
  };
  clearTimer = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  get armed(): number[] {
    return [...this.timers.values()].map((x) => x.at - T0);
  }
  /** Fire every timer up to now + ms, letting the scheduler finish what each one started. */
  async advance(ms: number, sched: Scheduler): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await sched.whenIdle();
    }
    this.t = end;
    await sched.whenIdle();
  }
}

type Script = (rcpt: string, call: number) => DeliveryOutcome;

/** A deliver function that answers per recipient by script and records every call. */
function scripted(script: Script): DeliverFn & { calls: Array<{ id: string; rcpts: string[]; at: number }> } {
  const calls: Array<{ id: string; rcpts: string[]; at: number }> = [];
  const fn = async (entry: QueueEntry, rcpts: string[]): Promise<RecipientResult[]> => {
    calls.push({ id: entry.envelope.id, rcpts, at: clock.t - T0 });
    const n = calls.length;
    return rcpts.map((r) => {
      const outcome = script(r, n);
      const reply = outcome === 'delivered' ? '250 2.0.0 ok' : outcome === 'failed' ? '550 5.1.1 no such user' : '451 4.7.1 try again later';
      return { recipient: r, outcome, code: Number(reply.slice(0, 3)), enhanced: reply.slice(4, 9), reply, nextHop: 'mx.example.net[198.51.100.7]:25', durationMs: 12 };
    });
  };
  return Object.assign(fn, { calls });
}

function config(over: Partial<QueueConfig> = {}): QueueConfig {
  return { retrySchedule: ['5m', '10m'], maxLifetimeHours: 120, delayWarningHours: null, maxConcurrentDeliveries: 10, maxConnectionsPerDestination: 20, ...over };
}

let tmp: TempDir;
let spool: Spool;
let clock: ManualClock;
let logged: Array<{ name: string; fields: Record<string, unknown> }>;
const log = { event: (name: string, fields: Record<string, unknown>): void => void logged.push({ name, fields }) };
let bounces: Array<{ id: string; reason: BounceReason; rcpts: string[]; replies: Array<string | null>; stillQueued: boolean }>;
let warnings: Array<{ id: string; rcpts: string[] }>;
let sched: Scheduler | undefined;
/** The next this many bounces fail to be queued (as with a full disk). */
let failingBounces = 0;

beforeEach(async () => {
  tmp = makeTempDir('relaydesk-sched-');
  spool = await Spool.open(tmp.path);
  clock = new ManualClock();
  logged = [];
  bounces = [];
  warnings = [];
  failingBounces = 0;
});
afterEach(async () => {
  await sched?.stop(1000);
  sched = undefined;
  tmp.remove();
});

function makeScheduler(deliver: DeliverFn, over: Partial<QueueConfig> = {}): Scheduler {
  sched = new Scheduler({
    spool,
    config: config(over),
    deliver,
    clock,
    log,
    onBounce: (entry: QueueEntry, failed: RecipientState[], reason: BounceReason) => {
      if (failingBounces > 0) {
        failingBounces--;
        throw new Error('ENOSPC: no space left on device');
      }
      // Still queued while the bounce is being queued: a crash now repeats the bounce instead of losing it.
      bounces.push({ id: entry.envelope.id, reason, rcpts: failed.map((f) => f.address), replies: failed.map((f) => f.lastReply), stillQueued: spool.has(entry.envelope.id) });
    },
    onDelayWarning: (entry: QueueEntry, pending: RecipientState[]) => void warnings.push({ id: entry.envelope.id, rcpts: pending.map((p) => p.address) }),
  });
  return sched;
}

async function accept(recipients = ['bob@example.net'], receivedAt = clock.t): Promise<QueueEntry> {
  const w = spool.createWriter({ sender: 'alice@example.com', recipients, receivedAt, client: { ip: '192.0.2.10', hostname: null, helo: 'client', authUser: null, tls: false }, bodyType: '7bit', smtpUtf8: false, origin: 'smtp' });
  await pipeline(Readable.from(['Subject: test\r\n\r\nhello\r\n']), w);
  return w.commit();
}

const stateFile = (id: string): string => path.join(spool.stateDir, `${id}.json`);

describe('Scheduler: attempts and results', () => {
  it('tries a new message at once and removes it when delivered, without ever writing a state file', async () => {
    const deliver = scripted(() => 'delivered');
    const s = makeScheduler(deliver);
    s.start();
    const persisted = vi.spyOn(spool, 'updateState');
    const entry = await accept(['bob@example.net', 'carol@example.org']);
    s.enqueue(entry);
    await s.whenIdle();
    expect(deliver.calls).toEqual([{ id: entry.envelope.id, rcpts: ['bob@example.net', 'carol@example.org'], at: 0 }]);
    expect(spool.size).toBe(0);
    expect(readdirSync(spool.msgDir)).toEqual([]);
    expect(persisted.mock.calls.every((c) => c[2]?.persist === false)).toBe(true);
    expect(logged.filter((l) => l.name === 'delivered').map((l) => l.fields)).toEqual([
      expect.objectContaining({ id: entry.envelope.id, rcpt: 'bob@example.net', nextHop: 'mx.example.net[198.51.100.7]:25', reply: '250 2.0.0 ok', durationMs: 12 }),
      expect.objectContaining({ id: entry.envelope.id, rcpt: 'carol@example.org' }),
    ]);
    expect(clock.armed).toEqual([]);
  });

  it('defers along the retry schedule (last step repeats) with one timer, persisting state', async () => {
    const deliver = scripted((_, call) => (call < 4 ? 'deferred' : 'delivered'));
    const s = makeScheduler(deliver);
    s.start();
    const entry = await accept();
    const id = entry.envelope.id;
    s.enqueue(entry);
    await s.whenIdle();
    expect(spool.get(id)!.nextAttemptAt).toBe(T0 + 5 * MIN);
    expect(clock.armed).toEqual([5 * MIN]);
    const onDisk = JSON.parse(readFileSync(stateFile(id), 'utf8'));
    expect(onDisk.recipients[0]).toMatchObject({ status: 'deferred', attempts: 1, lastReply: '451 4.7.1 try again later', nextHop: 'mx.example.net[198.51.100.7]:25' });
    expect(logged.find((l) => l.name === 'deferred')!.fields).toMatchObject({ id, rcpt: 'bob@example.net', nextAttemptAt: T0 + 5 * MIN, durationMs: 12 });

    await clock.advance(5 * MIN - 1, s);
    expect(deliver.calls).toHaveLength(1); // not a millisecond early
    await clock.advance(1, s);
    expect(deliver.calls.map((c) => c.at)).toEqual([0, 5 * MIN]);
    await clock.advance(10 * MIN, s);
    await clock.advance(10 * MIN, s); // "10m" is the last step: it repeats
    expect(deliver.calls.map((c) => c.at)).toEqual([0, 5 * MIN, 15 * MIN, 25 * MIN]);
    expect(spool.size).toBe(0);
    expect(existsSync(stateFile(id))).toBe(false);
  });

  it('tracks each recipient: delivered ones are not retried, a 5xx bounces at once, deferred ones wait', async () => {
    const deliver = scripted((r) => (r.startsWith('ok') ? 'delivered' : r.startsWith('bad') ? 'failed' : 'deferred'));
    const s = makeScheduler(deliver);
    s.start();
    const entry = await accept(['ok@example.net', 'bad@example.net', 'later@example.net']);
    s.enqueue(entry);
    await s.whenIdle();
    expect(bounces).toEqual([{ id: entry.envelope.id, reason: 'failed', rcpts: ['bad@example.net'], replies: ['550 5.1.1 no such user'], stillQueued: true }]);
    expect(spool.get(entry.envelope.id)!.recipients.map((r) => r.status)).toEqual(['delivered', 'bounced', 'deferred']);
    expect(logged.filter((l) => l.name === 'bounced')[0]!.fields).toMatchObject({ rcpt: 'bad@example.net', reason: 'failed', reply: '550 5.1.1 no such user' });
    await clock.advance(5 * MIN, s);
    expect(deliver.calls[1]!.rcpts).toEqual(['later@example.net']);
  });

  it('bounces what is left when the lifetime is over, with the last retry on the expiry time', async () => {
    const deliver = scripted(() => 'deferred');
    const s = makeScheduler(deliver, { retrySchedule: ['25m'], maxLifetimeHours: 1 });
    s.start();
    const entry = await accept(['a@example.net', 'b@example.net']);
    s.enqueue(entry);
    await s.whenIdle();
    await clock.advance(2 * HOUR, s);
    expect(deliver.calls.map((c) => c.at)).toEqual([0, 25 * MIN, 50 * MIN, 60 * MIN]);
    expect(bounces).toEqual([{ id: entry.envelope.id, reason: 'expired', rcpts: ['a@example.net', 'b@example.net'], replies: ['451 4.7.1 try again later', '451 4.7.1 try again later'], stillQueued: true }]);
    expect(logged.filter((l) => l.name === 'expired').map((l) => l.fields.rcpt)).toEqual(['a@example.net', 'b@example.net']);
    expect(spool.size).toBe(0);
  });

  it('keeps a failed recipient queued when its bounce cannot be queued, and bounces it on the next round', async () => {
    const deliver = scripted(() => 'failed');
    const s = makeScheduler(deliver);
    s.start();
    failingBounces = 1;
    const entry = await accept(['bad@example.net']);
    s.enqueue(entry);
    await s.whenIdle();
    expect(bounces).toEqual([]);
    expect(spool.get(entry.envelope.id)?.recipients.map((r) => r.status)).toEqual(['deferred']);
    expect(JSON.parse(readFileSync(stateFile(entry.envelope.id), 'utf8')).recipients[0].status).toBe('deferred');
    expect(logged.some((l) => l.name === 'error' && l.fields.what === 'dsn')).toBe(true);
    await clock.advance(5 * MIN, s);
    expect(bounces.map((b) => [b.id, b.reason, b.rcpts])).toEqual([[entry.envelope.id, 'failed', ['bad@example.net']]]);
    expect(spool.size).toBe(0);
  });

  it('keeps an expired message whose bounce cannot be queued, retrying after a step (not at once, over and over)', async () => {
    const deliver = scripted(() => 'deferred');
    const s = makeScheduler(deliver, { retrySchedule: ['25m'], maxLifetimeHours: 1 });
    s.start();
    const entry = await accept(['a@example.net']);
    s.enqueue(entry);
    await s.whenIdle();
    failingBounces = 1;
    await clock.advance(60 * MIN, s);
    expect(deliver.calls.map((c) => c.at)).toEqual([0, 25 * MIN, 50 * MIN, 60 * MIN]);
    expect(bounces).toEqual([]);
    expect(spool.has(entry.envelope.id)).toBe(true);
    await clock.advance(25 * MIN, s);
    expect(deliver.calls.map((c) => c.at)).toEqual([0, 25 * MIN, 50 * MIN, 60 * MIN, 85 * MIN]);
    expect(bounces.map((b) => b.reason)).toEqual(['expired']);
    expect(spool.size).toBe(0);
  });

  it('sends one delay warning once a message has waited delayWarningHours', async () => {
    const deliver = scripted(() => 'deferred');
    const s = makeScheduler(deliver, { retrySchedule: ['20m'], delayWarningHours: 0.5 });
    s.start();
    const entry = await accept();
    s.enqueue(entry);
    await s.whenIdle();
    await clock.advance(20 * MIN, s);
    expect(warnings).toEqual([]);
    await clock.advance(20 * MIN, s); // attempt at 40 min: past 30 min
    expect(warnings).toEqual([{ id: entry.envelope.id, rcpts: ['bob@example.net'] }]);
    expect(JSON.parse(readFileSync(stateFile(entry.envelope.id), 'utf8')).delayWarned).toBe(true);
    await clock.advance(HOUR, s);
    expect(warnings).toHaveLength(1);
  });

  it('treats a throwing deliver function as a deferral of every recipient', async () => {
    const s = makeScheduler(() => Promise.reject(new Error('resolver exploded')));
    s.start();
    const entry = await accept();
    s.enqueue(entry);
    await s.whenIdle();
    expect(spool.get(entry.envelope.id)!.recipients[0]).toMatchObject({ status: 'deferred', lastReply: 'internal error: resolver exploded' });
    expect(logged.some((l) => l.name === 'error' && String(l.fields.msg).includes('resolver exploded'))).toBe(true);
  });

  it('resumes recovered messages: fresh ones at once, deferred ones at their time', async () => {
    const first = makeScheduler(scripted(() => 'deferred'));
    first.start();
    const deferred = await accept(['x@example.net']);
    first.enqueue(deferred);
    await first.whenIdle();
    await first.stop();
    const fresh = await accept(['y@example.net']); // committed, never tried: the process died here

    spool = await Spool.open(tmp.path);
    const deliver = scripted(() => 'delivered');
    const s = makeScheduler(deliver);
    s.start();
    await s.whenIdle();
    expect(deliver.calls.map((c) => c.id)).toEqual([fresh.envelope.id]);
    await clock.advance(5 * MIN, s);
    expect(deliver.calls.map((c) => c.id)).toEqual([fresh.envelope.id, deferred.envelope.id]);
    expect(spool.size).toBe(0);
  });
});

describe('Scheduler: concurrency', () => {
  it('keeps at most maxConcurrentDeliveries attempts in flight and starts the next as soon as one ends', async () => {
    const gates = new Map<string, () => void>();
    let peak = 0;
    const deliver: DeliverFn = (entry, rcpts) =>
      new Promise((resolve) => {
        peak = Math.max(peak, s.inFlight);
        gates.set(entry.envelope.id, () => resolve(rcpts.map((r) => ({ recipient: r, outcome: 'delivered', code: 250, enhanced: '2.0.0', reply: '250 ok', nextHop: 'h', durationMs: 1 }))));
      });
    const s = makeScheduler(deliver, { maxConcurrentDeliveries: 2 });
    s.start();
    const entries = [];
    for (let i = 0; i < 5; i++) entries.push(await accept([`r${i}@example.net`]));
    for (const e of entries) s.enqueue(e);
    expect(s.inFlight).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect([...gates.keys()]).toEqual(entries.slice(0, 2).map((e) => e.envelope.id));

    gates.get(entries[0]!.envelope.id)!();
    await waitUntil(() => gates.size === 3);
    expect(s.inFlight).toBe(2);
    for (const e of entries.slice(1)) {
      await waitUntil(() => gates.has(e.envelope.id));
      gates.get(e.envelope.id)!();
    }
    await s.whenIdle();
    expect(peak).toBe(2);
    expect(spool.size).toBe(0);
  });

  it('raises the cap at once on updateConfig', async () => {
    const started: string[] = [];
    const s = makeScheduler((entry) => {
      started.push(entry.envelope.id);
      return new Promise(() => undefined); // never finishes
    }, { maxConcurrentDeliveries: 1 });
    s.start();
    for (let i = 0; i < 3; i++) s.enqueue(await accept());
    expect(s.inFlight).toBe(1);
    s.updateConfig(config({ maxConcurrentDeliveries: 3 }));
    expect(s.inFlight).toBe(3);
    expect(await s.stop(10)).toBe(false); // bounded: gives up on attempts that never end
    sched = undefined;
  });

  it('arms a single timer for many deferred messages', async () => {
    const s = makeScheduler(scripted(() => 'deferred'));
    s.start();
    for (let i = 0; i < 10; i++) {
      s.enqueue(await accept());
      await s.whenIdle();
      clock.t += 1000;
    }
    expect(spool.size).toBe(10);
    expect(clock.armed).toEqual([5 * MIN]);
  });
});

describe('Scheduler: admin actions', () => {
  /** A scheduler whose first attempt defers everything (due again in 5 min) and then delivers. */
  async function withDeferred(n: number, deliver = scripted((_, call) => (call <= n ? 'deferred' : 'delivered'))): Promise<{ s: Scheduler; ids: string[]; deliver: typeof deliver }> {
    const s = makeScheduler(deliver);
    s.start();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = await accept([`r${i}@example.net`]);
      s.enqueue(e);
      ids.push(e.envelope.id);
    }
    await s.whenIdle();
    expect(deliver.calls).toHaveLength(n);
    return { s, ids, deliver };
  }

  it('retry makes the named deferred messages due now', async () => {
    const { s, ids, deliver } = await withDeferred(3);
    expect(await s.retry([ids[1]!, 'ffffffffffff-ffffffffff'])).toBe(1);
    await s.whenIdle();
    expect(deliver.calls.slice(3).map((c) => [c.id, c.at])).toEqual([[ids[1], 0]]);
    expect(spool.size).toBe(2);
  });

  it('flush makes every deferred, non-held message due now', async () => {
    const { s, ids, deliver } = await withDeferred(3);
    await s.hold([ids[0]!]);
    expect(await s.flush()).toBe(2);
    await s.whenIdle();
    expect(deliver.calls.slice(3).map((c) => c.id).sort()).toEqual([ids[1], ids[2]].sort());
    expect(spool.has(ids[0]!)).toBe(true);
  });

  it('hold keeps a message from being tried, survives a restart, and release tries it at once', async () => {
    const { s, ids, deliver } = await withDeferred(1);
    expect(await s.hold(ids)).toBe(1);
    expect(await s.hold(ids)).toBe(0); // already held
    expect(JSON.parse(readFileSync(stateFile(ids[0]!), 'utf8')).held).toBe(true);
    await clock.advance(HOUR, s);
    expect(await s.retry(ids)).toBe(0);
    expect(deliver.calls).toHaveLength(1);

    expect((await Spool.open(tmp.path)).get(ids[0]!)!.held).toBe(true);

    expect(await s.release(ids)).toBe(1);
    await s.whenIdle();
    expect(deliver.calls.map((c) => c.at)).toEqual([0, HOUR]);
    expect(spool.size).toBe(0);
  });

  it('delete removes messages without a bounce, waiting for an attempt in flight', async () => {
    const { s, ids } = await withDeferred(2);
    let finish!: () => void;
    const blocked = makeScheduler((entry, rcpts) => new Promise((resolve) => (finish = () => resolve(rcpts.map((r) => ({ recipient: r, outcome: 'deferred', code: 451, enhanced: '4.0.0', reply: '451 later', nextHop: 'h', durationMs: 1 }))))));
    await s.stop();
    blocked.start();
    expect(blocked.inFlight).toBe(0); // both are due in 5 min
    await blocked.retry([ids[0]!]);
    expect(blocked.inFlight).toBe(1);
    const deleting = blocked.delete([ids[0]!, ids[1]!, 'ffffffffffff-ffffffffff']);
    await waitUntil(() => !spool.has(ids[1]!)); // the idle one goes at once
    expect(spool.has(ids[0]!)).toBe(true); // the one in flight waits for its attempt
    finish();
    expect(await deleting).toBe(2);
    expect(spool.size).toBe(0);
    expect(readdirSync(spool.msgDir)).toEqual([]);
    expect(readdirSync(spool.stateDir)).toEqual([]);
    expect(bounces).toEqual([]);
  });

  it('bounce bounces every pending recipient (reason admin) and removes the message', async () => {
    const deliver = scripted((r, call) => (call === 1 && r.startsWith('ok') ? 'delivered' : 'deferred'));
    const s = makeScheduler(deliver);
    s.start();
    const e = await accept(['ok@example.net', 'wait1@example.net', 'wait2@example.net']);
    s.enqueue(e);
    await s.whenIdle();
    expect(await s.bounce([e.envelope.id])).toBe(1);
    expect(bounces).toEqual([{ id: e.envelope.id, reason: 'admin', rcpts: ['wait1@example.net', 'wait2@example.net'], replies: ['bounced by the administrator', 'bounced by the administrator'], stillQueued: true }]);
    expect(logged.filter((l) => l.name === 'bounced').map((l) => [l.fields.rcpt, l.fields.reason])).toEqual([
      ['wait1@example.net', 'admin'],
      ['wait2@example.net', 'admin'],
    ]);
    expect(spool.size).toBe(0);
    await clock.advance(HOUR, s);
    expect(deliver.calls).toHaveLength(1);
  });

  it('bounce leaves a message as it was when its bounce cannot be queued, and does not count it', async () => {
    const deliver = scripted(() => 'deferred');
    const s = makeScheduler(deliver);
    s.start();
    const e = await accept(['wait@example.net']);
    s.enqueue(e);
    await s.whenIdle();
    failingBounces = 1;
    expect(await s.bounce([e.envelope.id])).toBe(0);
    expect(spool.get(e.envelope.id)?.recipients.map((r) => [r.status, r.lastReply])).toEqual([['deferred', '451 4.7.1 try again later']]);
    expect(logged.filter((l) => l.name === 'bounced')).toEqual([]);
    expect(await s.bounce([e.envelope.id])).toBe(1);
    expect(spool.size).toBe(0);
  });

  it('stop waits for attempts in flight, then starts nothing new', async () => {
    let finish!: () => void;
    const calls: string[] = [];
    const s = makeScheduler((entry, rcpts) => {
      calls.push(entry.envelope.id);
      return new Promise((resolve) => (finish = () => resolve(rcpts.map((r) => ({ recipient: r, outcome: 'delivered', code: 250, enhanced: '2.0.0', reply: '250 ok', nextHop: 'h', durationMs: 1 })))));
    });
    s.start();
    s.enqueue(await accept());
    const stopping = s.stop(5000);
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    finish();
    expect(await stopping).toBe(true);
    expect(spool.size).toBe(0);
    s.enqueue(await accept());
    await clock.advance(HOUR, s);
    expect(calls).toHaveLength(1);
    expect(spool.size).toBe(1); // still safely queued for the next start
  });
});

/** Let pending I/O and promise callbacks run until `cond` holds (bounded; no fixed sleeps). */
async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}
