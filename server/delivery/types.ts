/** What delivery reports back to the queue for each recipient of an attempt. */

export type DeliveryOutcome = 'delivered' | 'deferred' | 'failed';

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
}
