/**
 * The control server over a real Unix socket, with an in-test RelayControlApi built on the real user
 * store, stats and relay log: a good client works; unauthenticated, forged, replayed, oversize and
 * garbage input and a connection flood are refused without hurting the next good client.
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../server/config/config-file.ts';
import type { RelayConfig } from '../../server/config/schema.ts';
import { checkConfigWrite, configRevision, redactConfig, resolveConfigWrite } from '../../server/control/config-access.ts';
import { connectControl, openLocalControl, type ControlClient } from '../../server/control/control-client.ts';
import { computeMac, newNonce } from '../../server/control/control-key.ts';
import { startControlServer, type ControlServer, type ControlServerOptions } from '../../server/control/control-server.ts';
import { listQueue, selectQueue } from '../../server/control/queue-view.ts';
import type { RelayControlApi } from '../../server/control/relay-control-api.ts';
import { logHandlers, statsHandlers, userHandlers } from '../../server/control/standard-handlers.ts';
import { openRelayLog, type RelayLog } from '../../server/logging/relay-log.ts';
import { ControlError, MAX_FRAME_BYTES, PROTOCOL_VERSION, type LogsEvent } from '../../server/protocol/index.ts';
import type { QueueEntry } from '../../server/queue/types.ts';
import { Stats } from '../../server/stats/stats.ts';
import { UserStore } from '../../server/users/user-store.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

interface Harness {
  dir: string;
  server: ControlServer;
  log: RelayLog;
  stats: Stats;
  api: RelayControlApi;
  controlLines: Record<string, unknown>[];
}

let tmp: TempDir;
let h: Harness;
const clients: ControlClient[] = [];
const sockets: net.Socket[] = [];

function queueEntry(id: string, held = false): QueueEntry {
  return {
    envelope: {
      id,
      receivedAt: Date.now() - 60_000,
      sender: 'app@example.org',
      recipients: ['bob@example.com'],
      client: { ip: '127.0.0.1', hostname: null, helo: 'app', authUser: null, tls: false },
      bodyType: '7bit',
      smtpUtf8: false,
      origin: 'smtp',
    },
    size: 100,
    recipients: [{ address: 'bob@example.com', status: 'queued', attempts: 0, lastAttemptAt: null, lastReply: null, nextHop: null }],
    held,
    nextAttemptAt: 0,
    attempts: 0,
    delayWarned: false,
  };
}

/** A relay stand-in: real users, stats and logs; config and queue in memory. */
async function makeApi(dir: string, log: RelayLog, stats: Stats): Promise<RelayControlApi> {
  const users = await UserStore.open(path.join(dir, 'users.json'), { scrypt: { N: 1024, r: 8, p: 1 } });
  let config: RelayConfig = defaultConfig();
  config.delivery.relayHost = { host: 'smtp.example.com', port: 587, security: 'starttls', username: 'u', password: 'hunter2', verifyCertificate: true };
  const queue = new Map<string, QueueEntry>([
    ['000000000001-aaaaaaaaaa', queueEntry('000000000001-aaaaaaaaaa')],
    ['000000000002-bbbbbbbbbb', queueEntry('000000000002-bbbbbbbbbb', true)],
  ]);
  const started = Date.now();
  const setHeld = (held: boolean) => async (sel: Parameters<RelayControlApi['queue.hold']>[0]) => {
    const hit = selectQueue(queue.values(), sel, Date.now());
    for (const e of hit) e.held = held;
    return { affected: hit.length };
  };
  return {
    ...userHandlers(users),
    ...statsHandlers(stats),
    ...logHandlers(path.join(dir, 'logs'), log),
    status: async () => ({
      version: 'test',
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      startedAt: started,
      uptimeSeconds: (Date.now() - started) / 1000,
      hostname: 'test-host',
      platform: process.platform,
      nodeVersion: process.version,
      dataDir: dir,
      configRevision: configRevision(config),
      listeners: [{ name: 'smtp', host: '127.0.0.1', port: 2525, tls: 'starttls', listening: true, error: null }],
      queue: { active: 1, deferred: 0, held: 1, total: 2, oldestAgeSeconds: 60 },
      activity: { smtpSessions: 0, deliveriesInFlight: 0, outboundConnections: 0, outboundBusy: 0, controlConnections: 1 },
    }),
    'config.get': async () => ({ config: redactConfig(config), revision: configRevision(config) }),
    'config.validate': async (p) => {
      const r = checkConfigWrite(p.config, config);
      return r.ok ? { ok: true, issues: [] } : { ok: false, issues: r.issues };
    },
    'config.apply': async (p) => {
      const next = resolveConfigWrite(p.config, config);
      if (p.baseRevision !== configRevision(config)) throw new ControlError('CONFLICT', 'the config was changed meanwhile; reload it and apply again');
      config = next;
      return { revision: configRevision(config) };
    },
    'queue.list': async (p) => listQueue(queue.values(), p, Date.now()),
    'queue.show': async (p) => {
      const e = queue.get(p.id);
      if (!e) throw new ControlError('NOT_FOUND', `no message ${p.id} in the queue`);
      return { ...e, state: e.held ? 'held' : 'active', headers: [{ name: 'Subject', value: 'hi' }] };
    },
    'queue.retry': async (sel) => ({ affected: selectQueue(queue.values(), sel, Date.now()).length }),
    'queue.hold': setHeld(true),
    'queue.release': setHeld(false),
    'queue.delete': async (sel) => {
      const hit = selectQueue(queue.values(), sel, Date.now());
      for (const e of hit) queue.delete(e.envelope.id);
      return { affected: hit.length };
    },
    'queue.bounce': async (sel) => ({ affected: selectQueue(queue.values(), sel, Date.now()).length }),
    'queue.flush': async () => ({ affected: queue.size }),
    'test.send': async () => ({ ok: true, route: 'direct MX', nextHop: null, reply: '250 ok', durationMs: 1, transcript: [] }),
    'dns.check': async () => ({ ok: true, checks: [] }),
    'service.reload': async () => ({ revision: configRevision(config) }),
    'service.stop': async () => ({ stopping: true }),
  };
}

async function startHarness(overrides: Partial<ControlServerOptions> = {}): Promise<Harness> {
  const dir = tmp.path;
  const log = openRelayLog({ dir: path.join(dir, 'logs') });
  const controlLines: Record<string, unknown>[] = [];
  log.lines.on('line', (l) => {
    if (l.event === 'control') controlLines.push(l);
  });
  const stats = await Stats.open(path.join(dir, 'stats'), { flushIntervalMs: 0 });
  const api = await makeApi(dir, log, stats);
  const server = await startControlServer({ dataDir: dir, api, log, ...overrides });
  return { dir, server, log, stats, api, controlLines };
}

beforeEach(async () => {
  tmp = makeTempDir('rd-ctl-');
  h = await startHarness();
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await h.server.close();
  await h.stats.close();
  await h.log.close();
  tmp.remove();
});

async function goodClient(): Promise<ControlClient> {
  const c = await openLocalControl(h.dir);
  clients.push(c);
  return c;
}

/** A bare socket that reads frames one by one, for speaking (or breaking) the protocol by hand. */
interface Raw {
  socket: net.Socket;
  next(): Promise<Record<string, unknown>>;
  send(frame: unknown): void;
  closed: Promise<void>;
}

function raw(socketPath = h.server.path): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    sockets.push(socket);
    const frames: Record<string, unknown>[] = [];
    const waiters: ((f: Record<string, unknown>) => void)[] = [];
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const f = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        const w = waiters.shift();
        if (w) w(f);
        else frames.push(f);
      }
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        socket,
        closed,
        next: () => {
          const f = frames.shift();
          return f ? Promise.resolve(f) : new Promise((r) => waiters.push(r));
        },
        send: (frame) => socket.write(typeof frame === 'string' ? frame : `${JSON.stringify(frame)}\n`),
      }),
    );
    socket.once('error', reject);
  });
}

async function rawAuthenticated(): Promise<Raw> {
  const r = await raw();
  const hello = (await r.next()).params as { nonce: string };
  const key = Buffer.from(readFileSync(path.join(h.dir, 'control.key'), 'utf8').trim(), 'hex');
  const clientNonce = newNonce();
  r.send({ jsonrpc: '2.0', id: 1, method: 'auth', params: { clientNonce, mac: computeMac(key, hello.nonce, clientNonce) } });
  expect(await r.next()).toMatchObject({ id: 1, result: { protocol: PROTOCOL_VERSION, permission: 'write' } });
  return r;
}

const errorCodeOf = (f: Record<string, unknown>): unknown => (f.error as { data?: { code?: string } })?.data?.code;

describe('control socket: a good client', () => {
  it('authenticates and calls methods with typed results and typed errors', async () => {
    const c = await goodClient();
    expect(c.server).toMatchObject({ protocol: PROTOCOL_VERSION, permission: 'write' });
    const status = await c.call('status');
    expect(status.queue.total).toBe(2);

    const { config, revision } = await c.call('config.get');
    expect(config.delivery.relayHost).toMatchObject({ host: 'smtp.example.com', hasPassword: true });
    expect(JSON.stringify(config)).not.toContain('hunter2');
    config.general.profile.banner = 'changed';
    const applied = await c.call('config.apply', { config, baseRevision: revision });
    expect(applied.revision).not.toBe(revision);
    await expect(c.call('config.apply', { config, baseRevision: revision })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await c.call('config.get')).config.delivery.relayHost?.hasPassword).toBe(true); // password kept
    await expect(c.call('config.validate', { config: { listeners: [] } })).resolves.toMatchObject({ ok: false, issues: [{ path: 'listeners' }] });

    expect((await c.call('queue.list', { state: 'held' })).items.map((i) => i.id)).toEqual(['000000000002-bbbbbbbbbb']);
    expect(await c.call('queue.release', { filter: {}, state: 'held' })).toEqual({ affected: 1 });
    await expect(c.call('queue.show', { id: '000000000009-zzzzzzzzzz' })).rejects.toMatchObject({ code: 'NOT_FOUND', name: 'ControlError' });

    await c.call('users.add', { name: 'printer', password: 'pw', allowedSenders: ['printer@example.com'] });
    await expect(c.call('users.add', { name: 'printer', password: 'pw' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await c.call('users.list')).users).toEqual([expect.objectContaining({ name: 'printer', allowedSenders: ['printer@example.com'] })]);

    h.stats.count('received', 4);
    const now = Date.now();
    expect((await c.call('stats.get', { from: now - 3_600_000, to: now + 60_000, step: 3600 })).totals.counts.received).toBe(4);
  });

  it('answers INVALID_PARAMS with key paths, also for what the client library would have caught', async () => {
    const c = await goodClient();
    await expect(c.call('queue.list', { limit: 5000 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', issues: [{ path: 'limit' }] });
    const r = await rawAuthenticated();
    r.send({ jsonrpc: '2.0', id: 7, method: 'queue.list', params: { filter: { sender: 1 }, limit: 0 } });
    const f = await r.next();
    expect(f).toMatchObject({ id: 7, error: { code: -32602, data: { code: 'INVALID_PARAMS' } } });
    expect((f.error as { data: { issues: { path: string }[] } }).data.issues.map((i) => i.path).sort()).toEqual(['filter.sender', 'limit']);
    r.send({ jsonrpc: '2.0', id: 8, method: 'queue.lst' });
    expect(await r.next()).toMatchObject({ id: 8, error: { code: -32601, data: { code: 'METHOD_NOT_FOUND' } } });
    r.send({ jsonrpc: '2.0', id: 9, method: 'status', params: [1] });
    expect(errorCodeOf(await r.next())).toBe('INVALID_PARAMS');
  });

  it('keeps the socket and the key file private (0600)', () => {
    expect(statSync(h.server.path).isSocket()).toBe(true);
    expect(statSync(h.server.path).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(h.dir, 'control.key')).mode & 0o777).toBe(0o600);
  });

  it('pushes logs.event to subscribers, filtered, until they unsubscribe', async () => {
    const c = await goodClient();
    const got: LogsEvent[] = [];
    c.on('logs.event', (e) => got.push(e));
    await c.call('logs.subscribe', { filter: { event: 'reject' } });
    h.log.event('connect', { client: { ip: '192.0.2.1' } });
    h.log.event('reject', { client: { ip: '192.0.2.1' }, stage: 'RCPT', rule: 'relay control', reply: '554 5.7.1 Relay access denied' }, 'warn');
    await waitFor('a pushed reject line', () => got.length === 1);
    expect(got[0]!.line).toMatchObject({ event: 'reject', level: 'warn', rule: 'relay control' });
    await c.call('logs.unsubscribe');
    h.log.event('reject', { reply: 'again' });
    await c.call('status'); // a round trip after the event: a push would have arrived before the reply
    expect(got).toHaveLength(1);

    await h.log.flush();
    const q = await c.call('logs.query', { since: Date.now() - 60_000, filter: { event: 'reject' } });
    expect(q.items.map((l) => l.reply)).toEqual(['again', '554 5.7.1 Relay access denied']);
  });

  it('checks results against the contract and reports handler failures as INTERNAL', async () => {
    h.api.status = (async () => ({ version: 1 })) as never;
    h.api['dns.check'] = async () => {
      throw new Error('resolver exploded');
    };
    const c = await goodClient();
    await expect(c.call('status')).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/breaks the contract/) });
    await expect(c.call('dns.check')).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/resolver exploded/) });
    await expect(c.call('users.list')).resolves.toBeTruthy();
  });

  it('times out a call that gets no answer, and fails pending calls on close', async () => {
    h.api['dns.check'] = () => new Promise(() => undefined);
    const c = await goodClient();
    await expect(c.call('dns.check', {}, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const pending = expect(c.call('dns.check')).rejects.toMatchObject({ code: 'CLOSED' });
    await c.close();
    await pending;
    await expect(c.call('status')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('control socket: hostile input', () => {
  it('closes a connection that calls anything before auth', async () => {
    const r = await raw();
    expect(await r.next()).toMatchObject({ method: 'hello', params: { protocol: PROTOCOL_VERSION, nonce: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    r.send({ jsonrpc: '2.0', id: 1, method: 'users.list' });
    expect(await r.next()).toMatchObject({ id: 1, error: { code: -32001, data: { code: 'UNAUTHENTICATED' } } });
    await r.closed;
    const g = await raw();
    await g.next();
    g.send('GET / HTTP/1.1\r\n\r\n');
    expect(errorCodeOf(await g.next())).toBe('UNAUTHENTICATED');
    await g.closed;
    expect(await (await goodClient()).call('users.list')).toEqual({ users: [] });
  });

  it('closes on a wrong MAC, and on a MAC replayed from an earlier session', async () => {
    const wrong = await raw();
    const hello = (await wrong.next()).params as { nonce: string };
    const clientNonce = newNonce();
    wrong.send({ jsonrpc: '2.0', id: 1, method: 'auth', params: { clientNonce, mac: computeMac(Buffer.alloc(32, 1), hello.nonce, clientNonce) } });
    expect(errorCodeOf(await wrong.next())).toBe('UNAUTHENTICATED');
    await wrong.closed;

    // Record a good session's auth frame, then replay it on a new connection.
    const first = await raw();
    const nonce1 = ((await first.next()).params as { nonce: string }).nonce;
    const key = Buffer.from(readFileSync(path.join(h.dir, 'control.key'), 'utf8').trim(), 'hex');
    const recorded = { jsonrpc: '2.0', id: 1, method: 'auth', params: { clientNonce, mac: computeMac(key, nonce1, clientNonce) } };
    first.send(recorded);
    expect(await first.next()).toMatchObject({ result: { permission: 'write' } });
    const replay = await raw();
    await replay.next();
    replay.send(recorded);
    expect(errorCodeOf(await replay.next())).toBe('UNAUTHENTICATED');
    await replay.closed;

    await expect(connectControl(net.connect(h.server.path), { key: Buffer.alloc(32, 2) })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await waitFor('auth failures logged', () => h.controlLines.filter((l) => l.action === 'auth' && l.ok === false).length >= 3);
    expect(await (await goodClient()).call('status')).toMatchObject({ hostname: 'test-host' });
  });

  it('answers an oversize frame with FRAME_TOO_LARGE and closes, before and after auth', async () => {
    for (const r of [await raw(), await rawAuthenticated()]) {
      r.socket.write('{"jsonrpc":"2.0","id":1,"method":"status","params":{"pad":"');
      r.socket.write('x'.repeat(MAX_FRAME_BYTES));
      let f = await r.next();
      if (f.method === 'hello') f = await r.next();
      expect(f).toMatchObject({ error: { code: -32008, data: { code: 'FRAME_TOO_LARGE' } } });
      await r.closed;
    }
    expect(await (await goodClient()).call('users.list')).toEqual({ users: [] });
  });

  it('answers garbage after auth with parse / invalid-request errors and keeps the connection', async () => {
    const r = await rawAuthenticated();
    r.send('{"jsonrpc": "2.0", "id": 2, "method": \n');
    expect(await r.next()).toMatchObject({ id: null, error: { code: -32700, data: { code: 'PARSE_ERROR' } } });
    r.send('\u0000\u00ff\u{1F4A9}\n');
    expect(errorCodeOf(await r.next())).toBe('PARSE_ERROR');
    r.send({ id: 3, method: 'status' });
    expect(await r.next()).toMatchObject({ id: 3, error: { code: -32600 } });
    r.send([{ jsonrpc: '2.0', id: 4, method: 'status' }]);
    expect(await r.next()).toMatchObject({ id: null, error: { message: expect.stringMatching(/batches/) } });
    r.send({ jsonrpc: '2.0', id: 5, method: 'auth', params: {} });
    expect(await r.next()).toMatchObject({ id: 5, error: { code: -32600 } });
    r.send({ jsonrpc: '2.0', method: 'status' }); // a notification: no answer
    r.send({ jsonrpc: '2.0', id: 6, method: 'status' });
    expect(await r.next()).toMatchObject({ id: 6, result: { hostname: 'test-host' } });
  });

  it('runs a burst of pipelined requests a few at a time, giving the event loop a turn in between', async () => {
    const r = await rawAuthenticated();
    const status = h.api.status;
    let calls = 0;
    let startedBeforeYield = -1;
    h.api.status = async (params) => {
      // The first call asks when the event loop next gets a turn: how many had started by then?
      if (calls++ === 0) setImmediate(() => (startedBeforeYield = calls));
      return status.call(h.api, params);
    };
    try {
      // 200 requests in one write: one chunk for the server, far more than may run at once.
      r.socket.write(Array.from({ length: 200 }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'status' })}\n`).join(''));
      const ids = new Set<unknown>();
      for (let i = 0; i < 200; i++) ids.add((await r.next()).id);
      expect(ids.size).toBe(200);
      expect(startedBeforeYield).toBeGreaterThan(0);
      expect(startedBeforeYield).toBeLessThanOrEqual(16);
    } finally {
      h.api.status = status;
    }
  });

  it('survives 2 000 connections at once: over the cap they are refused, a good client keeps working', async () => {
    const before = await goodClient();
    const results = await Promise.all(
      Array.from(
        { length: 2000 },
        () =>
          new Promise<string>((resolve) => {
            const s = net.connect(h.server.path);
            sockets.push(s);
            s.setEncoding('utf8');
            let buf = '';
            s.on('data', (d: string) => {
              buf += d;
              if (buf.includes('\n')) resolve(buf.includes('"UNAVAILABLE"') ? 'refused' : buf.includes('"hello"') ? 'hello' : `frame ${buf}`);
            });
            // The kernel refuses what does not fit in the listen backlog (EAGAIN on a Unix socket).
            s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
            s.on('close', () => resolve('closed without a word'));
          }),
      ),
    );
    const tally: Record<string, number> = {};
    for (const r of results) tally[r] = (tally[r] ?? 0) + 1;
    expect(Object.keys(tally).filter((k) => !['hello', 'refused', 'error EAGAIN'].includes(k))).toEqual([]);
    expect(tally.hello).toBeLessThanOrEqual(63); // 64 minus the good client
    expect(tally.refused).toBeGreaterThan(500);
    expect(await before.call('status')).toMatchObject({ hostname: 'test-host' });
    for (const s of sockets.splice(0)) s.destroy();
    await waitFor('connections to drain', () => h.server.connections === 1);
    expect(await (await goodClient()).call('users.list')).toEqual({ users: [] });
    // The refusals are logged, but a flood does not flood the log.
    const refusals = h.controlLines.filter((l) => l.action === 'reject');
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.length).toBeLessThanOrEqual(20);
  });

  it('closes a connection that does not authenticate in time', async () => {
    await h.server.close();
    h.server = await startControlServer({ dataDir: h.dir, api: h.api, log: h.log, authTimeoutMs: 150 });
    const r = await raw();
    await r.next();
    expect(await r.next()).toMatchObject({ error: { data: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/no auth within/) } });
    await r.closed;
  });
});

describe('control socket: lifecycle and permissions', () => {
  it('refuses a second relay on the same data dir, but replaces a stale socket file', async () => {
    await expect(startControlServer({ dataDir: h.dir, api: h.api, log: h.log })).rejects.toMatchObject({ code: 'BIND_FAILED', message: expect.stringMatching(/another relay/) });
    await h.server.close();
    // Make a stale socket: bind elsewhere, move it into place, stop listening.
    const aside = path.join(h.dir, 'aside.sock');
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(aside, () => r()));
    renameSync(aside, h.server.path);
    await new Promise<void>((r) => other.close(() => r()));
    expect(statSync(h.server.path).isSocket()).toBe(true);
    h.server = await startControlServer({ dataDir: h.dir, api: h.api, log: h.log });
    expect(await (await goodClient()).call('users.list')).toEqual({ users: [] });
  });

  it('refuses to delete a socket path that is not a socket', async () => {
    await h.server.close();
    writeFileSync(h.server.path, 'mine');
    await expect(startControlServer({ dataDir: h.dir, api: h.api, log: h.log })).rejects.toMatchObject({ code: 'BIND_FAILED', message: expect.stringMatching(/not a socket/) });
    rmSync(h.server.path);
    h.server = await startControlServer({ dataDir: h.dir, api: h.api, log: h.log });
  });

  it('gives sessions opened with the read-only key read methods only', async () => {
    await h.server.close();
    const readKey = Buffer.alloc(32, 9);
    writeFileSync(path.join(h.dir, 'control-read.key'), `${readKey.toString('hex')}\n`, { mode: 0o600 });
    h.server = await startControlServer({ dataDir: h.dir, api: h.api, log: h.log });
    const c = await connectControl(net.connect(h.server.path), { key: readKey });
    clients.push(c);
    expect(c.server.permission).toBe('read');
    await expect(c.call('users.list')).resolves.toEqual({ users: [] });
    await expect(c.call('users.add', { name: 'x', password: 'y' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(c.call('service.stop')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('tells a client refused by the connection cap why (UNAVAILABLE)', async () => {
    await h.server.close();
    h.server = await startControlServer({ dataDir: h.dir, api: h.api, log: h.log, maxConnections: 1 });
    await goodClient();
    await expect(openLocalControl(h.dir)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/too many control connections/) });
  });

  it('reports a stopped relay as UNAVAILABLE', async () => {
    await h.server.close();
    await expect(openLocalControl(h.dir)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not running/) });
    h.server = await startControlServer({ dataDir: h.dir, api: h.api, log: h.log });
  });
});
