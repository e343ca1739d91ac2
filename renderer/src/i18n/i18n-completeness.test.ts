/**
 * Every key exists in every language, placeholders match between languages, and every key the code
 * uses exists. Keys are found as string literals in the sources (`'area.key'`), so write them out.
 */
import { describe, expect, it } from 'vitest';
import type { InstallReport, InstallStep, InstanceStatus, SshAuth, TrustedHostKey } from '../api/relay-desk.ts';
import type { ListRule, Listener, EditableRelayException } from '../state/config-shapes.ts';
import { pages, PAGE_GROUPS } from '../pages/registry.ts';
import { catalog } from './catalog.ts';
import { LOCALES, type Message } from './message-types.ts';

/** Every source file of the renderer (not tests, not the message files themselves), as text. */
const sources: Record<string, string> = import.meta.glob(['../**/*.ts', '../**/*.svelte', '!../**/*.test.ts', '!./messages/**'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

function placeholders(message: Message): string[] {
  const texts = typeof message === 'string' ? [message] : Object.values(message).filter((v): v is string => typeof v === 'string');
  return [...new Set(texts.flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '')))].filter((p) => p !== 'count').sort();
}

const areas = new Set(catalog.areas.en);

/** Every instance status; a new status in the contract is a type error here until it is listed. */
const STATUSES: Record<InstanceStatus, true> = {
  disconnected: true,
  connecting: true,
  connected: true,
  'auth-failed': true,
  'host-key-unknown': true,
  'host-key-changed': true,
  'relay-not-installed': true,
  'relay-stopped': true,
  'version-mismatch': true,
  failed: true,
};

/** The text of a call's first argument: from after `(` to the first `,` or `)` at depth 0. */
function firstArgument(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return text.slice(open, i);
      depth--;
    } else if (c === ',' && depth === 0) return text.slice(open, i);
  }
  return text.slice(open);
}

/**
 * Keys a source uses: string literals in the first argument of `t(...)` (ternaries included), and
 * values of `…Key` properties and attributes (`titleKey: 'x.y'`, `labelKey="x.y"`).
 */
function keysIn(text: string): string[] {
  const keys: string[] = [];
  const literal = /['"`]([a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9_-]+)+)['"`]/g;
  for (const m of text.matchAll(/\bt\(/g)) {
    for (const k of firstArgument(text, (m.index ?? 0) + 2).matchAll(literal)) keys.push(k[1] ?? '');
  }
  for (const m of text.matchAll(/[a-zA-Z]*Key\s*[:=]\s*['"]([a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9_-]+)+)['"]/g)) keys.push(m[1] ?? '');
  return keys.filter((k) => areas.has(k.split('.')[0] ?? ''));
}
const en = catalog.messages.en;

describe('i18n catalog', () => {
  it('has the same areas in every language', () => {
    for (const locale of LOCALES) expect(catalog.areas[locale], `areas of ${locale}`).toEqual(catalog.areas.en);
  });

  it('has every key in every language, and no extra ones', () => {
    for (const locale of LOCALES) {
      const keys = [...catalog.messages[locale].keys()].sort();
      const missing = [...en.keys()].filter((k) => !catalog.messages[locale].has(k));
      const extra = keys.filter((k) => !en.has(k));
      expect(missing, `keys missing in ${locale}`).toEqual([]);
      expect(extra, `keys only in ${locale}`).toEqual([]);
    }
  });

  it('uses the same placeholders in every language', () => {
    for (const [key, message] of en) {
      for (const locale of LOCALES) {
        const other = catalog.messages[locale].get(key);
        if (other !== undefined) expect(placeholders(other), `${locale}: ${key}`).toEqual(placeholders(message));
      }
    }
  });

  it('has no empty messages', () => {
    for (const locale of LOCALES) {
      for (const [key, message] of catalog.messages[locale]) {
        const texts = typeof message === 'string' ? [message] : Object.values(message);
        for (const text of texts) expect(String(text).trim(), `${locale}: ${key}`).not.toBe('');
      }
    }
  });
});

/** The members of a union as an exhaustive list: a new member is a type error until it is added. */
function all<T extends string>(members: Record<T, true>): T[] {
  return Object.keys(members) as T[];
}

/** Keys the code builds from values (`t(\`mail.security.lists.criteria.${c}\`)`), for every value. */
const COMPUTED_KEYS = [
  ...all<Listener['tls']>({ starttls: true, implicit: true, none: true }).map((v) => `mail.listeners.tlsMode.${v}`),
  ...all<EditableRelayException['targetType']>({ recipient: true, sender: true }).flatMap((v) => [`mail.delivery.exceptions.targetTypes.${v}`, `mail.delivery.exceptions.targetTypeHelp.${v}`]),
  ...all<ListRule['type']>({ block: true, allow: true }).flatMap((v) => [`mail.security.lists.types.${v}`, `mail.security.lists.filter.${v}`]),
  'mail.security.lists.filter.all',
  ...all<ListRule['action']>({ reject: true, discard: true, allow: true }).map((v) => `mail.security.lists.actions.${v}`),
  ...all<ListRule['criterion']>({ senderAddress: true, senderDomain: true, recipientAddress: true, recipientDomain: true, clientIp: true, clientHostname: true, helo: true }).map(
    (v) => `mail.security.lists.criteria.${v}`,
  ),
  ...all<InstallStep>({ connect: true, 'check-node': true, upload: true, 'data-dir': true, 'stop-old': true, start: true, verify: true }).map((v) => `connection.install.steps.${v}`),
  ...all<InstallReport['service']>({ 'systemd-user': true, detached: true }).map((v) => `connection.install.service.${v}`),
  ...all<SshAuth['method']>({ agent: true, key: true, password: true, 'keyboard-interactive': true }).flatMap((v) => [`connection.form.methods.${v}`, `connection.form.methodHelp.${v}`]),
  ...all<TrustedHostKey['source']>({ confirmed: true, known_hosts: true }).map((v) => `connection.state.hostKeySource.${v}`),
];

describe('keys used by the code', () => {
  const used = new Map<string, string>();
  for (const [file, text] of Object.entries(sources)) for (const key of keysIn(text)) used.set(key, file);

  it('finds keys in the sources (the scan works)', () => {
    expect(used.size).toBeGreaterThan(50);
  });

  it('exist in the catalog', () => {
    const missing = [...used].filter(([key]) => !en.has(key)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });

  it('cover computed keys: statuses, page titles, groups, enum labels', () => {
    const computed = [
      ...Object.keys(STATUSES).map((s) => `common.status.${s}`),
      ...pages.map((p) => p.titleKey),
      ...PAGE_GROUPS.map((g) => `shell.group.${g}`),
      ...COMPUTED_KEYS,
    ];
    expect(computed.filter((k) => !en.has(k))).toEqual([]);
  });
});
