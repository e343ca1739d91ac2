// Delivery through relay hosts (STARTTLS / implicit TLS / AUTH / certificate checks), relay
// exceptions and relay domains (next hop, or MX through the internal DNS falling back to external).
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfig, type RelayConfigInput } from '../../server/config/schema.ts';
import { createDeliverer, type Deliverer } from '../../server/delivery/deliverer.ts';
import type { QueueEntry } from '../../server/queue/types.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { freePort } from '../support/free-port.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';

const auth = { user: 'relay-user', pass: 's3cret' };
let starttlsAuth: SmtpSink;
let implicitTls: SmtpSink;
let plainRelay: SmtpSink;
let partner: SmtpSink;
let inside: SmtpSink;
let mainServer: SmtpSink; // 127.0.0.8 on the direct port: the "main mail server" behind the relay
let directPort: number;
let internalDns: DnsServer;
let externalDns: DnsServer;
let config: RelayConfig;
let deliverer: Deliverer;

const body = Buffer.from('From: s@corp.test\r\nSubject: via relay\r\n\r\nHello.\r\n');

function makeConfig(extra: RelayConfigInput = {}): RelayConfig {
  return relayConfigSchema.parse({
    general: { profile: { domain: 'corp.test', hostname: 'relay.corp.test' } },
    dns: { internal: [internalDns.address], external: [externalDns.address] },
    ...extra,
  });
}

function relayHost(sink: SmtpSink, extra: Record<string, unknown> = {}) {
  return { host: '127.0.0.1', port: sink.port, security: 'none' as const, ...extra };
}

let seq = 0;
function send(recipients: string[], sender = 's@corp.test') {
  const entry: QueueEntry = {
    envelope: {
      id: `relay-${++seq}`,
      receivedAt: Date.now(),
      sender,
      recipients,
      client: { ip: '127.0.0.1', hostname: null, helo: 'pc', authUser: null, tls: false },
      bodyType: '7bit',
      smtpUtf8: false,
      origin: 'smtp',
    },
    size: body.length,
    recipients: recipients.map((address) => ({ address, status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null })),
    held: false,
    nextAttemptAt: 0,
    attempts: 0,
    delayWarned: false,
  };
  return deliverer.deliver(entry, recipients, () => Readable.from([body]));
}

beforeAll(async () => {
  directPort = await freePort('127.0.0.8');
  [starttlsAuth, implicitTls, plainRelay, partner, inside, mainServer] = await Promise.all([
    startSmtpSink({ tls: 'starttls', auth }),
    startSmtpSink({ tls: 'implicit' }),
    startSmtpSink(),
    startSmtpSink(),
    startSmtpSink(),
    startSmtpSink({ host: '127.0.0.8', port: directPort }),
  ]);
  [internalDns, externalDns] = await Promise.all([
    startDnsServer({
      records: [
        { type: 'MX', name: 'corp-in.test', exchange: 'exchange.corp-in.test', priority: 10 },
        { type: 'A', name: 'exchange.corp-in.test', address: '127.0.0.8' },
        { type: 'A', name: 'mailhost.lan.test', address: '127.0.0.8' },
      ],
    }),
    startDnsServer({
      records: [
        // Publicly the domain's MX is this relay itself: delivering there would loop.
        { type: 'MX', name: 'corp-in.test', exchange: 'relay.corp.test', priority: 10 },
        { type: 'A', name: 'relay.corp.test', address: '127.0.0.9' },
        { type: 'MX', name: 'only-external.test', exchange: 'mx.only-external.test', priority: 10 },
        { type: 'A', name: 'mx.only-external.test', address: '127.0.0.8' },
      ],
    }),
  ]);
  config = makeConfig();
  deliverer = createDeliverer({ getConfig: () => config, log: { event: () => undefined }, directPort, dnsTimeoutMs: 500 });
});

afterAll(async () => {
  await deliverer?.close();
  await Promise.all([starttlsAuth, implicitTls, plainRelay, partner, inside, mainServer].map((s) => s?.close()));
  await Promise.all([internalDns?.stop(), externalDns?.stop()]);
});

describe('relay host', () => {
  it('delivers with STARTTLS and AUTH', async () => {
    config = makeConfig({
      delivery: { mode: 'relayHost', relayHost: relayHost(starttlsAuth, { security: 'starttls', username: auth.user, password: auth.pass, verifyCertificate: false }) },
    });
    const results = await send(['a@far.test', 'b@far.test']);
    expect(results.map((r) => [r.outcome, r.tls, r.nextHop])).toEqual([
      ['delivered', true, `[127.0.0.1]:${starttlsAuth.port}`],
      ['delivered', true, `[127.0.0.1]:${starttlsAuth.port}`],
    ]);
    expect(starttlsAuth.messages.at(-1)).toMatchObject({ to: ['a@far.test', 'b@far.test'], secure: true, user: auth.user, helo: 'relay.corp.test' });
  });

  it('defers with an auth reason when the password is wrong', async () => {
    config = makeConfig({
      delivery: { mode: 'relayHost', relayHost: relayHost(starttlsAuth, { security: 'starttls', username: auth.user, password: 'wrong', verifyCertificate: false }) },
    });
    const [r] = await send(['a@far.test']);
    expect(r).toMatchObject({ outcome: 'deferred', code: 535, category: 'auth', enhanced: '4.7.8' });
  });

  it('defers when the relay host requires AUTH and none is configured', async () => {
    config = makeConfig({ delivery: { mode: 'relayHost', relayHost: relayHost(starttlsAuth, { security: 'starttls', verifyCertificate: false }) } });
    const [r] = await send(['a@far.test']);
    expect(r).toMatchObject({ outcome: 'deferred', category: 'auth', code: 530 });
  });

  it('delivers over implicit TLS', async () => {
    config = makeConfig({ delivery: { mode: 'relayHost', relayHost: relayHost(implicitTls, { security: 'tls', verifyCertificate: false }) } });
    const [r] = await send(['a@far.test']);
    expect(r).toMatchObject({ outcome: 'delivered', tls: true });
    expect(implicitTls.messages.at(-1)!.secure).toBe(true);
  });

  it('with certificate verification on, the self-signed relay host is refused (deferred, TLS reason)', async () => {
    for (const rh of [
      relayHost(starttlsAuth, { security: 'starttls', username: auth.user, password: auth.pass, verifyCertificate: true }),
      relayHost(implicitTls, { security: 'tls', verifyCertificate: true }),
    ]) {
      config = makeConfig({ delivery: { mode: 'relayHost', relayHost: rh } });
      const [r] = await send(['a@far.test']);
      expect(r).toMatchObject({ outcome: 'deferred', code: null, category: 'tls', enhanced: '4.7.5' });
      expect(r!.reply).toMatch(/certificate/i);
    }
  });

  it('security "starttls" refuses a relay host that does not offer it', async () => {
    config = makeConfig({ delivery: { mode: 'relayHost', relayHost: relayHost(plainRelay, { security: 'starttls', verifyCertificate: false }) } });
    const before = plainRelay.messages.length;
    const [r] = await send(['a@far.test']);
    expect(r).toMatchObject({ outcome: 'deferred', category: 'tls' });
    expect(plainRelay.messages.length).toBe(before);
  });

  it('defers when the relay host is down', async () => {
    const port = await freePort();
    config = makeConfig({ delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port, security: 'none' } } });
    const [r] = await send(['a@far.test']);
    expect(r).toMatchObject({ outcome: 'deferred', category: 'network', nextHop: `[127.0.0.1]:${port}` });
  });
});

describe('relay exceptions', () => {
  it('split one message into two transactions by recipient domain', async () => {
    config = makeConfig({
      delivery: {
        mode: 'relayHost',
        relayHost: relayHost(plainRelay),
        exceptions: [{ name: 'Partner', targetType: 'recipient', targets: ['*.partner.test', 'partner.test'], relayHost: relayHost(partner) }],
      },
    });
    const [p0, r0] = [partner.messages.length, plainRelay.messages.length];
    const results = await send(['a@far.test', 'b@partner.test', 'c@eu.partner.test']);
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(results.map((r) => r.nextHop)).toEqual([`[127.0.0.1]:${plainRelay.port}`, `[127.0.0.1]:${partner.port}`, `[127.0.0.1]:${partner.port}`]);
    expect(plainRelay.messages.slice(r0).map((m) => m.to)).toEqual([['a@far.test']]);
    expect(partner.messages.slice(p0).map((m) => m.to)).toEqual([['b@partner.test', 'c@eu.partner.test']]);
  });

  it('route all mail of one sender through its relay host, even in direct mode', async () => {
    config = makeConfig({
      delivery: { exceptions: [{ name: 'Newsletter', targetType: 'sender', targets: ['news@corp.test'], relayHost: relayHost(partner) }] },
    });
    const p0 = partner.messages.length;
    const results = await send(['x@anywhere.test', 'y@elsewhere.test'], 'news@corp.test');
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect(partner.messages.slice(p0).map((m) => [m.from, m.to])).toEqual([['news@corp.test', ['x@anywhere.test', 'y@elsewhere.test']]]);
  });
});

describe('relay domains', () => {
  it('go to their next hop; everything else to the relay host', async () => {
    config = makeConfig({
      delivery: { mode: 'relayHost', relayHost: relayHost(plainRelay) },
      relayControl: { relayDomains: [{ name: 'Inside', domain: 'inside.test', nextHop: `127.0.0.1:${inside.port}` }] },
    });
    const [i0, r0] = [inside.messages.length, plainRelay.messages.length];
    const results = await send(['u@inside.test', 'v@far.test']);
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect(inside.messages.slice(i0).map((m) => m.to)).toEqual([['u@inside.test']]);
    expect(plainRelay.messages.slice(r0).map((m) => m.to)).toEqual([['v@far.test']]);
  });

  it('a next hop given by name is resolved through the internal DNS, on the direct port', async () => {
    config = makeConfig({ relayControl: { relayDomains: [{ name: 'LAN', domain: 'lan-mail.test', nextHop: 'mailhost.lan.test' }] } });
    const m0 = mainServer.messages.length;
    const [r] = await send(['u@lan-mail.test']);
    expect(r).toMatchObject({ outcome: 'delivered', nextHop: `mailhost.lan.test[127.0.0.8]:${directPort}` });
    expect(mainServer.messages.length).toBe(m0 + 1);
  });

  it('without a next hop use the MX from the internal DNS, not the public one', async () => {
    config = makeConfig({
      delivery: { mode: 'relayHost', relayHost: relayHost(plainRelay) },
      relayControl: { relayDomains: [{ name: 'Corp inbound', domain: 'corp-in.test', nextHop: '' }] },
    });
    const m0 = mainServer.messages.length;
    const [r] = await send(['boss@corp-in.test']);
    expect(r).toMatchObject({ outcome: 'delivered', nextHop: `exchange.corp-in.test[127.0.0.8]:${directPort}` });
    expect(mainServer.messages.slice(m0).map((m) => m.to)).toEqual([['boss@corp-in.test']]);
  });

  it('fall back to the external DNS when the internal one does not know the domain', async () => {
    config = makeConfig({ relayControl: { relayDomains: [{ name: 'Ext', domain: 'only-external.test', nextHop: '' }] } });
    const [r] = await send(['x@only-external.test']);
    expect(r).toMatchObject({ outcome: 'delivered', nextHop: `mx.only-external.test[127.0.0.8]:${directPort}` });
  });
});
