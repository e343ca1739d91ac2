/**
 * SMTP AUTH end to end (SPEC §1.3): the relay bundle as a process, users created through the user
 * store API in its data dir, swaks and a raw client from several 127.0.0.x addresses (only 127.0.0.1
 * is trusted). PLAIN and LOGIN after STARTTLS, requireTls, sender must match login, the brute-force
 * throttle with a window that resets, skipForLocalNetwork, AUTH off, and malformed AUTH input.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../server/users/user-store.ts';
import { startRelayProcess, type LogLine, type RelayProcess } from '../support/relay-process.ts';
import { openDialog, type SmtpDialog } from '../support/smtp-dialog.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { swaks, type SwaksOptions } from '../support/swaks.ts';
import { waitFor } from '../support/wait-for.ts';

let sink: SmtpSink;
let relay: RelayProcess;
const dialogs: SmtpDialog[] = [];
const ip = (n: number) => `127.0.0.${n}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function config(auth: Record<string, unknown>) {
  return {
    listeners: [{ name: 'smtp', host: '127.0.0.1', port: relay?.port ?? 0, tls: 'starttls' }],
    general: { profile: { domain: 'corp.test', hostname: 'relay.corp.test' }, auth },
    relayControl: {
      trustedNetworks: [{ name: 'this host', network: '127.0.0.1/32' }],
      relayDomains: [{ name: 'inbound', domain: 'inbound.test', nextHop: `127.0.0.1:${sink.port}` }],
    },
    delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } },
  };
}

const AUTH_ON = { enabled: true, requireTls: true, senderMustMatchLogin: true, maxFailures: 3, failureWindowSeconds: 2 };

async function reload(cfg: ReturnType<typeof config>): Promise<void> {
  const before = relay.lines.filter((l) => l.event === 'reload').length;
  writeFileSync(path.join(relay.dataDir, 'config.json'), JSON.stringify(cfg, null, 2));
  relay.child.kill('SIGHUP');
  const lines = await relay.waitForCount('reload', before + 1);
  expect(lines.at(-1)).toMatchObject({ ok: true });
}

function logged(mark: number, pred: (l: LogLine) => boolean, what = 'log line'): Promise<LogLine> {
  return relay.waitForLine((l) => relay.lines.indexOf(l) >= mark && pred(l), what);
}

function send(from: number, o: Partial<SwaksOptions> = {}) {
  return swaks({ server: '127.0.0.1', port: relay.port, localAddress: ip(from), from: 'alice@corp.test', to: 'someone@outside.test', tls: true, ...o });
}

async function dial(from: number): Promise<SmtpDialog> {
  const d = await openDialog({ port: relay.port, localAddress: ip(from) });
  dialogs.push(d);
  expect((await d.reply()).code).toBe(220);
  return d;
}

const queuedId = (transcript: string) => /250 2\.0\.0 Ok: queued as (\S+)/.exec(transcript)?.[1] ?? null;

beforeAll(async () => {
  sink = await startSmtpSink();
  const { listeners: _harnessSetsThem, ...initial } = config(AUTH_ON);
  relay = await startRelayProcess({ config: initial });
  // Users through the store API, in the relay's data dir (the relay re-reads the file when it changes).
  const users = await UserStore.open(path.join(relay.dataDir, 'users.json'), { scrypt: { N: 1024, r: 8, p: 1 } });
  await users.add('alice@corp.test', 'alice-secret');
  await users.add('scanner', 'scan-secret', ['scanner@corp.test', 'fax@corp.test']);
});

afterAll(async () => {
  for (const d of dialogs) d.close();
  await relay?.stop();
  await sink?.close();
});

describe('SMTP AUTH with requireTls', () => {
  it('does not offer AUTH before STARTTLS and refuses it with 538 5.7.11', async () => {
    const mark = relay.lines.length;
    const d = await dial(60);
    const ehlo = await d.command('EHLO client.test');
    expect(ehlo.lines).toContain('250-STARTTLS');
    expect(ehlo.lines.some((l) => /AUTH/.test(l))).toBe(false);
    expect((await d.command(`AUTH PLAIN ${b64('\0alice@corp.test\0alice-secret')}`)).line).toBe('538 5.7.11 Encryption required for authentication: issue STARTTLS first');
    expect(await logged(mark, (l) => l.event === 'reject' && l.client === ip(60))).toMatchObject({ stage: 'auth', rule: 'auth-require-tls' });
    // Without a login an untrusted client may not relay.
    expect((await d.command('MAIL FROM:<alice@corp.test>')).code).toBe(250);
    expect((await d.command('RCPT TO:<someone@outside.test>')).line).toBe('554 5.7.1 <someone@outside.test>: Relay access denied');
  });

  it('lets a user relay after STARTTLS with PLAIN and with LOGIN', async () => {
    const mark = relay.lines.length;
    for (const type of ['PLAIN', 'LOGIN'] as const) {
      const r = await send(61, { auth: { user: 'alice@corp.test', password: 'alice-secret', type } });
      expect(r.transcript, type).toMatch(/250-AUTH PLAIN LOGIN/);
      expect(r.transcript, type).toMatch(/235 Authentication successful/);
      expect(queuedId(r.transcript), r.transcript).not.toBeNull();
      expect(await logged(mark, (l) => l.event === 'auth' && l.method === type)).toMatchObject({ client: ip(61), user: 'alice@corp.test', success: true });
    }
  });

  it('lets a logged-in user send only as its own addresses (sender must match login)', async () => {
    const mark = relay.lines.length;
    const asBoss = await send(61, { from: 'boss@corp.test', auth: { user: 'scanner', password: 'scan-secret' } });
    expect(asBoss.transcript).toContain('553 5.7.1 <boss@corp.test>: Sender address rejected: not owned by user scanner');
    expect(await logged(mark, (l) => l.event === 'reject' && l.rule === 'sender-login-mismatch')).toMatchObject({ stage: 'mail', client: ip(61), sender: 'boss@corp.test' });
    for (const from of ['scanner@corp.test', 'FAX@corp.test']) {
      const r = await send(61, { from, auth: { user: 'scanner', password: 'scan-secret' } });
      expect(queuedId(r.transcript), r.transcript).not.toBeNull();
    }
    expect(queuedId((await send(61, { from: 'alice@corp.test', auth: { user: 'alice@corp.test', password: 'alice-secret' } })).transcript)).not.toBeNull();
    expect((await send(61, { from: 'scanner@corp.test', auth: { user: 'alice@corp.test', password: 'alice-secret' } })).transcript).toContain('553 5.7.1');
  });

  it('throttles a client after maxFailures failed logins with 454 4.7.0, until the window has passed', async () => {
    const mark = relay.lines.length;
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      const r = await send(62, { auth: { user: 'alice@corp.test', password: `wrong-${i}` } });
      expect(r.transcript).toContain('535 5.7.8 Authentication credentials invalid');
    }
    const refused = await send(62, { auth: { user: 'alice@corp.test', password: 'alice-secret' } });
    expect(refused.transcript).toMatch(/454 4\.7\.0 Too many failed authentication attempts from \[127\.0\.0\.62\], try again in [12] s/);
    expect(await logged(mark, (l) => l.event === 'auth' && l.throttled === true)).toMatchObject({ client: ip(62), rule: 'auth-throttle', failures: 3, windowSeconds: 2, level: 'warn' });
    expect(await logged(mark, (l) => l.event === 'reject' && l.rule === 'auth-throttle')).toMatchObject({ client: ip(62), stage: 'auth', reply: expect.stringMatching(/^454 4\.7\.0 Too many failed authentication attempts/) });
    expect(relay.lines.slice(mark).filter((l) => l.event === 'auth' && l.client === ip(62) && l.success === false)).toHaveLength(3);
    // Other clients are not affected.
    expect(queuedId((await send(63, { auth: { user: 'alice@corp.test', password: 'alice-secret' } })).transcript)).not.toBeNull();
    await waitFor(
      'the AUTH throttle of 127.0.0.62 to end',
      async () => /235 Authentication successful/.test((await send(62, { auth: { user: 'alice@corp.test', password: 'alice-secret' } })).transcript),
      15_000,
      200,
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(1900);
  });
});

describe('SMTP AUTH without requireTls, bad AUTH input', () => {
  beforeAll(() => reload(config({ ...AUTH_ON, requireTls: false, maxFailures: 50 })));

  it('offers AUTH on the plain connection and accepts PLAIN and LOGIN there', async () => {
    const d = await dial(64);
    expect((await d.command('EHLO client.test')).lines).toContain('250-AUTH PLAIN LOGIN');
    expect((await d.command(`AUTH PLAIN ${b64('\0alice@corp.test\0alice-secret')}`)).line).toBe('235 Authentication successful');
    const l = await dial(64);
    await l.command('EHLO client.test');
    expect((await l.command('AUTH LOGIN')).code).toBe(334);
    expect((await l.command(b64('scanner'))).code).toBe(334);
    expect((await l.command(b64('scan-secret'))).line).toBe('235 Authentication successful');
  });

  it('answers malformed AUTH input clearly and keeps serving', async () => {
    const d = await dial(64);
    await d.command('EHLO client.test');
    expect((await d.command('AUTH PLAIN !!!not-base64!!!')).code).toBe(501);
    expect((await d.command(`AUTH PLAIN ${b64('no-nul-separators')}`)).code).toBe(501);
    expect((await d.command(`AUTH PLAIN ${b64('\0bad\u0001user\0x')}`)).code).toBe(501);
    expect((await d.command('AUTH PLAIN')).code).toBe(334);
    expect((await d.command('*')).line).toMatch(/^501 .*aborted/);
    expect((await d.command('AUTH LOGIN')).code).toBe(334);
    expect((await d.command('')).code).toBe(501);
    expect((await d.command('AUTH CRAM-MD5')).code).toBe(504);
    expect((await d.command('AUTH')).code).toBe(504);
    expect((await d.command(`AUTH PLAIN ${b64(`\0${'u'.repeat(5000)}\0pw`)}`)).line).toMatch(/^535 5\.7\.8/);
    d.write(`AUTH PLAIN ${'A'.repeat(40_000)}\r\n`);
    expect((await d.reply()).line).toMatch(/^421 .*too long/i);
    await d.closed;
    const ok = await dial(64);
    await ok.command('EHLO client.test');
    expect((await ok.command(`AUTH PLAIN ${b64('\0alice@corp.test\0alice-secret')}`)).code).toBe(235);
  });
});

describe('AUTH brute force over parallel connections', () => {
  beforeAll(() => reload(config({ ...AUTH_ON, requireTls: false, maxFailures: 3, failureWindowSeconds: 60 })));

  it('checks no more guesses than maxFailures when one client sends AUTH on many connections at once', async () => {
    const conns = await Promise.all(Array.from({ length: 12 }, () => dial(70)));
    for (const d of conns) await d.command('EHLO client.test');
    // All at once: an unknown user costs a full scrypt, so the checks overlap.
    for (const [i, d] of conns.entries()) d.write(`AUTH PLAIN ${b64(`\0nobody-${i}\0guess-${i}`)}\r\n`);
    const replies = await Promise.all(conns.map((d) => d.reply()));
    const checked = replies.filter((r) => r.code === 535);
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(3);
    expect(replies.filter((r) => r.code !== 535).every((r) => /^454 4\.7\.0 Too many failed authentication attempts/.test(r.line))).toBe(true);
  });
});

describe('AUTH off, skipForLocalNetwork', () => {
  it('with AUTH off: not offered, refused with 503 5.5.1, and untrusted clients cannot relay', async () => {
    await reload(config({ enabled: false }));
    const d = await dial(65);
    const ehlo = await d.command('EHLO client.test');
    expect(ehlo.lines.some((l) => /AUTH/.test(l))).toBe(false);
    expect((await d.command(`AUTH PLAIN ${b64('\0alice@corp.test\0alice-secret')}`)).line).toBe('503 5.5.1 Error: authentication not enabled');
    expect((await send(65, { tls: false })).transcript).toContain('554 5.7.1 <someone@outside.test>: Relay access denied');
    // Relay domains take mail from anyone.
    expect(queuedId((await send(65, { tls: false, to: 'user@inbound.test' })).transcript)).not.toBeNull();
  });

  it('with skipForLocalNetwork: clients on the host\'s own networks (loopback) relay without logging in', async () => {
    await reload(config({ enabled: true, skipForLocalNetwork: true }));
    expect(queuedId((await send(66)).transcript)).not.toBeNull();
    await reload(config({ enabled: true, skipForLocalNetwork: false }));
    expect((await send(66)).transcript).toContain('554 5.7.1 <someone@outside.test>: Relay access denied');
  });
});
