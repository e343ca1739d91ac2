/**
 * One control connection: hello, HMAC auth, then method dispatch from the contract table. Every
 * frame a peer sends is parsed as `unknown` and validated; a broken frame costs the peer an error
 * reply (or, before auth and on oversize frames, the connection) and never the relay.
 */
import type net from 'node:net';
import {
  AUTH_TIMEOUT_MS,
  ControlError,
  ERROR_NUMBERS,
  NOTIFICATION_HELLO,
  NOTIFICATION_LOGS_EVENT,
  PROTOCOL_VERSION,
  authParams,
  findMethod,
  issuesFromZod,
  permits,
  rpcIdSchema,
  rpcRequestSchema,
  type ErrorCode,
  type LogFilter,
  type LogLine,
  type MethodDef,
  type Permission,
  type ReadyParams,
  type RpcId,
  type RpcRequest,
} from '../protocol/index.ts';
import { matchesLogFilter } from '../logging/log-query.ts';
import { FrameDecoder, encodeFrame } from './frame-codec.ts';
import { macMatches, newNonce, type ControlKey } from './control-key.ts';
import type { RelayControlApi } from './relay-control-api.ts';

/**
 * Requests of one connection handled at once; more wait in its backlog (reading paused meanwhile).
 * One chunk can carry hundreds of pipelined frames, so this cannot be left to pausing the socket.
 */
const MAX_IN_FLIGHT = 16;
/** A subscriber further behind than this loses log lines (counted in `dropped`). */
const LOG_BACKLOG_BYTES = 4 * 1024 * 1024;
/** A peer that reads nothing while this much is queued for it is cut off. */
const MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

/** What a session needs from its server. */
export interface SessionOptions {
  socket: net.Socket;
  id: number;
  keys: readonly ControlKey[];
  api: RelayControlApi;
  version: string;
  authTimeoutMs?: number;
  /** Check every result against the contract (tests and development). */
  assertResults: boolean;
  /** Report something worth a 'control' log line (auth failures, write calls, broken handlers). */
  report(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>): void;
}

type SessionState = 'awaiting-auth' | 'ready' | 'closed';

/** One control connection, from hello to close. */
export class ControlSession {
  private state: SessionState = 'awaiting-auth';
  private permission: Permission = 'read';
  private readonly nonce = newNonce();
  private readonly decoder = new FrameDecoder();
  private readonly authTimer: NodeJS.Timeout;
  private inFlight = 0;
  /** Authenticated requests not started yet (see MAX_IN_FLIGHT). */
  private readonly backlog: RpcRequest[] = [];
  private pumpScheduled = false;
  private unsubscribeLogs: (() => void) | null = null;
  private droppedLines = 0;

  constructor(private readonly o: SessionOptions) {
    const { socket } = o;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows; a reset peer is not news
    socket.on('close', () => this.cleanup());
    this.authTimer = setTimeout(() => {
      this.o.report('warn', { action: 'auth-timeout', session: o.id });
      this.fail(null, 'UNAUTHENTICATED', `no auth within ${(o.authTimeoutMs ?? AUTH_TIMEOUT_MS) / 1000} s`);
    }, o.authTimeoutMs ?? AUTH_TIMEOUT_MS);
    this.authTimer.unref();
    this.send({ jsonrpc: '2.0', method: NOTIFICATION_HELLO, params: { nonce: this.nonce, protocol: PROTOCOL_VERSION, version: o.version } });
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Close the connection now (server shutdown). */
  destroy(): void {
    this.o.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    for (const frame of this.decoder.push(chunk)) {
      if (this.isClosed()) return; // an earlier frame of this chunk closed it
      if (frame.kind === 'too-large') {
        this.o.report('warn', { action: 'frame-too-large', session: this.o.id });
        this.fail(null, 'FRAME_TOO_LARGE', 'a frame passed the 1 MiB limit; closing the connection');
      } else if (frame.kind === 'invalid-json') {
        if (this.state === 'awaiting-auth') this.failAuth(null, 'expected an auth request, got malformed JSON');
        else this.replyError(null, 'PARSE_ERROR', `malformed JSON: ${frame.error}`);
      } else this.onMessage(frame.value);
    }
  }

  private onMessage(value: unknown): void {
    const parsed = rpcRequestSchema.safeParse(value);
    if (!parsed.success) {
      const id = idOf(value);
      if (this.state === 'awaiting-auth') return this.failAuth(id, 'expected an auth request');
      const why = Array.isArray(value) ? 'batches are not supported' : issuesFromZod(parsed.error).map((i) => `${i.path}: ${i.message}`).join('; ');
      return this.replyError(id, 'INVALID_REQUEST', `not a JSON-RPC 2.0 request: ${why}`);
    }
    const req = parsed.data;
    if (this.state === 'awaiting-auth') return this.onAuth(req);
    if (req.method === 'auth') return this.reply(req.id ?? null, new ControlError('INVALID_REQUEST', 'this connection is already authenticated'));
    this.backlog.push(req);
    this.pump();
  }

  /**
   * Start backlog requests while fewer than MAX_IN_FLIGHT run. Further starts happen on a later turn
   * of the event loop (setImmediate), so a burst of requests whose handlers do synchronous work (a
   * queue.list over 100 000 messages) cannot hold SMTP sessions and deliveries up for its whole length.
   */
  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.backlog.length > 0 && this.state === 'ready') void this.dispatch(this.backlog.shift()!);
    if (this.state !== 'ready') return;
    if (this.backlog.length > 0 || this.inFlight >= MAX_IN_FLIGHT) this.o.socket.pause();
    else this.o.socket.resume();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private onAuth(req: RpcRequest): void {
    if (req.method !== 'auth') return this.failAuth(req.id ?? null, `"${req.method}" before auth: authenticate first`);
    const p = authParams.safeParse(req.params);
    if (!p.success) return this.failAuth(req.id ?? null, 'malformed auth params');
    // Try every key, always all of them, so the time taken does not tell which one matched.
    let granted: Permission | null = null;
    for (const k of this.o.keys) {
      if (macMatches(k.key, this.nonce, p.data.clientNonce, p.data.mac) && granted !== 'write') granted = k.permission;
    }
    if (!granted) return this.failAuth(req.id ?? null, 'wrong key: the MAC does not match');
    clearTimeout(this.authTimer);
    this.state = 'ready';
    this.permission = granted;
    this.o.report('info', { action: 'auth', ok: true, session: this.o.id, permission: granted });
    const result: ReadyParams = { protocol: PROTOCOL_VERSION, version: this.o.version, permission: granted };
    if (req.id !== undefined) this.send({ jsonrpc: '2.0', id: req.id, result });
  }

  private failAuth(id: RpcId | null, why: string): void {
    this.o.report('warn', { action: 'auth', ok: false, session: this.o.id, reason: why });
    this.fail(id, 'UNAUTHENTICATED', why);
  }

  private async dispatch(req: RpcRequest): Promise<void> {
    const id = req.id ?? null;
    const def = findMethod(req.method);
    if (!def) return this.reply(id, new ControlError('METHOD_NOT_FOUND', `unknown method "${req.method}"`));
    if (!permits(this.permission, def.permission)) {
      return this.reply(id, new ControlError('PERMISSION_DENIED', `"${def.name}" needs a write session; this one was opened with the read-only key`));
    }
    const params = def.params.safeParse(req.params ?? {});
    if (!params.success) {
      const issues = issuesFromZod(params.error);
      return this.reply(id, new ControlError('INVALID_PARAMS', `invalid params for ${def.name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues));
    }
    this.inFlight++;
    try {
      if (def.permission === 'write') this.o.report('info', { action: 'call', method: def.name, session: this.o.id });
      const result = await this.invoke(def, params.data);
      this.reply(id, result);
    } catch (err) {
      if (err instanceof ControlError) this.reply(id, err);
      else {
        this.o.report('error', { action: 'call', method: def.name, session: this.o.id, error: (err as Error)?.message ?? String(err) });
        this.reply(id, new ControlError('INTERNAL', `${def.name} failed: ${(err as Error)?.message ?? String(err)}`));
      }
    } finally {
      this.inFlight--;
      this.schedulePump();
    }
  }

  private async invoke(def: MethodDef, params: unknown): Promise<unknown> {
    if (def.name === 'logs.subscribe') return this.subscribe((params as { filter: LogFilter }).filter);
    if (def.name === 'logs.unsubscribe') {
      this.unsubscribeLogs?.();
      this.unsubscribeLogs = null;
      return { subscribed: false };
    }
    const handler = (this.o.api as unknown as Record<string, ((p: unknown) => Promise<unknown>) | undefined>)[def.name];
    if (typeof handler !== 'function') throw new ControlError('UNAVAILABLE', `${def.name} is not available in this relay`);
    const result = await handler.call(this.o.api, params);
    if (this.o.assertResults) {
      const check = def.result.safeParse(result);
      if (!check.success) {
        const issues = issuesFromZod(check.error, ['result']);
        throw new Error(`result breaks the contract: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
      }
    }
    return result;
  }

  private subscribe(filter: LogFilter): { subscribed: true } {
    this.unsubscribeLogs?.();
    this.unsubscribeLogs = this.o.api.subscribeLogs((line: LogLine) => {
      if (this.state !== 'ready' || !matchesLogFilter(line, filter)) return;
      if (this.o.socket.writableLength > LOG_BACKLOG_BYTES) {
        this.droppedLines++;
        return;
      }
      const params = this.droppedLines ? { line, dropped: this.droppedLines } : { line };
      this.droppedLines = 0;
      this.send({ jsonrpc: '2.0', method: NOTIFICATION_LOGS_EVENT, params });
    });
    return { subscribed: true };
  }

  private reply(id: RpcId | null, outcome: unknown): void {
    if (id === null) return; // a notification gets no answer (JSON-RPC 2.0 §4.1)
    if (outcome instanceof ControlError) {
      this.send({ jsonrpc: '2.0', id, error: outcome.toRpcError() });
      return;
    }
    if (!this.send({ jsonrpc: '2.0', id, result: outcome })) {
      this.replyError(id, 'FRAME_TOO_LARGE', 'the result is larger than 1 MiB; ask for fewer items');
    }
  }

  private replyError(id: RpcId | null, code: ErrorCode, message: string): void {
    this.send({ jsonrpc: '2.0', id, error: { code: ERROR_NUMBERS[code], message, data: { code } } });
  }

  /** Answer with an error, then close. */
  private fail(id: RpcId | null, code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.replyError(id, code, message);
    this.state = 'closed';
    this.cleanup();
    this.o.socket.end();
    // A peer that never reads would keep the socket open through end(): do not wait for it.
    setTimeout(() => this.o.socket.destroy(), 1000).unref();
  }

  /** Write one frame; false when it would pass the frame cap (nothing written). */
  private send(message: unknown): boolean {
    const { socket } = this.o;
    if (socket.destroyed || !socket.writable) return true;
    const frame = encodeFrame(message);
    if (frame === null) return false;
    socket.write(frame);
    if (socket.writableLength > MAX_BACKLOG_BYTES) {
      this.o.report('warn', { action: 'slow-reader', session: this.o.id });
      socket.destroy();
    }
    return true;
  }

  private cleanup(): void {
    this.state = 'closed';
    this.backlog.length = 0;
    clearTimeout(this.authTimer);
    this.unsubscribeLogs?.();
    this.unsubscribeLogs = null;
  }
}

/** The id of a request that failed validation, if it had a usable one. */
function idOf(value: unknown): RpcId | null {
  if (!value || typeof value !== 'object' || !('id' in value)) return null;
  const r = rpcIdSchema.safeParse((value as { id: unknown }).id);
  return r.success ? r.data : null;
}
