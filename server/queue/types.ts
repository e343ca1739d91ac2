/**
 * The queue's data model: what is stored for every accepted message and how each recipient's
 * delivery state is tracked. The spool persists these; the scheduler and delivery read them; the
 * control API shows them.
 */

/** Who handed us the message, as shown in Received headers, logs and the queue view. */
export interface ClientInfo {
  ip: string;
  /** Reverse DNS name, if it resolved. */
  hostname: string | null;
  helo: string;
  authUser: string | null;
  tls: boolean;
}

/** The envelope of a message as accepted (known before DATA, so it can lead the spool file). */
export interface Envelope {
  /** Time-sortable unique id, e.g. "0192f3a1c2d4-5f1a9c07e2" (hex ms timestamp + random; see queue-id.ts). */
  id: string;
  /** Epoch milliseconds of acceptance. */
  receivedAt: number;
  /** Envelope sender; "" is the null sender of a bounce. */
  sender: string;
  recipients: string[];
  client: ClientInfo;
  /** BODY= parameter: 8BITMIME mail must only go to next hops that offer it (or be deferred). */
  bodyType: '7bit' | '8bitmime';
  smtpUtf8: boolean;
  /** "dsn" for bounces and delay warnings we generated ourselves. */
  origin: 'smtp' | 'dsn' | 'local';
}

export type RecipientStatus = 'queued' | 'deferred' | 'delivered' | 'bounced';

/** One recipient's delivery state; each recipient is tracked separately. */
export interface RecipientState {
  address: string;
  status: RecipientStatus;
  attempts: number;
  lastAttemptAt: number | null;
  /** Last reply line from the next hop (or our own reason, e.g. "DNS lookup failed"). */
  lastReply: string | null;
  /** Where the last attempt went, e.g. "mx.example.com[192.0.2.1]:25". */
  nextHop: string | null;
}

/** A queued message: envelope, size on disk, per-recipient state, schedule. */
export interface QueueEntry {
  envelope: Envelope;
  /** Size in bytes of the stored message (including our Received header). */
  size: number;
  recipients: RecipientState[];
  /** Held messages are never tried until released. */
  held: boolean;
  /** Epoch ms of the next attempt (0 = as soon as possible). */
  nextAttemptAt: number;
  /** Number of delivery rounds so far (drives the retry schedule). */
  attempts: number;
  /** A delay-warning DSN was already sent. */
  delayWarned: boolean;
}

/** The queue-level state of a message, derived from its recipients and flags (for listing/filtering). */
export type MessageState = 'active' | 'deferred' | 'held';
