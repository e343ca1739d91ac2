/** Parsing of numbers typed into a field, in the user's locale (German "2,5" works as well as "2.5"). */

/** The number in `text`, null for an empty field, NaN when it is not a number. */
export function parseNumberText(text: string): number | null {
  const s = text.trim().replace(/\s/g, '');
  if (s === '') return null;
  const normalised = s.includes(',') && !s.includes('.') ? s.replace(',', '.') : s;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(normalised)) return Number.NaN;
  return Number(normalised);
}

/** A number as the field shows it (decimal comma in German). */
export function numberToText(value: number | null, locale: string): string {
  if (value === null || Number.isNaN(value)) return '';
  return locale === 'de' ? String(value).replace('.', ',') : String(value);
}
