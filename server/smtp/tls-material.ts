/**
 * The certificate and key the listeners present. Configured files are read as they are; without
 * them a self-signed pair is generated once into DIR/tls/ and reused, so clients that pin it keep
 * working across restarts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { RelayConfig } from '../config/schema.ts';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** Where they came from, for the start-up log. */
  source: 'config' | 'generated';
}

export class TlsMaterialError extends Error {}

export async function loadTlsMaterial(config: RelayConfig, dataDir: string): Promise<TlsMaterial> {
  if (config.tls) {
    const read = async (file: string, key: string) => {
      try {
        return await fs.readFile(file);
      } catch (err) {
        throw new TlsMaterialError(`tls.${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    return { cert: await read(config.tls.certFile, 'certFile'), key: await read(config.tls.keyFile, 'keyFile'), source: 'config' };
  }
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  try {
    return { cert: await fs.readFile(certFile), key: await fs.readFile(keyFile), source: 'generated' };
  } catch {
    // first start: fall through and make a pair
  }
  const host = config.general.profile.hostname;
  const pems = await generate([{ name: 'commonName', value: host }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 3650 * 86_400_000),
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: host }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(keyFile, pems.private, { mode: 0o600 });
  await fs.writeFile(certFile, pems.cert, { mode: 0o644 });
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), source: 'generated' };
}
