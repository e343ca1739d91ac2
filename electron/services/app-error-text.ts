/**
 * Every sentence the app's services show people — errors and the state lines of an instance — in
 * English, keyed the way the renderer's catalog (`renderer/src/i18n/messages/errors.*.ts`) names them:
 * key `ssh.refused` here is `errors.ssh.refused` there. A service builds its text with `said(key,
 * params)`: the English message from the template below (for logs, older renderers and the fallback),
 * and the key with its params, so the renderer can word it in the user's language. A unit test checks
 * that both catalogs have every key with the same placeholders.
 */
import type { Say } from '../ipc-contract.ts';

export const APP_ERROR_TEXT = {
  // instances and secrets
  'instances.unknown': 'no instance with id "{id}"',
  'instances.nameTaken': 'an instance named "{name}" exists already',
  'instances.notAnExport': 'not a Relay Desk instance export: {detail}',
  'instances.importDuplicate': '"{existing}" already connects to {target}',
  'instances.importNameTaken': 'an instance with this name exists',
  'instances.passphraseWithoutKey': 'secrets.passphrase: only a key file has a passphrase',
  'instances.passwordNotUsed': 'secrets.password: authentication "{method}" uses no password',
  'instances.noKeychain': 'no OS keychain is available, so passwords and passphrases cannot be stored; use the SSH agent or a key without passphrase',
  'call.invalidParams': 'params of {method}: {detail}',
  'remoteOnly.install': 'Installing applies to remote relays only',
  'remoteOnly.upgrade': 'Upgrading applies to remote relays only',
  'remoteOnly.edit': 'Editing applies to remote relays only',
  'remoteOnly.remove': 'Removing applies to remote relays only',
  'remoteOnly.hostKeys': 'Host keys apply to remote relays only',

  // host keys
  'hostKeys.nothingPending': 'no host key is waiting for confirmation: connect first, then confirm the fingerprint shown',
  'hostKeys.otherKey': 'the server presented {presented}, not {fingerprint}: nothing was trusted',
  'hostKeys.unknown': 'the host key of {host} is not trusted yet: confirm its fingerprint {fingerprint}',
  'hostKeys.changed':
    'the host key of {host} has CHANGED (was {trusted}, now {presented}); nothing was sent. If the host was reinstalled, confirm the new key; otherwise someone may be intercepting the connection',
  'hostKeys.noTrustedAlgorithm': 'the server no longer offers the trusted host key type',

  // SSH: reaching the host
  'ssh.connecting': 'connecting',
  'ssh.openingControl': 'opening the control session',
  'ssh.notConnected': 'not connected',
  'ssh.notConnectedBecause': 'not connected: {reason}',
  'ssh.refused': 'nothing listens on {address} (connection refused)',
  'ssh.hostNotFound': 'the host name {host} cannot be resolved',
  'ssh.timedOut': 'no answer from {address} (connection timed out)',
  'ssh.unreachable': '{address} cannot be reached ({code})',
  'ssh.reset': '{address} reset the connection',
  'ssh.keepaliveTimeout': '{address} stopped answering (keepalive timeout)',
  'ssh.noHandshake': 'no SSH handshake from {address} within {seconds} s',
  'ssh.signInTimeout': '{address} did not complete the SSH handshake and sign-in within {seconds} s',
  'ssh.closed': '{address} closed the connection',
  'ssh.lost': 'the SSH connection was lost; reconnecting',
  'ssh.lostBecause': 'the SSH connection was lost ({reason}); reconnecting',
  'ssh.failed': 'SSH to {address}: {detail}',

  // SSH: signing in
  'ssh.authFailed': 'authentication as {user} failed: {why} (tried: {tried}; the server accepts: {offered})',
  'ssh.authFailedNoList': 'authentication as {user} failed: {why} (tried: {tried})',
  'ssh.rejected.agent': 'no key in the SSH agent was accepted',
  'ssh.rejected.key': 'the key {keyPath} was not accepted',
  'ssh.rejected.password': 'the password was not accepted',
  'ssh.rejected.keyboardInteractive': 'the answers were not accepted',
  'ssh.agentFailed': 'the SSH agent failed: {detail}',
  'ssh.noAgent': 'no SSH agent is available (SSH_AUTH_SOCK is not set; on Windows start Pageant)',
  'ssh.keyUnreadable': 'cannot read the key file {keyPath}: {detail}',
  'ssh.keyNeedsPassphrase': 'the key file {keyPath} is protected by a passphrase: enter it in the instance settings',
  'ssh.keyWrongPassphrase': 'the key file {keyPath} could not be unlocked: the passphrase is wrong',
  'ssh.keyInvalid': 'the key file {keyPath} is not a private key ssh can use ({detail})',
  'ssh.noPassword': 'no password is stored for this instance: enter it in the instance settings',

  // SSH: the relay behind it
  'ssh.relayNotInstalled': 'no relay is installed on {host} ({path})',
  'ssh.nodeMissing': 'Node.js was not found on {host} ("{nodePath}"): install Node.js ≥ {minNode} or set its path',
  'ssh.protocolMismatch': '{detail}: upgrade the relay',
  'ssh.relayNotRunning': 'the relay on {host} is not running ({detail})',
  'ssh.controlRefused': 'the relay refused the control session: {detail} (does {user} own the data dir {dataDir}?)',
  'ssh.controlFailed': 'the control session failed: {detail}',
  'ssh.controlClosed': 'the relay closed the control session; reconnecting',

  // commands and files on the host
  'remote.unsafePath': 'unsafe remote path "{path}"',
  'remote.execFailed': 'cannot run a command on the host: {detail}',
  'remote.commandTimeout': 'a command on the host took longer than {seconds} s',
  'remote.noSftp': 'the host offers no SFTP: {detail}',
  'remote.uploadFailed': 'upload to {path} failed: {detail}',
  'remote.moveFailed': 'cannot move {from} to {to}: {detail}',
  'remote.noWriteAccess': '{user} may not write to {path} on {host} ({detail}): choose a folder {user} owns, or give {user} write access',

  // install and upgrade
  'install.bundleMissing': 'the relay bundle is missing from the app ({path})',
  'install.busy': 'an install or upgrade of this instance is running',
  'install.lingerOff':
    'systemd lingering is off for {user}: the relay stops when {user}\'s last session on the host ends. Run "sudo loginctl enable-linger {user}" on the host to keep it running.',
  'install.notConnected': 'cannot install: {reason}',
  'install.cannotCreate': 'cannot create {path}: {detail}',
  'install.cannotCreateDataDir': 'cannot create the data dir {path}: {detail}',
  'install.cannotCreateUnitDir': 'cannot create ~/.config/systemd/user on {host}: {detail}',
  'install.cannotWrite': 'cannot write {path}: {detail}',
  'install.nodeNotFound': 'Node.js was not found on {host} (looked for "{nodePath}"): install Node.js {minNode} or newer, or set the Node.js path of the instance',
  'install.nodeNotRunnable': 'cannot run {path} on {host}: {detail}',
  'install.nodeTooOld': 'Node.js {version} on {host} is too old: the relay needs {minNode} or newer',
  'install.stopFailed': 'cannot stop the running relay: {detail}',
  'install.startFailed': 'cannot start the relay: {detail}',
  'install.systemctlFailed': 'systemctl --user could not start {unit}: {detail}',
  'install.wrongVersion': 'the relay answers with version {version}, expected {expected}: another relay may be running on {dataDir}',
  'install.noAnswer': 'the relay does not answer: {reason}',
  'install.diedAfterStart': 'the relay stopped right after starting: {reason}',
  'install.diedSilently': 'no message (see the relay log on the host)',
  'install.verifyTimeout': 'the relay did not answer within {seconds} s: {reason}',
  'install.exitStatus': 'exit status {code}',
  'install.killedBy': 'killed by {signal}',
  'install.channelClosed': 'the SSH channel closed before the command finished',

  // the local relay
  'local.notRunning': 'the local relay is not running',
  'local.notRunningBecause': 'the local relay is not running: {reason}',
  'local.stopped': 'the local relay was stopped',
  'local.leftRunning': 'left running in the background',
  'local.didNotStart': 'the local relay did not start: {reason}',
  'local.noControlSocket': 'the local relay did not open its control socket within {seconds} s',
  'local.noControlSocketBecause': 'the local relay did not open its control socket within {seconds} s: {detail}',
  'local.adoptedStoppedAnswering': 'the relay (started outside this app session) stopped answering',
  'local.crashedTooOften': 'the local relay stopped {crashes} times within {seconds} s; last: {reason}',
  'local.restarting': 'the local relay stopped ({reason}); restarting',
  'local.exitCode': 'exited with code {code}',
  'local.killedBy': 'killed by {signal}',
} as const;

/** A key of APP_ERROR_TEXT. */
export type AppTextKey = keyof typeof APP_ERROR_TEXT;

/** Text for people: English, and — for the app's own words — the catalog key the UI words it with. */
export interface Said {
  readonly message: string;
  /** Absent only for text that is not the app's (a relay's or the host's own message, passed on). */
  readonly say?: Say;
}

/** A param: a value shown as it is (numbers formatted for the locale), or a whole message (a cause). */
export type TextParam = string | number | Said;

/** The `{name}` placeholders of a template, as a union. */
type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never;
/** The params a key needs: exactly its placeholders. */
export type TextParams<K extends AppTextKey> = { readonly [P in Placeholders<(typeof APP_ERROR_TEXT)[K]>]: TextParam };

/** The prefix of the keys in the renderer's catalog (the message area `errors`). */
export const CATALOG_AREA = 'errors';

/** The text of `key` with its params: English filled in, and the catalog key with the params for the UI. */
export function said<K extends AppTextKey>(key: K, ...args: [Placeholders<(typeof APP_ERROR_TEXT)[K]>] extends [never] ? [] : [TextParams<K>]): Said {
  const params = (args[0] ?? {}) as Record<string, TextParam>;
  const message = APP_ERROR_TEXT[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : typeof value === 'object' ? value.message : String(value);
  });
  const entries = Object.entries(params);
  if (entries.length === 0) return { message, say: { key: `${CATALOG_AREA}.${key}` } };
  // A cause without a key (foreign text) goes in as its English words.
  const sayParams = Object.fromEntries(entries.map(([name, v]) => [name, typeof v === 'object' ? (v.say ?? v.message) : v]));
  return { message, say: { key: `${CATALOG_AREA}.${key}`, params: sayParams } };
}

/** Text that is not the app's own (what the relay or the host said): English only. */
export function foreign(message: string): Said {
  return { message };
}

/** The line of an instance state as text (with its key when the state has one), e.g. as a cause. */
export function stateText(state: { readonly message: string; readonly say?: Say | undefined }, otherwise = ''): Said {
  if (state.say) return { message: state.message, say: state.say };
  return foreign(state.message || otherwise);
}
