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

/** The routes of `result`, joined as the relay joins them, in the language of `t`. */
export function routeText(result: Pick<MethodResult<'test.send'>, 'route' | 'routes'>, t: Translate): string {
  const routes = result.routes;
  if (!routes || routes.some((r) => !Object.hasOwn(ROUTE_TEXT_KEYS, r.kind))) return result.route;
  if (routes.length === 0) return t('tools.send.noRoute');
  return routes.map((r) => t(ROUTE_TEXT_KEYS[r.kind as TestSendRouteKind], { target: r.target, name: r.name ?? '' })).join('; ');
}
