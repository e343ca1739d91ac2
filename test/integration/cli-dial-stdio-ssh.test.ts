/**
 * `mailrelay dial-stdio` as Relay Desk uses it for a remote relay: a real sshd on loopback, key
 * authentication, the bundle run on the exec channel (opened by the `ssh2` library the app uses, and
 * by the system ssh client), and the client library on the channel — authenticated by dial-stdio on
 * the relay's host, so the control key never crosses SSH.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectControl } from '../../server/control/control-client.ts';
import { ControlError, PROTOCOL_VERSION, type LogsEvent } from '../../server/protocol/index.ts';
import { RELAY_BUNDLE, startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSshd, type Sshd, type SshSession } from '../support/sshd.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

let sshd: Sshd;
let relay: RelayProcess;

beforeAll(async () => {
  [sshd, relay] = await Promise.all([startSshd(), startRelayProcess({ tls: 'none' })]);
});

afterAll(async () => {
  await relay?.stop();
  await sshd?.stop();
});

const command = (dataDir: string) => [process.execPath, RELAY_BUNDLE, 'dial-stdio', '--data-dir', dataDir];
const clients: Record<string, (dataDir: string) => Promise<SshSession | null>> = {
  ssh2: (dataDir) => sshd.ssh2(command(dataDir)),
  'system ssh': async (dataDir) => sshd.ssh(command(dataDir)),
};

describe.each(Object.keys(clients))('dial-stdio over a real sshd, exec channel by %s', (via) => {
  it('carries calls and pushed log lines between the client library and the relay', async (ctx) => {
    const session = await clients[via]!(relay.dataDir);
    if (!session) return ctx.skip('the ssh2 package is not installed');
    const client = await connectControl(session.stream, { preAuthenticated: true });
    expect(client.server).toMatchObject({ protocol: PROTOCOL_VERSION, permission: 'write' });

    const status = await client.call('status');
    expect(status.pid).toBe(relay.child.pid);
    expect(status.listeners[0]).toMatchObject({ port: relay.port, listening: true });

    const events: LogsEvent[] = [];
    client.on('logs.event', (e) => events.push(e));
    await client.call('logs.subscribe', { filter: { event: 'control' } });
    const name = `over-${via.replace(/\W/g, '-')}`;
    await client.call('users.add', { name, password: 'pw-over-ssh' });
    await waitFor('the write call to come back as a pushed log line', () => events.some((e) => e.line.method === 'users.add'));
    expect((await client.call('users.list')).users.map((u) => u.name)).toContain(name);

    await client.close();
    expect(await session.exited).toBe(0);
    expect(sshd.log()).toMatch(/Accepted publickey for /);
  });

  it('reports a relay that is not running as UNAVAILABLE and exits non-zero', async (ctx) => {
    const empty = makeTempDir('rd-nodir-');
    try {
      const session = await clients[via]!(path.join(empty.path, 'data'));
      if (!session) return ctx.skip('the ssh2 package is not installed');
      const err = await connectControl(session.stream, { preAuthenticated: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ControlError);
      expect(err).toMatchObject({ code: 'UNAVAILABLE' });
      expect((err as ControlError).message).toMatch(/control socket .*relay is not running/);
      expect(await session.exited).toBe(1);
    } finally {
      empty.remove();
    }
  });
});
