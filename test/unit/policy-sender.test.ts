import { describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfigInput } from '../../server/config/schema.ts';
import { parseAddress, type ParsedAddress } from '../../server/policy/address.ts';
import { createStaticPolicyDns } from '../../server/policy/policy-dns.ts';
import { checkLocalSender, checkSenderDomain, checkSenderFqdn, checkSenderLogin } from '../../server/policy/sender-policy.ts';

type SenderPolicyInput = NonNullable<NonNullable<RelayConfigInput['security']>['senderPolicy']>;
const sp = (p: SenderPolicyInput) => relayConfigSchema.parse({ security: { senderPolicy: p } }).security.senderPolicy;
const addr = (s: string): ParsedAddress => {
  const p = parseAddress(s);
  if (!p.ok) throw new Error(p.reason);
  return p.address;
};
const dns = createStaticPolicyDns({
  'MX good.example': ['10 mx.good.example'],
  'A aonly.example': ['192.0.2.2'],
  'MX nullmx.example': ['0 .'],
  'MX broken.example': 'SERVFAIL',
});

describe('sender policy', () => {
  it('rejects senders that are not fully qualified with 504 5.5.2; the null sender passes', () => {
    const p = sp({ rejectNonFqdnSender: true });
    expect(checkSenderFqdn('user@localhost', addr('user@localhost'), p)).toMatchObject({ ok: false, code: 504, enhanced: '5.5.2', rule: 'reject-non-fqdn-sender' });
    expect(checkSenderFqdn('user', null, p)).toMatchObject({ ok: false, code: 504 });
    expect(checkSenderFqdn('user@corp.example', addr('user@corp.example'), p).ok).toBe(true);
    expect(checkSenderFqdn('', null, p).ok).toBe(true);
    expect(checkSenderFqdn('user@localhost', addr('user@localhost'), sp({})).ok).toBe(true);
  });

  it('rejects sender domains without MX/A/AAAA with 550 5.1.8, and 450 4.1.8 when DNS fails', async () => {
    const p = sp({ rejectUnknownSenderDomain: true });
    expect((await checkSenderDomain(addr('a@good.example'), p, dns)).ok).toBe(true);
    expect((await checkSenderDomain(addr('a@aonly.example'), p, dns)).ok).toBe(true);
    expect(await checkSenderDomain(addr('a@nowhere.example'), p, dns)).toMatchObject({ ok: false, code: 550, enhanced: '5.1.8', rule: 'reject-unknown-sender-domain' });
    expect(await checkSenderDomain(addr('a@nullmx.example'), p, dns)).toMatchObject({ ok: false, code: 550, enhanced: '5.1.8' });
    expect(await checkSenderDomain(addr('a@broken.example'), p, dns)).toMatchObject({ ok: false, code: 450, enhanced: '4.1.8' });
    expect((await checkSenderDomain(addr('a@nowhere.example'), sp({}), dns)).ok).toBe(true);
  });

  it('rejects a local-domain sender from a client that may not relay with 553 5.7.1', () => {
    const p = sp({ rejectUnauthenticatedLocalSender: true });
    const locals = new Set(['corp.example', 'relay.corp.example']);
    expect(checkLocalSender(addr('ceo@corp.example'), false, locals, p)).toMatchObject({ ok: false, code: 553, enhanced: '5.7.1', rule: 'reject-unauthenticated-local-sender' });
    expect(checkLocalSender(addr('ceo@corp.example'), true, locals, p).ok).toBe(true);
    expect(checkLocalSender(addr('someone@far.example'), false, locals, p).ok).toBe(true);
    expect(checkLocalSender(addr('ceo@corp.example'), false, locals, sp({})).ok).toBe(true);
  });
});

describe('sender must match login', () => {
  const on = relayConfigSchema.parse({ general: { auth: { enabled: true, senderMustMatchLogin: true } } }).general.auth;
  const off = relayConfigSchema.parse({ general: { auth: { enabled: true } } }).general.auth;

  it('allows the login (when it is an address) and the addresses listed for the user, case-insensitively', () => {
    expect(checkSenderLogin('Alice@Corp.example', 'alice@corp.example', [], on).ok).toBe(true);
    expect(checkSenderLogin('scanner@corp.example', 'scanner', ['scanner@corp.example', 'fax@corp.example'], on).ok).toBe(true);
    expect(checkSenderLogin('fax@CORP.example', 'scanner', ['scanner@corp.example', 'fax@corp.example'], on).ok).toBe(true);
    expect(checkSenderLogin('', 'scanner', [], on).ok).toBe(true);
  });

  it('refuses any other sender with 553 5.7.1', () => {
    expect(checkSenderLogin('ceo@corp.example', 'scanner', ['scanner@corp.example'], on)).toMatchObject({ ok: false, code: 553, enhanced: '5.7.1', rule: 'sender-login-mismatch' });
    expect(checkSenderLogin('scanner@corp.example', 'scanner', [], on).ok).toBe(false);
    expect(checkSenderLogin('ceo@corp.example', 'scanner', [], off).ok).toBe(true);
  });
});
