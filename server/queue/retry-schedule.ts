/** When to try a deferred message again (SPEC §1.4: retries follow retrySchedule, the last step repeats). */
import { durationMs } from '../config/schema.ts';

/** The schedule's steps in milliseconds, parsed once per config. */
export function retryDelaysMs(schedule: readonly string[]): number[] {
  const steps = schedule.map(durationMs).filter((ms) => Number.isFinite(ms) && ms >= 0);
  // The config schema demands at least one step; this only guards against a hand-made config object.
  return steps.length > 0 ? steps : [5 * 60_000];
}

/** Delay before the next round after `roundsDone` delivery rounds (1 → first step, …, last step repeats). */
export function retryDelayMs(delays: readonly number[], roundsDone: number): number {
  const i = Math.min(Math.max(roundsDone, 1), delays.length) - 1;
  return delays[i]!;
}
