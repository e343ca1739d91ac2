/** Statistics methods of the control contract (`stats.get`), SPEC §1.8. */
import { z } from 'zod';

/** The per-minute counters the relay keeps. */
export const counterNames = ['received', 'rejected', 'delivered', 'deferred', 'bounced'] as const;
export const counterNameSchema = z.enum(counterNames);
/** The per-minute counters the relay keeps. */
export type CounterName = (typeof counterNames)[number];

/** The gauges the relay samples (the last and the highest value per minute are kept). */
export const gaugeNames = ['queueSize'] as const;
/** The gauges the relay samples. */
export type GaugeName = (typeof gaugeNames)[number];

/** Longest series one call may ask for. */
export const MAX_STATS_BUCKETS = 10_080;

export const statsGetParams = z
  .object({
    /** Epoch ms, inclusive. */
    from: z.number().min(0),
    /** Epoch ms, exclusive. */
    to: z.number().min(0),
    /** Bucket width in seconds: a whole number of minutes. */
    step: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .refine((s) => s % 60 === 0, { message: 'must be a whole number of minutes (a multiple of 60)' }),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.to <= p.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after "from"' });
    else if ((p.to - p.from) / (p.step * 1000) > MAX_STATS_BUCKETS) {
      ctx.addIssue({ code: 'custom', path: ['step'], message: `gives more than ${MAX_STATS_BUCKETS} buckets; use a larger step` });
    }
  });
/** Params of `stats.get`. */
export type StatsQuery = z.output<typeof statsGetParams>;

const counts = z.object(Object.fromEntries(counterNames.map((n) => [n, z.number().int().min(0)])) as Record<CounterName, z.ZodNumber>).strict();
/** Counts per reason, per counter that has reasons (e.g. rejected → {"relay access denied": 3}). */
const reasons = z.partialRecord(counterNameSchema, z.record(z.string(), z.number().int().min(0)));

/** One bucket of a series: counts, reasons, and the queue size seen in it. */
export const statsBucketSchema = z
  .object({
    /** Epoch ms of the bucket's start (buckets are aligned to multiples of `step` since the epoch). */
    start: z.number(),
    counts,
    reasons,
    /** Last and highest queue size sampled in the bucket; null when none was. */
    queueSize: z.number().int().min(0).nullable(),
    queueSizeMax: z.number().int().min(0).nullable(),
  })
  .strict();
/** One bucket of a stats series. */
export type StatsBucket = z.output<typeof statsBucketSchema>;

export const statsGetResult = z
  .object({
    from: z.number(),
    to: z.number(),
    step: z.number().int(),
    buckets: z.array(statsBucketSchema),
    totals: z.object({ counts, reasons }).strict(),
  })
  .strict();
/** Result of `stats.get`. */
export type StatsSeries = z.output<typeof statsGetResult>;
