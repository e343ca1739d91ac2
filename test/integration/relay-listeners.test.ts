/**
 * Listener TLS modes (none / starttls / implicit) and certificate files from the config, checked with
 * swaks against the real relay process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { freePort } from '../support/free-port.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { swaks } from '../support/swaks.ts';

let relay: RelayProcess;
let sink: SmtpSink;
let certDir: TempDir;
const ports = { plain: 0, starttls: 0, implicit: 0 };

beforeAll(async () => {
  sink = await startSmtpSink();
  certDir = makeTempDir('relay-cert-');
  const pems = await generate([{ name: 'commonName', value: 'cert-from-file.example' }], { keySize: 2048 });
  writeFileSync(path.join(certDir.path, 'cert.pem'), pems.cert);
  writeFileSync(path.join(certDir.path, 'key.pem'), pems.private);
  ports.plain = await freePort();
  ports.starttls = await freePort();
  ports.implicit = await freePort();
  relay = await startRelayProcess({
    port: ports.plain,
    config: {
      listeners: [
        { name: 'plain', host: '127.0.0.1', port: ports.plain, tls: 'none' },
        { name: 'submission', host: '127.0.0.1', port: ports.starttls, tls: 'starttls' },
        { name: 'smtps', host: '127.0.0.1', port: ports.implicit, tls: 'implicit' },
      ],
      tls: { certFile: path.join(certDir.path, 'cert.pem'), keyFile: path.join(certDir.path, 'key.pem') },
      delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } },
    },
  });
});

afterAll(async () => {
  await relay?.stop();
  await sink?.close();
  certDir?.remove();
});

describe('listeners (real relay process)', () => {
  it('a plain listener does not offer STARTTLS and accepts mail', async () => {
    const r = await swaks({ server: '127.0.0.1', port: ports.plain, from: 'a@x.example', to: 'b@far.example' });
    expect(r.transcript).not.toMatch(/STARTTLS/);
    expect(r.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
  });

  it('a starttls listener upgrades and presents the configured certificate', async () => {
    const r = await swaks({ server: '127.0.0.1', port: ports.starttls, from: 'a@x.example', to: 'b@far.example', tls: true });
    expect(r.transcript).toMatch(/220 [^\n]*Ready to start TLS|TLS started/i);
    expect(r.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
  });

  it('an implicit TLS listener speaks TLS from the first byte with the configured certificate', async () => {
    const cn = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: ports.implicit, rejectUnauthorized: false }, () => {
        const subject = s.getPeerCertificate().subject as unknown as { CN: string };
        s.end();
        resolve(subject.CN);
      });
      s.once('error', reject);
    });
    expect(cn).toBe('cert-from-file.example');
    const r = await swaks({ server: '127.0.0.1', port: ports.implicit, from: 'a@x.example', to: 'b@far.example', tlsOnConnect: true });
    expect(r.transcript).toMatch(/250 2\.0\.0 Ok: queued/);
    await sink.waitForMessages(3);
    const received = sink.messages.map((m) => /with (E?SMTPS?A?) id/.exec(m.body.toString())?.[1]);
    expect(received).toEqual(expect.arrayContaining(['ESMTP', 'ESMTPS']));
  });
});
