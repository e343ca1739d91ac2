import { createHmac } from 'node:crypto';
import { statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { computeMac, controlSocketPath, loadServerKeys, macMatches, newNonce, readClientKey } from '../../server/control/control-key.ts';
import { AUTH_CONTEXT, authMessage } from '../../server/protocol/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

let tmp: TempDir | undefined;
afterEach(() => tmp?.remove());

describe('handshake maths', () => {
  const key = Buffer.alloc(32, 7);
  const serverNonce = 'a'.repeat(64);
  const clientNonce = 'b'.repeat(64);

  it('MACs "relaydesk-control-v1\\n" + server nonce + "\\n" + client nonce with HMAC-SHA256 in hex', () => {
    expect(authMessage(serverNonce, clientNonce)).toBe(`relaydesk-control-v1\n${serverNonce}\n${clientNonce}`);
    expect(AUTH_CONTEXT).toBe('relaydesk-control-v1');
    const expected = createHmac('sha256', key).update(`relaydesk-control-v1\n${serverNonce}\n${clientNonce}`).digest('hex');
    expect(computeMac(key, serverNonce, clientNonce)).toBe(expected);
    // A fixed vector, so a change of the construction is caught even if both sides change together.
    expect(computeMac(Buffer.alloc(32, 0), '0'.repeat(64), '1'.repeat(64))).toBe('5aaa40cc6c3a4b94a204981abc9c7b71d36c827b653814c8cf2a02413e774030');
  });

  it('accepts only the MAC for this key and these two nonces', () => {
    const mac = computeMac(key, serverNonce, clientNonce);
    expect(macMatches(key, serverNonce, clientNonce, mac)).toBe(true);
    expect(macMatches(Buffer.alloc(32, 8), serverNonce, clientNonce, mac)).toBe(false);
    expect(macMatches(key, 'c'.repeat(64), clientNonce, mac)).toBe(false); // replay into another session
    expect(macMatches(key, clientNonce, serverNonce, computeMac(key, clientNonce, serverNonce))).toBe(true);
    expect(macMatches(key, serverNonce, clientNonce, computeMac(key, clientNonce, serverNonce))).toBe(false); // nonces swapped
    expect(macMatches(key, serverNonce, clientNonce, '00')).toBe(false);
  });

  it('makes fresh 32-byte nonces', () => {
    const a = newNonce();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newNonce()).not.toBe(a);
  });
});

describe('control key files', () => {
  it('creates DIR/control.key once, 32 random bytes in hex, mode 0600', async () => {
    tmp = makeTempDir();
    const [k] = await loadServerKeys(tmp.path);
    const file = path.join(tmp.path, 'control.key');
    expect(readFileSync(file, 'utf8').trim()).toBe(k!.key.toString('hex'));
    expect(k!.key.length).toBe(32);
    expect(k!.permission).toBe('write');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [again] = await loadServerKeys(tmp.path);
    expect(again!.key.equals(k!.key)).toBe(true);
    expect((await readClientKey(tmp.path)).key.equals(k!.key)).toBe(true);
  });

  it('tightens a key file others could read, and refuses a malformed one', async () => {
    tmp = makeTempDir();
    const file = path.join(tmp.path, 'control.key');
    writeFileSync(file, `${'ab'.repeat(32)}\n`);
    chmodSync(file, 0o644);
    await loadServerKeys(tmp.path);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'short\n');
    await expect(loadServerKeys(tmp.path)).rejects.toThrow(/control\.key is not a control key/);
  });

  it('loads an optional read-only key, and clients fall back to it', async () => {
    tmp = makeTempDir();
    writeFileSync(path.join(tmp.path, 'control-read.key'), `${'cd'.repeat(32)}\n`);
    const keys = await loadServerKeys(tmp.path);
    expect(keys.map((k) => k.permission)).toEqual(['write', 'read']);
    const other = makeTempDir();
    try {
      writeFileSync(path.join(other.path, 'control-read.key'), `${'cd'.repeat(32)}\n`);
      expect((await readClientKey(other.path)).permission).toBe('read');
    } finally {
      other.remove();
    }
  });

  it('says what is wrong when no key can be read', async () => {
    tmp = makeTempDir();
    await expect(readClientKey(tmp.path)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/control\.key.*does not exist/) });
  });

  it('names the socket DIR/control.sock, or a per-dir named pipe on Windows', () => {
    expect(controlSocketPath('/var/lib/mailrelay', 'linux')).toBe('/var/lib/mailrelay/control.sock');
    const pipe = controlSocketPath('C:\\Users\\a\\AppData\\Local\\mailrelay', 'win32');
    expect(pipe).toMatch(/^\\\\\.\\pipe\\mailrelay-[0-9a-f]{16}$/);
    expect(controlSocketPath('c:\\users\\A\\appdata\\local\\MAILRELAY', 'win32')).toBe(pipe);
    expect(controlSocketPath('C:\\other', 'win32')).not.toBe(pipe);
  });
});
