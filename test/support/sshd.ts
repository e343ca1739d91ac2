/**
 * Exec channels to a real sshd on loopback (test/support/sshd-server.ts), as the app and scripts use
 * them to run `mailrelay dial-stdio`: through the system `ssh` client or the `ssh2` library, logged
 * in with the test's client key as the current user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Duplex } from 'node:stream';
import type { Client as Ssh2Client, ClientChannel } from 'ssh2';
import { startSshdServer } from './sshd-server.ts';

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

/** Start sshd (key auth only); always `stop()` it. Needs openssh-server and an ssh client. */
export async function startSshd(): Promise<Sshd> {
  const server = await startSshdServer();
  const { host, port, clientKey } = server;
  const user = os.userInfo().username;
  const sessions = new Set<ChildProcess>();
  const conns = new Set<Ssh2Client>();
  return {
    host,
    port,
    user,
    clientKey,
    log: () => server.log(),
    ssh(command) {
      const args = [
        ...['-i', clientKey, '-p', String(port), '-T'],
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
        conn.connect({ host, port, username: user, privateKey: readFileSync(clientKey), readyTimeout: 10_000 });
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
      await server.dispose();
    },
  };
}

/** The remote side runs the command through the user's shell: quote every word. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
