/**
 * `dns.check`'s codes, params and found items: every kind of check and outcome, against zones this test writes.
 * The relay's own check logic and lookups (lookupMx, lookupAddresses, withFallback) run as they are;
 * only the wire is replaced by a table of answers, as the policy tests do with createStaticPolicyDns
 * (the real DNS server is tested in test/integration/control-relay-dns.test.ts). Last, the app's
 * English catalog must word every check and every found line exactly as the relay does, so English
 * reads the same in the CLI and the app; and a relay's found items of a newer kind still reach an app.
 */
import type { promises as dnsPromises } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { relayConfigSchema, type RelayConfigInput } from '../../server/config/schema.ts';
import { checkDnsSetup } from '../../server/delivery/dns-check.ts';
import type { ResolverPair } from '../../server/delivery/resolvers.ts';
import { DNS_CHECK_CODES, METHODS, relaxed, type MethodResult } from '../../server/protocol/index.ts';
import { dnsCheckText } from '../../renderer/src/pages/tools/dns-check-text.ts';
import { dnsFoundText } from '../../renderer/src/pages/tools/dns-found-text.ts';
import englishMessages from '../../renderer/src/i18n/messages/tools.en.ts';
import englishMailMessages from '../../renderer/src/i18n/messages/mail.en.ts';

type Check = MethodResult<'dns.check'>['checks'][number];
/** "TYPE name" → answers ("10 mx.example" for MX), or SERVFAIL. A name with no entry is NXDOMAIN. */
type Zone = Record<string, string[] | 'SERVFAIL'>;

/** A node:dns Resolver answering from `zone`, failing with the error codes c-ares uses. */
function zoneResolver(zone: Zone): dnsPromises.Resolver {
  const names = new Set(Object.keys(zone).map((k) => k.split(' ')[1]));
  const answer = async (type: string, name: string): Promise<string[]> => {
    const v = zone[`${type} ${name}`];
    if (v === 'SERVFAIL') throw Object.assign(new Error(`query${type} ESERVFAIL ${name}`), { code: 'ESERVFAIL' });
    if (v) return v;
    const code = names.has(name) ? 'ENODATA' : 'ENOTFOUND';
    throw Object.assign(new Error(`query${type} ${code} ${name}`), { code });
  };
  const resolver = {
    resolve4: (name: string) => answer('A', name),
    resolve6: (name: string) => answer('AAAA', name),
    reverse: (ip: string) => answer('PTR', ip),
    resolveMx: async (name: string) => (await answer('MX', name)).map((r) => ({ priority: Number(r.split(' ')[0]), exchange: r.split(' ')[1] ?? '' })),
  };
  return resolver as unknown as dnsPromises.Resolver;
}

const external: Zone = {
  'A relay.test': ['192.0.2.10', '192.0.2.11', '192.0.2.12'],
  'AAAA relay.test': ['2001:db8::10'],
  'PTR 192.0.2.10': ['relay.test'],
  'PTR 192.0.2.11': ['dynamic-11.isp.test'],
  'PTR 192.0.2.12': 'SERVFAIL',
  // 2001:db8::10 has no PTR.
  'MX ok.test': ['10 relay.test'],
  'MX else.test': ['10 mx.elsewhere.test'],
  'A mx.elsewhere.test': ['198.51.100.7'],
  'A aonly.test': ['192.0.2.10'],
  'MX broken.test': 'SERVFAIL',
  'MX loophop.test': ['10 relay.test'],
  'MX ghost.test': ['10 relay.test'],
  'A servfail-host.test': 'SERVFAIL',
  'AAAA servfail-host.test': 'SERVFAIL',
  // No MX, and then no address either: the name exists (a TXT record), nothing else.
  'TXT nomail.test': ['v=spf1 -all'],
  // No MX, and the A/AAAA lookup standing in for it fails.
  'TXT halfbroken.test': ['v=spf1 -all'],
  'A halfbroken.test': 'SERVFAIL',
  'MX nullmx.test': ['0 '],
  'MX nohost.test': ['10 gone.nohost.test', '20 relay.test'],
};
const internal: Zone = {
  'MX ok.test': ['10 mail.ok.test'],
  'A mail.ok.test': ['10.0.0.25'],
  'MX else.test': ['10 relay.test'],
  'MX broken.test': 'SERVFAIL',
};
const resolvers: ResolverPair = { external: zoneResolver(external), internal: zoneResolver(internal), sameServers: false };

async function run(input: RelayConfigInput): Promise<Check[]> {
  const config = relayConfigSchema.parse(input);
  return (await checkDnsSetup(config, { resolvers, localAddresses: [] })).checks;
}

const domain = (name: string, d: string, nextHop = '') => ({ name, domain: d, nextHop });

/** Every relay domain setup, with the relay's own host name in order. */
const full = (): Promise<Check[]> =>
  run({
    general: { profile: { hostname: 'relay.test', domain: 'relay.test' } },
    dns: { internal: ['10.0.0.53'], external: ['192.0.2.53'] },
    relayControl: {
      relayDomains: [
        domain('Ok', 'ok.test'),
        domain('Else', 'else.test'),
        domain('A only', 'aonly.test', 'mail.ok.test:2525'),
        domain('Nowhere', 'nxd.test'),
        domain('Broken', 'broken.test'),
        domain('Loop hop', 'loophop.test', '192.0.2.10'),
        domain('Ghost', 'ghost.test', 'ghost.ok.test'),
      ],
    },
  });

/** Found lines of each kind that the setups above do not give: no MX and no address, null MX, an MX host without address. */
const foundEdges = (): Promise<Check[]> =>
  run({
    general: { profile: { hostname: 'relay.test', domain: 'relay.test' } },
    dns: { internal: ['10.0.0.53'], external: ['192.0.2.53'] },
    relayControl: { relayDomains: [domain('No mail', 'nomail.test', '10.0.0.25'), domain('Half', 'halfbroken.test', '10.0.0.25'), domain('Null', 'nullmx.test', '10.0.0.25'), domain('No host', 'nohost.test', '10.0.0.25')] },
  });

/** The less common outcomes: a host name that is no FQDN, missing or failing, and no internal DNS. */
const edges = async (): Promise<Check[]> => [
  ...(await run({ general: { profile: { hostname: 'localhost', domain: 'relay.test' } }, relayControl: { relayDomains: [domain('Nowhere', 'nxd.test')] } })),
  ...(await run({ general: { profile: { hostname: 'gone.test', domain: 'relay.test' } } })),
  ...(await run({ general: { profile: { hostname: 'servfail-host.test', domain: 'relay.test' } } })),
];

describe('dns.check codes and params', () => {
  it('names the host name and each PTR check with its outcome and values', async () => {
    const checks = await full();
    expect(checks.slice(0, 5).map(({ code, status, params }) => ({ code, status, params }))).toEqual([
      { code: 'hostname.ok', status: 'pass', params: { host: 'relay.test' } },
      { code: 'reverse.ok', status: 'pass', params: { host: 'relay.test', ip: '192.0.2.10' } },
      { code: 'reverse.mismatch', status: 'fail', params: { host: 'relay.test', ip: '192.0.2.11' } },
      { code: 'reverse.lookupError', status: 'error', params: { host: 'relay.test', ip: '192.0.2.12', dnsError: 'DNS server failure (SERVFAIL) looking up PTR 192.0.2.12' } },
      { code: 'reverse.missing', status: 'fail', params: { host: 'relay.test', ip: '2001:db8::10' } },
    ]);
  });

  it('names the MX and next-hop checks of each relay domain with its outcome and values', async () => {
    const byDomain = new Map<string, Array<Pick<Check, 'code' | 'status' | 'params'>>>();
    for (const c of (await full()).slice(5)) byDomain.set(c.subject, [...(byDomain.get(c.subject) ?? []), { code: c.code, status: c.status, params: c.params }]);
    const key = (i: number) => `relayControl.relayDomains[${i}]`;
    expect(Object.fromEntries(byDomain)).toEqual({
      'ok.test': [
        { code: 'externalMx.ok', status: 'pass', params: { domain: 'ok.test', host: 'relay.test' } },
        { code: 'internalMx.ok', status: 'pass', params: { domain: 'ok.test', host: 'relay.test', key: key(0), internalDns: '10.0.0.53' } },
      ],
      'else.test': [
        { code: 'externalMx.elsewhere', status: 'fail', params: { domain: 'else.test', host: 'relay.test' } },
        { code: 'internalMx.loop', status: 'fail', params: { domain: 'else.test', host: 'relay.test', key: key(1), internalDns: '10.0.0.53' } },
      ],
      'aonly.test': [
        { code: 'externalMx.implicitOnly', status: 'warn', params: { domain: 'aonly.test', host: 'relay.test' } },
        { code: 'nextHop.ok', status: 'pass', params: { domain: 'aonly.test', nextHop: 'mail.ok.test:2525', hopHost: 'mail.ok.test', key: key(2) } },
      ],
      'nxd.test': [
        { code: 'externalMx.missing', status: 'fail', params: { domain: 'nxd.test', host: 'relay.test' } },
        { code: 'internalMx.missing', status: 'fail', params: { domain: 'nxd.test', host: 'relay.test', key: key(3), internalDns: '10.0.0.53' } },
      ],
      'broken.test': [
        { code: 'externalMx.lookupError', status: 'error', params: { domain: 'broken.test', host: 'relay.test', dnsError: 'DNS server failure (SERVFAIL) looking up MX broken.test' } },
        {
          code: 'internalMx.lookupError',
          status: 'error',
          params: { domain: 'broken.test', host: 'relay.test', key: key(4), internalDns: '10.0.0.53', dnsError: 'DNS server failure (SERVFAIL) looking up MX broken.test' },
        },
      ],
      'loophop.test': [
        { code: 'externalMx.ok', status: 'pass', params: { domain: 'loophop.test', host: 'relay.test' } },
        { code: 'nextHop.loop', status: 'fail', params: { domain: 'loophop.test', nextHop: '192.0.2.10', hopHost: '192.0.2.10', key: key(5) } },
      ],
      'ghost.test': [
        { code: 'externalMx.ok', status: 'pass', params: { domain: 'ghost.test', host: 'relay.test' } },
        { code: 'nextHop.unresolvable', status: 'fail', params: { domain: 'ghost.test', nextHop: 'ghost.ok.test', hopHost: 'ghost.ok.test', key: key(6) } },
      ],
    });
  });

  it('names a host name that is not fully qualified, missing or failing, and a missing internal DNS', async () => {
    expect((await edges()).map(({ code, status, params }) => ({ code, status, params }))).toEqual([
      { code: 'hostname.notFqdn', status: 'fail', params: { host: 'localhost' } },
      { code: 'externalMx.missing', status: 'fail', params: { domain: 'nxd.test', host: 'localhost' } },
      { code: 'internalMx.missingNoInternalDns', status: 'fail', params: { domain: 'nxd.test', host: 'localhost', key: 'relayControl.relayDomains[0]', internalDns: '' } },
      { code: 'hostname.noAddress', status: 'fail', params: { host: 'gone.test' } },
      {
        code: 'hostname.lookupError',
        status: 'error',
        params: { host: 'servfail-host.test', dnsError: 'DNS server failure (SERVFAIL) looking up A servfail-host.test' },
      },
    ]);
  });

  it('uses every code of the contract, and says what to fix exactly when a check does not pass', async () => {
    const checks = [...(await full()), ...(await edges())];
    expect([...new Set(checks.map((c) => c.code))].sort()).toEqual([...DNS_CHECK_CODES].sort());
    for (const c of checks) expect(c.fix === null, `${c.code}: fix`).toBe(c.code?.endsWith('.ok'));
  });

  it("is worded by the app's English catalog as the relay words it; fixes name the app's fields, not config keys", async () => {
    const checks = [...(await full()), ...(await edges()), ...(await foundEdges())];
    for (const c of checks) {
      const app = dnsCheckText(c, english);
      expect({ name: app.name, expected: app.expected }, c.code).toEqual({ name: c.name, expected: c.expected });
      if (c.fix === null) {
        expect(app.fix, c.code).toBeNull();
        continue;
      }
      expect(app.fix, c.code).toBeTruthy();
      expect(app.fix, c.code).not.toMatch(/relayControl\.|general\.profile|dns\.(internal|external)|\{\w+\}/);
      // Where the relay names a config key, the app names the place on screen.
      if (/general\.profile\.hostname/.test(c.fix)) expect(app.fix, c.code).toContain('General › SMTP profile › Host name (FQDN)');
      if (/\.nextHop/.test(c.fix)) expect(app.fix, c.code).toContain(`Relay Control › Domain list › ${c.params!.domain} › Main mail server`);
      if (/dns\.internal/.test(c.fix)) expect(app.fix, c.code).toContain('Relay Control › DNS servers');
      // Otherwise the sentence is the relay's.
      if (!/general\.profile|nextHop|dns\.(internal|external)/.test(c.fix)) expect(app.fix, c.code).toBe(c.fix);
    }
  });
});

describe('dns.check found items', () => {
  const external = (checks: Check[], d: string) => checks.find((c) => c.subject === d && c.code?.startsWith('externalMx.'));

  it('gives every check its found lines as data, item for item', async () => {
    for (const c of [...(await full()), ...(await edges()), ...(await foundEdges())]) expect(c.foundItems?.length, c.name).toBe(c.found.length);
  });

  it('names MX hosts, an implicit MX, plain values, a missing domain and a failed lookup', async () => {
    const checks = await full();
    expect(checks[0]).toMatchObject({ found: ['192.0.2.10', '192.0.2.11', '192.0.2.12', '2001:db8::10'], foundItems: ['192.0.2.10', '192.0.2.11', '192.0.2.12', '2001:db8::10'].map((value) => ({ kind: 'value', value })) });
    expect(external(checks, 'ok.test')).toMatchObject({
      found: ['MX 10 relay.test (192.0.2.10, 192.0.2.11, 192.0.2.12, 2001:db8::10)'],
      foundItems: [{ kind: 'mx', priority: 10, host: 'relay.test', addresses: ['192.0.2.10', '192.0.2.11', '192.0.2.12', '2001:db8::10'] }],
    });
    expect(external(checks, 'aonly.test')).toMatchObject({
      found: ['aonly.test (192.0.2.10), no MX record: its A/AAAA'],
      foundItems: [{ kind: 'implicitMx', host: 'aonly.test', addresses: ['192.0.2.10'] }],
    });
    expect(external(checks, 'nxd.test')).toMatchObject({
      found: ['domain not found (NXDOMAIN) looking up MX nxd.test'],
      foundItems: [{ kind: 'dnsError', code: 'ENOTFOUND', rrtype: 'MX', name: 'nxd.test', noMx: false }],
    });
    const broken = external(checks, 'broken.test');
    const servfail = { code: 'ESERVFAIL', rrtype: 'MX', name: 'broken.test', noMx: false };
    expect(broken).toMatchObject({ code: 'externalMx.lookupError', found: ['DNS server failure (SERVFAIL) looking up MX broken.test'], foundItems: [{ kind: 'dnsError', ...servfail }], dnsFailure: servfail });
    // Only lookup errors carry the failure apart from found: a missing record is an answer.
    expect(checks.filter((c) => c.dnsFailure !== undefined).map((c) => c.code)).toEqual(['reverse.lookupError', 'externalMx.lookupError', 'internalMx.lookupError']);
  });

  it('says when no MX was followed by no address, or by a failed address lookup, and names a null MX', async () => {
    const checks = await foundEdges();
    expect(external(checks, 'nomail.test')).toMatchObject({
      code: 'externalMx.missing',
      found: ['no MX record, and no A or AAAA record for nomail.test'],
      foundItems: [{ kind: 'dnsError', code: 'ENODATA', rrtype: 'A/AAAA', name: 'nomail.test', noMx: true }],
    });
    const half = { code: 'ESERVFAIL', rrtype: 'A', name: 'halfbroken.test', noMx: true };
    expect(external(checks, 'halfbroken.test')).toMatchObject({
      code: 'externalMx.lookupError',
      found: ['no MX record, and DNS server failure (SERVFAIL) looking up A halfbroken.test'],
      foundItems: [{ kind: 'dnsError', ...half }],
      dnsFailure: half,
      params: { dnsError: 'no MX record, and DNS server failure (SERVFAIL) looking up A halfbroken.test' },
    });
    expect(external(checks, 'nullmx.test')).toMatchObject({
      found: ['domain nullmx.test accepts no mail (null MX)'],
      foundItems: [{ kind: 'dnsError', code: 'NULLMX', rrtype: 'MX', name: 'nullmx.test', noMx: false }],
    });
    expect(external(checks, 'nohost.test')).toMatchObject({
      found: ['MX 10 gone.nohost.test (no address)', 'MX 20 relay.test (192.0.2.10, 192.0.2.11, 192.0.2.12, 2001:db8::10)'],
      foundItems: [{ kind: 'mx', priority: 10, host: 'gone.nohost.test', addresses: [] }, { kind: 'mx', priority: 20, host: 'relay.test' }],
    });
  });

  it("is worded by the app's English catalog exactly as the relay words its found lines", async () => {
    for (const c of [...(await full()), ...(await edges()), ...(await foundEdges())]) expect(dnsFoundText(c, english), c.name).toEqual(c.found);
  });

  it('reaches an app as data whatever kind a newer relay adds; a known kind must still be whole', async () => {
    const [check] = (await full()).filter((c) => c.subject === 'ok.test');
    const app = relaxed(METHODS['dns.check'].result);
    const newer = { ok: true, checks: [{ ...check, found: [...check!.found, 'SRV 0 5 25 relay.test'], foundItems: [...check!.foundItems!, { kind: 'srv', target: 'relay.test', port: 25 }] }] };
    expect(app.parse(newer).checks[0]?.foundItems?.[1]).toEqual({ kind: 'srv' });
    expect(dnsFoundText(app.parse(newer).checks[0]!, english)).toEqual(newer.checks[0]!.found);
    const broken = { ok: true, checks: [{ ...check, foundItems: [{ kind: 'mx', host: 'relay.test' }] }] };
    expect(app.safeParse(broken).success).toBe(false);
    // An older relay's answer (no foundItems, no dnsFailure) still reads.
    const { foundItems: _items, ...older } = check!;
    expect(app.parse({ ok: true, checks: [older] }).checks[0]?.foundItems).toBeUndefined();
  });
});

/** `t` of the English catalogs of the tools and mail areas (the fixes name mail pages), placeholders filled from `params`. */
function english(key: string, params: Readonly<Record<string, string | number>> = {}): string {
  const [area, ...path] = key.split('.');
  const message = path.reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], area === 'mail' ? englishMailMessages : englishMessages);
  if (typeof message !== 'string') throw new Error(`no English message ${key}`);
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole));
}
