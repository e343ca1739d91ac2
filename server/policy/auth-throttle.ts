/**
 * Brute-force throttle for SMTP AUTH (SPEC §1.3): after `maxFailures` failed logins from one client
 * within `failureWindowSeconds`, further AUTH from it is refused with 454 4.7.0 until that window
 * (which starts with the first failure) has passed. Refused attempts are not checked against the user
 * store, so a throttled attacker costs no scrypt work either.
 */
import type { RelayConfig } from '../config/schema.ts';
import type { ClientCounters } from './client-counters.ts';
import { PASS, reject, type Verdict } from './verdict.ts';

type AuthSettings = RelayConfig['general']['auth'];

export const authFailuresKey = (ip: string) => `auth-fail:${ip}`;
/** Logins of this client being checked right now (a gauge: beginAuthAttempt / its end function). */
export const authPendingKey = (ip: string) => `auth-pending:${ip}`;

/**
 * May this client try to log in now? Attempts still being checked count as failures-to-be: otherwise
 * a client with many connections could have any number of guesses checked at once before the first
 * failure is counted, and the limit would only start after them.
 */
export function checkAuthThrottle(ip: string, auth: AuthSettings, counters: ClientCounters): Verdict {
  const failures = counters.count(authFailuresKey(ip)) + counters.gauge(authPendingKey(ip));
  if (failures < auth.maxFailures) return PASS;
  const wait = Math.max(1, Math.ceil(counters.remainingMs(authFailuresKey(ip)) / 1000));
  return reject(454, '4.7.0', `Too many failed authentication attempts from [${ip}], try again in ${wait} s`, 'auth-throttle');
}

/** Mark a login of `ip` as being checked; call the returned function once the check is over. */
export function beginAuthAttempt(ip: string, counters: ClientCounters): () => void {
  counters.acquire(authPendingKey(ip));
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    counters.release(authPendingKey(ip));
  };
}

/** Count a failed login; `throttled` is true when this failure reached the limit. */
export function recordAuthFailure(ip: string, auth: AuthSettings, counters: ClientCounters): { failures: number; throttled: boolean } {
  const failures = counters.hit(authFailuresKey(ip), auth.failureWindowSeconds * 1000);
  return { failures, throttled: failures === auth.maxFailures };
}
