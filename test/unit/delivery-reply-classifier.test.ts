import { describe, expect, it } from 'vitest';
import { classifyError, classifyReply, normaliseReply, REPLY_RULES } from '../../server/delivery/reply-classifier.ts';

describe('reply classifier: replies', () => {
  it.each([
    // reply, outcome, category, enhanced
    ['550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in virtual mailbox table', 'failed', 'unknown-user', '5.1.1'],
    ['550 No such user here', 'failed', 'unknown-user', '5.1.1'],
    ['553 5.1.0 Address does not exist', 'failed', 'unknown-user', '5.1.0'],
    ['450 4.1.1 <a@b.example>: Recipient address rejected: unverified address', 'deferred', 'other', '4.1.1'],
    ['452 4.2.2 Mailbox full', 'deferred', 'mailbox-full', '4.2.2'],
    ['552 5.2.2 The email account that you tried to reach is over quota', 'failed', 'mailbox-full', '5.2.2'],
    ['552 5.3.4 Message size exceeds fixed maximum message size', 'failed', 'message-size', '5.3.4'],
    ['552 Message is too large', 'failed', 'message-size', '5.3.4'],
    ['452 4.5.3 Too many recipients', 'deferred', 'too-many-recipients', '4.5.3'],
    ['552 5.5.3 Too many recipients', 'deferred', 'too-many-recipients', '4.5.3'],
    ['451 4.7.1 Greylisting in action, please come back later', 'deferred', 'greylisted', '4.7.1'],
    ['550 5.7.1 Greylisted, try again in 5 minutes', 'deferred', 'greylisted', '4.7.1'],
    ['554 5.7.1 Service temporarily unavailable, try again later', 'deferred', 'policy', '4.7.1'],
    ['550 Please try again later', 'deferred', 'other', '4.0.0'],
    ['421 4.7.0 Try again later, closing connection. (rate limited)', 'deferred', 'rate-limit', '4.7.0'],
    ['450 4.7.28 Our system has detected an unusual rate of unsolicited mail', 'deferred', 'rate-limit', '4.7.28'],
    ['550 5.7.28 Too many messages from your IP', 'deferred', 'rate-limit', '4.7.28'],
    ['421 4.3.2 Service not available, closing transmission channel', 'deferred', 'network', '4.3.2'],
    ['554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 'failed', 'policy', '5.7.1'],
    ['550 5.7.26 Unauthenticated email is not accepted due to DMARC policy', 'failed', 'policy', '5.7.26'],
    ['554 5.7.1 <a@b.example>: Relay access denied', 'failed', 'policy', '5.7.1'],
    ['550 5.7.1 Message rejected as spam', 'failed', 'spam', '5.7.1'],
    ['530 5.7.0 Must issue a STARTTLS command first', 'deferred', 'tls', '4.7.0'],
    ['454 4.7.0 TLS not available due to local problem', 'deferred', 'tls', '4.7.0'],
    ['535 5.7.8 Authentication credentials invalid', 'deferred', 'auth', '4.7.8'],
    ['530 5.7.0 Authentication required', 'deferred', 'auth', '4.7.0'],
    ['503 5.5.1 Error: need MAIL command', 'deferred', 'protocol', '4.5.1'],
    ['554 5.4.6 Too many hops', 'failed', 'routing', '5.4.6'],
    ['550 5.1.2 Host unknown', 'failed', 'dns', '5.1.2'],
    ['556 5.1.10 Recipient domain has null MX', 'failed', 'dns', '5.1.10'],
    ['450 4.1.8 <s@x.example>: Sender address rejected: Domain not found', 'deferred', 'dns', '4.1.8'],
    ['554 Transaction failed', 'failed', 'other', '5.0.0'],
    ['451 Local error in processing', 'deferred', 'other', '4.0.0'],
  ] as const)('%s → %s %s %s', (reply, outcome, category, enhanced) => {
    expect(classifyReply(reply)).toMatchObject({ outcome, category, enhanced });
  });

  it('keeps the reply code and joins multi-line replies', () => {
    const r = classifyReply('550-5.1.1 The email account that you tried to reach does not exist.\r\n550-5.1.1 Please try\r\n550 5.1.1 double-checking the address.');
    expect(r.code).toBe(550);
    expect(r.reply).toBe('550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the address.');
    // "Please try" is not "try again later": this stays a permanent failure.
    expect(r).toMatchObject({ outcome: 'failed', category: 'unknown-user', enhanced: '5.1.1' });
  });

  it('normalises whitespace and continuation prefixes', () => {
    expect(normaliseReply('451-first\n451 4.3.0 second  line\n')).toBe('451 first second line');
  });

  it('every table rule says something (an outcome or a category)', () => {
    for (const rule of REPLY_RULES) expect(rule.outcome ?? rule.category, rule.name).toBeDefined();
  });
});

describe('reply classifier: errors', () => {
  const err = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), props);

  it.each([
    ['connection refused', err('connect ECONNREFUSED 127.0.0.1:25', { code: 'ESOCKET', originalCode: 'ECONNREFUSED' }), 'network', '4.4.1'],
    ['host unreachable', err('connect EHOSTUNREACH', { code: 'ESOCKET', originalCode: 'EHOSTUNREACH' }), 'network', '4.4.1'],
    ['connect timeout', err('Connection timeout', { code: 'ETIMEDOUT' }), 'network', '4.4.2'],
    ['connection dropped', err('Connection closed unexpectedly', { code: 'ECONNECTION' }), 'network', '4.4.2'],
    ['STARTTLS handshake', err('Error initiating TLS - self-signed certificate', { code: 'ETLS' }), 'tls', '4.7.5'],
    ['implicit TLS certificate', err('self-signed certificate', { code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls', '4.7.5'],
    ['name mismatch', err("Hostname/IP does not match certificate's altnames", { code: 'ESOCKET', originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls', '4.7.5'],
    ['host name lookup', err('getaddrinfo ENOTFOUND smtp.example', { code: 'EDNS', originalCode: 'ENOTFOUND' }), 'dns', '4.4.3'],
    ['missing credentials', err('Missing credentials for "PLAIN"', { code: 'EAUTH' }), 'auth', '4.7.8'],
    ['spool read error', err('EIO: i/o error', { code: 'ESTREAM' }), 'local', '4.3.0'],
    ['garbage from server', err('Invalid greeting', { code: 'EPROTOCOL' }), 'protocol', '4.5.0'],
    ['anything else', new Error('weird'), 'other', '4.0.0'],
  ])('%s → deferred %s', (_what, e, category, enhanced) => {
    expect(classifyError(e)).toMatchObject({ outcome: 'deferred', category, enhanced, code: null });
  });

  it('a SIZE the server announced smaller than the message fails it at once', () => {
    expect(classifyError(err('Message size larger than allowed 1000', { code: 'EMESSAGE', command: 'MAIL FROM' }))).toMatchObject({
      outcome: 'failed',
      category: 'message-size',
      enhanced: '5.3.4',
    });
  });

  it('an error carrying a server reply is classified by the reply and names the command', () => {
    const e = err('Recipient command failed', { code: 'EENVELOPE', response: '550 5.1.1 <x@y.example>: user unknown', responseCode: 550, command: 'RCPT TO' });
    expect(classifyError(e)).toEqual({
      outcome: 'failed',
      category: 'unknown-user',
      enhanced: '5.1.1',
      code: 550,
      reply: '550 5.1.1 <x@y.example>: user unknown (in reply to RCPT TO)',
    });
    const greeting = err('Invalid greeting', { code: 'EPROTOCOL', response: '421 4.3.2 busy', command: 'CONN' });
    expect(classifyError(greeting)).toMatchObject({ outcome: 'deferred', code: 421, reply: '421 4.3.2 busy' });
  });

  it('a refused STARTTLS or AUTH is deferred whatever its code: it is our setup that must change', () => {
    expect(classifyError(err('Error upgrading connection with STARTTLS', { code: 'ETLS', response: '502 5.5.1 Unrecognized command', command: 'STARTTLS' }))).toEqual({
      outcome: 'deferred',
      category: 'tls',
      enhanced: '4.5.1',
      code: 502,
      reply: '502 5.5.1 Unrecognized command (in reply to STARTTLS)',
    });
    expect(classifyError(err('Invalid login', { code: 'EAUTH', response: '535 5.7.8 Authentication credentials invalid', command: 'AUTH PLAIN' }))).toMatchObject({
      outcome: 'deferred',
      category: 'auth',
      enhanced: '4.7.8',
      code: 535,
    });
    expect(classifyError(err('Invalid login', { code: 'EAUTH', response: '504 Unrecognized authentication type', command: 'AUTH PLAIN' }))).toMatchObject({
      outcome: 'deferred',
      category: 'auth',
      enhanced: '4.7.8',
    });
  });
});
