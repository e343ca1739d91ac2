/**
 * The app's one I18n instance. Components import `t` (and the formatters) from here; the locale is
 * reactive, so strings re-render when it changes. Tests may call `i18n.setLocale('de')`.
 */
import { I18n, initialLocale } from './i18n.svelte.ts';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export const i18n = new I18n({
  locale: initialLocale(storage(), typeof navigator === 'undefined' ? [] : navigator.languages),
  storage: storage(),
});

/** Translate a key; see I18n.t. */
export const t = i18n.t;

export { I18n, initialLocale } from './i18n.svelte.ts';
export { LOCALES, type Locale, type MessageParams, type MessageTree, type Translation } from './message-types.ts';
