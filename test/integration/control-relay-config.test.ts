/**
 * `config.apply` on a real relay process: one winner among clients with the same base revision,
 * secrets kept and never shown, a listener that cannot bind rolls file and listeners back, and a
 * kill -9 in the middle of a stream of applies leaves the old or the new file, never a broken one.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../server/config/config-file.ts';
import { openLocalControl, type ControlClient } from '../../server/control/control-client.ts';
import { ControlError, type RedactedConfig } from '../../server/protocol/index.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE, RelayProcess, startRelayProcess } from '../support/relay-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayWithClient(): Promise<{ relay: RelayProcess; client: ControlClient }> {
  const relay = await startRelayProcess({ tls: 'none' });
  cleanups.push(() => relay.stop());
  const client = await openLocalControl(relay.dataDir);
  cleanups.push(() => client.close());
  return { relay, client };
}

function withBanner(config: RedactedConfig, banner: string): RedactedConfig {
  return { ...config, general: { ...config.general, profile: { ...config.general.profile, banner } } };
}

/** The first line an SMTP client gets on `port`. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(5000, () => s.destroy(new Error(`no greeting on port ${port}`)));
    s.once('data', (d) => {
      s.end('QUIT\r\n');
      resolve(d.toString().split('\r\n')[0]!);
    });
    s.once('error', reject);
  });
}

/** A raw SMTP session: send a line, get the final line of its reply. */
async function smtpSession(port: number): Promise<{ send(line: string): Promise<string>; close(): void }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let buf = '';
  const finals: string[] = [];
  let wake: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (/^\d{3} /.test(line)) finals.push(line);
    }
    wake?.();
  });
  const next = async (): Promise<string> => {
    while (finals.length === 0) await new Promise<void>((r) => (wake = r));
    return finals.shift()!;
  };
  await next(); // greeting
  return {
    send: (line) => (socket.write(`${line}\r\n`), next()),
    close: () => socket.destroy(),
  };
}

/** Restart the relay on its data dir with the config file as it is now (the harness would overwrite it). */
async function restart(dataDir: string, port: number): Promise<RelayProcess> {
  const child = spawn(process.execPath, [RELAY_BUNDLE, 'serve', '--data-dir', dataDir, '--config', path.join(dataDir, 'config.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const relay = new RelayProcess(child, dataDir, port, null);
  await relay.waitForLine((l) => l.event === 'start', 'the restarted relay');
  return relay;
}

describe('config.apply on a running relay', () => {
  it('two clients with the same base revision: one wins, the other gets CONFLICT', async () => {
    const { relay, client } = await relayWithClient();
    const other = await openLocalControl(relay.dataDir);
    cleanups.push(() => other.close());
    for (let round = 0; round < 5; round++) {
      const { config, revision } = await client.call('config.get');
      const results = await Promise.allSettled([
        client.call('config.apply', { config: withBanner(config, `A${round}`), baseRevision: revision }),
        other.call('config.apply', { config: withBanner(config, `B${round}`), baseRevision: revision }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toMatchObject({ code: 'CONFLICT' });
      const winner = results[0]!.status === 'fulfilled' ? `A${round}` : `B${round}`;
      const now = await client.call('config.get');
      expect(now.config.general.profile.banner).toBe(winner);
      expect(now.revision).toBe((won[0] as PromiseFulfilledResult<{ revision: string }>).value.revision);
      expect(JSON.parse(readFileSync(path.join(relay.dataDir, 'config.json'), 'utf8')).general.profile.banner).toBe(winner);
    }
    expect((await greeting(relay.port)).startsWith('220 ')).toBe(true);
  });

  it('refuses a setting it does not know, which the client passes on unchecked, naming the key', async () => {
    const { relay, client } = await relayWithClient();
    const { config, revision } = await client.call('config.get');
    const withUnknown = { ...config, general: { ...config.general, greylisting: { enabled: true } } };
    const err = await client.call('config.apply', { config: withUnknown, baseRevision: revision }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(JSON.stringify((err as ControlError).issues)).toContain('greylisting');
    expect(readFileSync(path.join(relay.dataDir, 'config.json'), 'utf8')).not.toContain('greylisting');
  });

  it('keeps relay-host passwords it is not sent, never returns them, and refuses bad configs with key paths', async () => {
    const { relay, client } = await relayWithClient();
    const file = path.join(relay.dataDir, 'config.json');
    let { config, revision } = await client.call('config.get');
    const relayHost = { host: 'smtp.example.com', port: 587, security: 'starttls' as const, username: 'relay-user', password: 's3cret-pw', verifyCertificate: true };
    ({ revision } = await client.call('config.apply', { config: { ...config, delivery: { ...config.delivery, mode: 'relayHost', relayHost } }, baseRevision: revision }));
    ({ config } = await client.call('config.get'));
    expect(config.delivery.relayHost).toMatchObject({ username: 'relay-user', hasPassword: true });
    expect(JSON.stringify(config)).not.toContain('s3cret-pw');
    expect(readFileSync(file, 'utf8')).toContain('s3cret-pw');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Sent back as read (hasPassword, no password): the stored password stays.
    ({ revision } = await client.call('config.apply', { config: withBanner(config, 'kept'), baseRevision: revision }));
    expect(readFileSync(file, 'utf8')).toContain('s3cret-pw');

    const dup = { ...config, listeners: [...config.listeners, { ...config.listeners[0]!, name: 'again' }] };
    const err = await client.call('config.apply', { config: dup, baseRevision: revision }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as ControlError).issues).toContainEqual({ path: 'listeners[1].port', message: expect.stringContaining('used by another listener') });
    await expect(client.call('config.apply', { config: { ...config, queue: { ...config.queue, maxLifetimeHours: -1 } }, baseRevision: revision })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      issues: [{ path: 'config.queue.maxLifetimeHours', message: expect.any(String) }],
    });
    await expect(client.call('config.apply', { config, baseRevision: 'stale' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a listener that cannot bind rolls back: BIND_FAILED, the old port answers, the file is unchanged', async () => {
    const { relay, client } = await relayWithClient();
    const file = path.join(relay.dataDir, 'config.json');
    const blocker = net.createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const fileBefore = readFileSync(file);
    const { config, revision } = await client.call('config.get');

    for (const listeners of [
      [{ ...config.listeners[0]!, port: taken }],
      [config.listeners[0]!, { name: 'submission', host: '127.0.0.1', port: taken, tls: 'none' as const }],
    ]) {
      const err = await client.call('config.apply', { config: { ...config, listeners }, baseRevision: revision }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BIND_FAILED' });
      expect((err as ControlError).message).toContain(`port ${taken}`);
      expect(readFileSync(file).equals(fileBefore)).toBe(true);
      expect((await client.call('config.get')).revision).toBe(revision);
      expect((await greeting(relay.port)).startsWith('220 ')).toBe(true);
      expect((await client.call('status')).listeners).toEqual([expect.objectContaining({ port: relay.port, listening: true })]);
    }

    // A session that is open while the listeners change carries on to the end of its message.
    const session = await smtpSession(relay.port);
    cleanups.push(() => session.close());
    expect(await session.send('EHLO in-flight.test')).toMatch(/^250 /);
    expect(await session.send('MAIL FROM:<a@corp.example>')).toMatch(/^250 /);
    const extra = await freePort();
    const added = [config.listeners[0]!, { name: 'submission', host: '127.0.0.1', port: extra, tls: 'none' as const }];
    await client.call('config.apply', { config: { ...config, listeners: added }, baseRevision: revision });
    expect(await session.send('RCPT TO:<b@example.com>')).toMatch(/^250 /);
    expect(await session.send('DATA')).toMatch(/^354 /);
    expect(await session.send('Subject: in flight\r\n\r\nsent across a listener change\r\n.')).toMatch(/^250 .*queued/);
    expect((await greeting(extra)).startsWith('220 ')).toBe(true);
    expect((await greeting(relay.port)).startsWith('220 ')).toBe(true);
    expect((await client.call('status')).listeners.map((l) => l.port)).toEqual([relay.port, extra]);
  });

  it('a second relay on the same data dir is refused with one line before it touches anything', async () => {
    const { relay, client } = await relayWithClient();
    const other = makeTempDir('rd-second-');
    cleanups.push(() => other.remove());
    const file = path.join(other.path, 'config.json');
    writeFileSync(file, JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port: await freePort(), tls: 'none' }] }));
    // A message the first relay is receiving right now: a second spool would discard it as a leftover.
    const inFlight = path.join(relay.dataDir, 'queue', 'tmp', '01a2f3a1c2d4-0123456789');
    writeFileSync(inFlight, '{"partial":');
    const child = spawn(process.execPath, [RELAY_BUNDLE, 'serve', '--data-dir', relay.dataDir, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/another relay is running with this data dir/);
    expect(existsSync(inFlight)).toBe(true);
    expect((await client.call('status')).pid).toBe(relay.child.pid);
  });

  it('kill -9 during a stream of applies: after restart the config is the old or the new one, never broken', async () => {
    const dir = makeTempDir('rd-kill-apply-');
    cleanups.push(() => dir.remove());
    const file = path.join(dir.path, 'config.json');
    let relay = await startRelayProcess({ tls: 'none', dataDir: dir.path });
    cleanups.push(() => relay.stop());
    const port = relay.port;
    for (let round = 0; round < 4; round++) {
      const client = await openLocalControl(dir.path);
      let { config, revision } = await client.call('config.get');
      const attempted = new Set([config.general.profile.banner]);
      let done = 0;
      const stream = (async () => {
        for (let i = 0; ; i++) {
          const banner = `round ${round} apply ${i}`;
          attempted.add(banner);
          config = withBanner(config, banner);
          try {
            ({ revision } = await client.call('config.apply', { config, baseRevision: revision }));
          } catch (err) {
            return err;
          }
          done++;
        }
      })();
      // Let some applies finish, then kill at an arbitrary moment of the next ones.
      while (done < 3 + round * 4) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, Math.random() * 15));
      await relay.kill('SIGKILL');
      expect(await stream).toMatchObject({ code: expect.stringMatching(/CLOSED|UNAVAILABLE/) });
      await client.close();

      const text = readFileSync(file, 'utf8');
      const check = validateConfig(JSON.parse(text));
      expect(check.ok).toBe(true);
      const banner = check.ok ? check.config.general.profile.banner : '';
      expect(attempted.has(banner)).toBe(true);

      relay = await restart(dir.path, port);
      const after = await openLocalControl(dir.path);
      expect((await after.call('config.get')).config.general.profile.banner).toBe(banner);
      expect((await greeting(port)).startsWith('220 ')).toBe(true);
      await after.close();
    }
  });
});
