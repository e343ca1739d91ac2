/**
 * Every control method over the real socket of a real relay process (the bundle), with real mail in
 * its queue: messages to a relay host on a closed port stay deferred; a relay exception leads to an
 * SMTP sink for `test.send`. The last test stops the relay through the API.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalControl, type ControlClient } from '../../server/control/control-client.ts';
import { ControlError, type LogsEvent, type QueueSummary } from '../../server/protocol/index.ts';
import { freePort } from '../support/free-port.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { swaks } from '../support/swaks.ts';
import { waitFor } from '../support/wait-for.ts';

let relay: RelayProcess;
let sink: SmtpSink;
let client: ControlClient;
let closedPort: number;
const startedAt = Date.now();

async function send(from: string, to: string, subject: string): Promise<string> {
  const r = await swaks({ server: '127.0.0.1', port: relay.port, from, to, extra: ['--header', `Subject: ${subject}`] });
  const id = /queued as (\S+)/.exec(r.transcript)?.[1];
  if (!id) throw new Error(`not queued: ${r.lastReply}`);
  return id;
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  sink = await startSmtpSink();
  closedPort = await freePort();
  relay = await startRelayProcess({
    tls: 'none',
    config: {
      general: { profile: { hostname: 'relay.test', domain: 'relay.test' } },
      delivery: {
        mode: 'relayHost',
        relayHost: { host: '127.0.0.1', port: closedPort, security: 'none' },
        exceptions: [{ name: 'sink', targetType: 'recipient', targets: ['sink.test'], relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } }],
      },
      queue: { retrySchedule: ['1h'] },
    },
  });
  ids.invoice = await send('billing@corp.example', 'bob@example.com', 'invoice 42');
  ids.report = await send('reports@corp.example', 'carol@sub.example.net', 'weekly report');
  ids.news = await send('news@corp.example', 'dave@example.com', 'newsletter');
  await relay.waitForCount('deferred', 3);
  client = await openLocalControl(relay.dataDir);
});

afterAll(async () => {
  await client?.close();
  await relay?.stop();
  await sink?.close();
});

describe('control API of a running relay', () => {
  it('status: version, pid, listeners with bound ports, queue by state', async () => {
    const s = await client.call('status');
    expect(s.pid).toBe(relay.child.pid);
    expect(s.dataDir).toBe(relay.dataDir);
    expect(s.listeners).toEqual([{ name: 'smtp', host: '127.0.0.1', port: relay.port, tls: 'none', listening: true, error: null }]);
    expect(s.queue).toMatchObject({ active: 0, deferred: 3, held: 0, total: 3 });
    expect(s.queue.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(s.startedAt).toBeGreaterThanOrEqual(startedAt);
    expect(s.configRevision).toBe((await client.call('config.get')).revision);
    // this control connection is open, no SMTP session is (deferred mail may be in an attempt)
    expect(s.activity.smtpSessions).toBe(0);
    expect(s.activity.deliveriesInFlight).toBeLessThanOrEqual(s.queue.total);
    expect(s.activity.controlConnections).toBeGreaterThanOrEqual(1);
  });

  it('status counts an open SMTP session', async () => {
    const socket = net.connect(relay.port, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      expect((await client.call('status')).activity.smtpSessions).toBe(1);
    } finally {
      socket.destroy();
    }
  });

  it('config.get and config.validate', async () => {
    const { config } = await client.call('config.get');
    expect(config.delivery.relayHost).toMatchObject({ host: '127.0.0.1', port: closedPort, hasPassword: false });
    expect(config.delivery.relayHost).not.toHaveProperty('password');
    expect(await client.call('config.validate', { config })).toEqual({ ok: true, issues: [] });
    const bad = await client.call('config.validate', { config: { ...config, listeners: [{ name: 'x', port: 70000 }], bogus: 1 } });
    expect(bad.ok).toBe(false);
    expect(bad.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['listeners[0].port', '(root)']));
  });

  it('queue.list filters by state, sender, recipient, domain, error text and age, and pages', async () => {
    const list = (p: Parameters<ControlClient['call']>[1] = {}) => client.call('queue.list', p as never);
    const all = await list();
    expect(all.total).toBe(3);
    expect(all.items.map((i: QueueSummary) => i.id)).toEqual([ids.invoice, ids.report, ids.news]); // oldest first
    expect(all.items[0]).toMatchObject({ sender: 'billing@corp.example', recipients: ['bob@example.com'], state: 'deferred', pendingRecipients: 1, clientIp: '127.0.0.1' });
    expect(all.items[0]!.lastError).toMatch(/ECONNREFUSED/);
    expect((await list({ filter: { sender: 'BILLING@' } })).items.map((i) => i.id)).toEqual([ids.invoice]);
    expect((await list({ filter: { recipient: 'dave' } })).items.map((i) => i.id)).toEqual([ids.news]);
    expect((await list({ filter: { domain: 'example.net' } })).items.map((i) => i.id)).toEqual([ids.report]);
    expect((await list({ filter: { domain: 'example.com' } })).total).toBe(2);
    expect((await list({ filter: { error: 'econnrefused' } })).total).toBe(3);
    expect((await list({ filter: { error: 'mailbox full' } })).total).toBe(0);
    expect((await list({ filter: { minAgeSeconds: 3600 } })).total).toBe(0);
    expect((await list({ filter: { maxAgeSeconds: 3600 } })).total).toBe(3);
    expect((await list({ state: 'held' })).total).toBe(0);
    const page = await list({ offset: 1, limit: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((i) => i.id)).toEqual([ids.report]);
  });

  it('queue.show: envelope, header fields, per-recipient state; NOT_FOUND and INVALID_PARAMS', async () => {
    const m = await client.call('queue.show', { id: ids.invoice! });
    expect(m.envelope).toMatchObject({ id: ids.invoice, sender: 'billing@corp.example', recipients: ['bob@example.com'], origin: 'smtp' });
    expect(m.state).toBe('deferred');
    expect(m.recipients[0]).toMatchObject({ address: 'bob@example.com', status: 'deferred', attempts: 1, nextHop: `[127.0.0.1]:${closedPort}` });
    expect(m.headers[0]!.name).toBe('Received');
    expect(m.headers[0]!.value).toContain(`id ${ids.invoice}`);
    expect(m.headers).toContainEqual({ name: 'Subject', value: 'invoice 42' });
    await expect(client.call('queue.show', { id: '0000000000ff-0000000000' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.call('queue.show', { id: '../config.json' })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });

  it('queue.hold / release / retry / flush by filter and by ids', async () => {
    expect(await client.call('queue.hold', { filter: { domain: 'example.com' } })).toEqual({ affected: 2 });
    expect((await client.call('status')).queue).toMatchObject({ held: 2, deferred: 1 });
    expect((await client.call('queue.list', { state: 'held' })).items.map((i) => i.id).sort()).toEqual([ids.invoice, ids.news].sort());
    // a held message is never retried; flush takes only the deferred one
    expect(await client.call('queue.retry', { ids: [ids.invoice!] })).toEqual({ affected: 0 });
    const deferredBefore = relay.lines.filter((l) => l.event === 'deferred').length;
    expect(await client.call('queue.flush')).toEqual({ affected: 1 });
    await relay.waitForCount('deferred', deferredBefore + 1);
    expect(await client.call('queue.release', { ids: [ids.invoice!, ids.news!, '0000000000ff-0000000000'] })).toEqual({ affected: 2 });
    // released messages are due at once: one more failed attempt each
    await relay.waitForCount('deferred', deferredBefore + 3);
    await waitFor('the released messages to be retried', async () => (await client.call('status')).queue.deferred === 3);
    expect((await client.call('queue.show', { id: ids.invoice! })).attempts).toBe(2);
    expect(await client.call('queue.retry', { filter: { sender: 'reports@' }, state: 'deferred' })).toEqual({ affected: 1 });
    await relay.waitForCount('deferred', deferredBefore + 4);
  });

  it('queue.bounce sends a DSN to the sender; queue.delete removes without one', async () => {
    expect(await client.call('queue.bounce', { ids: [ids.news!] })).toEqual({ affected: 1 });
    const dsn = await relay.waitForLine((l) => l.event === 'dsn' && l.about === ids.news, 'the DSN of the bounced message');
    await expect(client.call('queue.show', { id: ids.news! })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const bounceMsg = await client.call('queue.show', { id: String(dsn.id) });
    expect(bounceMsg.envelope).toMatchObject({ sender: '', recipients: ['news@corp.example'], origin: 'dsn' });
    expect(await client.call('queue.delete', { ids: [String(dsn.id), ids.report!] })).toEqual({ affected: 2 });
    expect((await client.call('queue.list')).items.map((i) => i.id)).toEqual([ids.invoice]);
    expect(relay.lines.filter((l) => l.event === 'dsn' && l.about === ids.report)).toHaveLength(0);
  });

  it('logs.query and logs.subscribe', async () => {
    const q = await client.call('logs.query', { since: startedAt, filter: { event: 'queued' } });
    expect(q.items.map((l) => l.id)).toEqual(expect.arrayContaining([ids.invoice, ids.report, ids.news]));
    expect(q.items[0]!.time).toBeGreaterThanOrEqual(q.items[q.items.length - 1]!.time); // newest first
    const byId = await client.call('logs.query', { since: startedAt, filter: { id: ids.invoice! } });
    expect(byId.items.map((l) => l.event)).toEqual(expect.arrayContaining(['queued', 'deferred']));
    expect(byId.items.every((l) => l.id === ids.invoice)).toBe(true);

    const events: LogsEvent[] = [];
    const listener = (e: LogsEvent) => events.push(e);
    client.on('logs.event', listener);
    await client.call('logs.subscribe', { filter: { event: ['queued'] } });
    const id = await send('live@corp.example', 'erin@example.com', 'live');
    await waitFor('the pushed queued line', () => events.some((e) => e.line.id === id));
    expect(events.every((e) => e.line.event === 'queued')).toBe(true);
    await client.call('logs.unsubscribe');
    client.off('logs.event', listener);
    ids.live = id;
  });

  it('stats.get counts what the relay received', async () => {
    const from = Math.floor(startedAt / 60_000) * 60_000;
    const s = await client.call('stats.get', { from, to: Date.now() + 60_000, step: 60 });
    expect(s.totals.counts.received).toBeGreaterThanOrEqual(4);
    expect(s.totals.counts.deferred).toBeGreaterThanOrEqual(3);
    expect(s.buckets.length).toBeGreaterThanOrEqual(1);
  });

  it('users.* add, list, change and remove SMTP AUTH users', async () => {
    const { user } = await client.call('users.add', { name: 'scanner', password: 'first-pass', allowedSenders: ['scan@corp.example'] });
    expect(user).toMatchObject({ name: 'scanner', allowedSenders: ['scan@corp.example'] });
    await expect(client.call('users.add', { name: 'scanner', password: 'x' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await client.call('users.list')).users.map((u) => u.name)).toEqual(['scanner']);
    await client.call('users.setPassword', { name: 'scanner', password: 'second-pass' });
    const stored = readFileSync(path.join(relay.dataDir, 'users.json'), 'utf8');
    expect(stored).not.toContain('second-pass');
    await expect(client.call('users.remove', { name: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await client.call('users.remove', { name: 'scanner' })).toEqual({ removed: true });
    expect((await client.call('users.list')).users).toEqual([]);
  });

  it('test.send goes the real route and returns the transcript, without queueing', async () => {
    const queued = (await client.call('status')).queue.total;
    const r = await client.call('test.send', { from: 'admin@corp.example', to: ['postbox@sink.test'], subject: 'route check' });
    expect(r.ok).toBe(true);
    expect(r.route).toContain('relay exception "sink"');
    expect(r.nextHop).toBe(`[127.0.0.1]:${sink.port}`);
    expect(r.reply).toMatch(/^250 /);
    const text = (d: string) => r.transcript.filter((l) => l.direction === d).map((l) => l.text);
    expect(text('server')[0]).toMatch(/^220 /);
    expect(text('client')).toEqual(expect.arrayContaining(['EHLO relay.test', 'MAIL FROM:<admin@corp.example>', 'RCPT TO:<postbox@sink.test>', 'DATA', 'QUIT']));
    expect(text('server')).toContainEqual(expect.stringMatching(/^250 .*queued/));
    const [msg] = await sink.waitForMessages(1);
    expect(msg!.to).toEqual(['postbox@sink.test']);
    expect(msg!.body.toString()).toMatch(/^Subject: route check$/m);
    expect(msg!.body.toString()).toMatch(/^X-Relay-Desk-Test: yes$/m);
    expect((await client.call('status')).queue.total).toBe(queued);

    const nullSender = await client.call('test.send', { from: '', to: ['postmaster@sink.test'] });
    expect(nullSender.ok).toBe(true);
    expect(nullSender.transcript).toContainEqual(expect.objectContaining({ direction: 'client', text: 'MAIL FROM:<>' }));
    await sink.waitForMessages(2);

    const refused = await client.call('test.send', { from: '', to: ['someone@example.org'] });
    expect(refused).toMatchObject({ ok: false, route: `relay host 127.0.0.1:${closedPort}` });
    expect(refused.reply).toMatch(/ECONNREFUSED/);

    sink.configure({ rcptReply: (to) => (to.startsWith('nobody@') ? { code: 550, message: '5.1.1 no such user' } : null) });
    const rejected = await client.call('test.send', { from: 'admin@corp.example', to: ['nobody@sink.test'] });
    expect(rejected.ok).toBe(false);
    expect(rejected.transcript.map((l) => l.text)).toContainEqual(expect.stringMatching(/^550 5\.1\.1 no such user/));
    sink.configure({ rcptReply: null });
  });

  it('service.reload re-reads the file; a broken file is refused and the relay keeps running', async () => {
    const file = path.join(relay.dataDir, 'config.json');
    const original = readFileSync(file, 'utf8');
    const before = await client.call('config.get');
    const edited = JSON.parse(original) as { general: { profile: Record<string, unknown> } };
    edited.general.profile.banner = 'reloaded banner';
    writeFileSync(file, JSON.stringify(edited));
    const { revision } = await client.call('service.reload');
    expect(revision).not.toBe(before.revision);
    expect((await client.call('config.get')).config.general.profile.banner).toBe('reloaded banner');

    writeFileSync(file, '{"queue": {"maxLifetimeHours": -1}}');
    const err = await client.call('service.reload').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as ControlError).issues?.map((i) => i.path)).toContain('queue.maxLifetimeHours');
    expect((await client.call('config.get')).revision).toBe(revision);
    writeFileSync(file, original);
  });

  it('service.stop answers, then the relay exits cleanly', async () => {
    expect(await client.call('service.stop')).toEqual({ stopping: true });
    await waitFor('the relay to exit', () => relay.exitCode !== null, 20_000);
    expect(relay.exitCode).toBe(0);
    expect(relay.lines.some((l) => l.event === 'stop' && l.signal === 'service.stop')).toBe(true);
  });
});
