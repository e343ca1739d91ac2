/**
 * The relay as users run it (the bundle, as a process) accepting mail from swaks and nodemailer and
 * passing it to a relay host that is a real SMTP server: bytes kept, Received header added, limits
 * answered with the codes of SPEC §1.3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { openDialog } from '../support/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { swaks } from '../support/swaks.ts';

let sink: SmtpSink;
let relay: RelayProcess;

beforeAll(async () => {
  sink = await startSmtpSink();
  relay = await startRelayProcess({
    config: {
      general: {
        profile: {
          domain: 'corp.example',
          hostname: 'relay.corp.example',
          maxRecipientsPerMessage: 3,
          maxHops: 5,
          maxMessageSizeMB: 0.05,
          attachmentSizeLimitMB: 0.01,
          banner: 'Corp relay ready',
        },
        externalPostmasters: ['admins@outside.example'],
        disableAutoForwarding: true,
      },
      delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } },
    },
  });
});

afterAll(async () => {
  await relay?.stop();
  await sink?.close();
});

function transport(localAddress = '127.0.0.1') {
  return nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, localAddress, tls: { rejectUnauthorized: false } });
}

describe('relay intake (real relay process, real relay host)', () => {
  it('greets with the configured hostname and banner, answers 250 with the queue id, and delivers with a Received header', async () => {
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'app@corp.example', to: 'someone@far.example', tls: true, body: 'hello from swaks' });
    expect(r.transcript).toMatch(/220 relay\.corp\.example ESMTP Corp relay ready/);
    expect(r.transcript).toMatch(/250-STARTTLS/);
    const queued = /250 2\.0\.0 Ok: queued as ([0-9a-f-]+)/.exec(r.transcript);
    expect(queued, r.transcript).not.toBeNull();
    const [msg] = await sink.waitForMessages(1);
    expect(msg!.from).toBe('app@corp.example');
    expect(msg!.to).toEqual(['someone@far.example']);
    const text = msg!.body.toString();
    expect(text).toMatch(new RegExp(`^Received: from client\\.test\\.example \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby relay\\.corp\\.example \\(Relay Desk mailrelay\\) with ESMTPS id ${queued![1]}`));
    expect(text).toContain('hello from swaks');
    await relay.waitForLine((l) => l.event === 'delivered' && l.id === queued![1], 'delivered line');
  });

  it('keeps the message bytes unchanged, dot-stuffing included', async () => {
    const before = sink.messages.length;
    const raw = 'From: a@corp.example\r\nTo: b@far.example\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\nplain\r\n.\r\n';
    await transport().sendMail({ envelope: { from: 'a@corp.example', to: ['b@far.example'] }, raw });
    const msgs = await sink.waitForMessages(before + 1);
    const body = msgs[before]!.body.toString();
    const stored = body.slice(body.indexOf('From: a@corp.example'));
    expect(stored).toBe(raw);
  });

  it('answers 452 4.5.3 past the recipient limit', async () => {
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: ['r1@far.example', 'r2@far.example', 'r3@far.example', 'r4@far.example'] });
    expect(r.transcript).toMatch(/452 4\.5\.3 Too many recipients/);
    const line = await relay.waitForLine((l) => l.event === 'reject' && l.rule === 'max-recipients', 'reject line');
    expect(line.reply).toMatch(/^452 4\.5\.3/);
  });

  it('refuses a message over the size limit with 552 5.3.4, also when the client sent no SIZE', async () => {
    // nodemailer does not send SIZE=, so the end-of-data check must catch it.
    const big = 'x'.repeat(80) + '\r\n';
    const err = await transport()
      .sendMail({ from: 'a@corp.example', to: 'b@far.example', subject: 'big', text: big.repeat(1000) })
      .then(() => null, (e: Error & { responseCode?: number; response?: string }) => e);
    expect(err?.responseCode).toBe(552);
    expect(err?.response).toMatch(/5\.3\.4/);
  });

  it('refuses a declared SIZE over the limit at MAIL FROM with 552 5.3.4, and logs it', async () => {
    const d = await openDialog({ port: relay.port });
    try {
      await d.reply();
      await d.command('EHLO client.test.example');
      expect((await d.command('MAIL FROM:<a@corp.example> SIZE=10000000')).line).toMatch(/^552 5\.3\.4 Message size exceeds the limit of 0\.05 MB/);
      expect((await d.command('MAIL FROM:<a@corp.example> SIZE=1000')).code).toBe(250);
    } finally {
      d.close();
    }
    expect(await relay.waitForLine((l) => l.event === 'reject' && l.rule === 'max-message-size' && l.stage === 'mail')).toMatchObject({ reply: expect.stringMatching(/^552 5\.3\.4/), size: 10000000 });
  });

  it('refuses too many hops with 554 5.4.6', async () => {
    const received = Array.from({ length: 6 }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Sat, 28 Nov 2026 10:00:00 +0000`);
    const err = await transport()
      .sendMail({ envelope: { from: 'a@corp.example', to: ['b@far.example'] }, raw: `${received.join('\r\n')}\r\nSubject: loop\r\n\r\nbody\r\n` })
      .then(() => null, (e: Error & { responseCode?: number; response?: string }) => e);
    expect(err?.responseCode).toBe(554);
    expect(err?.response).toMatch(/5\.4\.6 Too many hops/);
  });

  it('refuses an attachment over the attachment limit with 552 5.3.4 naming it', async () => {
    const err = await transport()
      .sendMail({
        from: 'a@corp.example',
        to: 'b@far.example',
        subject: 'attachment',
        text: 'see attached',
        attachments: [{ filename: 'report.pdf', content: Buffer.alloc(20 * 1024, 7) }],
      })
      .then(() => null, (e: Error & { responseCode?: number; response?: string }) => e);
    expect(err?.responseCode).toBe(552);
    expect(err?.response).toMatch(/5\.3\.4 Attachment "report\.pdf" exceeds/);
  });

  it('answers a message whose MIME structure the attachment check cannot follow, and leaves no temp file', async () => {
    // More parts than mailsplit follows (1000): its error once left the session without a reply.
    let raw = 'Subject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n';
    for (let i = 0; i < 1100; i++) raw += '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n';
    raw += '--b--\r\n';
    const info = await transport().sendMail({ envelope: { from: 'a@corp.example', to: ['b@far.example'] }, raw });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(readdirSync(path.join(relay.dataDir, 'queue', 'tmp'))).toEqual([]);
  });

  it('refuses auto-forwarded mail to external recipients with 550 5.7.1', async () => {
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: 'x@far.example', headers: ['Auto-Submitted: auto-forwarded'] });
    expect(r.transcript).toMatch(/550 5\.7\.1 Auto-forwarding to external recipients is disabled/);
    const r2 = await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: 'x@far.example', headers: ['X-Forwarded-To: x@far.example'] });
    expect(r2.transcript).toMatch(/550 5\.7\.1/);
  });

  it('sends postmaster@ of the local domain to the external postmasters and refuses other local mailboxes', async () => {
    const before = sink.messages.length;
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'someone@far.example', to: 'postmaster@corp.example', localAddress: '127.0.0.9' });
    expect(r.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
    const msgs = await sink.waitForMessages(before + 1);
    expect(msgs[before]!.to).toEqual(['admins@outside.example']);
    const r2 = await swaks({ server: '127.0.0.1', port: relay.port, from: 'someone@far.example', to: 'alice@corp.example' });
    expect(r2.transcript).toMatch(/550 5\.1\.1/);
  });

  it('answers bad addresses with a clear 5xx and keeps serving', async () => {
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: 'bad@exa_mple..com' });
    expect(r.transcript).toMatch(/5\d\d [^\n]*(not a valid domain|Bad recipient)/i);
    const ok = await swaks({ server: '127.0.0.1', port: relay.port, from: 'a@corp.example', to: 'fine@far.example' });
    expect(ok.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
  });
});
