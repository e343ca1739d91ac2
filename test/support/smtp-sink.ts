/**
 * SMTP peers for tests, on loopback and ephemeral ports:
 * - `startSmtpSink`: an smtp-server based sink that records every envelope and body, and can be
 *   told (also while running) to refuse the connection, MAIL, single recipients or DATA with any
 *   reply, to require AUTH, to offer STARTTLS or speak implicit TLS (smtp-server's built-in test
 *   certificate, self-signed), to hide extensions, and to go down and come back on the same port.
 * - `startPostfixSink`: Postfix's own /usr/sbin/smtp-sink, a foreign implementation to check
 *   interoperability against (dumps messages to files when asked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { freePort } from './free-port.ts';
import { waitFor } from './wait-for.ts';
import { canConnect } from './port-probe.ts';

/** A reply the sink gives instead of accepting, e.g. {code: 550, message: '5.1.1 No such user'}. */
export interface SinkReply {
  code: number;
  message: string;
}

/** One message the sink accepted. */
export interface SinkMessage {
  from: string;
  /** Recipients accepted at RCPT TO. */
  to: string[];
  body: Buffer;
  /** MAIL FROM parameters (upper-case keys), e.g. {BODY: '8BITMIME', SMTPUTF8: true}. */
  mailParams: Record<string, unknown>;
  helo: string;
  /** What smtp-server understood from MAIL FROM (BODY= and SMTPUTF8). */
  bodyType: string;
  smtpUtf8: boolean;
  secure: boolean;
  user: string | null;
  /** Sequence number of the connection that carried it (1 = first connection). */
  connection: number;
}

/** What the sink does; every field can be changed at run time with `sink.configure`. */
export interface SinkBehaviour {
  /** Refuse connections with this reply (e.g. 421 or 554) right after connect. */
  connectReply: SinkReply | null;
  mailReply: ((from: string) => SinkReply | null) | null;
  /** Per-recipient replies; return null to accept. */
  rcptReply: ((to: string) => SinkReply | null) | null;
  /** Reply to the end of DATA; return null to accept. */
  dataReply: ((msg: SinkMessage) => SinkReply | null) | null;
}

export interface SmtpSinkOptions extends Partial<SinkBehaviour> {
  host?: string;
  /** 0 (default) = ephemeral. */
  port?: number;
  /** none (default): plain; starttls: offer STARTTLS; implicit: TLS from the first byte. */
  tls?: 'none' | 'starttls' | 'implicit';
  /** Require AUTH (PLAIN/LOGIN) with these credentials before MAIL. */
  auth?: { user: string; pass: string } | null;
  hide8BITMIME?: boolean;
  hideSMTPUTF8?: boolean;
  hidePIPELINING?: boolean;
  /** Announced SIZE limit in bytes. */
  size?: number;
  name?: string;
  /** Extra TLS server options (e.g. {maxVersion: 'TLSv1'} to make handshakes with modern clients fail). */
  tlsOptions?: tls.TlsOptions;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  readonly messages: SinkMessage[];
  /** Connections accepted so far (including refused ones). */
  readonly connections: number;
  /** Every RCPT TO address the sink saw, accepted or not (as smtp-server parsed it: IDN decoded). */
  readonly rcptSeen: string[];
  /** Raw client command lines seen before TLS (none for implicit TLS), e.g. "RCPT TO:<a@xn--…>". */
  readonly commands: string[];
  configure(change: Partial<SinkBehaviour>): void;
  /** Resolve once `count` messages have arrived (waits on events, not sleeps). */
  waitForMessages(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  /** Go down: stop listening and drop open connections. The port stays reserved for `start`. */
  stop(): Promise<void>;
  /** Come back up on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function replyError(r: SinkReply): Error {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

/** Start an smtp-server sink on 127.0.0.1 (ephemeral port unless `port` is given). */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = opts.host ?? '127.0.0.1';
  const behaviour: SinkBehaviour = {
    connectReply: opts.connectReply ?? null,
    mailReply: opts.mailReply ?? null,
    rcptReply: opts.rcptReply ?? null,
    dataReply: opts.dataReply ?? null,
  };
  const messages: SinkMessage[] = [];
  const rcptSeen: string[] = [];
  const commands: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let connections = 0;
  const connectionNo = new Map<string, number>();
  let server: SMTPServer | null = null;
  let port = opts.port ?? 0;

  const notify = (): void => {
    for (const w of [...waiters]) {
      if (messages.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const serverOptions = (): SMTPServerOptions => ({
    ...opts.tlsOptions,
    name: opts.name ?? 'sink.test',
    logger: false,
    secure: opts.tls === 'implicit',
    disabledCommands: [...(opts.tls === 'starttls' || opts.tls === 'implicit' ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    hide8BITMIME: opts.hide8BITMIME ?? false,
    hideSMTPUTF8: opts.hideSMTPUTF8 ?? false,
    hidePIPELINING: opts.hidePIPELINING ?? false,
    size: opts.size,
    disableReverseLookup: true,
    closeTimeout: 100,
    onConnect(session, cb) {
      connections++;
      connectionNo.set(session.id, connections);
      cb(behaviour.connectReply ? replyError(behaviour.connectReply) : null);
    },
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom(address, _session, cb) {
      const r = behaviour.mailReply?.(address.address) ?? null;
      cb(r ? replyError(r) : null);
    },
    onRcptTo(address, _session, cb) {
      rcptSeen.push(address.address);
      const r = behaviour.rcptReply?.(address.address) ?? null;
      cb(r ? replyError(r) : null);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const msg = toMessage(session, Buffer.concat(chunks), connectionNo.get(session.id) ?? 0);
        const r = behaviour.dataReply?.(msg) ?? null;
        if (r) return cb(replyError(r));
        messages.push(msg);
        notify();
        cb(null, '2.0.0 Ok: queued');
      });
    },
  });

  async function start(): Promise<void> {
    const s = new SMTPServer(serverOptions());
    s.on('error', () => undefined); // client resets during tests are expected
    if (opts.tls !== 'implicit') s.server.on('connection', (socket: net.Socket) => tapCommands(socket, commands));
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, host, () => {
        s.server.removeListener('error', reject);
        resolve();
      });
    });
    port = (s.server.address() as net.AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    server = null;
    if (!s) return;
    for (const c of s.connections) c._socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await start();
  return {
    host,
    get port() {
      return port;
    },
    messages,
    get connections() {
      return connections;
    },
    rcptSeen,
    commands,
    configure(change) {
      Object.assign(behaviour, change);
    },
    waitForMessages(count, timeoutMs = 15_000) {
      if (messages.length >= count) return Promise.resolve(messages.slice());
      return new Promise<SinkMessage[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sink got ${messages.length} of ${count} messages`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(messages.slice());
          },
        });
      });
    },
    stop,
    start,
    close: stop,
  };
}

/** Record the client's command lines until STARTTLS (or DATA, whose content is not a command). */
function tapCommands(socket: net.Socket, commands: string[]): void {
  let buffered = '';
  let inData = false;
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 2);
      if (inData) {
        if (line === '.') inData = false;
        continue;
      }
      commands.push(line);
      if (/^DATA$/i.test(line)) inData = true;
      if (/^STARTTLS$/i.test(line)) {
        socket.removeListener('data', onData);
        return;
      }
    }
  };
  socket.on('data', onData);
}

function toMessage(session: SMTPServerSession, body: Buffer, connection: number): SinkMessage {
  const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
  const params = session.envelope.mailFrom === false ? {} : (session.envelope.mailFrom.args || {});
  return {
    from,
    to: session.envelope.rcptTo.map((r) => r.address),
    body,
    mailParams: params as Record<string, unknown>,
    helo: session.hostNameAppearsAs ?? '',
    bodyType: session.envelope.bodyType ?? '7bit',
    smtpUtf8: session.envelope.smtpUtf8 ?? false,
    secure: session.secure,
    user: typeof session.user === 'string' ? session.user : null,
    connection,
  };
}

/** Postfix's smtp-sink, started on a free loopback port. */
export interface PostfixSink {
  readonly host: string;
  readonly port: number;
  /** Where messages are dumped (when started with `dump: true`). */
  readonly dumpDir: string | null;
  /** Dumped messages (smtp-sink's X-* lines, then header and body), oldest first by name. */
  dumps(): string[];
  stop(): Promise<void>;
}

/**
 * Start /usr/sbin/smtp-sink. `args` are extra smtp-sink options (e.g. ['-8'] to hide 8BITMIME,
 * ['-r', 'RCPT'] to soft-reject recipients). As root it must drop privileges (-u nobody), so the
 * dump directory is made world-writable.
 */
export async function startPostfixSink(opts: { args?: string[]; dumpDir?: string; hostname?: string } = {}): Promise<PostfixSink> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dumpDir = opts.dumpDir ?? null;
  if (dumpDir) {
    mkdirSync(dumpDir, { recursive: true });
    chmodSync(dumpDir, 0o777);
  }
  const args = [
    ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
    '-h',
    opts.hostname ?? 'postfix-sink.test',
    ...(dumpDir ? ['-d', path.join(dumpDir, 'msg.')] : []),
    ...(opts.args ?? []),
    `${host}:${port}`,
    '64',
  ];
  const child: ChildProcess = spawn('/usr/sbin/smtp-sink', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  await waitFor(`smtp-sink on port ${port}`, async () => {
    if (exited) throw new Error(`smtp-sink exited: ${stderr.trim()}`);
    return canConnect(host, port);
  });
  return {
    host,
    port,
    dumpDir,
    dumps() {
      if (!dumpDir) return [];
      return readdirSync(dumpDir)
        .filter((f) => f.startsWith('msg.'))
        .sort()
        .map((f) => readFileSync(path.join(dumpDir, f), 'utf8'));
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
