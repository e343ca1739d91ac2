/**
 * A real OpenSSH server for tests: /usr/sbin/sshd on 127.0.0.1 and a free port, with its own config,
 * host key, pid file and authorized_keys in a temp dir, key authentication only, for the user the
 * tests run as. `ssh()` runs a command on it with the system `ssh` client, `ssh2()` with the `ssh2`
 * library the app uses; both hand back the exec channel as a stream, as a remote Relay Desk sees it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { makeTempDir } from './temp-dir.ts';
import { waitFor } from './wait-for.ts';
import type { Client as Ssh2Client, ClientChannel } from 'ssh2';

const run = promisify(execFile);

export interface Sshd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The client's private key (its public half is the only authorized key). */
  readonly clientKey: string;
  /** sshd's log so far (LogLevel VERBOSE). */
  log(): string;
  /** Run `command` over SSH with the system client; its stdio is the exec channel. */
  ssh(command: string[]): SshSession;
  /** Run `command` on an exec channel of the `ssh2` library (the app's SSH path); null when ssh2 is not installed. */
  ssh2(command: string[]): Promise<SshSession | null>;
  stop(): Promise<void>;
}

/** One `ssh host command` run: the channel as a duplex stream, and how it ended. */
export interface SshSession {
  /** The ssh client process (system client only). */
  child: ChildProcess | null;
  stream: Duplex;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Start sshd; always `stop()` it. Needs openssh-server (sshd, ssh-keygen) and an ssh client. */
export async function startSshd(): Promise<Sshd> {
  const dir = makeTempDir('relaydesk-sshd-');
  const host = '127.0.0.1';
  const user = os.userInfo().username;
  const file = (name: string): string => path.join(dir.path, name);
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file('host_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file('client_key')]);
    writeFileSync(file('authorized_keys'), readFileSync(file('client_key.pub')));
    chmodSync(file('authorized_keys'), 0o600);
    // sshd insists on its privilege-separation directory, even when it runs as one user.
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch (err) {
    dir.remove();
    throw err;
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort(host);
    writeFileSync(
      file('sshd_config'),
      [
        `Port ${port}`,
        `ListenAddress ${host}`,
        `HostKey ${file('host_key')}`,
        `PidFile ${file('sshd.pid')}`,
        `AuthorizedKeysFile ${file('authorized_keys')}`,
        'Subsystem sftp internal-sftp',
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const logFile = file('sshd.log');
    writeFileSync(logFile, '');
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', file('sshd_config'), '-E', logFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    const log = (): string => `${readFileSync(logFile, 'utf8')}${stderr}`;
    try {
      await waitFor(`sshd on ${host}:${port}`, async () => {
        if (exited) throw new Error(`sshd exited: ${log().trim()}`);
        return canConnect(host, port);
      }, 10_000);
    } catch (err) {
      if (!exited) child.kill('SIGKILL');
      await exit;
      // Someone took the port between freePort() and sshd's bind: try another one.
      if (attempt < 3 && /Address already in use/.test(String(err))) continue;
      dir.remove();
      throw err;
    }
    const sessions = new Set<ChildProcess>();
    const conns = new Set<Ssh2Client>();
    return {
      host,
      port,
      user,
      clientKey: file('client_key'),
      log,
      ssh(command) {
        const args = [
          ...['-i', file('client_key'), '-p', String(port), '-T'],
          ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR'],
          `${user}@${host}`,
          '--',
          ...command.map(shellQuote),
        ];
        const c = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
        sessions.add(c);
        let err = '';
        c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        const done = new Promise<number | null>((resolve) => c.once('exit', (code) => (sessions.delete(c), resolve(code))));
        return { child: c, stream: Duplex.from({ readable: c.stdout!, writable: c.stdin! }), exited: done, stderr: () => err };
      },
      async ssh2(command) {
        const lib = await import('ssh2').catch(() => null);
        if (!lib) return null;
        const conn = new lib.Client();
        const channel = await new Promise<ClientChannel>((resolve, reject) => {
          conn.once('error', reject);
          conn.once('ready', () => conn.exec(command.map(shellQuote).join(' '), (err, ch) => (err ? reject(err) : resolve(ch))));
          conn.connect({ host, port, username: user, privateKey: readFileSync(file('client_key')), readyTimeout: 10_000 });
        });
        conns.add(conn);
        let err = '';
        channel.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const done = new Promise<number | null>((resolve) =>
          channel.once('close', (code: number | null) => {
            conn.end();
            conns.delete(conn);
            resolve(code ?? null);
          }),
        );
        return { child: null, stream: channel, exited: done, stderr: () => err };
      },
      async stop() {
        for (const c of conns) c.end();
        for (const c of sessions) c.kill('SIGKILL');
        if (!exited) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exit;
        clearTimeout(killer);
        dir.remove();
      },
    };
  }
}

/** The remote side runs the command through the user's shell: quote every word. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
