/**
 * The route of a `test.send` answer in the user's language, from its `routes` (kinds the catalog
 * words as `tools.send.routes.*`). An older relay (no `routes`) or a route kind this app does not know
 * (a newer relay) keeps the relay's English `route`.
 */
import type { MethodResult, TestSendRouteKind } from '../../../../server/protocol/index.ts';
import type { Translate } from './dns-check-text.ts';

/** Every route kind of the contract; a kind added there is a type error here until it has words. */
export const ROUTE_TEXT_KEYS: Readonly<Record<TestSendRouteKind, string>> = {
  relayHost: 'tools.send.routes.relayHost',
  relayException: 'tools.send.routes.relayException',
  nextHop: 'tools.send.routes.nextHop',
  relayDomainMx: 'tools.send.routes.relayDomainMx',
  directMx: 'tools.send.routes.directMx',
  unroutable: 'tools.send.routes.unroutable',
};

/**
 * Why a recipient has no route (`why` of an unroutable route) and the params its sentence needs; a
 * reason this app does not know, or one without its params, keeps the relay's English `target`.
 */
export const UNROUTABLE_TEXT: Readonly<Record<string, { key: string; params: readonly string[] }>> = {
  localMailbox: { key: 'tools.send.unroutable.localMailbox', params: ['recipient'] },
  noPostmaster: { key: 'tools.send.unroutable.noPostmaster', params: ['recipient'] },
  noDomain: { key: 'tools.send.unroutable.noDomain', params: ['recipient'] },
  badNextHop: { key: 'tools.send.unroutable.badNextHop', params: ['name', 'nextHop'] },
};

type Route = NonNullable<MethodResult<'test.send'>['routes']>[number];

/** The target of one route in the language of `t`: an unroutable route's reason is worded here too. */
function targetText(r: Route, t: Translate): string {
  const text = r.kind === 'unroutable' && r.why !== undefined && Object.hasOwn(UNROUTABLE_TEXT, r.why) ? UNROUTABLE_TEXT[r.why] : undefined;
  if (!text || !text.params.every((p) => r.params?.[p] !== undefined)) return r.target;
  return t(text.key, r.params);
}

/** The routes of `result`, joined as the relay joins them, in the language of `t`. */
export function routeText(result: Pick<MethodResult<'test.send'>, 'route' | 'routes'>, t: Translate): string {
  const routes = result.routes;
  if (!routes || routes.some((r) => !Object.hasOwn(ROUTE_TEXT_KEYS, r.kind))) return result.route;
  if (routes.length === 0) return t('tools.send.noRoute');
  return routes.map((r) => t(ROUTE_TEXT_KEYS[r.kind as TestSendRouteKind], { target: targetText(r, t), name: r.name ?? '' })).join('; ');
}
