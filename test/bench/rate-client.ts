/**
 * An open-loop SMTP client for accept latency: it starts messages at a fixed rate whatever the server
 * does, over a pool of persistent connections (opened before the clock starts, so greeting delays are
 * not counted), and times each message from writing MAIL FROM to the 250 after DATA. A message that
 * finds no idle connection opens a new one (up to `maxConnections`) or waits; its wait shows up as
 * `lateStarts` and in the achieved rate, never silently in the latency.
 */
import net from 'node:net';

/** Result of {@link measureAcceptLatency}; times in milliseconds. */
export interface LatencyResult {
  targetRate: number;
  achievedRate: number;
  sent: number;
  accepted: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Messages that started more than 10 ms after their scheduled time. */
  lateStarts: number;
  connections: number;
  firstError?: string;
}

/** Options of {@link measureAcceptLatency}. */
export interface LatencyOptions {
  host: string;
  port: number;
  rate: number;
  count: number;
  from: string;
  to: string;
  bodyBytes: number;
  warmConnections?: number;
  maxConnections?: number;
  replyTimeoutMs?: number;
}

interface Reply {
  code: number;
  text: string;
}

/** One SMTP client connection without pipelining: one command, one reply. */
class SmtpConnection {
  private buf = '';
  private lines: string[] = [];
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private constructor(
    private readonly sock: net.Socket,
    private readonly timeoutMs: number,
  ) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }

  static async open(host: string, port: number, timeoutMs: number): Promise<SmtpConnection> {
    const sock = net.connect({ host, port });
    const conn = new SmtpConnection(sock, timeoutMs);
    await conn.expect(220, conn.reply());
    await conn.expect(250, conn.send('EHLO bench-client.invalid\r\n'));
    return conn;
  }

  send(data: string): Promise<Reply> {
    this.sock.write(data);
    return this.reply();
  }

  async expect(code: number, reply: Promise<Reply>): Promise<void> {
    const r = await reply;
    if (r.code !== code) throw new Error(`expected ${code}, got: ${r.text}`);
  }

  close(): void {
    this.sock.end('QUIT\r\n');
    setTimeout(() => this.sock.destroy(), 1_000).unref();
  }

  private reply(): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no reply within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.drain();
    });
  }

  private onData(d: Buffer): void {
    this.buf += d.toString('latin1');
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      this.lines.push(this.buf.slice(0, nl).replace(/\r$/, ''));
      this.buf = this.buf.slice(nl + 1);
    }
    this.drain();
  }

  /** A reply is complete at a line "NNN text" (space, not hyphen, after the code). */
  private drain(): void {
    if (!this.waiting) return;
    const end = this.lines.findIndex((l) => /^\d{3}(?: |$)/.test(l));
    if (end < 0) return;
    const lines = this.lines.splice(0, end + 1);
    const last = lines[lines.length - 1] ?? '';
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve({ code: Number(last.slice(0, 3)), text: lines.join(' / ') });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
    this.sock.destroy();
  }
}

function messageText(from: string, to: string, bodyBytes: number, n: number): string {
  const line = 'x'.repeat(70);
  const body: string[] = [];
  for (let left = bodyBytes; left > 0; left -= line.length + 2) body.push(line.slice(0, Math.max(1, left - 2)));
  return (
    [`From: <${from}>`, `To: <${to}>`, `Subject: latency probe ${n}`, `Message-ID: <probe-${n}-${Date.now()}@bench.invalid>`, '', ...body].join(
      '\r\n',
    ) + '\r\n.\r\n'
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

export async function measureAcceptLatency(o: LatencyOptions): Promise<LatencyResult> {
  const timeoutMs = o.replyTimeoutMs ?? 30_000;
  const maxConnections = o.maxConnections ?? 100;
  const idle: SmtpConnection[] = [];
  const all: SmtpConnection[] = [];
  const latencies: number[] = [];
  let failed = 0;
  let lateStarts = 0;
  let opening = 0;
  let firstError: string | undefined;
  const waitingForConnection: (() => void)[] = [];

  const openOne = async () => {
    opening++;
    try {
      const c = await SmtpConnection.open(o.host, o.port, timeoutMs);
      all.push(c);
      return c;
    } finally {
      opening--;
    }
  };
  for (const c of await Promise.all(Array.from({ length: Math.min(o.warmConnections ?? 20, maxConnections) }, openOne))) idle.push(c);

  const release = (c: SmtpConnection | undefined) => {
    if (c) idle.push(c);
    waitingForConnection.shift()?.();
  };
  const acquire = async (): Promise<SmtpConnection> => {
    for (;;) {
      const c = idle.pop();
      if (c) return c;
      if (all.length + opening < maxConnections) {
        try {
          return await openOne();
        } catch {
          /* fall through and wait for one to come back */
        }
      }
      await new Promise<void>((r) => waitingForConnection.push(r));
    }
  };

  const sendOne = async (n: number, scheduledAt: number) => {
    let conn: SmtpConnection | undefined = await acquire();
    if (performance.now() - scheduledAt > 10) lateStarts++;
    try {
      const t0 = performance.now();
      await conn.expect(250, conn.send(`MAIL FROM:<${o.from}>\r\n`));
      await conn.expect(250, conn.send(`RCPT TO:<${o.to}>\r\n`));
      await conn.expect(354, conn.send('DATA\r\n'));
      await conn.expect(250, conn.send(messageText(o.from, o.to, o.bodyBytes, n)));
      latencies.push(performance.now() - t0);
    } catch (err) {
      failed++;
      firstError ??= (err as Error).message;
      conn.close();
      conn = undefined; // a broken or desynchronised connection is not reused
    }
    release(conn);
  };

  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  const interval = 1_000 / o.rate;
  for (let n = 0; n < o.count; ) {
    const now = performance.now();
    // Start every message whose time has come; timers are coarse, so catch up in bursts.
    while (n < o.count && start + n * interval <= now) {
      inFlight.push(sendOne(n, start + n * interval));
      n++;
    }
    if (n < o.count) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, start + n * interval - performance.now()))));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1_000;
  for (const c of all) c.close();

  latencies.sort((a, b) => a - b);
  return {
    targetRate: o.rate,
    achievedRate: latencies.length / elapsed,
    sent: o.count,
    accepted: latencies.length,
    failed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    lateStarts,
    connections: all.length,
    ...(firstError ? { firstError } : {}),
  };
}
