import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { METHODS, type MethodResult } from '../../../../server/protocol/index.ts';
import { catalog } from '../../i18n/catalog.ts';
import { i18n } from '../../i18n/index.ts';
import { LOCALES } from '../../i18n/message-types.ts';
import { createTestApi, ok, redactedConfig, testContext } from '../../test-support/fake-api.ts';
import { DNS_CHECK_TEXT_KEYS, dnsCheckText } from './dns-check-text.ts';
import { DNS_ERROR_REASON_KEYS, dnsFailureText, dnsFoundText } from './dns-found-text.ts';
import { ROUTE_TEXT_KEYS, UNROUTABLE_TEXT } from './route-text.ts';
import ToolsPage from './ToolsPage.svelte';
import { DNS_STATUS_KEYS } from './tools-model.svelte.ts';

describe('ToolsPage', () => {
  it('refuses bad recipients and shows the transcript of a test message', async () => {
    const t = createTestApi();
    t.control.set('config.get', () => ok({ config: redactedConfig({ general: { profile: { domain: 'corp.example' } } }), revision: 'r' }));
    t.control.set('test.send', () =>
      ok({
        ok: true,
        route: 'direct MX',
        nextHop: 'mx.example.net[192.0.2.7]:25',
        reply: '250 2.0.0 queued',
        durationMs: 420,
        transcript: [
          { at: 1, direction: 'info', text: 'connecting to mx.example.net' },
          { at: 2, direction: 'server', text: '220 mx.example.net ESMTP' },
          { at: 3, direction: 'client', text: 'MAIL FROM:<postmaster@corp.example>' },
        ],
      }),
    );
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'tools' });
    render(ToolsPage, { props: { instanceId: 'local', tab: undefined }, context });
    await waitFor(() => expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('postmaster@corp.example'));
    await fireEvent.input(screen.getByLabelText('To'), { target: { value: 'not-an-address' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send test message' }));
    expect(screen.getByText('“not-an-address” is not an e-mail address (local@domain).')).toBeInTheDocument();
    expect(t.controlCalls.some((c) => c.method === 'test.send')).toBe(false);

    await fireEvent.input(screen.getByLabelText('To'), { target: { value: 'a@example.net, b@example.net' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send test message' }));
    await waitFor(() => expect(screen.getByText('The next hop accepted the message')).toBeInTheDocument());
    expect(t.controlCalls.find((c) => c.method === 'test.send')?.params).toMatchObject({ from: 'postmaster@corp.example', to: ['a@example.net', 'b@example.net'] });
    expect(screen.getByText('MAIL FROM:<postmaster@corp.example>')).toBeInTheDocument();
  });
  it('keeps the default subject and text in the language of the moment, until the user edits them', async () => {
    const t = createTestApi();
    t.control.set('config.get', () => ok({ config: redactedConfig(), revision: 'r' }));
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'tools' });
    render(ToolsPage, { props: { instanceId: 'local', tab: undefined }, context });
    const subject = screen.getByLabelText('Subject') as HTMLInputElement;
    const text = screen.getByLabelText('Text') as HTMLTextAreaElement;
    expect([subject.value, text.value]).toEqual(['Relay Desk test message', 'This is a test message sent by Relay Desk.']);
    await fireEvent.input(text, { target: { value: 'Hello from the printer room' } });
    i18n.setLocale('de');
    try {
      await waitFor(() => expect(subject.value).toBe('Testnachricht von Relay Desk'));
      expect(text.value).toBe('Hello from the printer room');
    } finally {
      i18n.setLocale('en');
    }
    await waitFor(() => expect(subject.value).toBe('Relay Desk test message'));
  });

  it('has the label of every DNS check status in every language', () => {
    for (const locale of LOCALES) expect(Object.values(DNS_STATUS_KEYS).filter((k) => !catalog.messages[locale].has(k))).toEqual([]);
  });

  it('has the words of every DNS check code and route kind in every language', () => {
    const keys = [
      ...Object.values(DNS_CHECK_TEXT_KEYS).flatMap((k) => [k.nameKey, k.expectedKey, k.fixKey ?? []].flat()),
      ...Object.values(DNS_ERROR_REASON_KEYS),
      ...Object.values(ROUTE_TEXT_KEYS),
      ...Object.values(UNROUTABLE_TEXT).map((u) => u.key),
      'tools.send.noRoute',
    ];
    for (const locale of LOCALES) expect(keys.filter((k) => !catalog.messages[locale].has(k)), locale).toEqual([]);
  });
});

/**
 * A dns.check answer as a relay sends it (checked against the contract): a failing internal MX of a
 * relay domain, a passing PTR, a check with a code this app does not know (a newer relay) and one
 * without any code (an older relay).
 */
const dnsAnswer: MethodResult<'dns.check'> = METHODS['dns.check'].result.parse({
  ok: false,
  checks: [
    {
      name: 'internal MX of corp.example points at the main server',
      subject: 'corp.example',
      status: 'fail',
      expected: 'an MX host other than this relay (relay.corp.example), found through the internal DNS',
      found: ['domain not found (NXDOMAIN) looking up MX corp.example'],
      foundItems: [{ kind: 'dnsError', code: 'ENOTFOUND', rrtype: 'MX', name: 'corp.example', noMx: false }],
      fix: 'Add an MX record for corp.example pointing at the main mail server to the internal DNS (10.0.0.53), or set relayControl.relayDomains[0].nextHop to the main server.',
      code: 'internalMx.missing',
      params: { domain: 'corp.example', host: 'relay.corp.example', key: 'relayControl.relayDomains[0]', internalDns: '10.0.0.53' },
    },
    {
      name: 'reverse DNS of 192.0.2.10 names relay.corp.example',
      subject: '192.0.2.10',
      status: 'pass',
      expected: 'a PTR record for 192.0.2.10 with the name relay.corp.example',
      found: ['relay.corp.example'],
      foundItems: [{ kind: 'value', value: 'relay.corp.example' }],
      fix: null,
      code: 'reverse.ok',
      params: { host: 'relay.corp.example', ip: '192.0.2.10' },
    },
    {
      name: 'DANE TLSA of relay.corp.example is published',
      subject: 'relay.corp.example',
      status: 'warn',
      expected: 'a TLSA record for _25._tcp.relay.corp.example',
      found: [],
      fix: 'Publish a TLSA record for _25._tcp.relay.corp.example.',
      code: 'tlsa.missing',
      params: { host: 'relay.corp.example' },
    },
    {
      name: 'host name relay.corp.example has an address',
      subject: 'relay.corp.example',
      status: 'pass',
      expected: "an A or AAAA record for relay.corp.example with this relay's public address",
      found: ['192.0.2.10'],
      fix: null,
    },
  ],
});

async function showDnsCheck(): Promise<void> {
  const t = createTestApi();
  t.control.set('config.get', () => ok({ config: redactedConfig(), revision: 'r' }));
  t.control.set('dns.check', () => ok(dnsAnswer));
  const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'tools' });
  render(ToolsPage, { props: { instanceId: 'local', tab: 'dns' }, context });
  await fireEvent.click(screen.getByRole('button', { name: i18n.t('tools.dns.run') }));
  await waitFor(() => expect(screen.getByTestId('dns-checks').children).toHaveLength(4));
}

/** The words shown for each check: its title, expectation and fix, in order. */
function shownChecks(): Array<{ name: string; expected: string; fix: string | null }> {
  return [...screen.getByTestId('dns-checks').children].map((li) => ({
    name: li.querySelector('.name')?.textContent ?? '',
    expected: li.querySelectorAll('dd')[1]?.textContent ?? '',
    fix: li.querySelector('.fix')?.textContent ?? null,
  }));
}

/** What each check shows as found, in order (its lines joined with ", "). */
function shownFound(): string[] {
  return screen.getAllByTestId('dns-found').map((dd) => {
    const lines = [...dd.querySelectorAll('span')].map((s) => s.textContent ?? '');
    return lines.length ? lines.join(', ') : (dd.textContent ?? '');
  });
}

type DnsCheck = MethodResult<'dns.check'>['checks'][number];
type FoundItem = NonNullable<DnsCheck['foundItems']>[number];
const de = (key: string, params?: Readonly<Record<string, string | number>>) => i18n.t(key, params);
/** A check of an external MX that found `items`, as a relay sends it (English `found` lines beside them). */
const foundCheck = (items: FoundItem[] | undefined, found: string[]): DnsCheck =>
  METHODS['dns.check'].result.parse({
    ok: false,
    checks: [{ name: 'n', subject: 'example.com', status: 'fail', expected: 'e', found, fix: 'f', ...(items ? { foundItems: items } : {}) }],
  }).checks[0]!;
/** A lookup failure as data. */
const failure = (code: string, rrtype: string, name: string, noMx = false) => ({ code, rrtype, name, noMx });

describe('ToolsPage in the user language', () => {
  it('words the DNS checks in German from their codes, and keeps the English of unknown ones', async () => {
    i18n.setLocale('de');
    await showDnsCheck();
    const [internalMx, reverse, unknown, older] = shownChecks();
    expect(internalMx).toEqual({
      name: 'Interner MX-Eintrag von corp.example zeigt auf den Haupt-E-Mail-Server',
      expected: 'ein MX-Host, der nicht dieses Relay (relay.corp.example) ist, gefunden über das interne DNS',
      // The place to change is named as the app shows it, not as the relay's config key.
      fix: 'Was zu ändern ist: Legen Sie im internen DNS (10.0.0.53) einen MX-Eintrag für corp.example an, der auf den Haupt-E-Mail-Server zeigt, oder tragen Sie den Haupt-E-Mail-Server unter Relay-Steuerung › Domainliste › corp.example › Haupt-E-Mail-Server ein.',
    });
    expect(reverse).toEqual({ name: 'Reverse-DNS (PTR) von 192.0.2.10 ergibt relay.corp.example', expected: 'ein PTR-Eintrag für 192.0.2.10 mit dem Namen relay.corp.example', fix: null });
    expect(unknown).toEqual({
      name: 'DANE TLSA of relay.corp.example is published',
      expected: 'a TLSA record for _25._tcp.relay.corp.example',
      fix: 'Was zu ändern ist: Publish a TLSA record for _25._tcp.relay.corp.example.',
    });
    expect(older).toEqual({ name: 'host name relay.corp.example has an address', expected: "an A or AAAA record for relay.corp.example with this relay's public address", fix: null });
    expect(screen.getByText('2 von 4 Prüfungen bestanden.', { exact: false })).toBeInTheDocument();
  });

  it("words them in English as the relay does (naming the app's fields, not config keys), and switches language without a new check", async () => {
    await showDnsCheck();
    const english = dnsAnswer.checks.map((c) => ({ name: c.name, expected: c.expected, fix: c.fix === null ? null : `What to fix: ${c.fix}` }));
    english[0]!.fix = 'What to fix: Add an MX record for corp.example pointing at the main mail server to the internal DNS (10.0.0.53), or enter the main mail server in Relay Control › Domain list › corp.example › Main mail server.';
    expect(shownChecks()).toEqual(english);
    expect(shownFound()).toEqual(['domain not found (NXDOMAIN) looking up MX corp.example', 'relay.corp.example', 'no record', '192.0.2.10']);
    i18n.setLocale('de');
    await waitFor(() => expect(shownChecks()[0]?.name).toBe('Interner MX-Eintrag von corp.example zeigt auf den Haupt-E-Mail-Server'));
    expect(shownFound()).toEqual(['Domain nicht gefunden (NXDOMAIN) bei der MX-Abfrage für corp.example', 'relay.corp.example', 'kein Eintrag', '192.0.2.10']);
  });

  it('words each kind of found item in German', () => {
    i18n.setLocale('de');
    const items: FoundItem[] = [
      { kind: 'mx', priority: 10, host: 'mail.example.com', addresses: ['192.0.2.1', '2001:db8::1'] },
      { kind: 'mx', priority: 20000, host: 'backup.example.com', addresses: [] },
      { kind: 'implicitMx', host: 'example.com', addresses: ['192.0.2.1'] },
      { kind: 'value', value: '192.0.2.1' },
      { kind: 'dnsError', ...failure('ENOTFOUND', 'MX', 'example.com') },
    ];
    expect(dnsFoundText(foundCheck(items, items.map((i) => `English ${i.kind}`)), de)).toEqual([
      'MX 10 mail.example.com (192.0.2.1, 2001:db8::1)',
      'MX 20000 backup.example.com (keine Adresse)',
      'example.com (192.0.2.1) – kein MX-Eintrag, nur A-/AAAA-Eintrag',
      '192.0.2.1',
      'Domain nicht gefunden (NXDOMAIN) bei der MX-Abfrage für example.com',
    ]);
  });

  it('words every kind of DNS failure in German: each resolver code, null MX, no MX and then no address', () => {
    i18n.setLocale('de');
    expect(
      [
        failure('ENOTFOUND', 'MX', 'example.com'),
        failure('ENODATA', 'PTR', '192.0.2.1'),
        failure('ESERVFAIL', 'MX', 'example.com'),
        failure('ETIMEOUT', 'A', 'mail.example.com'),
        failure('EREFUSED', 'AAAA', 'mail.example.com'),
        failure('ECONNREFUSED', 'MX', 'example.com'),
        failure('EBADRESP', 'MX', 'example.com'),
        failure('NULLMX', 'MX', 'example.com'),
        failure('ENODATA', 'A/AAAA', 'example.com', true),
        failure('ESERVFAIL', 'A', 'example.com', true),
      ].map((f) => dnsFailureText(f, de)),
    ).toEqual([
      'Domain nicht gefunden (NXDOMAIN) bei der MX-Abfrage für example.com',
      'kein Eintrag (NODATA) bei der PTR-Abfrage für 192.0.2.1',
      'Fehler des DNS-Servers (SERVFAIL) bei der MX-Abfrage für example.com',
      'keine Antwort vom DNS-Server (Zeitüberschreitung) bei der A-Abfrage für mail.example.com',
      'Anfrage vom DNS-Server abgelehnt (REFUSED) bei der AAAA-Abfrage für mail.example.com',
      'DNS-Server nicht erreichbar bei der MX-Abfrage für example.com',
      'DNS-Fehler EBADRESP bei der MX-Abfrage für example.com',
      'Domain example.com nimmt keine E-Mails an (Null-MX)',
      'kein MX-Eintrag, außerdem kein A- oder AAAA-Eintrag für example.com',
      'kein MX-Eintrag, außerdem Fehler des DNS-Servers (SERVFAIL) bei der A-Abfrage für example.com',
    ]);
  });

  it("keeps the relay's English found line for an unknown kind, a relay without found items, or items that do not match the lines", () => {
    i18n.setLocale('de');
    // An item of a newer relay's kind as the app reads it: its kind stays, its other fields are dropped.
    const srv = foundCheck([{ kind: 'value', value: '192.0.2.1' }, { kind: 'srv' }], ['192.0.2.1', 'SRV 0 5 25 relay.example.com']);
    expect(dnsFoundText(srv, de)).toEqual(['192.0.2.1', 'SRV 0 5 25 relay.example.com']);
    expect(dnsFoundText(foundCheck(undefined, ['MX 10 mail.example.com (no address)']), de)).toEqual(['MX 10 mail.example.com (no address)']);
    expect(dnsFoundText(foundCheck([{ kind: 'mx', priority: 10, host: 'mail.example.com', addresses: [] }], ['MX 10 mail.example.com (no address)', 'MX 20 b.example.com (no address)']), de)).toEqual([
      'MX 10 mail.example.com (no address)',
      'MX 20 b.example.com (no address)',
    ]);
  });

  it('words the DNS error a lookup-error fix quotes in German, or quotes the English of a relay without it', () => {
    i18n.setLocale('de');
    const check: DnsCheck = {
      name: 'external MX of example.com points at this relay',
      subject: 'example.com',
      status: 'error',
      expected: 'an MX host that is relay.example.com or has one of its addresses',
      found: ['DNS server failure (SERVFAIL) looking up MX example.com'],
      foundItems: [{ kind: 'dnsError', ...failure('ESERVFAIL', 'MX', 'example.com') }],
      fix: 'The DNS did not answer (DNS server failure (SERVFAIL) looking up MX example.com): check the servers in dns.internal / dns.external and try again.',
      code: 'externalMx.lookupError',
      params: { domain: 'example.com', host: 'relay.example.com', dnsError: 'DNS server failure (SERVFAIL) looking up MX example.com' },
      dnsFailure: failure('ESERVFAIL', 'MX', 'example.com'),
    };
    expect(dnsCheckText(check, de).fix).toBe(
      'Der DNS-Server hat nicht geantwortet (Fehler des DNS-Servers (SERVFAIL) bei der MX-Abfrage für example.com): Prüfen Sie die Server unter Relay-Steuerung › DNS-Server und versuchen Sie es erneut.',
    );
    const { dnsFailure: _f, ...older } = check;
    expect(dnsCheckText(older, de).fix).toContain('(DNS server failure (SERVFAIL) looking up MX example.com)');
  });

  it('describes the route of a test message in German, why none was found too, and keeps the English of an unknown route kind', async () => {
    i18n.setLocale('de');
    const answers: Array<MethodResult<'test.send'>> = [
      {
        ok: true,
        route: 'relay exception "Partner" (smtp.partner.example:587); relay domain "Office" → next hop 10.0.0.25:2525',
        routes: [
          { kind: 'relayException', target: 'smtp.partner.example:587', name: 'Partner' },
          { kind: 'nextHop', target: '10.0.0.25:2525', name: 'Office' },
        ],
        nextHop: 'smtp.partner.example[198.51.100.4]:587',
        reply: '250 2.0.0 queued',
        durationMs: 120,
        transcript: [],
      },
      {
        ok: false,
        route: 'no route (nobody@corp.example: no mailboxes on this relay (local domain))',
        routes: [{ kind: 'unroutable', target: 'nobody@corp.example: no mailboxes on this relay (local domain)', name: null, why: 'localMailbox', params: { recipient: 'nobody@corp.example' } }],
        nextHop: null,
        reply: null,
        durationMs: 1,
        transcript: [],
      },
      { ok: false, route: 'carrier pigeon to the roof', routes: [{ kind: 'pigeon', target: 'roof', name: null }], nextHop: null, reply: null, durationMs: 1, transcript: [] },
    ];
    const t = createTestApi();
    t.control.set('config.get', () => ok({ config: redactedConfig(), revision: 'r' }));
    t.control.set('test.send', () => ok(METHODS['test.send'].result.parse(answers.shift())));
    const { context } = await testContext(t.api, { kind: 'instance', instanceId: 'local', pageId: 'tools' });
    render(ToolsPage, { props: { instanceId: 'local', tab: undefined }, context });
    await fireEvent.input(screen.getByLabelText('An'), { target: { value: 'a@partner.example' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Testnachricht senden' }));
    await waitFor(() => expect(screen.getByTestId('send-route').textContent).toBe('Relay-Ausnahme „Partner“ (smtp.partner.example:587); Relay-Domain „Office“ → Haupt-E-Mail-Server 10.0.0.25:2525'));
    await fireEvent.click(screen.getByRole('button', { name: 'Testnachricht senden' }));
    await waitFor(() => expect(screen.getByTestId('send-route').textContent).toBe('Nicht zustellbar (nobody@corp.example: Dieses Relay hat keine Postfächer (lokale Domain))'));
    await fireEvent.click(screen.getByRole('button', { name: 'Testnachricht senden' }));
    await waitFor(() => expect(screen.getByTestId('send-route').textContent).toBe('carrier pigeon to the roof'));
  });
});
