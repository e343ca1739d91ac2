// DNS for delivery against a real DNS server (dnsmasq on loopback), including broken DNS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, createResolverPair, lookupAddresses, lookupMx, sortByPriority, toResolverServer, withFallback } from '../../server/delivery/resolvers.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';

let dns: DnsServer;
let other: DnsServer;

beforeAll(async () => {
  [dns, other] = await Promise.all([
    startDnsServer({
      records: [
        { type: 'MX', name: 'multi.test', exchange: 'mx-b.multi.test', priority: 20 },
        { type: 'MX', name: 'multi.test', exchange: 'mx-a.multi.test', priority: 10 },
        { type: 'MX', name: 'multi.test', exchange: 'mx-c.multi.test', priority: 20 },
        { type: 'A', name: 'mx-a.multi.test', address: '127.0.0.2' },
        { type: 'AAAA', name: 'mx-a.multi.test', address: '::1' },
        { type: 'A', name: 'implicit.test', address: '127.0.0.3' },
        { type: 'MX', name: 'nullmx.test', exchange: '.', priority: 0 },
        { type: 'TXT', name: 'textonly.test', text: 'v=spf1 -all' },
        { type: 'SERVFAIL', name: 'broken.test' },
        { type: 'TIMEOUT', name: 'silent.test' },
        { type: 'PTR', ip: '127.0.0.9', target: 'client.test' },
        { type: 'A', name: '4.0.0.127.zen.test', address: '127.0.0.4', ptr: false },
      ],
    }),
    startDnsServer({ records: [{ type: 'MX', name: 'inside.test', exchange: 'mail.inside.test', priority: 5 }] }),
  ]);
});
afterAll(async () => {
  await Promise.all([dns?.stop(), other?.stop()]);
});

describe('MX lookup', () => {
  it('orders by priority and shuffles equal priorities', async () => {
    const r = createResolver([dns.address]);
    const res = await lookupMx(r, 'multi.test');
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value[0]).toEqual({ exchange: 'mx-a.multi.test', priority: 10, implicit: false });
    expect(new Set(res.value.slice(1).map((m) => m.exchange))).toEqual(new Set(['mx-b.multi.test', 'mx-c.multi.test']));
    // The random key decides among equal priorities only.
    for (const keys of [[0.9, 0.1, 0.5], [0.1, 0.9, 0.5]]) {
      let i = 0;
      const sorted = sortByPriority([{ priority: 20, n: 'b' }, { priority: 20, n: 'c' }, { priority: 10, n: 'a' }], () => keys[i++]!);
      expect(sorted.map((s) => s.n)).toEqual(keys[0]! > keys[1]! ? ['a', 'c', 'b'] : ['a', 'b', 'c']);
    }
  });

  it('falls back to the domain itself when it has no MX but an address (implicit MX)', async () => {
    const res = await lookupMx(createResolver([dns.address]), 'implicit.test');
    expect(res).toEqual({ ok: true, value: [{ exchange: 'implicit.test', priority: 0, implicit: true }] });
  });

  it('a null MX is a permanent failure', async () => {
    expect(await lookupMx(createResolver([dns.address]), 'nullmx.test')).toMatchObject({ ok: false, permanent: true, code: 'NULLMX' });
  });

  it('NXDOMAIN and "no MX, no A/AAAA" are permanent', async () => {
    const r = createResolver([dns.address]);
    expect(await lookupMx(r, 'nosuchdomain.test')).toMatchObject({ ok: false, permanent: true, code: 'ENOTFOUND' });
    expect(await lookupMx(r, 'textonly.test')).toMatchObject({ ok: false, permanent: true, code: 'ENODATA' });
  });

  it('SERVFAIL and timeouts are temporary, and come back quickly', async () => {
    const r = createResolver([dns.address], { timeoutMs: 300, tries: 1 });
    const t0 = Date.now();
    expect(await lookupMx(r, 'x.broken.test')).toMatchObject({ ok: false, permanent: false, code: 'ESERVFAIL' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await lookupMx(r, 'x.silent.test')).toMatchObject({ ok: false, permanent: false, code: 'ETIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('address lookup', () => {
  it('returns IPv4 then IPv6 addresses; IP literals as they are', async () => {
    const r = createResolver([dns.address]);
    expect(await lookupAddresses(r, 'mx-a.multi.test')).toEqual({ ok: true, value: ['127.0.0.2', '::1'] });
    expect(await lookupAddresses(r, '192.0.2.7')).toEqual({ ok: true, value: ['192.0.2.7'] });
    expect(await lookupAddresses(r, 'mx-b.multi.test')).toMatchObject({ ok: false, permanent: true });
  });
});

describe('resolver configuration', () => {
  it('accepts "ip", "ip:port" and "[v6]:port"', () => {
    expect(toResolverServer('192.0.2.53')).toBe('192.0.2.53');
    expect(toResolverServer('192.0.2.53:5353')).toBe('192.0.2.53:5353');
    expect(toResolverServer('[2001:db8::53]:5353')).toBe('[2001:db8::53]:5353');
    expect(toResolverServer('2001:db8::53')).toBe('2001:db8::53');
    expect(() => toResolverServer('dns.example')).toThrow();
  });

  it('looks up through the internal servers first and falls back to the external ones', async () => {
    const pair = createResolverPair({ internal: [other.address], external: [dns.address] });
    expect(pair.sameServers).toBe(false);
    // Known only internally.
    expect(await withFallback(pair, (r) => lookupMx(r, 'inside.test'))).toMatchObject({ ok: true, value: [{ exchange: 'mail.inside.test' }] });
    // Unknown internally (NXDOMAIN there), known externally.
    expect(await withFallback(pair, (r) => lookupMx(r, 'implicit.test'))).toMatchObject({ ok: true });
    // Temporary trouble on one side wins over "not found" on the other.
    expect(await withFallback(pair, (r) => lookupMx(r, 'x.broken.test'))).toMatchObject({ ok: false, permanent: false });
  });

  it('the DNS server helper answers PTR and DNSBL-style records too', async () => {
    const r = dns.resolver();
    expect(await r.reverse('127.0.0.9')).toEqual(['client.test']);
    expect(await r.resolve4('4.0.0.127.zen.test')).toEqual(['127.0.0.4']);
    await expect(r.resolve4('3.0.0.127.zen.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // The DNSBL entry was made without a PTR; a plain A record brings its PTR along.
    await expect(r.reverse('127.0.0.4')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await r.reverse('127.0.0.3')).toEqual(['implicit.test']);
  });
});
