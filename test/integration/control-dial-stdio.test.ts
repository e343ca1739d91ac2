/**
 * dial-stdio as SSH runs it: a child process whose stdin/stdout are the remote client's stream. It
 * authenticates with the key file itself; the client on the other end only sees `ready`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectControl, type ControlClient } from '../../server/control/control-client.ts';
import { startControlServer, type ControlServer } from '../../server/control/control-server.ts';
import type { RelayControlApi } from '../../server/control/relay-control-api.ts';
import { logHandlers, userHandlers } from '../../server/control/standard-handlers.ts';
import { openRelayLog, type RelayLog } from '../../server/logging/relay-log.ts';
import { PROTOCOL_VERSION, type LogsEvent } from '../../server/protocol/index.ts';
import { UserStore } from '../../server/users/user-store.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dialStdioModule = path.join(repoRoot, 'server/control/dial-stdio.ts');

let tmp: TempDir;
let log: RelayLog;
let server: ControlServer | null;
const children: ChildProcess[] = [];

beforeEach(async () => {
  tmp = makeTempDir('rd-dial-');
  log = openRelayLog({ dir: path.join(tmp.path, 'logs') });
  const users = await UserStore.open(path.join(tmp.path, 'users.json'), { scrypt: { N: 1024, r: 8, p: 1 } });
  // Only what these tests call; the rest would be the relay's.
  const api = { ...userHandlers(users), ...logHandlers(path.join(tmp.path, 'logs'), log) } as unknown as RelayControlApi;
  server = await startControlServer({ dataDir: tmp.path, api, log, version: '9.9.9-test' });
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill();
  await server?.close();
  await log.close();
  tmp.remove();
});

/** `dialStdio(dataDir, stdin, stdout)` in a child process, like `ssh host mailrelay dial-stdio`. */
function spawnDialStdio(dataDir: string): { child: ChildProcess; stream: Duplex; exited: Promise<number | null>; stderr: () => string } {
  const script = `import { dialStdio } from ${JSON.stringify(dialStdioModule)};
    process.exitCode = await dialStdio(${JSON.stringify(dataDir)}, process.stdin, process.stdout, { stderr: process.stderr });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stream: Duplex.from({ readable: child.stdout!, writable: child.stdin! }), exited, stderr: () => err };
}

describe('dial-stdio', () => {
  it('authenticates on the relay host and passes calls and pushed events both ways', async () => {
    const { stream, exited } = spawnDialStdio(tmp.path);
    const client: ControlClient = await connectControl(stream, { preAuthenticated: true });
    expect(client.server).toEqual({ protocol: PROTOCOL_VERSION, version: '9.9.9-test', permission: 'write' });
    await client.call('users.add', { name: 'remote-admin-made', password: 'pw' });
    expect((await client.call('users.list')).users.map((u) => u.name)).toEqual(['remote-admin-made']);
    await expect(client.call('users.remove', { name: 'ghost' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const events: LogsEvent[] = [];
    client.on('logs.event', (e) => events.push(e));
    await client.call('logs.subscribe');
    log.event('queued', { id: '000000000001-aaaaaaaaaa', size: 10 });
    await waitFor('the pushed line through dial-stdio', () => events.length > 0);
    expect(events[0]!.line).toMatchObject({ event: 'queued', id: '000000000001-aaaaaaaaaa' });

    await client.close();
    expect(await exited).toBe(0);
    await waitFor('the server to see the connection end', () => server!.connections === 0);
  });

  it('ends cleanly when the relay goes away', async () => {
    const { stream, exited } = spawnDialStdio(tmp.path);
    const client = await connectControl(stream, { preAuthenticated: true });
    const closed = new Promise((resolve) => client.once('close', resolve));
    await server!.close();
    server = null;
    await closed;
    expect(await exited).toBe(0);
  });

  it('reports a relay that is not running as UNAVAILABLE and exits non-zero', async () => {
    await server!.close();
    server = null;
    const { stream, exited, stderr } = spawnDialStdio(tmp.path);
    await expect(connectControl(stream, { preAuthenticated: true })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not running/) });
    expect(await exited).toBe(1);
    expect(stderr()).toMatch(/mailrelay dial-stdio: .*not running/);
  });

  it('reports a missing or wrong key as UNAUTHENTICATED', async () => {
    const keyFile = path.join(tmp.path, 'control.key');
    writeFileSync(keyFile, `${'ee'.repeat(32)}\n`); // not the key the server loaded
    const wrong = spawnDialStdio(tmp.path);
    await expect(connectControl(wrong.stream, { preAuthenticated: true })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/MAC/) });
    expect(await wrong.exited).toBe(1);

    rmSync(keyFile);
    const missing = spawnDialStdio(tmp.path);
    await expect(connectControl(missing.stream, { preAuthenticated: true })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/control\.key/) });
    expect(await missing.exited).toBe(1);
  });
});
