/** Checks on single config values that zod has no built-in for (addresses, networks, host:port). */
import ipaddr from 'ipaddr.js';

/** "192.0.2.1", "192.0.2.0/24", "2001:db8::/32" or "::1". */
export function isValidCidrOrIp(value: string): boolean {
  if (value.includes('/')) {
    try {
      ipaddr.parseCIDR(value);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(value);
}

/** Split "host", "host:port", "[v6]:port" or a bare IPv6 address into parts; null when malformed. */
export function parseHostPort(value: string): { host: string; port: number | null } | null {
  const v = value.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (bracketed) {
    if (!ipaddr.IPv6.isValid(bracketed[1]!)) return null;
    return withPort(bracketed[1]!, bracketed[2]);
  }
  // An IPv6 literal has at least two colons; ipaddr's check is costly, and this runs per message.
  if (v.indexOf(':') !== v.lastIndexOf(':') && ipaddr.IPv6.isValid(v)) return { host: v, port: null };
  const m = /^([^:\s/]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return null;
  return withPort(m[1]!, m[2]);
}

function withPort(host: string, port: string | undefined): { host: string; port: number | null } | null {
  if (port === undefined) return { host, port: null };
  const n = Number(port);
  return n >= 1 && n <= 65535 ? { host, port: n } : null;
}

export function isValidHostPort(value: string): boolean {
  const hp = parseHostPort(value);
  if (!hp) return false;
  return ipaddr.isValid(hp.host) || /^(?!-)[a-z0-9.-]+$/i.test(new URL(`http://${hp.host.includes(':') ? `[${hp.host}]` : hp.host}`).hostname);
}

/**
 * A DNS resolver address must be an IP literal (resolving a resolver's name would need a resolver),
 * written the way node:dns takes it: dotted-quad IPv4 or IPv6. ipaddr.isValid alone also takes
 * "127.1" or "0x7f000001", which `Resolver#setServers` refuses — at the first SMTP connection.
 */
export function isValidResolverAddress(value: string): boolean {
  const hp = parseHostPort(value);
  return !!hp && (ipaddr.IPv4.isValidFourPartDecimal(hp.host) || ipaddr.IPv6.isValid(hp.host));
}
