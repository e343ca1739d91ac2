/**
 * The `mailrelay` command. Each subcommand parses its own flags; every failure ends in one clear line
 * on stderr and a non-zero exit, never a bare stack trace.
 */
import { parseArgs } from 'node:util';
import { isMainThread, workerData } from 'node:worker_threads';
import path from 'node:path';
import { defaultDataDir } from './data-dir.ts';
import { CHECK_USAGE, MAIN_USAGE, SERVE_USAGE, VERSION } from './usage.ts';
import { CliError } from './cli-error.ts';

export { CliError };

const commonOptions = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const COMMANDS = ['serve', 'check', 'user', 'ctl', 'dial-stdio'];

async function usageOf(command: string): Promise<string> {
  switch (command) {
    case 'serve':
      return SERVE_USAGE;
    case 'check':
      return CHECK_USAGE;
    case 'user':
      return (await import('./user-command.ts')).USER_USAGE;
    case 'ctl':
      return (await import('./ctl-command.ts')).ctlUsage();
    default:
      return (await import('./dial-stdio-command.ts')).DIAL_STDIO_USAGE;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_USAGE);
    return command ? 0 : 1;
  }
  if (command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!COMMANDS.includes(command)) throw new CliError(`unknown command "${command}" (try: mailrelay --help)`);
  let parsed;
  try {
    // Only `user` takes --sender (the addresses a new user may send as), repeatable.
    const options = command === 'user' ? { ...commonOptions, sender: { type: 'string', multiple: true } as const } : commonOptions;
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message} (try: mailrelay ${command} --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(await usageOf(command));
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
  const configFile = values.config ? path.resolve(values.config) : undefined;
  switch (command) {
    // Each command loads only its own code: `dial-stdio` runs once per SSH connection of the app,
    // and evaluating the SMTP, queue and delivery modules it never uses would only delay it.
    case 'serve':
      return (await import('./serve-command.ts')).runServe({ dataDir, configFile });
    case 'check':
      return (await import('./check-command.ts')).runCheck(configFile ?? path.join(dataDir, 'config.json'));
    case 'user':
      return (await import('./user-command.ts')).runUser(dataDir, positionals, (values as { sender?: string[] }).sender ?? []);
    case 'ctl':
      return (await import('./ctl-command.ts')).runCtl(dataDir, positionals);
    case 'dial-stdio':
      return (await import('./dial-stdio-command.ts')).runDialStdio(dataDir);
    default:
      throw new CliError(`unknown command "${command}"`);
  }
}

// The relay's bundle is also the program of its delivery thread (delivery-thread.ts; the role is
// spelled out here so that the other commands do not load the delivery code to check it).
const role = isMainThread ? null : (workerData as { mailrelayRole?: unknown } | null)?.mailrelayRole;
if (role === 'delivery') (await import('../delivery/delivery-thread.ts')).runDeliveryThread();
else runCli();

function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const e = err as Error & { exitCode?: number };
      process.stderr.write(`mailrelay: ${e.message}\n`);
      if (!(err instanceof CliError) && process.env.MAILRELAY_DEBUG) process.stderr.write(`${e.stack}\n`);
      process.exitCode = e.exitCode ?? 1;
    },
  );
}
