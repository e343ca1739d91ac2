import { describe, expect, it } from 'vitest';
import { relayConfigSchema, type ListRule, type RelayConfigInput } from '../../server/config/schema.ts';
import { ClientCounters } from '../../server/policy/client-counters.ts';
import { CompiledLists } from '../../server/policy/lists.ts';
import { NetworkList } from '../../server/policy/networks.ts';
import { createStaticPolicyDns } from '../../server/policy/policy-dns.ts';
import { localDomains, relayDomainSet } from '../../server/policy/relay-control.ts';
import {
  checkConnect,
  checkHelo,
  checkMailFrom,
  checkMissingHelo,
  checkRcptTo,
  discardOf,
  newClientState,
  type ClientState,
  type PolicyContext,
} from '../../server/policy/session-policy.ts';

const dns = createStaticPolicyDns({
  'PTR 192.0.2.10': ['mail.partner.example'],
  'A mail.partner.example': ['192.0.2.10'],
  'PTR 192.0.2.11': ['mail.partner.example'], // claims the partner's name, does not resolve back
  'PTR 192.0.2.12': ['host.dyn.example'],
  'A host.dyn.example': ['192.0.2.12'],
  'A 66.2.0.192.bl.example': ['127.0.0.2'],
  'MX good.example': ['10 mx.good.example'],
  'A helo.good.example': ['192.0.2.66'],
});

function context(input: RelayConfigInput, counters = new ClientCounters()): PolicyContext {
  const config = relayConfigSchema.parse({
    general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' } },
    relayControl: { trustedNetworks: [{ name: 'lan', network: '10.0.0.0/8' }], relayDomains: [{ name: 'in', domain: 'inbound.example' }] },
    ...input,
  });
  return {
    config,
    lists: CompiledLists.compile(config.security.lists),
    trusted: new NetworkList(config.relayControl.trustedNetworks.map((t) => t.network)),
    locals: localDomains(config),
    relayDomains: relayDomainSet(config),
    dns,
    counters,
  };
}

function client(ctx: PolicyContext, ip: string, authenticated = false): ClientState {
  return newClientState(ip, { trusted: ctx.trusted.contains(ip), authenticated, localNetwork: false });
}

type Criterion = ListRule['criterion'];
const rule = (name: string, type: 'allow' | 'block', criterion: Criterion, value: string, action?: 'reject' | 'discard'): ListRule =>
  ({ name, type, criterion, value, action: type === 'allow' ? 'allow' : (action ?? 'reject'), enabled: true });

describe('session policy: lists at the earliest stage', () => {
  const ctx = context({
    security: {
      lists: [
        rule('bad net', 'block', 'clientIp', '192.0.2.200/29'),
        rule('quiet net', 'block', 'clientIp', '10.3.0.0/16', 'discard'),
        rule('dyn hosts', 'block', 'clientHostname', '*.dyn.example'),
        rule('partner host', 'allow', 'clientHostname', 'mail.partner.example'),
        rule('bad helo', 'block', 'helo', '*.spam.example'),
        rule('bad sender', 'block', 'senderDomain', 'spam.example'),
        rule('drop sender', 'block', 'senderAddress', 'noise@*', 'discard'),
        rule('bad rcpt', 'block', 'recipientAddress', 'old@inbound.example'),
        rule('drop rcpt', 'block', 'recipientAddress', 'blackhole@inbound.example', 'discard'),
      ],
      connectionPolicy: { rejectUnknownClientHostname: true },
    },
  });

  it('rejects by client IP and host name at connect, with the rule name', async () => {
    expect(await checkConnect(client(ctx, '192.0.2.201'), ctx)).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1', rule: 'bad net' });
    expect(await checkConnect(client(ctx, '192.0.2.12'), ctx)).toMatchObject({ ok: false, code: 554, rule: 'dyn hosts' });
  });

  it('lets only a forward-confirmed host name allow; an unconfirmed one still falls to the policy', async () => {
    const partner = client(ctx, '192.0.2.10');
    expect((await checkConnect(partner, ctx)).ok).toBe(true);
    expect(partner.connect.allow?.rule).toBe('partner host');
    const impostor = client(ctx, '192.0.2.11');
    expect(await checkConnect(impostor, ctx)).toMatchObject({ ok: false, code: 550, enhanced: '5.7.25', rule: 'reject-unknown-client-hostname' });
    expect(impostor.connect.allow).toBeNull();
  });

  it('rejects by HELO at HELO, by sender at MAIL FROM, by recipient at RCPT TO', async () => {
    const s = client(ctx, '10.1.1.1'); // trusted: lists still apply
    expect(await checkHelo(s, 'x.spam.example', ctx)).toMatchObject({ ok: false, code: 554, rule: 'bad helo' });
    expect(await checkMailFrom(s, 'a@spam.example', ctx, async () => [])).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1', rule: 'bad sender' });
    expect((await checkMailFrom(s, 'a@good.example', ctx, async () => [])).ok).toBe(true);
    expect((await checkRcptTo(s, 'old@inbound.example', ctx)).verdict).toMatchObject({ ok: false, code: 554, rule: 'bad rcpt' });
  });

  it('discards: a client or sender rule drops the message at DATA, a recipient rule drops that recipient', async () => {
    const quiet = client(ctx, '10.3.0.1');
    expect((await checkConnect(quiet, ctx)).ok).toBe(true);
    expect((await checkMailFrom(quiet, 'a@good.example', ctx, async () => [])).ok).toBe(true);
    expect(discardOf(quiet)?.rule).toBe('quiet net');

    const s = client(ctx, '10.1.1.1');
    expect((await checkMailFrom(s, 'noise@good.example', ctx, async () => [])).ok).toBe(true);
    expect(discardOf(s)?.rule).toBe('drop sender');
    expect((await checkMailFrom(s, 'a@good.example', ctx, async () => [])).ok).toBe(true);
    expect(discardOf(s)).toBeNull(); // a new transaction forgets the old one
    const r = await checkRcptTo(s, 'blackhole@inbound.example', ctx);
    expect(r.verdict.ok).toBe(true);
    expect(r.discard?.rule).toBe('drop rcpt');
  });
});

describe('session policy: allow rules exempt, except from relay control', () => {
  const ctx = context({
    security: {
      lists: [
        rule('friend', 'allow', 'clientIp', '192.0.2.66'),
        rule('block all senders', 'block', 'senderDomain', '*.example'),
        rule('newsletter', 'allow', 'senderAddress', 'news@good.example'),
        rule('postmaster ok', 'allow', 'recipientAddress', 'postmaster@inbound.example'),
      ],
      connectionPolicy: { rejectUnknownReverseClientHostname: true, maxConnectionsPerClient: 1 },
      advanced: { dnsblZones: ['bl.example'], rejectNonFqdnHelo: true, rejectUnknownRecipientDomain: true },
      senderPolicy: { rejectUnknownSenderDomain: true },
    },
  });

  it('an allowed client skips block rules, limits, reverse DNS, DNSBL and HELO checks', async () => {
    const s = client(ctx, '192.0.2.66'); // listed on bl.example and without PTR
    expect((await checkConnect(s, ctx)).ok).toBe(true);
    expect((await checkConnect(client(ctx, '192.0.2.66'), ctx)).ok).toBe(true); // no connection limit
    expect(s.countedConnection).toBe(false);
    expect((await checkHelo(s, 'laptop', ctx)).ok).toBe(true);
    expect((await checkMailFrom(s, 'x@unknown.example', ctx, async () => [])).ok).toBe(true);
    // ... but never relay control.
    expect((await checkRcptTo(s, 'someone@far.example', ctx)).verdict).toMatchObject({ ok: false, code: 554, rule: 'relay-control' });
  });

  it('an allowed sender skips the block rules and the sender policy for that message', async () => {
    const s = client(ctx, '10.2.2.2');
    expect((await checkMailFrom(s, 'news@good.example', ctx, async () => [])).ok).toBe(true);
    expect((await checkMailFrom(s, 'other@good.example', ctx, async () => [])).ok).toBe(false);
  });

  it('an allowed recipient skips the recipient policies for that recipient', async () => {
    const s = client(ctx, '198.51.100.1');
    s.connect.held = null;
    expect((await checkRcptTo(s, 'postmaster@inbound.example', ctx)).verdict.ok).toBe(true);
  });
});

describe('session policy: who is exempt, and held rejections', () => {
  it('trusted clients are exempt from limits and policies (lists still apply)', async () => {
    const ctx = context({ security: { connectionPolicy: { rejectUnknownReverseClientHostname: true, messageRateLimit: { count: 1, perSeconds: 60 } }, advanced: { rejectNonFqdnHelo: true, requireHelo: true } } });
    const s = client(ctx, '10.9.9.9');
    expect((await checkConnect(s, ctx)).ok).toBe(true);
    expect((await checkHelo(s, 'printer', ctx)).ok).toBe(true);
    expect(checkMissingHelo(s, ctx.config).ok).toBe(true);
    expect((await checkMailFrom(s, 'a@good.example', ctx, async () => [])).ok).toBe(true);
    expect((await checkMailFrom(s, 'a@good.example', ctx, async () => [])).ok).toBe(true);
    const stranger = client(ctx, '198.51.100.1');
    expect(checkMissingHelo(stranger, ctx.config)).toMatchObject({ ok: false, code: 503, enhanced: '5.5.1', rule: 'require-helo' });
  });

  it('address checks (sender and recipient FQDN and domain) apply to trusted clients too', async () => {
    const ctx = context({ security: { senderPolicy: { rejectNonFqdnSender: true }, advanced: { rejectNonFqdnRecipient: true, rejectUnknownRecipientDomain: true } } });
    const s = client(ctx, '10.9.9.9');
    expect(await checkMailFrom(s, 'root@nas', ctx, async () => [])).toMatchObject({ ok: false, code: 504, rule: 'reject-non-fqdn-sender' });
    expect((await checkMailFrom(s, 'nas@good.example', ctx, async () => [])).ok).toBe(true);
    expect((await checkRcptTo(s, 'admin@localhost', ctx)).verdict).toMatchObject({ ok: false, code: 504, rule: 'reject-non-fqdn-recipient' });
    expect((await checkRcptTo(s, 'a@typo.example', ctx)).verdict).toMatchObject({ ok: false, code: 550, enhanced: '5.1.2' });
    expect((await checkRcptTo(s, 'a@good.example', ctx)).verdict.ok).toBe(true);
  });

  it('answers connect and HELO policy rejections at once when AUTH is off', async () => {
    const ctx = context({ security: { advanced: { dnsblZones: ['bl.example'], rejectNonFqdnHelo: true } } });
    expect(await checkConnect(client(ctx, '192.0.2.66'), ctx)).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1' });
    expect(await checkHelo(client(ctx, '198.51.100.1'), 'laptop', ctx)).toMatchObject({ ok: false, code: 504 });
  });

  it('holds them until MAIL FROM when AUTH is on, so a user who logs in gets through', async () => {
    const ctx = context({ general: { auth: { enabled: true } }, security: { advanced: { dnsblZones: ['bl.example'], rejectNonFqdnHelo: true } } });
    const anonymous = client(ctx, '192.0.2.66');
    expect((await checkConnect(anonymous, ctx)).ok).toBe(true);
    expect((await checkHelo(anonymous, 'laptop', ctx)).ok).toBe(true);
    const v = await checkMailFrom(anonymous, 'a@good.example', ctx, async () => []);
    expect(v).toMatchObject({ ok: false, code: 554, enhanced: '5.7.1' });
    expect(!v.ok && v.text).toMatch(/bl\.example/);

    const user = client(ctx, '192.0.2.66');
    expect((await checkConnect(user, ctx)).ok).toBe(true);
    user.standing.authenticated = true;
    user.user = 'alice@corp.example';
    expect((await checkMailFrom(user, 'alice@corp.example', ctx, async () => [])).ok).toBe(true);
  });

  it('counts connections per client and refuses past the limit (421, not held)', async () => {
    const counters = new ClientCounters();
    const ctx = context({ general: { auth: { enabled: true } }, security: { connectionPolicy: { maxConnectionsPerClient: 1 } } }, counters);
    expect((await checkConnect(client(ctx, '198.51.100.7'), ctx)).ok).toBe(true);
    expect(await checkConnect(client(ctx, '198.51.100.7'), ctx)).toMatchObject({ ok: false, code: 421, disconnect: true });
    expect((await checkConnect(client(ctx, '198.51.100.8'), ctx)).ok).toBe(true);
  });

  it('checks sender must match login for logged-in users, even when the sender is allow-listed', async () => {
    const ctx = context({ general: { auth: { enabled: true, senderMustMatchLogin: true } }, security: { lists: [rule('all good', 'allow', 'senderDomain', 'good.example')] } });
    const s = client(ctx, '198.51.100.1', true);
    s.user = 'scanner';
    const senders = async (u: string) => (u === 'scanner' ? ['scanner@good.example'] : []);
    expect((await checkMailFrom(s, 'scanner@good.example', ctx, senders)).ok).toBe(true);
    expect(await checkMailFrom(s, 'boss@good.example', ctx, senders)).toMatchObject({ ok: false, code: 553, rule: 'sender-login-mismatch' });
  });
});
