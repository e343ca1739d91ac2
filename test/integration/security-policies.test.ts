/**
 * The security policies of SPEC §1.6 end to end: the relay bundle as a process, real DNS (dnsmasq on
 * loopback answering PTR, A, MX, a DNSBL zone and SERVFAILing names), swaks and a raw SMTP client
 * from several 127.0.0.x addresses (127.0.0.1 is the only trusted one), and a real SMTP sink as the
 * relay domain's next hop. One relay process; each group of checks reloads the config (SIGHUP) with
 * the options it needs, so every option is seen off (mail passes) and on (exact reply, enhanced code
 * and log line).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { startRelayProcess, type LogLine, type RelayProcess } from '../support/relay-process.ts';
import { openDialog, sendMessage, type SmtpDialog } from '../support/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { swaks, type SwaksOptions } from '../support/swaks.ts';
import { waitFor } from '../support/wait-for.ts';

let dns: DnsServer;
let sink: SmtpSink;
let relay: RelayProcess;
const dialogs: SmtpDialog[] = [];

const ip = (n: number) => `127.0.0.${n}`;

function config(security: Record<string, unknown> = {}, general: Record<string, unknown> = {}) {
  return {
    listeners: [{ name: 'smtp', host: '127.0.0.1', port: relay?.port ?? 0, tls: 'starttls' }],
    general: { profile: { domain: 'corp.test', hostname: 'relay.corp.test' }, ...general },
    relayControl: {
      trustedNetworks: [{ name: 'this host', network: '127.0.0.1/32' }],
      relayDomains: [{ name: 'inbound', domain: 'inbound.test', nextHop: `127.0.0.1:${sink.port}` }],
    },
    delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } },
    dns: { external: [dns.address] },
    security,
  };
}

/** Write the config and SIGHUP the relay; resolves once it logged the reload. */
async function reload(cfg: ReturnType<typeof config>): Promise<void> {
  const before = relay.lines.filter((l) => l.event === 'reload').length;
  writeFileSync(path.join(relay.dataDir, 'config.json'), JSON.stringify(cfg, null, 2));
  relay.child.kill('SIGHUP');
  const lines = await relay.waitForCount('reload', before + 1);
  expect(lines.at(-1), JSON.stringify(lines.at(-1))).toMatchObject({ ok: true });
}

/** The first log line after `mark` (an index into relay.lines) that matches. */
function logged(mark: number, pred: (l: LogLine) => boolean, what = 'log line'): Promise<LogLine> {
  return relay.waitForLine((l) => relay.lines.indexOf(l) >= mark && pred(l), what);
}

function send(from: number, o: Partial<SwaksOptions> = {}) {
  return swaks({ server: '127.0.0.1', port: relay.port, localAddress: ip(from), from: 'someone@good.test', to: 'user@inbound.test', ...o });
}

async function dial(from: number, writeOnConnect?: string): Promise<SmtpDialog> {
  const d = await openDialog({ port: relay.port, localAddress: ip(from), writeOnConnect });
  dialogs.push(d);
  return d;
}

const queuedId = (transcript: string) => /250 2\.0\.0 Ok: queued as (\S+)/.exec(transcript)?.[1] ?? null;

beforeAll(async () => {
  sink = await startSmtpSink();
  dns = await startDnsServer({
    records: [
      // Clients (PTR from the A records unless ptr: false).
      { type: 'A', name: 'good21.test', address: ip(21) },
      { type: 'PTR', ip: ip(22), target: 'liar.test' },
      { type: 'A', name: 'liar.test', address: '127.0.0.99', ptr: false },
      // 127.0.0.23: no PTR at all. 127.0.0.24: its PTR lookup SERVFAILs.
      { type: 'SERVFAIL', name: '24.0.0.127.in-addr.arpa' },
      { type: 'A', name: 'good25.test', address: ip(25) },
      { type: 'A', name: '25.0.0.127.bl.test', address: '127.0.0.2', ptr: false },
      { type: 'A', name: 'spam26.dyn.test', address: ip(26) },
      ...[28, 29, 30, 31, 32, 33, 34, 40, 41, 42, 43, 44].map((n) => ({ type: 'A' as const, name: `host${n}.test`, address: ip(n) })),
      // Domains.
      { type: 'MX', name: 'good.test', exchange: 'mx.good.test', priority: 10 },
      { type: 'A', name: 'mx.good.test', address: '127.0.0.50', ptr: false },
      { type: 'A', name: 'helo.good.test', address: '127.0.0.51', ptr: false },
      { type: 'MX', name: 'spam.test', exchange: 'mx.good.test', priority: 10 },
      { type: 'MX', name: 'nullmx.test', exchange: '.', priority: 0 },
      { type: 'SERVFAIL', name: 'broken.test' },
    ],
  });
  const { listeners: _harnessSetsThem, ...initial } = config();
  relay = await startRelayProcess({ config: initial });
});

afterAll(async () => {
  for (const d of dialogs) d.close();
  await relay?.stop();
  await sink?.close();
  await dns?.stop();
});

describe('all policies off: the same clients and addresses pass', () => {
  it('accepts mail from clients without reverse DNS, on a DNSBL, with a bare HELO and an unknown sender domain', async () => {
    for (const n of [22, 23, 24, 25, 26]) {
      const r = await send(n, { helo: 'laptop', from: 'user@nowhere.test', to: ['user@inbound.test'] });
      expect(queuedId(r.transcript), `${ip(n)}: ${r.transcript}`).not.toBeNull();
    }
  });

  it('accepts MAIL without HELO, early talkers and pipelining after HELO when the options are off', async () => {
    const noHelo = await dial(33);
    const r1 = await sendMessage(noHelo, { from: 'a@good.test', to: ['b@inbound.test'] });
    expect(r1.map((r) => r.code)).toEqual([220, 250, 250, 354, 250]);

    const early = await dial(33, 'EHLO early.test\r\n');
    expect((await early.reply()).code).toBe(220);
    expect((await early.reply()).code).toBe(250);

    const piped = await dial(33);
    expect((await piped.reply()).code).toBe(220);
    piped.write('HELO piped.test\r\nMAIL FROM:<a@good.test>\r\nRCPT TO:<b@inbound.test>\r\n');
    expect([(await piped.reply()).code, (await piped.reply()).code, (await piped.reply()).code]).toEqual([250, 250, 250]);
  });

  it('passes auto-forwarded mail to external recipients while disableAutoForwarding is off', async () => {
    const r = await send(1, { to: 'x@outside.test', headers: ['Auto-Submitted: auto-forwarded', 'X-Forwarded-To: x@outside.test'] });
    expect(queuedId(r.transcript), r.transcript).not.toBeNull();
  });
});

describe('black and white lists (with 1 000 other rules)', () => {
  const filler = Array.from({ length: 1000 }, (_, i) => {
    const criteria = ['clientIp', 'senderDomain', 'recipientAddress', 'helo', 'clientHostname'] as const;
    const criterion = criteria[i % criteria.length]!;
    const value = criterion === 'clientIp' ? `10.${i % 256}.${Math.floor(i / 256)}.0/24` : criterion === 'recipientAddress' ? `u${i}@filler.test` : `*.filler${i}.test`;
    return { name: `filler ${i}`, type: 'block', action: i % 2 ? 'reject' : 'discard', criterion, value };
  });
  const lists = [
    { name: 'friend', type: 'allow', action: 'allow', criterion: 'clientIp', value: ip(42) },
    ...filler,
    { name: 'bad pair', type: 'block', action: 'reject', criterion: 'clientIp', value: '127.0.0.42/31' },
    { name: 'quiet host', type: 'block', action: 'discard', criterion: 'clientIp', value: ip(41) },
    { name: 'dynamic hosts', type: 'block', action: 'reject', criterion: 'clientHostname', value: '*.dyn.test' },
    { name: 'spam helo', type: 'block', action: 'reject', criterion: 'helo', value: '*.spam.test' },
    { name: 'spam sender', type: 'block', action: 'reject', criterion: 'senderDomain', value: 'spam.test' },
    { name: 'spam exception', type: 'allow', action: 'allow', criterion: 'senderAddress', value: 'ok@spam.test' },
    { name: 'noise', type: 'block', action: 'discard', criterion: 'senderAddress', value: 'noise@*' },
    { name: 'gone', type: 'block', action: 'reject', criterion: 'recipientAddress', value: 'old@inbound.test' },
    { name: 'blackhole', type: 'block', action: 'discard', criterion: 'recipientAddress', value: 'blackhole@inbound.test' },
  ];

  beforeAll(() => reload(config({ lists })));

  it('rejects by client IP at connect (554 5.7.1), with the rule name in the log', async () => {
    const mark = relay.lines.length;
    const r = await send(43);
    expect(r.transcript).toContain('554 5.7.1 Client host rejected: Access denied');
    const line = await logged(mark, (l) => l.event === 'reject' && l.client === ip(43));
    expect(line).toMatchObject({ stage: 'connect', rule: 'bad pair', reply: '554 5.7.1 Client host rejected: Access denied' });
  });

  it('checks allow rules first: an allowed client passes a block rule that covers it, but not relay control', async () => {
    const r = await send(42);
    expect(queuedId(r.transcript), r.transcript).not.toBeNull();
    const relayTry = await send(42, { to: 'victim@outside.test' });
    expect(relayTry.transcript).toMatch(/554 5\.7\.1 <victim@outside\.test>: Relay access denied/);
  });

  it('rejects by client host name at connect', async () => {
    const mark = relay.lines.length;
    const r = await send(26);
    expect(r.transcript).toContain('554 5.7.1 Client host rejected: spam26.dyn.test: Access denied');
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(26))).toMatchObject({ stage: 'connect', rule: 'dynamic hosts' });
  });

  it('rejects by HELO at HELO, by sender at MAIL FROM, by recipient at RCPT TO', async () => {
    const mark = relay.lines.length;
    expect((await send(30, { helo: 'x.spam.test' })).transcript).toContain('554 5.7.1 <x.spam.test>: Helo command rejected: Access denied');
    expect((await send(30, { from: 'a@spam.test' })).transcript).toContain('554 5.7.1 <a@spam.test>: Sender address rejected: Access denied');
    expect((await send(30, { to: 'old@inbound.test' })).transcript).toContain('554 5.7.1 <old@inbound.test>: Recipient address rejected: Access denied');
    const rejects = async (stage: string) => logged(mark, (l) => l.event === 'reject' && l.client === ip(30) && l.stage === stage);
    expect(await rejects('helo')).toMatchObject({ rule: 'spam helo' });
    expect(await rejects('mail')).toMatchObject({ rule: 'spam sender' });
    expect(await rejects('rcpt')).toMatchObject({ rule: 'gone' });
    // An allow rule on the sender address wins over the block rule on its domain.
    expect(queuedId((await send(30, { from: 'ok@spam.test' })).transcript)).not.toBeNull();
  });

  it('discards: 250 to the client, nothing queued, a discard line in the log', async () => {
    const mark = relay.lines.length;
    const byClient = await send(41);
    const byClientId = queuedId(byClient.transcript);
    expect(byClientId, byClient.transcript).not.toBeNull();
    const bySender = await send(30, { from: 'noise@good.test' });
    const bySenderId = queuedId(bySender.transcript);
    expect(bySenderId, bySender.transcript).not.toBeNull();
    expect(await logged(mark, (l) => l.event === 'discard' && l.id === byClientId)).toMatchObject({ stage: 'data', rule: 'quiet host', client: ip(41) });
    expect(await logged(mark, (l) => l.event === 'discard' && l.id === bySenderId)).toMatchObject({ stage: 'data', rule: 'noise' });
    expect(relay.lines.some((l) => l.event === 'queued' && (l.id === byClientId || l.id === bySenderId))).toBe(false);
  });

  it('discards a single recipient: the message goes on to the others', async () => {
    const mark = relay.lines.length;
    const r = await send(30, { to: ['blackhole@inbound.test', 'keep@inbound.test'] });
    const id = queuedId(r.transcript);
    expect(id, r.transcript).not.toBeNull();
    expect(await logged(mark, (l) => l.event === 'discard' && l.stage === 'rcpt')).toMatchObject({ rule: 'blackhole', rcpt: 'blackhole@inbound.test' });
    expect(await logged(mark, (l) => l.event === 'queued' && l.id === id)).toMatchObject({ recipients: ['keep@inbound.test'] });
  });
});

describe('connection policy: reverse DNS, DNSBL, concurrent connections, errors', () => {
  beforeAll(() =>
    reload(
      config({
        connectionPolicy: { rejectUnknownClientHostname: true, rejectUnknownReverseClientHostname: true, maxConnectionsPerClient: 2, maxErrorsPerSession: 3 },
        advanced: { dnsblZones: ['bl.test', 'other-bl.test'] },
      }),
    ),
  );

  it('accepts a forward-confirmed client and names it in the Received header', async () => {
    const before = sink.messages.length;
    const r = await send(21, { helo: 'good21.test', to: 'rdns@inbound.test' });
    expect(queuedId(r.transcript), r.transcript).not.toBeNull();
    const msgs = await sink.waitForMessages(before + 1);
    const msg = msgs.find((m) => m.to.includes('rdns@inbound.test'))!;
    expect(msg.body.toString()).toMatch(/^Received: from good21\.test \(good21\.test \[127\.0\.0\.21\]\)/);
  });

  it.each([
    [22, '550 5.7.25 Client host rejected: cannot find your hostname, [liar.test does not resolve to 127.0.0.22]', 'reject-unknown-client-hostname'],
    [23, '550 5.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.23]', 'reject-unknown-reverse-client-hostname'],
    [24, '450 4.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.24] (DNS temporary failure)', 'reject-unknown-reverse-client-hostname'],
    [25, '554 5.7.1 Service unavailable; client host [127.0.0.25] blocked using bl.test', 'dnsbl:bl.test'],
  ])('refuses 127.0.0.%i at connect', async (n, reply, rule) => {
    const mark = relay.lines.length;
    const r = await send(n);
    expect(r.transcript).toContain(reply);
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(n))).toMatchObject({ stage: 'connect', rule, reply });
  });

  it('exempts trusted networks (127.0.0.1 has no PTR record)', async () => {
    expect(queuedId((await send(1)).transcript)).not.toBeNull();
  });

  it('refuses a third concurrent connection with 421 4.7.0, and accepts again once one closed', async () => {
    const mark = relay.lines.length;
    const a = await dial(28);
    const b = await dial(28);
    expect([(await a.reply()).code, (await b.reply()).code]).toEqual([220, 220]);
    const c = await dial(28);
    expect((await c.reply()).line).toBe('421 4.7.0 Too many concurrent connections from [127.0.0.28] (at most 2), try again later');
    await c.closed;
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(28))).toMatchObject({ stage: 'connect', rule: 'max-connections-per-client' });
    expect((await a.command('QUIT')).code).toBe(221);
    await a.closed;
    // The relay sees the close on its own schedule: try until it counts one connection fewer.
    await waitFor('a connection slot for 127.0.0.28', async () => {
      const d = await dial(28);
      const greeting = await d.reply();
      d.close();
      return greeting.code === 220;
    });
    // Other clients were never affected.
    expect(queuedId((await send(29)).transcript)).not.toBeNull();
  });

  it('closes a session with 421 after maxErrorsPerSession protocol errors (not for trusted clients)', async () => {
    const mark = relay.lines.length;
    const d = await dial(31);
    expect((await d.reply()).code).toBe(220);
    expect((await d.command('EHLO host31.test')).code).toBe(250);
    expect((await d.command('FOO')).code).toBe(500);
    expect((await d.command('MAIL FROM:<broken')).code).toBe(501);
    d.write('BAR\r\n');
    expect((await d.reply()).code).toBe(500);
    expect((await d.reply()).line).toBe('421 4.7.0 Too many errors (3) in this session, closing connection');
    await d.closed;
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(31))).toMatchObject({ stage: 'session', rule: 'max-errors-per-session', errors: 3 });

    const trusted = await dial(1);
    expect((await trusted.reply()).code).toBe(220);
    for (let i = 0; i < 5; i++) expect((await trusted.command('FOO')).code).toBe(500);
    expect((await trusted.command('NOOP')).code).toBe(250);
  });
});

describe('connection policy: connection and message rates, windows that reset', () => {
  beforeAll(() => reload(config({ connectionPolicy: { connectionRateLimit: { count: 3, perSeconds: 1 }, messageRateLimit: { count: 2, perSeconds: 2 } } })));

  it('refuses connections past the rate with 421 4.7.0 until the window has passed', async () => {
    const mark = relay.lines.length;
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      const d = await dial(29);
      expect((await d.reply()).code).toBe(220);
      d.close();
    }
    const refused = await dial(29);
    expect((await refused.reply()).line).toMatch(/^421 4\.7\.0 Too many connections from \[127\.0\.0\.29\] \(at most 3 per 1 s\), try again in 1 s$/);
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(29))).toMatchObject({ stage: 'connect', rule: 'connection-rate-limit' });
    const other = await dial(32);
    expect((await other.reply()).code).toBe(220);
    await waitFor(
      'the connection window of 127.0.0.29 to reset',
      async () => {
        const d = await dial(29);
        const greeting = await d.reply();
        d.close();
        return greeting.code === 220;
      },
      10_000,
      100,
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
  });

  it('refuses messages past the rate with 450 4.7.1 until the window has passed', async () => {
    const mark = relay.lines.length;
    const d = await dial(30);
    expect((await d.reply()).code).toBe(220);
    expect((await d.command('EHLO host30.test')).code).toBe(250);
    const start = Date.now();
    for (let i = 0; i < 2; i++) {
      expect((await d.command('MAIL FROM:<a@good.test>')).code).toBe(250);
      expect((await d.command('RCPT TO:<b@inbound.test>')).code).toBe(250);
      expect((await d.command('DATA')).code).toBe(354);
      expect((await d.command('Subject: rate\r\n\r\nx\r\n.')).code).toBe(250);
    }
    const refused = await d.command('MAIL FROM:<a@good.test>');
    expect(refused.line).toMatch(/^450 4\.7\.1 Too much mail from \[127\.0\.0\.30\] \(at most 2 messages per 2 s\), try again in [12] s$/);
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(30))).toMatchObject({ stage: 'mail', rule: 'message-rate-limit' });
    await waitFor('the message window of 127.0.0.30 to reset', async () => (await d.command('MAIL FROM:<a@good.test>')).code === 250, 10_000, 100);
    expect(Date.now() - start).toBeGreaterThanOrEqual(1900);
  });

  it('exempts trusted networks from the rates', async () => {
    for (let i = 0; i < 5; i++) {
      const d = await dial(1);
      expect((await d.reply()).code).toBe(220);
      d.close();
    }
  });
});

describe('advanced and sender policy', () => {
  beforeAll(() =>
    reload(
      config(
        {
          advanced: {
            requireHelo: true,
            rejectInvalidHelo: true,
            rejectNonFqdnHelo: true,
            rejectUnknownHeloHostname: true,
            rejectUnauthPipelining: true,
            rejectNonFqdnRecipient: true,
            rejectUnknownRecipientDomain: true,
          },
          senderPolicy: { rejectNonFqdnSender: true, rejectUnknownSenderDomain: true, rejectUnauthenticatedLocalSender: true },
        },
        { disableAutoForwarding: true },
      ),
    ),
  );

  it('rejects bad HELO names (the session goes on), and MAIL before any HELO', async () => {
    const mark = relay.lines.length;
    const d = await dial(34);
    expect((await d.reply(5000)).code).toBe(220);
    expect((await d.command('MAIL FROM:<a@good.test>')).line).toBe('503 5.5.1 Error: send HELO/EHLO first');
    const cases = [
      ['laptop', '504 5.5.2 <laptop>: Helo command rejected: need fully-qualified hostname', 'reject-non-fqdn-helo'],
      ['bad..name', '501 5.5.2 <bad..name>: Helo command rejected: Invalid name', 'reject-invalid-helo'],
      ['nowhere.test', '550 5.7.1 <nowhere.test>: Helo command rejected: Host not found', 'reject-unknown-helo-hostname'],
      ['helo.broken.test', '450 4.7.1 <helo.broken.test>: Helo command rejected: Host not found (DNS temporary failure)', 'reject-unknown-helo-hostname'],
    ] as const;
    for (const [helo, reply] of cases) expect((await d.command(`EHLO ${helo}`)).line).toBe(reply);
    expect((await d.command('EHLO helo.good.test')).code).toBe(250);
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(34) && l.rule === 'require-helo')).toMatchObject({ stage: 'mail' });
    for (const [helo, reply, rule] of cases) {
      expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(34) && l.stage === 'helo' && l.helo === helo)).toMatchObject({ rule, reply });
    }
  });

  it('answers an early talker with 554 5.5.0 and closes (smtp-server alone would say 421)', async () => {
    const mark = relay.lines.length;
    const d = await dial(34, 'EHLO early.good.test\r\n');
    expect((await d.reply(5000)).line).toBe('554 5.5.0 Protocol error: you talked before the greeting (improper use of SMTP command pipelining)');
    await d.closed;
    expect(d.replies.some((r) => r.code === 220)).toBe(false);
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(34) && l.rule === 'reject-unauth-pipelining')).toMatchObject({ stage: 'connect' });
  });

  it('rejects commands sent ahead without PIPELINING (after HELO), accepts real PIPELINING after EHLO', async () => {
    const d = await dial(34);
    expect((await d.reply(5000)).code).toBe(220);
    d.write('HELO helo.good.test\r\nMAIL FROM:<a@good.test>\r\n');
    expect((await d.reply()).code).toBe(250);
    expect((await d.reply()).line).toBe('554 5.5.0 Protocol error: improper use of SMTP command pipelining');
    await d.closed;

    const ok = await dial(34);
    expect((await ok.reply(5000)).code).toBe(220);
    expect((await ok.command('EHLO helo.good.test')).lines).toContain('250-PIPELINING');
    ok.write('MAIL FROM:<a@good.test>\r\nRCPT TO:<b@inbound.test>\r\nRCPT TO:<c@inbound.test>\r\nDATA\r\n');
    expect([(await ok.reply()).code, (await ok.reply()).code, (await ok.reply()).code, (await ok.reply()).code]).toEqual([250, 250, 250, 354]);
    expect((await ok.command('Subject: piped\r\n\r\nx\r\n.')).line).toMatch(/^250 2\.0\.0 Ok: queued as/);
  });

  it('rejects a command sent ahead of the reply to the end of the message without PIPELINING (HELO)', async () => {
    const d = await dial(34);
    expect((await d.reply(5000)).code).toBe(220);
    expect((await d.command('HELO helo.good.test')).code).toBe(250);
    expect((await d.command('MAIL FROM:<a@good.test>')).code).toBe(250);
    expect((await d.command('RCPT TO:<b@inbound.test>')).code).toBe(250);
    expect((await d.command('DATA')).code).toBe(354);
    d.write('Subject: ahead\r\n\r\nx\r\n.\r\nMAIL FROM:<a@good.test>\r\n');
    expect((await d.reply()).line).toMatch(/^250 2\.0\.0 Ok: queued as/);
    expect((await d.reply()).line).toBe('554 5.5.0 Protocol error: improper use of SMTP command pipelining');
    await d.closed;

    // Waiting for the reply, as a HELO client must, is fine.
    const ok = await dial(34);
    expect((await ok.reply(5000)).code).toBe(220);
    expect((await ok.command('HELO helo.good.test')).code).toBe(250);
    for (const line of ['MAIL FROM:<a@good.test>', 'RCPT TO:<b@inbound.test>', 'DATA']) await ok.command(line);
    expect((await ok.command('Subject: waited\r\n\r\nx\r\n.')).line).toMatch(/^250 2\.0\.0 Ok: queued as/);
    expect((await ok.command('MAIL FROM:<a@good.test>')).code).toBe(250);
    ok.close();
  });

  it('does not delay or check trusted clients (bare HELO, no PTR)', async () => {
    const d = await dial(1, 'EHLO printer\r\n');
    expect((await d.reply()).code).toBe(220);
    expect((await d.reply()).code).toBe(250);
  });

  it('rejects non-FQDN, unknown-domain and unauthenticated local senders', async () => {
    const mark = relay.lines.length;
    const d = await dial(34);
    expect((await d.reply(5000)).code).toBe(220);
    expect((await d.command('EHLO helo.good.test')).code).toBe(250);
    const cases = [
      ['user@nas', '504 5.5.2 <user@nas>: Sender address rejected: need fully-qualified address', 'reject-non-fqdn-sender'],
      ['a@nowhere.test', '550 5.1.8 <a@nowhere.test>: Sender address rejected: Domain not found', 'reject-unknown-sender-domain'],
      ['a@nullmx.test', '550 5.1.8 <a@nullmx.test>: Sender address rejected: domain accepts no mail (null MX)', 'reject-unknown-sender-domain'],
      ['a@broken.test', '450 4.1.8 <a@broken.test>: Sender address rejected: Domain not found (DNS lookup failed (ESERVFAIL))', 'reject-unknown-sender-domain'],
      ['ceo@corp.test', '553 5.7.1 <ceo@corp.test>: Sender address rejected: not logged in (local domain corp.test)', 'reject-unauthenticated-local-sender'],
    ] as const;
    for (const [sender, reply] of cases) expect((await d.command(`MAIL FROM:<${sender}>`)).line).toBe(reply);
    for (const [sender, reply, rule] of cases) {
      expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(34) && l.sender === sender)).toMatchObject({ stage: 'mail', rule, reply });
    }
    // The same session can still send a good message.
    expect((await d.command('MAIL FROM:<a@good.test>')).code).toBe(250);
  });

  it.each([
    ['admin@localhost', '504 5.5.2 <admin@localhost>: Recipient address rejected: need fully-qualified address', 'reject-non-fqdn-recipient'],
    ['a@nowhere.test', '550 5.1.2 <a@nowhere.test>: Recipient address rejected: Domain not found', 'reject-unknown-recipient-domain'],
    ['a@broken.test', '450 4.1.2 <a@broken.test>: Recipient address rejected: Domain not found (DNS lookup failed (ESERVFAIL))', 'reject-unknown-recipient-domain'],
  ])('rejects recipient %s (also from trusted clients)', async (rcpt, reply, rule) => {
    const mark = relay.lines.length;
    const d = await dial(1);
    expect((await d.reply()).code).toBe(220);
    expect((await d.command('EHLO printer')).code).toBe(250);
    expect((await d.command('MAIL FROM:<printer@corp.test>')).code).toBe(250);
    expect((await d.command(`RCPT TO:<${rcpt}>`)).line).toBe(reply);
    expect((await d.command('RCPT TO:<a@good.test>')).code).toBe(250);
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(1) && l.stage === 'rcpt')).toMatchObject({ rule, reply, rcpt });
  });

  it('refuses auto-forwarded mail to external recipients with 550 5.7.1 (Resent-From, X-Forwarded-To)', async () => {
    for (const header of ['Resent-From: boss@corp.test', 'X-Forwarded-To: x@good.test']) {
      const r = await send(1, { helo: 'printer.corp.test', from: 'boss@corp.test', to: 'x@good.test', headers: [header] });
      expect(r.transcript, header).toMatch(/550 5\.7\.1 Auto-forwarding to external recipients is disabled/);
    }
    expect(queuedId((await send(1, { from: 'boss@corp.test', to: 'x@inbound.test', headers: ['Resent-From: boss@corp.test'] })).transcript)).not.toBeNull();
  });

});

describe('bad input: a clear reply, and the relay keeps serving', () => {
  beforeAll(() => reload(config({ connectionPolicy: { maxErrorsPerSession: 5 } })));

  it('answers over-long lines, NUL bytes, over-long addresses and pipelined garbage', async () => {
    const long = await dial(40);
    expect((await long.reply()).code).toBe(220);
    long.write(`EHLO ${'x'.repeat(20_000)}\r\n`);
    expect((await long.reply()).line).toMatch(/^421 .*Command line too long/);
    await long.closed;

    const nul = await dial(40);
    expect((await nul.reply()).code).toBe(220);
    expect((await nul.command('EHLO a\u0000b.test')).code).toBe(501);
    expect((await nul.command('EHLO host40.test')).code).toBe(250);
    expect((await nul.command('MAIL FROM:<a\u0000b@good.test>')).code).toBeGreaterThanOrEqual(500);
    expect((await nul.command(`MAIL FROM:<${'a'.repeat(300)}@good.test>`)).line).toMatch(/^5\d\d /);
    expect((await nul.command(`MAIL FROM:<a@${'b'.repeat(70)}.test>`)).line).toMatch(/^5\d\d /);
    expect((await nul.command('RSET')).code).toBe(250);

    const garbage = await dial(40);
    expect((await garbage.reply()).code).toBe(220);
    garbage.write(Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x41, 0x0d, 0x0a, 0x1b, 0x5b, 0x41, 0x0d, 0x0a, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x0d, 0x0a, 0x0d, 0x0a, 0x0d, 0x0a, 0x0d, 0x0a]));
    await garbage.closed;
    expect(garbage.replies.at(-1)?.line).toMatch(/^421 /);
    expect(garbage.replies.slice(1, -1).every((r) => r.code >= 500)).toBe(true);

    const good = await send(44, { helo: 'host44.test', from: 'a@good.test', to: 'b@inbound.test' });
    expect(queuedId(good.transcript), good.transcript).not.toBeNull();
    expect(relay.exitCode).toBeNull();
  });
});
