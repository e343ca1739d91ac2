/**
 * The endpoints of a planned route, in the order to try them: the relay host, a relay domain's next
 * hop, or the MX hosts of a domain (through the internal resolvers with external fallback for relay
 * domains, the external ones otherwise). Same rules as the deliverer's own lookup (deliverer.ts,
 * `candidatesFor`), with a `note` hook so `test.send` can show each DNS answer in its transcript.
 */
import net from 'node:net';
import { asciiDomain } from './address-parts.ts';
import { lookupAddresses, lookupMx, withFallback, type DnsAnswer, type DnsFailure, type ResolverPair } from './resolvers.ts';
import type { RouteTarget } from './route-planner.ts';
import type { Endpoint } from './smtp-client-pool.ts';

/** Endpoints to try, or the DNS failure that left none (`what` names the lookup). */
export type RouteEndpoints = { ok: true; endpoints: Endpoint[] } | { ok: false; failure: DnsFailure; what: string };

export interface RouteEndpointOptions {
  resolvers: ResolverPair;
  /** Port for MX hosts and next hops without a port (25). */
  directPort: number;
  /** Most endpoints returned. */
  maxEndpoints: number;
  random?: () => number;
  /** Told about every lookup and its answer, in words. */
  note?: (text: string) => void;
}

/** Where a route's SMTP session goes, in words (for transcripts and logs). */
export function describeRoute(target: RouteTarget): string {
  switch (target.kind) {
    case 'relayHost':
      return target.rule === null ? `relay host ${target.relayHost.host}:${target.relayHost.port}` : `relay exception "${target.rule}" (${target.relayHost.host}:${target.relayHost.port})`;
    case 'nextHop':
      return `relay domain "${target.relayDomain}" → next hop ${target.port === null ? target.host : `${target.host}:${target.port}`}`;
    case 'mx':
      return target.resolvers === 'internal' ? `relay domain ${target.domain} → MX via the internal DNS` : `direct MX delivery to ${target.domain}`;
    case 'unroutable':
      return `no route (${target.reason})`;
    default:
      return missingCase(target);
  }
}

export async function routeEndpoints(target: Exclude<RouteTarget, { kind: 'unroutable' }>, o: RouteEndpointOptions): Promise<RouteEndpoints> {
  const note = o.note ?? (() => undefined);
  if (target.kind === 'relayHost') {
    const rh = target.relayHost;
    const host = net.isIP(rh.host) ? rh.host : asciiDomain(rh.host);
    const tlsMode = rh.security === 'none' ? 'none' : rh.security === 'starttls' ? 'starttls' : 'tls';
    const auth = rh.username !== '' ? { user: rh.username, pass: rh.password } : null;
    return { ok: true, endpoints: [{ host, port: rh.port, name: host, tlsMode, verifyCertificate: rh.verifyCertificate, auth }] };
  }
  const pair = o.resolvers;
  const direct = (host: string, name: string, port: number): Endpoint => ({ host, port, name, tlsMode: 'opportunistic', verifyCertificate: false, auth: null });
  if (target.kind === 'nextHop') {
    const port = target.port ?? o.directPort;
    if (net.isIP(target.host)) return { ok: true, endpoints: [direct(target.host, target.host, port)] };
    const addrs = await withFallback(pair, (r) => lookupAddresses(r, target.host));
    note(addrs.ok ? `A/AAAA ${target.host}: ${addrs.value.join(', ')}` : `A/AAAA ${target.host}: ${addrs.message}; leaving the name to the system resolver`);
    const hosts = addrs.ok ? addrs.value : [target.host];
    return { ok: true, endpoints: hosts.slice(0, o.maxEndpoints).map((h) => direct(h, target.host, port)) };
  }
  const lookup = <T>(fn: (r: ResolverPair['external']) => Promise<DnsAnswer<T>>): Promise<DnsAnswer<T>> =>
    target.resolvers === 'internal' ? withFallback(pair, fn) : fn(pair.external);
  const what = `${target.domain} (MX)`;
  const mx = await lookup((r) => lookupMx(r, target.domain, o.random));
  if (!mx.ok) {
    note(`MX ${target.domain}: ${mx.message}`);
    return { ok: false, failure: mx, what };
  }
  note(`MX ${target.domain}: ${mx.value.map((m) => (m.implicit ? `${m.exchange} (implicit, no MX record)` : `${m.priority} ${m.exchange}`)).join(', ')}`);
  const endpoints: Endpoint[] = [];
  const failures: DnsFailure[] = [];
  for (const host of mx.value) {
    if (endpoints.length >= o.maxEndpoints) break;
    const addrs = await lookup((r) => lookupAddresses(r, host.exchange));
    note(addrs.ok ? `A/AAAA ${host.exchange}: ${addrs.value.join(', ')}` : `A/AAAA ${host.exchange}: ${addrs.message}`);
    if (!addrs.ok) {
      failures.push(addrs);
      continue;
    }
    for (const ip of addrs.value) if (endpoints.length < o.maxEndpoints) endpoints.push(direct(ip, host.exchange, o.directPort));
  }
  if (endpoints.length > 0) return { ok: true, endpoints };
  const failure = failures.find((f) => !f.permanent) ?? { ok: false as const, permanent: true, code: 'ENOADDR', message: `no MX host of ${target.domain} has an address` };
  return { ok: false, failure, what };
}

/** "name[ip]:port" as the deliverer labels next hops. */
export function endpointLabel(ep: Endpoint): string {
  if (ep.name === ep.host) return net.isIP(ep.host) ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
  return `${ep.name}[${ep.host}]:${ep.port}`;
}

function missingCase(x: never): never {
  throw new Error(`unhandled route target ${JSON.stringify(x)}`);
}
