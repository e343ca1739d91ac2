/**
 * Per-minute counters (SPEC §1.8): received, rejected, delivered, deferred, bounced — each optionally
 * by reason — and the queue size, kept for `retentionDays` (≥ 7) across restarts. One file per UTC
 * day, `DIR/stats/YYYY-MM-DD.json`, rewritten atomically at most once a minute: a crash loses at most
 * the last minute, never a day.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../queue/atomic-file.ts';
import { counterNames, type CounterName, type GaugeName, type StatsBucket, type StatsSeries } from '../protocol/index.ts';

/** Options of Stats.open. */
export interface StatsOptions {
  /** The clock (epoch ms); tests pass a fake one. */
  now?: () => number;
  /** Days of minutes kept (default 8, at least 7). */
  retentionDays?: number;
  /** How often dirty days are written (default 60 s; 0 = only on flush()/close()). */
  flushIntervalMs?: number;
  /** Told about unreadable day files (they are skipped, then overwritten). */
  onWarning?: (message: string) => void;
}

const MINUTE_MS = 60_000;
/** Distinct reasons kept per counter per minute; the rest count as "other". */
const MAX_REASONS_PER_MINUTE = 100;
const MAX_REASON_LENGTH = 200;

const minuteRecordSchema = z.object({
  /** Counts by counter name. */
  c: z.partialRecord(z.enum(counterNames), z.number().int().min(0)).default({}),
  /** Counts by reason, by counter name. */
  r: z.partialRecord(z.enum(counterNames), z.record(z.string(), z.number().int().min(0))).optional(),
  /** Queue size: [last, max]. */
  q: z.tuple([z.number().int().min(0), z.number().int().min(0)]).optional(),
});
type MinuteRecord = z.output<typeof minuteRecordSchema>;

const dayFileSchema = z.object({
  version: z.literal(1),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Keyed by minute number since the epoch. */
  minutes: z.record(z.string().regex(/^\d+$/), minuteRecordSchema),
});

const dayOf = (minute: number): string => new Date(minute * MINUTE_MS).toISOString().slice(0, 10);

/** The relay's counters: count() and setGauge() from anywhere, query() for stats.get. */
export class Stats {
  private readonly days = new Map<string, Map<number, MinuteRecord>>();
  private readonly dirty = new Set<string>();
  private readonly now: () => number;
  private readonly retentionDays: number;
  private lastGauge: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly opts: StatsOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.retentionDays = Math.max(7, opts.retentionDays ?? 8);
  }

  /** Open (creating) the stats directory and load the retained days. */
  static async open(dir: string, opts: StatsOptions = {}): Promise<Stats> {
    const stats = new Stats(dir, opts);
    await fs.mkdir(dir, { recursive: true });
    await stats.load();
    const every = opts.flushIntervalMs ?? MINUTE_MS;
    if (every > 0) {
      stats.timer = setInterval(() => void stats.flush().catch((err: Error) => opts.onWarning?.(`cannot write stats: ${err.message}`)), every);
      stats.timer.unref();
    }
    return stats;
  }

  /** Add `n` to a counter for the current minute, optionally under a reason (e.g. a reject rule). */
  count(name: CounterName, n = 1, reason?: string): void {
    if (!(n > 0)) return;
    const rec = this.record(this.currentMinute());
    rec.c[name] = (rec.c[name] ?? 0) + n;
    if (reason !== undefined) {
      const byReason = ((rec.r ??= {})[name] ??= {});
      let key = reason.slice(0, MAX_REASON_LENGTH) || '(none)';
      if (!(key in byReason) && Object.keys(byReason).length >= MAX_REASONS_PER_MINUTE) key = 'other';
      byReason[key] = (byReason[key] ?? 0) + n;
    }
  }

  /** Sample a gauge; each minute keeps its last and highest sample. */
  setGauge(_name: GaugeName, value: number): void {
    const v = Math.max(0, Math.round(value));
    this.lastGauge = v;
    const rec = this.record(this.currentMinute());
    rec.q = rec.q ? [v, Math.max(rec.q[1], v)] : [v, v];
  }

  /** Buckets of `step` seconds (aligned to multiples of step since the epoch) covering [from, to). */
  query(from: number, to: number, step: number): StatsSeries {
    const stepMs = step * 1000;
    const first = Math.floor(from / stepMs) * stepMs;
    const buckets: StatsBucket[] = [];
    for (let start = first; start < to; start += stepMs) buckets.push(emptyBucket(start));
    // Minutes come in no particular order: a bucket's queue size is that of its latest sampled minute.
    const sampledMinute: number[] = buckets.map(() => -1);
    const totals = { counts: emptyBucket(0).counts, reasons: {} as StatsBucket['reasons'] };
    const firstMinute = Math.floor(first / MINUTE_MS);
    const endMinute = Math.ceil(to / MINUTE_MS);
    for (const [day, minutes] of this.days) {
      if (day < dayOf(firstMinute) || day > dayOf(endMinute)) continue;
      for (const [minute, rec] of minutes) {
        if (minute < firstMinute || minute * MINUTE_MS >= to || minute * MINUTE_MS < from) continue;
        const index = Math.floor((minute * MINUTE_MS - first) / stepMs);
        const bucket = buckets[index];
        if (!bucket) continue;
        addRecord(bucket.counts, bucket.reasons, rec);
        addRecord(totals.counts, totals.reasons, rec);
        if (rec.q) {
          if (minute > sampledMinute[index]!) {
            bucket.queueSize = rec.q[0];
            sampledMinute[index] = minute;
          }
          bucket.queueSizeMax = Math.max(bucket.queueSizeMax ?? 0, rec.q[1]);
        }
      }
    }
    return { from, to, step, buckets, totals };
  }

  /** Write every day changed since the last flush (also stamps the current minute's gauge). */
  flush(): Promise<void> {
    if (this.lastGauge !== null) {
      const rec = this.record(this.currentMinute());
      rec.q ??= [this.lastGauge, this.lastGauge];
    }
    this.writing = this.writing.then(() => this.writeDirty());
    return this.writing;
  }

  /** Stop the timer and flush. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  private currentMinute(): number {
    return Math.floor(this.now() / MINUTE_MS);
  }

  private record(minute: number): MinuteRecord {
    const day = dayOf(minute);
    let minutes = this.days.get(day);
    if (!minutes) this.days.set(day, (minutes = new Map()));
    let rec = minutes.get(minute);
    if (!rec) minutes.set(minute, (rec = { c: {} }));
    this.dirty.add(day);
    return rec;
  }

  /** The oldest day kept: today (UTC) minus retentionDays. */
  private cutoffDay(): string {
    return dayOf(this.currentMinute() - this.retentionDays * 1440);
  }

  private async writeDirty(): Promise<void> {
    const cutoff = this.cutoffDay();
    for (const day of [...this.days.keys()]) {
      if (day >= cutoff) continue;
      this.days.delete(day);
      this.dirty.delete(day);
      await fs.rm(path.join(this.dir, `${day}.json`), { force: true });
    }
    for (const day of [...this.dirty]) {
      this.dirty.delete(day);
      const minutes = this.days.get(day);
      if (!minutes) continue;
      const file = { version: 1, day, minutes: Object.fromEntries(minutes) };
      try {
        await writeFileAtomic(path.join(this.dir, `${day}.json`), JSON.stringify(file), 0o600);
      } catch (err) {
        this.dirty.add(day); // try again next time
        throw err;
      }
    }
  }

  private async load(): Promise<void> {
    const cutoff = this.cutoffDay();
    for (const name of await fs.readdir(this.dir)) {
      const m = /^(\d{4}-\d{2}-\d{2})\.json$/.exec(name);
      if (!m) continue;
      const file = path.join(this.dir, name);
      if (m[1]! < cutoff) {
        await fs.rm(file, { force: true });
        continue;
      }
      let parsed;
      try {
        parsed = dayFileSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
      } catch (err) {
        this.opts.onWarning?.(`skipping unreadable stats file ${file}: ${(err as Error).message}`);
        continue;
      }
      if (!parsed.success || parsed.data.day !== m[1]) {
        this.opts.onWarning?.(`skipping malformed stats file ${file}`);
        continue;
      }
      this.days.set(m[1]!, new Map(Object.entries(parsed.data.minutes).map(([k, v]) => [Number(k), v])));
    }
  }
}

function emptyBucket(start: number): StatsBucket {
  return {
    start,
    counts: Object.fromEntries(counterNames.map((n) => [n, 0])) as Record<CounterName, number>,
    reasons: {},
    queueSize: null,
    queueSizeMax: null,
  };
}

function addRecord(counts: Record<CounterName, number>, reasons: StatsBucket['reasons'], rec: MinuteRecord): void {
  for (const [name, n] of Object.entries(rec.c) as [CounterName, number][]) counts[name] += n;
  if (!rec.r) return;
  for (const [name, byReason] of Object.entries(rec.r) as [CounterName, Record<string, number>][]) {
    const into = (reasons[name] ??= {});
    for (const [reason, n] of Object.entries(byReason)) into[reason] = (into[reason] ?? 0) + n;
  }
}
