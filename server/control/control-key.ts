/**
 * The control key and the handshake maths (SPEC §1.7). `DIR/control.key` holds 32 random bytes as
 * hex (mode 0600, made on first start) and grants write sessions; an optional
 * `DIR/control-read.key` in the same format, made by an administrator, grants read-only sessions.
 * Keys never travel: both ends MAC the two nonces and the server compares in constant time.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ControlError, authMessage, type Permission } from '../protocol/index.ts';

/** File names in DIR of the write key and the optional read-only key. */
export const CONTROL_KEY_FILE = 'control.key';
export const CONTROL_READ_KEY_FILE = 'control-read.key';
const SOCKET_FILE = 'control.sock';

/** A key and the permission a session authenticated with it gets. */
export interface ControlKey {
  key: Buffer;
  permission: Permission;
}

/** The control socket's path: `DIR/control.sock`, or on Windows a named pipe derived from DIR. */
export function controlSocketPath(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    const hash = createHash('sha256').update(path.win32.resolve(dataDir).toLowerCase()).digest('hex').slice(0, 16);
    return `\\\\.\\pipe\\mailrelay-${hash}`;
  }
  return path.join(dataDir, SOCKET_FILE);
}

/** 32 random bytes as hex: a nonce. */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

/** hex(HMAC-SHA256(key, "relaydesk-control-v1\n" + serverNonce + "\n" + clientNonce)). */
export function computeMac(key: Buffer, serverNonce: string, clientNonce: string): string {
  return createHmac('sha256', key).update(authMessage(serverNonce, clientNonce), 'utf8').digest('hex');
}

/** Constant-time check of a client's MAC (inputs already validated as 64 hex digits). */
export function macMatches(key: Buffer, serverNonce: string, clientNonce: string, mac: string): boolean {
  const expected = Buffer.from(computeMac(key, serverNonce, clientNonce), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function parseKey(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ControlError('UNAUTHENTICATED', `${file} is not a control key (expected 64 hex digits); delete it and restart the relay to make a new one`);
  }
  return Buffer.from(hex, 'hex');
}

/**
 * The server side: read `DIR/control.key`, creating it (0600) on first start; tighten a key file
 * that others may read. Also loads `DIR/control-read.key` when present.
 */
export async function loadServerKeys(dataDir: string): Promise<ControlKey[]> {
  const file = path.join(dataDir, CONTROL_KEY_FILE);
  const keys: ControlKey[] = [{ key: await ensureKeyFile(file), permission: 'write' }];
  const readFile = path.join(dataDir, CONTROL_READ_KEY_FILE);
  const readKey = await fs.readFile(readFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (readKey !== null) keys.push({ key: parseKey(readKey, readFile), permission: 'read' });
  return keys;
}

async function ensureKeyFile(file: string): Promise<Buffer> {
  try {
    const fh = await fs.open(file, 'wx', 0o600);
    try {
      await fh.writeFile(`${randomBytes(32).toString('hex')}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (process.platform !== 'win32') {
    const st = await fs.stat(file);
    if ((st.mode & 0o077) !== 0) await fs.chmod(file, 0o600);
  }
  return parseKey(await fs.readFile(file, 'utf8'), file);
}

/**
 * The client side (ctl, dial-stdio, the local app): the write key if this user can read it, else the
 * read-only key. The error names the file and says what to do.
 */
export async function readClientKey(dataDir: string): Promise<ControlKey> {
  const file = path.join(dataDir, CONTROL_KEY_FILE);
  let firstError: NodeJS.ErrnoException;
  try {
    return { key: parseKey(await fs.readFile(file, 'utf8'), file), permission: 'write' };
  } catch (err) {
    if (err instanceof ControlError) throw err;
    firstError = err as NodeJS.ErrnoException;
  }
  const readFile = path.join(dataDir, CONTROL_READ_KEY_FILE);
  try {
    return { key: parseKey(await fs.readFile(readFile, 'utf8'), readFile), permission: 'read' };
  } catch (err) {
    if (err instanceof ControlError) throw err;
  }
  const why =
    firstError.code === 'ENOENT'
      ? 'it does not exist (has the relay ever started with this data dir?)'
      : firstError.code === 'EACCES'
        ? "permission denied (run this as the relay's user)"
        : firstError.message;
  throw new ControlError('UNAUTHENTICATED', `cannot read the control key ${file}: ${why}`);
}
