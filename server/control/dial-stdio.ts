/**
 * `mailrelay dial-stdio`: join stdin/stdout to the control socket so that a remote client can reach
 * the relay through an SSH exec channel. It authenticates itself with the key file on this host (the
 * key never leaves the box), tells the remote side with a `ready` notification, then passes bytes
 * both ways untouched; on failure it writes one `id: null` error response (see rpc-messages.ts).
 */
import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  ControlError,
  MAX_FRAME_BYTES,
  NOTIFICATION_READY,
  PROTOCOL_VERSION,
  helloParamsSchema,
  readyParamsSchema,
  rpcResponseSchema,
  type ReadyParams,
} from '../protocol/index.ts';
import { encodeFrame } from './frame-codec.ts';
import { computeMac, controlSocketPath, newNonce, readClientKey } from './control-key.ts';
import { connectSocket } from './control-client.ts';

/** Options of dialStdio. */
export interface DialStdioOptions {
  handshakeTimeoutMs?: number;
  /** Where to say in words why it failed (the CLI passes process.stderr). */
  stderr?: Writable;
}

/** Run dial-stdio until either side closes; resolves with the exit status (0 = clean end). */
export async function dialStdio(dataDir: string, stdin: Readable, stdout: Writable, opts: DialStdioOptions = {}): Promise<number> {
  let socket: net.Socket;
  try {
    socket = await connectSocket(controlSocketPath(dataDir));
  } catch (err) {
    return fail(err, stdout, opts.stderr);
  }
  let ready: ReadyParams;
  let rest: Buffer;
  try {
    const { key } = await readClientKey(dataDir);
    ({ ready, rest } = await authenticate(socket, key, opts.handshakeTimeoutMs ?? 10_000));
  } catch (err) {
    socket.destroy();
    return fail(err, stdout, opts.stderr);
  }
  stdout.write(encodeFrame({ jsonrpc: '2.0', method: NOTIFICATION_READY, params: ready })!);
  if (rest.length) stdout.write(rest);
  return relay(socket, stdin, stdout);
}

/** Pass bytes both ways until the socket closes. */
function relay(socket: net.Socket, stdin: Readable, stdout: Writable): Promise<number> {
  return new Promise((resolve) => {
    let failed = false;
    socket.on('error', () => {
      failed = true;
    });
    // The remote side went away (SSH channel closed): nobody is left to talk to.
    stdout.on('error', () => socket.destroy());
    socket.once('close', () => {
      stdin.unpipe(socket);
      stdin.pause();
      resolve(failed ? 1 : 0);
    });
    socket.pipe(stdout);
    stdin.pipe(socket);
    socket.resume();
  });
}

/** The hello/auth exchange; resolves with the server's answer and any bytes that followed it. */
function authenticate(socket: net.Socket, key: Buffer, timeoutMs: number): Promise<{ ready: ReadyParams; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let authSent = false;
    const timer = setTimeout(() => finish(new ControlError('TIMEOUT', `no handshake from the relay within ${timeoutMs / 1000} s`)), timeoutMs);
    const onClose = (): void => finish(new ControlError('CLOSED', 'the relay closed the control connection during the handshake'));
    const onError = (err: Error): void => finish(new ControlError('CLOSED', `control connection failed: ${err.message}`));

    function finish(err: ControlError | null, ready?: ReadyParams): void {
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve({ ready: ready!, rest: buf });
    }

    function onLine(line: string): boolean {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        finish(new ControlError('BAD_RESPONSE', 'the relay sent malformed JSON during the handshake'));
        return true;
      }
      if (!authSent) {
        const hello = helloParamsSchema.safeParse((message as { params?: unknown })?.params);
        if ((message as { method?: unknown })?.method !== 'hello' || !hello.success) {
          finish(new ControlError('BAD_RESPONSE', 'the relay did not open with hello'));
          return true;
        }
        if (hello.data.protocol !== PROTOCOL_VERSION) {
          finish(new ControlError('PROTOCOL_MISMATCH', `the relay speaks control protocol ${hello.data.protocol}; this dial-stdio speaks ${PROTOCOL_VERSION}`));
          return true;
        }
        const clientNonce = newNonce();
        socket.write(encodeFrame({ jsonrpc: '2.0', id: 1, method: 'auth', params: { clientNonce, mac: computeMac(key, hello.data.nonce, clientNonce) } })!);
        authSent = true;
        return false;
      }
      const res = rpcResponseSchema.safeParse(message);
      if (!res.success) {
        finish(new ControlError('BAD_RESPONSE', 'malformed auth answer from the relay'));
      } else if ('error' in res.data) {
        finish(ControlError.fromRpcError(res.data.error));
      } else {
        const ready = readyParamsSchema.safeParse(res.data.result);
        if (ready.success) finish(null, ready.data);
        else finish(new ControlError('BAD_RESPONSE', 'malformed auth result from the relay'));
      }
      return true;
    }

    function onData(chunk: Buffer): void {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
        const line = buf.toString('utf8', 0, nl);
        buf = buf.subarray(nl + 1);
        if (onLine(line)) return;
      }
      if (buf.length > MAX_FRAME_BYTES) finish(new ControlError('BAD_RESPONSE', 'a handshake frame from the relay passed the 1 MiB limit'));
    }

    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
  });
}

/** Report a failure as an `id: null` error response (for the remote client) and a line (for people). */
function fail(err: unknown, stdout: Writable, stderr: Writable | undefined): Promise<number> {
  const e = err instanceof ControlError ? err : new ControlError('INTERNAL', (err as Error)?.message ?? String(err));
  stderr?.write(`mailrelay dial-stdio: ${e.message}\n`);
  return new Promise((resolve) => {
    stdout.write(encodeFrame({ jsonrpc: '2.0', id: null, error: e.toRpcError() })!, () => resolve(1));
  });
}
