import { describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfigInput } from '../../server/config/schema.ts';
import { authFailuresKey, beginAuthAttempt, checkAuthThrottle, recordAuthFailure } from '../../server/policy/auth-throttle.ts';
import { ClientCounters } from '../../server/policy/client-counters.ts';
import {
  checkClientName,
  checkConcurrentConnections,
  checkConnectionRate,
  checkErrorLimit,
  checkMessageRate,
  isProtocolError,
  lookupClientName,
} from '../../server/policy/connection-policy.ts';
import { createStaticPolicyDns } from '../../server/policy/policy-dns.ts';

const policyOf = (p: NonNullable<NonNullable<RelayConfigInput['security']>['connectionPolicy']>) => relayConfigSchema.parse({ security: { connectionPolicy: p } }).security.connectionPolicy;

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('client counters', () => {
  it('counts in fixed windows that reset once the window has passed', () => {
    const c = clock();
    const counters = new ClientCounters({ now: c.now });
    expect(counters.hit('k', 2000)).toBe(1);
    expect(counters.hit('k', 2000)).toBe(2);
    c.advance(1999);
    expect(counters.hit('k', 2000)).toBe(3);
    expect(counters.remainingMs('k')).toBe(1);
    c.advance(1);
    expect(counters.count('k')).toBe(0);
    expect(counters.hit('k', 2000)).toBe(1);
  });

  it('keeps gauges for open connections and forgets them at zero', () => {
    const counters = new ClientCounters();
    expect(counters.acquire('conn:a')).toBe(1);
    expect(counters.acquire('conn:a')).toBe(2);
    counters.release('conn:a');
    counters.release('conn:a');
    expect(counters.size).toBe(0);
  });

  it('does not grow without bound with many clients: expired windows go, and there is a cap', () => {
    const c = clock();
    const counters = new ClientCounters({ now: c.now, maxEntries: 1000 });
    for (let i = 0; i < 5000; i++) counters.hit(`ip${i}`, 60_000);
    expect(counters.size).toBe(1000);
    c.advance(60_001);
    counters.hit('late', 1000);
    expect(counters.size).toBe(1);
  });
});

describe('connection policy: limits', () => {
  it('refuses the connection past maxConnectionsPerClient with 421 4.7.0 and closes', () => {
    const p = policyOf({ maxConnectionsPerClient: 2 });
    expect(checkConcurrentConnections('192.0.2.1', 2, p).ok).toBe(true);
    expect(checkConcurrentConnections('192.0.2.1', 3, p)).toMatchObject({ ok: false, code: 421, enhanced: '4.7.0', rule: 'max-connections-per-client', disconnect: true });
    expect(checkConcurrentConnections('192.0.2.1', 99, policyOf({})).ok).toBe(true);
  });

  it('limits connections per client per window, and the window resets', () => {
    const c = clock();
    const counters = new ClientCounters({ now: c.now });
    const p = policyOf({ connectionRateLimit: { count: 2, perSeconds: 10 } });
    expect(checkConnectionRate('192.0.2.1', p, counters).ok).toBe(true);
    expect(checkConnectionRate('192.0.2.1', p, counters).ok).toBe(true);
    expect(checkConnectionRate('192.0.2.2', p, counters).ok).toBe(true); // per client
    const third = checkConnectionRate('192.0.2.1', p, counters);
    expect(third).toMatchObject({ ok: false, code: 421, enhanced: '4.7.0', rule: 'connection-rate-limit' });
    expect(!third.ok && third.text).toMatch(/try again in 10 s/);
    c.advance(10_000);
    expect(checkConnectionRate('192.0.2.1', p, counters).ok).toBe(true);
  });

  it('limits messages per client per window with 450 4.7.1', () => {
    const c = clock();
    const counters = new ClientCounters({ now: c.now });
    const p = policyOf({ messageRateLimit: { count: 1, perSeconds: 2 } });
    expect(checkMessageRate('192.0.2.1', p, counters).ok).toBe(true);
    expect(checkMessageRate('192.0.2.1', p, counters)).toMatchObject({ ok: false, code: 450, enhanced: '4.7.1', rule: 'message-rate-limit' });
    c.advance(2000);
    expect(checkMessageRate('192.0.2.1', p, counters).ok).toBe(true);
    expect(checkMessageRate('192.0.2.1', policyOf({}), counters).ok).toBe(true);
  });

  it('ends a session with 421 after maxErrorsPerSession protocol errors', () => {
    expect([500, 501, 502, 503, 504, 555].every(isProtocolError)).toBe(true);
    expect([250, 421, 450, 535, 550, 554].some(isProtocolError)).toBe(false);
    const p = policyOf({ maxErrorsPerSession: 3 });
    expect(checkErrorLimit(2, p).ok).toBe(true);
    expect(checkErrorLimit(3, p)).toMatchObject({ ok: false, code: 421, enhanced: '4.7.0', rule: 'max-errors-per-session', disconnect: true });
    expect(checkErrorLimit(1000, policyOf({})).ok).toBe(true);
  });
});

describe('connection policy: reverse DNS', () => {
  const dns = createStaticPolicyDns({
    'PTR 192.0.2.1': ['mail.good.example'],
    'A mail.good.example': ['192.0.2.1'],
    'PTR 192.0.2.2': ['liar.example'],
    'A liar.example': ['198.51.100.7'],
    'PTR 192.0.2.3': 'SERVFAIL',
    'PTR 192.0.2.4': ['flaky.example'],
    'A flaky.example': 'TIMEOUT',
    'AAAA flaky.example': 'TIMEOUT',
    'PTR 2001:db8::25': ['v6.good.example'],
    'AAAA v6.good.example': ['2001:db8:0:0::25'],
  });
  const both = policyOf({ rejectUnknownClientHostname: true });
  const reverseOnly = policyOf({ rejectUnknownReverseClientHostname: true });

  it('passes a forward-confirmed client (IPv4 and IPv6)', async () => {
    const name = await lookupClientName('192.0.2.1', dns);
    expect(name).toEqual({ ptrName: 'mail.good.example', verifiedName: 'mail.good.example', failure: null });
    expect(checkClientName('192.0.2.1', name, both).ok).toBe(true);
    expect((await lookupClientName('2001:db8::25', dns)).verifiedName).toBe('v6.good.example');
  });

  it('rejects a client without PTR with 550 5.7.25 under either option', async () => {
    const name = await lookupClientName('192.0.2.99', dns);
    expect(checkClientName('192.0.2.99', name, reverseOnly)).toMatchObject({ code: 550, enhanced: '5.7.25', rule: 'reject-unknown-reverse-client-hostname' });
    expect(checkClientName('192.0.2.99', name, both)).toMatchObject({ code: 550, enhanced: '5.7.25' });
    expect(checkClientName('192.0.2.99', name, policyOf({})).ok).toBe(true);
  });

  it('rejects a PTR name that does not resolve back only under rejectUnknownClientHostname', async () => {
    const name = await lookupClientName('192.0.2.2', dns);
    expect(name).toMatchObject({ ptrName: 'liar.example', verifiedName: null });
    expect(checkClientName('192.0.2.2', name, reverseOnly).ok).toBe(true);
    const v = checkClientName('192.0.2.2', name, both);
    expect(v).toMatchObject({ code: 550, enhanced: '5.7.25', rule: 'reject-unknown-client-hostname' });
    expect(!v.ok && v.text).toContain('liar.example');
  });

  it('answers 450 4.7.25 when DNS fails temporarily, never 5xx', async () => {
    for (const ip of ['192.0.2.3', '192.0.2.4']) {
      const v = checkClientName(ip, await lookupClientName(ip, dns), both);
      expect(v).toMatchObject({ ok: false, code: 450, enhanced: '4.7.25' });
    }
    expect(checkClientName('192.0.2.3', await lookupClientName('192.0.2.3', dns), reverseOnly)).toMatchObject({ code: 450 });
  });
});

describe('AUTH brute-force throttle', () => {
  it('refuses AUTH with 454 4.7.0 after maxFailures within the window, until the window has passed', () => {
    const c = clock();
    const counters = new ClientCounters({ now: c.now });
    const auth = relayConfigSchema.parse({ general: { auth: { enabled: true, maxFailures: 3, failureWindowSeconds: 60 } } }).general.auth;
    expect(recordAuthFailure('192.0.2.1', auth, counters)).toEqual({ failures: 1, throttled: false });
    expect(recordAuthFailure('192.0.2.1', auth, counters).throttled).toBe(false);
    expect(checkAuthThrottle('192.0.2.1', auth, counters).ok).toBe(true);
    expect(recordAuthFailure('192.0.2.1', auth, counters)).toEqual({ failures: 3, throttled: true });
    const v = checkAuthThrottle('192.0.2.1', auth, counters);
    expect(v).toMatchObject({ ok: false, code: 454, enhanced: '4.7.0', rule: 'auth-throttle' });
    expect(!v.ok && v.text).toMatch(/try again in 60 s/);
    expect(checkAuthThrottle('192.0.2.2', auth, counters).ok).toBe(true); // per client
    c.advance(59_000);
    expect(checkAuthThrottle('192.0.2.1', auth, counters).ok).toBe(false);
    c.advance(1000);
    expect(checkAuthThrottle('192.0.2.1', auth, counters).ok).toBe(true);
    expect(counters.count(authFailuresKey('192.0.2.1'))).toBe(0);
  });

  it('counts logins still being checked, so parallel sessions cannot get more guesses checked than the limit', () => {
    const counters = new ClientCounters();
    const auth = relayConfigSchema.parse({ general: { auth: { enabled: true, maxFailures: 3, failureWindowSeconds: 60 } } }).general.auth;
    const started: Array<() => void> = [];
    // 20 connections of one client send AUTH at once: only as many as the limit get checked.
    for (let i = 0; i < 20; i++) if (checkAuthThrottle('192.0.2.1', auth, counters).ok) started.push(beginAuthAttempt('192.0.2.1', counters));
    expect(started).toHaveLength(3);
    expect(checkAuthThrottle('192.0.2.2', auth, counters).ok).toBe(true); // per client
    // A check that ends without a failure (a good password) gives its place back; ending twice is harmless.
    started[0]!();
    started[0]!();
    expect(checkAuthThrottle('192.0.2.1', auth, counters).ok).toBe(true);
    for (const end of started.slice(1)) {
      end();
      recordAuthFailure('192.0.2.1', auth, counters);
    }
    expect(checkAuthThrottle('192.0.2.1', auth, counters).ok).toBe(true);
    recordAuthFailure('192.0.2.1', auth, counters);
    expect(checkAuthThrottle('192.0.2.1', auth, counters).ok).toBe(false);
    expect(counters.gauge('auth-pending:192.0.2.1')).toBe(0);
  });
});
