/**
 * `dns.check` of a real relay against two real DNS servers (dnsmasq): the public one (dns.external)
 * and the company's internal one (dns.internal), with records this test writes — some right, some
 * wrong in each way SPEC §1.5's setup can be wrong, and one the public DNS cannot answer (SERVFAIL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalControl, type ControlClient } from '../../server/control/control-client.ts';
import type { MethodResult } from '../../server/protocol/index.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';

let external: DnsServer;
let internal: DnsServer;
let relay: RelayProcess;
let client: ControlClient;
let result: MethodResult<'dns.check'>;

beforeAll(async () => {
  [external, internal] = await Promise.all([
    startDnsServer({
      records: [
        { type: 'A', name: 'relay.test', address: '192.0.2.10' }, // PTR from the host record: right
        { type: 'A', name: 'relay.test', address: '192.0.2.11' },
        { type: 'PTR', ip: '192.0.2.11', target: 'dynamic-11.isp.test' }, // explicit PTR: wrong
        { type: 'MX', name: 'corp.test', exchange: 'relay.test', priority: 10 },
        { type: 'MX', name: 'bad.test', exchange: 'mx.elsewhere.test', priority: 10 },
        { type: 'A', name: 'mx.elsewhere.test', address: '198.51.100.7' },
        { type: 'MX', name: 'loop.test', exchange: 'relay.test', priority: 10 },
        { type: 'MX', name: 'hop.test', exchange: 'relay.test', priority: 10 },
        { type: 'A', name: 'backup.test', address: '192.0.2.10' }, // no MX: reached through its A record only
        { type: 'SERVFAIL', name: 'broken.test' },
      ],
    }),
    startDnsServer({
      records: [
        { type: 'MX', name: 'corp.test', exchange: 'mail.corp.test', priority: 10 },
        { type: 'A', name: 'mail.corp.test', address: '192.0.2.25' },
        { type: 'MX', name: 'loop.test', exchange: 'relay.test', priority: 10 },
        { type: 'A', name: 'relay.test', address: '192.0.2.10' },
        { type: 'MX', name: 'backup.test', exchange: 'mail.corp.test', priority: 10 },
      ],
    }),
  ]);
  relay = await startRelayProcess({
    tls: 'none',
    config: {
      general: { profile: { hostname: 'relay.test', domain: 'relay.test' } },
      dns: { external: [external.address], internal: [internal.address] },
      relayControl: {
        relayDomains: [
          { name: 'Corp', domain: 'corp.test' },
          { name: 'Bad', domain: 'bad.test' },
          { name: 'Loop', domain: 'loop.test' },
          { name: 'Hop', domain: 'hop.test', nextHop: 'mail.corp.test:2525' },
          { name: 'Missing', domain: 'nomx.test' },
          { name: 'Backup', domain: 'backup.test' },
          { name: 'Broken', domain: 'broken.test', nextHop: 'mail.corp.test' },
        ],
      },
    },
  });
  client = await openLocalControl(relay.dataDir);
  result = await client.call('dns.check');
});

afterAll(async () => {
  await client?.close();
  await relay?.stop();
  await Promise.all([external?.stop(), internal?.stop()]);
});

const check = (name: string) => {
  const c = result.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check "${name}" in ${result.checks.map((x) => x.name).join(' | ')}`);
  return c;
};

describe('dns.check', () => {
  it("checks the host name's forward and reverse records", () => {
    expect(check('host name relay.test has an address')).toMatchObject({ status: 'pass', found: ['192.0.2.10', '192.0.2.11'], fix: null });
    expect(check('reverse DNS of 192.0.2.10 names relay.test')).toMatchObject({ status: 'pass', found: ['relay.test'] });
    const wrong = check('reverse DNS of 192.0.2.11 names relay.test');
    expect(wrong).toMatchObject({ status: 'fail', found: ['dynamic-11.isp.test'] });
    expect(wrong.fix).toMatch(/set its PTR record to relay\.test/);
  });

  it('checks that the public MX of each relay domain points at this relay', () => {
    expect(check('external MX of corp.test points at this relay')).toMatchObject({ status: 'pass', found: ['MX 10 relay.test (192.0.2.10, 192.0.2.11)'] });
    const bad = check('external MX of bad.test points at this relay');
    expect(bad).toMatchObject({ status: 'fail', found: ['MX 10 mx.elsewhere.test (198.51.100.7)'] });
    expect(bad.fix).toContain('"bad.test. MX 10 relay.test."');
    expect(check('external MX of nomx.test points at this relay')).toMatchObject({ status: 'fail', found: [expect.stringMatching(/NXDOMAIN/)] });
    const implicit = check('external MX of backup.test points at this relay');
    expect(implicit.status).toBe('warn');
    expect(implicit.fix).toMatch(/has no MX record/);
  });

  it('checks that the way on to the main server exists and does not loop back', () => {
    expect(check('internal MX of corp.test points at the main server')).toMatchObject({ status: 'pass', found: ['MX 10 mail.corp.test (192.0.2.25)'], fix: null });
    const loop = check('internal MX of loop.test points at the main server');
    expect(loop.status).toBe('fail');
    expect(loop.fix).toMatch(/loop/);
    expect(check('next hop of hop.test reaches the main server')).toMatchObject({ status: 'pass', found: ['192.0.2.25'] });
    const missing = check('internal MX of nomx.test points at the main server');
    expect(missing.status).toBe('fail');
    expect(missing.fix).toContain(`relayControl.relayDomains[4].nextHop`);
    expect(missing.fix).toContain(internal.address);
  });

  it('gives every check a code and the values of its sentences, for the app to word them', () => {
    expect(check('reverse DNS of 192.0.2.11 names relay.test')).toMatchObject({ code: 'reverse.mismatch', params: { host: 'relay.test', ip: '192.0.2.11' } });
    expect(check('external MX of backup.test points at this relay')).toMatchObject({ code: 'externalMx.implicitOnly', params: { domain: 'backup.test', host: 'relay.test' } });
    expect(check('internal MX of loop.test points at the main server')).toMatchObject({ code: 'internalMx.loop', params: { domain: 'loop.test', key: 'relayControl.relayDomains[2]' } });
    expect(check('next hop of hop.test reaches the main server')).toMatchObject({ code: 'nextHop.ok', params: { nextHop: 'mail.corp.test:2525', hopHost: 'mail.corp.test' } });
    expect(check('internal MX of nomx.test points at the main server')).toMatchObject({ code: 'internalMx.missing', params: { internalDns: internal.address } });
    for (const c of result.checks) expect(c.code, c.name).toMatch(/^[a-zA-Z]+\.[a-zA-Z]+$/);
  });

  it('gives what it found as data too: MX hosts, an implicit MX, addresses, a missing domain, a failed lookup', () => {
    expect(check('host name relay.test has an address').foundItems).toEqual([
      { kind: 'value', value: '192.0.2.10' },
      { kind: 'value', value: '192.0.2.11' },
    ]);
    expect(check('external MX of corp.test points at this relay').foundItems).toEqual([{ kind: 'mx', priority: 10, host: 'relay.test', addresses: ['192.0.2.10', '192.0.2.11'] }]);
    expect(check('internal MX of corp.test points at the main server').foundItems).toEqual([{ kind: 'mx', priority: 10, host: 'mail.corp.test', addresses: ['192.0.2.25'] }]);
    expect(check('external MX of backup.test points at this relay')).toMatchObject({
      found: ['backup.test (192.0.2.10), no MX record: its A/AAAA'],
      foundItems: [{ kind: 'implicitMx', host: 'backup.test', addresses: ['192.0.2.10'] }],
    });
    expect(check('external MX of nomx.test points at this relay')).toMatchObject({
      code: 'externalMx.missing',
      found: ['domain not found (NXDOMAIN) looking up MX nomx.test'],
      foundItems: [{ kind: 'dnsError', code: 'ENOTFOUND', rrtype: 'MX', name: 'nomx.test', noMx: false }],
    });
    expect(check('external MX of nomx.test points at this relay').dnsFailure).toBeUndefined();
    const servfail = { code: 'ESERVFAIL', rrtype: 'MX', name: 'broken.test', noMx: false };
    expect(check('external MX of broken.test points at this relay')).toMatchObject({
      status: 'error',
      code: 'externalMx.lookupError',
      found: ['DNS server failure (SERVFAIL) looking up MX broken.test'],
      foundItems: [{ kind: 'dnsError', ...servfail }],
      params: { dnsError: 'DNS server failure (SERVFAIL) looking up MX broken.test' },
      dnsFailure: servfail,
    });
    for (const c of result.checks) expect(c.foundItems?.length, c.name).toBe(c.found.length);
  });

  it('is not ok while any check fails, and every failing check says what to fix', () => {
    expect(result.ok).toBe(false);
    for (const c of result.checks) {
      if (c.status === 'pass') expect(c.fix).toBeNull();
      else expect(c.fix).toMatch(/\S/);
    }
  });
});
