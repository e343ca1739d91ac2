/**
 * `test.send`'s route description as data (`routes`): one entry per planned route, of every kind the
 * planner makes, worded by the app's English catalog exactly as the relay's own English `route`.
 */
import { describe, expect, it } from 'vitest';
import { relayConfigSchema } from '../../server/config/schema.ts';
import { describeRoute } from '../../server/delivery/route-endpoints.ts';
import { planRoutes } from '../../server/delivery/route-planner.ts';
import { routeSummary, sendTestMessage } from '../../server/delivery/test-send.ts';
import { TEST_SEND_ROUTE_KINDS } from '../../server/protocol/index.ts';
import { routeText } from '../../renderer/src/pages/tools/route-text.ts';
import englishMessages from '../../renderer/src/i18n/messages/tools.en.ts';

const config = relayConfigSchema.parse({
  general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' }, externalPostmasters: [] },
  delivery: {
    mode: 'relayHost',
    relayHost: { host: 'smtp.provider.example', port: 587, security: 'starttls' },
    exceptions: [{ name: 'Partners', targetType: 'recipient', targets: ['partner.example'], relayHost: { host: 'smtp.partner.example', port: 2525, security: 'none' } }],
  },
  relayControl: {
    relayDomains: [
      { name: 'Office', domain: 'office.example', nextHop: 'mail.office.example:2525' },
      { name: 'Branch', domain: 'branch.example', nextHop: '' },
    ],
  },
});
const direct = relayConfigSchema.parse({ general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' } } });

describe('test.send routes', () => {
  it('describes each route as data: kind, target and the rule or relay domain that chose it', () => {
    const routes = [
      ...planRoutes(config, 'me@corp.example', ['a@far.example', 'b@partner.example', 'c@office.example', 'd@branch.example', 'nobody@corp.example']),
      ...planRoutes(direct, 'me@corp.example', ['e@far.example']),
    ];
    expect(routes.map((r) => routeSummary(r.target))).toEqual([
      { kind: 'relayHost', target: 'smtp.provider.example:587', name: null },
      { kind: 'relayException', target: 'smtp.partner.example:2525', name: 'Partners' },
      { kind: 'nextHop', target: 'mail.office.example:2525', name: 'Office' },
      { kind: 'relayDomainMx', target: 'branch.example', name: null },
      { kind: 'unroutable', target: 'nobody@corp.example: no mailboxes on this relay (local domain)', name: null, why: 'localMailbox', params: { recipient: 'nobody@corp.example' } },
      { kind: 'directMx', target: 'far.example', name: null },
    ]);
    expect(routes.map((r) => routeSummary(r.target).kind).sort()).toEqual([...TEST_SEND_ROUTE_KINDS].sort());
    // The app's English reads as the relay's own, route by route and joined.
    for (const r of routes) expect(routeText({ route: '', routes: [routeSummary(r.target)] }, english)).toBe(describeRoute(r.target));
    expect(routeText({ route: '', routes: routes.map((r) => routeSummary(r.target)) }, english)).toBe(routes.map((r) => describeRoute(r.target)).join('; '));
  });

  it('returns the routes next to the English route of a real test send', async () => {
    // Only local recipients without mailboxes: unroutable, so the test needs no SMTP peer.
    const r = await sendTestMessage({ from: 'me@corp.example', to: ['nobody@corp.example'], subject: 's', body: 'b' }, { config });
    expect(r).toMatchObject({
      ok: false,
      route: 'no route (nobody@corp.example: no mailboxes on this relay (local domain))',
      routes: [{ kind: 'unroutable', target: 'nobody@corp.example: no mailboxes on this relay (local domain)', name: null, why: 'localMailbox' }],
      nextHop: null,
    });
    expect(routeText(r, english)).toBe(r.route);
  });

  it('says why a recipient has no route, as data the app words exactly as the relay does in English', () => {
    const badHop = relayConfigSchema.parse({
      general: { profile: { domain: 'corp.example', hostname: 'relay.corp.example' }, externalPostmasters: [] },
      relayControl: { relayDomains: [{ name: 'Office', domain: 'office.example', nextHop: 'mail.office.example' }] },
    });
    // The config schema refuses such a next hop; the planner still says so if one gets through.
    badHop.relayControl.relayDomains[0]!.nextHop = 'mail.office.example:99999';
    const routes = [...planRoutes(badHop, 'me@corp.example', ['nobody@corp.example', 'postmaster@corp.example', 'x@office.example'])];
    const summaries = routes.map((r) => routeSummary(r.target));
    expect(summaries.map((s) => [s.why, s.params])).toEqual([
      ['localMailbox', { recipient: 'nobody@corp.example' }],
      ['noPostmaster', { recipient: 'postmaster@corp.example' }],
      ['badNextHop', { name: 'Office', nextHop: 'mail.office.example:99999' }],
    ]);
    for (const r of routes) expect(routeText({ route: '', routes: [routeSummary(r.target)] }, english)).toBe(describeRoute(r.target));
    // A reason this app does not know keeps the relay's English.
    expect(routeText({ route: '', routes: [{ ...summaries[0]!, why: 'quotaExceeded' }] }, english)).toBe(describeRoute(routes[0]!.target));
  });
});

/** `t` of the English catalog of the tools area (tools.en.ts), placeholders filled from `params`. */
function english(key: string, params: Readonly<Record<string, string | number>> = {}): string {
  const message = key
    .split('.')
    .slice(1)
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], englishMessages);
  if (typeof message !== 'string') throw new Error(`no English message ${key}`);
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole));
}
