/**
 * The scheduler (SPEC §1.4): tries due messages with a cap on attempts in flight, applies each
 * recipient's result (delivered / bounced at once on 5xx / deferred along the retry schedule), bounces
 * what is left after the maximum lifetime, sends one delay warning, and removes a message once every
 * recipient is final. Time comes from an injectable clock and one timer is armed to the earliest due
 * message, so a queue of 100 000 costs no polling and tests drive time by hand.
 */
import type { z } from 'zod';
import type { queueSchema } from '../config/schema.ts';
import type { RecipientResult } from '../delivery/types.ts';
import type { RelayLog } from '../logging/relay-log.ts';
import type { Spool } from './spool.ts';
import type { EntryState } from './spool-state.ts';
import type { QueueEntry, RecipientState } from './types.ts';
import { DueQueue } from './due-queue.ts';
import { retryDelayMs, retryDelaysMs } from './retry-schedule.ts';

/** The `queue` section of the relay config. */
export type QueueConfig = z.output<typeof queueSchema>;

/** Delivery of one attempt: the pending recipients of `entry`; one result per recipient. */
export type DeliverFn = (entry: QueueEntry, recipients: string[]) => Promise<RecipientResult[]>;

/** Why recipients bounced: a 5xx from the next hop, the maximum lifetime, or an administrator. */
export type BounceReason = 'failed' | 'expired' | 'admin';

/**
 * Queue a DSN for `failed` (their lastReply says why). Awaited before the message's state is saved or
 * it is removed, so a crash in between repeats the bounce rather than losing it. When it rejects (the
 * DSN could not be queued, e.g. disk full) the recipients stay queued and bounce again on a later
 * attempt, so the sender still hears of it.
 */
export type BounceHandler = (entry: QueueEntry, failed: RecipientState[], reason: BounceReason) => void | Promise<void>;

/** Queue a delay warning for the recipients still pending. */
export type DelayWarningHandler = (entry: QueueEntry, pending: RecipientState[]) => void | Promise<void>;

/** Time and one timer; tests pass a manual clock. */
export interface SchedulerClock {
  now(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Real time. The timer is unref'd: a pending retry alone must not keep a finished process alive. */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer: (fn, delayMs) => setTimeout(fn, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What a scheduler works with; callbacks and log are optional so tests can leave them out. */
export interface SchedulerOptions {
  spool: Spool;
  config: QueueConfig;
  deliver: DeliverFn;
  onBounce?: BounceHandler;
  onDelayWarning?: DelayWarningHandler;
  log?: Pick<RelayLog, 'event'>;
  clock?: SchedulerClock;
}

const HOUR_MS = 3_600_000;
// setTimeout fires at once for longer delays; a timer that fires early just re-arms.
const MAX_TIMER_MS = 2 ** 31 - 1;

function isPending(r: RecipientState): boolean {
  return r.status === 'queued' || r.status === 'deferred';
}

/** Delivery scheduling for one spool; construct, then `start()`. */
export class Scheduler {
  private config: QueueConfig;
  private delays: number[];
  private readonly spool: Spool;
  private readonly deliver: DeliverFn;
  private readonly onBounce: BounceHandler | undefined;
  private readonly onDelayWarning: DelayWarningHandler | undefined;
  private readonly log: Pick<RelayLog, 'event'> | undefined;
  private readonly clock: SchedulerClock;
  private readonly due = new DueQueue();
  /** Per message, the tail of the work on it (an attempt, then queued admin actions); one at a time. */
  private readonly busy = new Map<string, Promise<void>>();
  private attemptsInFlight = 0;
  private timer: unknown = null;
  private timerAt: number | undefined;
  private started = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: SchedulerOptions) {
    this.spool = opts.spool;
    this.config = opts.config;
    this.delays = retryDelaysMs(opts.config.retrySchedule);
    this.deliver = opts.deliver;
    this.onBounce = opts.onBounce;
    this.onDelayWarning = opts.onDelayWarning;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
  }

  /** Attempts running now. */
  get inFlight(): number {
    return this.attemptsInFlight;
  }

  /** Schedule everything in the spool (recovered messages) and start delivering. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const e of this.spool.entries()) this.schedule(e);
    this.pump();
  }

  /** A newly committed message: tried at once if a slot is free. */
  enqueue(entry: QueueEntry): void {
    if (this.stopped) return;
    this.schedule(entry);
    this.pump();
  }

  /** Make messages due now (held ones stay held). Returns how many became due. */
  async retry(ids: Iterable<string>): Promise<number> {
    let n = 0;
    for (const id of new Set(ids)) {
      const e = this.spool.get(id);
      if (!e || e.held || this.busy.has(id)) continue;
      await this.makeDueNow(e);
      n++;
    }
    this.pump();
    return n;
  }

  /** Every deferred, non-held message becomes due now. Returns how many. */
  async flush(): Promise<number> {
    const now = this.clock.now();
    const targets = [...this.spool.entries()].filter((e) => !e.held && e.nextAttemptAt > now && !this.busy.has(e.envelope.id));
    for (const e of targets) await this.makeDueNow(e);
    this.pump();
    return targets.length;
  }

  /** Never try these until released; an attempt already running finishes. Returns how many were newly held. */
  async hold(ids: Iterable<string>): Promise<number> {
    const work: Array<Promise<unknown>> = [];
    for (const id of new Set(ids)) {
      const e = this.spool.get(id);
      if (!e || e.held) continue;
      this.due.cancel(id);
      work.push(this.spool.updateState(id, { held: true }));
    }
    await this.settleAll(work, 'hold');
    this.pump();
    return work.length;
  }

  /** Release held messages; they are due at once. Returns how many were held. */
  async release(ids: Iterable<string>): Promise<number> {
    const work: Array<Promise<unknown>> = [];
    const released: QueueEntry[] = [];
    for (const id of new Set(ids)) {
      const e = this.spool.get(id);
      if (!e || !e.held) continue;
      work.push(this.spool.updateState(id, { held: false, nextAttemptAt: 0 }));
      released.push(e);
    }
    await this.settleAll(work, 'release');
    for (const e of released) this.schedule(e);
    this.pump();
    return released.length;
  }

  /** Delete messages without any notice (after an attempt in flight, if any). Returns how many. */
  async delete(ids: Iterable<string>): Promise<number> {
    const work: Array<Promise<void>> = [];
    for (const id of new Set(ids)) {
      if (!this.spool.has(id)) continue;
      this.due.cancel(id);
      work.push(
        this.exclusive(id, async () => {
          await this.spool.remove(id);
        }),
      );
    }
    await Promise.all(work);
    return work.length;
  }

  /**
   * Bounce every pending recipient now (reason "admin"), then remove the messages. Returns how many
   * were bounced: not those gone meanwhile, nor those whose DSN could not be queued (they stay).
   */
  async bounce(ids: Iterable<string>): Promise<number> {
    const work: Array<Promise<void>> = [];
    let bounced = 0;
    for (const id of new Set(ids)) {
      if (!this.spool.has(id)) continue;
      this.due.cancel(id);
      work.push(
        this.exclusive(id, async () => {
          if (await this.bounceNow(id)) bounced++;
        }),
      );
    }
    await Promise.all(work);
    return bounced;
  }

  /** A new `queue` config: the schedule applies from the next deferral, the cap at once. */
  updateConfig(config: QueueConfig): void {
    this.config = config;
    this.delays = retryDelaysMs(config.retrySchedule);
    this.pump();
  }

  /** Resolves when nothing runs and nothing is due (for tests and orderly shutdown). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Start no more attempts and wait up to `timeoutMs` for those in flight. True if all finished. */
  async stop(timeoutMs = 30_000): Promise<boolean> {
    this.stopped = true;
    this.disarm();
    const running = Promise.all([...this.busy.values()]).then(() => true);
    let timeout: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([running, gaveUp]);
    } finally {
      clearTimeout(timeout);
      this.settleIdle();
    }
  }

  private schedule(entry: QueueEntry): void {
    const id = entry.envelope.id;
    if (entry.held || this.busy.has(id) || !this.spool.has(id)) {
      this.due.cancel(id);
      return;
    }
    // 0 means "as soon as possible"; keying it by now keeps arrivals first come, first served.
    this.due.schedule(id, entry.nextAttemptAt || this.clock.now());
  }

  // "Try now" is not worth an fsync per message (a flush may touch 100 000): if it is forgotten in a
  // crash, the message is simply tried at its old time.
  private async makeDueNow(e: QueueEntry): Promise<void> {
    await this.spool.updateState(e.envelope.id, { nextAttemptAt: 0 }, { persist: false });
    this.schedule(e);
  }

  private pump(): void {
    if (this.started && !this.stopped) {
      const now = this.clock.now();
      while (this.attemptsInFlight < this.config.maxConcurrentDeliveries) {
        const id = this.due.popDue(now);
        if (id === undefined) break;
        const e = this.spool.get(id);
        if (!e || e.held || this.busy.has(id)) continue;
        void this.exclusive(id, () => this.attempt(id), true);
      }
      this.arm(now);
    }
    this.settleIdle();
  }

  /** Run `fn` after whatever else is being done to message `id`, then reschedule it if it is still queued. */
  private exclusive(id: string, fn: () => Promise<void>, isAttempt = false): Promise<void> {
    if (isAttempt) this.attemptsInFlight++;
    const p: Promise<void> = (this.busy.get(id) ?? Promise.resolve())
      .then(fn)
      .catch((err: unknown) => {
        this.log?.event('error', { what: 'queue', id, msg: err instanceof Error ? err.message : String(err) }, 'error');
      })
      .finally(() => {
        if (isAttempt) this.attemptsInFlight--;
        if (this.busy.get(id) === p) {
          this.busy.delete(id);
          const e = this.spool.get(id);
          if (e) this.schedule(e);
        }
        this.pump();
      });
    this.busy.set(id, p);
    return p;
  }

  private async attempt(id: string): Promise<void> {
    const entry = this.spool.get(id);
    if (!entry || entry.held) return;
    const pending = entry.recipients.filter(isPending);
    if (pending.length === 0) {
      await this.spool.remove(id);
      return;
    }
    const started = this.clock.now();
    let results: RecipientResult[];
    try {
      results = await this.deliver(entry, pending.map((r) => r.address));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.log?.event('error', { what: 'delivery', id, msg: why }, 'error');
      const durationMs = this.clock.now() - started;
      results = pending.map((r) => ({ recipient: r.address, outcome: 'deferred', code: null, enhanced: '4.3.0', reply: `internal error: ${why}`, nextHop: '', durationMs }));
    }
    if (this.spool.has(id)) await this.applyResults(id, results);
  }

  private async applyResults(id: string, results: RecipientResult[]): Promise<void> {
    const entry = this.spool.get(id)!;
    const env = entry.envelope;
    const t = this.clock.now();
    const expiresAt = env.receivedAt + this.config.maxLifetimeHours * HOUR_MS;
    const expiring = t >= expiresAt;
    const rounds = entry.attempts + 1;
    // The last retry lands on the expiry time, so the bounce comes when the lifetime says, not a step later.
    const nextAttemptAt = Math.min(t + retryDelayMs(this.delays, rounds), expiresAt);
    const recipients = entry.recipients.map((r) => ({ ...r }));
    const unanswered = new Map<string, RecipientState[]>();
    for (const r of recipients) if (isPending(r)) unanswered.set(r.address, [...(unanswered.get(r.address) ?? []), r]);

    const failed: RecipientState[] = [];
    const expired: RecipientState[] = [];
    const apply = (st: RecipientState, res: Omit<RecipientResult, 'recipient'>): void => {
      st.attempts++;
      st.lastAttemptAt = t;
      st.lastReply = res.reply;
      st.nextHop = res.nextHop;
      const fields: Record<string, unknown> = { id, rcpt: st.address, nextHop: res.nextHop, reply: res.reply, code: res.code, enhanced: res.enhanced, durationMs: res.durationMs, attempts: st.attempts, delayMs: t - env.receivedAt };
      // Carried along when delivery knows them: the dashboard's deferral reasons and TLS share come from here.
      if (res.category !== undefined) fields.category = res.category;
      if (res.tls !== undefined) fields.tls = res.tls;
      if (res.outcome === 'delivered') {
        st.status = 'delivered';
        this.log?.event('delivered', fields);
      } else if (res.outcome === 'failed') {
        st.status = 'bounced';
        failed.push(st);
        this.log?.event('bounced', { ...fields, reason: 'failed' }, 'warn');
      } else if (expiring) {
        st.status = 'bounced';
        expired.push(st);
        this.log?.event('expired', { ...fields, reason: 'expired' }, 'warn');
      } else {
        st.status = 'deferred';
        this.log?.event('deferred', { ...fields, nextAttemptAt });
      }
    };
    for (const res of results) {
      const st = unanswered.get(res.recipient)?.shift();
      if (st) apply(st, res);
    }
    for (const rest of unanswered.values()) {
      for (const st of rest) apply(st, { outcome: 'deferred', code: null, enhanced: '4.3.0', reply: 'no result from delivery', nextHop: '', durationMs: 0 });
    }

    await this.spool.updateState(id, { recipients, attempts: rounds, nextAttemptAt }, { persist: false });
    const unreported: RecipientState[] = [];
    if (failed.length && !(await this.notifyBounce(entry, failed, 'failed'))) unreported.push(...failed);
    if (expired.length && !(await this.notifyBounce(entry, expired, 'expired'))) unreported.push(...expired);
    const patch: Partial<EntryState> = {};
    if (unreported.length) {
      // Without its DSN a bounce would be lost: keep these recipients queued. The next round bounces
      // them again (5xx again, or still expired) and retries the DSN — after a retry step, not at the
      // expiry time, which has passed and would make the message due at once, over and over.
      for (const st of unreported) st.status = 'deferred';
      patch.recipients = recipients;
      patch.nextAttemptAt = t + retryDelayMs(this.delays, rounds);
      this.log?.event('error', { what: 'dsn', id, msg: `recipients ${unreported.map((r) => r.address).join(', ')} stay queued until their bounce can be queued` }, 'error');
    }
    const stillPending = recipients.filter(isPending);
    if (stillPending.length === 0) {
      await this.spool.remove(id);
      return;
    }
    const warnHours = this.config.delayWarningHours;
    if (!entry.delayWarned && warnHours !== null && t - env.receivedAt >= warnHours * HOUR_MS) {
      // A warning that could not be queued is tried again after the next round.
      if (await this.notify(() => this.onDelayWarning?.(entry, stillPending), id, 'delay warning')) patch.delayWarned = true;
    }
    await this.spool.updateState(id, patch);
  }

  /** True when the message was bounced and removed; false when it was gone or its DSN could not be queued. */
  private async bounceNow(id: string): Promise<boolean> {
    const entry = this.spool.get(id);
    if (!entry) return false;
    const t = this.clock.now();
    const before = entry.recipients;
    const recipients = entry.recipients.map((r) => ({ ...r }));
    const targets = recipients.filter(isPending);
    for (const st of targets) {
      st.status = 'bounced';
      st.lastReply = 'bounced by the administrator';
    }
    await this.spool.updateState(id, { recipients }, { persist: false });
    if (targets.length && !(await this.notifyBounce(entry, targets, 'admin'))) {
      // The message stays as it was rather than vanish without its bounce.
      await this.spool.updateState(id, { recipients: before }, { persist: false });
      this.log?.event('error', { what: 'dsn', id, msg: 'not bounced: its bounce could not be queued; the message stays in the queue' }, 'error');
      return false;
    }
    for (const st of targets) {
      this.log?.event('bounced', { id, rcpt: st.address, nextHop: st.nextHop, reply: st.lastReply, reason: 'admin', delayMs: t - entry.envelope.receivedAt }, 'warn');
    }
    await this.spool.remove(id);
    return true;
  }

  private notifyBounce(entry: QueueEntry, failed: RecipientState[], reason: BounceReason): Promise<boolean> {
    return this.notify(() => this.onBounce?.(entry, failed, reason), entry.envelope.id, `bounce (${reason})`);
  }

  /** Run a DSN handler; false (and an error line) when it could not queue the DSN, e.g. disk full. */
  private async notify(fn: () => void | Promise<void>, id: string, what: string): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.log?.event('error', { what: 'dsn', id, msg: `${what} could not be queued: ${err instanceof Error ? err.message : String(err)}` }, 'error');
      return false;
    }
  }

  private async settleAll(work: Array<Promise<unknown>>, what: string): Promise<void> {
    for (const r of await Promise.allSettled(work)) {
      if (r.status === 'rejected') this.log?.event('error', { what: 'queue', msg: `${what}: ${String(r.reason)}` }, 'error');
    }
  }

  private arm(now: number): void {
    const next = this.due.nextAt();
    // Due now but no free slot: the next finished attempt pumps, no timer needed.
    const wanted = next !== undefined && next > now ? next : undefined;
    if (wanted === this.timerAt) return;
    this.disarm();
    if (wanted === undefined) return;
    this.timerAt = wanted;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = null;
        this.timerAt = undefined;
        this.pump();
      },
      Math.min(wanted - now, MAX_TIMER_MS),
    );
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = undefined;
  }

  private isIdle(): boolean {
    if (this.busy.size > 0) return false;
    if (!this.started || this.stopped) return true;
    const next = this.due.nextAt();
    return next === undefined || next > this.clock.now();
  }

  private settleIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
