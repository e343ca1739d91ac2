/**
 * Nothing accepted with 250 is lost (SPEC §3): the relay killed with SIGKILL in the middle of a load
 * and restarted delivers every acknowledged message, whether it waited in its own file or still in
 * the intake log; a next hop that is down gets the mail later;
 * a 5xx from the next hop turns into a DSN to the sender.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Send up to `total` messages over 8 connections and SIGKILL the relay once `killAfter` got a 250; the subjects acknowledged. */
async function loadUntilKilled(relay: RelayProcess, total: number, killAfter: number): Promise<Set<string>> {
  const acked = new Set<string>();
  let killed = false;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, pool: true, maxConnections: 8, maxMessages: Infinity });
  let next = 0;
  const worker = async () => {
    while (!killed && next < total) {
      const n = next++;
      const subject = `load-${n}`;
      try {
        const info = await transport.sendMail({ from: 'load@far.example', to: `rcpt${n % 7}@far.example`, subject, text: `message ${n}\n`.repeat(20) });
        if (/^250 /.test(info.response)) acked.add(subject);
      } catch {
        // refused or cut off by the kill: not acknowledged, so the relay owes us nothing
      }
      if (acked.size >= killAfter && !killed) {
        killed = true;
        await relay.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  transport.close();
  expect(killed).toBe(true);
  expect(acked.size).toBeGreaterThanOrEqual(killAfter);
  return acked;
}

async function waitForAtSink(sink: Awaited<ReturnType<typeof startSmtpSink>>, subjects: Set<string>): Promise<void> {
  await waitFor(
    `all ${subjects.size} acknowledged messages at the sink`,
    () => {
      const got = new Set(sink.messages.map((m) => /^Subject: (load-\d+)/m.exec(m.body.toString())?.[1]));
      return [...subjects].every((s) => got.has(s));
    },
    60_000,
  );
}

function relayHostConfig(sinkPort: number, extra: Record<string, unknown> = {}) {
  return {
    delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sinkPort, security: 'none' } },
    queue: { retrySchedule: ['1s'] },
    ...extra,
  };
}

describe('durability (real relay process)', () => {
  it('delivers every acknowledged message after a SIGKILL in the middle of a load', async () => {
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    // The next hop is down during the load: each message is tried once, then waits in its own file.
    await sink.stop();
    const dir: TempDir = makeTempDir('relay-kill-');
    cleanups.push(() => dir.remove());
    let relay: RelayProcess = await startRelayProcess({ dataDir: dir.path, tls: 'none', config: relayHostConfig(sink.port) });
    const port = relay.port;
    cleanups.push(() => relay.stop());

    const acked = await loadUntilKilled(relay, 300, 120);

    await sink.start();
    relay = await startRelayProcess({ dataDir: dir.path, port, tls: 'none', config: relayHostConfig(sink.port) });
    const start = relay.lines.find((l) => l.event === 'start');
    expect(start?.queued).toBeGreaterThanOrEqual(acked.size);
    await waitForAtSink(sink, acked);
  });

  it('delivers every acknowledged message after a SIGKILL while they were still in the intake log', async () => {
    // A next hop that takes the connection and never greets: every first attempt hangs, so no
    // message leaves the intake log or gets a file of its own before the kill.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const silentPort = (silent.address() as AddressInfo).port;
    const dir: TempDir = makeTempDir('relay-kill-log-');
    cleanups.push(() => dir.remove());
    let relay: RelayProcess = await startRelayProcess({ dataDir: dir.path, tls: 'none', config: relayHostConfig(silentPort) });
    const port = relay.port;
    cleanups.push(() => relay.stop());

    const acked = await loadUntilKilled(relay, 200, 80);
    const queue = path.join(dir.path, 'queue');
    expect(readdirSync(path.join(queue, 'msg'))).toHaveLength(0);
    expect(readdirSync(path.join(queue, 'log')).length).toBeGreaterThan(0);

    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    relay = await startRelayProcess({ dataDir: dir.path, port, tls: 'none', config: relayHostConfig(sink.port) });
    expect(relay.lines.find((l) => l.event === 'start')?.queued).toBeGreaterThanOrEqual(acked.size);
    await waitForAtSink(sink, acked);
    // Recovered into files at the start, then delivered: the log is empty again.
    expect(readdirSync(path.join(queue, 'log'))).toEqual([]);
  });

  it('defers while the next hop is down and delivers once it is back', async () => {
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    await sink.stop();
    const relay = await startRelayProcess({ tls: 'none', config: relayHostConfig(sink.port) });
    cleanups.push(() => relay.stop());
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false });
    for (let i = 0; i < 3; i++) await transport.sendMail({ from: 'a@far.example', to: 'b@far.example', subject: `down-${i}`, text: 'x' });
    const deferred = await relay.waitForCount('deferred', 3);
    expect(deferred[0]).toMatchObject({ rcpt: 'b@far.example' });
    await sink.start();
    await relay.waitForCount('delivered', 3);
    await sink.waitForMessages(3);
    expect(sink.messages.map((m) => /^Subject: (down-\d)/m.exec(m.body.toString())?.[1]).sort()).toEqual(['down-0', 'down-1', 'down-2']);
  });

  it('bounces at once on a 5xx from the next hop with an RFC 3464 DSN to the sender', async () => {
    const sink = await startSmtpSink({ rcptReply: (to) => (to.startsWith('nobody@') ? { code: 550, message: '5.1.1 <nobody@far.example>: user unknown' } : null) });
    cleanups.push(() => sink.close());
    const relay = await startRelayProcess({ tls: 'none', config: relayHostConfig(sink.port, { general: { profile: { hostname: 'relay.corp.example' } } }) });
    cleanups.push(() => relay.stop());
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false });
    await transport.sendMail({ from: 'writer@far.example', to: ['nobody@far.example', 'somebody@far.example'], subject: 'will half bounce', text: 'x' });
    const bounced = await relay.waitForLine((l) => l.event === 'bounced', 'bounced line');
    expect(bounced).toMatchObject({ rcpt: 'nobody@far.example' });
    const dsnMsg = await waitFor('the DSN at the sink', () => sink.messages.find((m) => m.from === '' && m.to.includes('writer@far.example')));
    const dsn = dsnMsg.body.toString();
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(dsn).toMatch(/Final-Recipient: rfc822; ?nobody@far\.example/i);
    expect(dsn).toMatch(/Action: failed/);
    expect(dsn).toMatch(/Status: 5\.1\.1/);
    expect(dsn).toMatch(/Subject: will half bounce/);
    // the other recipient was delivered, not bounced
    expect(sink.messages.some((m) => m.to.includes('somebody@far.example'))).toBe(true);
  });
});
