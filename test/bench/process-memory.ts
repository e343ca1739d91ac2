/**
 * Peak memory of a process tree, sampled from /proc. Postfix is dozens of small processes sharing
 * libraries, so the plain sum of RSS counts shared pages many times; PSS (proportional set size)
 * splits them fairly. Both are reported; for a single Node process they are nearly equal.
 *
 * Reads are asynchronous on purpose: a synchronous pass over ~70 Postfix processes blocks the event
 * loop for several milliseconds, which would show up in the latency client running in this process.
 */
import { readFile, readdir } from 'node:fs/promises';

/** Peak memory seen while sampling, in MiB. */
export interface MemoryPeak {
  rssMiB: number;
  pssMiB: number;
  processes: number;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return ''; // the process vanished
  }
}

/** `rootPid` and all its descendants. */
export async function processTree(rootPid: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const children = new Map<number, number[]>();
  for (const [pid, stat] of await Promise.all(pids.map(async (p) => [Number(p), await readOrEmpty(`/proc/${p}/stat`)] as const))) {
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const todo = [rootPid];
  while (todo.length > 0 && out.length < 10_000) {
    const pid = todo.pop() as number;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

async function memoryOf(pids: number[]): Promise<{ rssKiB: number; pssKiB: number; count: number }> {
  const rollups = await Promise.all(pids.map((pid) => readOrEmpty(`/proc/${pid}/smaps_rollup`)));
  const sum = { rssKiB: 0, pssKiB: 0, count: 0 };
  for (const r of rollups) {
    if (!r) continue; // gone, or a zombie
    sum.rssKiB += Number(/^Rss:\s+(\d+)/m.exec(r)?.[1] ?? 0);
    sum.pssKiB += Number(/^Pss:\s+(\d+)/m.exec(r)?.[1] ?? 0);
    sum.count++;
  }
  return sum;
}

/** Samples the tree under `rootPid` every `intervalMs` until stopped; resolves the peaks. */
export function sampleMemory(rootPid: number, intervalMs = 500): { stop(): Promise<MemoryPeak> } {
  const peak = { rssKiB: 0, pssKiB: 0, count: 0 };
  let running: Promise<void> = Promise.resolve();
  const sample = () => {
    running = running
      .then(async () => {
        const m = await memoryOf(await processTree(rootPid));
        peak.rssKiB = Math.max(peak.rssKiB, m.rssKiB);
        peak.pssKiB = Math.max(peak.pssKiB, m.pssKiB);
        peak.count = Math.max(peak.count, m.count);
      })
      .catch(() => undefined);
  };
  sample();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // never queue samples behind a slow one
    busy = true;
    sample();
    void running.finally(() => (busy = false));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      sample();
      await running;
      return { rssMiB: peak.rssKiB / 1024, pssMiB: peak.pssKiB / 1024, processes: peak.count };
    },
  };
}
