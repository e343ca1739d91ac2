/**
 * A real OpenSSH server for the app's tests: /usr/sbin/sshd on 127.0.0.1 with its own config, host key,
 * pid file, log and authorized_keys in a temp dir. Unlike test/support/sshd.ts (key auth for the
 * current user, driven by the ssh client), this one also does password and keyboard-interactive
 * auth for a dedicated test user, can swap its host key, kill its sessions (a dropped connection) and
 * restart on the same port with the same key.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';
import { waitFor } from './wait-for.ts';
import { canConnect } from './port-probe.ts';

const run = promisify(execFile);

/** The dedicated user for password tests (created idempotently; tests run as root). */
export const TEST_USER = 'relaydesk-test';

export interface SshdOptions {
  passwordAuth?: boolean;
  /** keyboard-interactive through PAM (needs a PAM config; see `pamAvailable`). */
  kbdInteractive?: boolean;
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Extra sshd_config lines, appended as they are (e.g. `SetEnv PATH=…`). */
  extraConfig?: string[];
}

export interface SshdServer {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** Private keys: no passphrase, and protected by `keyPassphrase`. Both are authorized for every user. */
  readonly clientKey: string;
  readonly clientKeyWithPassphrase: string;
  readonly keyPassphrase: string;
  /** The host key's public line (`ssh-ed25519 AAAA…`). */
  hostPublicKey(): string;
  /** sshd's log so far (LogLevel VERBOSE). */
  log(): string;
  /** Kill every per-connection sshd process: the clients see their connection drop. */
  killSessions(): Promise<number>;
  /** Freeze every session (SIGSTOP): the peer goes silent without closing. Returns "thaw" (SIGCONT). */
  freezeSessions(): () => void;
  /** Stop the listener (sessions too). */
  stop(): Promise<void>;
  /** Start again on the same port with the same host key. */
  restart(): Promise<void>;
  /** Make a new host key (takes effect on the next restart). */
  rotateHostKey(): Promise<void>;
  /** Stop and remove the temp dir. */
  dispose(): Promise<void>;
}

async function exists(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** Create the test user with a password (idempotent). Needs root. */
export async function ensureTestUser(password: string): Promise<{ name: string; home: string }> {
  if (!(await exists('id', ['-u', TEST_USER]))) {
    try {
      await run('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
    } catch (err) {
      // another test file created it meanwhile
      if (!(await exists('id', ['-u', TEST_USER]))) throw err;
    }
  }
  await new Promise<void>((resolve, reject) => {
    const c = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd: ${err}`))));
    c.stdin!.end(`${TEST_USER}:${password}\n`);
  });
  const home = (await run('sh', ['-c', `getent passwd ${TEST_USER} | cut -d: -f6`])).stdout.trim();
  return { name: TEST_USER, home };
}

/** Remove the test user and its home. */
export async function removeTestUser(): Promise<void> {
  if (await exists('id', ['-u', TEST_USER])) await run('userdel', ['-r', '-f', TEST_USER]).catch(() => {});
}

/** Whether sshd can use PAM here (for keyboard-interactive): a PAM config for sshd or a fallback. */
export function pamAvailable(): boolean {
  return existsSync('/etc/pam.d/sshd') || existsSync('/etc/pam.d/other');
}

export async function startSshdServer(opts: SshdOptions = {}): Promise<SshdServer> {
  const tmp: TempDir = makeTempDir('relaydesk-app-sshd-');
  // Every user's sshd-side process must read authorized_keys: the dir and file are world-readable.
  chmodSync(tmp.path, 0o755);
  const file = (name: string): string => path.join(tmp.path, name);
  const host = '127.0.0.1';
  const keyPassphrase = 'correct horse battery staple';
  const hostKeyType = opts.hostKeyType ?? 'ed25519';
  const makeHostKey = async (): Promise<void> => {
    for (const f of ['host_key', 'host_key.pub']) rmSync(file(f), { force: true });
    await run('ssh-keygen', ['-q', '-t', hostKeyType, '-N', '', '-f', file('host_key')]);
  };
  try {
    await makeHostKey();
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'plain', '-f', file('client_key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', keyPassphrase, '-C', 'protected', '-f', file('client_key_pp')]);
    writeFileSync(file('authorized_keys'), readFileSync(file('client_key.pub'), 'utf8') + readFileSync(file('client_key_pp.pub'), 'utf8'));
    chmodSync(file('authorized_keys'), 0o644);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch (err) {
    tmp.remove();
    throw err;
  }

  let port = await freePort(host);
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  const logFile = file('sshd.log');
  writeFileSync(logFile, '');

  const writeConfig = (): void =>
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
        `UsePAM ${opts.kbdInteractive ? 'yes' : 'no'}`,
        'PermitRootLogin yes',
        `PasswordAuthentication ${opts.passwordAuth ? 'yes' : 'no'}`,
        `KbdInteractiveAuthentication ${opts.kbdInteractive ? 'yes' : 'no'}`,
        'MaxStartups 100:30:200',
        'MaxSessions 50',
        'ClientAliveInterval 0',
        'LogLevel VERBOSE',
        ...(opts.extraConfig ?? []),
        '',
      ].join('\n'),
    );

  const launch = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      writeConfig();
      const c = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', file('sshd_config'), '-E', logFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      let gone = false;
      exited = new Promise<void>((resolve) => c.once('exit', () => ((gone = true), resolve())));
      child = c;
      try {
        await waitFor(`sshd on ${host}:${port}`, async () => {
          if (gone) throw new Error(`sshd exited: ${readFileSync(logFile, 'utf8').slice(-500)}${stderr}`);
          return canConnect(host, port);
        }, 10_000);
        return;
      } catch (err) {
        if (!gone) c.kill('SIGKILL');
        await exited;
        child = null;
        if (attempt < 3 && /Address already in use/.test(String(err))) {
          port = await freePort(host);
          continue;
        }
        throw err;
      }
    }
  };

  /** The per-connection sshd processes: every descendant of the listener (monitor and user side). */
  const sessionPids = (): number[] => {
    const root = child?.pid;
    if (!root) return [];
    const parentOf = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone meanwhile
      }
    }
    const out: number[] = [];
    const isDescendant = (pid: number): boolean => {
      for (let p = parentOf.get(pid), hops = 0; p !== undefined && p > 1 && hops < 50; p = parentOf.get(p), hops++) if (p === root) return true;
      return false;
    };
    for (const pid of parentOf.keys()) if (isDescendant(pid)) out.push(pid);
    return out;
  };

  const killSessions = async (): Promise<number> => {
    const pids = sessionPids();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return pids.length;
  };

  const stop = async (): Promise<void> => {
    if (!child) return;
    await killSessions();
    const c = child;
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
    child = null;
  };

  try {
    await launch();
  } catch (err) {
    tmp.remove();
    throw err;
  }

  return {
    host,
    get port() {
      return port;
    },
    dir: tmp.path,
    clientKey: file('client_key'),
    clientKeyWithPassphrase: file('client_key_pp'),
    keyPassphrase,
    hostPublicKey: () => readFileSync(file('host_key.pub'), 'utf8').trim(),
    log: () => readFileSync(logFile, 'utf8') + stderr,
    killSessions,
    freezeSessions: () => {
      const pids = sessionPids();
      const signal = (sig: NodeJS.Signals): void => {
        for (const pid of pids) {
          try {
            process.kill(pid, sig);
          } catch {
            // gone meanwhile
          }
        }
      };
      signal('SIGSTOP');
      return () => signal('SIGCONT');
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    rotateHostKey: async () => {
      copyFileSync(file('host_key.pub'), file('host_key.old.pub'));
      await makeHostKey();
    },
    dispose: async () => {
      await stop();
      tmp.remove();
    },
  };
}
