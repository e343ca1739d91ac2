/**
 * Envelope addresses as routing and the SMTP client need them: split at the last "@", domains
 * compared in lower-case ASCII (punycode) form, and the question whether an address still needs
 * SMTPUTF8 once its domain is in ASCII form.
 */
import { toAsciiDomain } from '../config/schema.ts';

/** Local part and domain of an address; the domain is "" for an address without "@". */
export function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  if (at < 0) return { local: address, domain: '' };
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** The address's domain, lower case, in ASCII form ("bücher.example" → "xn--bcher-kva.example"). */
export function asciiDomainOf(address: string): string {
  const { domain } = splitAddress(address);
  return domain === '' ? '' : asciiDomain(domain);
}

export function asciiDomain(domain: string): string {
  return toAsciiDomain(domain.trim().replace(/\.$/, '')).toLowerCase();
}

/** The address with its domain in ASCII form; the local part is kept as it is. */
export function asciiAddress(address: string): string {
  const { local, domain } = splitAddress(address);
  return domain === '' ? address : `${local}@${asciiDomain(domain)}`;
}

export function isAscii(value: string): boolean {
  return /^[\x00-\x7f]*$/.test(value);
}

/** Case-insensitive address comparison with the domain in ASCII form. */
export function sameAddress(a: string, b: string): boolean {
  return asciiAddress(a).toLowerCase() === asciiAddress(b).toLowerCase();
}
