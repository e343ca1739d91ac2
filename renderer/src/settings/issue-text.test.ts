import { describe, expect, it } from 'vitest';
import { catalog } from '../i18n/catalog.ts';
import { i18n } from '../i18n/index.ts';
import { relayConfigSchema } from '../../../server/config/schema.ts';
import { fieldIssuesFromZod } from '../state/config-validation.ts';
import { issueText, KNOWN_MESSAGES } from './issue-text.ts';
import schemaSource from '../../../server/config/schema.ts?raw';
import contractSource from '../../../electron/ipc-contract.ts?raw';

/** The fixed English messages a schema file writes (`message: '…'`, `.min(1, '…')`, `.regex(re, '…')`). */
function schemaMessages(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/(?:message:\s*|,\s*)'((?:must|is|needs|an|a) [^']+)'/g)) out.add((m[1] ?? '').replace(/\\'/g, "'"));
  return [...out];
}

describe('validation messages', () => {
  it('translate every fixed message of the relay schema and the IPC contract', () => {
    const messages = [...schemaMessages(schemaSource), ...schemaMessages(contractSource)];
    expect(messages.length).toBeGreaterThan(15);
    expect(messages.filter((m) => !(m in KNOWN_MESSAGES))).toEqual([]);
  });

  it('point at keys that exist', () => {
    expect(Object.values(KNOWN_MESSAGES).filter((k) => !catalog.messages.en.has(k))).toEqual([]);
  });

  it('derive the rest from the issue code, in the current language', () => {
    const r = relayConfigSchema.safeParse({ general: { auth: { maxFailures: 0 }, profile: { maxHops: 'x' } }, queue: { retrySchedule: [] } });
    expect(r.success).toBe(false);
    const issues = new Map(fieldIssuesFromZod(r.success ? [] : r.error.issues).map((i) => [i.path, i]));
    expect(issueText(issues.get('general.auth.maxFailures'))).toBe('Must be at least 1');
    expect(issueText(issues.get('general.profile.maxHops'))).toBe('Enter a number');
    expect(issueText(issues.get('queue.retrySchedule'))).toBe('Add at least one retry interval');
    i18n.setLocale('de');
    expect(issueText(issues.get('general.auth.maxFailures'))).toBe('Muss mindestens 1 sein');
  });

  it('names the address of a listener that is used twice', () => {
    const r = relayConfigSchema.safeParse({ listeners: [{ port: 25 }, { port: 25 }] });
    const issue = fieldIssuesFromZod(r.success ? [] : r.error.issues).find((i) => i.path === 'listeners[1].port');
    expect(issueText(issue)).toBe('127.0.0.1:25 is already used by another listener');
  });
});
