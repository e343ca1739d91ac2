/**
 * A line-level SMTP client for tests that need to misbehave: talk before the greeting, pipeline,
 * send garbage, hold connections open, bind to a chosen loopback address. Replies are read as they
 * come (multi-line replies joined); nothing waits on timers except the per-reply deadline.
 */
import net from 'node:net';

export interface SmtpReply {
  code: number;
  /** Every line of the reply, with code. */
  lines: string[];
  /** The last line, e.g. "554 5.7.1 Client host rejected: Access denied". */
  line: string;
}

export interface SmtpDialog {
  readonly socket: net.Socket;
  /** Every reply received so far. */
  readonly replies: SmtpReply[];
  /** The next reply not yet taken (waits for it). */
  reply(timeoutMs?: number): Promise<SmtpReply>;
  /** Write raw bytes (no line ending added). */
  write(data: string | Buffer): void;
  /** Send one command line and wait for its reply. */
  command(line: string, timeoutMs?: number): Promise<SmtpReply>;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

export interface DialogOptions {
  port: number;
  host?: string;
  localAddress?: string;
  /** Bytes written the moment the TCP connection is up (an early talker). */
  writeOnConnect?: string;
}

export function openDialog(opts: DialogOptions): Promise<SmtpDialog> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: opts.host ?? '127.0.0.1', port: opts.port, localAddress: opts.localAddress });
    const replies: SmtpReply[] = [];
    let taken = 0;
    let buf = '';
    let pending: string[] = [];
    let closedFlag = false;
    const waiters: (() => void)[] = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    const closed = new Promise<void>((r) => socket.once('close', () => ((closedFlag = true), wake(), r())));
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        pending.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          replies.push({ code: Number(line.slice(0, 3)), lines: pending, line });
          pending = [];
        }
      }
      wake();
    });
    socket.on('error', () => undefined); // a reset shows up as `closed`
    const dialog: SmtpDialog = {
      socket,
      replies,
      closed,
      isClosed: () => closedFlag,
      reply(timeoutMs = 10_000) {
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`no SMTP reply within ${timeoutMs} ms; got so far: ${JSON.stringify(replies.map((r) => r.line))}`)), timeoutMs);
          const check = () => {
            if (taken < replies.length) {
              clearTimeout(timer);
              res(replies[taken++]!);
            } else if (closedFlag) {
              clearTimeout(timer);
              rej(new Error(`connection closed; replies: ${JSON.stringify(replies.map((r) => r.line))}`));
            } else waiters.push(check);
          };
          check();
        });
      },
      write(data) {
        socket.write(data);
      },
      command(line, timeoutMs) {
        socket.write(`${line}\r\n`);
        return dialog.reply(timeoutMs);
      },
      close() {
        socket.destroy();
      },
    };
    socket.once('connect', () => {
      if (opts.writeOnConnect) socket.write(opts.writeOnConnect);
      resolve(dialog);
    });
    socket.once('error', reject);
  });
}

/** Greeting, EHLO, MAIL, RCPT…, DATA, message, QUIT: the replies in order (stops at the first failure). */
export async function sendMessage(
  d: SmtpDialog,
  o: { helo?: string; from: string; to: string[]; body?: string; ehlo?: boolean; skipGreeting?: boolean },
): Promise<SmtpReply[]> {
  const out: SmtpReply[] = [];
  const step = async (r: Promise<SmtpReply>) => {
    const reply = await r;
    out.push(reply);
    return reply.code < 400;
  };
  if (!o.skipGreeting && !(await step(d.reply()))) return out;
  if (o.helo !== undefined && !(await step(d.command(`${o.ehlo === false ? 'HELO' : 'EHLO'} ${o.helo}`)))) return out;
  if (!(await step(d.command(`MAIL FROM:<${o.from}>`)))) return out;
  let accepted = 0;
  for (const rcpt of o.to) if (await step(d.command(`RCPT TO:<${rcpt}>`))) accepted++;
  if (accepted === 0) return out;
  if (!(await step(d.command('DATA')))) return out;
  await step(d.command(`Subject: test\r\n\r\n${o.body ?? 'hello'}\r\n.`));
  return out;
}
