/**
 * Queue ids: hex milliseconds + random, e.g. "0192f3a1c2d4-5f1a9c07e2". Fixed-width hex makes a plain
 * string sort a time sort (the spool lists and recovers in arrival order), and the alphabet keeps them
 * safe as file names and in Received headers.
 */
import { randomBytes } from 'node:crypto';

const QUEUE_ID = /^[0-9a-f]{12}-[0-9a-f]{10}$/;

/** A new queue id for a message received at `now` (epoch ms). 40 random bits make a clash within one ms negligible. */
export function newQueueId(now: number = Date.now()): string {
  return `${Math.max(0, Math.floor(now)).toString(16).padStart(12, '0')}-${randomHex5()}`;
}

/** True for strings shaped like our ids; everything that becomes a path is checked with this first. */
export function isQueueId(s: string): boolean {
  return QUEUE_ID.test(s);
}

/** The epoch ms encoded in an id. */
export function queueIdTime(id: string): number {
  return parseInt(id.slice(0, 12), 16);
}

// Random bytes drawn from a pool refilled 4 KiB at a time: one syscall per 800 ids, not per id.
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomHex5(): string {
  if (poolOffset + 5 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + 5);
  poolOffset += 5;
  return hex;
}
