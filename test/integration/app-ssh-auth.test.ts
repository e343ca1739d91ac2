/**
 * SSH authentication of remote instances against a real sshd on loopback: a key file with and
 * without passphrase, a password (for a dedicated test user made by this file), keyboard-interactive
 * through PAM, and the failures a person must be told about. The relay is not installed for these
 * hosts, so a successful login ends in `relay-not-installed` — the SSH session itself is up.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthPrompt, InstanceState, RelayDeskApi, RemoteInstanceFields } from '../../electron/ipc-contract.ts';
import { createAppServices, type AppServices } from '../../electron/services/app-services.ts';
import { createInProcessApi } from '../../electron/services/ipc-dispatch.ts';
import { createMemoryStore } from '../../electron/services/key-value-store.ts';
import { PlaintextTestSecretBox } from '../../electron/services/secret-box.ts';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { TEST_USER, ensureTestUser, pamAvailable, removeTestUser, startSshdServer, type SshdServer } from '../support/sshd-server.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

const run = promisify(execFile);
const PASSWORD = 'Relay-Desk-test-pw-7';
const isRoot = process.getuid?.() === 0;

let sshd: SshdServer;
let tmp: TempDir;
let services: AppServices;
let api: RelayDeskApi;
let secrets: PlaintextTestSecretBox;
let createdUser = false;

beforeAll(async () => {
  if (isRoot) {
    await ensureTestUser(PASSWORD);
    createdUser = true;
  }
  sshd = await startSshdServer({ passwordAuth: true });
  tmp = makeTempDir('app-ssh-auth-');
  secrets = new PlaintextTestSecretBox(path.join(tmp.path, 'secrets.json'));
  services = createAppServices(baseDeps());
  api = createInProcessApi(services);
});

afterAll(async () => {
  await services?.shutdown();
  await sshd?.dispose();
  tmp?.remove();
  if (createdUser) await removeTestUser();
});

function baseDeps(): Parameters<typeof createAppServices>[0] {
  return {
    store: createMemoryStore(),
    secrets,
    relayBundlePath: RELAY_BUNDLE,
    localDataDir: path.join(tmp.path, 'local'),
    nodeRuntime: { execPath: process.execPath },
    appVersion: '0.0.0-test',
    bundledRelayVersion: '0.1.0',
    sshAgent: undefined,
    knownHostsFiles: [],
    sshTiming: { backoff: { initialMs: 100, maxMs: 400 } },
  };
}

function fields(s: SshdServer, extra: Partial<RemoteInstanceFields>): RemoteInstanceFields {
  return {
    name: `auth-${Math.random().toString(16).slice(2, 8)}`,
    host: s.host,
    port: s.port,
    username: os.userInfo().username,
    auth: { method: 'agent' },
    dataDir: '~/.local/share/relaydesk-test-data',
    installDir: '~/.local/lib/relaydesk-test',
    nodePath: 'node',
    ...extra,
  };
}

/** Add, trust the host key, and return the settled state. */
async function addAndConnect(f: RemoteInstanceFields, secretsPatch?: { password?: string; passphrase?: string }): Promise<{ id: string; status: string; message: string; say?: InstanceState['say'] }> {
  const added = await api.addInstance({ instance: f, ...(secretsPatch ? { secrets: secretsPatch } : {}) });
  if (!added.ok) throw new Error(added.error.message);
  const id = added.value.id;
  const first = await api.connect({ instanceId: id });
  if (!first.ok) throw new Error(first.error.message);
  if (first.value.status === 'host-key-unknown') {
    const t = await api.trustHostKey({ instanceId: id, fingerprint: first.value.hostKey!.presented.fingerprint });
    if (!t.ok) throw new Error(t.error.message);
  } else {
    return { id, status: first.value.status, message: first.value.message, say: first.value.say };
  }
  const st = await waitFor('a settled state', () => {
    const s = services.connection(id).state;
    return s.status !== 'connecting' && s.status !== 'host-key-unknown' ? s : null;
  });
  return { id, status: st.status, message: st.message, say: st.say };
}

describe('SSH authentication (real sshd)', () => {
  it('logs in with a key file without passphrase', async () => {
    const r = await addAndConnect(fields(sshd, { auth: { method: 'key', keyPath: sshd.clientKey } }));
    expect(r.status).toBe('relay-not-installed');
  });

  it('logs in with a passphrase-protected key; says so when the passphrase is missing or wrong', async () => {
    const missing = await addAndConnect(fields(sshd, { auth: { method: 'key', keyPath: sshd.clientKeyWithPassphrase } }));
    expect(missing.status).toBe('auth-failed');
    expect(missing.message).toMatch(/protected by a passphrase/);

    const wrong = await addAndConnect(fields(sshd, { auth: { method: 'key', keyPath: sshd.clientKeyWithPassphrase } }), { passphrase: 'not it' });
    expect(wrong.status).toBe('auth-failed');
    expect(wrong.message).toMatch(/passphrase is wrong/);

    const right = await addAndConnect(fields(sshd, { auth: { method: 'key', keyPath: sshd.clientKeyWithPassphrase } }), { passphrase: sshd.keyPassphrase });
    expect(right.status).toBe('relay-not-installed');
    // The passphrase sits in the secret box only — and the instance list only says that one exists.
    const list = await api.listInstances();
    const view = list.ok ? list.value.find((i) => i.id === right.id) : undefined;
    expect(view).toMatchObject({ hasPassphrase: true });
    expect(JSON.stringify(view)).not.toContain(sshd.keyPassphrase);
    expect(secrets.raw()).toContain(sshd.keyPassphrase);
  });

  it('reports a key file that cannot be read', async () => {
    const r = await addAndConnect(fields(sshd, { auth: { method: 'key', keyPath: path.join(tmp.path, 'no-such-key') } }));
    expect(r).toMatchObject({ status: 'auth-failed' });
    expect(r.message).toMatch(/cannot read the key file .*ENOENT/);
  });

  it('logs in through a real ssh-agent (the key never touches the app)', async () => {
    const sock = path.join(tmp.path, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      await waitFor('ssh-agent', () => existsSync(sock));
      await run('ssh-add', [sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const withAgent = createAppServices({ ...baseDeps(), sshAgent: sock });
      try {
        const a = createInProcessApi(withAgent);
        const added = await a.addInstance({ instance: fields(sshd, { auth: { method: 'agent' } }) });
        if (!added.ok) throw new Error(added.error.message);
        const first = await a.connect({ instanceId: added.value.id });
        if (!first.ok || !first.value.hostKey) throw new Error('expected host-key-unknown');
        await a.trustHostKey({ instanceId: added.value.id, fingerprint: first.value.hostKey.presented.fingerprint });
        await waitFor('relay-not-installed via the agent', () => withAgent.connection(added.value.id).state.status === 'relay-not-installed');
        expect(sshd.log()).toMatch(/Accepted publickey/);
      } finally {
        await withAgent.shutdown();
      }
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('says that no agent is available instead of trying', async () => {
    const r = await addAndConnect(fields(sshd, { auth: { method: 'agent' } }));
    expect(r.status).toBe('auth-failed');
    expect(r.message).toMatch(/no SSH agent/);
  });

  it.runIf(isRoot)('logs in with a password, and reports a wrong one as auth-failed without retrying', async () => {
    const ok = await addAndConnect(fields(sshd, { username: TEST_USER, auth: { method: 'password' } }), { password: PASSWORD });
    expect(ok.status).toBe('relay-not-installed');
    expect(sshd.log()).toMatch(new RegExp(`Accepted password for ${TEST_USER}`));

    const bad = await addAndConnect(fields(sshd, { username: TEST_USER, auth: { method: 'password' } }), { password: 'wrong-password' });
    expect(bad.status).toBe('auth-failed');
    expect(bad.message).toMatch(/password was not accepted/);
    // Which methods were tried, and which the server takes, travel as a message key for the UI's language.
    expect(bad.say).toMatchObject({ key: 'errors.ssh.authFailed', params: { user: TEST_USER, why: { key: 'errors.ssh.rejected.password' }, tried: expect.stringContaining('password') } });
    await new Promise((r) => setTimeout(r, 500));
    expect(services.connection(bad.id).state).toMatchObject({ status: 'auth-failed', retryAt: null });
  });

  it.runIf(isRoot)('a changed host key stops a password login before the password is sent', async () => {
    const own = await startSshdServer({ passwordAuth: true });
    try {
      const r = await addAndConnect(fields(own, { username: TEST_USER, auth: { method: 'password' } }), { password: PASSWORD });
      expect(r.status).toBe('relay-not-installed');
      expect(own.log()).toMatch(/Accepted password/);
      const mark = own.log().length;
      await own.rotateHostKey();
      await own.restart();
      await waitFor('host-key-changed', () => services.connection(r.id).state.status === 'host-key-changed').catch((e) => { throw new Error(`${e}: ${JSON.stringify(services.connection(r.id).state)}`); });
      await waitFor('sshd to log the refused connection', () => /(Disconnected from|Connection closed by|Connection reset by) .*\[preauth\]/.test(own.log().slice(mark)));
      expect(own.log().slice(mark)).not.toMatch(/password|publickey|Accepted|Failed|keyboard/i);
    } finally {
      await own.dispose();
    }
  });

  it.runIf(isRoot && pamAvailable())('answers keyboard-interactive prompts through the app (auth.prompt → answerAuthPrompt)', async () => {
    const kbd = await startSshdServer({ kbdInteractive: true });
    const prompts: AuthPrompt[] = [];
    const off = api.onAuthPrompt((p) => {
      prompts.push(p);
      void api.answerAuthPrompt({ promptId: p.promptId, answers: p.prompts.map(() => PASSWORD) });
    });
    try {
      const r = await addAndConnect(fields(kbd, { username: TEST_USER, auth: { method: 'keyboard-interactive' } }));
      expect(prompts.length).toBeGreaterThan(0);
      expect(prompts[0]!.prompts[0]!.echo).toBe(false);
      // Authentication is what is under test; a distribution's PAM session stack (pam_loginuid in a
      // container) may still refuse the session afterwards, so the state is not pinned here.
      expect(r.status).not.toBe('auth-failed');
      await waitFor('sshd to accept the answers', () => /Accepted keyboard-interactive/.test(kbd.log()));
    } finally {
      off();
      await kbd.dispose();
    }
  });
});
