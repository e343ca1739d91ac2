import { describe, expect, it } from 'vitest';
import { buildCatalog } from './catalog.ts';
import { I18n, initialLocale } from './i18n.svelte.ts';

const catalog = buildCatalog({
  '/m/demo.en.ts': { default: { hello: 'Hello {name}', files: { one: '{count} file', other: '{count} files' }, nested: { deep: 'Deep' } } },
  '/m/demo.de.ts': { default: { hello: 'Hallo {name}', files: { one: '{count} Datei', other: '{count} Dateien' }, nested: { deep: 'Tief' } } },
});

describe('I18n', () => {
  it('fills parameters and switches language at run time', () => {
    const i18n = new I18n({ catalog, locale: 'en' });
    expect(i18n.t('demo.hello', { name: 'Ada' })).toBe('Hello Ada');
    expect(i18n.t('demo.nested.deep')).toBe('Deep');
    i18n.setLocale('de');
    expect(i18n.t('demo.hello', { name: 'Ada' })).toBe('Hallo Ada');
  });

  it('chooses plural forms and formats the count for the locale', () => {
    const i18n = new I18n({ catalog, locale: 'en' });
    expect(i18n.t('demo.files', { count: 1 })).toBe('1 file');
    expect(i18n.t('demo.files', { count: 12345 })).toBe('12,345 files');
    i18n.setLocale('de');
    expect(i18n.t('demo.files', { count: 12345 })).toBe('12.345 Dateien');
  });

  it('shows the key of a missing message instead of failing', () => {
    const i18n = new I18n({ catalog, locale: 'en' });
    expect(i18n.t('demo.nope')).toBe('demo.nope');
  });

  it('formats numbers, dates, durations and sizes per locale', () => {
    const en = new I18n({ catalog, locale: 'en' });
    const de = new I18n({ catalog, locale: 'de' });
    expect(en.number(1234.5)).toBe('1,234.5');
    expect(de.number(1234.5)).toBe('1.234,5');
    const t = Date.UTC(2026, 2, 5, 14, 30);
    expect(en.dateTime(t, { dateStyle: 'short', timeZone: 'UTC' })).toBe('3/5/26');
    expect(de.dateTime(t, { dateStyle: 'short', timeZone: 'UTC' })).toBe('05.03.26');
    expect(en.duration(3 * 3600 + 5 * 60)).toBe('3 hr 5 min');
    expect(de.duration(3 * 3600 + 5 * 60)).toBe('3 Std. 5 Min.');
    expect(de.bytes(1536)).toBe('1,5 kB');
    expect(en.relativeTime(Date.now() - 5 * 60_000)).toBe('5 minutes ago');
    expect(de.relativeTime(Date.now() - 5 * 60_000)).toBe('vor 5 Minuten');
  });

  it('starts with the saved choice, else the system language, else English', () => {
    expect(initialLocale({ getItem: () => 'de' }, ['en-US'])).toBe('de');
    expect(initialLocale({ getItem: () => null }, ['de-AT', 'en'])).toBe('de');
    expect(initialLocale({ getItem: () => 'xx' }, ['fr-FR'])).toBe('en');
  });

  it('refuses message files with a bad name or locale', () => {
    expect(() => buildCatalog({ '/m/Demo.en.ts': { default: {} } })).toThrow(/<area>\.<locale>\.ts/);
    expect(() => buildCatalog({ '/m/demo.fr.ts': { default: {} } })).toThrow(/unknown locale/);
  });
});
