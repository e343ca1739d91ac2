/** Policy decisions as values: the SMTP session turns a rejection into a reply, the log into a line. */

/** A refusal with everything the session and the log need. */
export interface Rejection {
  ok: false;
  /** 'reject' answers with `code`; 'discard' answers 250 and drops the message. */
  action: 'reject' | 'discard';
  code: number;
  /** Enhanced status code (RFC 3463), e.g. "5.7.1". */
  enhanced: string;
  text: string;
  /** Which rule decided, for the log (e.g. "relay-control", a list rule's name). */
  rule: string;
  /** Close the connection after the reply (421 replies do). */
  disconnect?: boolean;
}

export type Verdict = { ok: true } | Rejection;

export const PASS: Verdict = Object.freeze({ ok: true });

export function reject(code: number, enhanced: string, text: string, rule: string, disconnect = false): Rejection {
  return { ok: false, action: 'reject', code, enhanced, text, rule, disconnect };
}

/** An Error carrying an SMTP reply, the form smtp-server expects from its handlers. */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(r: Pick<Rejection, 'code' | 'enhanced' | 'text'>) {
    super(`${r.enhanced} ${r.text}`);
    this.responseCode = r.code;
  }
}

/** The full reply line as the client sees it, for logs. */
export function replyLine(r: Pick<Rejection, 'code' | 'enhanced' | 'text'>): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}
