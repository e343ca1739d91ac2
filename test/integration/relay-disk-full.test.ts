/**
 * A full disk answers 452 4.3.1 instead of accepting (SPEC §3), and the relay keeps serving. The data
 * dir lives on a small tmpfs; mounting needs root (CI runs as root), elsewhere the test is skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import nodemailer from 'nodemailer';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

function tryMountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir: TempDir = makeTempDir('relay-full-');
const mounted = tryMountTmpfs(dir.path, '600k');
let relay: RelayProcess;
let sink: SmtpSink;

beforeAll(async () => {
  if (!mounted) return;
  sink = await startSmtpSink();
  await sink.stop(); // keep messages in the queue so the disk stays full
  relay = await startRelayProcess({
    dataDir: dir.path,
    tls: 'none',
    config: { delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: sink.port, security: 'none' } } },
  });
});

afterAll(async () => {
  await relay?.stop();
  await sink?.close();
  if (mounted) execFileSync('umount', [dir.path]);
  dir.remove();
});

describe.skipIf(!mounted)('full disk (data dir on a 600 KiB tmpfs; skipped where mount is not permitted)', () => {
  it('answers 452 4.3.1 when the message does not fit, and still accepts one that does', async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false });
    const err = await t
      .sendMail({ from: 'a@far.example', to: 'b@far.example', subject: 'too big for the disk', text: 'y'.repeat(76).concat('\n').repeat(12_000) })
      .then(() => null, (e: Error & { responseCode?: number; response?: string }) => e);
    expect(err?.responseCode).toBe(452);
    expect(err?.response).toMatch(/4\.3\.1 Insufficient system storage/);
    const line = await relay.waitForLine((l) => l.event === 'reject' && l.rule === 'spool', 'spool reject');
    expect(line.reply).toMatch(/^452 4\.3\.1/);
    const ok = await t.sendMail({ from: 'a@far.example', to: 'b@far.example', subject: 'small', text: 'fits' });
    expect(ok.response).toMatch(/^250 2\.0\.0 Ok: queued/);
  });
});
