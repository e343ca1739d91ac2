import { describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfigInput } from '../../server/config/schema.ts';
import { matchesTarget, planRoutes, type Route } from '../../server/delivery/route-planner.ts';

const relayA = { host: 'smtp-a.provider.example', port: 587, security: 'starttls' as const, username: 'u', password: 'p' };
const relayB = { host: 'smtp-b.provider.example', port: 465, security: 'tls' as const };

function config(extra: RelayConfigInput = {}) {
  return relayConfigSchema.parse({
    general: { profile: { domain: 'corp.example', additionalDomains: ['corp2.example'], hostname: 'relay.corp.example' }, externalPostmasters: ['admin@elsewhere.example'] },
    ...extra,
  });
}

/** Route key → recipients, the shape most assertions care about. */
function summary(routes: Route[]): Record<string, string[]> {
  return Object.fromEntries(routes.map((r) => [r.key, r.recipients.map((x) => (x.rcpt === x.recipient ? x.recipient : `${x.recipient}→${x.rcpt}`))]));
}

describe('route planner', () => {
  it('direct mode: one MX route per recipient domain, through the external resolvers', () => {
    const routes = planRoutes(config(), 'me@corp.example', ['a@one.example', 'b@ONE.example', 'c@two.example']);
    expect(summary(routes)).toEqual({ 'mx:external:one.example': ['a@one.example', 'b@ONE.example'], 'mx:external:two.example': ['c@two.example'] });
    expect(routes[0]!.target).toEqual({ kind: 'mx', domain: 'one.example', resolvers: 'external' });
  });

  it('relay host mode: every recipient goes through the relay host', () => {
    const routes = planRoutes(config({ delivery: { mode: 'relayHost', relayHost: relayA } }), 'me@corp.example', ['a@one.example', 'c@two.example']);
    expect(summary(routes)).toEqual({ 'relay:default': ['a@one.example', 'c@two.example'] });
    expect(routes[0]!.target).toMatchObject({ kind: 'relayHost', rule: null, relayHost: { host: relayA.host, port: 587 } });
  });

  it('relay exceptions by recipient domain, wildcard and address split one message into routes', () => {
    const cfg = config({
      delivery: {
        mode: 'relayHost',
        relayHost: relayA,
        exceptions: [
          { name: 'Partners', targetType: 'recipient', targets: ['partner.example', '*.group.example'], relayHost: relayB },
          { name: 'CEO', targetType: 'recipient', targets: ['ceo@one.example'], relayHost: { host: 'vip.example' } },
        ],
      },
    });
    const routes = planRoutes(cfg, 'me@corp.example', ['a@one.example', 'x@partner.example', 'y@de.group.example', 'z@group.example', 'CEO@One.Example']);
    expect(summary(routes)).toEqual({
      'relay:default': ['a@one.example', 'z@group.example'],
      'relay:rule:Partners': ['x@partner.example', 'y@de.group.example'],
      'relay:rule:CEO': ['CEO@One.Example'],
    });
  });

  it('a sender exception routes all recipients of that sender; first matching rule wins', () => {
    const cfg = config({
      delivery: {
        exceptions: [
          { name: 'Billing', targetType: 'sender', targets: ['billing@corp.example'], relayHost: relayA },
          { name: 'Corp senders', targetType: 'sender', targets: ['corp.example'], relayHost: relayB },
        ],
      },
    });
    expect(summary(planRoutes(cfg, 'billing@corp.example', ['a@one.example', 'b@two.example']))).toEqual({ 'relay:rule:Billing': ['a@one.example', 'b@two.example'] });
    expect(summary(planRoutes(cfg, 'other@corp.example', ['a@one.example']))).toEqual({ 'relay:rule:Corp senders': ['a@one.example'] });
    expect(summary(planRoutes(cfg, 'x@else.example', ['a@one.example']))).toEqual({ 'mx:external:one.example': ['a@one.example'] });
    // The null sender of a bounce matches no sender rule.
    expect(summary(planRoutes(cfg, '', ['a@one.example']))).toEqual({ 'mx:external:one.example': ['a@one.example'] });
  });

  it('relay domains: nextHop (host, host:port, [v6]:port) or MX through the internal resolvers', () => {
    const cfg = config({
      delivery: { mode: 'relayHost', relayHost: relayA },
      relayControl: {
        relayDomains: [
          { name: 'Main', domain: 'inbound.example', nextHop: 'mail.lan:2525' },
          { name: 'Plain', domain: 'plain.example', nextHop: 'Mail.LAN' },
          { name: 'V6', domain: 'v6.example', nextHop: '[2001:db8::25]:26' },
          { name: 'ByMx', domain: 'mx.example', nextHop: '' },
        ],
      },
    });
    const routes = planRoutes(cfg, 's@x.example', ['a@inbound.example', 'b@plain.example', 'c@v6.example', 'd@mx.example', 'e@far.example']);
    expect(summary(routes)).toEqual({
      'nexthop:mail.lan:2525': ['a@inbound.example'],
      'nexthop:mail.lan:default': ['b@plain.example'],
      'nexthop:2001:db8::25:26': ['c@v6.example'],
      'mx:internal:mx.example': ['d@mx.example'],
      'relay:default': ['e@far.example'],
    });
    expect(routes.find((r) => r.key === 'nexthop:mail.lan:2525')!.target).toEqual({ kind: 'nextHop', host: 'mail.lan', port: 2525, relayDomain: 'Main' });
  });

  it('relay exceptions come before relay domains', () => {
    const cfg = config({
      delivery: { exceptions: [{ name: 'All inbound', targetType: 'recipient', targets: ['inbound.example'], relayHost: relayB }] },
      relayControl: { relayDomains: [{ name: 'Main', domain: 'inbound.example', nextHop: 'mail.lan' }] },
    });
    expect(summary(planRoutes(cfg, 's@x.example', ['a@inbound.example']))).toEqual({ 'relay:rule:All inbound': ['a@inbound.example'] });
  });

  it('IDN domains are compared and looked up in ASCII form', () => {
    const cfg = config({
      delivery: { exceptions: [{ name: 'Books', targetType: 'recipient', targets: ['bücher.example'], relayHost: relayB }] },
      relayControl: { relayDomains: [{ name: 'Müller', domain: 'xn--mller-kva.example', nextHop: '' }] },
    });
    const routes = planRoutes(cfg, 's@x.example', ['a@xn--bcher-kva.example', 'b@müller.example', 'c@straße.example']);
    expect(summary(routes)).toEqual({
      'relay:rule:Books': ['a@xn--bcher-kva.example'],
      'mx:internal:xn--mller-kva.example': ['b@müller.example'],
      'mx:external:xn--strae-oqa.example': ['c@straße.example'],
    });
  });

  it('postmaster@ and mailer-daemon@ of local domains go to the external postmasters', () => {
    const routes = planRoutes(config(), 's@x.example', ['postmaster@corp.example', 'MAILER-DAEMON@corp2.example']);
    expect(summary(routes)).toEqual({
      'mx:external:elsewhere.example': ['postmaster@corp.example→admin@elsewhere.example', 'MAILER-DAEMON@corp2.example→admin@elsewhere.example'],
    });
  });

  it('other local recipients, or postmaster without external postmasters, are unroutable', () => {
    const cfg = config({ general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' }, externalPostmasters: [] } });
    const routes = planRoutes(cfg, 's@x.example', ['someone@corp.example', 'postmaster@relay.corp.example']);
    expect(routes.map((r) => r.target)).toEqual([
      { kind: 'unroutable', code: 550, enhanced: '5.1.1', reason: 'someone@corp.example: no mailboxes on this relay (local domain)', why: 'localMailbox', params: { recipient: 'someone@corp.example' } },
      { kind: 'unroutable', code: 550, enhanced: '5.1.1', reason: 'postmaster@relay.corp.example: no external postmaster is configured', why: 'noPostmaster', params: { recipient: 'postmaster@relay.corp.example' } },
    ]);
  });

  it('a local domain that is also a relay domain is relayed, postmaster included', () => {
    const cfg = config({ relayControl: { relayDomains: [{ name: 'Self', domain: 'corp.example', nextHop: 'exchange.lan' }] } });
    expect(summary(planRoutes(cfg, 's@x.example', ['postmaster@corp.example', 'a@corp.example']))).toEqual({
      'nexthop:exchange.lan:default': ['postmaster@corp.example', 'a@corp.example'],
    });
  });

  it.each([
    ['user@example.com', 'USER@Example.COM', true],
    ['user@example.com', 'other@example.com', false],
    ['example.com', 'a@example.com', true],
    ['example.com', 'a@sub.example.com', false],
    ['*.example.com', 'a@sub.example.com', true],
    ['*.example.com', 'a@deep.sub.example.com', true],
    ['*.example.com', 'a@example.com', false],
    ['*.example.com', 'a@badexample.com', false],
    ['bücher.example', 'a@XN--BCHER-KVA.example', true],
  ])('target %s matches %s: %s', (target, address, expected) => {
    expect(matchesTarget(target, address)).toBe(expected);
  });
});
