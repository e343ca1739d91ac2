import { describe, expect, it } from 'vitest';
import { relayConfigSchema } from '../../server/config/schema.ts';
import { parseAddress } from '../../server/policy/address.ts';
import { checkRecipientRelay, classifyRecipient, localDomains, relayDomainSet, type ClientStanding } from '../../server/policy/relay-control.ts';

const config = relayConfigSchema.parse({
  general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' }, externalPostmasters: ['admin@elsewhere.example'] },
  relayControl: { relayDomains: [{ name: 'Main', domain: 'inbound.example', nextHop: '' }] },
});
const stranger: ClientStanding = { trusted: false, authenticated: false, localNetwork: false };
const trusted: ClientStanding = { trusted: true, authenticated: false, localNetwork: false };

function verdict(address: string, standing: ClientStanding, cfg = config) {
  const p = parseAddress(address);
  if (!p.ok) return { parseError: p.reason };
  const cls = classifyRecipient(p.address, localDomains(cfg), relayDomainSet(cfg));
  return checkRecipientRelay(p.address, cls, standing, cfg);
}

describe('relay control', () => {
  it('lets a trusted client relay anywhere', () => {
    expect(verdict('someone@far.example', trusted)).toEqual({ ok: true });
  });

  it('denies an untrusted client relaying to a non-relay domain with 554 5.7.1', () => {
    expect(verdict('someone@far.example', stranger)).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1', rule: 'relay-control' });
  });

  it('accepts mail for relay domains from anyone', () => {
    expect(verdict('user@inbound.example', stranger)).toEqual({ ok: true });
    expect(verdict('USER@Inbound.Example', stranger)).toEqual({ ok: true });
  });

  it('treats domains configured with a root dot like the same domains without it', () => {
    const dotted = relayConfigSchema.parse({
      general: { profile: { domain: 'corp.example.', hostname: 'relay.corp.example.' }, externalPostmasters: ['admin@elsewhere.example'] },
      relayControl: { relayDomains: [{ name: 'Main', domain: 'Inbound.Example.', nextHop: '' }] },
    });
    expect(verdict('user@inbound.example', stranger, dotted)).toEqual({ ok: true });
    expect(verdict('postmaster@corp.example', stranger, dotted)).toEqual({ ok: true });
    expect(verdict('alice@corp.example', trusted, dotted)).toMatchObject({ ok: false, code: 550, enhanced: '5.1.1', rule: 'local-domain' });
    expect(verdict('victim@far.example', stranger, dotted)).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1' });
  });

  it.each([
    'victim%far.example@inbound.example',
    'far.example!victim@inbound.example',
    '"victim@far.example"@inbound.example',
    '@inbound.example:victim@far.example',
    '@far.example:victim@inbound.example',
    'victim@far.example@inbound.example',
    'user@[192.0.2.1]',
    'user@[IPv6:2001:db8::1]',
  ])('does not open the relay for the address trick %s', (address) => {
    const v = verdict(address, stranger);
    expect(v).not.toEqual({ ok: true });
  });

  it('refuses other mailboxes of the local domains with 550 5.1.1', () => {
    expect(verdict('alice@corp.example', trusted)).toMatchObject({ ok: false, code: 550, enhanced: '5.1.1' });
    expect(verdict('alice@relay.corp.example', stranger)).toMatchObject({ ok: false, code: 550, enhanced: '5.1.1' });
  });

  it('accepts postmaster@ and mailer-daemon@ of local domains when external postmasters are set', () => {
    expect(verdict('postmaster@corp.example', stranger)).toEqual({ ok: true });
    expect(verdict('MAILER-DAEMON@relay.corp.example', stranger)).toEqual({ ok: true });
    expect(verdict('postmaster', stranger)).toEqual({ ok: true });
    const none = relayConfigSchema.parse({ general: { profile: { domain: 'corp.example' } } });
    expect(verdict('postmaster@corp.example', stranger, none)).toMatchObject({ ok: false, code: 550 });
  });

  it('lets authenticated users relay only when authentication is enabled', () => {
    const authed: ClientStanding = { trusted: false, authenticated: true, localNetwork: false };
    expect(verdict('x@far.example', authed)).toMatchObject({ ok: false });
    const withAuth = relayConfigSchema.parse({ general: { auth: { enabled: true } } });
    expect(verdict('x@far.example', authed, withAuth)).toEqual({ ok: true });
  });

  it('skips authentication for the local network only with skipForLocalNetwork', () => {
    const local: ClientStanding = { trusted: false, authenticated: false, localNetwork: true };
    const on = relayConfigSchema.parse({ general: { auth: { enabled: true, skipForLocalNetwork: true } } });
    const off = relayConfigSchema.parse({ general: { auth: { enabled: true, skipForLocalNetwork: false } } });
    expect(verdict('x@far.example', local, on)).toEqual({ ok: true });
    expect(verdict('x@far.example', local, off)).toMatchObject({ ok: false, code: 554 });
  });
});

describe('address parsing', () => {
  it('accepts IDN domains and stores the ASCII form', () => {
    const p = parseAddress('jörg@bücher.example');
    expect(p).toMatchObject({ ok: true, address: { domain: 'xn--bcher-kva.example', domainUnicode: 'bücher.example' } });
  });
  it.each([
    ['no-at-sign', 'no domain'],
    ['a@', 'empty domain'],
    ['@b.example', 'empty local part'],
    ['a@b_c.example', 'not a valid domain'],
    ['a\u0000b@x.example', 'control characters'],
    [`${'a'.repeat(65)}@x.example`, 'local part longer'],
  ])('rejects %s with a reason', (input, reason) => {
    const p = parseAddress(input);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toContain(reason);
  });
});
