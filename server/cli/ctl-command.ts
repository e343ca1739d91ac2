/**
 * `mailrelay ctl METHOD [JSON]`: one control call on the local relay, the result printed as JSON.
 * Failures print `CODE: message` (and every key-path issue) and exit 1. `logs.subscribe` prints one
 * log line per line of output until Ctrl-C. The help text comes from the method table itself.
 */
import type { Readable, Writable } from 'node:stream';
import { openLocalControl, type ClientMethodName, type ControlClient } from '../control/control-client.ts';
import { ControlError, METHODS, methodNames } from '../protocol/index.ts';
import { CliError } from './cli-error.ts';

/** The help text: usage plus every method with its permission and doc line. */
export function ctlUsage(): string {
  const names = methodNames.filter((n) => n !== 'auth');
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${METHODS[n].permission === 'write' ? '[write] ' : ''}${METHODS[n].doc}`);
  return `Usage: mailrelay ctl [--data-dir DIR] METHOD [JSON]

Calls a method of the relay's control API over DIR/control.sock (authenticating with
DIR/control.key) and prints the result as JSON. JSON is the method's params object; "-" reads
it from standard input. On failure prints "CODE: message" and exits 1.

Methods:
${lines.join('\n')}

Examples:
  mailrelay ctl status
  mailrelay ctl queue.list '{"state":"deferred","filter":{"domain":"example.com"},"limit":20}'
  mailrelay ctl queue.hold '{"filter":{"sender":"newsletter@"}}'
  mailrelay ctl config.get > current.json
  mailrelay ctl logs.subscribe '{"filter":{"event":["reject","bounced"]}}'
`;
}

/** Methods that may take long on the relay's side (SMTP and DNS round trips). */
const SLOW_METHODS = new Set(['test.send', 'dns.check']);

export interface CtlIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Resolves when the user asks to stop a stream (Ctrl-C); the CLI wires SIGINT/SIGTERM. */
  interrupted: () => Promise<void>;
}

const defaultIo = (): CtlIo => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  interrupted: () => new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve()))),
});

export async function runCtl(dataDir: string, positionals: string[], io: CtlIo = defaultIo()): Promise<number> {
  const [method, json, ...extra] = positionals;
  if (!method) throw new CliError('ctl: give a method, e.g. "mailrelay ctl status" (mailrelay ctl --help lists them all)');
  if (extra.length > 0) throw new CliError(`ctl: unexpected argument "${extra[0]}": give the params as one JSON object (quote it)`);
  if (method === 'auth') throw new CliError('ctl: "auth" is done by ctl itself; call any other method');
  if (!methodNames.includes(method as ClientMethodName)) throw new CliError(`ctl: unknown method "${method}" (mailrelay ctl --help lists them)`);
  const params = json === undefined ? {} : parseParams(json === '-' ? await readAll(io.stdin) : json);

  let client: ControlClient | null = null;
  try {
    client = await openLocalControl(dataDir);
    const call = client.call.bind(client) as (m: string, p: unknown, o: { timeoutMs: number }) => Promise<unknown>;
    if (method === 'logs.subscribe') return await stream(client, call, params, io);
    const result = await call(method, params, { timeoutMs: SLOW_METHODS.has(method) ? 120_000 : 60_000 });
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    io.stderr.write(`${err.code}: ${err.message}\n`);
    for (const i of err.issues ?? []) io.stderr.write(`  ${i.path}: ${i.message}\n`);
    return 1;
  } finally {
    await client?.close();
  }
}

/** Print pushed log lines, one JSON object per line, until interrupted or the relay goes away. */
async function stream(client: ControlClient, call: (m: string, p: unknown, o: { timeoutMs: number }) => Promise<unknown>, params: unknown, io: CtlIo): Promise<number> {
  client.on('logs.event', (e) => {
    if (e.dropped) io.stderr.write(`(${e.dropped} line(s) dropped: output too slow)\n`);
    io.stdout.write(`${JSON.stringify(e.line)}\n`);
  });
  const closed = new Promise<ControlError | undefined>((resolve) => client.once('close', resolve));
  await call('logs.subscribe', params, { timeoutMs: 30_000 });
  const end = await Promise.race([io.interrupted().then(() => 'interrupted' as const), closed]);
  if (end === 'interrupted') return 0;
  throw end ?? new ControlError('CLOSED', 'the relay closed the control connection');
}

function parseParams(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`ctl: the params are not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliError('ctl: the params must be a JSON object, e.g. \'{"id":"…"}\'');
  return value;
}

async function readAll(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
