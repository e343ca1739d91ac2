/**
 * The run-time language of the UI: `t()` with parameters and plurals, and locale-aware formatting of
 * numbers, dates and durations with Intl. The locale is reactive state, so switching it re-renders
 * every string that went through `t()` or a formatter.
 */
import { catalog as appCatalog, type Catalog } from './catalog.ts';
import { LOCALES, type Locale, type MessageParams } from './message-types.ts';

const STORAGE_KEY = 'relayDesk.locale';

/** The choice saved by `setLocale` in this browser profile, if any. */
export function savedLocale(storage: Pick<Storage, 'getItem'> | null): Locale | null {
  let saved: string | null | undefined;
  try {
    saved = storage?.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
  return saved && (LOCALES as readonly string[]).includes(saved) ? (saved as Locale) : null;
}

/** Pick the start locale: the saved choice, else the system language, else English. */
export function initialLocale(storage: Pick<Storage, 'getItem'> | null, languages: readonly string[]): Locale {
  const saved = savedLocale(storage);
  if (saved) return saved;
  for (const lang of languages) {
    const base = lang.toLowerCase().split('-')[0];
    if ((LOCALES as readonly string[]).includes(base ?? '')) return base as Locale;
  }
  return 'en';
}

export class I18n {
  #locale = $state<Locale>('en');
  readonly #catalog: Catalog;
  readonly #storage: Pick<Storage, 'setItem'> | null;
  readonly #missing = new Set<string>();

  constructor(options: { catalog?: Catalog; locale?: Locale; storage?: Pick<Storage, 'setItem'> | null } = {}) {
    this.#catalog = options.catalog ?? appCatalog;
    this.#locale = options.locale ?? 'en';
    this.#storage = options.storage ?? null;
  }

  /** The current locale (reactive). */
  get locale(): Locale {
    return this.#locale;
  }

  /** Switch the language at run time; the choice is remembered. */
  setLocale(locale: Locale): void {
    this.#locale = locale;
    try {
      this.#storage?.setItem(STORAGE_KEY, locale);
    } catch {
      // Storage may be unavailable (private mode, tests); the choice then lasts for this session.
    }
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
  }

  /** Whether a key exists in the current locale. */
  has(key: string): boolean {
    return this.#catalog.messages[this.#locale].has(key);
  }

  /** The message for `key` with `{name}` placeholders filled; plural forms are chosen by `count`. */
  t = (key: string, params?: MessageParams): string => {
    const locale = this.#locale;
    const message = this.#catalog.messages[locale].get(key) ?? this.#catalog.messages.en.get(key);
    if (message === undefined) {
      if (!this.#missing.has(key)) {
        this.#missing.add(key);
        console.warn(`i18n: missing message "${key}"`);
      }
      return key;
    }
    let text: string;
    if (typeof message === 'string') text = message;
    else {
      const count = typeof params?.['count'] === 'number' ? params['count'] : 0;
      const category = cached('plural', locale, undefined, () => new Intl.PluralRules(locale)).select(count) as keyof typeof message;
      text = (count === 0 ? message.zero : undefined) ?? message[category] ?? message.other;
    }
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = params[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? this.number(value) : value;
    });
  };

  /** A number for this locale. */
  number = (value: number, options?: Intl.NumberFormatOptions): string => {
    const locale = this.#locale;
    return cached('number', locale, options, () => new Intl.NumberFormat(locale, options)).format(value);
  };

  /** A date and time (epoch ms) for this locale. */
  dateTime = (epochMs: number, options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'medium' }): string => {
    const locale = this.#locale;
    return cached('dateTime', locale, options, () => new Intl.DateTimeFormat(locale, options)).format(new Date(epochMs));
  };

  /** A date (epoch ms) for this locale. */
  date = (epochMs: number): string => this.dateTime(epochMs, { dateStyle: 'medium' });

  /** A time of day (epoch ms) for this locale. */
  time = (epochMs: number): string => this.dateTime(epochMs, { timeStyle: 'medium' });

  /** "5 minutes ago" / "in 30 seconds", relative to `now`. */
  relativeTime = (epochMs: number, now = Date.now()): string => {
    const seconds = Math.round((epochMs - now) / 1000);
    const abs = Math.abs(seconds);
    const locale = this.#locale;
    const rtf = cached('relative', locale, undefined, () => new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }));
    if (abs < 60) return rtf.format(seconds, 'second');
    if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
    if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
    return rtf.format(Math.round(seconds / 86_400), 'day');
  };

  /** A duration in seconds as its two largest units ("2 h 5 min", "3 d 4 h"). */
  duration = (totalSeconds: number): string => {
    const s = Math.max(0, Math.round(totalSeconds));
    const parts: Array<[number, Intl.NumberFormatOptions['unit']]> = [
      [Math.floor(s / 86_400), 'day'],
      [Math.floor((s % 86_400) / 3600), 'hour'],
      [Math.floor((s % 3600) / 60), 'minute'],
      [s % 60, 'second'],
    ];
    const first = parts.findIndex(([n]) => n > 0);
    if (first === -1) return this.number(0, { style: 'unit', unit: 'second', unitDisplay: 'short' });
    return parts
      .slice(first, first + 2)
      .filter(([n]) => n > 0)
      .map(([n, unit]) => this.number(n, { style: 'unit', unit, unitDisplay: 'short' }))
      .join(' ');
  };

  /** A byte count with a binary-ish unit ("1.5 MB"); below 1 kB the unit is written out ("450 bytes", not "450 byte"). */
  bytes = (value: number): string => {
    const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
    let v = value;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return this.number(v, { style: 'unit', unit: units[i], unitDisplay: i === 0 ? 'long' : 'short', maximumFractionDigits: i === 0 ? 0 : 1 });
  };

  /**
   * How to write the hour of a clock time: two digits on a 24-hour clock ("09:05", as columns line
   * up), as a plain number on a 12-hour one ("9:05 AM", not "09:05 AM").
   */
  get hourStyle(): '2-digit' | 'numeric' {
    const locale = this.#locale;
    const cycle = cached('dateTime', locale, { hour: 'numeric' }, () => new Intl.DateTimeFormat(locale, { hour: 'numeric' })).resolvedOptions().hourCycle;
    return cycle === 'h11' || cycle === 'h12' ? 'numeric' : '2-digit';
  }
}

/**
 * Intl formatters are costly to build (tens of microseconds each) and the pages format thousands of
 * values per frame while scrolling: keep one per locale and options.
 */
const formatterCache = new Map<string, unknown>();
function cached<T>(kind: string, locale: string, options: object | undefined, make: () => T): T {
  const key = `${kind}|${locale}|${options ? JSON.stringify(options) : ''}`;
  let f = formatterCache.get(key) as T | undefined;
  if (f === undefined) {
    f = make();
    formatterCache.set(key, f);
  }
  return f;
}
