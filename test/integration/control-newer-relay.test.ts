/**
 * The control client against a relay newer than itself, over a real Unix socket: the "relay" here is
 * a stand-in that speaks the protocol (frames, the ready notification of a pre-authenticated session)
 * and answers with fields this client does not know. Answers stay usable (the fields dropped), and
 * the config keeps its unknown settings, so config.apply writes them back unchanged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { connectControl, type ControlClient } from '../../server/control/control-client.ts';
import { redactConfig } from '../../server/control/config-access.ts';
import { encodeFrame } from '../../server/control/frame-codec.ts';
import { defaultConfig } from '../../server/config/config-file.ts';
import { NOTIFICATION_READY, PROTOCOL_VERSION } from '../../server/protocol/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What the stand-in relay was asked, in order. */
let requests: Array<{ method: string; params: unknown }> = [];

/** A relay "from the future": every answer carries a field this client has never heard of. */
async function newerRelay(answers: Record<string, unknown>): Promise<ControlClient> {
  requests = [];
  const dir = makeTempDir('control-newer-');
  const socketPath = path.join(dir.path, 'control.sock');
  const server = net.createServer((sock) => {
    sock.write(encodeFrame({ jsonrpc: '2.0', method: NOTIFICATION_READY, params: { protocol: PROTOCOL_VERSION, version: '9.0.0', permission: 'write', region: 'eu' } })!);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const req = JSON.parse(buf.slice(0, nl)) as { id: number; method: string; params: unknown };
        buf = buf.slice(nl + 1);
        requests.push({ method: req.method, params: req.params });
        sock.write(encodeFrame({ jsonrpc: '2.0', id: req.id, result: answers[req.method], servedBy: 'edge-2' })!);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(() => dir.remove(), () => new Promise((r) => server.close(r)));
  const sock = net.connect(socketPath);
  await new Promise((resolve) => sock.once('connect', resolve));
  const client = await connectControl(sock, { preAuthenticated: true });
  cleanups.push(() => client.close());
  return client;
}

describe('control client and a newer relay', () => {
  it('reads answers with added fields at any depth, and drops those fields', async () => {
    const check = { name: 'n', subject: 's', status: 'pass', expected: 'e', found: ['f'], fix: null, code: 'hostname.ok', params: {}, weight: 3 };
    const client = await newerRelay({ 'dns.check': { ok: true, checks: [check], tookMs: 12 } });
    expect(client.server.version).toBe('9.0.0');
    const { weight: _weight, ...known } = check;
    expect(await client.call('dns.check')).toEqual({ ok: true, checks: [known] });
  });

  it('still refuses an answer that lacks a field it needs', async () => {
    const client = await newerRelay({ 'dns.check': { checks: [] } });
    await expect(client.call('dns.check')).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('keeps settings of the config it does not know, and writes them back with config.apply', async () => {
    const config = redactConfig(defaultConfig());
    const newer = { ...config, general: { ...config.general, greylisting: { enabled: true, delayMinutes: 5 } }, archive: { enabled: false } };
    const client = await newerRelay({ 'config.get': { config: newer, revision: 'r1' }, 'config.apply': { revision: 'r2' } });
    const read = await client.call('config.get');
    expect(read.config).toEqual(newer);
    // The app changes what it knows and applies the whole config.
    const edited = { ...read.config, general: { ...read.config.general, profile: { ...read.config.general.profile, banner: 'edited' } } };
    expect(await client.call('config.apply', { config: edited, baseRevision: read.revision })).toEqual({ revision: 'r2' });
    const sent = requests.find((r) => r.method === 'config.apply')!.params as { config: typeof newer };
    expect(sent.config.general.greylisting).toEqual({ enabled: true, delayMinutes: 5 });
    expect((sent.config as Record<string, unknown>).archive).toEqual({ enabled: false });
    expect(sent.config.general.profile.banner).toBe('edited');
  });

  it('still refuses a config value of the wrong type before sending it', async () => {
    const config = redactConfig(defaultConfig());
    const client = await newerRelay({});
    const bad = { ...config, queue: { ...config.queue, maxLifetimeHours: 'forever' } };
    await expect(client.call('config.apply', { config: bad as never, baseRevision: 'r1' })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    expect(requests).toEqual([]);
  });

  it('reads a config whose settings it all knows', async () => {
    const config = redactConfig(defaultConfig());
    const client = await newerRelay({ 'config.get': { config, revision: 'r1' } });
    expect(await client.call('config.get')).toEqual({ config, revision: 'r1' });
  });
});
