/** Client address matching: trusted networks, CIDR rules, and the relay host's own subnets. */
import os from 'node:os';
import ipaddr from 'ipaddr.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const CANONICAL_IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** Normalise an address as seen on a socket ("::ffff:127.0.0.1" → "127.0.0.1"). */
export function normalizeIp(ip: string): string {
  // The common case, already in canonical form: parsing it (per connection and command) costs more.
  if (CANONICAL_IPV4.test(ip)) return ip;
  try {
    const a = ipaddr.parse(ip);
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) return (a as ipaddr.IPv6).toIPv4Address().toString();
    return a.toString();
  } catch {
    return ip;
  }
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A compiled list of addresses and networks; matching is a linear scan of parsed ranges. */
export class NetworkList {
  private readonly ranges: Cidr[] = [];
  constructor(networks: readonly string[]) {
    for (const n of networks) {
      try {
        if (n.includes('/')) this.ranges.push(ipaddr.parseCIDR(n));
        else {
          const a = ipaddr.parse(n);
          this.ranges.push([a, a.kind() === 'ipv4' ? 32 : 128]);
        }
      } catch {
        // validated by the config schema; an invalid entry can only come from a caller bug
      }
    }
  }
  contains(ip: string): boolean {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.parse(normalizeIp(ip));
    } catch {
      return false;
    }
    return this.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
  }
}

/** The host's own subnets plus loopback: "local network" for skipForLocalNetwork. */
export function localNetworks(): NetworkList {
  const nets = ['127.0.0.0/8', '::1/128'];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.cidr) nets.push(i.cidr);
  }
  return new NetworkList(nets);
}
