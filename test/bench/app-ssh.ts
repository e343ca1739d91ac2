/**
 * Benchmark of the app's SSH path (not a test): a real sshd on loopback, the real relay installed
 * through the services into a temp dir, then
 *   1. connect + first `status` (fresh SSH connection, key auth, dial-stdio, handshake) — target < 500 ms
 *   2. `status` round trip over an open SSH channel — target < 10 ms
 *   3. 20 instances connected at once (time until all are connected, then 20 parallel status calls)
 *   4. memory of the services process with 20 instances connected
 *
 *   npx tsx test/bench/app-ssh.ts [--rounds N] [--calls N] [--instances N] [--json FILE]
 * Needs root (sshd) and the relay bundle (npm run build:relay).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RemoteInstanceFields } from '../../electron/ipc-contract.ts';
import { createAppServices, type AppServices } from '../../electron/services/app-services.ts';
import { createInProcessApi } from '../../electron/services/ipc-dispatch.ts';
import { createMemoryStore, type KeyValueStore } from '../../electron/services/key-value-store.ts';
import { PlaintextTestSecretBox } from '../../electron/services/secret-box.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { startSshdServer } from '../support/sshd-server.ts';
import { makeTempDir } from '../support/temp-dir.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROUNDS = arg('rounds', 15);
const CALLS = arg('calls', 1000);
const INSTANCES = arg('instances', 20);
const jsonIdx = process.argv.indexOf('--json');
const jsonFile = jsonIdx > 0 ? process.argv[jsonIdx + 1] : undefined;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

async function main(): Promise<void> {
  if (!existsSync(RELAY_BUNDLE)) throw new Error('run "npm run build:relay" first');
  const sshd = await startSshdServer();
  const tmp = makeTempDir('app-bench-');
  const dataDir = path.join(tmp.path, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port: await freePort(), tls: 'none' }] }));
  const fields: RemoteInstanceFields = {
    name: 'bench',
    host: sshd.host,
    port: sshd.port,
    username: os.userInfo().username,
    auth: { method: 'key', keyPath: sshd.clientKey },
    dataDir,
    installDir: path.join(tmp.path, 'lib'),
    nodePath: 'node',
  };
  const knownHosts = path.join(tmp.path, 'known_hosts');
  writeFileSync(knownHosts, `[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey()}\n`);
  const make = (store: KeyValueStore): AppServices =>
    createAppServices({
      store,
      secrets: new PlaintextTestSecretBox(path.join(tmp.path, 'secrets.json')),
      relayBundlePath: RELAY_BUNDLE,
      localDataDir: path.join(tmp.path, 'local'),
      nodeRuntime: { execPath: process.execPath },
      appVersion: 'bench',
      bundledRelayVersion: '0.1.0',
      sshAgent: undefined,
      knownHostsFiles: [knownHosts],
      autoConnect: false,
    });

  // Set-up: trust the host key and install the relay.
  const store = createMemoryStore();
  const setup = make(store);
  const api = createInProcessApi(setup);
  const added = await api.addInstance({ instance: fields });
  if (!added.ok) throw new Error(added.error.message);
  const id = added.value.id;
  const first = await api.connect({ instanceId: id });
  if (!first.ok || !first.value.hostKey) throw new Error('expected an unknown host key');
  await api.trustHostKey({ instanceId: id, fingerprint: first.value.hostKey.presented.fingerprint });
  const installed = await api.installRelay({ instanceId: id });
  if (!installed.ok) throw new Error(installed.error.message);
  const results: Record<string, unknown> = { install: { ms: installed.value.durationMs, service: installed.value.service } };

  try {
    // 1. connect + first status, each round on a fresh connection.
    const connectMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await setup.connection(id).disconnect();
      const t0 = performance.now();
      const st = await api.connect({ instanceId: id });
      if (!st.ok || st.value.status !== 'connected') throw new Error(`connect: ${JSON.stringify(st)}`);
      const s = await api.controlCall({ instanceId: id, method: 'status' });
      if (!s.ok) throw new Error(s.error.message);
      connectMs.push(performance.now() - t0);
    }
    results.connectFirstStatus = { rounds: ROUNDS, p50Ms: pct(connectMs, 50), p95Ms: pct(connectMs, 95), maxMs: Math.max(...connectMs) };

    // 2. status round trips over the open channel (through the same dispatch path the IPC uses).
    for (let i = 0; i < 50; i++) await api.controlCall({ instanceId: id, method: 'status' }); // warm-up
    const rtt: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      const s = await api.controlCall({ instanceId: id, method: 'status' });
      rtt.push(performance.now() - t0);
      if (!s.ok) throw new Error(s.error.message);
    }
    results.statusRoundTrip = { calls: CALLS, p50Ms: pct(rtt, 50), p99Ms: pct(rtt, 99), maxMs: Math.max(...rtt) };
    await setup.shutdown();

    // 3 + 4. N instances (same host and relay, separate SSH connections), all at once.
    global.gc?.();
    const before = process.memoryUsage();
    const fleetStore = createMemoryStore();
    const fleet = make(fleetStore);
    const fleetApi = createInProcessApi(fleet);
    const ids: string[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const r = await fleetApi.addInstance({ instance: { ...fields, name: `bench-${i}` } });
      if (!r.ok) throw new Error(r.error.message);
      const k = await fleetApi.importKnownHosts({ instanceId: r.value.id });
      if (!k.ok || !k.value.imported) throw new Error('known_hosts import failed');
      ids.push(r.value.id);
    }
    const t0 = performance.now();
    const states = await Promise.all(ids.map((i) => fleetApi.connect({ instanceId: i })));
    const allConnectedMs = performance.now() - t0;
    const failed = states.filter((s) => !s.ok || s.value.status !== 'connected');
    if (failed.length) throw new Error(`${failed.length} instances did not connect: ${JSON.stringify(failed[0])}`);
    const t1 = performance.now();
    await Promise.all(ids.map((i) => fleetApi.controlCall({ instanceId: i, method: 'status' })));
    const parallelStatusMs = performance.now() - t1;
    global.gc?.();
    const after = process.memoryUsage();
    results.fleet = {
      instances: INSTANCES,
      allConnectedMs,
      parallelStatusMs,
      rssMiB: mib(after.rss),
      rssDeltaMiB: mib(after.rss - before.rss),
      heapUsedMiB: mib(after.heapUsed),
      heapDeltaMiB: mib(after.heapUsed - before.heapUsed),
      perInstanceHeapKiB: Math.round((after.heapUsed - before.heapUsed) / INSTANCES / 1024),
      gc: typeof global.gc === 'function',
    };
    await fleet.shutdown();
  } finally {
    // Stop the remote relay, then sshd.
    const stopper = make(store);
    const sapi = createInProcessApi(stopper);
    if ((await sapi.connect({ instanceId: id })).ok) await sapi.controlCall({ instanceId: id, method: 'service.stop' });
    await stopper.shutdown();
    await sshd.dispose();
    tmp.remove();
  }

  const r = results as {
    connectFirstStatus: { p50Ms: number; p95Ms: number; maxMs: number };
    statusRoundTrip: { p50Ms: number; p99Ms: number; maxMs: number };
    fleet: { instances: number; allConnectedMs: number; parallelStatusMs: number; rssMiB: number; rssDeltaMiB: number; heapDeltaMiB: number; perInstanceHeapKiB: number };
  };
  const f = (n: number): string => n.toFixed(1);
  console.log(`\nRelay Desk SSH path (loopback, ${os.cpus().length} CPUs, Node ${process.version})`);
  console.log(`connect + first status      p50 ${f(r.connectFirstStatus.p50Ms)} ms  p95 ${f(r.connectFirstStatus.p95Ms)} ms  max ${f(r.connectFirstStatus.maxMs)} ms   (target < 500 ms)`);
  console.log(`status round trip (open)    p50 ${f(r.statusRoundTrip.p50Ms)} ms  p99 ${f(r.statusRoundTrip.p99Ms)} ms  max ${f(r.statusRoundTrip.maxMs)} ms   (target < 10 ms)`);
  console.log(`${r.fleet.instances} instances at once       all connected in ${f(r.fleet.allConnectedMs)} ms; ${r.fleet.instances} parallel status in ${f(r.fleet.parallelStatusMs)} ms`);
  console.log(`memory, ${r.fleet.instances} connected        RSS ${r.fleet.rssMiB} MiB (+${r.fleet.rssDeltaMiB}), heap +${r.fleet.heapDeltaMiB} MiB (${r.fleet.perInstanceHeapKiB} KiB per instance)`);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(results, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
