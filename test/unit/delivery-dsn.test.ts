import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relayConfigSchema } from '../../server/config/schema.ts';
import { bounceRecipients, composeDsn, dsnRecipientFromState, fold, readHeaderBlock, rfc5322Date } from '../../server/delivery/dsn.ts';
import type { Envelope, QueueEntry } from '../../server/queue/types.ts';

const config = relayConfigSchema.parse({
  general: { profile: { hostname: 'relay.corp.example' }, externalPostmasters: ['pm1@corp.example', 'pm2@elsewhere.example'] },
});

function entry(env: Partial<Envelope> = {}): QueueEntry {
  const recipients = env.recipients ?? ['bad@far.example', 'slow@far.example'];
  return {
    envelope: {
      id: '018f00000000-abcdef',
      receivedAt: Date.UTC(2024, 2, 5, 9, 8, 7),
      sender: 'alice@corp.example',
      recipients,
      client: { ip: '192.0.2.10', hostname: null, helo: 'pc.corp.example', authUser: null, tls: false },
      bodyType: '7bit',
      smtpUtf8: false,
      origin: 'smtp',
      ...env,
    },
    size: 100,
    recipients: recipients.map((address) => ({ address, status: 'queued', attempts: 1, lastAttemptAt: null, lastReply: null, nextHop: null })),
    held: false,
    nextAttemptAt: 0,
    attempts: 1,
    delayWarned: false,
  };
}

const original = Buffer.from(
  'Received: from pc.corp.example by relay.corp.example\r\nFrom: Alice <alice@corp.example>\r\nSubject: Quarterly numbers\r\nMessage-ID: <m1@corp.example>\r\n\r\nThe body must not be quoted.\r\n',
);

/** Split a multipart message into top headers and parts (each with its own headers and body). */
function parseMultipart(raw: string) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const body = rest.join('\r\n\r\n');
  const boundary = /boundary="([^"]+)"/.exec(head!)![1]!;
  const segments = body.split(`--${boundary}`);
  expect(segments.at(-1)!.startsWith('--')).toBe(true); // closing delimiter
  const parts = segments.slice(1, -1).map((seg) => {
    const s = seg.replace(/^\r\n/, '');
    const i = s.indexOf('\r\n\r\n');
    return { headers: s.slice(0, i), body: s.slice(i + 4) };
  });
  return { head: head!, parts };
}

describe('DSN composition', () => {
  const now = Date.UTC(2024, 2, 6, 10, 0, 0);

  it('builds an RFC 3464 failure report with human text, delivery-status and the original headers', () => {
    const dsn = composeDsn({
      entry: entry(),
      kind: 'failure',
      reportingMta: 'relay.corp.example',
      to: ['alice@corp.example'],
      originalHeaders: original.subarray(0, original.indexOf('\r\n\r\n') + 4),
      now,
      recipients: [
        {
          recipient: 'bad@far.example',
          action: 'failed',
          status: '5.1.1',
          remoteMta: 'mx1.far.example[192.0.2.25]:25',
          diagnostic: '550 5.1.1 <bad@far.example>: user unknown (in reply to RCPT TO)',
          diagnosticIsSmtp: true,
          lastAttemptAt: now - 1000,
        },
      ],
    });
    expect(dsn.sender).toBe('');
    expect(dsn.recipients).toEqual(['alice@corp.example']);
    expect(dsn.bodyType).toBe('7bit');
    const raw = dsn.message.toString('utf8');
    expect(raw).not.toMatch(/[^\r]\n/); // CRLF only

    const { head, parts } = parseMultipart(raw);
    expect(head).toContain('From: Mail Delivery System <MAILER-DAEMON@relay.corp.example>');
    expect(head).toContain('To: <alice@corp.example>');
    expect(head).toContain('Auto-Submitted: auto-replied');
    expect(head).toContain('Date: Wed, 06 Mar 2024 10:00:00 +0000');
    expect(head).toMatch(/Message-ID: <[^>\s]+@relay\.corp\.example>/);
    expect(head).toMatch(/Content-Type: multipart\/report; report-type=delivery-status; boundary="/);
    expect(parts).toHaveLength(3);

    expect(parts[0]!.headers).toContain('Content-Type: text/plain; charset=utf-8');
    expect(parts[0]!.body).toContain('could not be delivered');
    expect(parts[0]!.body).toContain('<bad@far.example> (mx1.far.example[192.0.2.25]:25): 550 5.1.1');

    expect(parts[1]!.headers).toContain('Content-Type: message/delivery-status');
    const [perMessage, perRecipient] = parts[1]!.body.split('\r\n\r\n');
    expect(perMessage).toContain('Reporting-MTA: dns; relay.corp.example');
    expect(perMessage).toContain('Arrival-Date: Tue, 05 Mar 2024 09:08:07 +0000');
    const fields = perRecipient!.replace(/\r\n /g, ' ');
    expect(fields).toContain('Final-Recipient: rfc822; bad@far.example');
    expect(fields).toContain('Action: failed');
    expect(fields).toContain('Status: 5.1.1');
    expect(fields).toContain('Remote-MTA: dns; mx1.far.example');
    expect(fields).toContain('Diagnostic-Code: smtp; 550 5.1.1 <bad@far.example>: user unknown (in reply to RCPT TO)');
    expect(fields).toContain('Last-Attempt-Date: Wed, 06 Mar 2024 09:59:59 +0000');
    expect(fields).not.toContain('Will-Retry-Until');

    expect(parts[2]!.headers).toContain('Content-Type: text/rfc822-headers');
    expect(parts[2]!.body).toContain('Subject: Quarterly numbers');
    expect(parts[2]!.body).not.toContain('The body must not be quoted');
  });

  it('a delay warning says "delayed" and when retries end', () => {
    const until = Date.UTC(2024, 2, 10, 9, 8, 7);
    const dsn = composeDsn({
      entry: entry(),
      kind: 'delay',
      reportingMta: 'relay.corp.example',
      to: ['alice@corp.example'],
      originalHeaders: Buffer.from('Subject: x\r\n\r\n'),
      now,
      recipients: [
        { recipient: 'slow@far.example', action: 'delayed', status: '4.4.1', remoteMta: null, diagnostic: 'connection failed: connect ECONNREFUSED', diagnosticIsSmtp: false, lastAttemptAt: now, willRetryUntil: until },
      ],
    });
    const { head, parts } = parseMultipart(dsn.message.toString());
    expect(head).toContain('Subject: Delayed Mail');
    const status = parts[1]!.body;
    expect(status).toContain('Action: delayed');
    expect(status).toContain('Status: 4.4.1');
    expect(status).toContain('Diagnostic-Code: x-relay-desk; connection failed: connect ECONNREFUSED');
    expect(status).toContain('Will-Retry-Until: Sun, 10 Mar 2024 09:08:07 +0000');
    expect(status).not.toContain('Remote-MTA');
    expect(parts[0]!.body).toContain('will be retried until');
  });

  it('marks 8-bit original headers and non-ASCII recipients', () => {
    const dsn = composeDsn({
      entry: entry({ smtpUtf8: true }),
      kind: 'failure',
      reportingMta: 'relay.corp.example',
      to: ['alice@corp.example'],
      originalHeaders: Buffer.from('Subject: Grüße\r\n\r\n'),
      now,
      recipients: [{ recipient: 'jörg@far.example', action: 'failed', status: '5.1.1', remoteMta: null, diagnostic: null, diagnosticIsSmtp: false, lastAttemptAt: null }],
    });
    expect(dsn.bodyType).toBe('8bitmime');
    expect(dsn.smtpUtf8).toBe(true);
    const raw = dsn.message.toString('utf8');
    expect(raw).toContain('Content-Type: message/global-delivery-status');
    expect(raw).toContain('Final-Recipient: utf-8; jörg@far.example');
    expect(raw).toContain('Subject: Grüße');
  });

  it('a double bounce says so', () => {
    const dsn = composeDsn({
      entry: entry({ sender: '', origin: 'dsn' }),
      kind: 'failure',
      reportingMta: 'relay.corp.example',
      to: ['pm1@corp.example', 'pm2@elsewhere.example'],
      originalHeaders: Buffer.from('Subject: Undelivered Mail Returned to Sender\r\n\r\n'),
      now,
      recipients: [{ recipient: 'bad@far.example', action: 'failed', status: '5.1.1', remoteMta: null, diagnostic: '550 5.1.1 unknown', diagnosticIsSmtp: true, lastAttemptAt: now }],
    });
    const raw = dsn.message.toString();
    expect(raw).toContain('To: <pm1@corp.example>, <pm2@elsewhere.example>');
    expect(raw).toContain('Subject: Undeliverable bounce');
    expect(dsn.recipients).toEqual(['pm1@corp.example', 'pm2@elsewhere.example']);
  });

  it('builds DSN lines from stored recipient state', () => {
    const st = { address: 'bad@far.example', status: 'bounced' as const, attempts: 2, lastAttemptAt: now, lastReply: '550 5.1.1 nope', nextHop: 'mx[192.0.2.1]:25' };
    expect(dsnRecipientFromState(st, 'failed')).toMatchObject({ status: '5.1.1', remoteMta: 'mx[192.0.2.1]:25', diagnosticIsSmtp: true });
    expect(dsnRecipientFromState({ ...st, lastReply: 'DNS timeout', nextHop: '(none)' }, 'delayed', now)).toMatchObject({
      status: '4.0.0',
      remoteMta: null,
      diagnosticIsSmtp: false,
      willRetryUntil: now,
    });
    // A 5xx that is being retried reports a 4.x.x status in a delay warning.
    expect(dsnRecipientFromState({ ...st, lastReply: '550 5.7.1 try again later' }, 'delayed').status).toBe('4.7.1');
  });

  it('folds long header lines at spaces', () => {
    const line = `Diagnostic-Code: smtp; ${'word '.repeat(40).trim()}`;
    const folded = fold(line);
    expect(folded.split('\r\n').every((l) => l.length <= 78)).toBe(true);
    expect(folded.replace(/\r\n /g, ' ')).toBe(line);
  });

  it('formats RFC 5322 dates', () => {
    expect(rfc5322Date(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe('Tue, 02 Jan 2024 03:04:05 +0000');
  });
});

describe('DSN recipients', () => {
  it('a normal message bounces to its sender', () => {
    expect(bounceRecipients(entry(), config)).toEqual(['alice@corp.example']);
    expect(bounceRecipients(entry(), config, 'delay')).toEqual(['alice@corp.example']);
  });

  it('a failed bounce (null sender) goes to the external postmasters; no delay warnings for it', () => {
    expect(bounceRecipients(entry({ sender: '', origin: 'dsn' }), config)).toEqual(['pm1@corp.example', 'pm2@elsewhere.example']);
    expect(bounceRecipients(entry({ sender: '' }), config, 'delay')).toEqual([]);
  });

  it('a failed double bounce goes nowhere, and nowhere without postmasters', () => {
    expect(bounceRecipients(entry({ sender: '', origin: 'dsn', recipients: ['PM1@corp.example'] }), config)).toEqual([]);
    const none = relayConfigSchema.parse({});
    expect(bounceRecipients(entry({ sender: '' }), none)).toEqual([]);
  });
});

describe('reading the original header block', () => {
  it('stops at the blank line and does not read the body', async () => {
    let pulled = 0;
    const chunks = [original.subarray(0, 20), original.subarray(20, 90), original.subarray(90), Buffer.alloc(1_000_000, 'x')];
    const stream = new Readable({
      read() {
        const c = chunks[pulled++];
        this.push(c ?? null);
      },
    });
    const headers = await readHeaderBlock(stream);
    expect(headers.toString()).toBe(original.toString().split('\r\n\r\n')[0] + '\r\n\r\n');
    expect(pulled).toBeLessThanOrEqual(3);
    expect(stream.destroyed).toBe(true);
  });

  it('caps a runaway header at a line end', async () => {
    const big = Buffer.from('X-Long: y\r\n'.repeat(10_000));
    const headers = await readHeaderBlock(Readable.from([big]), 1000);
    expect(headers.length).toBeLessThanOrEqual(1000);
    expect(headers.toString().endsWith('\r\n')).toBe(true);
  });
});
