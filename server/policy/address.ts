/**
 * Envelope addresses as the relay understands them. Parsing is strict on purpose: the relay decides
 * where mail may go by the domain after the last "@", so anything that could make the next hop read
 * a different destination (source routes, "%" and "!" paths, quoted or extra "@") is flagged.
 */
import { toAsciiDomain } from '../config/schema.ts';

export interface ParsedAddress {
  /** As given, without angle brackets. */
  raw: string;
  local: string;
  /** Lower-case, ASCII (punycode) form; "" for a bare "postmaster". */
  domain: string;
  /** Unicode form of the domain, kept for display and IDN-aware matching. */
  domainUnicode: string;
  /** Sender-specified routing that must not be relayed for untrusted clients. */
  routing: boolean;
  /** Domain is an address literal like [192.0.2.1]. */
  literal: boolean;
}

export type AddressResult = { ok: true; address: ParsedAddress } | { ok: false; reason: string };

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_PATH = 256;
const domainRe = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function parseAddress(input: string): AddressResult {
  let raw = input.trim();
  if (raw.length > MAX_PATH) return { ok: false, reason: `address longer than ${MAX_PATH} characters` };
  if (/[\x00-\x1f\x7f]/.test(raw)) return { ok: false, reason: 'address contains control characters' };
  let routing = false;
  // RFC 5321 source route "@a,@b:user@c": obsolete and a classic relay trick. Strip it, remember it.
  const sourceRoute = /^@[^:]+:(.+)$/.exec(raw);
  if (sourceRoute) {
    raw = sourceRoute[1]!;
    routing = true;
  }
  const at = raw.lastIndexOf('@');
  if (at < 0) {
    if (raw.toLowerCase() === 'postmaster') return { ok: true, address: { raw, local: raw, domain: '', domainUnicode: '', routing: false, literal: false } };
    return { ok: false, reason: 'address has no domain (local@domain expected)' };
  }
  const local = raw.slice(0, at);
  const domainPart = raw.slice(at + 1);
  if (!local) return { ok: false, reason: 'address has an empty local part' };
  if (local.length > MAX_LOCAL) return { ok: false, reason: `local part longer than ${MAX_LOCAL} characters` };
  if (!domainPart) return { ok: false, reason: 'address has an empty domain' };
  if (domainPart.length > MAX_DOMAIN) return { ok: false, reason: 'domain too long' };
  // "user%other@relay", "host!user@relay", "\"user@other\"@relay": the next hop may route on them.
  if (/[@%!]/.test(local) || local.startsWith('"')) routing = true;
  if (/\s/.test(local) && !local.startsWith('"')) return { ok: false, reason: 'local part contains spaces' };
  if (domainPart.startsWith('[')) {
    if (!/^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9a-f:.]+)\]$/i.test(domainPart)) return { ok: false, reason: 'malformed address literal' };
    const d = domainPart.toLowerCase();
    return { ok: true, address: { raw, local, domain: d, domainUnicode: d, routing, literal: true } };
  }
  const ascii = toAsciiDomain(domainPart.toLowerCase().replace(/\.$/, ''));
  if (!domainRe.test(ascii)) return { ok: false, reason: `"${domainPart}" is not a valid domain` };
  return { ok: true, address: { raw, local, domain: ascii, domainUnicode: domainPart.toLowerCase().replace(/\.$/, ''), routing, literal: false } };
}

/** A domain has at least two labels (a "fully qualified" name for the sender/recipient policies). */
export function isFqdn(domain: string): boolean {
  return /\.[a-z0-9-]+$/i.test(domain) && !domain.startsWith('[');
}

/** Match a domain against a pattern that may start with "*." (which also matches deeper labels). */
export function domainMatches(domain: string, pattern: string): boolean {
  const d = domain.toLowerCase();
  const p = toAsciiDomain(pattern.toLowerCase());
  if (p.startsWith('*.')) return d.endsWith(p.slice(1));
  return d === p;
}
