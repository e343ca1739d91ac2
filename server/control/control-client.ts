/**
 * The control client library: the contract spoken over any duplex stream — a socket to the local
 * control socket / pipe, or the stdio of `mailrelay dial-stdio` on an SSH exec channel. Calls are
 * typed from the method table, params are validated before sending and results after receiving,
 * and failures are ControlErrors with a code (the server's, or TIMEOUT / CLOSED / PROTOCOL_MISMATCH /
 * BAD_RESPONSE from this side).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ControlError,
  NOTIFICATION_HELLO,
  NOTIFICATION_LOGS_EVENT,
  NOTIFICATION_READY,
  PROTOCOL_VERSION,
  findMethod,
  helloParamsSchema,
  issuesFromZod,
  logsEventParams,
  keepingUnknown,
  readyParamsSchema,
  relaxed,
  rpcResponseSchema,
  type LogsEvent,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type ReadyParams,
} from '../protocol/index.ts';
import { FrameDecoder, encodeFrame } from './frame-codec.ts';
import { computeMac, controlSocketPath, newNonce, readClientKey } from './control-key.ts';

/** How to authenticate: with the key, or not at all because dial-stdio did it on the relay's host. */
export type ControlAuth = { key: Buffer | string } | { preAuthenticated: true };

/** Timeouts of a client. */
export interface ControlClientOptions {
  /** Default time a call may take before it fails with TIMEOUT (30 s). */
  requestTimeoutMs?: number;
  /** Time for hello/auth or ready (10 s). */
  handshakeTimeoutMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  timeoutMs?: number;
}

/** Methods a client calls (the handshake's `auth` is done by connectControl). */
export type ClientMethodName = Exclude<MethodName, 'auth'>;

type CallArgs<N extends ClientMethodName> =
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every param is optional"
  {} extends MethodParams<N> ? [params?: MethodParams<N>, options?: CallOptions] : [params: MethodParams<N>, options?: CallOptions];

/** Events of a ControlClient. */
export interface ControlClientEvents {
  /** A pushed log line (after `logs.subscribe`). */
  'logs.event': [LogsEvent];
  /** Any other notification from the server. */
  notification: [method: string, params: unknown];
  /** The connection ended; `error` says why when it was not our own close(). */
  close: [error: ControlError | undefined];
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: ControlError): void;
  timer: NodeJS.Timeout;
}

/** An authenticated control session. */
export class ControlClient extends EventEmitter<ControlClientEvents> {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closeError: ControlError | undefined;
  private isClosed = false;
  private handshake: ((message: Record<string, unknown>) => void) | null = null;
  private onHandshakeClose: ((err: ControlError) => void) | null = null;
  /** What the server said about itself (protocol, version, permission of this session). */
  server: ReadyParams = { protocol: PROTOCOL_VERSION, version: '', permission: 'read' };

  /** Use connectControl(); the constructor only wires the stream. */
  constructor(
    private readonly stream: Duplex,
    private readonly opts: ControlClientOptions = {},
  ) {
    super();
    stream.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('error', (err: Error) => this.shutdown(new ControlError('CLOSED', `control connection failed: ${err.message}`)));
    stream.on('close', () => this.shutdown(new ControlError('CLOSED', 'the relay closed the control connection')));
    stream.on('end', () => this.shutdown(new ControlError('CLOSED', 'the relay closed the control connection')));
  }

  /** True once the connection is gone. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Call a method; resolves with its (validated) result or rejects with a ControlError. */
  call<N extends ClientMethodName>(method: N, ...args: CallArgs<N>): Promise<MethodResult<N>> {
    const [params, options] = args as [unknown, CallOptions | undefined];
    const def = findMethod(method);
    if (!def) return Promise.reject(new ControlError('METHOD_NOT_FOUND', `unknown method "${method}"`));
    // config.apply sends back a config read with config.get, with the settings this app does not
    // know: the relay checks those itself, strictly (see CONFIG_KEEPS_UNKNOWN).
    const parsed = (CONFIG_KEEPS_UNKNOWN.has(method) ? keepingUnknown(def.params) : def.params).safeParse(params ?? {});
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error);
      return Promise.reject(new ControlError('INVALID_PARAMS', `invalid params for ${method}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues));
    }
    return this.request(method, parsed.data, options?.timeoutMs).then((result) => {
      // A newer relay may add fields: dropped, not an error (relaxed-schema.ts). The config keeps
      // them instead, so that config.apply writes back what this app cannot show.
      const r = (CONFIG_KEEPS_UNKNOWN.has(method) ? keepingUnknown(def.result) : relaxed(def.result)).safeParse(result);
      if (!r.success) {
        const issues = issuesFromZod(r.error, ['result']);
        throw new ControlError('BAD_RESPONSE', `${method}: the relay's answer does not match the contract (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`, issues);
      }
      return r.data as MethodResult<N>;
    });
  }

  /** Close the connection; pending calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    const gone = new Promise<void>((resolve) => this.stream.once('close', () => resolve()));
    this.shutdown(undefined);
    this.stream.destroy();
    await Promise.race([gone, new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /** Send a request and wait for its raw result (used by call() and by the handshake). */
  private request(method: string, params: unknown, timeoutMs = this.opts.requestTimeoutMs ?? 30_000): Promise<unknown> {
    if (this.isClosed) return Promise.reject(this.closeError ?? new ControlError('CLOSED', 'the control connection is closed'));
    const id = this.nextId++;
    const frame = encodeFrame({ jsonrpc: '2.0', id, method, params });
    if (frame === null) return Promise.reject(new ControlError('FRAME_TOO_LARGE', `${method}: the request is larger than 1 MiB`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ControlError('TIMEOUT', `${method}: no answer from the relay within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.stream.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (frame.kind === 'message') this.onMessage(frame.value);
      else {
        const why = frame.kind === 'too-large' ? 'a frame from the relay passed the 1 MiB limit' : `the relay sent malformed JSON (${frame.error})`;
        this.shutdown(new ControlError('BAD_RESPONSE', why));
        this.stream.destroy();
        return;
      }
    }
  }

  private onMessage(value: unknown): void {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    const message = value as Record<string, unknown>;
    if (typeof message.method === 'string' && !('id' in message)) {
      if (this.handshake && (message.method === NOTIFICATION_HELLO || message.method === NOTIFICATION_READY)) return this.handshake(message);
      if (message.method === NOTIFICATION_LOGS_EVENT) {
        const p = relaxed(logsEventParams).safeParse(message.params);
        if (p.success) this.emit('logs.event', p.data);
        return;
      }
      this.emit('notification', message.method, message.params);
      return;
    }
    const r = relaxed(rpcResponseSchema).safeParse(value);
    if (!r.success) return;
    const res = r.data;
    if (res.id === null) {
      // An error that names no request: the server's last word before closing (auth refused,
      // too many connections, oversize frame), or dial-stdio's failure report.
      if ('error' in res) this.closeError = ControlError.fromRpcError(res.error);
      return;
    }
    const p = typeof res.id === 'number' ? this.pending.get(res.id) : undefined;
    if (!p) return; // late answer to a call that timed out
    this.pending.delete(res.id as number);
    clearTimeout(p.timer);
    if ('error' in res) p.reject(ControlError.fromRpcError(res.error));
    else p.resolve(res.result);
  }

  private shutdown(err: ControlError | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const reason = this.closeError ?? err;
    this.closeError = reason ?? new ControlError('CLOSED', 'the control connection is closed');
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.closeError);
    }
    this.pending.clear();
    this.onHandshakeClose?.(this.closeError);
    this.emit('close', reason);
  }

  /** Run the handshake: hello → auth, or wait for dial-stdio's ready. */
  async authenticate(auth: ControlAuth): Promise<void> {
    const timeoutMs = this.opts.handshakeTimeoutMs ?? 10_000;
    try {
      this.server = await new Promise<ReadyParams>((resolve, reject) => {
        const timer = setTimeout(() => reject(new ControlError('TIMEOUT', `no handshake from the relay within ${timeoutMs / 1000} s`)), timeoutMs);
        const settle = (f: () => void): void => {
          clearTimeout(timer);
          this.handshake = null;
          this.onHandshakeClose = null;
          f();
        };
        this.onHandshakeClose = (err) => settle(() => reject(err));
        this.handshake = (message) => {
          if ('preAuthenticated' in auth) {
            if (message.method !== NOTIFICATION_READY) return;
            const ready = relaxed(readyParamsSchema).safeParse(message.params);
            if (!ready.success) return settle(() => reject(new ControlError('BAD_RESPONSE', 'malformed ready notification')));
            return settle(() => (checkProtocol(ready.data.protocol, ready.data.version, reject) ? resolve(ready.data) : undefined));
          }
          if (message.method !== NOTIFICATION_HELLO) return;
          const hello = relaxed(helloParamsSchema).safeParse(message.params);
          if (!hello.success) return settle(() => reject(new ControlError('BAD_RESPONSE', 'malformed hello from the relay')));
          if (!checkProtocol(hello.data.protocol, hello.data.version, (e) => settle(() => reject(e)))) return;
          this.handshake = null;
          const key = typeof auth.key === 'string' ? Buffer.from(auth.key.trim(), 'hex') : auth.key;
          const clientNonce = newNonce();
          this.request('auth', { clientNonce, mac: computeMac(key, hello.data.nonce, clientNonce) }, timeoutMs).then(
            (result) => {
              const ready = relaxed(readyParamsSchema).safeParse(result);
              settle(() => (ready.success ? resolve(ready.data) : reject(new ControlError('BAD_RESPONSE', 'malformed auth result'))));
            },
            (err: ControlError) => settle(() => reject(err)),
          );
        };
      });
    } catch (err) {
      this.stream.destroy();
      throw err;
    }
  }
}

/** The methods whose config keeps keys this app does not know (see call). */
const CONFIG_KEEPS_UNKNOWN: ReadonlySet<string> = new Set(['config.get', 'config.apply']);

function checkProtocol(protocol: number, version: string, reject: (e: ControlError) => void): boolean {
  if (protocol === PROTOCOL_VERSION) return true;
  reject(new ControlError('PROTOCOL_MISMATCH', `the relay (version ${version}) speaks control protocol ${protocol}; this client speaks ${PROTOCOL_VERSION}`));
  return false;
}

/** Speak the control protocol over `stream`; resolves once the session is authenticated. */
export async function connectControl(stream: Duplex, auth: ControlAuth, opts: ControlClientOptions = {}): Promise<ControlClient> {
  const client = new ControlClient(stream, opts);
  await client.authenticate(auth);
  return client;
}

/** Connect to the relay of `dataDir` on this machine with its key file (write key, else read-only key). */
export async function openLocalControl(dataDir: string, opts: ControlClientOptions = {}): Promise<ControlClient> {
  const socket = await connectSocket(controlSocketPath(dataDir));
  try {
    const { key } = await readClientKey(dataDir);
    return await connectControl(socket, { key }, opts);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Connect to a control socket; "nobody there" becomes UNAVAILABLE with the path. */
export function connectSocket(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => resolve(socket));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'the relay is not running' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new ControlError('UNAVAILABLE', `cannot connect to the control socket ${socketPath}: ${why}`));
    });
  });
}
