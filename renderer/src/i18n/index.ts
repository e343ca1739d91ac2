/**
 * The app's one I18n instance. Components import `t` (and the formatters) from here; the locale is
 * reactive, so strings re-render when it changes. Tests may call `i18n.setLocale('de')`.
 */
import { I18n, initialLocale, savedLocale } from './i18n.svelte.ts';
import { wordMessage, type SaidMessage } from './message-text.ts';
import type { Locale } from './message-types.ts';

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

/** A message from the main process (an IpcError, an instance's state line) in the user's language; see message-text.ts. */
export const messageText = (said: SaidMessage): string => wordMessage(said, i18n);

/** The language last chosen in this window's storage (null when none was chosen here). */
export function storedLocale(): Locale | null {
  return savedLocale(storage());
}

export { I18n, initialLocale, savedLocale } from './i18n.svelte.ts';
export { LanguageSettingSync } from './language-setting.ts';
export { wordMessage, type SaidMessage } from './message-text.ts';
export { LOCALES, type Locale, type MessageParams, type MessageTree, type Translation } from './message-types.ts';
