/**
 * The main process's strings (menu, tray, dialogs): every language has every key, nothing is empty,
 * German is really German, and the `language` setting picks the table (`system` from the OS list).
 */
import { describe, expect, it } from 'vitest';
import { instanceStatuses, uiLanguages } from '../../electron/ipc-contract.ts';
import { MAIN_STRINGS, resolveUiLanguage } from '../../electron/main/main-strings.ts';

/** Every leaf as `path → text`; a function leaf is called with a sample argument. */
function leaves(node: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(p, value);
    else if (typeof value === 'function') out.set(p, String((value as (arg: string) => unknown)('X.Y')));
    else for (const [k, v] of leaves(value, p)) out.set(k, v);
  }
  return out;
}

const en = leaves(MAIN_STRINGS.en);

describe('main-process strings', () => {
  it('has a table for every UI language the contract lists', () => {
    expect(Object.keys(MAIN_STRINGS).sort()).toEqual([...uiLanguages].sort());
  });

  it.each(uiLanguages)('%s has exactly the keys of English, none empty, parameters kept', (language) => {
    const table = leaves(MAIN_STRINGS[language]);
    expect([...table.keys()].sort()).toEqual([...en.keys()].sort());
    for (const [key, text] of table) {
      expect(text.trim(), key).not.toBe('');
      if (en.get(key)!.includes('X.Y')) expect(text, key).toContain('X.Y');
    }
  });

  it('names every instance status', () => {
    for (const language of uiLanguages) expect(Object.keys(MAIN_STRINGS[language].status).sort()).toEqual([...instanceStatuses].sort());
  });

  it('translates what a person reads (only the product name stays the same)', () => {
    const de = leaves(MAIN_STRINGS.de);
    const same = [...en].filter(([key, text]) => de.get(key) === text).map(([key]) => key);
    expect(same.sort()).toEqual(['appName', 'windowTitle']);
    expect(MAIN_STRINGS.de.menu.file).toBe('Datei');
    expect(MAIN_STRINGS.de.tray.localRelayRunning('0.1.0')).toBe('Lokales Relay: läuft (0.1.0)');
  });

  it('takes the language from the setting, or for "system" from the first shipped OS language', () => {
    expect(resolveUiLanguage('de', ['en-US'])).toBe('de');
    expect(resolveUiLanguage('en', ['de-DE'])).toBe('en');
    expect(resolveUiLanguage('system', ['de-AT', 'en-US'])).toBe('de');
    expect(resolveUiLanguage('system', ['fr-FR', 'de_CH', 'en'])).toBe('de');
    expect(resolveUiLanguage('system', ['en-GB', 'de'])).toBe('en');
    expect(resolveUiLanguage('system', ['fr', 'ja'])).toBe('en');
    expect(resolveUiLanguage('system', ['', 'DE'])).toBe('de');
    expect(resolveUiLanguage('system', [])).toBe('en');
  });
});
