/**
 * `mailrelay user` end to end (the bundle): passwords from a pipe or typed at a terminal without
 * echo, never from argv; changes made while the relay runs are what its SMTP AUTH checks at once.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_BUNDLE, startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { swaks } from '../support/swaks.ts';

let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelayProcess({ tls: 'none', config: { general: { auth: { enabled: true, requireTls: false } } } });
});

afterAll(async () => {
  await relay?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mailrelay(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RELAY_BUNDLE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const user = (args: string[], stdin = '') => mailrelay(['user', ...args, '--data-dir', relay.dataDir], stdin);

async function authReply(name: string, password: string): Promise<string> {
  const r = await swaks({ server: '127.0.0.1', port: relay.port, from: 'scan@corp.example', to: 'someone@corp.example', auth: { user: name, password }, extra: ['--quit-after', 'AUTH'] });
  // swaks marks server lines with "<-" (or "<~" inside TLS); the AUTH answer is the one we want.
  const replies = r.transcript.split('\n').map((l) => l.replace(/^\s*<\S*\s+/, ''));
  return replies.find((l) => /^(235|535|454)[ -]/.test(l)) ?? r.lastReply;
}

describe('mailrelay user', () => {
  it('adds a user with extra sender addresses, password from stdin, and the running relay accepts it', async () => {
    const r = await user(['add', 'scanner', '--sender', 'scan@corp.example', '--sender', 'fax@corp.example'], 'pw-from-pipe\n');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('added user scanner (may also send as scan@corp.example, fax@corp.example)\n');
    const file = path.join(relay.dataDir, 'users.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain('pw-from-pipe');
    expect(await authReply('scanner', 'pw-from-pipe')).toMatch(/^235 /);
    expect(await authReply('scanner', 'wrong')).toMatch(/^535 /);

    const list = await user(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+ALSO SENDS AS\nscanner\s+scan@corp\.example, fax@corp\.example\n$/);
  });

  it('passwd replaces the password; remove takes the user away; both at once for the relay', async () => {
    await user(['add', 'printer'], 'old-pw\n');
    expect(await user(['passwd', 'printer'], 'new-pw\r\nignored second line\n')).toMatchObject({ code: 0, stdout: 'password of printer changed\n' });
    expect(await authReply('printer', 'new-pw')).toMatch(/^235 /);
    expect(await authReply('printer', 'old-pw')).toMatch(/^535 /);
    expect(await user(['remove', 'printer'])).toMatchObject({ code: 0, stdout: 'removed user printer\n' });
    expect(await authReply('printer', 'new-pw')).toMatch(/^535 /);
  });

  it('asks twice without echo when standard input is a terminal', async () => {
    // `script` gives the command a pseudo-terminal; type only once each prompt is there.
    const child = spawn('script', ['-qfec', `${process.execPath} ${RELAY_BUNDLE} user add typist --data-dir ${relay.dataDir}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const prompts: Array<[RegExp, string]> = [
      [/Password: /, 'typed-secret\r'],
      [/Retype password: /, 'typed-secret\r'],
    ];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const next = prompts[0];
      if (next && next[0].test(out.slice(out.lastIndexOf('\n') + 1))) {
        prompts.shift();
        child.stdin.write(next[1]);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(out).toContain('added user typist');
    expect(out).not.toContain('typed-secret');
    expect(await authReply('typist', 'typed-secret')).toMatch(/^235 /);
  });

  it('refuses what it cannot do with one clear line and exit 1', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['add', 'scanner'], 'x\n', /user "scanner" already exists/],
      [['add', 'argv-user', 'secret-on-argv'], 'x\n', /unexpected argument .*never given on the command line/],
      [['add'], 'x\n', /give the user name/],
      [['add', 'nopass'], '', /no password on standard input/],
      [['remove', 'ghost'], '', /no user "ghost"/],
      [['passwd', 'ghost'], 'x\n', /no user "ghost"/],
      [['list', 'ghost'], '', /no user "ghost"/],
      [['frobnicate'], '', /unknown action "frobnicate"/],
      [['remove', 'scanner', '--sender', 'a@b.example'], '', /--sender only goes with "add"/],
      [['add', 'badsender', '--sender', 'not-an-address'], 'x\n', /must be an e-mail address/],
    ];
    for (const [args, stdin, message] of cases) {
      const r = await user(args, stdin);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect((await user(['list'])).stdout).not.toMatch(/argv-user|nopass|badsender/);
  });

  it('documents itself', async () => {
    const r = await mailrelay(['user', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/add NAME \[--sender ADDR\]/);
    expect(r.stdout).toMatch(/never taken from the command line/);
  });
});
