/**
 * Running things on a remote host over an authenticated ssh2 client: commands (through `sh -c`, so a
 * NAS user's login shell does not matter) and SFTP. Remote paths come from `remotePathSchema`'s safe
 * alphabet, so they never need quoting beyond turning a leading `~/` into `$HOME/`.
 */
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { said, type Said } from './app-error-text.ts';
import { AppError } from './app-error.ts';

/** A remote path or command word as a shell word: `~/x` → `"$HOME"/x`; others as they are (safe alphabet). */
export function shellPath(p: string): string {
  if (!/^[A-Za-z0-9._/+@~-]+$/.test(p)) throw new AppError('INVALID_ARGUMENT', said('remote.unsafePath', { path: p }));
  return p === '~' ? '"$HOME"' : p.startsWith('~/') ? `"$HOME"/${p.slice(2)}` : p;
}

/** A remote path made absolute with the remote home directory (SFTP does not expand `~`). */
export function absoluteRemotePath(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? `${home.replace(/\/+$/, '')}/${p.slice(2)}` : p;
}

/** Wrap a POSIX sh script as one command for any login shell. The script must not contain `'`. */
export function shCommand(script: string): string {
  if (script.includes("'")) throw new Error('shCommand: the script must not contain single quotes');
  return `sh -c '${script}'`;
}

/** What a finished remote command left behind. */
export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Open an exec channel. */
export function openExec(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => (err ? reject(new AppError('UNAVAILABLE', said('remote.execFailed', { detail: err.message }))) : resolve(channel)));
  });
}

/**
 * Run a command to its end and collect its output (capped at 1 MiB each). A channel that closes with
 * neither an exit status nor a signal said nothing about the command (seen on busy hosts): it is run
 * once more. The installer's commands are safe to repeat (mkdir -p, systemctl, a relay start that the
 * data dir lock would refuse a second time).
 */
export async function execCommand(client: Client, command: string, timeoutMs = 30_000): Promise<ExecResult> {
  const first = await execOnce(client, command, timeoutMs);
  if (first.code !== null || first.signal !== null) return first;
  return execOnce(client, command, timeoutMs);
}

async function execOnce(client: Client, command: string, timeoutMs: number): Promise<ExecResult> {
  const channel = await openExec(client, command);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let signal: string | null = null;
    const timer = setTimeout(() => {
      channel.close();
      reject(new AppError('TIMEOUT', said('remote.commandTimeout', { seconds: timeoutMs / 1000 })));
    }, timeoutMs);
    channel.on('data', (d: Buffer) => {
      if (stdout.length < 1 << 20) stdout += d.toString('utf8');
    });
    channel.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 1 << 20) stderr += d.toString('utf8');
    });
    channel.on('exit', (c: number | null, s?: string) => {
      code = c;
      signal = s ?? null;
    });
    channel.on('close', () => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    channel.end();
  });
}

/** Open the SFTP subsystem. */
export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => (err ? reject(new AppError('UNAVAILABLE', said('remote.noSftp', { detail: err.message }))) : resolve(sftp)));
  });
}

/** Who acts on which host, for messages that name them. */
export interface RemoteUser {
  user: string;
  host: string;
}

// How hosts (sh, coreutils, SFTP servers) say that the user may not write somewhere.
const NO_WRITE_ACCESS = /permission denied|read-only file system|operation not permitted|\bEACCES\b|\bEROFS\b|\bEPERM\b/i;

/**
 * Why creating or writing `path` failed: "no write access", in words the user can act on, when the
 * host said so (the most common install failure on a NAS); else `otherwise`.
 */
export function writeFailure(who: RemoteUser, path: string, detail: string, otherwise: Said): Said {
  return NO_WRITE_ACCESS.test(detail) ? said('remote.noWriteAccess', { user: who.user, host: who.host, path, detail }) : otherwise;
}

/** Upload a local file with progress; resolves when the remote file is complete. */
export function sftpUpload(sftp: SFTPWrapper, who: RemoteUser, localPath: string, remotePath: string, onProgress: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.fastPut(localPath, remotePath, { mode: 0o755, step: (sent, _chunk, total) => onProgress(sent, total) }, (err) =>
      err ? reject(new AppError('INSTALL_FAILED', writeFailure(who, remotePath, err.message, said('remote.uploadFailed', { path: remotePath, detail: err.message })))) : resolve(),
    );
  });
}

/** Rename over an existing file (OpenSSH's posix-rename; plain rename refuses to overwrite). */
export function sftpReplace(sftp: SFTPWrapper, who: RemoteUser, from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null | undefined): void =>
      err ? reject(new AppError('INSTALL_FAILED', writeFailure(who, to, err.message, said('remote.moveFailed', { from, to, detail: err.message })))) : resolve();
    try {
      sftp.ext_openssh_rename(from, to, done);
    } catch {
      // not OpenSSH: remove, then rename
      sftp.unlink(to, () => sftp.rename(from, to, done));
    }
  });
}
