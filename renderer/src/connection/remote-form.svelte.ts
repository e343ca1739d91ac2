/**
 * The add / edit form of a remote relay: its fields, the write-only secrets ("keep stored" unless the
 * user types a new one), client-side checks for what is plainly missing, and the main process's
 * INVALID_ARGUMENT issues mapped back onto the fields.
 */
import type { IpcError, RemoteInstanceView, SshAuth } from '../api/relay-desk.ts';
import type { FieldIssue } from '../state/config-validation.ts';

export type AuthMethod = SshAuth['method'];

/** Defaults for a new remote relay (REMOTE_DEFAULTS in electron/ipc-contract.ts). */
const DEFAULTS = { port: 22, dataDir: '~/.local/share/mailrelay', installDir: '~/.local/lib/relaydesk', nodePath: 'node' };

export class RemoteInstanceForm {
  name = $state('');
  host = $state('');
  port = $state<number | null>(DEFAULTS.port);
  username = $state('');
  method = $state<AuthMethod>('agent');
  keyPath = $state('');
  dataDir = $state(DEFAULTS.dataDir);
  installDir = $state(DEFAULTS.installDir);
  nodePath = $state(DEFAULTS.nodePath);
  /** New password / passphrase; null keeps the stored one. */
  password = $state<string | null>('');
  passphrase = $state<string | null>('');
  readonly hasPassword: boolean;
  readonly hasPassphrase: boolean;
  #serverIssues = $state<FieldIssue[]>([]);
  #tried = $state(false);

  constructor(existing?: RemoteInstanceView) {
    this.hasPassword = existing?.hasPassword ?? false;
    this.hasPassphrase = existing?.hasPassphrase ?? false;
    if (!existing) return;
    this.name = existing.name;
    this.host = existing.host;
    this.port = existing.port;
    this.username = existing.username;
    this.method = existing.auth.method;
    this.keyPath = existing.auth.method === 'key' ? existing.auth.keyPath : '';
    this.dataDir = existing.dataDir;
    this.installDir = existing.installDir;
    this.nodePath = existing.nodePath;
    this.password = existing.hasPassword ? null : '';
    this.passphrase = existing.hasPassphrase ? null : '';
  }

  /** The fields as the contract takes them. */
  get fields(): { name: string; host: string; port: number; username: string; auth: SshAuth; dataDir: string; installDir: string; nodePath: string } {
    const auth: SshAuth = this.method === 'key' ? { method: 'key', keyPath: this.keyPath.trim() } : { method: this.method };
    return {
      name: this.name.trim(),
      host: this.host.trim(),
      port: this.port ?? Number.NaN,
      username: this.username.trim(),
      auth,
      dataDir: this.dataDir.trim(),
      installDir: this.installDir.trim(),
      nodePath: this.nodePath.trim(),
    };
  }

  /** Secrets to send: a string sets, null removes, absent keeps. */
  get secrets(): { password?: string | null; passphrase?: string | null } {
    const out: { password?: string | null; passphrase?: string | null } = {};
    if (this.method === 'password' || this.method === 'keyboard-interactive') {
      if (this.password !== null) out.password = this.password === '' ? (this.hasPassword ? null : undefined) : this.password;
    }
    if (this.method === 'key' && this.passphrase !== null) out.passphrase = this.passphrase === '' ? (this.hasPassphrase ? null : undefined) : this.passphrase;
    for (const k of Object.keys(out) as Array<keyof typeof out>) if (out[k] === undefined) delete out[k];
    return out;
  }

  /** Problems the form can see by itself (the rest comes back from the main process). */
  get localIssues(): Map<string, FieldIssue> {
    const out = new Map<string, FieldIssue>();
    const required = (path: string, v: string): void => {
      if (!v.trim()) out.set(path, { path, code: 'too_small', origin: 'string', minimum: 1, message: 'must not be empty' });
    };
    required('name', this.name);
    required('host', this.host);
    required('username', this.username);
    if (this.method === 'key') required('auth.keyPath', this.keyPath);
    if (this.port === null || !Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      out.set('port', { path: 'port', code: 'custom', message: 'must be a port from 1 to 65535' });
    }
    return out;
  }

  /** Mark that the user tried to submit: from now on the local issues show. */
  touch(): void {
    this.#tried = true;
  }

  issueAt(path: string): FieldIssue | undefined {
    return (this.#tried ? this.localIssues.get(path) : undefined) ?? this.#serverIssues.find((i) => i.path === path);
  }

  /** Show the main process's issues (paths like `instance.host` or `patch.host`) at the fields. */
  setServerError(error: IpcError | null): void {
    this.#serverIssues = (error?.issues ?? []).map((i) => ({ path: i.path.replace(/^(instance|patch|secrets)\./, ''), code: 'server', message: i.message }));
  }
}
