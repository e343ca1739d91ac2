import { describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfigInput } from '../../server/config/schema.ts';
import { parseAddress, type ParsedAddress } from '../../server/policy/address.ts';
import { checkDnsbl, checkHeloName, checkHeloResolves, checkRecipientDomain, checkRecipientFqdn, unauthorizedPipelining } from '../../server/policy/advanced-policy.ts';
import { createStaticPolicyDns, dnsblQueryName, mailDomainStatus } from '../../server/policy/policy-dns.ts';

type Advanced = NonNullable<NonNullable<RelayConfigInput['security']>['advanced']>;
const adv = (a: Advanced) => relayConfigSchema.parse({ security: { advanced: a } }).security.advanced;
const addr = (s: string): ParsedAddress => {
  const p = parseAddress(s);
  if (!p.ok) throw new Error(p.reason);
  return p.address;
};

const dns = createStaticPolicyDns({
  'A mx.good.example': ['192.0.2.1'],
  'AAAA six.example': ['2001:db8::1'],
  'MX mxonly.example': ['10 mx.good.example'],
  'MX good.example': ['10 mx.good.example'],
  'A aonly.example': ['192.0.2.2'],
  'MX nullmx.example': ['0 .'],
  'TXT txtonly.example': ['v=spf1 -all'],
  'MX broken.example': 'SERVFAIL',
  'A broken.example': 'SERVFAIL',
  'A slow.example': 'TIMEOUT',
  'AAAA slow.example': 'TIMEOUT',
  'A 2.0.0.127.bl.example': ['127.0.0.2'],
  'A 2.0.0.127.other.example': ['127.0.0.4'],
  'A 3.0.0.127.bl.example': ['127.255.255.254'],
  'A 4.0.0.127.down.example': 'SERVFAIL',
});

describe('advanced policy: HELO', () => {
  it('rejects invalid HELO names with 501 5.5.2 (address literals and underscores are fine)', () => {
    const p = adv({ rejectInvalidHelo: true });
    for (const bad of ['bad..name', '-x.example', 'a b', 'host.123', 'exa$mple.com', '[300.1.1.1]']) {
      expect(checkHeloName(bad, p), bad).toMatchObject({ ok: false, code: 501, enhanced: '5.5.2', rule: 'reject-invalid-helo' });
    }
    for (const good of ['mail.example.com', 'PC_01.corp.example', '[192.0.2.1]', '[IPv6:2001:db8::1]', 'printer']) expect(checkHeloName(good, p).ok, good).toBe(true);
    expect(checkHeloName('bad..name', adv({})).ok).toBe(true);
  });

  it('rejects non-FQDN HELO names with 504 5.5.2', () => {
    const p = adv({ rejectNonFqdnHelo: true });
    expect(checkHeloName('printer', p)).toMatchObject({ ok: false, code: 504, enhanced: '5.5.2', rule: 'reject-non-fqdn-helo' });
    expect(checkHeloName('printer.corp.example', p).ok).toBe(true);
    expect(checkHeloName('[192.0.2.1]', p).ok).toBe(true);
  });

  it('rejects HELO names without A/AAAA/MX: 550 5.7.1, or 450 4.7.1 when DNS fails', async () => {
    const p = adv({ rejectUnknownHeloHostname: true });
    expect((await checkHeloResolves('mx.good.example', p, dns)).ok).toBe(true);
    expect((await checkHeloResolves('six.example', p, dns)).ok).toBe(true);
    expect((await checkHeloResolves('mxonly.example', p, dns)).ok).toBe(true);
    expect((await checkHeloResolves('[192.0.2.9]', p, dns)).ok).toBe(true);
    expect(await checkHeloResolves('nowhere.example', p, dns)).toMatchObject({ ok: false, code: 550, enhanced: '5.7.1', rule: 'reject-unknown-helo-hostname' });
    expect(await checkHeloResolves('slow.example', p, dns)).toMatchObject({ ok: false, code: 450, enhanced: '4.7.1' });
    expect((await checkHeloResolves('nowhere.example', adv({}), dns)).ok).toBe(true);
  });
});

describe('advanced policy: recipients', () => {
  it('rejects non-FQDN recipients with 504 5.5.2 (postmaster alone is fine)', () => {
    const p = adv({ rejectNonFqdnRecipient: true });
    expect(checkRecipientFqdn('user@localhost', addr('user@localhost'), p)).toMatchObject({ ok: false, code: 504, enhanced: '5.5.2', rule: 'reject-non-fqdn-recipient' });
    expect(checkRecipientFqdn('user', null, p)).toMatchObject({ ok: false, code: 504 });
    expect(checkRecipientFqdn('postmaster', addr('postmaster'), p).ok).toBe(true);
    expect(checkRecipientFqdn('u@[192.0.2.1]', addr('u@[192.0.2.1]'), p).ok).toBe(true);
    expect(checkRecipientFqdn('user@localhost', addr('user@localhost'), adv({})).ok).toBe(true);
  });

  it('rejects recipient domains without MX/A/AAAA: 550 5.1.2, 450 4.1.2 on DNS failure', async () => {
    const p = adv({ rejectUnknownRecipientDomain: true });
    for (const ok of ['a@good.example', 'a@aonly.example', 'a@six.example']) expect((await checkRecipientDomain(ok, addr(ok), p, dns)).ok, ok).toBe(true);
    expect(await checkRecipientDomain('a@nowhere.example', addr('a@nowhere.example'), p, dns)).toMatchObject({ code: 550, enhanced: '5.1.2', rule: 'reject-unknown-recipient-domain' });
    expect(await checkRecipientDomain('a@txtonly.example', addr('a@txtonly.example'), p, dns)).toMatchObject({ code: 550, enhanced: '5.1.2' });
    const nullMx = await checkRecipientDomain('a@nullmx.example', addr('a@nullmx.example'), p, dns);
    expect(nullMx).toMatchObject({ code: 550 });
    expect(!nullMx.ok && nullMx.text).toMatch(/null MX/);
    expect(await checkRecipientDomain('a@broken.example', addr('a@broken.example'), p, dns)).toMatchObject({ code: 450, enhanced: '4.1.2' });
  });

  it('tells permanent from temporary domain failures', async () => {
    expect(await mailDomainStatus(dns, 'good.example')).toEqual({ ok: true });
    expect(await mailDomainStatus(dns, 'nowhere.example')).toMatchObject({ ok: false, permanent: true });
    expect(await mailDomainStatus(dns, 'broken.example')).toMatchObject({ ok: false, permanent: false });
    expect(await mailDomainStatus(dns, 'slow.example')).toMatchObject({ ok: false, permanent: false });
  });
});

describe('advanced policy: DNSBL', () => {
  it('builds query names for IPv4 and IPv6', () => {
    expect(dnsblQueryName('192.0.2.1', 'bl.example')).toBe('1.2.0.192.bl.example');
    expect(dnsblQueryName('2001:db8::1', 'bl.example')).toBe(`${'1'}.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.bl.example`);
  });

  it('rejects with 554 5.7.1 naming the list once the threshold is reached', async () => {
    const one = await checkDnsbl('127.0.0.2', adv({ dnsblZones: ['bl.example', 'other.example', 'clean.example'] }), dns);
    expect(one.verdict).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1' });
    expect(!one.verdict.ok && one.verdict.text).toMatch(/blocked using bl\.example, other\.example/);
    const two = await checkDnsbl('127.0.0.2', adv({ dnsblZones: ['bl.example', 'clean.example'], dnsblThreshold: 2 }), dns);
    expect(two.verdict.ok).toBe(true);
    expect(two.listedOn).toEqual(['bl.example']);
    expect((await checkDnsbl('127.0.0.9', adv({ dnsblZones: ['bl.example'] }), dns)).verdict.ok).toBe(true);
  });

  it('does not count the lists\' own error answers (127.255.255.x) nor lists that fail', async () => {
    expect((await checkDnsbl('127.0.0.3', adv({ dnsblZones: ['bl.example'] }), dns)).verdict.ok).toBe(true);
    const down = await checkDnsbl('127.0.0.4', adv({ dnsblZones: ['down.example'] }), dns);
    expect(down.verdict.ok).toBe(true);
    expect(down.failedZones).toEqual(['down.example']);
  });
});

describe('advanced policy: unauthorized pipelining', () => {
  it('answers 554 5.5.0 and closes the connection', () => {
    expect(unauthorizedPipelining(true)).toMatchObject({ code: 554, enhanced: '5.5.0', rule: 'reject-unauth-pipelining', disconnect: true });
    expect(unauthorizedPipelining(false).text).toMatch(/improper use of SMTP command pipelining/);
  });
});
