/**
 * `mailrelay user add|remove|passwd|list`: the SMTP AUTH users in DIR/users.json. Works on the file
 * directly, with or without a running relay; the relay's store notices the change on its next use.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ControlError, type UserSummary } from '../protocol/index.ts';
import { UserStore } from '../users/user-store.ts';
import { CliError } from './cli-error.ts';
import { readPassword } from './password-input.ts';

export const USER_USAGE = `Usage: mailrelay user add|remove|passwd|list [NAME] [--data-dir DIR] [--sender ADDR]...

Manages the SMTP AUTH users of the relay (DIR/users.json); a running relay uses a change at once.
  add NAME [--sender ADDR]...  add a user; each --sender is an extra address it may send as
                               (besides its login, when that is an address)
  remove NAME                  remove a user
  passwd NAME                  set a new password
  list [NAME]                  list the users (or one) with their sender addresses

The password is read from standard input when that is not a terminal (its first line), otherwise
asked for twice without echo. It is never taken from the command line.
`;

/** Where `runUser` reads and writes; the CLI passes the process's streams. */
export interface UserCommandIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  stdout: Writable;
  stderr: Writable;
}

const defaultIo = (): UserCommandIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

export async function runUser(dataDir: string, positionals: string[], senders: string[] = [], io: UserCommandIo = defaultIo()): Promise<number> {
  const [action, name, ...extra] = positionals;
  if (!action) throw new CliError('user: say what to do: add, remove, passwd or list (try: mailrelay user --help)');
  if (extra.length > 0) throw new CliError(`user ${action}: unexpected argument "${extra[0]}" (the password is never given on the command line)`);
  if (senders.length > 0 && action !== 'add') throw new CliError(`user ${action}: --sender only goes with "add"`);
  const needName = (): string => {
    if (!name) throw new CliError(`user ${action}: give the user name (mailrelay user ${action} NAME)`);
    return name;
  };
  const store = await UserStore.open(path.join(dataDir, 'users.json'));
  try {
    switch (action) {
      case 'add': {
        const n = needName();
        if (await store.get(n)) throw new CliError(`user "${n}" already exists (use "mailrelay user passwd ${n}" to change its password)`);
        const user = await store.add(n, await readPassword(io.stdin, io.stderr), senders);
        io.stdout.write(`added user ${user.name}${user.allowedSenders.length ? ` (may also send as ${user.allowedSenders.join(', ')})` : ''}\n`);
        return 0;
      }
      case 'remove':
        await store.remove(needName());
        io.stdout.write(`removed user ${name}\n`);
        return 0;
      case 'passwd': {
        const n = needName();
        if (!(await store.get(n))) throw new CliError(`no user "${n}" (see: mailrelay user list)`);
        await store.setPassword(n, await readPassword(io.stdin, io.stderr));
        io.stdout.write(`password of ${n} changed\n`);
        return 0;
      }
      case 'list': {
        const users = await store.list();
        const shown = name ? users.filter((u) => u.name === name) : users;
        if (name && shown.length === 0) throw new CliError(`no user "${name}"`);
        io.stdout.write(formatUsers(shown));
        return 0;
      }
      default:
        throw new CliError(`user: unknown action "${action}" (add, remove, passwd or list)`);
    }
  } catch (err) {
    // The store's own refusals (bad name, bad address, unknown user) are the user's to fix.
    if (err instanceof ControlError) throw new CliError(`user ${action}: ${err.message}`);
    throw err;
  }
}

function formatUsers(users: UserSummary[]): string {
  if (users.length === 0) return 'no users\n';
  const width = Math.max(4, ...users.map((u) => u.name.length));
  const rows = users.map((u) => `${u.name.padEnd(width)}  ${u.allowedSenders.join(', ') || '-'}`);
  return `${'NAME'.padEnd(width)}  ALSO SENDS AS\n${rows.join('\n')}\n`;
}
