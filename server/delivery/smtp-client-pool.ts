/**
 * Outbound SMTP connections (nodemailer's SMTPConnection), pooled per endpoint: a connection that
 * finished a transaction stays idle for a few seconds for the next message to the same endpoint.
 * Two limits bound the number of open connections: a global one (queue.maxConcurrentDeliveries)
 * and one per endpoint (queue.maxConnectionsPerDestination); callers beyond them wait in FIFO
 * order. When the global limit is reached, an idle connection to another endpoint is closed to
 * make room.
 *
 * An endpoint is one address to connect to plus everything that makes a session different: TLS
 * mode, certificate checking and credentials. So a connection authenticated as one user is never
 * reused for another.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/**
 * How a session uses TLS. opportunistic: STARTTLS when offered, certificate not checked, plaintext
 * when the server refuses STARTTLS (direct MX). none: never. starttls: required. tls: implicit.
 */
export type TlsMode = 'opportunistic' | 'none' | 'starttls' | 'tls';

/** One place to send mail to, with the session settings that go with it. */
export interface Endpoint {
  /** IP address or host name to connect to (a name is resolved by the OS). */
  host: string;
  port: number;
  /** The name the peer is known by (MX host, relay host): shown in labels, used for SNI. */
  name: string;
  tlsMode: TlsMode;
  /** Check the peer's certificate against `name` (ignored for opportunistic TLS). */
  verifyCertificate: boolean;
  auth: { user: string; pass: string } | null;
}

/** A connected (and, if configured, authenticated) session lent out by the pool. */
export interface PooledConnection {
  readonly connection: SMTPConnection;
  readonly endpoint: Endpoint;
  /** "name[ip]:port", e.g. "mx1.example.com[192.0.2.1]:25". */
  readonly label: string;
  /** The session is encrypted (STARTTLS or implicit TLS). */
  readonly tls: boolean;
  /** ESMTP extensions offered on the (final) EHLO, upper case; null when they cannot be read. */
  readonly extensions: ReadonlySet<string> | null;
  /** Transactions this connection carried before the current loan (0 = fresh connection). */
  readonly uses: number;
}

/** What the borrower says about a connection it gives back. */
export type ReleaseState = 'clean' | 'dirty' | 'broken';

/** Limits, EHLO name and timers of a pool. */
export interface SmtpClientPoolOptions {
  /** Read on every acquire, so a config reload applies to the next connection. */
  limits: () => { maxConnections: number; maxPerDestination: number };
  /** EHLO name (general.profile.hostname). */
  clientName: () => string;
  /** How long a connection stays open idle for reuse (default 5 s). */
  idleMs?: number;
  /** Transactions per connection before it is closed (default 100). */
  maxUsesPerConnection?: number;
  timeouts?: { connectMs?: number; greetingMs?: number; socketMs?: number };
}

/** Session counts of a pool, for status output and tests. */
export interface PoolStats {
  open: number;
  idle: number;
  busy: number;
  waiting: number;
  /** Connections made since the pool started. */
  created: number;
}

/** Pooled outbound SMTP sessions with global and per-endpoint limits. */
export interface SmtpClientPool {
  /**
   * A session to `endpoint`: an idle one if there is one (unless `fresh`), else a new one once
   * the limits allow. Rejects with the connection's error (refused, timeout, TLS, 4xx/5xx
   * greeting, AUTH failure, …).
   */
  acquire(endpoint: Endpoint, opts?: { fresh?: boolean }): Promise<PooledConnection>;
  /** Give a session back: clean → idle for reuse; dirty → RSET first; broken → closed. */
  release(pc: PooledConnection, state: ReleaseState): void;
  stats(): PoolStats;
  /** Refuse further acquires, close idle sessions and wait until every session has ended. */
  close(): Promise<void>;
}

interface Slot {
  key: string;
  state: 'connecting' | 'busy' | 'idle' | 'closed';
  pc: PooledConnection | null;
  idleTimer: NodeJS.Timeout | null;
  idleSince: number;
  ended: Promise<void>;
}

interface Waiter {
  endpoint: Endpoint;
  key: string;
  fresh: boolean;
  resolve: (pc: PooledConnection) => void;
  reject: (err: Error) => void;
}

/** Identity of an endpoint; holds a hash of the password, so it stays in memory only. */
export function endpointKey(ep: Endpoint): string {
  const secret = ep.auth ? createHash('sha256').update(`${ep.auth.user}\0${ep.auth.pass}`).digest('hex').slice(0, 16) : '';
  return [ep.host.toLowerCase(), ep.port, ep.tlsMode, ep.verifyCertificate ? 'verify' : 'noverify', ep.name.toLowerCase(), secret].join('|');
}

export function createSmtpClientPool(opts: SmtpClientPoolOptions): SmtpClientPool {
  const idleMs = opts.idleMs ?? 5000;
  const maxUses = opts.maxUsesPerConnection ?? 100;
  const slots = new Set<Slot>();
  const bySession = new Map<PooledConnection, Slot>();
  const waiters: Waiter[] = [];
  let created = 0;
  let closed = false;

  const byKey = new Map<string, Set<Slot>>();
  const addSlot = (slot: Slot): void => {
    slots.add(slot);
    const set = byKey.get(slot.key) ?? new Set<Slot>();
    set.add(slot);
    byKey.set(slot.key, set);
  };
  const removeSlot = (slot: Slot): void => {
    slots.delete(slot);
    const set = byKey.get(slot.key);
    set?.delete(slot);
    if (set?.size === 0) byKey.delete(slot.key);
  };
  const countFor = (key: string): number => byKey.get(key)?.size ?? 0;
  const idleFor = (key: string): Slot | undefined => {
    let found: Slot | undefined;
    for (const s of byKey.get(key) ?? []) if (s.state === 'idle' && (!found || s.idleSince > found.idleSince)) found = s;
    return found;
  };
  const oldestIdle = (): Slot | undefined => {
    let found: Slot | undefined;
    for (const s of slots) if (s.state === 'idle' && (!found || s.idleSince < found.idleSince)) found = s;
    return found;
  };

  function pump(): void {
    // A lowered limit (config reload) closes surplus idle sessions.
    for (let victim = oldestIdle(); victim && slots.size > opts.limits().maxConnections; victim = oldestIdle()) endSlot(victim, true);
    for (let i = 0; i < waiters.length; ) {
      const w = waiters[i]!;
      const idle = w.fresh ? undefined : idleFor(w.key);
      if (idle && idle.pc) {
        waiters.splice(i, 1);
        if (idle.idleTimer) clearTimeout(idle.idleTimer);
        idle.idleTimer = null;
        idle.state = 'busy';
        w.resolve(idle.pc);
        continue;
      }
      const limits = opts.limits();
      if (countFor(w.key) >= limits.maxPerDestination) {
        // A caller that wants a fresh session may replace an idle one of its own endpoint.
        const own = w.fresh ? idleFor(w.key) : undefined;
        if (!own) {
          i++;
          continue;
        }
        endSlot(own, true);
      }
      if (slots.size >= limits.maxConnections) {
        const victim = oldestIdle();
        if (!victim) {
          i++;
          continue;
        }
        endSlot(victim, true);
      }
      waiters.splice(i, 1);
      open(w);
    }
  }

  function open(w: Waiter): void {
    let markEnded: () => void = () => undefined;
    const slot: Slot = {
      key: w.key,
      state: 'connecting',
      pc: null,
      idleTimer: null,
      idleSince: 0,
      ended: new Promise<void>((r) => (markEnded = r)),
    };
    addSlot(slot);
    created++;
    connect(w.endpoint, () => {
      // The session ended on its own (server closed it, idle timeout, error): free its place.
      markEnded();
      if (slot.state !== 'closed') {
        slot.state = 'closed';
        dropSlot(slot);
      }
    }).then(
      (pc) => {
        if (slot.state === 'closed') {
          w.reject(new Error('connection closed before use'));
          return;
        }
        slot.pc = pc;
        bySession.set(pc, slot);
        if (closed) {
          endSlot(slot, true);
          w.reject(new Error('delivery is shutting down'));
          return;
        }
        slot.state = 'busy';
        w.resolve(pc);
      },
      (err: Error) => {
        markEnded();
        slot.state = 'closed';
        dropSlot(slot);
        w.reject(err);
      },
    );
  }

  function dropSlot(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    removeSlot(slot);
    if (slot.pc) bySession.delete(slot.pc);
    pump();
  }

  /** Close a session (QUIT when graceful) and free its place at once. */
  function endSlot(slot: Slot, graceful: boolean): void {
    if (slot.state === 'closed') return;
    slot.state = 'closed';
    const conn = slot.pc?.connection;
    removeSlot(slot);
    if (slot.pc) bySession.delete(slot.pc);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    if (!conn) return;
    if (graceful && !conn.destroyed) {
      conn.quit();
      // A server that never answers QUIT must not hold the socket open.
      setTimeout(() => conn.close(), 2000).unref();
    } else {
      conn.close();
    }
  }

  function connect(ep: Endpoint, onEnd: () => void): Promise<PooledConnection> {
    const conn = new SMTPConnection({
      host: ep.host,
      port: ep.port,
      name: opts.clientName(),
      secure: ep.tlsMode === 'tls',
      ignoreTLS: ep.tlsMode === 'none',
      requireTLS: ep.tlsMode === 'starttls',
      opportunisticTLS: ep.tlsMode === 'opportunistic',
      servername: net.isIP(ep.name) === 0 ? ep.name : undefined,
      tls: { rejectUnauthorized: ep.tlsMode !== 'opportunistic' && ep.verifyCertificate },
      connectionTimeout: opts.timeouts?.connectMs ?? 30_000,
      greetingTimeout: opts.timeouts?.greetingMs ?? 60_000,
      socketTimeout: opts.timeouts?.socketMs ?? 300_000,
      socketCloseTimeout: 1000,
      allowInternalNetworkInterfaces: true,
      logger: false,
    });
    let established = false;
    return new Promise<PooledConnection>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(err);
      };
      // Errors after the session is established reach the transaction's callback; this listener
      // only keeps an 'error' event from becoming an uncaught exception.
      conn.on('error', (err: Error) => {
        if (!established) fail(err);
      });
      conn.once('end', () => {
        if (!established) fail(Object.assign(new Error('connection closed during setup'), { code: 'ECONNECTION' }));
        onEnd();
      });
      conn.connect((err) => {
        if (err) return fail(err);
        const ready = (): void => {
          if (settled) return;
          settled = true;
          established = true;
          resolve(describe(conn, ep));
        };
        if (!ep.auth) return ready();
        conn.login({ user: ep.auth.user, pass: ep.auth.pass }, (loginErr) => (loginErr ? fail(loginErr) : ready()));
      });
    });
  }

  return {
    acquire(endpoint, acquireOpts) {
      if (closed) return Promise.reject(new Error('delivery is shutting down'));
      return new Promise<PooledConnection>((resolve, reject) => {
        waiters.push({ endpoint, key: endpointKey(endpoint), fresh: acquireOpts?.fresh ?? false, resolve, reject });
        pump();
      });
    },

    release(pc, state) {
      const slot = bySession.get(pc);
      if (!slot || slot.state !== 'busy') return;
      const next: PooledConnection = { ...pc, uses: pc.uses + 1 };
      bySession.delete(pc);
      slot.pc = next;
      bySession.set(next, slot);
      if (state === 'broken' || closed || next.uses >= maxUses || pc.connection.destroyed) {
        endSlot(slot, state !== 'broken');
        pump();
        return;
      }
      const park = (): void => {
        if (slot.state !== 'busy') return;
        if (closed) return endSlot(slot, true);
        slot.state = 'idle';
        slot.idleSince = Date.now();
        slot.idleTimer = setTimeout(() => endSlot(slot, true), idleMs);
        slot.idleTimer.unref();
        pump();
      };
      if (state === 'dirty') {
        pc.connection.reset((err) => {
          if (err) {
            endSlot(slot, false);
            pump();
          } else park();
        });
      } else park();
    },

    stats() {
      const all = [...slots];
      return {
        open: all.length,
        idle: all.filter((s) => s.state === 'idle').length,
        busy: all.filter((s) => s.state === 'busy').length,
        waiting: waiters.length,
        created,
      };
    },

    async close() {
      closed = true;
      for (const w of waiters.splice(0)) w.reject(new Error('delivery is shutting down'));
      const ending = [...slots].map((s) => s.ended);
      for (const s of [...slots]) if (s.state === 'idle') endSlot(s, true);
      await Promise.all(ending);
    },
  };
}

function describe(conn: SMTPConnection, ep: Endpoint): PooledConnection {
  const socket = conn._socket;
  const ip = socket ? (socket.remoteAddress ?? ep.host) : ep.host;
  const name = ep.name === ip ? '' : ep.name;
  return { connection: conn, endpoint: ep, label: `${name}[${ip}]:${ep.port}`, tls: conn.secure, extensions: readExtensions(conn), uses: 0 };
}

/**
 * The ESMTP extensions nodemailer parsed from EHLO. It keeps them in a private field; if a
 * future version renames it we get null and callers treat the extensions as unknown.
 */
function readExtensions(conn: SMTPConnection): ReadonlySet<string> | null {
  const ext = (conn as unknown as { _supportedExtensions?: unknown })._supportedExtensions;
  return Array.isArray(ext) ? new Set(ext.map((e) => String(e).toUpperCase())) : null;
}
