/** What delivery reports back to the queue for each recipient of an attempt. */

export type DeliveryOutcome = 'delivered' | 'deferred' | 'failed';

/** Why an attempt did not deliver, coarsely; drives the dashboard's "top deferral reasons". */
export type FailureCategory =
  | 'unknown-user'
  | 'mailbox-full'
  | 'message-size'
  | 'policy'
  | 'spam'
  | 'greylisted'
  | 'rate-limit'
  | 'too-many-recipients'
  | 'auth'
  | 'tls'
  | 'dns'
  | 'network'
  | 'protocol'
  | 'capability'
  | 'routing'
  | 'local'
  | 'other';

/** The outcome of one delivery attempt for one recipient. */
export interface RecipientResult {
  recipient: string;
  outcome: DeliveryOutcome;
  /** SMTP reply code from the next hop, or null for local failures (DNS, connect, TLS). */
  code: number | null;
  /** Enhanced status code, e.g. "5.1.1" (from the reply, or the one we assign). */
  enhanced: string;
  /** Human-readable reply or reason, one line. */
  reply: string;
  /** Where it went: "host[ip]:port", or the destination we could not reach. */
  nextHop: string;
  durationMs: number;
  /** Whether the session that carried (or refused) it was encrypted; absent when no session was made. */
  tls?: boolean;
  /** Coarse reason for a deferral or failure; absent for delivered recipients. */
  category?: FailureCategory;
}
