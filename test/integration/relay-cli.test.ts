/**
 * `mailrelay serve` and `check` as a user meets them: one clear line for a bad config, a port in
 * use or an unwritable data dir, and a non-zero exit; a default config written on first start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { RELAY_BUNDLE, startRelayProcess } from '../support/relay-process.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { swaks } from '../support/swaks.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { freePort } from '../support/free-port.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_BUNDLE, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('mailrelay CLI (bundle)', () => {
  it('check lists every problem with its key path and exits 1', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const file = path.join(dir.path, 'bad.json');
    writeFileSync(file, JSON.stringify({ listeners: [{ port: 0 }], general: { profile: { hostname: 'no such host!' } }, bogus: 1 }));
    const r = await run(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('listeners[0].port: must be a port from 1 to 65535');
    expect(r.stderr).toContain('general.profile.hostname: is not a valid host or domain name');
    expect(r.stderr).toMatch(/\(root\): unknown key \(bogus\)/);
    const ok = path.join(dir.path, 'ok.json');
    writeFileSync(ok, '{}');
    expect((await run(['check', '--config', ok])).code).toBe(0);
  });

  it('serve refuses a bad config with one line naming the file and key, exit non-zero', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const file = path.join(dir.path, 'config.json');
    writeFileSync(file, JSON.stringify({ queue: { maxLifetimeHours: -1 } }));
    const r = await run(['serve', '--data-dir', dir.path, '--config', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/config\.json: queue\.maxLifetimeHours: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('serve names the port when it is in use', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const file = path.join(dir.path, 'config.json');
    writeFileSync(file, JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port }] }));
    const r = await run(['serve', '--data-dir', dir.path, '--config', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
  });

  it('serve names an unusable data dir', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const notADir = path.join(dir.path, 'file');
    writeFileSync(notADir, 'x');
    const r = await run(['serve', '--data-dir', notADir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`data dir ${notADir}: not writable`);
  });

  it('serve with only --data-dir uses DIR/config.json (keys left out take defaults) and generates a certificate', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const port = await freePort();
    writeFileSync(path.join(dir.path, 'config.json'), JSON.stringify({ listeners: [{ name: 'smtp', host: '127.0.0.1', port }] }));
    const child = spawn(process.execPath, [RELAY_BUNDLE, 'serve', '--data-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM')))));
    const greeting = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (!d.toString().includes('"event":"start"')) return;
        const s = net.connect(port, '127.0.0.1');
        s.once('data', (g) => (s.end(), resolve(g.toString())));
        s.once('error', reject);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(greeting).toMatch(/^220 localhost\.localdomain ESMTP/);
    expect(existsSync(path.join(dir.path, 'tls', 'cert.pem'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir.path, 'config.json'), 'utf8'))).toEqual({ listeners: [{ name: 'smtp', host: '127.0.0.1', port }] });
  });

  it('prints help and version', async () => {
    const help = await run(['--help']);
    expect(help.stdout).toMatch(/Usage: mailrelay <command>/);
    expect((await run(['serve', '--help'])).stdout).toMatch(/Usage: mailrelay serve/);
    const bad = await run(['frobnicate']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('mailrelay from a checkout (npx mailrelay serve: the TypeScript through tsx)', () => {
  // The bundle and tsx transpile differently (tsx keeps function names with a helper), and the
  // spool's file thread runs from source text: this is where a difference would show.
  it('takes a message with 250 and delivers it to the relay host', async () => {
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const relay = await startRelayProcess({
      entry: 'checkout',
      tls: 'none',
      config: { delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } } },
    });
    cleanups.push(() => relay.stop());
    const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'app@corp.example', to: 'someone@far.example' });
    expect(r.exitCode).toBe(0);
    const [msg] = await sink.waitForMessages(1);
    expect(msg?.to).toEqual(['someone@far.example']);
    await relay.waitForLine((l) => l.event === 'delivered' && l.rcpt === 'someone@far.example', 'the delivered line');
  });
});
