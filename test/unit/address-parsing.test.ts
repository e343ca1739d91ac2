// The per-connection and per-message address helpers, whose fast paths must give what the full
// parse gives.
import { describe, expect, it } from 'vitest';
import ipaddr from 'ipaddr.js';
import { parseHostPort } from '../../server/config/value-checks.ts';
import { normalizeIp } from '../../server/policy/networks.ts';

describe('normalizeIp', () => {
  it('returns canonical IPv4 as is and normalises everything else through the full parse', () => {
    for (const ip of ['127.0.0.1', '0.0.0.0', '255.255.255.255', '192.0.2.10', '10.200.3.99']) {
      expect(normalizeIp(ip)).toBe(ip);
      expect(normalizeIp(ip)).toBe(ipaddr.parse(ip).toString());
    }
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('2001:DB8::0:1')).toBe('2001:db8::1');
    // Not canonical: left to ipaddr (leading zeros, out of range, garbage).
    expect(normalizeIp('010.0.0.1')).toBe(ipaddr.parse('010.0.0.1').toString());
    expect(normalizeIp('256.1.1.1')).toBe('256.1.1.1');
    expect(normalizeIp('not an ip')).toBe('not an ip');
  });
});

describe('parseHostPort', () => {
  it('tells IPv6 literals, bracketed addresses with ports, and host:port apart', () => {
    expect(parseHostPort('::1')).toEqual({ host: '::1', port: null });
    expect(parseHostPort('fe80::1')).toEqual({ host: 'fe80::1', port: null });
    expect(parseHostPort('2001:db8::25')).toEqual({ host: '2001:db8::25', port: null });
    expect(parseHostPort('[2001:db8::1]:2525')).toEqual({ host: '2001:db8::1', port: 2525 });
    expect(parseHostPort('mail.example.com:25')).toEqual({ host: 'mail.example.com', port: 25 });
    expect(parseHostPort('192.0.2.1:587')).toEqual({ host: '192.0.2.1', port: 587 });
    expect(parseHostPort(' mx.example.org ')).toEqual({ host: 'mx.example.org', port: null });
    expect(parseHostPort('host:0')).toBeNull();
    expect(parseHostPort('host:65536')).toBeNull();
    expect(parseHostPort('a:b:c')).toBeNull();
    expect(parseHostPort('[not-v6]:25')).toBeNull();
  });
});
