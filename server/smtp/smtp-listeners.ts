/**
 * SMTP listeners: one smtp-server instance per configured listener (plain + STARTTLS, or implicit
 * TLS), all sharing the same session handlers.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
// smtp-server does not export its connection and parser classes from the main entry; its lib paths do.
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { Listener, RelayConfig } from '../config/schema.ts';
import type { TlsMaterial } from './tls-material.ts';
import type { CommandDecision, createSessionHandlers } from './session-handlers.ts';

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

/** A random part per process and a counter: unique session ids for the log, as smtp-server's are. */
const SESSION_PREFIX = randomBytes(5).readUIntBE(0, 5).toString(32).padStart(8, '0').slice(-8);
let sessionCounter = 0;
function nextSessionId(): string {
  sessionCounter = (sessionCounter + 1) % 2 ** 40;
  return SESSION_PREFIX + sessionCounter.toString(32).padStart(8, '0');
}

/**
 * smtp-server pauses 100 ms before every greeting to catch clients that talk too soon. That pause
 * caps a relay fed by many short connections (printers, scripts, smtp-source), so we greet at once
 * and keep a pause only where it earns its cost: for untrusted clients when the advanced policy
 * "reject unauthorized pipelining" is on (`handlers.greetingDelayMs`).
 *
 * Each connection is also instrumented (see `instrument`), because smtp-server has no hook for
 * HELO/EHLO, for the moment a command arrives, or for the replies it sends itself.
 */
class PromptSMTPServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly handlers: Handlers,
  ) {
    super(options);
  }
  /**
   * Without the PROXY protocol smtp-server only names the session here, from 10 random bytes
   * through a BigInt: a measurable share of a short connection's CPU time. A counter does as well.
   */
  override _handleProxy(socket: Socket, callback: Parameters<SMTPServer['_handleProxy']>[1]): void {
    if (this.options.useProxy) return super._handleProxy(socket, callback);
    const id = nextSessionId();
    const ignore = !!this.options.ignoredHosts?.includes(socket.remoteAddress ?? '');
    setImmediate(() => callback(null, { id, ignore }));
  }

  override connect(socket: Socket, socketOptions: SMTPConnectionOptions): void {
    // Mirrors SMTPServer#connect (smtp-server 3.21, pinned) but replaces its fixed early-talker delay.
    const self = this as unknown as {
      connections: Set<SMTPConnection>;
      _onError(err: Error): void;
      _onClientConnect(data: unknown): void;
    };
    const connection = new SMTPConnection(this, socket, socketOptions);
    instrument(connection, this.handlers);
    self.connections.add(connection);
    connection.on('error', (err: Error) => self._onError(err));
    connection.on('connect', (data: unknown) => self._onClientConnect(data));
    const delay = this.handlers.greetingDelayMs(socket.remoteAddress ?? '');
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

/**
 * Commands after which a client must wait for the reply before sending more (RFC 2920 §3.1; AUTH
 * without an initial response, RFC 4954 §4; STARTTLS, RFC 3207 §4). Without PIPELINING (HELO, or no
 * EHLO yet) every command is one.
 */
const SYNC_COMMANDS = new Set(['EHLO', 'HELO', 'LHLO', 'DATA', 'VRFY', 'EXPN', 'TURN', 'QUIT', 'NOOP', 'STARTTLS']);

function isSyncPoint(verb: string, line: string, pipelining: boolean, continuation: boolean): boolean {
  if (continuation || !pipelining) return true;
  if (verb === 'AUTH') return line.trim().split(/\s+/).length < 3;
  return SYNC_COMMANDS.has(verb);
}

/**
 * Hooks a connection's internals (smtp-server 3.21, pinned):
 * - every reply is counted, and `afterReply` may end the session (protocol error limit);
 * - every chunk the parser receives remembers how many replies had been sent when it arrived, so a
 *   command is known to be "sent ahead" when it arrived before the reply it had to wait for — the
 *   greeting, or the reply to a synchronising command (RFC 2920) — whatever the parser's buffering;
 * - every command line goes to `beforeCommand` first, which may answer it instead (HELO/EHLO checks,
 *   AUTH refusals, unauthorized pipelining), hold it until the greeting, or let a MAIL without HELO
 *   through when HELO is not required.
 */
function instrument(connection: SMTPConnection, handlers: Handlers): void {
  let replies = 0;
  /** Replies the client must have seen before sending anything more: the greeting first. */
  let barrier = 1;
  /** Replies sent when the chunk being parsed arrived. */
  let arrivedAfter = 0;
  let heldForGreeting: (() => void) | null = null;
  // smtp-server fills the session in only once the greeting is due; an early talker's session needs
  // the client's address already.
  connection.session.remoteAddress = connection.remoteAddress;
  connection.session.remotePort = connection.remotePort;
  const arrival = new WeakMap<object, number>();

  const watchParser = (parser: SMTPStream): void => {
    const write = parser.write.bind(parser) as (chunk: unknown, ...rest: unknown[]) => boolean;
    parser.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk && typeof chunk === 'object') arrival.set(chunk, replies);
      return write(chunk, ...rest);
    }) as typeof parser.write;
    // A client without PIPELINING (HELO) must wait for the reply to the end of the message too: once
    // DATA is accepted, the next command may only follow the 354 and the final reply.
    const startDataMode = parser.startDataMode.bind(parser);
    parser.startDataMode = ((...args: Parameters<typeof parser.startDataMode>) => {
      if (connection.openingCommand !== 'EHLO') barrier = replies + 2;
      return startDataMode(...args);
    }) as typeof parser.startDataMode;
    const _write = parser._write.bind(parser);
    parser._write = (chunk, encoding, next) => {
      // Chunks the parser re-feeds itself (after DATA) are new buffers: they keep the arrival they came with.
      const a = arrival.get(chunk);
      if (a !== undefined) arrivedAfter = a;
      _write(chunk, encoding, next);
    };
  };
  if (connection._parser) watchParser(connection._parser);
  const createParser = connection._createParser.bind(connection);
  connection._createParser = () => {
    const parser = createParser();
    watchParser(parser);
    return parser;
  };

  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    replies++;
    send(code, data, context);
    const follow = code === 421 || connection._closing ? null : handlers.afterReply(connection.session, code);
    if (follow) send(follow.code, follow.text, false); // a 421: smtp-server closes the connection
  };

  const sendGreeting = connection._sendGreeting.bind(connection);
  connection._sendGreeting = () => {
    sendGreeting();
    const held = heldForGreeting;
    heldForGreeting = null;
    held?.();
  };

  const onCommand = connection._onCommand.bind(connection);
  const handle = (command: Buffer, callback?: () => void): void => {
    const next = callback ?? (() => undefined);
    if (connection._upgrading || connection._closing || connection._closed) return onCommand(command, callback);
    const line = command.toString();
    const continuation = !!connection._nextHandler;
    const verb = continuation ? '' : (line.split(' ')[0] ?? '').toUpperCase();
    const info = {
      verb,
      line,
      beforeGreeting: !connection._ready,
      sentAhead: arrivedAfter < barrier,
      heloGiven: !!connection.hostNameAppearsAs,
      secure: connection.secure,
    };
    const apply = (d: CommandDecision): void => {
      if (d.action === 'wait-for-greeting') {
        heldForGreeting = () => handle(command, callback);
        return;
      }
      if (!info.beforeGreeting && isSyncPoint(verb, line, connection.openingCommand === 'EHLO', continuation)) barrier = replies + 1;
      if (d.action === 'reply') {
        connection.send(d.code, d.text, false);
        if (d.close) connection.close();
        connection._whenWritable(next);
        return;
      }
      if (d.action === 'proceed-without-helo') {
        connection.hostNameAppearsAs = `[${connection.remoteAddress}]`;
        connection.session.hostNameAppearsAs = connection.hostNameAppearsAs;
      }
      onCommand(command, callback);
    };
    let decision: CommandDecision | Promise<CommandDecision>;
    try {
      decision = handlers.beforeCommand(connection.session, info);
    } catch {
      decision = { action: 'reply', code: 451, text: '4.3.0 Internal error while checking the command', close: false };
    }
    // An exception in apply would otherwise be an unhandled rejection, which ends the process.
    if (decision instanceof Promise) decision.then(apply).catch(() => connection.close());
    else apply(decision);
  };
  connection._onCommand = handle;
}

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
    onClose: handlers.onClose,
    onSecure: handlers.onSecure,
    onAuth: handlers.onAuth,
    onMailFrom: handlers.onMailFrom,
    onRcptTo: handlers.onRcptTo,
    onData: handlers.onData,
  };
  const server = new PromptSMTPServer(options, handlers);
  server.on('error', () => undefined); // per-connection errors are reported through the handlers' logs
  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new ListenerBindError(listener, err.code ?? err.message));
    server.server.once('error', onError);
    server.listen(listener.port, listener.host, () => {
      server.server.off('error', onError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
  return {
    listener,
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
