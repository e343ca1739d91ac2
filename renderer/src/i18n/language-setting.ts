/**
 * The UI language and the app's `language` setting kept together: the main process draws its menu,
 * tray and dialogs in the stored language, so every switch here is stored there, and the window
 * starts in (and follows) the stored language. The choice is also kept in local storage by
 * `I18n.setLocale`, so the first paint is already in the right language.
 */
import type { RelayDeskApi, Settings } from '../api/relay-desk.ts';
import type { I18n } from './i18n.svelte.ts';
import { LOCALES, type Locale } from './message-types.ts';

function isLocale(value: unknown): value is Locale {
  return (LOCALES as readonly unknown[]).includes(value);
}

export class LanguageSettingSync {
  /** Set once the person switched here: a settings answer that was sent before must not undo it. */
  #switched = false;

  constructor(
    private readonly api: Pick<RelayDeskApi, 'getSettings' | 'updateSettings' | 'onSettingsChanged'>,
    private readonly i18n: I18n,
    /** The language chosen in this window before the setting existed (carried over once). */
    private readonly stored: () => Locale | null = () => null,
  ) {}

  /** Take the stored language now and whenever the settings change; returns the unsubscribe. */
  start(): () => void {
    void this.api.getSettings().then((r) => {
      if (!r.ok || this.#switched) return;
      const language = r.value.language;
      if (isLocale(language)) this.follow(r.value);
      else if (language === 'system') {
        const earlier = this.stored();
        if (earlier) void this.api.updateSettings({ language: earlier });
      }
    });
    return this.api.onSettingsChanged((s) => this.follow(s));
  }

  /** The person picked a language: show it and store it as the app's setting. */
  async switchTo(locale: Locale): Promise<void> {
    this.#switched = true;
    this.i18n.setLocale(locale);
    const r = await this.api.updateSettings({ language: locale });
    if (!r.ok) console.warn(`language: the setting was not stored (${r.error.message})`);
  }

  private follow(settings: Settings): void {
    if (isLocale(settings.language) && settings.language !== this.i18n.locale) this.i18n.setLocale(settings.language);
  }
}
