/** Put real mail into the local relay for e2e tests (swaks, as a client on the LAN would). */
import { swaks, type SwaksResult } from '../../support/swaks.ts';

/** swaks exits 0 only when the relay took the message (250 after DATA). */
export function accepted(r: SwaksResult): boolean {
  return r.exitCode === 0 && /<[-~]\s+250 .*queued/i.test(r.transcript);
}

/** Send one message each from `senders[i]` to `recipients[i]`; throws unless the relay took all. */
export async function sendMail(port: number, mails: Array<{ from: string; to: string | string[]; subject?: string }>): Promise<void> {
  for (const m of mails) {
    const r = await swaks({ server: '127.0.0.1', port, from: m.from, to: m.to, headers: m.subject ? [`Subject: ${m.subject}`] : [] });
    if (!accepted(r)) throw new Error(`the relay did not take mail from ${m.from}: ${r.transcript.slice(-400)}`);
  }
}
