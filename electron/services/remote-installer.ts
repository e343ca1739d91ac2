/**
 * Install or upgrade the relay on a remote host over an instance's SSH session (SPEC §2.1): check
 * Node.js ≥ 18, upload the bundle over SFTP (to a temp name, then renamed over the old one), create the
 * data dir, stop a running relay cleanly, start it — as a systemd user unit where `systemctl --user`
 * works, else as a detached process with a pid file — and verify it through the control socket. The
 * data dir (and so the queue) is never touched beyond `mkdir -p`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Client, SFTPWrapper } from 'ssh2';
import type { InstallProgress, InstallReport, InstallStep } from '../ipc-contract.ts';
import { AppError } from './app-error.ts';
import type { StoredInstance } from './instance-registry.ts';
import { absoluteRemotePath, execCommand, openSftp, sftpReplace, sftpUpload, shCommand, shellPath, type ExecResult } from './remote-shell.ts';
import type { SshConnection } from './ssh-connection.ts';

/** The oldest Node.js the relay bundle runs on. */
export const MIN_NODE_MAJOR = 18;

/** Progress without the instance and operation (the caller adds them). */
export type StepProgress = Omit<InstallProgress, 'instanceId' | 'operation'>;

/** What an install needs. */
export interface InstallOptions {
  connection: SshConnection;
  instance: StoredInstance;
  bundlePath: string;
  bundledVersion: string;
  onProgress(p: StepProgress): void;
  /** Time for the relay to answer after start (default 30 s). */
  verifyTimeoutMs?: number;
}

/** File names the installer keeps beside the relay's own files. */
export const DETACHED_PID_FILE = 'relaydesk-relay.pid';
export const DETACHED_LOG_FILE = 'relaydesk-relay.stderr.log';

/** The systemd user unit of a data dir: one relay per data dir. */
export function unitName(absDataDir: string): string {
  return `mailrelay-relaydesk-${createHash('sha256').update(absDataDir).digest('hex').slice(0, 12)}.service`;
}

/** Run the steps; resolves with a report, or rejects with an AppError after a `failed` progress event. */
export async function installRelay(opts: InstallOptions): Promise<InstallReport> {
  const started = Date.now();
  const { connection, instance: inst } = opts;
  let current: InstallStep = 'connect';
  const step = async <T>(name: InstallStep, running: Said, fn: () => Promise<T>): Promise<T> => {
    current = name;
    opts.onProgress({ step: name, status: 'running', ...running });
    const value = await fn();
    opts.onProgress({ step: name, status: 'done', ...(doneMessage(name, value) ?? running) });
    return value;
  };
  try {
    const target = `${inst.username}@${inst.host}`;
    const client = await step('connect', said(`connecting to ${target}`, 'connecting', { target }), async () => {
      await connection.connect();
      const c = connection.client;
      if (!c) throw new AppError('NOT_CONNECTED', `cannot install: ${connection.state.message || connection.state.status}`);
      return c;
    });

    const host = await step('check-node', said(`checking Node.js ("${inst.nodePath}")`, 'checkingNode', { nodePath: inst.nodePath }), () => checkHost(client, inst));
    const paths = {
      installDir: absoluteRemotePath(inst.installDir, host.home),
      dataDir: absoluteRemotePath(inst.dataDir, host.home),
    };
    const bundle = `${paths.installDir}/mailrelay.mjs`;

    const uploading = said(`uploading the relay ${opts.bundledVersion}`, 'uploading', { version: opts.bundledVersion });
    await step('upload', uploading, async () => {
      const mk = await execCommand(client, shCommand(`mkdir -p ${paths.installDir}`));
      if (mk.code !== 0) throw new AppError('INSTALL_FAILED', `cannot create ${paths.installDir}: ${why(mk)}`);
      const sftp = await openSftp(client);
      try {
        const total = statSync(opts.bundlePath).size;
        const tmp = `${bundle}.upload-${randomBytes(4).toString('hex')}`;
        let lastReport = 0;
        await sftpUpload(sftp, opts.bundlePath, tmp, (sent) => {
          const now = Date.now();
          if (sent === total || now - lastReport >= 100) {
            lastReport = now;
            opts.onProgress({ step: 'upload', status: 'running', ...uploading, bytes: sent, totalBytes: total });
          }
        });
        await sftpReplace(sftp, tmp, bundle);
        return total;
      } finally {
        sftp.end();
      }
    });

    await step('data-dir', said(`creating the data folder ${inst.dataDir}`, 'creatingDataDir', { dataDir: inst.dataDir }), async () => {
      const r = await execCommand(client, shCommand(`mkdir -p ${paths.dataDir} && chmod 700 ${paths.dataDir}`));
      if (r.code !== 0) throw new AppError('INSTALL_FAILED', `cannot create the data dir ${paths.dataDir}: ${why(r)}`);
    });

    const unit = unitName(paths.dataDir);
    await step('stop-old', said('stopping the running relay (the queue stays)', 'stoppingOld'), () => stopRunning(connection, client, paths.dataDir, unit));

    const warnings: string[] = [];
    const service = await step('start', said('starting the relay', 'starting'), async () => {
      const systemd = await hasSystemdUser(client);
      if (systemd) {
        await startSystemd(client, unit, host.nodeAbs, bundle, paths.dataDir, inst);
        const linger = await ensureLinger(client);
        if (linger) warnings.push(linger);
      } else await startDetached(client, host.nodeAbs, bundle, paths.dataDir);
      return systemd ? ('systemd-user' as const) : ('detached' as const);
    });

    await step('verify', said('waiting for the relay to answer', 'waitingForAnswer'), () => verify(connection, client, opts, paths.dataDir, service, unit));
    return { relayVersion: opts.bundledVersion, nodeVersion: host.nodeVersion, service, bundlePath: bundle, dataDir: paths.dataDir, durationMs: Date.now() - started, warnings };
  } catch (err) {
    const e = err instanceof AppError ? err : new AppError('INSTALL_FAILED', (err as Error).message);
    opts.onProgress({ step: current, status: 'failed', message: e.message });
    throw e;
  }
}

/** A progress line in English and as a UI message key (`connection.install.say.<key>`) with params. */
type Said = { message: string; say: { key: string; params: Record<string, string> } };

function said(message: string, key: string, params: Record<string, string> = {}): Said {
  return { message, say: { key, params } };
}

function doneMessage(step: InstallStep, value: unknown): Said | undefined {
  if (step === 'check-node' && value && typeof value === 'object' && 'nodeVersion' in value) {
    const version = (value as { nodeVersion: string }).nodeVersion;
    return said(`Node.js ${version}`, 'nodeFound', { version });
  }
  if (step === 'start') return value === 'systemd-user' ? said('started as a systemd user service', 'startedSystemd') : said('started as a background process', 'startedDetached');
  if (step === 'verify') return said('the relay answers', 'answers');
  return undefined;
}

interface HostFacts {
  home: string;
  nodeAbs: string;
  nodeVersion: string;
}

async function checkHost(client: Client, inst: StoredInstance): Promise<HostFacts> {
  const node = shellPath(inst.nodePath);
  const r = await execCommand(client, shCommand(`printf "%s\\n" "$HOME"; N=$(command -v ${node}) || exit 127; printf "%s\\n" "$N"; "$N" --version`));
  const [home, nodeAbs, version] = r.stdout.split('\n').map((l) => l.trim());
  if (r.code === 127 || !nodeAbs) {
    throw new AppError('HOST_UNSUITABLE', `Node.js was not found on ${inst.host} (looked for "${inst.nodePath}"): install Node.js ${MIN_NODE_MAJOR} or newer, or set the Node.js path of the instance`);
  }
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (r.code !== 0 || !m || !home) throw new AppError('HOST_UNSUITABLE', `cannot run ${nodeAbs} on ${inst.host}: ${why(r)}`);
  if (Number(m[1]) < MIN_NODE_MAJOR) {
    throw new AppError('HOST_UNSUITABLE', `Node.js ${version} on ${inst.host} is too old: the relay needs ${MIN_NODE_MAJOR} or newer`);
  }
  return { home, nodeAbs, nodeVersion: version! };
}

async function hasSystemdUser(client: Client): Promise<boolean> {
  const r = await execCommand(client, shCommand('command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1'), 15_000);
  return r.code === 0;
}

/** Stop whatever relay runs on the data dir: through control, its systemd unit, or its pid file. */
async function stopRunning(connection: SshConnection, client: Client, dataDir: string, unit: string): Promise<void> {
  let pid: number | null = null;
  if (connection.state.status === 'connected') {
    try {
      pid = ((await connection.call('status', {}, 5000)) as { pid: number }).pid;
      await connection.call('service.stop', {}, 5000);
    } catch {
      // gone already, or an old relay: the unit / pid file below still stop it
    }
  }
  const pidFile = `${dataDir}/${DETACHED_PID_FILE}`;
  const script = [
    `if command -v systemctl >/dev/null 2>&1 && systemctl --user cat ${unit} >/dev/null 2>&1; then systemctl --user stop ${unit}; fi`,
    `P=${pid ?? '""'}`,
    `if [ -z "$P" ] && [ -f ${pidFile} ]; then P=$(cat ${pidFile}); fi`,
    `if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then`,
    `  case "$(cat /proc/"$P"/cmdline 2>/dev/null | tr "\\000" " ")" in *mailrelay*|"") kill -TERM "$P" 2>/dev/null;; *) P="";; esac;`,
    `  i=0; while [ -n "$P" ] && kill -0 "$P" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done;`,
    `  if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then echo "the relay (pid $P) did not stop within 30 s" >&2; exit 1; fi;`,
    `fi`,
    `rm -f ${pidFile}`,
  ].join('\n');
  const r = await execCommand(client, shCommand(script), 45_000);
  if (r.code !== 0) throw new AppError('INSTALL_FAILED', `cannot stop the running relay: ${why(r)}`);
}

async function startDetached(client: Client, nodeAbs: string, bundle: string, dataDir: string): Promise<void> {
  const script = [
    `cd ${dataDir}`,
    `if command -v setsid >/dev/null 2>&1; then S=setsid; else S=nohup; fi`,
    `$S ${nodeAbs} ${bundle} serve --data-dir ${dataDir} </dev/null >/dev/null 2>${dataDir}/${DETACHED_LOG_FILE} &`,
    `echo $! > ${dataDir}/${DETACHED_PID_FILE}`,
  ].join('\n');
  const r = await execCommand(client, shCommand(script));
  if (r.code !== 0) throw new AppError('INSTALL_FAILED', `cannot start the relay: ${why(r)}`);
}

async function startSystemd(client: Client, unit: string, nodeAbs: string, bundle: string, dataDir: string, inst: StoredInstance): Promise<void> {
  const text = [
    '[Unit]',
    `Description=mailrelay (Relay Desk) for ${dataDir}`,
    'After=network-online.target',
    '',
    '[Service]',
    `ExecStart=${nodeAbs} ${bundle} serve --data-dir ${dataDir}`,
    'Restart=on-failure',
    'RestartSec=5',
    'StandardOutput=null',
    // Explicitly: its default (inherit) would follow StandardOutput=null and lose the relay's stderr,
    // which `deathReason` reads from the journal.
    'StandardError=journal',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
  const home = await execCommand(client, shCommand('mkdir -p "$HOME"/.config/systemd/user && printf "%s" "$HOME"'));
  if (home.code !== 0) throw new AppError('INSTALL_FAILED', `cannot create ~/.config/systemd/user on ${inst.host}: ${why(home)}`);
  const sftp = await openSftp(client);
  try {
    await writeRemoteFile(sftp, `${home.stdout.trim()}/.config/systemd/user/${unit}`, text);
  } finally {
    sftp.end();
  }
  const r = await execCommand(client, shCommand(`systemctl --user daemon-reload && systemctl --user enable ${unit} && systemctl --user restart ${unit}`), 30_000);
  if (r.code !== 0) throw new AppError('INSTALL_FAILED', `systemctl --user could not start ${unit}: ${why(r)}`);
}

/**
 * A user's systemd instance, and the relay with it, stops at the user's last logout unless lingering
 * is on. Turn it on where the host lets the user do that; otherwise say what the administrator must
 * run. Returns a warning, or null when the relay will keep running.
 */
async function ensureLinger(client: Client): Promise<string | null> {
  const r = await execCommand(
    client,
    shCommand('u=$(id -un); if [ "$(loginctl show-user "$u" -p Linger --value 2>/dev/null)" = yes ]; then echo on; elif loginctl enable-linger "$u" 2>/dev/null; then echo enabled; else echo "off $u"; fi'),
    15_000,
  );
  const out = r.stdout.trim();
  if (r.code === 0 && (out === 'on' || out === 'enabled')) return null;
  const user = /^off (\S+)$/.exec(out)?.[1] ?? 'USER';
  return `systemd lingering is off for ${user}: the relay stops when ${user}'s last session on the host ends. Run "sudo loginctl enable-linger ${user}" on the host to keep it running.`;
}

function writeRemoteFile(sftp: SFTPWrapper, file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.writeFile(file, text, { mode: 0o644 }, (err) => (err ? reject(new AppError('INSTALL_FAILED', `cannot write ${file}: ${err.message}`)) : resolve())),
  );
}

async function verify(connection: SshConnection, client: Client, opts: InstallOptions, dataDir: string, service: 'systemd-user' | 'detached', unit: string): Promise<void> {
  const deadline = Date.now() + (opts.verifyTimeoutMs ?? 30_000);
  for (;;) {
    const state = await connection.reopenControl();
    if (state.status === 'connected') {
      const status = (await connection.call('status', {}, 10_000)) as { version: string };
      if (status.version !== opts.bundledVersion) {
        throw new AppError('INSTALL_FAILED', `the relay answers with version ${status.version}, expected ${opts.bundledVersion}: another relay may be running on ${dataDir}`);
      }
      return;
    }
    if (state.status !== 'relay-stopped' && state.status !== 'connecting') throw new AppError('INSTALL_FAILED', `the relay does not answer: ${state.message}`);
    // Still starting, or it died: a dead process has left its reason in its stderr.
    const dead = await deathReason(client, dataDir, service, unit);
    if (dead !== null) throw new AppError('INSTALL_FAILED', `the relay stopped right after starting: ${dead}`);
    if (Date.now() > deadline) throw new AppError('INSTALL_FAILED', `the relay did not answer within ${(opts.verifyTimeoutMs ?? 30_000) / 1000} s: ${state.message}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Null while the started relay still runs; else what it said before it died. */
async function deathReason(client: Client, dataDir: string, service: 'systemd-user' | 'detached', unit: string): Promise<string | null> {
  const script =
    service === 'systemd-user'
      ? `if systemctl --user is-active --quiet ${unit}; then exit 0; fi; journalctl --user -u ${unit} -n 5 --no-pager -q -o cat 2>/dev/null; exit 1`
      : `P=$(cat ${dataDir}/${DETACHED_PID_FILE} 2>/dev/null); if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then exit 0; fi; tail -n 5 ${dataDir}/${DETACHED_LOG_FILE} 2>/dev/null; exit 1`;
  const r = await execCommand(client, shCommand(script), 15_000);
  if (r.code === 0) return null;
  return lastLine(r.stdout).replace(/^mailrelay:\s*/, '') || 'no message (see the relay log on the host)';
}

/** Why a host command failed, in words: its last stderr line, else its exit status or signal. */
function why(r: ExecResult): string {
  const line = lastLine(r.stderr);
  if (line) return line;
  if (r.code !== null) return `exit status ${r.code}`;
  return r.signal ? `killed by ${r.signal}` : 'the SSH channel closed before the command finished';
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  );
}
