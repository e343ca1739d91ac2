/**
 * A real DNS server for tests: dnsmasq on 127.0.0.1 and a free high port, serving only the records
 * the test writes (no /etc/hosts, no upstream). Names under the `localDomains` (default: test,
 * in-addr.arpa, ip6.arpa) that have no record answer NXDOMAIN, or NODATA when the name has records
 * of other types. Two helpers stand in for broken DNS: a SERVFAIL upstream (answers every query
 * with SERVFAIL at once) and a silent one (never answers, so lookups time out).
 *
 * Record semantics worth knowing (dnsmasq's):
 * - A/AAAA records are dnsmasq `host-record`s: they also answer the reverse (PTR) query for their
 *   address, unless an explicit PTR record for that address exists (explicit wins). Use
 *   `ptr: false` for an address record without PTR (served as a raw `dns-rr`; other record types
 *   at that name then answer NXDOMAIN rather than NODATA), e.g. for DNSBL entries.
 * - An MX with exchange "." is a null MX (RFC 7505).
 *
 * dnsmasq drops root privileges to "nobody" by itself after reading its config; nothing to pass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';
import { waitFor } from './wait-for.ts';

export type DnsRecord =
  | { type: 'A'; name: string; address: string; ptr?: boolean }
  | { type: 'AAAA'; name: string; address: string; ptr?: boolean }
  | { type: 'MX'; name: string; exchange: string; priority: number }
  /** Reverse record for `ip` (or a full `name` like "4.0.0.127.in-addr.arpa"). */
  | { type: 'PTR'; ip?: string; name?: string; target: string }
  | { type: 'TXT'; name: string; text: string | string[] }
  | { type: 'CNAME'; name: string; target: string }
  /** The name and everything below it answers SERVFAIL. */
  | { type: 'SERVFAIL'; name: string }
  /** The name and everything below it never answers (lookups time out). */
  | { type: 'TIMEOUT'; name: string };

export interface DnsServerOptions {
  records: DnsRecord[];
  /** Zones answered only from `records` (NXDOMAIN for unknown names). */
  localDomains?: string[];
  /** Log every query to the captured output (see `output()`). */
  logQueries?: boolean;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:PORT", as `dns.internal` / `dns.external` config entries take it. */
  readonly address: string;
  /** A node:dns Resolver pointed at this server (short timeout, one try). */
  resolver(timeoutMs?: number): dnsPromises.Resolver;
  /** dnsmasq's stderr so far (startup messages, query log). */
  output(): string;
  stop(): Promise<void>;
}

/** The in-addr.arpa / ip6.arpa name of an IP address. */
export function reverseName(ip: string): string {
  if (net.isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const full = expandIPv6(ip);
  return `${full.replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
}

function expandIPv6(ip: string): string {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

function ipHex(ip: string): string {
  if (net.isIPv4(ip)) return ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  return expandIPv6(ip).replace(/:/g, '');
}

function quoteTxt(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The dnsmasq config lines for `records` (exported for tests of this helper). */
export function configLines(records: DnsRecord[], upstream: { servfail: number; silent: number }): string[] {
  const lines: string[] = [];
  for (const r of records) {
    switch (r.type) {
      case 'A':
      case 'AAAA':
        lines.push(r.ptr === false ? `dns-rr=${r.name},${r.type === 'A' ? 1 : 28},${ipHex(r.address)}` : `host-record=${r.name},${r.address}`);
        break;
      case 'MX':
        lines.push(`mx-host=${r.name},${r.exchange},${r.priority}`);
        break;
      case 'PTR':
        lines.push(`ptr-record=${r.name ?? reverseName(r.ip ?? '')},${r.target}`);
        break;
      case 'TXT':
        lines.push(`txt-record=${r.name},${(Array.isArray(r.text) ? r.text : [r.text]).map(quoteTxt).join(',')}`);
        break;
      case 'CNAME':
        lines.push(`cname=${r.name},${r.target}`);
        break;
      case 'SERVFAIL':
        lines.push(`server=/${r.name}/127.0.0.1#${upstream.servfail}`);
        break;
      case 'TIMEOUT':
        lines.push(`server=/${r.name}/127.0.0.1#${upstream.silent}`);
        break;
      default:
        throw new Error(`unknown record ${JSON.stringify(r satisfies never)}`);
    }
  }
  return lines;
}

/** Start dnsmasq with `records`; always `stop()` it (e.g. in afterAll). */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const servfail = await startServfailUpstream();
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const dir = makeTempDir('relaydesk-dns-');
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(opts, dir, servfail, silent);
      } catch (err) {
        // The port was free for TCP when asked, but UDP or a racing test may have taken it.
        if (attempt >= 3 || !/Address already in use|exited/.test(String(err))) throw err;
      }
    }
  } catch (err) {
    servfail.close();
    silent.close();
    dir.remove();
    throw err;
  }
}

async function launch(opts: DnsServerOptions, dir: TempDir, servfail: dgram.Socket, silent: dgram.Socket): Promise<DnsServer> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const conf = path.join(dir.path, 'dnsmasq.conf');
  const local = (opts.localDomains ?? ['test', 'in-addr.arpa', 'ip6.arpa']).map((d) => `local=/${d}/`);
  const upstream = { servfail: servfail.address().port, silent: silent.address().port };
  writeFileSync(conf, [...configLines(opts.records, upstream), ...local, ''].join('\n'));
  const args = [
    '--no-daemon',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--conf-file=${conf}`,
    `--listen-address=${host}`,
    '--bind-interfaces',
    `--port=${port}`,
    `--pid-file=${path.join(dir.path, 'dnsmasq.pid')}`,
    '--cache-size=0',
    '--log-facility=-',
    ...(opts.logQueries ? ['--log-queries'] : []),
  ];
  const child: ChildProcess = spawn('/usr/sbin/dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const resolver = (timeoutMs = 1000): dnsPromises.Resolver => {
    const r = new dnsPromises.Resolver({ timeout: timeoutMs, tries: 1 });
    r.setServers([`${host}:${port}`]);
    return r;
  };
  const probe = resolver(200);
  try {
    await waitFor(`dnsmasq on ${host}:${port}`, async () => {
      if (exited) throw new Error(`dnsmasq exited: ${output.trim()}`);
      try {
        await probe.resolve4('readiness-probe.invalid');
        return true;
      } catch (err) {
        // Any DNS answer (NXDOMAIN, REFUSED) means it is serving; no answer means not yet.
        const code = (err as { code?: string }).code;
        return code !== 'ETIMEOUT' && code !== 'ECONNREFUSED';
      }
    }, 10_000, 20);
  } catch (err) {
    if (!exited) child.kill('SIGKILL');
    await exit;
    throw err;
  }

  return {
    host,
    port,
    address: `${host}:${port}`,
    resolver,
    output: () => output,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exit;
      clearTimeout(killer);
      servfail.close();
      silent.close();
      dir.remove();
    },
  };
}

/** A UDP "DNS server" that answers every query with SERVFAIL (header + question, RCODE 2). */
async function startServfailUpstream(): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    let end = 12;
    while (end < msg.length && msg[end] !== 0) end += msg[end]! + 1;
    end += 5; // root label + QTYPE + QCLASS
    const reply = Buffer.from(msg.subarray(0, Math.min(end, msg.length)));
    reply[2] = (reply[2]! | 0x80) & ~0x04; // QR=1, AA=0
    reply[3] = (reply[3]! & 0x70) | 0x02; // RA=0, RCODE=SERVFAIL
    reply.writeUInt16BE(1, 4);
    reply.writeUInt16BE(0, 6);
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return sock;
}
