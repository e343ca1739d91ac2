/**
 * Remote relays over SSH, under plain Node, against a real sshd on loopback (key auth as the user the
 * tests run as): trust on first use, install and upgrade of the real bundle onto this machine, control
 * calls end to end over `mailrelay dial-stdio`, log events, dropped connections, an sshd restart, a
 * changed host key (nothing sent), and known_hosts import.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallProgress, InstanceState, RelayDeskApi, RemoteInstanceFields } from '../../electron/ipc-contract.ts';
import { createAppServices, type AppServices } from '../../electron/services/app-services.ts';
import { createInProcessApi } from '../../electron/services/ipc-dispatch.ts';
import { createMemoryStore } from '../../electron/services/key-value-store.ts';
import { DETACHED_PID_FILE } from '../../electron/services/remote-installer.ts';
import { PlaintextTestSecretBox } from '../../electron/services/secret-box.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { startSshdServer, type SshdServer } from '../support/sshd-server.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';
import connectionEnglish from '../../renderer/src/i18n/messages/connection.en.ts';
import connectionGerman from '../../renderer/src/i18n/messages/connection.de.ts';

const run = promisify(execFile);
const user = os.userInfo().username;

interface Harness {
  services: AppServices;
  api: RelayDeskApi;
  states: Map<string, InstanceState[]>;
}

function harness(dir: string, extra: Partial<Parameters<typeof createAppServices>[0]> = {}): Harness {
  const services = createAppServices({
    store: createMemoryStore(),
    secrets: new PlaintextTestSecretBox(path.join(dir, `secrets-${Math.random().toString(16).slice(2)}.json`)),
    relayBundlePath: RELAY_BUNDLE,
    localDataDir: path.join(dir, 'local-relay'),
    nodeRuntime: { execPath: process.execPath },
    appVersion: '0.0.0-test',
    bundledRelayVersion: '0.1.0',
    sshAgent: undefined,
    knownHostsFiles: [],
    sshTiming: { backoff: { initialMs: 100, maxMs: 400 }, keepaliveIntervalMs: 2000 },
    ...extra,
  });
  const api = createInProcessApi(services);
  const states = new Map<string, InstanceState[]>();
  api.onInstanceState((e) => states.set(e.instanceId, [...(states.get(e.instanceId) ?? []), e.state]));
  return { services, api, states };
}

function remote(sshd: SshdServer, base: string, extra: Partial<RemoteInstanceFields> = {}): RemoteInstanceFields {
  return {
    name: `relay-${Math.random().toString(16).slice(2, 8)}`,
    host: sshd.host,
    port: sshd.port,
    username: user,
    auth: { method: 'key', keyPath: sshd.clientKey },
    dataDir: path.join(base, 'data'),
    installDir: path.join(base, 'lib'),
    nodePath: 'node',
    ...extra,
  };
}

async function add(h: Harness, fields: RemoteInstanceFields): Promise<string> {
  const r = await h.api.addInstance({ instance: fields });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.id;
}

/** Connect, confirm the presented key, and wait for the state after it. */
async function connectTrusting(h: Harness, id: string): Promise<InstanceState> {
  const first = await h.api.connect({ instanceId: id });
  if (!first.ok) throw new Error(first.error.message);
  expect(first.value.status).toBe('host-key-unknown');
  const trusted = await h.api.trustHostKey({ instanceId: id, fingerprint: first.value.hostKey!.presented.fingerprint });
  if (!trusted.ok) throw new Error(trusted.error.message);
  return waitFor('the state after trusting', () => {
    const s = h.services.connection(id).state;
    return s.status !== 'connecting' && s.status !== 'host-key-unknown' ? s : null;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sshKeygenFingerprint(pubLine: string): Promise<string> {
  const tmp = makeTempDir('fp-');
  try {
    writeFileSync(path.join(tmp.path, 'k.pub'), `${pubLine}\n`);
    const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(tmp.path, 'k.pub')]);
    return stdout.split(' ')[1]!;
  } finally {
    tmp.remove();
  }
}

describe('SSH: trust on first use', () => {
  let sshd: SshdServer;
  let tmp: TempDir;
  let h: Harness;
  beforeAll(async () => {
    sshd = await startSshdServer();
    tmp = makeTempDir('app-ssh-tofu-');
    h = harness(tmp.path);
  });
  afterAll(async () => {
    await h?.services.shutdown();
    await sshd?.dispose();
    tmp?.remove();
  });

  it('stops at an unknown host key before any credential, shows the SHA-256 fingerprint, and trusts only the key shown', async () => {
    const id = await add(h, remote(sshd, tmp.path));
    const mark = sshd.log().length;
    const r = await h.api.connect({ instanceId: id });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.status).toBe('host-key-unknown');
    const presented = r.value.hostKey!.presented;
    expect(presented.algorithm).toBe('ssh-ed25519');
    expect(presented.fingerprint).toBe(await sshKeygenFingerprint(sshd.hostPublicKey()));
    expect(r.value.hostKey!.trusted).toBeNull();
    expect(r.value.message).toContain(presented.fingerprint);
    await waitFor('sshd to log the closed connection', () => /(Disconnected from|Connection closed by|Connection reset by) .*\[preauth\]/.test(sshd.log().slice(mark)));
    expect(sshd.log().slice(mark)).not.toMatch(/publickey|password|Accepted|Failed|Postponed/i);

    const wrong = await h.api.trustHostKey({ instanceId: id, fingerprint: `SHA256:${'A'.repeat(43)}` });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'HOST_KEY_MISMATCH' } });
    const list = await h.api.listInstances();
    expect(list.ok && list.value.find((i) => i.id === id)).toMatchObject({ hostKey: null });

    const ok = await h.api.trustHostKey({ instanceId: id, fingerprint: presented.fingerprint });
    expect(ok).toMatchObject({ ok: true, value: { fingerprint: presented.fingerprint, source: 'confirmed' } });
    const after = await waitFor('relay-not-installed', () => (h.services.connection(id).state.status === 'relay-not-installed' ? h.services.connection(id).state : null));
    expect(after.message).toMatch(/no relay is installed/);
    expect(sshd.log().slice(mark)).toMatch(/Accepted publickey/);
  });

  it('imports the host key from known_hosts (hashed names, [host]:port)', async () => {
    const khDir = makeTempDir('kh-');
    try {
      const kh = path.join(khDir.path, 'known_hosts');
      const [alg, b64] = sshd.hostPublicKey().split(' ');
      writeFileSync(kh, `other.example ${alg} ${b64}\n[${sshd.host}]:${sshd.port} ${alg} ${b64}\n`);
      await run('ssh-keygen', ['-H', '-f', kh]);
      expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/m);
      const h2 = harness(tmp.path, { knownHostsFiles: [kh] });
      try {
        const id = await add(h2, remote(sshd, tmp.path));
        const r = await h2.api.importKnownHosts({ instanceId: id });
        expect(r).toMatchObject({ ok: true, value: { candidates: 1, imported: { source: 'known_hosts', fingerprint: await sshKeygenFingerprint(sshd.hostPublicKey()) } } });
        const st = await h2.api.connect({ instanceId: id });
        expect(st).toMatchObject({ ok: true, value: { status: 'relay-not-installed' } });
      } finally {
        await h2.services.shutdown();
      }
    } finally {
      khDir.remove();
    }
  });
});

describe('SSH: keepalive', () => {
  it('notices a peer that went silent (no FIN) by keepalive, and reconnects when it is back', async () => {
    const sshd = await startSshdServer();
    const tmp = makeTempDir('app-ssh-keepalive-');
    const h = harness(tmp.path, { sshTiming: { keepaliveIntervalMs: 200, keepaliveCountMax: 2, backoff: { initialMs: 100, maxMs: 300 }, handshakeTimeoutMs: 2000 } });
    let thaw: (() => void) | null = null;
    try {
      const id = await add(h, remote(sshd, tmp.path));
      expect((await connectTrusting(h, id)).status).toBe('relay-not-installed');
      thaw = sshd.freezeSessions();
      const st = await waitFor('the silent peer to be noticed', () => {
        const s = h.services.connection(id).state;
        return s.status === 'disconnected' ? s : null;
      }, 10_000);
      expect(st.message).toMatch(/keepalive timeout/);
      thaw();
      thaw = null;
      await waitFor('reconnected', () => h.services.connection(id).state.status === 'relay-not-installed', 10_000);
    } finally {
      thaw?.();
      await h.services.shutdown();
      await sshd.dispose();
      tmp.remove();
    }
  });
});

describe('SSH: a changed host key', () => {
  let sshd: SshdServer;
  let tmp: TempDir;
  let h: Harness;
  beforeAll(async () => {
    sshd = await startSshdServer({ passwordAuth: true });
    tmp = makeTempDir('app-ssh-changed-');
    h = harness(tmp.path);
  });
  afterAll(async () => {
    await h?.services.shutdown();
    await sshd?.dispose();
    tmp?.remove();
  });

  it('stops the (re)connection before any credential is sent and shows both fingerprints', async () => {
    const id = await add(h, remote(sshd, tmp.path));
    expect((await connectTrusting(h, id)).status).toBe('relay-not-installed');
    const oldFp = await sshKeygenFingerprint(sshd.hostPublicKey());

    const mark = sshd.log().length;
    await sshd.rotateHostKey();
    await sshd.restart(); // drops the session: the connection reconnects on its own
    const newFp = await sshKeygenFingerprint(sshd.hostPublicKey());
    const st = await waitFor('host-key-changed', () => (h.services.connection(id).state.status === 'host-key-changed' ? h.services.connection(id).state : null));
    expect(st.hostKey).toEqual({ presented: { algorithm: 'ssh-ed25519', fingerprint: newFp }, trusted: { algorithm: 'ssh-ed25519', fingerprint: oldFp } });
    expect(st.message).toMatch(/CHANGED/);
    expect(st.retryAt).toBeNull();
    await waitFor('sshd to log the refused connection', () => /(Disconnected from|Connection closed by|Connection reset by) .*\[preauth\]/.test(sshd.log().slice(mark)));
    // sshd saw a connection and no authentication attempt of any kind.
    if (process.env.SHOW_SSHD_LOG) console.log(sshd.log().slice(mark));
    expect(sshd.log().slice(mark)).not.toMatch(/publickey|password|Accepted|Failed|Postponed|keyboard/i);

    // Nothing retries on its own…
    await new Promise((r) => setTimeout(r, 600));
    expect(h.services.connection(id).state.status).toBe('host-key-changed');
    // …until the user confirms the new key.
    expect(await h.api.trustHostKey({ instanceId: id, fingerprint: newFp })).toMatchObject({ ok: true });
    await waitFor('reconnected', () => h.services.connection(id).state.status === 'relay-not-installed');
  });
});

describe('SSH: install, control calls, reconnects, upgrade', () => {
  let sshd: SshdServer;
  let tmp: TempDir;
  let h: Harness;
  let id: string;
  let smtpPort: number;
  let dataDir: string;
  const progress: InstallProgress[] = [];

  beforeAll(async () => {
    sshd = await startSshdServer();
    tmp = makeTempDir('app-ssh-install-');
    dataDir = path.join(tmp.path, 'data');
    smtpPort = await freePort();
    // The relay's config on the "remote" host: SMTP on a free port; a relay host that refuses, so
    // accepted mail stays in the queue.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      path.join(dataDir, 'config.json'),
      JSON.stringify({
        listeners: [{ name: 'smtp', host: '127.0.0.1', port: smtpPort, tls: 'none' }],
        delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: await freePort(), security: 'none' } },
        queue: { retrySchedule: ['1h'] },
      }),
    );
    h = harness(tmp.path);
    h.api.onInstallProgress((p) => progress.push(p));
    id = await add(h, remote(sshd, tmp.path));
    expect((await connectTrusting(h, id)).status).toBe('relay-not-installed');
  });

  afterAll(async () => {
    try {
      if (id && h.services.connection(id).state.status === 'connected') await h.api.controlCall({ instanceId: id, method: 'service.stop' });
      const pidFile = path.join(dataDir, DETACHED_PID_FILE);
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        await waitFor('the remote relay to stop', () => !alive(pid), 10_000).catch(() => process.kill(pid, 'SIGKILL'));
      }
    } finally {
      await h?.services.shutdown();
      await sshd?.dispose();
      tmp?.remove();
    }
  });

  it('installs the real bundle over SFTP with progress, starts it and verifies it', async () => {
    const r = await h.api.installRelay({ instanceId: id });
    if (!r.ok) throw new Error(`${r.error.message}\n${JSON.stringify(progress, null, 1)}`);
    expect(r.value).toMatchObject({ relayVersion: '0.1.0', nodeVersion: process.version, dataDir, bundlePath: path.join(tmp.path, 'lib', 'mailrelay.mjs') });
    expect(['detached', 'systemd-user']).toContain(r.value.service);
    expect(readFileSync(path.join(tmp.path, 'lib', 'mailrelay.mjs')).equals(readFileSync(RELAY_BUNDLE))).toBe(true);
    const done = progress.filter((p) => p.status === 'done').map((p) => p.step);
    expect(done).toEqual(['connect', 'check-node', 'upload', 'data-dir', 'stop-old', 'start', 'verify']);
    const upload = progress.filter((p) => p.step === 'upload' && p.bytes !== undefined);
    expect(upload.at(-1)).toMatchObject({ bytes: readFileSync(RELAY_BUNDLE).length, totalBytes: readFileSync(RELAY_BUNDLE).length });
    expect(h.services.connection(id).state).toMatchObject({ status: 'connected', relayVersion: '0.1.0' });
    // Every line also comes as a key the app words in the user's language; in English it reads as the installer's.
    for (const p of progress) {
      expect(p.say, `${p.step} ${p.status}`).toBeDefined();
      const en = connectionEnglish.install.say[p.say!.key as keyof typeof connectionEnglish.install.say];
      const de = connectionGerman.install.say[p.say!.key as keyof typeof connectionGerman.install.say];
      expect(en && fill(en, p.say!.params), p.say!.key).toBe(p.message);
      expect(de, p.say!.key).toBeDefined();
    }
  });

  it('routes control calls to the instance over dial-stdio, validated by the method table', async () => {
    const status = await h.api.controlCall({ instanceId: id, method: 'status' });
    if (!status.ok) throw new Error(status.error.message);
    expect(status.value).toMatchObject({ dataDir, version: '0.1.0' });
    expect(status.value.listeners[0]).toMatchObject({ port: smtpPort, listening: true });

    expect(await h.api.controlCall({ instanceId: id, method: 'users.add', params: { name: 'printer', password: 'pr1nter-pass' } })).toMatchObject({ ok: true });
    const users = await h.api.controlCall({ instanceId: id, method: 'users.list' });
    expect(users.ok && JSON.stringify(users.value)).toContain('printer');

    const bad = await h.api.controlCall({ instanceId: id, method: 'queue.show', params: { id: 42 } as never });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(!bad.ok && bad.error.message).toMatch(/params of queue\.show: id/);

    const missing = await h.api.controlCall({ instanceId: id, method: 'queue.show', params: { id: 'doesnotexist' } });
    expect(missing).toMatchObject({ ok: false });
    expect(!missing.ok && ['NOT_FOUND', 'INVALID_PARAMS']).toContain(!missing.ok && missing.error.code);
  });

  it('delivers log events of a subscribed remote instance', async () => {
    const lines: string[] = [];
    const off = h.api.onLogEvent((e) => e.instanceId === id && lines.push(String(e.line.event)));
    try {
      expect(await h.api.subscribeLogs({ instanceId: id, filter: { event: ['reload'] } })).toMatchObject({ ok: true });
      expect(await h.api.controlCall({ instanceId: id, method: 'service.reload' })).toMatchObject({ ok: true });
      await waitFor('a reload log event over SSH', () => lines.includes('reload'));
    } finally {
      off();
    }
  });

  it('reconnects after the SSH connection drops, and after sshd restarts', async () => {
    const conn = h.services.connection(id);
    expect(await sshd.killSessions()).toBeGreaterThan(0);
    await waitFor('the drop to be noticed', () => conn.state.status !== 'connected');
    await waitFor('reconnected', () => conn.state.status === 'connected');
    expect((h.states.get(id) ?? []).some((s) => s.status === 'disconnected' && s.retryAt !== null)).toBe(true);
    expect(await h.api.controlCall({ instanceId: id, method: 'status' })).toMatchObject({ ok: true });

    await sshd.stop();
    await waitFor('the outage to be noticed', () => conn.state.status === 'disconnected' && conn.state.retryAt !== null);
    expect(conn.state.message).toMatch(/refused|lost|closed/);
    await sshd.restart();
    await waitFor('reconnected after the restart', () => conn.state.status === 'connected', 10_000);
    expect(await h.api.controlCall({ instanceId: id, method: 'status' })).toMatchObject({ ok: true });
  });

  it('upgrades: restarts the relay from the uploaded bundle and keeps the queue', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const sent = await transport.sendMail({ from: 'app@far.example', to: 'someone@far.example', subject: 'kept across upgrade', text: 'hello' });
    transport.close();
    expect(sent.response).toMatch(/^250/);
    const before = await h.api.controlCall({ instanceId: id, method: 'queue.list', params: { state: 'all' } });
    if (!before.ok) throw new Error(before.error.message);
    expect(before.value.items).toHaveLength(1);
    const queuedId = before.value.items[0]!.id;
    const oldPid = ((await h.api.controlCall({ instanceId: id, method: 'status' })) as { ok: true; value: { pid: number } }).value.pid;

    progress.length = 0;
    const r = await h.api.upgradeRelay({ instanceId: id });
    if (!r.ok) throw new Error(r.error.message);
    expect(progress.every((p) => p.operation === 'upgrade')).toBe(true);
    expect(alive(oldPid)).toBe(false);

    const status = await h.api.controlCall({ instanceId: id, method: 'status' });
    if (!status.ok) throw new Error(status.error.message);
    expect(status.value.pid).not.toBe(oldPid);
    const after = await h.api.controlCall({ instanceId: id, method: 'queue.list', params: { state: 'all' } });
    expect(after.ok && after.value.items.map((i) => i.id)).toEqual([queuedId]);
  });

  it('refuses a second install while one runs', async () => {
    const [a, b] = await Promise.all([h.api.upgradeRelay({ instanceId: id }), h.api.upgradeRelay({ instanceId: id })]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect((a.ok ? b : a) as unknown).toMatchObject({ ok: false, error: { code: 'BUSY' } });
  });
});

/** A catalog message with its `{placeholders}` filled. */
function fill(message: string, params: Record<string, string>): string {
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}
