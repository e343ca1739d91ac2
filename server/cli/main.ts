/**
 * The `mailrelay` command. Each subcommand parses its own flags; every failure ends in one clear line
 * on stderr and a non-zero exit, never a bare stack trace.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { defaultDataDir } from './data-dir.ts';
import { CHECK_USAGE, MAIN_USAGE, SERVE_USAGE, VERSION } from './usage.ts';
import { runServe } from './serve-command.ts';
import { runCheck } from './check-command.ts';

/** A failure the user can act on: printed as one line, exit status 1 (or `exitCode`). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const commonOptions = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

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
  const usage: Record<string, string> = { serve: SERVE_USAGE, check: CHECK_USAGE };
  if (!(command in usage)) throw new CliError(`unknown command "${command}" (try: mailrelay --help)`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: commonOptions, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message} (try: mailrelay ${command} --help)`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(usage[command]!);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
  const configFile = values.config ? path.resolve(values.config) : undefined;
  switch (command) {
    case 'serve':
      return runServe({ dataDir, configFile });
    case 'check':
      return runCheck(configFile ?? path.join(dataDir, 'config.json'));
    default:
      throw new CliError(`unknown command "${command}"`);
  }
}

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
