/**
 * A private Postfix instance for tests and benchmarks: its own config, queue and data directories in
 * a temp dir, its own port on 127.0.0.1, every message relayed to `[127.0.0.1]:sinkPort`, no local
 * delivery. It never reads or writes /etc/postfix/main.cf or master.cf and never listens on port 25.
 *
 * Why it needs no `alternate_config_directories` entry in /etc/postfix/main.cf: Postfix only enforces
 * that list for unprivileged callers of set-gid programs (postdrop, sendmail); `postfix -c DIR` run by
 * root is trusted. Mail enters through smtpd only, so nothing set-gid is involved. Root is required
 * (Postfix drops to `mail_owner` = `postfix`, which Debian's package creates with group `postdrop`).
 *
 * The master runs in the foreground (`postfix start-fg`) as our child, so the instance can't outlive
 * `stop()` by accident and no pid file outside the temp dir is involved (the pid dir is QUEUE/pid).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { makeTempDir } from './temp-dir.ts';

const POSTFIX = '/usr/sbin/postfix';

/** A running private Postfix. */
export interface PostfixInstance {
  /** Its smtpd port on 127.0.0.1. */
  port: number;
  /** The instance's config directory (main.cf, master.cf); the queue is in the sibling `queue/`. */
  configDir: string;
  /** The master daemon's pid (all Postfix daemons of the instance are its children). */
  masterPid: number;
  /** Stop the master and all its daemons, then remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startPostfix}. */
export interface PostfixOptions {
  /** Where Postfix relays everything: `relayhost = [127.0.0.1]:sinkPort`. */
  sinkPort: number;
  /** Extra main.cf lines, `name = value`, applied last (e.g. tuning for one test). */
  extraMainCf?: Record<string, string>;
  /** Give up waiting for the 220 greeting after this long. */
  readyTimeoutMs?: number;
}

export function mainCf(dir: string, sinkPort: number, extra: Record<string, string> = {}): string {
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'queue'),
    data_directory: path.join(dir, 'data'),
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: 'postfix.bench.invalid',
    // No local delivery: nothing is "local", everything goes to the relay host.
    mydestination: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    relayhost: `[127.0.0.1]:${sinkPort}`,
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    // Logs go to a file in the temp dir through postlogd (no syslog needed, nothing in /var/log).
    maillog_file: path.join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    ...extra,
  };
  return Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}\n`)
    .join('');
}

/** Debian's master.cf services minus the pipes and tlsmgr, all without chroot, smtpd on our port. */
export function masterCf(port: number): string {
  return [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup     unix  n - n 60 1 pickup',
    'cleanup    unix  n - n -  0 cleanup',
    'qmgr       unix  n - n 300 1 qmgr',
    'rewrite    unix  - - n -  - trivial-rewrite',
    'bounce     unix  - - n -  0 bounce',
    'defer      unix  - - n -  0 bounce',
    'trace      unix  - - n -  0 bounce',
    'verify     unix  - - n -  1 verify',
    'flush      unix  n - n 1000? 0 flush',
    'proxymap   unix  - - n -  - proxymap',
    'proxywrite unix  - - n -  1 proxymap',
    'smtp       unix  - - n -  - smtp',
    'relay      unix  - - n -  - smtp',
    'showq      unix  n - n -  - showq',
    'error      unix  - - n -  - error',
    'retry      unix  - - n -  - error',
    'discard    unix  - - n -  - discard',
    'anvil      unix  - - n -  1 anvil',
    'scache     unix  - - n -  1 scache',
    'postlog    unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n');
}

/**
 * Resolve once `host:port` answers with a 220 greeting (then QUIT); reject after `timeoutMs`, or as
 * soon as `abort()` returns a reason (e.g. the server process exited).
 */
export async function waitForSmtpGreeting(
  host: string,
  port: number,
  timeoutMs = 20_000,
  abort: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    const reason = abort();
    if (reason) throw new Error(reason);
    try {
      await greetOnce(host, port, Math.max(200, Math.min(5_000, deadline - Date.now())));
      return;
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no SMTP greeting from ${host}:${port} within ${timeoutMs} ms (${last})`);
}

function greetOnce(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.removeAllListeners('data');
      if (err) {
        sock.destroy();
        reject(err);
      } else {
        sock.end('QUIT\r\n');
        sock.once('close', () => resolve());
        setTimeout(() => sock.destroy(), 1_000).unref();
      }
    };
    const timer = setTimeout(() => done(new Error('greeting timed out')), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^(\d{3}) [^\n]*\n/m.exec(buf);
      if (m) done(m[1] === '220' ? undefined : new Error(`greeting was: ${buf.trim()}`));
    });
  });
}

/** Start a private Postfix relaying to 127.0.0.1:sinkPort; resolves once smtpd answers 220. */
export async function startPostfix(opts: PostfixOptions): Promise<PostfixInstance> {
  if (process.getuid?.() !== 0) throw new Error('a private Postfix needs root (it drops to the "postfix" user itself)');
  if (!existsSync(POSTFIX)) throw new Error(`${POSTFIX} not found: apt-get install postfix`);
  let lastError: Error | undefined;
  // The free port can be taken between probing and Postfix binding it: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts, await freePort());
    } catch (err) {
      lastError = err as Error;
      if (!/address already in use/i.test(lastError.message)) break;
    }
  }
  throw lastError ?? new Error('Postfix did not start');
}

async function startOnce(opts: PostfixOptions, port: number): Promise<PostfixInstance> {
  const tmp = makeTempDir('relaydesk-postfix-');
  // mkdtemp makes the dir 0700; Postfix wants root-owned, not group/world-writable parents.
  chmodSync(tmp.path, 0o755);
  const configDir = path.join(tmp.path, 'etc');
  const queueDir = path.join(tmp.path, 'queue');
  mkdirSync(configDir, { mode: 0o755 });
  mkdirSync(queueDir, { mode: 0o755 });
  writeFileSync(path.join(configDir, 'main.cf'), mainCf(tmp.path, opts.sinkPort, opts.extraMainCf));
  writeFileSync(path.join(configDir, 'master.cf'), masterCf(port));
  const maillog = path.join(tmp.path, 'maillog');

  // start-fg: `postfix` execs postfix-script, which creates the queue dirs, checks the config and
  // runs `master -s` as its child in the foreground (master itself starts its own session).
  const child: ChildProcess = spawn(POSTFIX, ['-c', configDir, 'start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `postfix exited (${signal ?? code}) before answering`;
      resolve();
    });
    child.once('error', (err) => {
      exited = `cannot run ${POSTFIX}: ${err.message}`;
      resolve();
    });
  });

  let masterPid = 0;
  let stopped = false;
  const killLeftovers = () => {
    // master is a session leader: its daemons share its process group.
    if (masterPid > 0) {
      try {
        process.kill(-masterPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    child.kill('SIGKILL');
  };
  // Last resort if the host process exits without calling stop() (uncaught error, process.exit()).
  const onExit = () => {
    if (!stopped) {
      killLeftovers();
      tmp.remove();
    }
  };
  process.once('exit', onExit);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (exited === undefined) {
      // Bounded: postfix-script waits 5 s for the master, then kills its process group itself.
      spawnSync(POSTFIX, ['-c', configDir, 'stop'], { stdio: 'ignore', timeout: 15_000 });
      await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, 10_000))]);
    }
    killLeftovers();
    await waitForSessionGone(masterPid, 5_000);
    tmp.remove();
  };

  try {
    const logTail = () => {
      const log = existsSync(maillog) ? readFileSync(maillog, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
      return [output.trim(), log].filter(Boolean).join('\n');
    };
    await waitForSmtpGreeting('127.0.0.1', port, opts.readyTimeoutMs ?? 30_000, () =>
      exited ? `${exited}:\n${logTail()}` : undefined,
    ).catch((err: Error) => {
      throw new Error(`private Postfix did not start: ${err.message}${exited ? '' : `\n${logTail()}`}`);
    });
    masterPid = Number.parseInt(readFileSync(path.join(queueDir, 'pid', 'master.pid'), 'utf8').trim(), 10);
    return { port, configDir, masterPid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Wait until no process of the master's session is left (bounded). */
async function waitForSessionGone(sid: number, timeoutMs: number): Promise<void> {
  if (sid <= 0) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && sessionMembers(sid).length > 0) await new Promise((r) => setTimeout(r, 50));
}

function sessionMembers(sid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp session ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid && fields[0] !== 'Z') pids.push(Number(name));
    } catch {
      /* process vanished */
    }
  }
  return pids;
}
