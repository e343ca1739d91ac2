/**
 * Policy cost benchmark (not a test): the relay's accept throughput with SMTP AUTH, 1 000 list rules
 * and every DNS-based policy on (answered by a local dnsmasq), against the same relay with all of it
 * off, reported as a ratio (target: policies on within 20% of off).
 *
 *   npx tsx test/bench/policies-throughput.ts [--messages 2000] [--sessions 20] [--size 1024]
 *       [--rounds 3] [--per-connection-messages 200] [--json FILE] [--relay-bundle dist/mailrelay.mjs]
 *       [--profile DIR]   (V8 CPU profiles of the relay processes)
 *       [--scrypt-n N]    (cost of the benchmark user's hash; default: the user store's, N=16384)
 *
 * Both runs use the built bundle, a plain-text listener, Postfix's smtp-sink as next hop, and the same
 * client: `--sessions` concurrent connections from distinct loopback addresses (127.0.0.100…), one
 * command, one reply. Three kinds of traffic:
 * - "submission": connections opened and logged in (AUTH PLAIN) before the clock starts, each sending
 *   its share of `--messages` to a remote domain — what the policies cost per message;
 * - "inbound": a new connection per message from an untrusted client to a relay domain, as an MX
 *   gateway sees it — every connection pays reverse DNS with forward confirmation, two DNSBL zones,
 *   the HELO checks, the sender checks and the list rules at every stage;
 * - "submission, login per message": a new connection and login per message. Every login costs one
 *   scrypt hash (the user store's cost, N=16384 by default) by design; reported, not part of the target.
 * Policies off: AUTH off, the clients trusted (so submission may relay), nothing checked. Policies on:
 * only 127.0.0.1 trusted, AUTH on (requireTls off so both runs stay plain text, sender must match
 * login), 1 000 list rules over every criterion, every sender, connection and advanced check with
 * DNS, generous rate limits. Unauthorized pipelining stays off: its greeting pause (1 s for untrusted
 * clients) is a deliberate delay, not a throughput cost. The relay caches DNS answers for 30 s.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserStore } from '../../server/users/user-store.ts';
import { startDnsServer, type DnsRecord, type DnsServer } from '../support/dns-server.ts';
import { freePort } from '../support/free-port.ts';
import { waitForSmtpGreeting } from '../support/postfix.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

const USAGE =
  'usage: npx tsx test/bench/policies-throughput.ts [--messages N] [--sessions N] [--size BYTES] [--rounds N] ' +
  '[--per-connection-messages N] [--json FILE] [--relay-bundle FILE] [--profile DIR] [--scrypt-n N]';

interface Options {
  messages: number;
  sessions: number;
  size: number;
  rounds: number;
  perConnectionMessages: number;
  json: string | undefined;
  bundle: string;
  /** Write V8 CPU profiles of the relay processes here. */
  profileDir: string | undefined;
  /** scrypt N of the benchmark user's hash (default: the user store's own cost). */
  scryptN: number | undefined;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    messages: 2000,
    sessions: 20,
    size: 1024,
    rounds: 3,
    perConnectionMessages: 200,
    json: undefined,
    profileDir: undefined,
    scryptN: undefined,
    bundle: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/mailrelay.mjs'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const num = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a positive integer\n${USAGE}`);
      return n;
    };
    if (a === '--messages') o.messages = num();
    else if (a === '--sessions') o.sessions = Math.min(num(), 100);
    else if (a === '--size') o.size = num();
    else if (a === '--rounds') o.rounds = num();
    else if (a === '--per-connection-messages') o.perConnectionMessages = num();
    else if (a === '--json') o.json = value();
    else if (a === '--relay-bundle') o.bundle = path.resolve(value());
    else if (a === '--profile') o.profileDir = path.resolve(value());
    else if (a === '--scrypt-n') o.scryptN = num();
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

const clientIp = (i: number) => `127.0.0.${100 + i}`;
const SENDER = 'bench@sender.bench.test';
const RECIPIENT = 'rcpt@dest.bench.test';
const INBOUND_RECIPIENT = 'user@inbound.bench.test';
const USER = { name: 'bench@sender.bench.test', password: 'bench-password-1' };

function dnsRecords(sessions: number): DnsRecord[] {
  return [
    ...Array.from({ length: sessions }, (_, i): DnsRecord => ({ type: 'A', name: `c${i}.clients.bench.test`, address: clientIp(i) })),
    { type: 'A', name: 'client.bench.test', address: '127.0.0.99', ptr: false },
    { type: 'MX', name: 'sender.bench.test', exchange: 'mx.sender.bench.test', priority: 10 },
    { type: 'A', name: 'mx.sender.bench.test', address: '127.0.0.98', ptr: false },
    { type: 'MX', name: 'dest.bench.test', exchange: 'mx.dest.bench.test', priority: 10 },
    { type: 'A', name: 'mx.dest.bench.test', address: '127.0.0.97', ptr: false },
  ];
}

/** 1 000 rules over every criterion, none matching the benchmark's traffic. */
function thousandRules(): unknown[] {
  const criteria = ['clientIp', 'clientHostname', 'helo', 'senderAddress', 'senderDomain', 'recipientAddress', 'recipientDomain'] as const;
  return Array.from({ length: 1000 }, (_, i) => {
    const criterion = criteria[i % criteria.length]!;
    const value =
      criterion === 'clientIp'
        ? i % 3 === 0
          ? `10.${i % 256}.${Math.floor(i / 256)}.0/24`
          : `192.168.${i % 256}.*`
        : criterion === 'senderAddress' || criterion === 'recipientAddress'
          ? i % 2 === 0
            ? `user${i}@blocked${i}.example`
            : `spam${i}-*@*.example`
          : i % 2 === 0
            ? `*.blocked${i}.example`
            : `host${i}.blocked.example`;
    return { name: `rule ${i}`, type: 'block', action: i % 4 === 0 ? 'discard' : 'reject', criterion, value };
  });
}

function relayConfig(port: number, sinkPort: number, dns: DnsServer, policies: boolean): unknown {
  const base = {
    listeners: [{ name: 'smtp', host: '127.0.0.1', port, tls: 'none' }],
    general: { profile: { domain: 'relay.bench.test', hostname: 'relay.bench.test' } },
    delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sinkPort, security: 'none' } },
    dns: { external: [dns.address], internal: [dns.address] },
  };
  const relayDomains = [{ name: 'inbound', domain: 'inbound.bench.test', nextHop: `127.0.0.1:${sinkPort}` }];
  if (!policies) return { ...base, relayControl: { trustedNetworks: [{ name: 'loopback', network: '127.0.0.0/8' }], relayDomains } };
  return {
    ...base,
    general: { ...base.general, auth: { enabled: true, requireTls: false, senderMustMatchLogin: true } },
    relayControl: { trustedNetworks: [{ name: 'this host', network: '127.0.0.1/32' }], relayDomains },
    security: {
      lists: thousandRules(),
      senderPolicy: { rejectNonFqdnSender: true, rejectUnknownSenderDomain: true, rejectUnauthenticatedLocalSender: true },
      connectionPolicy: {
        rejectUnknownClientHostname: true,
        rejectUnknownReverseClientHostname: true,
        maxConnectionsPerClient: 1000,
        connectionRateLimit: { count: 1_000_000, perSeconds: 60 },
        messageRateLimit: { count: 1_000_000, perSeconds: 60 },
        maxErrorsPerSession: 10,
      },
      advanced: {
        requireHelo: true,
        rejectInvalidHelo: true,
        rejectNonFqdnHelo: true,
        rejectUnknownHeloHostname: true,
        rejectNonFqdnRecipient: true,
        rejectUnknownRecipientDomain: true,
        dnsblZones: ['zen.bench.test', 'bl.bench.test'],
        dnsblThreshold: 1,
      },
    },
  };
}

interface RunningRelay {
  port: number;
  stop(): Promise<void>;
}

async function startRelay(o: Options, sink: SmtpSink, dns: DnsServer, policies: boolean): Promise<RunningRelay> {
  const tmp = makeTempDir('relaydesk-bench-policies-');
  const dataDir = path.join(tmp.path, 'data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const configFile = path.join(tmp.path, 'config.json');
  writeFileSync(configFile, JSON.stringify(relayConfig(port, sink.port, dns, policies), null, 2));
  if (policies) {
    // Through the store API, with its default (production) scrypt cost unless --scrypt-n says otherwise.
    const users = await UserStore.open(path.join(dataDir, 'users.json'), o.scryptN ? { scrypt: { N: o.scryptN, r: 8, p: 1 } } : {});
    await users.add(USER.name, USER.password);
  }
  const logFd = openSync(path.join(tmp.path, 'relay.out'), 'a');
  const profile = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir, '--cpu-prof-name', `relay-policies-${policies ? 'on' : 'off'}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, o.bundle, 'serve', '--data-dir', dataDir, '--config', configFile], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exited = `relay exited (${signal ?? code})`), resolve())));
  const stop = async () => {
    if (exited === undefined) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
    tmp.remove();
  };
  try {
    await waitForSmtpGreeting('127.0.0.1', port, 20_000, () => exited);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}

/** One SMTP connection: one command, one reply. */
class Client {
  private buf = '';
  private waiter: ((line: string) => void) | null = null;
  private failure: Error | null = null;
  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.drain();
    });
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(port: number, localAddress: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port, localAddress });
      sock.once('connect', () => resolve(new Client(sock)));
      sock.once('error', reject);
    });
  }

  async expect(code: number, line?: string): Promise<void> {
    if (line !== undefined) this.sock.write(`${line}\r\n`);
    const reply = await new Promise<string>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiter = resolve;
      this.drain();
    });
    if (!reply.startsWith(String(code))) throw new Error(`expected ${code} after ${line?.slice(0, 40) ?? 'connect'}, got: ${reply}`);
  }

  quit(): void {
    this.sock.end('QUIT\r\n');
    setTimeout(() => this.sock.destroy(), 1000).unref();
  }

  private drain(): void {
    if (!this.waiter) return;
    const m = /^(\d{3}) [^\n]*\n/m.exec(this.buf);
    if (!m) return;
    this.buf = this.buf.slice(m.index + m[0].length);
    const w = this.waiter;
    this.waiter = null;
    w(m[0].trim());
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = null;
    if (w) w(`000 ${err.message}`);
  }
}

function messageData(size: number, n: number, to: string): string {
  const line = 'x'.repeat(70);
  const body: string[] = [];
  for (let left = size; left > 0; left -= 72) body.push(line.slice(0, Math.max(1, left - 2)));
  return [`From: <${SENDER}>`, `To: <${to}>`, `Subject: bench ${n}`, `Message-ID: <bench-${n}-${Date.now()}@bench.test>`, '', ...body, '.'].join('\r\n');
}

async function openSession(port: number, i: number, login: boolean): Promise<Client> {
  const c = await Client.open(port, clientIp(i));
  await c.expect(220);
  await c.expect(250, 'EHLO client.bench.test');
  if (login) await c.expect(235, `AUTH PLAIN ${Buffer.from(`\0${USER.name}\0${USER.password}`).toString('base64')}`);
  return c;
}

async function sendOne(c: Client, size: number, n: number, to: string): Promise<void> {
  await c.expect(250, `MAIL FROM:<${SENDER}>`);
  await c.expect(250, `RCPT TO:<${to}>`);
  await c.expect(354, 'DATA');
  await c.expect(250, messageData(size, n, to));
}

/** Accepted messages per second: `messages` over `sessions` concurrent clients. */
async function measure(port: number, o: Options, login: boolean, messages: number, perMessage: boolean, to = RECIPIENT): Promise<number> {
  let next = 0;
  // Persistent sessions are opened (and logged in) before the clock starts: that mode measures what
  // each message costs; the per-message mode measures everything a connection costs.
  const opened = perMessage ? [] : await Promise.all(Array.from({ length: o.sessions }, (_, i) => openSession(port, i, login)));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.sessions }, async (_, i) => {
      let c: Client | null = perMessage ? null : opened[i]!;
      for (let n = next++; n < messages; n = next++) {
        c ??= await openSession(port, i, login);
        await sendOne(c, o.size, n, to);
        if (perMessage) {
          c.quit();
          c = null;
        }
      }
      c?.quit();
    }),
  );
  return messages / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(o.bundle)) throw new Error(`${path.relative(process.cwd(), o.bundle)} not found: run \`npm run build:relay\` first`);
  const dns = await startDnsServer({ records: dnsRecords(o.sessions), localDomains: ['test', 'in-addr.arpa', 'ip6.arpa'] });
  const sink = await startSmtpSink();
  const empty = () => ({ submission: [] as number[], inbound: [] as number[], loginEach: [] as number[] });
  const results = { off: empty(), on: empty() };
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        const relay = await startRelay(o, sink, dns, mode === 'on');
        try {
          const login = mode === 'on';
          const r = results[mode];
          await measure(relay.port, o, login, Math.min(200, o.messages), false); // warm-up (JIT, caches, spool dirs)
          r.submission.push(await measure(relay.port, o, login, o.messages, false));
          r.inbound.push(await measure(relay.port, o, false, o.messages, true, INBOUND_RECIPIENT));
          r.loginEach.push(await measure(relay.port, o, login, o.perConnectionMessages, true));
          console.error(
            `round ${round + 1}/${o.rounds} policies ${mode}: submission ${r.submission.at(-1)!.toFixed(0)}, inbound ${r.inbound.at(-1)!.toFixed(0)}, login per message ${r.loginEach.at(-1)!.toFixed(0)} msg/s`,
          );
        } finally {
          await relay.stop();
        }
      }
    }
  } finally {
    await sink.stop();
    await dns.stop();
  }
  const row = (name: string, off: number, on: number) => `| ${name.padEnd(40)} | ${off.toFixed(0).padStart(6)} | ${on.toFixed(0).padStart(6)} | ${((on / off) * 100).toFixed(0).padStart(5)}% |`;
  const m = (mode: 'off' | 'on', k: keyof ReturnType<typeof empty>) => median(results[mode][k]);
  console.log(`Accept throughput, msg/s (median of ${o.rounds}; ${o.sessions} sessions, ${o.size} B messages)\n`);
  console.log(`| ${'traffic'.padEnd(40)} |    off |     on | on/off |`);
  console.log(`|${'-'.repeat(42)}|--------|--------|--------|`);
  console.log(row(`submission, persistent (${o.messages} msgs)`, m('off', 'submission'), m('on', 'submission')));
  console.log(row(`inbound, connection per msg (${o.messages})`, m('off', 'inbound'), m('on', 'inbound')));
  console.log(row(`submission, login per msg (${o.perConnectionMessages})`, m('off', 'loginEach'), m('on', 'loginEach')));
  for (const k of ['submission', 'inbound'] as const) {
    const ratio = m('on', k) / m('off', k);
    console.log(`${k}: policies on ${ratio >= 0.8 ? 'within' : 'NOT within'} 20% of off (${((1 - ratio) * 100).toFixed(1)}% slower)`);
  }
  console.log('login per msg: every connection pays one scrypt verification (user store cost), outside the 20% target.');
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: { ...o, bundle: undefined }, results }, null, 2));
}

main().catch((err: Error) => {
  console.error(`policies-throughput: ${err.message}`);
  process.exitCode = 1;
});
