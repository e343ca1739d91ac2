/**
 * SMTP listeners: one smtp-server instance per configured listener (plain + STARTTLS, or implicit
 * TLS), all sharing the same session handlers.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Listener, RelayConfig } from '../config/schema.ts';
import type { TlsMaterial } from './tls-material.ts';
import type { createSessionHandlers } from './session-handlers.ts';

type Handlers = ReturnType<typeof createSessionHandlers>;

/** A listener that failed to bind, with words a person can act on. */
export class ListenerBindError extends Error {
  constructor(
    readonly listener: Listener,
    readonly code: string,
  ) {
    const where = `${listener.host}:${listener.port}`;
    const why =
      code === 'EADDRINUSE'
        ? `port ${listener.port} on ${listener.host} is already in use (another mail server or relay?)`
        : code === 'EACCES'
          ? `permission denied to listen on ${where} (ports below 1024 need privileges)`
          : code === 'EADDRNOTAVAIL'
            ? `address ${listener.host} is not an address of this host`
            : `cannot listen on ${where}: ${code}`;
    super(`listener "${listener.name}" (listeners): ${why}`);
  }
}

/**
 * smtp-server pauses 100 ms before every greeting to catch clients that talk too soon. That pause
 * caps a relay fed by many short connections (printers, scripts, smtp-source), so we greet at once
 * and keep the pause only where it earns its cost: for untrusted clients when the advanced policy
 * "reject unauthorized pipelining" is on (see `greetingDelayMs`).
 */
class PromptSMTPServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly greetingDelayMs: (remoteAddress: string) => number,
  ) {
    super(options);
  }
  override connect(socket: import('node:net').Socket, socketOptions: unknown): void {
    // Mirrors SMTPServer#connect (smtp-server 3.21, pinned) but replaces its fixed early-talker delay.
    const self = this as unknown as {
      connections: Set<unknown>;
      _onError(err: Error): void;
      _onClientConnect(data: unknown): void;
    };
    const connection = new ConnectionClass(this, socket, socketOptions);
    self.connections.add(connection);
    connection.on('error', (err: Error) => self._onError(err));
    connection.on('connect', (data: unknown) => self._onClientConnect(data));
    const delay = this.greetingDelayMs(socket.remoteAddress ?? '');
    connection._setListeners(() => {
      if (this.options.maxClients && self.connections.size > this.options.maxClients) {
        connection.send(421, `${connection.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      if (delay > 0) setTimeout(() => connection.connectionReady(), delay).unref();
      else connection.connectionReady();
    });
  }
}

interface SMTPConnectionLike {
  name: string;
  on(event: string, fn: (arg: never) => void): void;
  _setListeners(cb: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, cmd: boolean): void;
}
/** smtp-server does not export its connection class from the main entry; its lib path does. */
const ConnectionClass = SMTPConnection as unknown as new (server: unknown, socket: unknown, opts: unknown) => SMTPConnectionLike;

/** Apply profile settings that smtp-server reads per new connection, without a restart. */
export function updateListenerOptions(running: RunningListener, config: RelayConfig): void {
  const o = running.server.options;
  const profile = config.general.profile;
  o.name = profile.hostname;
  o.banner = profile.banner;
  o.size = Math.floor(profile.maxMessageSizeMB * 1024 * 1024);
  o.allowInsecureAuth = !config.general.auth.requireTls;
}

export interface RunningListener {
  listener: Listener;
  server: SMTPServer;
  /** The bound port (differs from the config when it asked for port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startListener(
  listener: Listener,
  config: RelayConfig,
  tls: TlsMaterial,
  handlers: Handlers,
  greetingDelayMs: (remoteAddress: string) => number,
): Promise<RunningListener> {
  const profile = config.general.profile;
  const options: SMTPServerOptions = {
    name: profile.hostname,
    banner: profile.banner,
    secure: listener.tls === 'implicit',
    hideSTARTTLS: listener.tls === 'none',
    key: tls.key,
    cert: tls.cert,
    size: Math.floor(profile.maxMessageSizeMB * 1024 * 1024),
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    // AUTH over plaintext is governed per session (general.auth.requireTls), see session-handlers.
    allowInsecureAuth: !config.general.auth.requireTls,
    disableReverseLookup: true,
    logger: false,
    maxClients: 2000,
    socketTimeout: 5 * 60_000,
    closeTimeout: 30_000,
    onConnect: handlers.onConnect,
    onSecure: handlers.onSecure,
    onAuth: handlers.onAuth,
    onMailFrom: handlers.onMailFrom,
    onRcptTo: handlers.onRcptTo,
    onData: handlers.onData,
  };
  const server = new PromptSMTPServer(options, greetingDelayMs);
  server.on('error', () => undefined); // per-connection errors are reported through the handlers' logs
  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new ListenerBindError(listener, err.code ?? err.message));
    server.server.once('error', onError);
    server.listen(listener.port, listener.host, () => {
      server.server.off('error', onError);
      resolve((server.server.address() as import('node:net').AddressInfo).port);
    });
  });
  return {
    listener,
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
