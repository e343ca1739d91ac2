// Direct (MX) delivery end to end: real DNS (dnsmasq) with MX records pointing at SMTP sinks on
// several loopback addresses that share one port (the deliverer's `directPort`).
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfig, type RelayConfigInput } from '../../server/config/schema.ts';
import { createDeliverer, type Deliverer } from '../../server/delivery/deliverer.ts';
import type { Envelope, QueueEntry } from '../../server/queue/types.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { freePort } from '../support/free-port.ts';
import { startPostfixSink, startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { makeTempDir } from '../support/temp-dir.ts';

let port: number;
let dns: DnsServer;
let sinkA: SmtpSink; // 127.0.0.2: STARTTLS (self-signed), everything offered
let sinkB: SmtpSink; // 127.0.0.3: plain; replies set per test
let sink421: SmtpSink; // 127.0.0.5: refuses every session with 421
let sink7bit: SmtpSink; // 127.0.0.6: no 8BITMIME, no SMTPUTF8
let flaky: SmtpSink; // 127.0.0.7: goes down and comes back
let oldTls: SmtpSink; // 127.0.0.10: offers STARTTLS but only TLS 1.0, which our client refuses
let sink554: SmtpSink; // 127.0.0.11: greets with 554
let config: RelayConfig;
let deliverer: Deliverer;
const logged: Record<string, unknown>[] = [];

function makeConfig(extra: RelayConfigInput = {}): RelayConfig {
  return relayConfigSchema.parse({
    general: { profile: { domain: 'local.test', hostname: 'relay.local.test' }, externalPostmasters: ['admin@direct.test'] },
    dns: { external: [dns.address] },
    ...extra,
  });
}

const body = Buffer.from(
  [
    'Received: from client.test ([192.0.2.10]) by relay.local.test with ESMTP id 1',
    'From: Sender <sender@origin.test>',
    'Subject: direct delivery',
    'Message-ID: <m1@origin.test>',
    '',
    'First line.',
    '.A line that starts with a dot',
    '..and one with two',
    '.',
    'Last line.',
    '',
  ].join('\r\n'),
);

let seq = 0;
function entry(recipients: string[], env: Partial<Envelope> = {}, bytes = body): QueueEntry {
  seq++;
  return {
    envelope: {
      id: `test-${seq}`,
      receivedAt: Date.now(),
      sender: 'sender@origin.test',
      recipients,
      client: { ip: '192.0.2.10', hostname: null, helo: 'client.test', authUser: null, tls: false },
      bodyType: '7bit',
      smtpUtf8: false,
      origin: 'smtp',
      ...env,
    },
    size: bytes.length,
    recipients: recipients.map((address) => ({ address, status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null })),
    held: false,
    nextAttemptAt: 0,
    attempts: 0,
    delayWarned: false,
  };
}

function send(recipients: string[], env: Partial<Envelope> = {}, bytes = body) {
  return deliverer.deliver(entry(recipients, env, bytes), recipients, () => Readable.from([bytes.subarray(0, 50), bytes.subarray(50)]));
}

beforeAll(async () => {
  port = await freePort('127.0.0.2');
  [sinkA, sinkB, sink421, sink7bit, flaky, oldTls, sink554] = await Promise.all([
    startSmtpSink({ host: '127.0.0.2', port, tls: 'starttls' }),
    startSmtpSink({ host: '127.0.0.3', port }),
    startSmtpSink({ host: '127.0.0.5', port, connectReply: { code: 421, message: '4.3.2 Too busy, come back later' } }),
    startSmtpSink({ host: '127.0.0.6', port, hide8BITMIME: true, hideSMTPUTF8: true }),
    startSmtpSink({ host: '127.0.0.7', port }),
    startSmtpSink({ host: '127.0.0.10', port, tls: 'starttls', tlsOptions: { maxVersion: 'TLSv1', minVersion: 'TLSv1' } }),
    startSmtpSink({ host: '127.0.0.11', port, connectReply: { code: 554, message: '5.7.1 No SMTP service here' } }),
  ]);
  dns = await startDnsServer({
    records: [
      { type: 'MX', name: 'direct.test', exchange: 'mx1.direct.test', priority: 10 },
      { type: 'A', name: 'mx1.direct.test', address: '127.0.0.2' },
      { type: 'MX', name: 'fallback.test', exchange: 'dead.fallback.test', priority: 10 },
      { type: 'MX', name: 'fallback.test', exchange: 'mx2.fallback.test', priority: 20 },
      { type: 'A', name: 'dead.fallback.test', address: '127.0.0.4' },
      { type: 'A', name: 'mx2.fallback.test', address: '127.0.0.3' },
      { type: 'MX', name: 'busy.test', exchange: 'busy-mx.busy.test', priority: 10 },
      { type: 'MX', name: 'busy.test', exchange: 'backup.busy.test', priority: 20 },
      { type: 'A', name: 'busy-mx.busy.test', address: '127.0.0.5' },
      { type: 'A', name: 'backup.busy.test', address: '127.0.0.3' },
      { type: 'MX', name: 'refusing.test', exchange: 'mx.refusing.test', priority: 10 },
      { type: 'A', name: 'mx.refusing.test', address: '127.0.0.11' },
      { type: 'MX', name: 'down.test', exchange: 'mx.down.test', priority: 10 },
      { type: 'A', name: 'mx.down.test', address: '127.0.0.4' },
      { type: 'MX', name: 'flaky.test', exchange: 'mx.flaky.test', priority: 10 },
      { type: 'A', name: 'mx.flaky.test', address: '127.0.0.7' },
      { type: 'A', name: 'implicit.test', address: '127.0.0.3' },
      { type: 'MX', name: 'nullmx.test', exchange: '.', priority: 0 },
      { type: 'SERVFAIL', name: 'broken.test' },
      { type: 'MX', name: 'xn--bcher-kva.test', exchange: 'mx.xn--bcher-kva.test', priority: 10 },
      { type: 'A', name: 'mx.xn--bcher-kva.test', address: '127.0.0.6' },
      { type: 'MX', name: 'utf8.test', exchange: 'mx.utf8.test', priority: 10 },
      { type: 'A', name: 'mx.utf8.test', address: '127.0.0.3' },
      { type: 'MX', name: 'oldtls.test', exchange: 'mx.oldtls.test', priority: 10 },
      { type: 'A', name: 'mx.oldtls.test', address: '127.0.0.10' },
      { type: 'MX', name: 'seven.test', exchange: 'mx.seven.test', priority: 10 },
      { type: 'A', name: 'mx.seven.test', address: '127.0.0.6' },
    ],
  });
  config = makeConfig();
  deliverer = createDeliverer({ getConfig: () => config, log: { event: (name, fields) => logged.push({ name, ...fields }) }, directPort: port, dnsTimeoutMs: 500 });
});

afterAll(async () => {
  await deliverer?.close();
  await Promise.all([sinkA, sinkB, sink421, sink7bit, flaky, oldTls, sink554].map((s) => s?.close()));
  await dns?.stop();
});

describe('direct delivery', () => {
  it('delivers to the MX with opportunistic STARTTLS and keeps the message bytes unchanged', async () => {
    const before = sinkA.messages.length;
    const results = await send(['rcpt@direct.test']);
    expect(results).toEqual([
      expect.objectContaining({ recipient: 'rcpt@direct.test', outcome: 'delivered', code: 250, nextHop: `mx1.direct.test[127.0.0.2]:${port}`, tls: true }),
    ]);
    const msg = sinkA.messages[before]!;
    expect(msg).toMatchObject({ from: 'sender@origin.test', to: ['rcpt@direct.test'], secure: true, helo: 'relay.local.test' });
    expect(msg.body.equals(body)).toBe(true);
  });

  it('falls back to plaintext when the opportunistic TLS handshake fails', async () => {
    const results = await send(['a@oldtls.test']);
    expect(results[0]).toMatchObject({ outcome: 'delivered', tls: false, nextHop: `mx.oldtls.test[127.0.0.10]:${port}` });
    expect(oldTls.messages.at(-1)).toMatchObject({ secure: false, to: ['a@oldtls.test'] });
    expect(logged.some((l) => l.category === 'tls' && String(l.nextHop).includes('127.0.0.10'))).toBe(true);
  });

  it('defers when the stored message cannot be read, and sends nothing', async () => {
    const before = sinkB.messages.length;
    const e = entry(['a@implicit.test']);
    const broken = () =>
      new Readable({
        read() {
          this.push(body.subarray(0, 30));
          this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        },
      });
    const results = await deliverer.deliver(e, ['a@implicit.test'], broken);
    expect(results[0]).toMatchObject({ outcome: 'deferred', category: 'local' });
    expect(sinkB.messages.length).toBe(before);
    // The session that carried the half-sent message was dropped; the next message goes through.
    expect((await send(['b@implicit.test']))[0]!.outcome).toBe('delivered');
  });

  it('tries the next MX when the first refuses the connection', async () => {
    const results = await send(['a@fallback.test']);
    expect(results[0]).toMatchObject({ outcome: 'delivered', nextHop: `mx2.fallback.test[127.0.0.3]:${port}`, tls: false });
    expect(logged.some((l) => l.name === 'error' && String(l.nextHop).includes('127.0.0.4'))).toBe(true);
  });

  it('tries the next MX after a 4xx greeting', async () => {
    const results = await send(['a@busy.test']);
    expect(results[0]).toMatchObject({ outcome: 'delivered', nextHop: `backup.busy.test[127.0.0.3]:${port}` });
    expect(sink421.connections).toBeGreaterThan(0);
  });

  it('defers (does not bounce) when the only MX greets with 5xx', async () => {
    const [r] = await send(['a@refusing.test']);
    expect(r).toMatchObject({ outcome: 'deferred', code: 554, enhanced: '4.7.1' });
    expect(sink554.connections).toBeGreaterThan(0);
  });

  it('uses the domain itself when it has no MX (implicit MX)', async () => {
    expect((await send(['a@implicit.test']))[0]).toMatchObject({ outcome: 'delivered', nextHop: `implicit.test[127.0.0.3]:${port}` });
  });

  it('gives each recipient its own result when some are refused', async () => {
    sinkB.configure({
      rcptReply: (to) =>
        to.startsWith('nobody@')
          ? { code: 550, message: '5.1.1 <nobody@fallback.test>: Recipient address rejected: User unknown' }
          : to.startsWith('later@')
            ? { code: 451, message: '4.7.1 Greylisted, please try again later' }
            : null,
    });
    try {
      const before = sinkB.messages.length;
      const results = await send(['ok@fallback.test', 'nobody@fallback.test', 'later@fallback.test']);
      expect(results.map((r) => [r.recipient, r.outcome, r.code, r.enhanced, r.category])).toEqual([
        ['ok@fallback.test', 'delivered', 250, '2.0.0', undefined],
        ['nobody@fallback.test', 'failed', 550, '5.1.1', 'unknown-user'],
        ['later@fallback.test', 'deferred', 451, '4.7.1', 'greylisted'],
      ]);
      expect(results[1]!.reply).toContain('(in reply to RCPT TO)');
      expect(sinkB.messages.slice(before).map((m) => m.to)).toEqual([['ok@fallback.test']]);
    } finally {
      sinkB.configure({ rcptReply: null });
    }
  });

  it('a 5xx at the end of DATA fails every recipient, a 4xx defers them', async () => {
    sinkB.configure({ dataReply: () => ({ code: 554, message: '5.7.1 Message rejected by content filter' }) });
    try {
      const failed = await send(['x@implicit.test', 'y@implicit.test']);
      expect(failed.map((r) => [r.outcome, r.code, r.category])).toEqual([
        ['failed', 554, 'spam'],
        ['failed', 554, 'spam'],
      ]);
      sinkB.configure({ dataReply: () => ({ code: 452, message: '4.3.1 Insufficient system storage' }) });
      const deferred = await send(['x@implicit.test']);
      expect(deferred[0]).toMatchObject({ outcome: 'deferred', code: 452, enhanced: '4.3.1' });
      // The session survives a refused message and carries the next one.
      sinkB.configure({ dataReply: null });
      expect((await send(['x@implicit.test']))[0]!.outcome).toBe('delivered');
    } finally {
      sinkB.configure({ dataReply: null });
    }
  });

  it('defers when no MX host answers, and delivers once it is back', async () => {
    const down = await send(['a@down.test']);
    expect(down[0]).toMatchObject({ outcome: 'deferred', code: null, category: 'network', nextHop: `mx.down.test[127.0.0.4]:${port}` });
    expect(down[0]!.reply).toMatch(/ECONNREFUSED/);

    expect((await send(['a@flaky.test']))[0]!.outcome).toBe('delivered');
    await flaky.stop();
    expect((await send(['b@flaky.test']))[0]).toMatchObject({ outcome: 'deferred', category: 'network' });
    await flaky.start();
    expect((await send(['c@flaky.test']))[0]!.outcome).toBe('delivered');
    expect(flaky.messages.map((m) => m.to[0])).toEqual(['a@flaky.test', 'c@flaky.test']);
  });

  it('bounces at once for a null MX or an unknown domain, and defers on SERVFAIL', async () => {
    const results = await send(['a@nullmx.test', 'b@nosuchdomain.test', 'c@x.broken.test']);
    expect(results.map((r) => [r.recipient, r.outcome, r.enhanced, r.category])).toEqual([
      ['a@nullmx.test', 'failed', '5.1.10', 'dns'],
      ['b@nosuchdomain.test', 'failed', '5.1.2', 'dns'],
      ['c@x.broken.test', 'deferred', '4.4.3', 'dns'],
    ]);
  });

  it('splits a message into one transaction per route', async () => {
    const a = sinkA.messages.length;
    const b = sinkB.messages.length;
    const results = await send(['one@direct.test', 'two@fallback.test', 'three@direct.test']);
    expect(results.every((r) => r.outcome === 'delivered')).toBe(true);
    expect(sinkA.messages.slice(a).map((m) => m.to)).toEqual([['one@direct.test', 'three@direct.test']]);
    expect(sinkB.messages.slice(b).map((m) => m.to)).toEqual([['two@fallback.test']]);
  });

  it('splits more than 100 recipients of one route into several transactions', async () => {
    const b = sinkB.messages.length;
    const many = Array.from({ length: 150 }, (_, i) => `r${i}@implicit.test`);
    const results = await send(many);
    expect(results.map((r) => r.recipient)).toEqual(many);
    expect(results.every((r) => r.outcome === 'delivered')).toBe(true);
    expect(sinkB.messages.slice(b).map((m) => m.to.length).sort((x, y) => x - y)).toEqual([50, 100]);
  });

  it('sends postmaster@ of a local domain to the external postmaster', async () => {
    const a = sinkA.messages.length;
    const results = await send(['postmaster@local.test']);
    expect(results).toEqual([expect.objectContaining({ recipient: 'postmaster@local.test', outcome: 'delivered' })]);
    expect(sinkA.messages[a]!.to).toEqual(['admin@direct.test']);
    expect((await send(['nobody@local.test']))[0]).toMatchObject({ outcome: 'failed', enhanced: '5.1.1', category: 'routing' });
  });
});

describe('connections', () => {
  it('reuses a session for the next message to the same MX', async () => {
    await send(['warm@direct.test']);
    const before = sinkA.connections;
    for (let i = 0; i < 3; i++) expect((await send([`r${i}@direct.test`]))[0]!.outcome).toBe('delivered');
    expect(sinkA.connections).toBe(before);
  });

  it('honours the per-destination limit: concurrent messages queue for one connection', async () => {
    config = makeConfig({ queue: { maxConnectionsPerDestination: 1 } });
    try {
      await send(['warm@implicit.test']);
      const before = sinkB.connections;
      const all = await Promise.all([0, 1, 2, 3].map((i) => send([`c${i}@implicit.test`])));
      expect(all.flat().every((r) => r.outcome === 'delivered')).toBe(true);
      expect(sinkB.connections).toBe(before);
      expect(deliverer.stats().open).toBeGreaterThanOrEqual(1);
    } finally {
      config = makeConfig();
    }
  });

  it('honours the global limit by closing idle sessions to other destinations', async () => {
    config = makeConfig({ queue: { maxConcurrentDeliveries: 1 } });
    try {
      expect((await send(['g1@direct.test']))[0]!.outcome).toBe('delivered');
      expect((await send(['g2@implicit.test']))[0]!.outcome).toBe('delivered');
      expect(deliverer.stats().open).toBeLessThanOrEqual(1);
    } finally {
      config = makeConfig();
    }
  });
});

describe('8BITMIME and SMTPUTF8', () => {
  it('passes BODY=8BITMIME to a next hop that offers it', async () => {
    const bytes = Buffer.from('Subject: Grüße\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄpfel und Birnen\r\n');
    const a = sinkA.messages.length;
    expect((await send(['eight@direct.test'], { bodyType: '8bitmime' }, bytes))[0]!.outcome).toBe('delivered');
    expect(sinkA.messages[a]!.bodyType).toBe('8bitmime');
    expect(sinkA.messages[a]!.body.equals(bytes)).toBe(true);
  });

  it('defers 8-bit mail to a next hop without 8BITMIME', async () => {
    const results = await send(['eight@seven.test'], { bodyType: '8bitmime' });
    expect(results[0]).toMatchObject({ outcome: 'deferred', enhanced: '4.6.3', category: 'capability' });
    expect(sink7bit.messages).toHaveLength(0);
  });

  it('sends IDN domains in ASCII form to a next hop without SMTPUTF8, and refuses non-ASCII local parts', async () => {
    const results = await send(['user@bücher.test', 'jörg@bücher.test'], { smtpUtf8: true });
    expect(results.map((r) => [r.outcome, r.enhanced])).toEqual([
      ['delivered', '2.0.0'],
      ['failed', '5.6.7'],
    ]);
    expect(sink7bit.commands).toContain('RCPT TO:<user@xn--bcher-kva.test>');
    expect(sink7bit.commands.filter((c) => c.startsWith('RCPT'))).toEqual(['RCPT TO:<user@xn--bcher-kva.test>']);
  });

  it('passes SMTPUTF8 addresses through to a next hop that offers it', async () => {
    const b = sinkB.messages.length;
    const results = await send(['jörg@utf8.test'], { smtpUtf8: true, sender: 'jürgen@origin.test' });
    expect(results[0]).toMatchObject({ outcome: 'delivered' });
    expect(sinkB.messages[b]).toMatchObject({ from: 'jürgen@origin.test', to: ['jörg@utf8.test'], smtpUtf8: true });
    expect(sinkB.commands.filter((c) => c.includes('jürgen'))).toEqual(['MAIL FROM:<jürgen@origin.test> SMTPUTF8']);
  });
});

describe('interoperability', () => {
  it("delivers to Postfix's smtp-sink", async () => {
    const dir = makeTempDir('relaydesk-postfix-sink-');
    const pf = await startPostfixSink({ dumpDir: dir.path });
    try {
      config = makeConfig({ relayControl: { relayDomains: [{ name: 'Postfix', domain: 'pf.test', nextHop: `127.0.0.1:${pf.port}` }] } });
      const results = await send(['a@pf.test', 'b@pf.test']);
      expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
      expect(results[0]!.nextHop).toBe(`[127.0.0.1]:${pf.port}`);
      const dumps = pf.dumps();
      expect(dumps).toHaveLength(1);
      expect(dumps[0]).toContain('X-Helo-Args: relay.local.test');
      expect(dumps[0]).toContain('X-Rcpt-Args: <a@pf.test>');
      expect(dumps[0]).toContain('X-Rcpt-Args: <b@pf.test>');
      expect(dumps[0]).toContain('.A line that starts with a dot');
      expect(dumps[0]).toContain('\n..and one with two');
    } finally {
      config = makeConfig();
      await pf.stop();
      dir.remove();
    }
  });
});
