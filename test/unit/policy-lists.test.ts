import { describe, expect, it } from 'vitest';
import { listRuleSchema, type ListRule } from '../../server/config/schema.ts';
import { CompiledLists } from '../../server/policy/lists.ts';

const rule = (name: string, type: 'allow' | 'block', criterion: ListRule['criterion'], value: string, action?: 'reject' | 'discard'): ListRule =>
  listRuleSchema.parse({ name, type, action: type === 'allow' ? 'allow' : (action ?? 'reject'), criterion, value });

describe('black and white lists', () => {
  it('matches every criterion: exact, wildcard and CIDR', () => {
    const lists = CompiledLists.compile([
      rule('one sender', 'block', 'senderAddress', 'Spam@Bad.example'),
      rule('sender domain', 'block', 'senderDomain', 'bulk.example'),
      rule('any local part', 'block', 'senderAddress', '*@junk.example'),
      rule('prefix', 'block', 'senderAddress', 'newsletter-*@*.shop.example'),
      rule('rcpt', 'block', 'recipientAddress', 'ceo@corp.example'),
      rule('rcpt domain', 'block', 'recipientDomain', '*.old.example'),
      rule('net', 'block', 'clientIp', '192.0.2.0/24'),
      rule('v6 net', 'block', 'clientIp', '2001:db8::/32'),
      rule('glob ip', 'block', 'clientIp', '198.51.*'),
      rule('host', 'block', 'clientHostname', '*.dynamic.isp.example'),
      rule('helo', 'block', 'helo', 'localhost'),
    ]);
    const name = (facts: Parameters<CompiledLists['check']>[0]) => lists.check(facts)?.rule ?? null;
    expect(name({ senderAddress: 'spam@bad.example' })).toBe('one sender');
    expect(name({ senderAddress: 'other@bad.example' })).toBeNull();
    expect(name({ senderDomain: 'BULK.example' })).toBe('sender domain');
    expect(name({ senderDomain: 'sub.bulk.example' })).toBeNull(); // exact domain only
    expect(name({ senderAddress: 'x@junk.example' })).toBe('any local part');
    expect(name({ senderAddress: 'newsletter-7@a.shop.example' })).toBe('prefix');
    expect(name({ senderAddress: 'news-7@a.shop.example' })).toBeNull();
    expect(name({ recipientAddress: 'CEO@corp.example' })).toBe('rcpt');
    expect(name({ recipientDomain: 'mail.old.example' })).toBe('rcpt domain');
    expect(name({ recipientDomain: 'a.b.old.example' })).toBe('rcpt domain');
    expect(name({ recipientDomain: 'old.example' })).toBeNull(); // "*." needs a label in front
    expect(name({ clientIp: '192.0.2.77' })).toBe('net');
    expect(name({ clientIp: '::ffff:192.0.2.77' })).toBe('net');
    expect(name({ clientIp: '192.0.3.1' })).toBeNull();
    expect(name({ clientIp: '2001:db8:1::5' })).toBe('v6 net');
    expect(name({ clientIp: '198.51.100.1' })).toBe('glob ip');
    expect(name({ clientHostname: 'host-1.dynamic.isp.example' })).toBe('host');
    expect(name({ helo: 'LOCALHOST' })).toBe('helo');
  });

  it('reports the action: reject, discard or allow', () => {
    const lists = CompiledLists.compile([rule('drop', 'block', 'senderDomain', 'noise.example', 'discard'), rule('ok', 'allow', 'senderDomain', 'friend.example')]);
    expect(lists.check({ senderDomain: 'noise.example' })).toEqual({ action: 'discard', rule: 'drop', criterion: 'senderDomain', value: 'noise.example' });
    expect(lists.check({ senderDomain: 'friend.example' })?.action).toBe('allow');
  });

  it('checks allow rules before block rules, whatever their order in the list', () => {
    const lists = CompiledLists.compile([
      rule('block all of example', 'block', 'senderDomain', '*.example'),
      rule('block the net', 'block', 'clientIp', '10.0.0.0/8'),
      rule('partner', 'allow', 'senderDomain', 'partner.example'),
      rule('the one good host', 'allow', 'clientIp', '10.1.2.3'),
    ]);
    expect(lists.check({ senderDomain: 'partner.example' })?.rule).toBe('partner');
    expect(lists.check({ senderDomain: 'x.example' })?.rule).toBe('block all of example');
    expect(lists.check({ clientIp: '10.1.2.3' })?.rule).toBe('the one good host');
    expect(lists.check({ clientIp: '10.1.2.4' })?.rule).toBe('block the net');
    // Across the criteria of one stage too: an allowed sender domain beats a blocked sender address.
    const mail = CompiledLists.compile([rule('addr', 'block', 'senderAddress', 'a@partner.example'), rule('dom', 'allow', 'senderDomain', 'partner.example')]);
    expect(mail.check({ senderAddress: 'a@partner.example', senderDomain: 'partner.example' })?.rule).toBe('dom');
  });

  it('lets the first matching rule of a kind decide (its name is logged)', () => {
    const lists = CompiledLists.compile([
      rule('narrow', 'block', 'clientIp', '192.0.2.10', 'discard'),
      rule('wide', 'block', 'clientIp', '192.0.2.0/24'),
      rule('wider', 'block', 'clientIp', '192.0.0.0/16', 'discard'),
    ]);
    expect(lists.check({ clientIp: '192.0.2.10' })).toMatchObject({ rule: 'narrow', action: 'discard' });
    expect(lists.check({ clientIp: '192.0.2.11' })).toMatchObject({ rule: 'wide', action: 'reject' });
    expect(lists.check({ clientIp: '192.0.9.1' })).toMatchObject({ rule: 'wider', action: 'discard' });
  });

  it('among many wildcard rules, the earliest match decides, wherever exact rules sit', () => {
    const rules = Array.from({ length: 300 }, (_, i) => rule(`pattern ${i}`, 'block', 'clientHostname', `*.zone${i}.example`));
    rules.splice(120, 0, rule('catch-all under isp', 'block', 'clientHostname', '*.isp.example', 'discard'));
    rules.splice(250, 0, rule('exact host', 'block', 'clientHostname', 'mail.zone7.example'));
    rules.push(rule('anything', 'block', 'clientHostname', '*'));
    const lists = CompiledLists.compile(rules);
    expect(lists.check({ clientHostname: 'a.zone7.example' })?.rule).toBe('pattern 7');
    expect(lists.check({ clientHostname: 'mail.zone7.example' })?.rule).toBe('pattern 7'); // earlier than the exact rule
    expect(lists.check({ clientHostname: 'dsl.isp.example' })).toMatchObject({ rule: 'catch-all under isp', action: 'discard' });
    expect(lists.check({ clientHostname: 'x.zone299.example' })?.rule).toBe('pattern 299');
    expect(lists.check({ clientHostname: 'elsewhere.example' })?.rule).toBe('anything');
    expect(lists.check({ clientHostname: '' })?.rule).toBe('anything');
  });

  it('skips disabled rules and says which criteria are in use', () => {
    const lists = CompiledLists.compile([{ ...rule('off', 'block', 'clientHostname', 'x.example'), enabled: false }, rule('on', 'block', 'helo', 'x')]);
    expect(lists.check({ clientHostname: 'x.example' })).toBeNull();
    expect(lists.uses('clientHostname')).toBe(false);
    expect(lists.uses('helo')).toBe(true);
  });

  it('compares IDN domains in their ASCII form', () => {
    const lists = CompiledLists.compile([rule('idn', 'block', 'senderDomain', 'bücher.example'), rule('idn wildcard', 'block', 'recipientDomain', '*.bücher.example')]);
    expect(lists.check({ senderDomain: 'xn--bcher-kva.example' })?.rule).toBe('idn');
    expect(lists.check({ senderDomain: 'BÜCHER.example' })?.rule).toBe('idn');
    expect(lists.check({ recipientDomain: 'shop.xn--bcher-kva.example' })?.rule).toBe('idn wildcard');
  });

  it('matches the null sender with "<>"', () => {
    const lists = CompiledLists.compile([rule('bounces', 'block', 'senderAddress', '<>', 'discard')]);
    expect(lists.check({ senderAddress: '' })?.rule).toBe('bounces');
    expect(lists.check({ senderAddress: 'a@b.example' })).toBeNull();
  });

  it('stays fast with 1 000 rules of every kind (compiled once per config)', () => {
    const rules: ListRule[] = [];
    for (let i = 0; i < 1000; i++) {
      const k = i % 5;
      if (k === 0) rules.push(rule(`ip${i}`, 'block', 'clientIp', `10.${i % 250}.${Math.floor(i / 250)}.0/24`));
      else if (k === 1) rules.push(rule(`dom${i}`, 'block', 'senderDomain', `spam${i}.example`));
      else if (k === 2) rules.push(rule(`sub${i}`, 'block', 'recipientDomain', `*.bad${i}.example`));
      else if (k === 3) rules.push(rule(`addr${i}`, 'block', 'senderAddress', `user${i}@list.example`));
      else rules.push(rule(`glob${i}`, 'block', 'helo', `host${i}-*.example`));
    }
    const t0 = performance.now();
    const lists = CompiledLists.compile(rules);
    const compileMs = performance.now() - t0;
    const t1 = performance.now();
    let hits = 0;
    for (let n = 0; n < 2000; n++) {
      const facts = { clientIp: `203.0.113.${n % 250}`, senderDomain: `ok${n}.example`, senderAddress: `a${n}@ok.example`, recipientDomain: `x.ok${n}.example`, helo: `mx${n}.ok.example` };
      if (lists.check(facts)) hits++;
    }
    const perCheckMs = (performance.now() - t1) / 2000;
    expect(hits).toBe(0);
    expect(lists.check({ clientIp: '10.5.1.9' })?.rule).toBe('ip255');
    expect(lists.check({ recipientDomain: 'a.bad2.example' })?.rule).toBe('sub2');
    expect(lists.check({ helo: 'host4-x.example' })?.rule).toBe('glob4');
    expect(compileMs).toBeLessThan(200);
    // Generous bound for a loaded CI box; a linear scan with regexes per rule would be far slower.
    expect(perCheckMs).toBeLessThan(0.5);
  });
});
