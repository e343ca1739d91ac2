/**
 * At start, before the spool reads queue/msg: every message still live in the intake log (written,
 * fsynced, acknowledged, and neither done nor already in its own file) is written to its own file in
 * queue/msg, durably; then the segments go. The relay then starts with an empty log and sees these
 * messages like any other queued mail.
 *
 * A segment that holds bytes past its last intact record (a crash while writing, or damage) is moved
 * to queue/corrupt for a person to look at rather than deleted: the spool never deletes what may be mail.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RelayLog } from '../logging/relay-log.ts';
import { fsyncDir } from './atomic-file.ts';
import { RECORD_MESSAGE, parseSegment } from './intake-log-format.ts';
import { SEGMENT_NAME } from './intake-log.ts';
import { isQueueId } from './queue-id.ts';

export interface IntakeLogDirs {
  logDir: string;
  tmpDir: string;
  msgDir: string;
  corruptDir: string;
}

export interface IntakeLogRecovery {
  /** Sequence number for the next segment (above every one seen in queue/log). */
  nextSeq: number;
  /** Messages moved from the log into queue/msg. */
  recovered: number;
}

export async function recoverIntakeLog(dirs: IntakeLogDirs, log?: Pick<RelayLog, 'event'>): Promise<IntakeLogRecovery> {
  await fs.mkdir(dirs.logDir, { recursive: true, mode: 0o700 });
  const names = (await fs.readdir(dirs.logDir)).filter((n) => SEGMENT_NAME.test(n)).sort();
  let nextSeq = 1;
  const live = new Map<string, Buffer>();
  const damaged = new Set<string>();
  for (const name of names) {
    nextSeq = Math.max(nextSeq, Number(SEGMENT_NAME.exec(name)![1]) + 1);
    const bytes = await fs.readFile(path.join(dirs.logDir, name));
    const parsed = parseSegment(bytes);
    // Segments are read in write order, so a done record always comes after its message record.
    for (const r of parsed.records) {
      if (r.kind === RECORD_MESSAGE) live.set(r.id, r.payload);
      else live.delete(r.id);
    }
    if (parsed.validBytes < bytes.length) damaged.add(name);
  }

  let recovered = 0;
  for (const [id, payload] of live) {
    if (!isQueueId(id)) continue;
    const final = path.join(dirs.msgDir, id);
    if (await exists(final)) continue; // already moved to its own file before the stop
    const tmp = path.join(dirs.tmpDir, id);
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(payload);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, final);
    recovered++;
  }
  if (recovered > 0) await fsyncDir(dirs.msgDir);

  for (const name of names) {
    const file = path.join(dirs.logDir, name);
    if (!damaged.has(name)) {
      await fs.rm(file, { force: true });
      continue;
    }
    await fs.mkdir(dirs.corruptDir, { recursive: true, mode: 0o700 });
    // Numbers start again after every start, so the kept name carries the time: never overwritten.
    const kept = path.join(dirs.corruptDir, `intake-log-${Date.now().toString(16)}-${name}`);
    await fs.rename(file, kept);
    log?.event(
      'error',
      { what: 'queue', file, movedTo: kept, msg: 'intake log segment ends in an incomplete or damaged record (a crash while writing?); every intact message before it was recovered' },
      'warn',
    );
  }
  if (names.length > 0) await fsyncDir(dirs.logDir);
  return { nextSeq, recovered };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
