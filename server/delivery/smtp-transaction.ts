/**
 * One SMTP mail transaction (MAIL FROM, RCPT TO…, DATA) on a pooled session, with the outcome of
 * every recipient kept apart: some may be accepted and others refused in the same transaction.
 * The message comes from the spool (streamed, or from memory); nodemailer's data stream does the dot-stuffing and
 * leaves every other byte as it is.
 */
import type { Readable } from 'node:stream';
import type { PooledConnection, ReleaseState } from './smtp-client-pool.ts';

/** The envelope of one transaction, addresses exactly as they go on the wire. */
export interface TransactionEnvelope {
  from: string;
  to: string[];
  /** Message size in bytes, sent as SIZE= when the server offers SIZE. */
  size: number;
  /** Send BODY=8BITMIME (only when the server offers it). */
  use8BitMime: boolean;
}

/** What happened to one RCPT TO address. */
export type RcptOutcome = { ok: true; reply: string } | { ok: false; error: unknown };

/** The message bytes: streamed from the spool, or a buffer while the spool still holds them in memory. */
export type MessageBody = Readable | Buffer;

/** Per-recipient outcomes of one transaction and the state of the session after it. */
export interface TransactionResult {
  /** One entry per address of `envelope.to`. */
  byRcpt: Map<string, RcptOutcome>;
  /** How the session can be given back to the pool. */
  release: ReleaseState;
  /** The server answered at least one command of this transaction (false: the session died first). */
  answered: boolean;
}

interface SmtpErrorLike {
  code?: string;
  response?: string;
  recipient?: string;
  rejectedErrors?: SmtpErrorLike[];
}

/** Run one transaction; never rejects (every failure becomes a per-recipient outcome). */
export function runTransaction(pc: PooledConnection, envelope: TransactionEnvelope, openBody: () => MessageBody): Promise<TransactionResult> {
  const conn = pc.connection;
  return new Promise<TransactionResult>((resolve) => {
    let done = false;
    let body: MessageBody | null = null;
    const finish = (result: TransactionResult): void => {
      if (done) return;
      done = true;
      conn.removeListener('end', onEnd);
      // nodemailer leaves the body unread when it stops before DATA without a server reply (a
      // message over the peer's SIZE, a dead session): its file would stay open until the relay stops.
      if (body && !Buffer.isBuffer(body)) body.destroy();
      resolve(result);
    };
    const failAll = (error: unknown, release: ReleaseState, answered: boolean): void => {
      finish({ byRcpt: new Map(envelope.to.map((r) => [r, { ok: false, error }])), release, answered });
    };
    // nodemailer can drop a pending send without calling back when the socket dies between two
    // commands; the session's end is then the only signal we get.
    const onEnd = (): void => {
      setImmediate(() => failAll(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }), 'broken', false));
    };
    conn.once('end', onEnd);

    try {
      body = openBody();
    } catch (err) {
      failAll(Object.assign(err instanceof Error ? err : new Error(String(err)), { code: 'ESTREAM' }), 'clean', false);
      return;
    }
    conn.send(
      { from: envelope.from, to: envelope.to, size: envelope.size, use8BitMime: envelope.use8BitMime },
      body,
      (err, info) => {
        if (!err) {
          const byRcpt = new Map<string, RcptOutcome>();
          const rejected = new Map((info.rejectedErrors ?? []).map((e) => [(e as SmtpErrorLike).recipient ?? '', e]));
          for (const r of envelope.to) {
            const rej = rejected.get(r);
            byRcpt.set(r, rej ? { ok: false, error: rej } : { ok: true, reply: info.response });
          }
          finish({ byRcpt, release: 'clean', answered: true });
          return;
        }
        const e = err as SmtpErrorLike;
        const answered = typeof e.response === 'string' && e.response !== '';
        if (!answered) {
          // Nothing was answered: a dead session, a body that could not be read, or a local check
          // (SIZE) that stopped the message before any command was sent.
          const release: ReleaseState = e.code === 'EMESSAGE' && !conn.destroyed ? 'clean' : 'broken';
          failAll(err, release, false);
          return;
        }
        if (conn.destroyed || e.code === 'ECONNECTION' || e.code === 'ETIMEDOUT') {
          failAll(err, 'broken', true);
          return;
        }
        // The server refused MAIL FROM, all recipients, DATA or the message itself. Recipients it
        // refused at RCPT keep their own reply; the rest get the refusal that ended the transaction.
        const rcptErrors = new Map(
          (e.rejectedErrors ?? pendingRcptErrors(pc)).filter((x) => x.recipient).map((x) => [x.recipient as string, x]),
        );
        const byRcpt = new Map<string, RcptOutcome>();
        for (const r of envelope.to) byRcpt.set(r, { ok: false, error: rcptErrors.get(r) ?? err });
        finish({ byRcpt, release: 'dirty', answered: true });
      },
    );
  });
}

/**
 * RCPT refusals of the current transaction when nodemailer's error does not carry them (a
 * refused DATA or final reply). They live in a private field; without it every recipient gets
 * the final refusal, which is still a correct outcome, only a less precise reply.
 */
function pendingRcptErrors(pc: PooledConnection): SmtpErrorLike[] {
  const envelope = (pc.connection as unknown as { _envelope?: { rejectedErrors?: unknown } })._envelope;
  return Array.isArray(envelope?.rejectedErrors) ? (envelope.rejectedErrors as SmtpErrorLike[]) : [];
}
