/**
 * One remote relay over SSH (SPEC §2.1): ssh2 with the instance's authentication, the host key
 * checked by `hostVerifier` during the key exchange — so an unknown or changed key ends the
 * connection before any credential is sent — keepalive, reconnect with backoff, and the control
 * session over `mailrelay dial-stdio` on an exec channel. It keeps the SSH session open when the relay
 * is missing, stopped or of another protocol, so the installer can use it.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type Client as SshClient, type ClientChannel, type ConnectConfig, type Prompt } from 'ssh2';
import { connectControl, type ControlClient } from '../../server/control/control-client.ts';
import { ControlError, type LogFilter, type LogsEvent, type MethodName } from '../../server/protocol/index.ts';
import type { HostKeyInfo, InstanceState, InstanceStatus } from '../ipc-contract.ts';
import { foreign, said, stateText, type Said } from './app-error-text.ts';
import { AppError } from './app-error.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { hostKeyInfo } from './host-key.ts';
import type { StoredInstance } from './instance-registry.ts';
import { MIN_NODE_MAJOR } from './remote-installer.ts';
import { openExec, shCommand, shellPath } from './remote-shell.ts';

// ssh2 is CommonJS: its named exports are not visible to Node's ESM loader.
const { Client, utils: sshUtils } = ssh2;
type Client = SshClient;

/** Exit status of the dial-stdio wrapper when no relay is installed. */
const EXIT_NOT_INSTALLED = 3;

/** Timing of SSH connections. */
export interface SshTiming {
  /** TCP connect + key exchange (default 15 s). */
  handshakeTimeoutMs: number;
  /** Whole authentication without a person involved (default 30 s). */
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Reconnect spacing. */
  backoff: BackoffOptions;
  /** Default time a control call may take. */
  requestTimeoutMs: number;
}

export const DEFAULT_SSH_TIMING: SshTiming = {
  handshakeTimeoutMs: 15_000,
  readyTimeoutMs: 30_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  backoff: { initialMs: 1000, maxMs: 60_000 },
  requestTimeoutMs: 30_000,
};

/** What a connection needs from the rest of the app. */
export interface SshConnectionDeps {
  /** The instance's current settings (read on every attempt). */
  instance(): StoredInstance;
  password(): string | null;
  passphrase(): string | null;
  /** The SSH agent: a socket path, "pageant" on Windows, or undefined when there is none. */
  agent: string | undefined;
  /** Ask the user keyboard-interactive questions; null when they cancel. */
  prompt(question: { name: string; instructions: string; prompts: { prompt: string; echo: boolean }[] }): Promise<string[] | null>;
  timing?: Partial<SshTiming>;
}

/** Events of a connection. */
export interface SshConnectionEvents {
  state: [InstanceState];
  'logs.event': [LogsEvent];
}

/** Why an attempt ended without a control session, as a state to show. */
class AttemptEnd extends Error {
  constructor(
    readonly status: InstanceStatus,
    readonly text: Said,
    readonly retry: boolean,
    readonly hostKey: InstanceState['hostKey'] = null,
  ) {
    super(text.message);
  }
}

/** A thrown value as a state line: the app's own errors keep their key; anything else is passed on in English. */
function textOf(err: unknown): Said {
  if (err instanceof AttemptEnd) return err.text;
  if (err instanceof AppError) return err.said;
  return foreign(err instanceof Error ? err.message : String(err));
}

export class SshConnection extends EventEmitter<SshConnectionEvents> {
  private st: InstanceState = { status: 'disconnected', message: '', since: Date.now(), retryAt: null, relayVersion: null, hostKey: null };
  private ssh: Client | null = null;
  private control: ControlClient | null = null;
  private wanted = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private inflight: Promise<InstanceState> | null = null;
  private generation = 0;
  private logFilter: LogFilter | null = null;
  /** The key the server presented when it was not (or no longer) the trusted one. */
  pendingHostKey: HostKeyInfo | null = null;
  private readonly timing: SshTiming;
  private readonly lastSshError = new WeakMap<Client, Error>();

  constructor(
    readonly id: string,
    private readonly deps: SshConnectionDeps,
  ) {
    super();
    this.timing = { ...DEFAULT_SSH_TIMING, ...deps.timing };
  }

  get state(): InstanceState {
    return this.st;
  }

  /** The authenticated SSH client (also when the relay is missing or stopped), or null. */
  get client(): Client | null {
    return this.ssh;
  }

  /** Connect (or reconnect now); resolves with the state it settles in. */
  connect(): Promise<InstanceState> {
    this.wanted = true;
    this.attempt = 0;
    this.clearRetry();
    if (this.st.status === 'connected' && this.control && !this.control.closed) return Promise.resolve(this.st);
    return this.run();
  }

  /** Close everything and stop reconnecting. */
  async disconnect(): Promise<InstanceState> {
    this.wanted = false;
    this.generation++;
    this.inflight = null; // a running attempt sees the new generation and gives up
    this.clearRetry();
    await this.teardown();
    this.pendingHostKey = null;
    this.setState('disconnected', null, { relayVersion: this.st.relayVersion });
    return this.st;
  }

  /** Re-open only the control session (after install/upgrade), keeping SSH. */
  reopenControl(): Promise<InstanceState> {
    this.wanted = true;
    this.attempt = 0;
    this.clearRetry();
    return this.run();
  }

  /** Call a control method over this instance's session. */
  async call(method: Exclude<MethodName, 'auth'>, params: unknown, timeoutMs?: number): Promise<unknown> {
    const c = this.control;
    if (!c || c.closed || this.st.status !== 'connected') {
      throw new AppError('NOT_CONNECTED', this.st.message ? said('ssh.notConnectedBecause', { reason: stateText(this.st) }) : said('ssh.notConnected'));
    }
    return (c.call as (m: string, p: unknown, o?: { timeoutMs?: number }) => Promise<unknown>)(method, params ?? {}, timeoutMs ? { timeoutMs } : undefined);
  }

  /** Set (or with null, clear) the log subscription; it is renewed after every reconnect. */
  async setLogFilter(filter: LogFilter | null): Promise<void> {
    this.logFilter = filter;
    const c = this.control;
    if (!c || c.closed) return;
    if (filter) await c.call('logs.subscribe', { filter });
    else await c.call('logs.unsubscribe', {});
  }

  /** Close for good (instance removed / app quits). */
  async dispose(): Promise<void> {
    await this.disconnect();
    this.removeAllListeners();
  }

  /** Run one attempt unless one is running; SSH is reused when it is still up. */
  private run(): Promise<InstanceState> {
    if (this.inflight) return this.inflight;
    const gen = this.generation;
    const p: Promise<InstanceState> = this.attemptOnce(gen).finally(() => {
      if (this.inflight === p) this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  private async attemptOnce(gen: number): Promise<InstanceState> {
    this.setState('connecting', said(this.ssh ? 'ssh.openingControl' : 'ssh.connecting'));
    try {
      if (!this.ssh) {
        const client = await this.openSsh();
        if (gen !== this.generation) {
          client.end();
          return this.st;
        }
        this.ssh = client;
        client.on('close', () => this.onSshClosed(client));
      }
      const control = await this.openControl(this.ssh);
      if (gen !== this.generation) {
        await control.close();
        return this.st;
      }
      this.control = control;
      control.on('logs.event', (e) => this.emit('logs.event', e));
      control.once('close', () => this.onControlClosed(control));
      if (this.logFilter) await control.call('logs.subscribe', { filter: this.logFilter }).catch(() => {});
      this.attempt = 0;
      this.pendingHostKey = null;
      this.setState('connected', null, { relayVersion: control.server.version });
      return this.st;
    } catch (err) {
      if (gen !== this.generation) return this.st;
      const end = err instanceof AttemptEnd ? err : new AttemptEnd('disconnected', textOf(err), true);
      if (!end.retry || !this.wanted) {
        this.setState(end.status, end.text, { hostKey: end.hostKey });
        if (!this.ssh || end.status === 'auth-failed' || end.status.startsWith('host-key')) this.wanted = false;
        return this.st;
      }
      this.scheduleRetry(end.status, end.text);
      return this.st;
    }
  }

  private scheduleRetry(status: InstanceStatus, text: Said): void {
    this.clearRetry();
    const delay = backoffDelay(this.attempt++, this.timing.backoff);
    this.setState(status, text, { retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted) void this.run();
    }, delay);
    this.retryTimer.unref?.();
  }

  private onSshClosed(client: Client): void {
    if (this.ssh !== client) return;
    this.ssh = null;
    const c = this.control;
    this.control = null;
    void c?.close();
    if (!this.wanted || this.inflight) return;
    const why = this.lastSshError.get(client);
    const inst = this.deps.instance();
    this.scheduleRetry('disconnected', why ? said('ssh.lostBecause', { reason: networkMessage(why, inst) }) : said('ssh.lost'));
  }

  private onControlClosed(control: ControlClient): void {
    if (this.control !== control) return;
    this.control = null;
    if (!this.wanted || this.inflight) return;
    if (!this.ssh) return; // onSshClosed handles it
    this.scheduleRetry('relay-stopped', said('ssh.controlClosed'));
  }

  private async teardown(): Promise<void> {
    const c = this.control;
    const s = this.ssh;
    this.control = null;
    this.ssh = null;
    await c?.close().catch(() => {});
    if (s) {
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.end();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      s.destroy();
    }
  }

  // ───────────────────── SSH ─────────────────────

  private async openSsh(): Promise<Client> {
    const inst = this.deps.instance();
    try {
      return await this.handshakeAndAuth(inst, true);
    } catch (err) {
      // The trusted key's algorithm is no longer offered: look at what the server has now (still
      // before any credential: the verifier refuses it).
      if (err instanceof AttemptEnd && err.text === NO_TRUSTED_ALGORITHM) return this.handshakeAndAuth(inst, false);
      throw err;
    }
  }

  private handshakeAndAuth(inst: StoredInstance, restrictToTrusted: boolean): Promise<Client> {
    const auth = this.authSequence(inst);
    const trusted = inst.hostKey;
    const address = `${inst.host}:${inst.port}`;
    // SSH method names as the server knows them: what we offered, and what the server said it accepts.
    const tried: string[] = [];
    let offered: AuthenticationType[] | null = null;
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let verdict: AttemptEnd | null = null;
      let settled = false;
      let authStarted = false;
      const finish = (err: AttemptEnd | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(handshakeTimer);
        if (err) {
          client.removeAllListeners('ready');
          client.on('error', () => {});
          client.end();
          client.destroy();
          reject(err);
        } else {
          client.removeAllListeners('error');
          // 'close' follows an error; onSshClosed says why with it.
          client.on('error', (e: Error) => this.lastSshError.set(client, e));
          resolve(client);
        }
      };
      const handshakeTimer = setTimeout(
        () => finish(new AttemptEnd('disconnected', said('ssh.noHandshake', { address, seconds: this.timing.handshakeTimeoutMs / 1000 }), true)),
        this.timing.handshakeTimeoutMs,
      );
      client.once('handshake', () => clearTimeout(handshakeTimer));
      client.once('ready', () => finish(null));
      client.on('error', (err: Error & { level?: string }) => {
        if (verdict) return finish(verdict);
        if (err.level === 'client-authentication') return finish(new AttemptEnd('auth-failed', authFailure(inst, tried, offered), false));
        if (err.level === 'agent') return finish(new AttemptEnd('auth-failed', said('ssh.agentFailed', { detail: err.message }), false));
        if (err.level === 'client-timeout') return finish(new AttemptEnd('disconnected', said('ssh.signInTimeout', { address, seconds: (config.readyTimeout ?? 0) / 1000 }), true));
        if (restrictToTrusted && trusted && /no matching.*host ?key|handshake failed/i.test(err.message) && !authStarted) {
          return finish(new AttemptEnd('disconnected', NO_TRUSTED_ALGORITHM, false));
        }
        finish(new AttemptEnd('disconnected', networkMessage(err, inst), true));
      });
      client.once('close', () => finish(verdict ?? new AttemptEnd('disconnected', said('ssh.closed', { address }), true)));

      const config: ConnectConfig = {
        host: inst.host,
        port: inst.port,
        username: inst.username,
        readyTimeout: inst.auth.method === 'keyboard-interactive' ? 300_000 : this.timing.readyTimeoutMs,
        keepaliveInterval: this.timing.keepaliveIntervalMs,
        keepaliveCountMax: this.timing.keepaliveCountMax,
        hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
          const presented = hostKeyInfo(blob);
          if (!trusted) {
            this.pendingHostKey = presented;
            verdict = new AttemptEnd('host-key-unknown', said('hostKeys.unknown', { host: inst.host, fingerprint: presented.fingerprint }), false, { presented, trusted: null });
            return verify(false);
          }
          if (trusted.fingerprint !== presented.fingerprint) {
            this.pendingHostKey = presented;
            verdict = new AttemptEnd(
              'host-key-changed',
              said('hostKeys.changed', { host: inst.host, trusted: trusted.fingerprint, presented: presented.fingerprint }),
              false,
              { presented, trusted: { algorithm: trusted.algorithm, fingerprint: trusted.fingerprint } },
            );
            return verify(false);
          }
          verify(true);
        },
        authHandler: ((methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
          authStarted = true;
          if (methodsLeft) offered = methodsLeft;
          for (;;) {
            const m = auth.shift();
            if (!m) return next(false);
            const wire = m.type === 'agent' ? 'publickey' : m.type;
            // Skip what the server said it will not take (methodsLeft is null on the first call).
            if (methodsLeft && !methodsLeft.includes(wire)) continue;
            if (!tried.includes(wire)) tried.push(wire);
            return next(m);
          }
        }) as unknown as ConnectConfig['authHandler'],
      };
      if (restrictToTrusted && trusted) config.algorithms = { serverHostKey: hostKeyAlgorithmsFor(trusted.algorithm) as never };
      try {
        client.connect(config);
      } catch (err) {
        finish(new AttemptEnd('disconnected', said('ssh.failed', { address, detail: (err as Error).message }), false));
      }
    }).catch((err: unknown) => {
      if (err instanceof AttemptEnd) throw err;
      throw new AttemptEnd('disconnected', textOf(err), true);
    });
  }

  /** The authentication attempts of an instance, in order; problems found locally fail early. */
  private authSequence(inst: StoredInstance): AnyAuthMethod[] {
    const username = inst.username;
    const auth = inst.auth;
    switch (auth.method) {
      case 'agent': {
        if (!this.deps.agent) throw new AttemptEnd('auth-failed', said('ssh.noAgent'), false);
        return [{ type: 'agent', username, agent: this.deps.agent }];
      }
      case 'key': {
        const keyPath = auth.keyPath.startsWith('~/') ? `${os.homedir()}/${auth.keyPath.slice(2)}` : auth.keyPath;
        let data: Buffer;
        try {
          data = readFileSync(keyPath);
        } catch (err) {
          throw new AttemptEnd('auth-failed', said('ssh.keyUnreadable', { keyPath: auth.keyPath, detail: (err as NodeJS.ErrnoException).code ?? (err as Error).message }), false);
        }
        const passphrase = this.deps.passphrase() ?? undefined;
        const parsed = sshUtils.parseKey(data, passphrase);
        if (parsed instanceof Error) {
          const m = parsed.message;
          const keyPath = auth.keyPath;
          const why = /no passphrase|encrypted/i.test(m) && !passphrase
            ? said('ssh.keyNeedsPassphrase', { keyPath })
            : /passphrase|decrypt|bad/i.test(m)
              ? said('ssh.keyWrongPassphrase', { keyPath })
              : said('ssh.keyInvalid', { keyPath, detail: m });
          throw new AttemptEnd('auth-failed', why, false);
        }
        return [{ type: 'publickey', username, key: data, ...(passphrase ? { passphrase } : {}) }];
      }
      case 'password': {
        const password = this.deps.password();
        if (!password) throw new AttemptEnd('auth-failed', said('ssh.noPassword'), false);
        // Many servers take passwords only through keyboard-interactive: answer its password prompt too.
        return [{ type: 'password', username, password }, { type: 'keyboard-interactive', username, prompt: this.kbdHandler(password, false) }];
      }
      case 'keyboard-interactive':
        return [{ type: 'keyboard-interactive', username, prompt: this.kbdHandler(this.deps.password(), true) }];
    }
  }

  private kbdHandler(password: string | null, mayAsk: boolean) {
    let usedPassword = false;
    return (name: string, instructions: string, _lang: string, prompts: Prompt[], finish: (answers: string[]) => void): void => {
      if (prompts.length === 0) return finish([]);
      const onlyPassword = prompts.length === 1 && !prompts[0]!.echo && /pass(word|code|phrase)?/i.test(prompts[0]!.prompt);
      if (password && onlyPassword && !usedPassword) {
        usedPassword = true;
        return finish([password]);
      }
      if (!mayAsk) return finish(prompts.map(() => ''));
      this.deps
        .prompt({ name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo ?? false })) })
        .then((answers) => finish(answers ?? prompts.map(() => '')), () => finish(prompts.map(() => '')));
    };
  }

  // ───────────────────── control over dial-stdio ─────────────────────

  /** The command that joins the exec channel to the relay's control socket. */
  static dialCommand(inst: Pick<StoredInstance, 'installDir' | 'dataDir' | 'nodePath'>): string {
    const bundle = `${shellPath(inst.installDir)}/mailrelay.mjs`;
    const data = shellPath(inst.dataDir);
    const node = shellPath(inst.nodePath);
    return shCommand(
      [
        `B=${bundle}`,
        `if [ -f "$B" ]; then exec ${node} "$B" dial-stdio --data-dir ${data}; fi`,
        `if command -v mailrelay >/dev/null 2>&1; then exec mailrelay dial-stdio --data-dir ${data}; fi`,
        `echo "relaydesk: no relay is installed at $B" >&2`,
        `exit ${EXIT_NOT_INSTALLED}`,
      ].join('; '),
    );
  }

  private async openControl(client: Client): Promise<ControlClient> {
    const inst = this.deps.instance();
    let channel: ClientChannel;
    try {
      channel = await openExec(client, SshConnection.dialCommand(inst));
    } catch (err) {
      throw new AttemptEnd('disconnected', textOf(err), true);
    }
    let stderr = '';
    let exitCode: number | null = null;
    channel.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    const exited = new Promise<void>((resolve) => {
      channel.on('exit', (code: number | null) => {
        exitCode = code;
      });
      channel.once('close', () => resolve());
    });
    try {
      return await connectControl(channel, { preAuthenticated: true }, { requestTimeoutMs: this.timing.requestTimeoutMs, handshakeTimeoutMs: 15_000 });
    } catch (err) {
      channel.destroy();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      const line = stderr.trim().split('\n').at(-1) ?? '';
      if (exitCode === EXIT_NOT_INSTALLED) throw new AttemptEnd('relay-not-installed', said('ssh.relayNotInstalled', { host: inst.host, path: `${inst.installDir}/mailrelay.mjs` }), false);
      if (exitCode === 127) throw new AttemptEnd('relay-not-installed', said('ssh.nodeMissing', { host: inst.host, nodePath: inst.nodePath, minNode: MIN_NODE_MAJOR }), false);
      if (err instanceof ControlError) {
        if (err.code === 'PROTOCOL_MISMATCH') throw new AttemptEnd('version-mismatch', said('ssh.protocolMismatch', { detail: err.message }), false);
        if (err.code === 'UNAVAILABLE') throw new AttemptEnd('relay-stopped', said('ssh.relayNotRunning', { host: inst.host, detail: err.message }), true);
        if (err.code === 'UNAUTHENTICATED' || err.code === 'PERMISSION_DENIED') {
          throw new AttemptEnd('auth-failed', said('ssh.controlRefused', { detail: err.message, user: inst.username, dataDir: inst.dataDir }), false);
        }
      }
      throw new AttemptEnd('relay-stopped', said('ssh.controlFailed', { detail: line || (err as Error).message }), true);
    }
  }

  // ───────────────────── state ─────────────────────

  /** `text` is the state's line, or null for none (connected, disconnected on request). */
  private setState(status: InstanceStatus, text: Said | null, extra: Partial<InstanceState> = {}): void {
    const next: InstanceState = {
      status,
      message: text?.message ?? '',
      ...(text?.say ? { say: text.say } : {}),
      since: status === this.st.status ? this.st.since : Date.now(),
      retryAt: extra.retryAt ?? null,
      relayVersion: extra.relayVersion !== undefined ? extra.relayVersion : this.st.relayVersion,
      hostKey: extra.hostKey ?? null,
    };
    this.st = next;
    this.emit('state', next);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

const NO_TRUSTED_ALGORITHM = said('hostKeys.noTrustedAlgorithm');

/** ssh2 names RSA keys by their signature algorithms. */
function hostKeyAlgorithmsFor(algorithm: string): string[] {
  return algorithm === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [algorithm];
}

/** Authentication failed: what was not accepted, which SSH methods were tried, and which the server takes. */
function authFailure(inst: StoredInstance, tried: string[], offered: string[] | null): Said {
  const why = rejected(inst);
  const user = inst.username;
  const triedList = tried.join(', ') || '-';
  return offered ? said('ssh.authFailed', { user, why, tried: triedList, offered: offered.join(', ') }) : said('ssh.authFailedNoList', { user, why, tried: triedList });
}

function rejected(inst: StoredInstance): Said {
  switch (inst.auth.method) {
    case 'agent':
      return said('ssh.rejected.agent');
    case 'key':
      return said('ssh.rejected.key', { keyPath: inst.auth.keyPath });
    case 'password':
      return said('ssh.rejected.password');
    case 'keyboard-interactive':
      return said('ssh.rejected.keyboardInteractive');
  }
}

function networkMessage(err: Error & { code?: string }, inst: StoredInstance): Said {
  const address = `${inst.host}:${inst.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return said('ssh.refused', { address });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return said('ssh.hostNotFound', { host: inst.host });
    case 'ETIMEDOUT':
      return said('ssh.timedOut', { address });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return said('ssh.unreachable', { address, code: err.code });
    case 'ECONNRESET':
      return said('ssh.reset', { address });
    default:
      return /keepalive/i.test(err.message) ? said('ssh.keepaliveTimeout', { address }) : said('ssh.failed', { address, detail: err.message });
  }
}
