/**
 * Delivery status notifications (RFC 3464, SPEC §1.4): bounces and delay warnings as
 * multipart/report messages with a human-readable part, a message/delivery-status part and the
 * original message's header (text/rfc822-headers). A DSN is sent with the null sender, so it can
 * never cause another DSN; a failed message that itself had the null sender (a bounce that could
 * not be returned) is reported to the external postmasters instead, and a report about such a
 * report goes nowhere.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { RelayConfig } from '../config/schema.ts';
import type { QueueEntry, RecipientState } from '../queue/types.ts';
import { asciiDomain, isAscii, sameAddress } from './address-parts.ts';

/** One recipient line of a DSN. */
export interface DsnRecipient {
  /** The recipient as queued. */
  recipient: string;
  action: 'failed' | 'delayed';
  /** Enhanced status code, e.g. "5.1.1". */
  status: string;
  /** "host[ip]:port" or a host name; null when no server was reached. */
  remoteMta: string | null;
  /** The last reply or reason, one line. */
  diagnostic: string | null;
  /** True when `diagnostic` is a reply from the remote server (Diagnostic-Code: smtp; …). */
  diagnosticIsSmtp: boolean;
  lastAttemptAt: number | null;
  /** For delays: when we give up (receivedAt + maxLifetimeHours). */
  willRetryUntil?: number | null;
}

/** Everything a DSN says: which message, which recipients, to whom, and when. */
export interface DsnInput {
  entry: QueueEntry;
  kind: 'failure' | 'delay';
  recipients: DsnRecipient[];
  /** The relay's FQDN (general.profile.hostname): Reporting-MTA, From and Message-ID. */
  reportingMta: string;
  /** Who receives the DSN (see bounceRecipients); becomes the To: header. */
  to: string[];
  /** Header block of the original message, as read by readHeaderBlock. */
  originalHeaders: Buffer;
  now: number;
}

/** A composed DSN, ready to be queued like any other message. */
export interface ComposedDsn {
  /** Always "" (the null sender). */
  sender: '';
  recipients: string[];
  message: Buffer;
  /** 8bitmime when the quoted header block holds 8-bit bytes. */
  bodyType: '7bit' | '8bitmime';
  /** True when an address in the report is non-ASCII (RFC 6533 utf-8 address type). */
  smtpUtf8: boolean;
}

/**
 * Who a DSN about `entry` goes to: the envelope sender; for a message with the null sender (a
 * bounce) the external postmasters, for failures only (a double bounce); nobody when none are
 * configured, for delay warnings about bounces, or when the message already was a report to the
 * postmasters (no triple bounce).
 */
export function bounceRecipients(entry: QueueEntry, config: Pick<RelayConfig, 'general'>, kind: 'failure' | 'delay' = 'failure'): string[] {
  const sender = entry.envelope.sender;
  if (sender !== '') return [sender];
  if (kind === 'delay') return [];
  const postmasters = config.general.externalPostmasters;
  const toPostmasters = entry.envelope.recipients.every((r) => postmasters.some((p) => sameAddress(p, r)));
  if (entry.envelope.origin === 'dsn' && toPostmasters) return [];
  return [...postmasters];
}

/**
 * Read the header block of a stored message (up to and including the blank line), then stop
 * reading and destroy the stream. At most `maxBytes` are kept; a longer header is cut at a line end.
 */
export async function readHeaderBlock(stream: Readable, maxBytes = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      chunks.push(buf);
      size += buf.length;
      const all = Buffer.concat(chunks, size);
      const end = headerEnd(all);
      if (end >= 0) return all.subarray(0, Math.min(end, maxBytes));
      if (size >= maxBytes) return cutAtLine(all.subarray(0, maxBytes));
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, size);
}

function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

function cutAtLine(buf: Buffer): Buffer {
  const nl = buf.lastIndexOf('\n');
  return nl >= 0 ? buf.subarray(0, nl + 1) : buf;
}

/** Compose the DSN message (RFC 3464 / RFC 6522) as bytes with CRLF line ends. */
export function composeDsn(input: DsnInput): ComposedDsn {
  const { entry, kind, reportingMta } = input;
  const host = asciiDomain(reportingMta);
  const boundary = `=_relaydesk_${randomBytes(12).toString('hex')}`;
  const failure = kind === 'failure';
  const doubleBounce = entry.envelope.sender === '';
  const subject = failure
    ? doubleBounce
      ? 'Undeliverable bounce: a delivery report could not be returned'
      : 'Undelivered Mail Returned to Sender'
    : 'Delayed Mail (still being retried)';
  const smtpUtf8 = input.recipients.some((r) => !isAscii(r.recipient)) || input.to.some((t) => !isAscii(t));

  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: ${input.to.map((t) => `<${t}>`).join(', ')}`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.now.toString(36)}.${randomBytes(6).toString('hex')}.dsn@${host}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    'Content-Transfer-Encoding: 7bit',
  ];

  const human = humanText(input, host);
  const status = [
    `Reporting-MTA: dns; ${host}`,
    `X-Relay-Desk-Queue-ID: ${entry.envelope.id}`,
    `Arrival-Date: ${rfc5322Date(entry.envelope.receivedAt)}`,
    ...input.recipients.flatMap((r) => ['', ...recipientFields(r)]),
  ];

  const headers = input.originalHeaders;
  const eightBit = headers.some((b) => b > 0x7f);
  const parts: Buffer[] = [
    text([...head, '', 'This is a MIME-encapsulated message.', '']),
    text([`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', 'Content-Description: Notification', '', ...human, '']),
    text([`--${boundary}`, `Content-Type: message/${smtpUtf8 ? 'global-delivery-status' : 'delivery-status'}`, 'Content-Description: Delivery report', '', ...status, '']),
    text([`--${boundary}`, 'Content-Type: text/rfc822-headers', 'Content-Description: Undelivered message headers', '', '']),
    toCrlf(headers),
    text(['', `--${boundary}--`, '']),
  ];
  const message = Buffer.concat(parts);
  const humanIs8bit = human.some((l) => !isAscii(l));
  return { sender: '', recipients: [...input.to], message, bodyType: eightBit || humanIs8bit ? '8bitmime' : '7bit', smtpUtf8 };
}

function humanText(input: DsnInput, host: string): string[] {
  const failure = input.kind === 'failure';
  const lines = failure
    ? input.entry.envelope.sender === ''
      ? [
          `This is the mail system at ${host}.`,
          '',
          'A message with an empty envelope sender (usually a bounce) could not be delivered,',
          'and it has nobody to be returned to. It is reported to you as postmaster.',
        ]
      : [
          `This is the mail system at ${host}.`,
          '',
          "I'm sorry to have to inform you that your message could not be delivered to one or",
          'more recipients. It is attached below (headers only).',
        ]
    : [
        `This is the mail system at ${host}.`,
        '',
        'Your message could not be delivered yet to one or more recipients. It is still being',
        'retried; you do not need to send it again. You will be told if delivery finally fails.',
      ];
  lines.push('');
  for (const r of input.recipients) {
    const where = r.remoteMta ? ` (${r.remoteMta})` : '';
    lines.push(`<${r.recipient}>${where}: ${r.diagnostic ?? (r.action === 'failed' ? 'delivery failed' : 'delivery delayed')}`);
    if (r.action === 'delayed' && r.willRetryUntil) lines.push(`    will be retried until ${rfc5322Date(r.willRetryUntil)}`);
  }
  return lines.map((l) => l.replace(/[\r\n]+/g, ' '));
}

function recipientFields(r: DsnRecipient): string[] {
  const addrType = isAscii(r.recipient) ? 'rfc822' : 'utf-8';
  const fields = [`Final-Recipient: ${addrType}; ${r.recipient}`, `Action: ${r.action}`, `Status: ${r.status}`];
  if (r.remoteMta) fields.push(`Remote-MTA: dns; ${remoteHost(r.remoteMta)}`);
  if (r.diagnostic) fields.push(fold(`Diagnostic-Code: ${r.diagnosticIsSmtp ? 'smtp' : 'x-relay-desk'}; ${asciiOnly(r.diagnostic)}`));
  if (r.lastAttemptAt !== null) fields.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`);
  if (r.action === 'delayed' && r.willRetryUntil) fields.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
  return fields;
}

/**
 * A DSN line from a queue recipient's stored state. The status comes from the enhanced code in the
 * last reply when there is one, else 5.0.0 / 4.0.0.
 */
export function dsnRecipientFromState(state: RecipientState, action: 'failed' | 'delayed', willRetryUntil: number | null = null): DsnRecipient {
  const reply = state.lastReply;
  const smtp = reply !== null && /^[2-5]\d\d\b/.test(reply);
  const given = reply ? /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] : undefined;
  const fallback = action === 'failed' ? '5.0.0' : '4.0.0';
  const status = given ? `${action === 'failed' ? 5 : 4}${given.slice(1)}` : fallback;
  return {
    recipient: state.address,
    action,
    status,
    remoteMta: state.nextHop && state.nextHop !== '(none)' ? state.nextHop : null,
    diagnostic: reply,
    diagnosticIsSmtp: smtp,
    lastAttemptAt: state.lastAttemptAt,
    willRetryUntil,
  };
}

/** "mx.example.com[192.0.2.1]:25" → "mx.example.com"; "[192.0.2.1]:25" → "192.0.2.1". */
function remoteHost(nextHop: string): string {
  const named = /^([^[\s]+)\[/.exec(nextHop);
  if (named) return named[1]!;
  const ip = /^\[([^\]]+)\]/.exec(nextHop);
  if (ip) return ip[1]!;
  return nextHop.replace(/:\d+$/, '');
}

function asciiOnly(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** Fold a header line at spaces so lines stay under 78 characters where possible. */
export function fold(line: string, width = 78): string {
  if (line.length <= width) return line;
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      out.push(current);
      current = ` ${word}`;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  if (current !== '') out.push(current);
  return out.join('\r\n');
}

/** RFC 5322 date-time in UTC, e.g. "Tue, 05 Mar 2024 09:08:07 +0000". */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

function text(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

function toCrlf(buf: Buffer): Buffer {
  return Buffer.from(buf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
