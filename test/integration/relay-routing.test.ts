/**
 * Routing through the real relay process: direct MX delivery found through a real DNS server
 * (dnsmasq on loopback), relay exceptions, and Postfix's smtp-sink as a next hop. MX hosts answer
 * on a test port (MAILRELAY_DIRECT_PORT) because port 25 is not ours to take.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startPostfixSink, startSmtpSink, type PostfixSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { freePort } from '../support/free-port.ts';
import { swaks } from '../support/swaks.ts';
import { waitFor } from '../support/wait-for.ts';

let dns: DnsServer;
let mxSink: SmtpSink;
let exceptionSink: SmtpSink;
let postfixSink: PostfixSink;
let relay: RelayProcess;

beforeAll(async () => {
  const port = await freePort();
  // The "MX hosts" are sinks on different loopback addresses sharing the test's direct port.
  mxSink = await startSmtpSink({ host: '127.0.0.2', port });
  exceptionSink = await startSmtpSink({ tls: 'starttls' });
  postfixSink = await startPostfixSink();
  dns = await startDnsServer({
    localDomains: ['mx.test'],
    records: [
      { type: 'MX', name: 'far.mx.test', exchange: 'dead.mx.test', priority: 5 },
      { type: 'MX', name: 'far.mx.test', exchange: 'mail.mx.test', priority: 10 },
      { type: 'A', name: 'dead.mx.test', address: '127.0.0.3' },
      { type: 'A', name: 'mail.mx.test', address: '127.0.0.2' },
      { type: 'A', name: 'implicit.mx.test', address: '127.0.0.2' },
    ],
  });
  relay = await startRelayProcess({
    tls: 'none',
    env: { MAILRELAY_DIRECT_PORT: String(port) },
    config: {
      dns: { external: [dns.address], internal: [] },
      delivery: {
        mode: 'direct',
        exceptions: [
          { name: 'partner via their gateway', targetType: 'recipient', targets: ['partner.example'], relayHost: { host: '127.0.0.1', port: exceptionSink.port, security: 'starttls', verifyCertificate: false } },
          { name: 'billing via postfix', targetType: 'sender', targets: ['billing@corp.example'], relayHost: { host: '127.0.0.1', port: postfixSink.port, security: 'none' } },
        ],
      },
    },
  });
});

afterAll(async () => {
  await relay?.stop();
  await Promise.all([mxSink?.close(), exceptionSink?.close(), postfixSink?.stop(), dns?.stop()]);
});

describe('routing (real relay process, real DNS)', () => {
  it('delivers to the MX found in DNS, skipping the dead higher-priority MX', async () => {
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: 'user@far.mx.test' });
    expect(r.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
    const [msg] = await mxSink.waitForMessages(1);
    expect(msg!.to).toEqual(['user@far.mx.test']);
    const line = await relay.waitForLine((l) => l.event === 'delivered' && l.rcpt === 'user@far.mx.test', 'delivered');
    expect(String(line.nextHop)).toContain('127.0.0.2');
  });

  it('uses the implicit MX (A record) when a domain has no MX', async () => {
    const before = mxSink.messages.length;
    await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: 'user@implicit.mx.test' });
    const msgs = await mxSink.waitForMessages(before + 1);
    expect(msgs[before]!.to).toEqual(['user@implicit.mx.test']);
  });

  it('bounces a domain that does not exist (NXDOMAIN) with a DSN', async () => {
    await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@far.mx.test', to: 'user@nowhere.mx.test' });
    const line = await relay.waitForLine((l) => l.event === 'bounced' && l.rcpt === 'user@nowhere.mx.test', 'bounced');
    expect(String(line.reply)).toMatch(/NXDOMAIN|not found/i);
    // the DSN goes back to a@far.mx.test, whose MX is our sink
    const dsn = await waitFor('the DSN at the MX sink', () => mxSink.messages.find((x) => x.from === '' && x.to.includes('a@far.mx.test')));
    expect(dsn.body.toString()).toMatch(/Final-Recipient: rfc822; ?user@nowhere\.mx\.test/i);
  });

  it('splits one message per route: a relay exception by recipient goes to its own relay host over STARTTLS', async () => {
    const before = mxSink.messages.length;
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false });
    await t.sendMail({ from: 'a@corp.example', to: ['x@partner.example', 'y@far.mx.test'], subject: 'split', text: 'two routes' });
    const [viaException] = await exceptionSink.waitForMessages(1);
    expect(viaException!.to).toEqual(['x@partner.example']);
    expect(viaException!.secure).toBe(true);
    const msgs = await mxSink.waitForMessages(before + 1);
    expect(msgs[before]!.to).toEqual(['y@far.mx.test']);
  });

  it('a relay exception by sender goes through Postfix smtp-sink', async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false });
    await t.sendMail({ from: 'billing@corp.example', to: 'customer@far.mx.test', subject: 'invoice', text: 'x' });
    const line = await relay.waitForLine((l) => l.event === 'delivered' && l.rcpt === 'customer@far.mx.test', 'delivered via postfix sink');
    expect(String(line.nextHop)).toContain(String(postfixSink.port));
  });
});
