/**
 * Black and white lists (SPEC §1.6, `security.lists`). The rule list is compiled once per config
 * into indexes — exact values in hash sets, `*.domain` suffixes by label, CIDR networks by prefix
 * length, other `*` patterns as anchored regular expressions — so a check costs a few map lookups
 * whatever the number of rules. Allow rules are consulted before block rules; among several matching
 * rules of one kind the first in the list wins, and its name is what the log shows.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { ListRule } from '../config/schema.ts';
import { toAsciiDomain } from '../config/schema.ts';
import { normalizeIp } from './networks.ts';

/** What a list rule looks at. */
export type ListCriterion = ListRule['criterion'];

/** The rule that decided: allow (exempts from block rules and policies), reject, or discard. */
export interface ListMatch {
  action: 'allow' | 'reject' | 'discard';
  rule: string;
  criterion: ListCriterion;
  /** The session value the rule matched, for the log. */
  value: string;
}

/** The values one SMTP stage can see, by criterion (several recipients: one check each). */
export type ListFacts = Partial<Record<ListCriterion, string>>;

const NONE = Number.POSITIVE_INFINITY;

/** One criterion's rules of one kind: `first(value)` is the index of the earliest matching rule. */
interface Matcher {
  first(value: string): number;
}

/** `security.lists` compiled into indexes: build once per config, check per SMTP stage. */
export class CompiledLists {
  private readonly allow = new Map<ListCriterion, Matcher>();
  private readonly block = new Map<ListCriterion, Matcher>();

  private constructor(private readonly rules: readonly ListRule[]) {
    const groups = new Map<string, number[]>();
    rules.forEach((r, i) => {
      if (!r.enabled) return;
      const key = `${r.type}:${r.criterion}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const [key, indexes] of groups) {
      const [type, criterion] = key.split(':') as [ListRule['type'], ListCriterion];
      (type === 'allow' ? this.allow : this.block).set(criterion, buildMatcher(criterion, indexes.map((i) => [i, rules[i]!.value])));
    }
  }

  static compile(rules: readonly ListRule[]): CompiledLists {
    return new CompiledLists(rules);
  }

  /** True when some enabled rule looks at this criterion (so a stage knows whether to look it up). */
  uses(criterion: ListCriterion): boolean {
    return this.allow.has(criterion) || this.block.has(criterion);
  }

  /**
   * The deciding rule for the facts of one stage: the first allow rule that matches any of them,
   * else the first block rule that does; null when no rule matches.
   */
  check(facts: ListFacts): ListMatch | null {
    return this.firstOf(this.allow, facts) ?? this.firstOf(this.block, facts);
  }

  /** Only the allow rules (e.g. to know whether a client is exempt before anything else ran). */
  allowed(facts: ListFacts): ListMatch | null {
    return this.firstOf(this.allow, facts);
  }

  /** Only the block rules (for values that must not be able to allow, like an unconfirmed PTR name). */
  blocked(facts: ListFacts): ListMatch | null {
    return this.firstOf(this.block, facts);
  }

  private firstOf(matchers: Map<ListCriterion, Matcher>, facts: ListFacts): ListMatch | null {
    let best = NONE;
    let bestCriterion: ListCriterion | null = null;
    let bestValue = '';
    for (const [criterion, value] of Object.entries(facts) as [ListCriterion, string | undefined][]) {
      if (value === undefined) continue;
      const m = matchers.get(criterion);
      if (!m) continue;
      const i = m.first(value);
      if (i < best) {
        best = i;
        bestCriterion = criterion;
        bestValue = value;
      }
    }
    if (best === NONE || !bestCriterion) return null;
    const rule = this.rules[best]!;
    return { action: rule.type === 'allow' ? 'allow' : rule.action === 'discard' ? 'discard' : 'reject', rule: rule.name, criterion: bestCriterion, value: bestValue };
  }
}

function buildMatcher(criterion: ListCriterion, entries: [number, string][]): Matcher {
  switch (criterion) {
    case 'clientIp':
      return new IpMatcher(entries);
    case 'senderAddress':
    case 'recipientAddress':
      return new AddressMatcher(entries);
    case 'senderDomain':
    case 'recipientDomain':
    case 'clientHostname':
    case 'helo':
      return new DomainMatcher(entries);
  }
}

/** Lower-case; ASCII (punycode) form for every label without a wildcard. */
function normalizeDomainPattern(pattern: string): string {
  return pattern
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .split('.')
    .map((label) => (label.includes('*') || label === '' || /^[\x20-\x7e]*$/.test(label) ? label : toAsciiDomain(label)))
    .join('.');
}

/** A session value in the same form as the patterns. */
export function normalizeDomainValue(value: string): string {
  const v = value.trim().toLowerCase().replace(/\.$/, '');
  return /^[\x20-\x7e]*$/.test(v) || v.startsWith('[') ? v : toAsciiDomain(v);
}

export function normalizeAddressValue(address: string): string {
  const v = address.trim().replace(/^<|>$/g, '');
  const at = v.lastIndexOf('@');
  if (at < 0) return v.toLowerCase();
  return `${v.slice(0, at).toLowerCase()}@${normalizeDomainValue(v.slice(at + 1))}`;
}

/** A `*` pattern as the body of a regular expression (`*` matches anything, all else literally). */
function globPattern(glob: string): string {
  return glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
}

/** Remember the lowest rule index per key. */
function keep<K>(map: Map<K, number>, key: K, index: number): void {
  const prev = map.get(key);
  if (prev === undefined || index < prev) map.set(key, index);
}

/**
 * `*` patterns, tried as one regular expression: an alternation in rule order, so the alternative
 * that matches is the earliest rule, and its capture group says which. One match per value instead
 * of one per pattern (a list of hundreds of patterns is checked at every SMTP stage).
 */
class PatternList {
  private readonly globs: string[] = [];
  private readonly indexes: number[] = [];
  private combined: RegExp | null = null;
  add(index: number, glob: string): void {
    this.globs.push(globPattern(glob));
    this.indexes.push(index);
    this.combined = null;
  }
  first(value: string, best: number): number {
    if (this.globs.length === 0 || this.indexes[0]! >= best) return best;
    this.combined ??= new RegExp(`^(?:${this.globs.map((g) => `(${g})`).join('|')})$`, 's');
    const m = this.combined.exec(value);
    if (!m) return best;
    for (let g = 1; g < m.length; g++) {
      // Sorted by index: the first group that took part is the earliest rule.
      if (m[g] !== undefined) return Math.min(this.indexes[g - 1]!, best);
    }
    return best;
  }
}

/** Domains and host names: exact, `*.suffix` (any depth below the suffix), or any `*` pattern. */
class DomainMatcher implements Matcher {
  private readonly exact = new Map<string, number>();
  private readonly suffixes = new Map<string, number>();
  private readonly patterns = new PatternList();
  constructor(entries: [number, string][]) {
    for (const [i, raw] of entries) {
      const p = normalizeDomainPattern(raw);
      if (!p.includes('*')) keep(this.exact, p, i);
      else if (p.startsWith('*.') && !p.slice(2).includes('*')) keep(this.suffixes, p.slice(2), i);
      else this.patterns.add(i, p);
    }
  }
  first(value: string): number {
    const v = normalizeDomainValue(value);
    let best = this.exact.get(v) ?? NONE;
    if (this.suffixes.size > 0) {
      for (let dot = v.indexOf('.'); dot >= 0; dot = v.indexOf('.', dot + 1)) {
        const i = this.suffixes.get(v.slice(dot + 1));
        if (i !== undefined && i < best) best = i;
      }
    }
    return this.patterns.first(v, best);
  }
}

/** Envelope addresses: exact `user@domain`, `*@domain` / `*@*.domain`, or any `*` pattern. */
class AddressMatcher implements Matcher {
  private readonly exact = new Map<string, number>();
  private readonly anyLocal: DomainMatcher;
  private readonly patterns = new PatternList();
  constructor(entries: [number, string][]) {
    const domainEntries: [number, string][] = [];
    for (const [i, raw] of entries) {
      const p = normalizeAddressValue(raw === '<>' ? '' : raw);
      const at = p.lastIndexOf('@');
      const local = at < 0 ? p : p.slice(0, at);
      const domain = at < 0 ? '' : normalizeDomainPattern(p.slice(at + 1));
      if (!p.includes('*')) keep(this.exact, p, i);
      else if (local === '*' && at >= 0) domainEntries.push([i, domain]);
      else this.patterns.add(i, at < 0 ? p : `${local}@${domain}`);
    }
    this.anyLocal = new DomainMatcher(domainEntries);
  }
  first(value: string): number {
    const v = normalizeAddressValue(value);
    let best = this.exact.get(v) ?? NONE;
    const at = v.lastIndexOf('@');
    if (at >= 0) best = Math.min(best, this.anyLocal.first(v.slice(at + 1)));
    return this.patterns.first(v, best);
  }
}

/**
 * Client addresses: single addresses and CIDR networks grouped by prefix length (one masked lookup
 * per distinct length), plus `*` patterns on the textual address (`192.168.*`).
 */
class IpMatcher implements Matcher {
  private readonly v4 = new Map<number, Map<number, number>>();
  private readonly v6 = new Map<number, Map<bigint, number>>();
  private readonly patterns = new PatternList();
  constructor(entries: [number, string][]) {
    for (const [i, raw] of entries) {
      const value = raw.trim().toLowerCase();
      if (value.includes('*')) {
        this.patterns.add(i, value);
        continue;
      }
      try {
        const [addr, bits] = value.includes('/') ? ipaddr.parseCIDR(value) : [ipaddr.parse(value), -1];
        const normalized = ipaddr.parse(normalizeIp(addr.toString()));
        if (normalized.kind() === 'ipv4') {
          const b = bits < 0 ? 32 : addr.kind() === 'ipv6' ? Math.max(0, bits - 96) : bits;
          keepIn(this.v4, b, mask4(v4Number(normalized as ipaddr.IPv4), b), i);
        } else {
          const b = bits < 0 ? 128 : bits;
          keepIn(this.v6, b, mask6(v6Number(normalized as ipaddr.IPv6), b), i);
        }
      } catch {
        // the schema validated the value; anything else cannot match
      }
    }
  }
  first(value: string): number {
    const ip = normalizeIp(value);
    let best = NONE;
    if (net.isIPv4(ip)) {
      const n = v4Number(ipaddr.IPv4.parse(ip));
      for (const [bits, map] of this.v4) best = Math.min(best, map.get(mask4(n, bits)) ?? NONE);
    } else if (net.isIPv6(ip)) {
      const n = v6Number(ipaddr.IPv6.parse(ip));
      for (const [bits, map] of this.v6) best = Math.min(best, map.get(mask6(n, bits)) ?? NONE);
    }
    return this.patterns.first(ip, best);
  }
}

function keepIn<K>(outer: Map<number, Map<K, number>>, bits: number, key: K, index: number): void {
  let inner = outer.get(bits);
  if (!inner) outer.set(bits, (inner = new Map()));
  keep(inner, key, index);
}

function v4Number(a: ipaddr.IPv4): number {
  return a.octets.reduce((n, o) => n * 256 + o, 0);
}

function mask4(n: number, bits: number): number {
  if (bits <= 0) return 0;
  const size = 2 ** (32 - bits);
  return n - (n % size);
}

function v6Number(a: ipaddr.IPv6): bigint {
  return a.parts.reduce((n, p) => (n << 16n) | BigInt(p), 0n);
}

function mask6(n: bigint, bits: number): bigint {
  const hostBits = BigInt(128 - bits);
  return (n >> hostBits) << hostBits;
}
