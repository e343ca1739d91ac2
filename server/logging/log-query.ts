/**
 * Reading the event log back for `logs.query` (SPEC §1.8): relay.log, then relay.log.1 … relay.log.N,
 * each read backwards in chunks, so the newest lines come first and a query stops as soon as it has
 * `limit` matches or reaches lines older than `since` — no file is ever loaded whole.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { logLineSchema, type LogFilter, type LogLine } from '../protocol/index.ts';
import { LOG_FILE_NAME } from './relay-log.ts';

/** What logs.query asks for (its parsed params). */
export interface LogQuery {
  /** Epoch ms: lines at or after this time. */
  since: number;
  /** Epoch ms: lines before this time (default: no upper bound). */
  until?: number | undefined;
  filter: LogFilter;
  limit: number;
}

/** What logs.query returns. */
export interface LogQueryResult {
  /** Newest first. */
  items: LogLine[];
  /** More matching lines exist beyond `limit`. */
  truncated: boolean;
}

const CHUNK_BYTES = 64 * 1024;
/** Longer lines are not ours (or torn); skip them rather than buffer them. */
const MAX_LINE_BYTES = 1024 * 1024;
const NL = 0x0a;

/** Whether a parsed line passes a filter; `raw` is its JSON text when at hand (for `text`). */
export function matchesLogFilter(line: LogLine, filter: LogFilter, raw?: string): boolean {
  if (filter.event !== undefined) {
    const events: readonly string[] = Array.isArray(filter.event) ? filter.event : [filter.event];
    if (!events.includes(line.event)) return false;
  }
  if (filter.id !== undefined && line.id !== filter.id) return false;
  if (filter.client !== undefined) {
    const needle = filter.client.toLowerCase();
    if (!clientFields(line).some((v) => v.toLowerCase().includes(needle))) return false;
  }
  if (filter.text !== undefined && !(raw ?? JSON.stringify(line)).toLowerCase().includes(filter.text.toLowerCase())) return false;
  return true;
}

/** The client's address and name, wherever the event put them (`client` may be a string or an object). */
function clientFields(line: LogLine): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
  };
  const client = line.client;
  if (client && typeof client === 'object') {
    add((client as Record<string, unknown>).ip);
    add((client as Record<string, unknown>).hostname);
  } else add(client);
  add(line.ip);
  add(line.clientIp);
  add(line.clientHostname);
  return out;
}

/** The log files of `dir`, newest first: relay.log, relay.log.1, relay.log.2, … */
async function logFilesNewestFirst(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rotated = names
    .map((n) => ({ n, m: new RegExp(`^${LOG_FILE_NAME.replace('.', '\\.')}\\.(\\d+)$`).exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => x.n);
  const all = names.includes(LOG_FILE_NAME) ? [LOG_FILE_NAME, ...rotated] : rotated;
  return all.map((n) => path.join(dir, n));
}

/** The lines of a file, last first, read backwards in chunks. */
export async function* linesNewestFirst(file: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<string> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // rotated away meanwhile
    throw err;
  }
  try {
    let pos = (await fh.stat()).size;
    let carry = Buffer.alloc(0);
    // After dropping an overlong line's tail, its head (up to the previous newline) is dropped too.
    let skipping = false;
    while (pos > 0) {
      const len = Math.min(chunkBytes, pos);
      pos -= len;
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      const data = carry.length ? Buffer.concat([buf.subarray(0, bytesRead), carry]) : buf.subarray(0, bytesRead);
      let end = data.length;
      while (end > 0) {
        const nl = data.lastIndexOf(NL, end - 1);
        if (nl === -1) break;
        if (skipping) skipping = false;
        else if (end > nl + 1) yield data.toString('utf8', nl + 1, end);
        end = nl;
      }
      carry = Buffer.from(data.subarray(0, end));
      if (carry.length > MAX_LINE_BYTES) {
        carry = Buffer.alloc(0);
        skipping = true;
      }
    }
    if (carry.length && !skipping) yield carry.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Search the event log in `dir` (DIR/logs), newest first. */
export async function queryLogs(dir: string, q: LogQuery): Promise<LogQueryResult> {
  const items: LogLine[] = [];
  const until = q.until ?? Infinity;
  const text = q.filter.text?.toLowerCase();
  for (const file of await logFilesNewestFirst(dir)) {
    const st = await fs.stat(file).catch(() => null);
    // A file last written before `since` holds only older lines, and so do all older files.
    if (!st || st.mtimeMs < q.since) break;
    for await (const raw of linesNewestFirst(file)) {
      if (text !== undefined && !raw.toLowerCase().includes(text)) continue;
      const line = parseLine(raw);
      if (!line) continue;
      if (line.time >= until) continue;
      // Lines are appended in time order: the first one older than `since` ends the search.
      if (line.time < q.since) return { items, truncated: false };
      if (!matchesLogFilter(line, q.filter, raw)) continue;
      if (items.length === q.limit) return { items, truncated: true };
      items.push(line);
    }
  }
  return { items, truncated: false };
}

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function parseLine(raw: string): LogLine | null {
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    // pino writes numeric levels to the file; live lines and query results use the names.
    if (value && typeof value.level === 'number') value.level = PINO_LEVELS[value.level] ?? String(value.level);
    const r = logLineSchema.safeParse(value);
    return r.success ? r.data : null;
  } catch {
    return null; // a torn last line while the relay writes, or not ours
  }
}
