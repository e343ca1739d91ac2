/**
 * The SMTP session: smtp-server calls these handlers at each stage; they gather facts, ask the policy
 * functions for a verdict, and turn verdicts into replies. Accepting a message means the spool has it
 * on disk (fsynced) before the 250 goes out.
 */
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { RelayConfig } from '../config/schema.ts';
import type { RelayLog } from '../logging/relay-log.ts';
import type { Envelope, QueueEntry } from '../queue/types.ts';
import { parseAddress } from '../policy/address.ts';
import { classifyRecipient, checkRecipientRelay, localDomains, relayDomainSet, type ClientStanding } from '../policy/relay-control.ts';
import { NetworkList, localNetworks, normalizeIp } from '../policy/networks.ts';
import { replyLine, SmtpReplyError, type Rejection } from '../policy/verdict.ts';
import { MessageInspector } from './message-inspector.ts';
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
  /** Counters for statistics. */
  count?(name: 'received' | 'rejected', reason?: string): void;
}

/** Facts about one connection, gathered as the session goes. */
interface SessionFacts {
  ip: string;
  standing: ClientStanding;
}

/** Compiled views of the config, rebuilt when the config object changes (reload), not per command. */
interface CompiledConfig {
  config: RelayConfig;
  trusted: NetworkList;
  locals: Set<string>;
  relayDomains: Set<string>;
}

export function createSessionHandlers(deps: SessionDeps) {
  const facts = new WeakMap<SMTPServerSession, SessionFacts>();
  const ownNetworks = localNetworks();
  let compiled: CompiledConfig | null = null;

  function current(): CompiledConfig {
    const config = deps.getConfig();
    if (compiled?.config !== config) {
      compiled = {
        config,
        trusted: new NetworkList(config.relayControl.trustedNetworks.map((t) => t.network)),
        locals: localDomains(config),
        relayDomains: relayDomainSet(config),
      };
    }
    return compiled;
  }

  function factsOf(session: SMTPServerSession): SessionFacts {
    let f = facts.get(session);
    if (!f) {
      const ip = normalizeIp(session.remoteAddress);
      const c = current();
      f = { ip, standing: { trusted: c.trusted.contains(ip), authenticated: false, localNetwork: ownNetworks.contains(ip) } };
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

  return {
    onConnect(session: SMTPServerSession, callback: (err?: Error) => void): void {
      const f = factsOf(session);
      const auth = current().config.general.auth;
      // AUTH is only offered when it is enabled, and (requireTls) only once the session is encrypted.
      session.disabledCommands = !auth.enabled || (auth.requireTls && !session.secure) ? ['AUTH'] : [];
      deps.log.event('connect', { client: f.ip, session: session.id, trusted: f.standing.trusted });
      callback();
    },

    onSecure(_socket: unknown, session: SMTPServerSession, callback: (err?: Error) => void): void {
      const auth = current().config.general.auth;
      session.disabledCommands = auth.enabled ? [] : ['AUTH'];
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void {
      const f = factsOf(session);
      const username = auth.username ?? '';
      deps.verifyUser(username, auth.password ?? '').then(
        (ok) => {
          deps.log.event('auth', { client: f.ip, session: session.id, user: username.slice(0, 255), method: auth.method, success: ok });
          if (!ok) return callback(refuse(session, 'auth', { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid', rule: 'auth' }));
          f.standing.authenticated = true;
          callback(null, { user: username });
        },
        (err: Error) => callback(refuse(session, 'auth', { code: 454, enhanced: '4.7.0', text: `Temporary authentication failure: ${err.message}`, rule: 'auth' })),
      );
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error) => void): void {
      if (address.address === '') return callback();
      const parsed = parseAddress(address.address);
      if (!parsed.ok) return callback(refuse(session, 'mail', { code: 553, enhanced: '5.1.7', text: `<${address.address}>: ${parsed.reason}`, rule: 'address-syntax' }));
      callback();
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error) => void): void {
      const c = current();
      const f = factsOf(session);
      const max = c.config.general.profile.maxRecipientsPerMessage;
      if (session.envelope.rcptTo.length >= max) {
        return callback(refuse(session, 'rcpt', { code: 452, enhanced: '4.5.3', text: `Too many recipients (at most ${max} per message)`, rule: 'max-recipients' }));
      }
      const parsed = parseAddress(address.address);
      if (!parsed.ok) return callback(refuse(session, 'rcpt', { code: 553, enhanced: '5.1.3', text: `<${address.address}>: ${parsed.reason}`, rule: 'address-syntax' }));
      const cls = classifyRecipient(parsed.address, c.locals, c.relayDomains);
      const verdict = checkRecipientRelay(parsed.address, cls, f.standing, c.config);
      if (!verdict.ok) return callback(refuse(session, 'rcpt', verdict, { rcpt: address.address, sender: mailFromOf(session) }));
      callback();
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
      const c = current();
      const f = factsOf(session);
      const id = deps.newMessageId();
      const recipients = expandRecipients(session.envelope.rcptTo.map((r) => r.address), c);
      const envelope: Envelope = {
        id,
        receivedAt: Date.now(),
        sender: mailFromOf(session),
        recipients,
        client: {
          ip: f.ip,
          hostname: session.clientHostname && session.clientHostname !== `[${f.ip}]` ? session.clientHostname : null,
          helo: session.hostNameAppearsAs || '',
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
    const inspector = new MessageInspector(limitMb === null ? null : Math.floor(limitMb * 1024 * 1024));
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
      await pipeline(stream, inspector, writer);
    } catch (err) {
      await writer.abort();
      stream.resume();
      await endOf(stream);
      throw spoolRefusal(session, err);
    }
    const verdict = afterData(stream, inspector, envelope, c);
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

  /** End-of-data checks: size, hops, attachment size, auto-forwarding. */
  function afterData(stream: SMTPServerDataStream, inspector: MessageInspector, envelope: Envelope, c: CompiledConfig): Pick<Rejection, 'code' | 'enhanced' | 'text' | 'rule'> | null {
    const profile = c.config.general.profile;
    const r = inspector.result;
    if (stream.sizeExceeded) {
      return { code: 552, enhanced: '5.3.4', text: `Message size exceeds the limit of ${profile.maxMessageSizeMB} MB`, rule: 'max-message-size' };
    }
    if (r.receivedCount >= profile.maxHops) {
      return { code: 554, enhanced: '5.4.6', text: `Too many hops (${r.receivedCount} Received headers, limit ${profile.maxHops}): mail loop?`, rule: 'max-hops' };
    }
    if (r.oversizeAttachment) {
      return {
        code: 552,
        enhanced: '5.3.4',
        text: `Attachment "${r.oversizeAttachment.name.replace(/[\r\n"]/g, '')}" exceeds the limit of ${profile.attachmentSizeLimitMB} MB`,
        rule: 'attachment-size-limit',
      };
    }
    if (c.config.general.disableAutoForwarding && r.autoForwardMarker) {
      const external = envelope.recipients.some((rcpt) => {
        const p = parseAddress(rcpt);
        return p.ok && classifyRecipient(p.address, c.locals, c.relayDomains).kind === 'remote';
      });
      if (external) {
        return { code: 550, enhanced: '5.7.1', text: `Auto-forwarding to external recipients is disabled (${r.autoForwardMarker.replace(/[\r\n]/g, ' ')})`, rule: 'disable-auto-forwarding' };
      }
    }
    return null;
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

function endOf(stream: SMTPServerDataStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded) return resolve();
    stream.once('end', resolve);
    stream.once('error', () => resolve());
  });
}
