/**
 * Formatting for the queue's rows. The app's i18n formatters build a new Intl object per call, which
 * is fine for a page of figures but too slow for a grid that re-renders 30 rows per scroll frame:
 * these keep one Intl object per locale and unit. The output matches i18n.duration / bytes / number.
 */
type Unit = 'second' | 'minute' | 'hour' | 'day' | 'byte' | 'kilobyte' | 'megabyte' | 'gigabyte' | 'terabyte';

export interface RowFormat {
  number(n: number): string;
  /** Like i18n.duration: the two largest units ("2 h 5 min"). */
  duration(seconds: number): string;
  /** Like i18n.bytes ("1.5 MB"). */
  bytes(n: number): string;
  /** Like i18n.relativeTime ("in 5 minutes"). */
  relative(epochMs: number, now: number): string;
  dateTime(epochMs: number): string;
}

const cache = new Map<string, RowFormat>();

export function rowFormat(locale: string): RowFormat {
  const hit = cache.get(locale);
  if (hit) return hit;
  const plain = new Intl.NumberFormat(locale);
  const units = new Map<string, Intl.NumberFormat>();
  const unit = (u: Unit, fraction = 0): Intl.NumberFormat => {
    const key = `${u}/${fraction}`;
    let f = units.get(key);
    // As i18n.bytes: "450 bytes", not the short form's "450 byte".
    const unitDisplay = u === 'byte' ? 'long' : 'short';
    if (!f) units.set(key, (f = new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay, maximumFractionDigits: fraction })));
    return f;
  };
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const dtf = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
  const f: RowFormat = {
    number: (n) => plain.format(n),
    duration(totalSeconds) {
      const s = Math.max(0, Math.round(totalSeconds));
      const parts: Array<[number, Unit]> = [
        [Math.floor(s / 86_400), 'day'],
        [Math.floor((s % 86_400) / 3600), 'hour'],
        [Math.floor((s % 3600) / 60), 'minute'],
        [s % 60, 'second'],
      ];
      const first = parts.findIndex(([n]) => n > 0);
      if (first === -1) return unit('second').format(0);
      return parts
        .slice(first, first + 2)
        .filter(([n]) => n > 0)
        .map(([n, u]) => unit(u).format(n))
        .join(' ');
    },
    bytes(value) {
      const names: Unit[] = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
      let v = value;
      let i = 0;
      while (v >= 1024 && i < names.length - 1) {
        v /= 1024;
        i++;
      }
      return unit(names[i]!, i === 0 ? 0 : 1).format(v);
    },
    relative(epochMs, now) {
      const seconds = Math.round((epochMs - now) / 1000);
      const abs = Math.abs(seconds);
      if (abs < 60) return rtf.format(seconds, 'second');
      if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
      if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
      return rtf.format(Math.round(seconds / 86_400), 'day');
    },
    dateTime: (ms) => dtf.format(ms),
  };
  cache.set(locale, f);
  return f;
}
