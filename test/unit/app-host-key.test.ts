/** Host key fingerprints (checked against ssh-keygen's own output) and known_hosts lookups. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../electron/services/backoff.ts';
import { findKnownHostKeys, fingerprintOf, hostFieldMatches, hostKeyInfo, knownHostsName } from '../../electron/services/host-key.ts';
import { absoluteRemotePath, shCommand, shellPath } from '../../electron/services/remote-shell.ts';
import { SshConnection } from '../../electron/services/ssh-connection.ts';
import { makeTempDir } from '../support/temp-dir.ts';

function keypair(type: 'ed25519' | 'ecdsa' | 'rsa'): { line: string; blob: Buffer; fingerprint: string } {
  const dir = makeTempDir('hk-');
  try {
    const f = path.join(dir.path, 'k');
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', f]);
    const line = readFileSync(`${f}.pub`, 'utf8').trim();
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${f}.pub`]).toString().split(' ')[1]!;
    return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64'), fingerprint };
  } finally {
    dir.remove();
  }
}

describe('host key fingerprints', () => {
  it.each(['ed25519', 'ecdsa', 'rsa'] as const)('match ssh-keygen -l for %s', (type) => {
    const k = keypair(type);
    expect(fingerprintOf(k.blob)).toBe(k.fingerprint);
    expect(hostKeyInfo(k.blob).algorithm).toBe(k.line.split(' ')[0]);
  });
});

describe('known_hosts', () => {
  const k1 = keypair('ed25519');
  const k2 = keypair('ecdsa');
  const [alg1, b641] = k1.line.split(' ');
  const [alg2, b642] = k2.line.split(' ');

  it('names hosts like OpenSSH', () => {
    expect(knownHostsName('nas', 22)).toBe('nas');
    expect(knownHostsName('nas', 2222)).toBe('[nas]:2222');
  });

  it('finds plain, bracketed, wildcard and hashed entries; skips negated, revoked and CA lines', () => {
    const text = [
      '# comment',
      `nas.local,192.168.1.5 ${alg1} ${b641}`,
      `[nas.local]:2222 ${alg2} ${b642}`,
      `*.lan,!evil.lan ${alg1} ${b641}`,
      `@revoked nas.local ${alg2} ${b642}`,
      `@cert-authority *.local ${alg2} ${b642}`,
      `broken-line`,
      `nas.local ${alg2} ${b641}`, // algorithm does not match the blob: ignored
    ].join('\n');
    expect(findKnownHostKeys(text, 'nas.local', 22).map((k) => k.fingerprint)).toEqual([k1.fingerprint]);
    expect(findKnownHostKeys(text, '192.168.1.5', 22)).toHaveLength(1);
    expect(findKnownHostKeys(text, 'nas.local', 2222).map((k) => k.algorithm)).toEqual([alg2]);
    expect(findKnownHostKeys(text, 'box.lan', 22)).toHaveLength(1);
    expect(findKnownHostKeys(text, 'evil.lan', 22)).toHaveLength(0);
    expect(findKnownHostKeys(text, 'unknown', 22)).toHaveLength(0);
  });

  it('matches names hashed by ssh-keygen -H', () => {
    const dir = makeTempDir('kh-');
    try {
      const f = path.join(dir.path, 'known_hosts');
      writeFileSync(f, `nas.local ${alg1} ${b641}\n[10.0.0.2]:2200 ${alg2} ${b642}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore' });
      const text = readFileSync(f, 'utf8');
      expect(text).not.toContain('nas.local');
      expect(findKnownHostKeys(text, 'nas.local', 22).map((k) => k.fingerprint)).toEqual([k1.fingerprint]);
      expect(findKnownHostKeys(text, '10.0.0.2', 2200).map((k) => k.fingerprint)).toEqual([k2.fingerprint]);
      expect(findKnownHostKeys(text, 'nas.locam', 22)).toEqual([]);
      expect(hostFieldMatches('|1|bad', 'nas.local')).toBe(false);
    } finally {
      dir.remove();
    }
  });
});

describe('remote shell words', () => {
  it('expands ~ through $HOME and refuses anything outside the safe alphabet', () => {
    expect(shellPath('~/.local/share/mailrelay')).toBe('"$HOME"/.local/share/mailrelay');
    expect(shellPath('/srv/relay')).toBe('/srv/relay');
    expect(() => shellPath('/srv/a b')).toThrow(/unsafe/);
    expect(() => shellPath('/srv/$(x)')).toThrow(/unsafe/);
    expect(() => shCommand("echo 'x'")).toThrow(/single quotes/);
    expect(absoluteRemotePath('~/x', '/home/a/')).toBe('/home/a/x');
  });

  it('dials the relay with dial-stdio, falling back to a mailrelay on PATH, else exit 3', () => {
    const cmd = SshConnection.dialCommand({ installDir: '~/.local/lib/relaydesk', dataDir: '/srv/mail', nodePath: 'node' });
    expect(cmd).toMatch(/^sh -c '/);
    expect(cmd).toContain('B="$HOME"/.local/lib/relaydesk/mailrelay.mjs');
    expect(cmd).toContain('exec node "$B" dial-stdio --data-dir /srv/mail');
    expect(cmd).toContain('exec mailrelay dial-stdio --data-dir /srv/mail');
    expect(cmd).toContain('exit 3');
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, with bounded jitter', () => {
    const opts = { initialMs: 1000, maxMs: 8000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, opts, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(backoffDelay(0, opts, () => 0)).toBe(800);
    expect(backoffDelay(0, opts, () => 1)).toBe(1200);
  });
});
