/**
 * One outbound transaction on a pooled session against a real smtp-server peer: whatever the outcome,
 * the message body (a file stream on the spool) is closed when the transaction is over — also when
 * nodemailer gives up before DATA without asking the server, which left the file open before.
 */
import { createReadStream, writeFileSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpClientPool, type SmtpClientPool } from '../../server/delivery/smtp-client-pool.ts';
import { runTransaction } from '../../server/delivery/smtp-transaction.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

let server: SMTPServer;
let port: number;
let pool: SmtpClientPool;
let tmp: TempDir;
let file: string;

beforeAll(async () => {
  tmp = makeTempDir();
  file = path.join(tmp.path, 'message');
  writeFileSync(file, `Subject: t\r\n\r\n${'x'.repeat(2000)}\r\n`);
  server = new SMTPServer({
    size: 100, // the peer announces SIZE 100: nodemailer refuses the 2 kB message before MAIL FROM
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo: (address, _session, cb) => (address.address.startsWith('nobody') ? cb(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 })) : cb()),
    onData: (stream, _session, cb) => {
      stream.resume();
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
  pool = createSmtpClientPool({ limits: () => ({ maxConnections: 4, maxPerDestination: 4 }), clientName: () => 'relay.test', idleMs: 100 });
});

afterAll(async () => {
  await pool?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  tmp?.remove();
});

async function transact(to: string[], size: number): Promise<{ body: ReadStream; answered: boolean }> {
  const pc = await pool.acquire({ host: '127.0.0.1', port, name: '127.0.0.1', tlsMode: 'none', verifyCertificate: false, auth: null });
  let body: ReadStream | null = null;
  const tx = await runTransaction(pc, { from: 's@corp.test', to, size, use8BitMime: false }, () => (body = createReadStream(file)));
  pool.release(pc, tx.release);
  // The stream's file is closed once 'close' has come (destroy closes it asynchronously).
  await new Promise<void>((resolve) => (body!.closed ? resolve() : body!.once('close', () => resolve())));
  return { body: body!, answered: tx.answered };
}

describe('outbound transaction', () => {
  it('closes the body when the message is over the peer\'s SIZE (no command sent)', async () => {
    const { body, answered } = await transact(['a@far.test'], 2000);
    expect(answered).toBe(false);
    expect(body.destroyed).toBe(true);
  });

  it('closes the body when every recipient is refused, and after a delivered message', async () => {
    expect((await transact(['nobody@far.test'], 50)).body.destroyed).toBe(true);
    const ok = await transact(['a@far.test'], 50);
    expect(ok.answered).toBe(true);
    expect(ok.body.destroyed).toBe(true);
  });
});
