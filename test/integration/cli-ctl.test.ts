/**
 * `mailrelay ctl` end to end (the bundle against a running relay): results as JSON, errors as
 * `CODE: message` with exit 1, params from argv or stdin, a live log stream that ends on Ctrl-C,
 * and a help text built from the method table.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHODS, methodNames } from '../../server/protocol/index.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE, startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { swaks } from '../support/swaks.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelayProcess({
    tls: 'none',
    config: { delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: await freePort(), security: 'none' } }, queue: { retrySchedule: ['1h'] } },
  });
  await swaks({ server: '127.0.0.1', port: relay.port, from: 'app@corp.example', to: 'bob@example.com' });
  await relay.waitForCount('deferred', 1);
});

afterAll(async () => {
  await relay?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ctl(args: string[], opts: { stdin?: string; dataDir?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RELAY_BUNDLE, 'ctl', '--data-dir', opts.dataDir ?? relay.dataDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

describe('mailrelay ctl', () => {
  it('prints the result as pretty JSON', async () => {
    const r = await ctl(['status']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({ pid: relay.child.pid, queue: { deferred: 1, total: 1 } });
    expect(r.stdout).toContain('\n  "version": ');

    const list = JSON.parse((await ctl(['queue.list', '{"state":"deferred","filter":{"domain":"example.com"}}'])).stdout);
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ sender: 'app@corp.example', recipients: ['bob@example.com'] });
  });

  it('reads the params from stdin with "-"', async () => {
    const config = JSON.parse((await ctl(['config.get'])).stdout).config;
    const r = await ctl(['config.validate', '-'], { stdin: JSON.stringify({ config: { ...config, listeners: [] } }) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, issues: [{ path: 'listeners', message: expect.stringContaining('at least one listener') }] });
  });

  it('fails with CODE: message, the issues, and exit 1', async () => {
    const notFound = await ctl(['queue.show', '{"id":"0000000000ff-0000000000"}']);
    expect(notFound).toMatchObject({ code: 1, stdout: '' });
    expect(notFound.stderr).toMatch(/^NOT_FOUND: message 0000000000ff-0000000000 is not in the queue/);

    const invalid = await ctl(['config.apply', '{"config":{"queue":{"maxLifetimeHours":-1}},"baseRevision":"x"}']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^INVALID_PARAMS: invalid params for config\.apply/);
    expect(invalid.stderr).toMatch(/\n {2}config\.queue\.maxLifetimeHours: /);

    const down = makeTempDir('rd-ctl-down-');
    try {
      const r = await ctl(['status'], { dataDir: path.join(down.path, 'data') });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^UNAVAILABLE: cannot connect to the control socket .*: the relay is not running\n$/);
    } finally {
      down.remove();
    }
  });

  it('refuses bad command lines before connecting', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /give a method/],
      [['no.such'], /unknown method "no\.such"/],
      [['auth'], /"auth" is done by ctl itself/],
      [['status', '{oops'], /the params are not valid JSON/],
      [['status', '[1]'], /the params must be a JSON object/],
      [['queue.show', '{"id":"x"}', 'extra'], /unexpected argument "extra"/],
    ];
    for (const [args, message] of cases) {
      const r = await ctl(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('streams logs.subscribe until Ctrl-C', async () => {
    const child = spawn(process.execPath, [RELAY_BUNDLE, 'ctl', '--data-dir', relay.dataDir, 'logs.subscribe', '{"filter":{"event":"queued"}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // ctl prints nothing until a line arrives: send mail until the first one comes through.
    let lastReply = '';
    await waitFor('a queued line on the stream', async () => {
      if (child.exitCode !== null) throw new Error(`ctl exited with ${child.exitCode}: ${err}`);
      lastReply = (await swaks({ server: '127.0.0.1', port: relay.port, from: 'live@corp.example', to: 'carol@example.com' })).lastReply;
      return out.includes('live@corp.example');
    }).catch((e: Error) => {
      throw new Error(`${e.message}; ctl stdout: ${out.slice(0, 300)}; stderr: ${err}; last SMTP reply: ${lastReply}`);
    });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => l.event === 'queued')).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('--help lists every method with its doc line', async () => {
    const r = await ctl(['--help']);
    expect(r.code).toBe(0);
    for (const name of methodNames.filter((n) => n !== 'auth')) {
      expect(r.stdout).toMatch(new RegExp(`\\n  ${name.replace('.', '\\.')} +(\\[write\\] )?${METHODS[name].doc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    }
    expect(r.stdout).not.toMatch(/\n {2}auth /);
  });
});
