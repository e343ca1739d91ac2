/**
 * The relay must never be an open relay (SPEC §1.5, §3): an untrusted client (127.0.0.9, outside the
 * trusted 127.0.0.1/32) gets 554 5.7.1 for any non-relay destination, whatever the address form;
 * a trusted client relays; anyone may send to a relay domain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { swaks } from '../support/swaks.ts';

let sink: SmtpSink;
let relay: RelayProcess;

beforeAll(async () => {
  sink = await startSmtpSink();
  relay = await startRelayProcess({
    tls: 'none',
    config: {
      general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' } },
      relayControl: {
        trustedNetworks: [{ name: 'this host only', network: '127.0.0.1/32' }],
        relayDomains: [{ name: 'Main mail server', domain: 'inbound.example', nextHop: `127.0.0.1:${sink.port}` }],
      },
      delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } },
    },
  });
});

afterAll(async () => {
  await relay?.stop();
  await sink?.close();
});

/** Speak SMTP by hand from a chosen local address, so no client library normalises the address. */
async function rcptReply(localAddress: string, rcpt: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port: relay.port, localAddress });
  socket.setEncoding('utf8');
  let buffer = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (d: string) => {
    buffer += d;
    let i;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 2);
    }
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (): Promise<string> => {
    for (;;) {
      const idx = lines.findIndex((l) => /^\d{3} /.test(l));
      if (idx >= 0) return lines.splice(0, idx + 1).pop()!;
      await new Promise<void>((resolve, reject) => {
        waiters.push(resolve);
        socket.once('error', reject);
      });
    }
  };
  try {
    await next();
    socket.write('EHLO client.example\r\n');
    await next();
    socket.write('MAIL FROM:<sender@far.example>\r\n');
    await next();
    socket.write(`RCPT TO:<${rcpt}>\r\n`);
    return await next();
  } finally {
    socket.end('QUIT\r\n');
  }
}

const TRICKS = [
  'victim@far.example',
  'victim%far.example@inbound.example',
  'far.example!victim@inbound.example',
  '"victim@far.example"@inbound.example',
  '@inbound.example:victim@far.example',
  'victim@far.example@inbound.example',
  'victim@[127.0.0.1]',
  'victim@far.example.',
  'VICTIM@FAR.EXAMPLE',
];

describe('relay control (real relay process)', () => {
  it.each(TRICKS)('an untrusted client cannot relay to %s', async (rcpt) => {
    const reply = await rcptReply('127.0.0.9', rcpt);
    expect(reply).toMatch(/^(554 5\.7\.1|5\d\d 5\.1\.3|501 )/);
  });

  it('logs the refusal with client, stage and rule', async () => {
    await rcptReply('127.0.0.9', 'victim@far.example');
    const line = await relay.waitForLine((l) => l.event === 'reject' && l.client === '127.0.0.9' && l.rule === 'relay-control', 'reject line');
    expect(line).toMatchObject({ stage: 'rcpt' });
    expect(String(line.reply)).toMatch(/^554 5\.7\.1/);
  });

  it('no message from the untrusted client reached the next hop', () => {
    expect(sink.rcptSeen.filter((r) => /victim/i.test(r))).toEqual([]);
  });

  it('a trusted client relays to any domain', async () => {
    expect(await rcptReply('127.0.0.1', 'someone@far.example')).toMatch(/^250 /);
  });

  it('anyone may send to a relay domain, and it goes to its next hop', async () => {
    expect(await rcptReply('127.0.0.9', 'user@inbound.example')).toMatch(/^250 /);
    const before = sink.messages.length;
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'x@far.example', to: 'user@inbound.example', localAddress: '127.0.0.9' });
    expect(r.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
    const msgs = await sink.waitForMessages(before + 1);
    expect(msgs[before]!.to).toEqual(['user@inbound.example']);
  });

  it('swaks from an untrusted address gets 554 5.7.1 relay access denied', async () => {
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'x@far.example', to: 'someone@far.example', localAddress: '127.0.0.9' });
    expect(r.transcript).toMatch(/554 5\.7\.1 <someone@far\.example>: Relay access denied/);
  });
});
