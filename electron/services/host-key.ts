/**
 * SSH host keys: the SHA-256 fingerprint as OpenSSH prints it, and lookups in `known_hosts` (plain
 * and hashed host names, `[host]:port`, wildcards and negations; `@revoked` / `@cert-authority`
 * lines are not trust anchors for a plain host key and are skipped).
 */
import { createHash, createHmac } from 'node:crypto';
import type { HostKeyInfo } from '../ipc-contract.ts';

/** The key type named inside an SSH public key blob (e.g. "ssh-ed25519"). */
export function keyAlgorithm(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.toString('latin1', 4, 4 + len);
}

/** `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Algorithm and fingerprint of a host key blob. */
export function hostKeyInfo(blob: Buffer): HostKeyInfo {
  return { algorithm: keyAlgorithm(blob), fingerprint: fingerprintOf(blob) };
}

/** How a host appears in known_hosts: `host` for port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatches(entry: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** Whether a known_hosts host field (comma-separated patterns, or one hashed name) covers `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (!pattern) continue;
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (globToRegExp(p).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** A host key found in known_hosts. */
export interface KnownHostKey {
  algorithm: string;
  blob: Buffer;
  fingerprint: string;
}

/** Every plain host key that `text` (a known_hosts file) lists for `host` on `port`. */
export function findKnownHostKeys(text: string, host: string, port: number): KnownHostKey[] {
  const name = knownHostsName(host, port);
  const out: KnownHostKey[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const fields = line.split(/\s+/);
    if (fields.length < 3) continue;
    const [hosts, algorithm, base64] = fields as [string, string, string];
    if (!hostFieldMatches(hosts, name)) continue;
    const blob = Buffer.from(base64, 'base64');
    if (blob.length === 0 || keyAlgorithm(blob) !== algorithm) continue;
    out.push({ algorithm, blob, fingerprint: fingerprintOf(blob) });
  }
  return out;
}
