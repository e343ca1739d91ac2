/**
 * The SMTP session: smtp-server calls these handlers at each stage (and the listener calls
 * `beforeCommand` / `afterReply` around every command, see smtp-listeners.ts); they gather facts, ask
 * the policy functions for a verdict (server/policy/session-policy.ts), and turn verdicts into replies
 * and log lines. Accepting a message means the spool has it on disk (fsynced) before the 250 goes out.
 */
import type { Writable } from 'node:stream';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { RelayConfig } from '../config/schema.ts';
import type { RelayLog } from '../logging/relay-log.ts';
import type { Envelope, QueueEntry } from '../queue/types.ts';
import { parseAddress } from '../policy/address.ts';
import { PIPELINING_GREETING_DELAY_MS, unauthorizedPipelining } from '../policy/advanced-policy.ts';
import { beginAuthAttempt, checkAuthThrottle, recordAuthFailure } from '../policy/auth-throttle.ts';
import { ClientCounters } from '../policy/client-counters.ts';
import { checkErrorLimit, connectionsKey, isProtocolError } from '../policy/connection-policy.ts';
import { CompiledLists } from '../policy/lists.ts';
import { createPolicyDns, type PolicyDns } from '../policy/policy-dns.ts';
import { classifyRecipient, localDomains, relayDomainSet } from '../policy/relay-control.ts';
import { NetworkList, localNetworks, normalizeIp } from '../policy/networks.ts';
import {
  checkConnect,
  checkHelo,
  checkMailFrom,
  checkMissingHelo,
  checkRcptTo,
  clientAllowed,
  discardOf,
  limitsExempt,
  newClientState,
  type ClientState,
  type PolicyContext,
} from '../policy/session-policy.ts';
import { replyLine, SmtpReplyError, type Rejection, type Verdict } from '../policy/verdict.ts';
import { MessageInspector } from './message-inspector.ts';
import { checkEndOfData } from '../policy/end-of-data.ts';
import { receivedHeader } from './received-header.ts';

/** A spool writer: bytes go in, `commit` resolves once they are durable. */
export interface MessageWriter extends Writable {
  commit(): Promise<QueueEntry>;
  abort(): Promise<void>;
}

/** What the session needs from the rest of the relay. */
export interface SessionDeps {
  getConfig(): RelayConfig;
  log: RelayLog;
  newMessageId(): string;
  createWriter(envelope: Envelope): MessageWriter;
  /** Called after commit: the scheduler takes the message from here. */
  onQueued(entry: QueueEntry): void;
  /** Check SMTP AUTH credentials against the user store. */
  verifyUser(username: string, password: string): Promise<boolean>;
  /**
   * The addresses a user may send as besides its login (user store `allowedSenders`), for
   * `senderMustMatchLogin`. Without it only the login itself (when it is an address) is allowed.
   */
  allowedSenders?(username: string): Promise<string[]>;
  /** Counters for statistics. */
  count?(name: 'received' | 'rejected', reason?: string): void;
  /** Lookups for the DNS-based policies; default: node:dns on `dns.external`. Tests inject their own. */
  policyDns?(servers: readonly string[]): PolicyDns;
  /** Per-client counters (rates, connections, AUTH failures); tests inject one with their own clock. */
  counters?: ClientCounters;
}

/** A command line as the listener saw it, before smtp-server handles it. */
export interface CommandInfo {
  /** Upper-case command verb; '' for the continuation lines of an AUTH exchange. */
  verb: string;
  line: string;
  /** Sent before the greeting (an early talker). */
  beforeGreeting: boolean;
  /** Sent before the reply to a command the client had to wait for (RFC 2920), or before the greeting. */
  sentAhead: boolean;
  /** The client has given HELO/EHLO in this session. */
  heloGiven: boolean;
  secure: boolean;
}

/** What the listener does with a command line. */
export type CommandDecision =
  | { action: 'proceed' }
  /** MAIL without HELO while HELO is not required: go on as if the client had said HELO. */
  | { action: 'proceed-without-helo' }
  /** An early talker that the policy tolerates: hold the line until the greeting is out. */
  | { action: 'wait-for-greeting' }
  /** Answer this instead of smtp-server (`text` starts with the enhanced status code). */
  | { action: 'reply'; code: number; text: string; close: boolean };

const PROCEED: CommandDecision = Object.freeze({ action: 'proceed' });

/** Compiled views of the config, rebuilt when the config object changes (reload), not per command. */
interface CompiledConfig extends PolicyContext {
  trusted: NetworkList;
  locals: Set<string>;
  relayDomains: Set<string>;
}

export function createSessionHandlers(deps: SessionDeps) {
  const facts = new WeakMap<SMTPServerSession, ClientState>();
  /** Sessions that sent MAIL without HELO (their Received header says "unknown"). */
  const withoutHelo = new WeakSet<SMTPServerSession>();
  const ownNetworks = localNetworks();
  const counters = deps.counters ?? new ClientCounters();
  const makeDns = deps.policyDns ?? ((servers: readonly string[]) => createPolicyDns(servers));
  let compiled: CompiledConfig | null = null;
  let dns: { key: string; dns: PolicyDns } | null = null;

  function current(): CompiledConfig {
    const config = deps.getConfig();
    if (compiled?.config !== config) {
      const key = config.dns.external.join(',');
      if (dns?.key !== key) dns = { key, dns: makeDns(config.dns.external) };
      compiled = {
        config,
        trusted: new NetworkList(config.relayControl.trustedNetworks.map((t) => t.network)),
        locals: localDomains(config),
        relayDomains: relayDomainSet(config),
        lists: CompiledLists.compile(config.security.lists),
        dns: dns.dns,
        counters,
      };
    }
    return compiled;
  }

  function factsOf(session: SMTPServerSession): ClientState {
    let f = facts.get(session);
    if (!f) {
      const ip = normalizeIp(session.remoteAddress);
      const c = current();
      f = newClientState(ip, { trusted: c.trusted.contains(ip), authenticated: false, localNetwork: ownNetworks.contains(ip) });
      facts.set(session, f);
    }
    return f;
  }

  /** Log a refusal and hand smtp-server the error that becomes the reply. */
  function refuse(session: SMTPServerSession, stage: string, r: Pick<Rejection, 'code' | 'enhanced' | 'text' | 'rule'>, extra: Record<string, unknown> = {}): SmtpReplyError {
    deps.log.event('reject', { client: factsOf(session).ip, session: session.id, stage, rule: r.rule, reply: replyLine(r), ...extra });
    deps.count?.('rejected', r.rule);
    return new SmtpReplyError(r);
  }

  /** A refusal the listener sends itself (before smtp-server sees the command). */
  function refuseCommand(session: SMTPServerSession, stage: string, r: Rejection, extra: Record<string, unknown> = {}): CommandDecision {
    const err = refuse(session, stage, r, extra);
    return { action: 'reply', code: err.responseCode, text: err.message, close: !!r.disconnect };
  }

  /** A policy function failed (a bug, not a verdict): answer 451 rather than leave the client hanging. */
  function internalError(session: SMTPServerSession, stage: string, err: unknown): SmtpReplyError {
    deps.log.event('error', { client: factsOf(session).ip, session: session.id, stage, error: (err as Error)?.message ?? String(err) }, 'error');
    return new SmtpReplyError({ code: 451, enhanced: '4.3.0', text: 'Internal error while checking the request, try again later' });
  }

  /** Run an async stage check and answer through smtp-server's callback. */
  function answer(session: SMTPServerSession, stage: string, check: Promise<Verdict>, callback: (err?: Error) => void, extra: () => Record<string, unknown> = () => ({})): void {
    check.then(
      (v) => (v.ok ? callback() : callback(refuse(session, stage, v, extra()))),
      (err: unknown) => callback(internalError(session, stage, err)),
    );
  }

  async function heloDecision(session: SMTPServerSession, f: ClientState, info: CommandInfo): Promise<CommandDecision> {
    const parts = info.line.trim().split(/\s+/);
    // A malformed HELO is smtp-server's to answer (501).
    if (parts.length !== 2 || parts[1]!.length > 255 || /[\x00-\x1f\x7f]/.test(parts[1]!)) return PROCEED;
    const helo = parts[1]!;
    const v = await checkHelo(f, helo, current());
    return v.ok ? PROCEED : refuseCommand(session, 'helo', v, { helo: helo.slice(0, 255) });
  }

  function authDecision(session: SMTPServerSession, f: ClientState, info: CommandInfo): CommandDecision {
    const c = current();
    const auth = c.config.general.auth;
    if (!auth.enabled) return { action: 'reply', code: 503, text: '5.5.1 Error: authentication not enabled', close: false };
    if (auth.requireTls && !info.secure) {
      const hint = session.disabledCommands?.includes('STARTTLS') ? 'AUTH is only offered over TLS' : 'issue STARTTLS first';
      return refuseCommand(session, 'auth', { ok: false, action: 'reject', code: 538, enhanced: '5.7.11', text: `Encryption required for authentication: ${hint}`, rule: 'auth-require-tls' });
    }
    const throttle = checkAuthThrottle(f.ip, auth, counters);
    return throttle.ok ? PROCEED : refuseCommand(session, 'auth', throttle);
  }

  return {
    /** How long to hold the greeting: only while unauthorized pipelining is rejected, and not for trusted or allow-listed clients. */
    greetingDelayMs(remoteAddress: string): number {
      const c = current();
      if (!c.config.security.advanced.rejectUnauthPipelining) return 0;
      const ip = normalizeIp(remoteAddress);
      return c.trusted.contains(ip) || c.lists.allowed({ clientIp: ip }) ? 0 : PIPELINING_GREETING_DELAY_MS;
    },

    /** Called by the listener for every line in command mode, before smtp-server handles it. */
    beforeCommand(session: SMTPServerSession, info: CommandInfo): CommandDecision | Promise<CommandDecision> {
      const f = factsOf(session);
      const c = current();
      if (info.sentAhead) {
        const exempt = f.standing.trusted || (clientAllowed(f) ?? c.lists.allowed({ clientIp: f.ip })) !== null;
        if (c.config.security.advanced.rejectUnauthPipelining && !exempt) {
          return refuseCommand(session, info.beforeGreeting ? 'connect' : 'pipelining', unauthorizedPipelining(info.beforeGreeting), { command: info.verb });
        }
        if (info.beforeGreeting) return { action: 'wait-for-greeting' };
      }
      switch (info.verb) {
        case 'HELO':
        case 'EHLO':
          withoutHelo.delete(session);
          return heloDecision(session, f, info).catch((err: unknown) => {
            const e = internalError(session, 'helo', err);
            return { action: 'reply', code: e.responseCode, text: e.message, close: false };
          });
        case 'AUTH':
          return authDecision(session, f, info);
        case 'MAIL':
        case 'RCPT':
        case 'DATA': {
          // A declared SIZE over the limit: smtp-server would answer 552 itself, without 5.3.4 and unlogged.
          const declared = info.verb === 'MAIL' ? /\sSIZE=(\d{1,20})(?:\s|$)/i.exec(info.line) : null;
          const limit = Math.floor(c.config.general.profile.maxMessageSizeMB * 1024 * 1024);
          if (declared && Number(declared[1]) > limit) {
            const text = `Message size exceeds the limit of ${c.config.general.profile.maxMessageSizeMB} MB`;
            return refuseCommand(session, 'mail', { ok: false, action: 'reject', code: 552, enhanced: '5.3.4', text, rule: 'max-message-size' }, { size: Number(declared[1]) });
          }
          if (info.heloGiven) return PROCEED;
          const v = checkMissingHelo(f, c.config);
          if (!v.ok) return refuseCommand(session, info.verb === 'MAIL' ? 'mail' : info.verb.toLowerCase(), v);
          if (info.verb !== 'MAIL') return PROCEED;
          withoutHelo.add(session);
          return { action: 'proceed-without-helo' };
        }
        default:
          return PROCEED;
      }
    },

    /** Called by the listener after every reply: counts protocol errors, and ends a session past the limit. */
    afterReply(session: SMTPServerSession, code: number): { code: number; text: string } | null {
      if (!isProtocolError(code)) return null;
      const f = factsOf(session);
      if (limitsExempt(f)) return null;
      f.errors++;
      const v = checkErrorLimit(f.errors, current().config.security.connectionPolicy);
      if (v.ok) return null;
      const err = refuse(session, 'session', v, { errors: f.errors });
      return { code: err.responseCode, text: err.message };
    },

    onConnect(session: SMTPServerSession, callback: (err?: Error) => void): void {
      const f = factsOf(session);
      const c = current();
      const auth = c.config.general.auth;
      // AUTH is only offered when it is enabled, and (requireTls) only once the session is encrypted.
      session.disabledCommands = !auth.enabled || (auth.requireTls && !session.secure) ? ['AUTH'] : [];
      deps.log.event('connect', { client: f.ip, session: session.id, trusted: f.standing.trusted });
      answer(session, 'connect', checkConnect(f, c), callback);
    },

    onClose(session: SMTPServerSession): void {
      const f = facts.get(session);
      if (f?.countedConnection) counters.release(connectionsKey(f.ip));
      facts.delete(session);
    },

    onSecure(_socket: unknown, session: SMTPServerSession, callback: (err?: Error) => void): void {
      const f = factsOf(session);
      const auth = current().config.general.auth;
      session.disabledCommands = auth.enabled ? [] : ['AUTH'];
      // RFC 3207 §4.2: nothing learnt before STARTTLS carries over (smtp-server drops the login and HELO too).
      f.standing.authenticated = false;
      f.user = null;
      f.helo = { allow: null, discard: null, held: null };
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void {
      const f = factsOf(session);
      const settings = current().config.general.auth;
      const username = auth.username ?? '';
      // Checked again here: another session of the same client may have used up the attempts meanwhile.
      const throttle = checkAuthThrottle(f.ip, settings, counters);
      if (!throttle.ok) return callback(refuse(session, 'auth', throttle, { user: username.slice(0, 255) }));
      const endAttempt = beginAuthAttempt(f.ip, counters);
      deps.verifyUser(username, auth.password ?? '').then(
        (ok) => {
          endAttempt();
          deps.log.event('auth', { client: f.ip, session: session.id, user: username.slice(0, 255), method: auth.method, success: ok });
          if (!ok) {
            const { failures, throttled } = recordAuthFailure(f.ip, settings, counters);
            if (throttled) {
              // From now on AUTH from this client is refused (454, logged as a reject) until the window ends.
              deps.log.event('auth', { client: f.ip, session: session.id, throttled: true, rule: 'auth-throttle', failures, windowSeconds: settings.failureWindowSeconds }, 'warn');
            }
            return callback(refuse(session, 'auth', { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid', rule: 'auth' }, { failures }));
          }
          f.standing.authenticated = true;
          f.user = username;
          callback(null, { user: username });
        },
        (err: Error) => {
          endAttempt();
          callback(refuse(session, 'auth', { code: 454, enhanced: '4.7.0', text: `Temporary authentication failure: ${err.message}`, rule: 'auth' }));
        },
      );
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error) => void): void {
      const f = factsOf(session);
      const senders = deps.allowedSenders ?? (async () => []);
      answer(session, 'mail', checkMailFrom(f, address.address, current(), senders), callback, () => ({ sender: address.address }));
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error) => void): void {
      const c = current();
      const f = factsOf(session);
      const max = c.config.general.profile.maxRecipientsPerMessage;
      if (session.envelope.rcptTo.length >= max) {
        return callback(refuse(session, 'rcpt', { code: 452, enhanced: '4.5.3', text: `Too many recipients (at most ${max} per message)`, rule: 'max-recipients' }));
      }
      const extra = () => ({ rcpt: address.address, sender: mailFromOf(session) });
      const check = checkRcptTo(f, address.address, c).then(({ verdict, discard }) => {
        if (discard) {
          f.tx.discardedRcpts.set(address.address.toLowerCase(), discard);
          deps.log.event('discard', { client: f.ip, session: session.id, stage: 'rcpt', rule: discard.rule, ...extra() });
        }
        return verdict;
      });
      answer(session, 'rcpt', check, callback, extra);
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
      const c = current();
      const f = factsOf(session);
      const id = deps.newMessageId();
      const kept = session.envelope.rcptTo.map((r) => r.address).filter((a) => !f.tx.discardedRcpts.has(a.toLowerCase()));
      const discard = discardOf(f);
      if (discard || kept.length === 0) {
        // Answered like an accepted message, so the sender learns nothing; nothing is stored.
        stream.resume();
        void endOf(stream).then(() => {
          deps.log.event('discard', {
            id,
            client: f.ip,
            session: session.id,
            stage: 'data',
            rule: discard?.rule ?? [...f.tx.discardedRcpts.values()][0]?.rule ?? 'discard',
            sender: mailFromOf(session),
            recipients: session.envelope.rcptTo.map((r) => r.address),
            size: stream.byteLength,
          });
          callback(null, `2.0.0 Ok: queued as ${id}`);
        });
        return;
      }
      const recipients = expandRecipients(kept, c);
      const envelope: Envelope = {
        id,
        receivedAt: Date.now(),
        sender: mailFromOf(session),
        recipients,
        client: {
          ip: f.ip,
          hostname: f.hostname ?? (session.clientHostname && session.clientHostname !== `[${f.ip}]` ? session.clientHostname : null),
          helo: withoutHelo.has(session) ? '' : session.hostNameAppearsAs || '',
          authUser: typeof session.user === 'string' ? session.user : null,
          tls: session.secure,
        },
        bodyType: session.envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
        smtpUtf8: !!session.envelope.smtpUtf8,
        origin: 'smtp',
      };
      void receiveMessage(stream, session, envelope, c).then(
        (reply) => callback(null, reply),
        (err: Error) => callback(err),
      );
    },
  };

  async function receiveMessage(stream: SMTPServerDataStream, session: SMTPServerSession, envelope: Envelope, c: CompiledConfig): Promise<string> {
    const profile = c.config.general.profile;
    const limitMb = profile.attachmentSizeLimitMB;
    // The same limit smtp-server measures `stream.sizeExceeded` against (smtp-listeners.ts, `size`).
    const inspector = new MessageInspector(limitMb === null ? null : Math.floor(limitMb * 1024 * 1024), Math.floor(profile.maxMessageSizeMB * 1024 * 1024));
    let writer: MessageWriter;
    try {
      writer = deps.createWriter(envelope);
    } catch (err) {
      stream.resume();
      await endOf(stream);
      throw spoolRefusal(session, err);
    }
    const tls = session.secure ? tlsInfo(session) : null;
    writer.write(
      receivedHeader({
        helo: envelope.client.helo,
        clientHostname: envelope.client.hostname,
        clientIp: envelope.client.ip,
        byHostname: profile.hostname,
        id: envelope.id,
        esmtp: session.openingCommand === 'EHLO',
        tls,
        authenticated: !!envelope.client.authUser,
        recipients: envelope.recipients,
        date: new Date(envelope.receivedAt),
      }),
    );
    try {
      await receiveBody(stream, inspector, writer);
    } catch (err) {
      await writer.abort();
      stream.resume();
      await endOf(stream);
      throw spoolRefusal(session, err);
    }
    const verdict = checkEndOfData({ sizeExceeded: !!stream.sizeExceeded || inspector.result.sizeExceeded, inspection: inspector.result, recipients: envelope.recipients }, c.config, (rcpt) => {
      const p = parseAddress(rcpt);
      return p.ok && classifyRecipient(p.address, c.locals, c.relayDomains).kind === 'remote';
    });
    if (verdict) {
      await writer.abort();
      throw refuse(session, 'data', verdict, { sender: envelope.sender, size: stream.byteLength });
    }
    let entry: QueueEntry;
    try {
      entry = await writer.commit();
    } catch (err) {
      throw spoolRefusal(session, err);
    }
    deps.log.event('queued', {
      id: envelope.id,
      client: envelope.client.ip,
      session: session.id,
      size: entry.size,
      sender: envelope.sender,
      recipients: envelope.recipients,
      user: envelope.client.authUser,
    });
    deps.count?.('received');
    deps.onQueued(entry);
    return `2.0.0 Ok: queued as ${envelope.id}`;
  }

  function spoolRefusal(session: SMTPServerSession, err: unknown): SmtpReplyError {
    deps.log.event('error', { session: session.id, stage: 'data', error: (err as Error).message }, 'error');
    return refuse(session, 'data', { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage: the queue cannot take the message now, try again later', rule: 'spool' });
  }
}

/** postmaster@ / mailer-daemon@ of the local domains go to the external postmasters; duplicates collapse. */
function expandRecipients(rcpts: string[], c: CompiledConfig): string[] {
  const out = new Set<string>();
  for (const r of rcpts) {
    const p = parseAddress(r);
    if (p.ok && classifyRecipient(p.address, c.locals, c.relayDomains).kind === 'postmaster') {
      for (const pm of c.config.general.externalPostmasters) out.add(pm);
    } else out.add(r);
  }
  return [...out];
}

function mailFromOf(session: SMTPServerSession): string {
  const m = session.envelope.mailFrom;
  return m ? m.address : '';
}

function tlsInfo(session: SMTPServerSession): { protocol: string; cipher: string } | null {
  const t = session.tlsOptions as { name?: string; version?: string; standardName?: string } | false | undefined;
  if (!t) return { protocol: 'TLS', cipher: 'unknown' };
  return { protocol: t.version ?? 'TLS', cipher: t.standardName ?? t.name ?? 'unknown' };
}

/** The body stream is done: ended, or cut off (a client that went away mid-DATA leaves no 'end'). */
function endOf(stream: SMTPServerDataStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

/**
 * Data stream → inspector → writer, with the writer's backpressure; resolves when the body has
 * ended and been inspected, rejects when either stream fails (a client gone mid-DATA included).
 * A 'data' listener rather than pipe(): piping through a Transform cost two streams' machinery per
 * message, which showed up in the intake profile.
 */
function receiveBody(source: SMTPServerDataStream, inspector: MessageInspector, sink: MessageWriter): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      source.removeListener('data', onData);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      if (inspector.inspect(chunk) && !sink.write(chunk)) {
        source.pause();
        sink.once('drain', () => source.resume());
      }
    };
    source.on('data', onData);
    source.once('error', (err: Error) => settle(err));
    sink.once('error', (err: Error) => settle(err));
    source.once('close', () => {
      if (!source.readableEnded) settle(Object.assign(new Error('the message stream closed before its end'), { code: 'ECONNECTION' }));
    });
    source.once('end', () => {
      void inspector.finish().then(() => settle(null));
    });
  });
}
