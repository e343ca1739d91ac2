/**
 * The local relay supervisor and the services around it, under plain Node, against the real relay
 * bundle as a child process (plain `node` stands in for Electron's ELECTRON_RUN_AS_NODE runtime).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceState } from '../../electron/ipc-contract.ts';
import { createAppServices, type AppServices } from '../../electron/services/app-services.ts';
import { createInProcessApi } from '../../electron/services/ipc-dispatch.ts';
import { createConfStore } from '../../electron/services/key-value-store.ts';
import { LocalRelaySupervisor } from '../../electron/services/local-relay-supervisor.ts';
import { PlaintextTestSecretBox } from '../../electron/services/secret-box.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(() => {
  if (!existsSync(RELAY_BUNDLE)) throw new Error(`${RELAY_BUNDLE} is missing: run "npm run build:relay" first`);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A user-data folder with a relay config on a free port (the default 2525 may be taken). */
async function userData(config: Record<string, unknown> = {}): Promise<{ dir: TempDir; dataDir: string; port: number }> {
  const dir = makeTempDir('app-local-');
  cleanups.push(() => dir.remove());
  const dataDir = path.join(dir.path, 'relay');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port, tls: 'none' }], ...config }));
  return { dir, dataDir, port };
}

function services(dir: string, dataDir: string, extra: Partial<Parameters<typeof createAppServices>[0]> = {}): AppServices {
  const s = createAppServices({
    store: createConfStore(dir),
    secrets: new PlaintextTestSecretBox(path.join(dir, 'secrets.json')),
    relayBundlePath: RELAY_BUNDLE,
    localDataDir: dataDir,
    nodeRuntime: { execPath: process.execPath },
    appVersion: '0.0.0-test',
    bundledRelayVersion: '0.1.0',
    sshAgent: undefined,
    localRelay: { backoff: { initialMs: 100, maxMs: 500 } },
    ...extra,
  });
  cleanups.push(() => s.shutdown());
  return s;
}

function waitState(s: AppServices, pred: (st: InstanceState) => boolean, what: string): Promise<InstanceState> {
  return waitFor(what, () => (pred(s.local.state) ? s.local.state : null), 20_000);
}

describe('local relay supervisor (real relay child process)', () => {
  it('starts the bundled relay, answers control calls through the services, and stops it cleanly on shutdown', async () => {
    const { dir, dataDir } = await userData();
    const s = services(dir.path, dataDir);
    const api = createInProcessApi(s);
    const seen: string[] = [];
    api.onInstanceState((e) => e.instanceId === 'local' && seen.push(e.state.status));

    const connected = await api.connect({ instanceId: 'local' });
    expect(connected).toMatchObject({ ok: true, value: { status: 'connected', relayVersion: '0.1.0' } });
    expect(seen).toEqual(expect.arrayContaining(['connecting', 'connected']));

    const status = await api.controlCall({ instanceId: 'local', method: 'status' });
    if (!status.ok) throw new Error(status.error.message);
    expect(status.value.dataDir).toBe(dataDir);
    const pid = status.value.pid;
    expect(alive(pid)).toBe(true);

    const list = await api.listInstances();
    expect(list.ok && list.value[0]).toMatchObject({ id: 'local', kind: 'local', state: { status: 'connected' } });

    await s.shutdown();
    expect(alive(pid)).toBe(false);
    expect(s.local.state.status).toBe('relay-stopped');
  });

  it('restarts the relay with backoff when it dies, and renews the log subscription', async () => {
    const { dir, dataDir } = await userData();
    const s = services(dir.path, dataDir);
    const api = createInProcessApi(s);
    await api.connect({ instanceId: 'local' });
    const first = s.local.supervisor.snapshot.pid!;
    expect(await api.subscribeLogs({ instanceId: 'local', filter: { event: 'reload' } })).toEqual({ ok: true, value: { subscribed: true } });

    const states: InstanceState[] = [];
    api.onInstanceState((e) => states.push(e.state));
    process.kill(first, 'SIGKILL');
    await waitState(s, (st) => st.status === 'connected' && s.local.supervisor.snapshot.pid !== first, 'a restarted relay');
    const restarting = states.find((st) => st.status === 'relay-stopped');
    expect(restarting?.retryAt).toBeGreaterThan(0);
    expect(restarting?.message).toMatch(/restarting/);
    expect(alive(s.local.supervisor.snapshot.pid!)).toBe(true);

    // The subscription was renewed on the new relay: a reload shows up as a log event.
    const lines: string[] = [];
    api.onLogEvent((e) => lines.push(String(e.line.event)));
    expect(await api.controlCall({ instanceId: 'local', method: 'service.reload' })).toMatchObject({ ok: true });
    await waitFor('a reload log event', () => lines.includes('reload'));
  });

  it('reports "port in use" from the relay itself and does not restart in a loop', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const dir = makeTempDir('app-local-');
    cleanups.push(() => dir.remove());
    const dataDir = path.join(dir.path, 'relay');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port, tls: 'none' }] }));
    const s = services(dir.path, dataDir);

    const state = await s.handlers['connection.connect']({ instanceId: 'local' });
    expect(state.status).toBe('failed');
    expect(state.message).toMatch(new RegExp(`port ${port}.*in use`));
    expect(state.retryAt).toBeNull();
    // Nothing retries behind our back: still failed, no process, after several backoff periods.
    await new Promise((r) => setTimeout(r, 700));
    expect(s.local.state.status).toBe('failed');
    expect(s.local.supervisor.snapshot.pid).toBeNull();
  });

  it('names the bad config key when the relay refuses its config', async () => {
    const { dir, dataDir } = await userData({ queue: { retrySchedule: 'soon' } });
    const s = services(dir.path, dataDir);
    const state = await s.local.connect();
    expect(state.status).toBe('failed');
    expect(state.message).toMatch(/bad config/);
    expect(state.message).toMatch(/queue\.retrySchedule/);
  });

  it('leaves the relay running when "keep running in background" is on, and adopts it on the next start', async () => {
    const { dir, dataDir } = await userData();
    const s1 = services(dir.path, dataDir);
    await s1.handlers['settings.update']({ keepLocalRelayRunning: true });
    await s1.local.connect();
    const pid = s1.local.supervisor.snapshot.pid!;
    await s1.shutdown();
    expect(alive(pid)).toBe(true);
    cleanups.push(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });

    const s2 = services(dir.path, dataDir);
    const st = await s2.local.connect();
    expect(st.status).toBe('connected');
    expect(s2.local.supervisor.snapshot).toMatchObject({ pid, adopted: true });
    await s2.handlers['settings.update']({ keepLocalRelayRunning: false });
    await s2.shutdown();
    await waitFor('the adopted relay to exit', () => !alive(pid));
  });

  it('stops restarting after the relay dies too often, and says so', async () => {
    const { dataDir } = await userData();
    const sup = new LocalRelaySupervisor({
      bundlePath: RELAY_BUNDLE,
      dataDir,
      runtime: { execPath: process.execPath },
      backoff: { initialMs: 20, maxMs: 50 },
      maxCrashes: 2,
    });
    cleanups.push(() => sup.stop());
    await sup.start();
    const first = sup.snapshot.pid!;
    process.kill(first, 'SIGKILL');
    await waitFor('a restart', () => sup.snapshot.status === 'running' && sup.snapshot.pid !== first);
    process.kill(sup.snapshot.pid!, 'SIGKILL');
    await waitFor('failed', () => sup.snapshot.status === 'failed');
    expect(sup.snapshot.message).toMatch(/stopped 2 times/);
  });
});
