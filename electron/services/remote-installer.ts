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
import { foreign, said, stateText, type Said } from './app-error-text.ts';
import { AppError } from './app-error.ts';
import type { StoredInstance } from './instance-registry.ts';
import { absoluteRemotePath, execCommand, openSftp, sftpReplace, sftpUpload, shCommand, shellPath, writeFailure, type ExecResult, type RemoteUser } from './remote-shell.ts';
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
  const step = async <T>(name: InstallStep, running: ProgressLine, fn: () => Promise<T>): Promise<T> => {
    current = name;
    opts.onProgress({ step: name, status: 'running', ...running });
    const value = await fn();
    opts.onProgress({ step: name, status: 'done', ...(doneMessage(name, value) ?? running) });
    return value;
  };
  try {
    const target = `${inst.username}@${inst.host}`;
    const who: RemoteUser = { user: inst.username, host: inst.host };
    const client = await step('connect', progressLine(`connecting to ${target}`, 'connecting', { target }), async () => {
      await connection.connect();
      const c = connection.client;
      if (!c) throw new AppError('NOT_CONNECTED', said('install.notConnected', { reason: stateText(connection.state, connection.state.status) }));
      return c;
    });

    const host = await step('check-node', progressLine(`checking Node.js ("${inst.nodePath}")`, 'checkingNode', { nodePath: inst.nodePath }), () => checkHost(client, inst));
    const paths = {
      installDir: absoluteRemotePath(inst.installDir, host.home),
      dataDir: absoluteRemotePath(inst.dataDir, host.home),
    };
    const bundle = `${paths.installDir}/mailrelay.mjs`;

    const uploading = progressLine(`uploading the relay ${opts.bundledVersion}`, 'uploading', { version: opts.bundledVersion });
    await step('upload', uploading, async () => {
      const mk = await execCommand(client, shCommand(`mkdir -p ${paths.installDir}`));
      if (mk.code !== 0) throw new AppError('INSTALL_FAILED', cannotCreate(who, paths.installDir, why(mk), 'install.cannotCreate'));
      const sftp = await openSftp(client);
      try {
        const total = statSync(opts.bundlePath).size;
        const tmp = `${bundle}.upload-${randomBytes(4).toString('hex')}`;
        let lastReport = 0;
        await sftpUpload(sftp, who, opts.bundlePath, tmp, (sent) => {
          const now = Date.now();
          if (sent === total || now - lastReport >= 100) {
            lastReport = now;
            opts.onProgress({ step: 'upload', status: 'running', ...uploading, bytes: sent, totalBytes: total });
          }
        });
        await sftpReplace(sftp, who, tmp, bundle);
        return total;
      } finally {
        sftp.end();
      }
    });

    await step('data-dir', progressLine(`creating the data folder ${inst.dataDir}`, 'creatingDataDir', { dataDir: inst.dataDir }), async () => {
      const r = await execCommand(client, shCommand(`mkdir -p ${paths.dataDir} && chmod 700 ${paths.dataDir}`));
      if (r.code !== 0) throw new AppError('INSTALL_FAILED', cannotCreate(who, paths.dataDir, why(r), 'install.cannotCreateDataDir'));
    });

    const unit = unitName(paths.dataDir);
    await step('stop-old', progressLine('stopping the running relay (the queue stays)', 'stoppingOld'), () => stopRunning(connection, client, paths.dataDir, unit));

    const warnings: Said[] = [];
    const service = await step('start', progressLine('starting the relay', 'starting'), async () => {
      const systemd = await hasSystemdUser(client);
      if (systemd) {
        await startSystemd(client, unit, host.nodeAbs, bundle, paths.dataDir, inst);
        const linger = await ensureLinger(client);
        if (linger) warnings.push(linger);
      } else await startDetached(client, host.nodeAbs, bundle, paths.dataDir);
      return systemd ? ('systemd-user' as const) : ('detached' as const);
    });

    await step('verify', progressLine('waiting for the relay to answer', 'waitingForAnswer'), () => verify(connection, client, opts, paths.dataDir, service, unit));
    return { relayVersion: opts.bundledVersion, nodeVersion: host.nodeVersion, service, bundlePath: bundle, dataDir: paths.dataDir, durationMs: Date.now() - started, warnings: warnings.map((w) => w.message), warningSays: warnings.map((w) => w.say ?? null) };
  } catch (err) {
    // Anything else is not the app's own words (e.g. the relay's answer to a control call): passed on in English.
    const e = err instanceof AppError ? err : new AppError('INSTALL_FAILED', foreign((err as Error).message));
    opts.onProgress({ step: current, status: 'failed', message: e.message });
    throw e;
  }
}

/** A progress line in English and as a UI message key (`connection.install.say.<key>`) with params. */
type ProgressLine = { message: string; say: { key: string; params: Record<string, string> } };

function progressLine(message: string, key: string, params: Record<string, string> = {}): ProgressLine {
  return { message, say: { key, params } };
}

function doneMessage(step: InstallStep, value: unknown): ProgressLine | undefined {
  if (step === 'check-node' && value && typeof value === 'object' && 'nodeVersion' in value) {
    const version = (value as { nodeVersion: string }).nodeVersion;
    return progressLine(`Node.js ${version}`, 'nodeFound', { version });
  }
  if (step === 'start') return value === 'systemd-user' ? progressLine('started as a systemd user service', 'startedSystemd') : progressLine('started as a background process', 'startedDetached');
  if (step === 'verify') return progressLine('the relay answers', 'answers');
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
    throw new AppError('HOST_UNSUITABLE', said('install.nodeNotFound', { host: inst.host, nodePath: inst.nodePath, minNode: MIN_NODE_MAJOR }));
  }
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (r.code !== 0 || !m || !home) throw new AppError('HOST_UNSUITABLE', said('install.nodeNotRunnable', { path: nodeAbs, host: inst.host, detail: why(r) }));
  if (Number(m[1]) < MIN_NODE_MAJOR) {
    throw new AppError('HOST_UNSUITABLE', said('install.nodeTooOld', { version: version ?? '', host: inst.host, minNode: MIN_NODE_MAJOR }));
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
  if (r.code !== 0) throw new AppError('INSTALL_FAILED', said('install.stopFailed', { detail: why(r) }));
}

async function startDetached(client: Client, nodeAbs: string, bundle: string, dataDir: string): Promise<void> {
  const script = [
    `cd ${dataDir}`,
    `if command -v setsid >/dev/null 2>&1; then S=setsid; else S=nohup; fi`,
    `$S ${nodeAbs} ${bundle} serve --data-dir ${dataDir} </dev/null >/dev/null 2>${dataDir}/${DETACHED_LOG_FILE} &`,
    `echo $! > ${dataDir}/${DETACHED_PID_FILE}`,
  ].join('\n');
  const r = await execCommand(client, shCommand(script));
  if (r.code !== 0) throw new AppError('INSTALL_FAILED', said('install.startFailed', { detail: why(r) }));
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
  const who: RemoteUser = { user: inst.username, host: inst.host };
  const home = await execCommand(client, shCommand('mkdir -p "$HOME"/.config/systemd/user && printf "%s" "$HOME"'));
  if (home.code !== 0) {
    const reason = why(home);
    throw new AppError('INSTALL_FAILED', writeFailure(who, '~/.config/systemd/user', reason.message, said('install.cannotCreateUnitDir', { host: inst.host, detail: reason })));
  }
  const sftp = await openSftp(client);
  try {
    await writeRemoteFile(sftp, who, `${home.stdout.trim()}/.config/systemd/user/${unit}`, text);
  } finally {
    sftp.end();
  }
  const r = await execCommand(client, shCommand(`systemctl --user daemon-reload && systemctl --user enable ${unit} && systemctl --user restart ${unit}`), 30_000);
  if (r.code !== 0) throw new AppError('INSTALL_FAILED', said('install.systemctlFailed', { unit, detail: why(r) }));
}

/**
 * A user's systemd instance, and the relay with it, stops at the user's last logout unless lingering
 * is on. Turn it on where the host lets the user do that; otherwise say what the administrator must
 * run. Returns a warning, or null when the relay will keep running.
 */
async function ensureLinger(client: Client): Promise<Said | null> {
  const r = await execCommand(
    client,
    shCommand('u=$(id -un); if [ "$(loginctl show-user "$u" -p Linger --value 2>/dev/null)" = yes ]; then echo on; elif loginctl enable-linger "$u" 2>/dev/null; then echo enabled; else echo "off $u"; fi'),
    15_000,
  );
  const out = r.stdout.trim();
  if (r.code === 0 && (out === 'on' || out === 'enabled')) return null;
  const user = /^off (\S+)$/.exec(out)?.[1] ?? 'USER';
  return said('install.lingerOff', { user });
}

function writeRemoteFile(sftp: SFTPWrapper, who: RemoteUser, file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.writeFile(file, text, { mode: 0o644 }, (err) =>
      err ? reject(new AppError('INSTALL_FAILED', writeFailure(who, file, err.message, said('install.cannotWrite', { path: file, detail: err.message })))) : resolve(),
    ),
  );
}

async function verify(connection: SshConnection, client: Client, opts: InstallOptions, dataDir: string, service: 'systemd-user' | 'detached', unit: string): Promise<void> {
  const deadline = Date.now() + (opts.verifyTimeoutMs ?? 30_000);
  for (;;) {
    const state = await connection.reopenControl();
    if (state.status === 'connected') {
      const status = (await connection.call('status', {}, 10_000)) as { version: string };
      if (status.version !== opts.bundledVersion) {
        throw new AppError('INSTALL_FAILED', said('install.wrongVersion', { version: status.version, expected: opts.bundledVersion, dataDir }));
      }
      return;
    }
    if (state.status !== 'relay-stopped' && state.status !== 'connecting') throw new AppError('INSTALL_FAILED', said('install.noAnswer', { reason: stateText(state) }));
    // Still starting, or it died: a dead process has left its reason in its stderr.
    const dead = await deathReason(client, dataDir, service, unit);
    if (dead !== null) throw new AppError('INSTALL_FAILED', said('install.diedAfterStart', { reason: dead }));
    if (Date.now() > deadline) throw new AppError('INSTALL_FAILED', said('install.verifyTimeout', { seconds: (opts.verifyTimeoutMs ?? 30_000) / 1000, reason: stateText(state) }));
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Null while the started relay still runs; else what it said before it died. */
async function deathReason(client: Client, dataDir: string, service: 'systemd-user' | 'detached', unit: string): Promise<Said | null> {
  const script =
    service === 'systemd-user'
      ? `if systemctl --user is-active --quiet ${unit}; then exit 0; fi; journalctl --user -u ${unit} -n 5 --no-pager -q -o cat 2>/dev/null; exit 1`
      : `P=$(cat ${dataDir}/${DETACHED_PID_FILE} 2>/dev/null); if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then exit 0; fi; tail -n 5 ${dataDir}/${DETACHED_LOG_FILE} 2>/dev/null; exit 1`;
  const r = await execCommand(client, shCommand(script), 15_000);
  if (r.code === 0) return null;
  const line = lastLine(r.stdout).replace(/^mailrelay:\s*/, '');
  return line ? foreign(line) : said('install.diedSilently');
}

/** A folder that `mkdir -p` could not create: "no write access" when the host said so. */
function cannotCreate(who: RemoteUser, path: string, reason: Said, key: 'install.cannotCreate' | 'install.cannotCreateDataDir'): Said {
  return writeFailure(who, path, reason.message, said(key, { path, detail: reason }));
}

/** Why a host command failed, in words: its last stderr line (the host's own), else its exit status or signal. */
function why(r: ExecResult): Said {
  const line = lastLine(r.stderr);
  if (line) return foreign(line);
  if (r.code !== null) return said('install.exitStatus', { code: r.code });
  return r.signal ? said('install.killedBy', { signal: r.signal }) : said('install.channelClosed');
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
