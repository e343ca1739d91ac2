import { describe, expect, it } from 'vitest';
import { numberToText, parseNumberText } from './number-text.ts';

describe('number fields', () => {
  it('read what people type, with a decimal point or comma', () => {
    expect(parseNumberText('25')).toBe(25);
    expect(parseNumberText(' 2.5 ')).toBe(2.5);
    expect(parseNumberText('2,5')).toBe(2.5);
    expect(parseNumberText('')).toBeNull();
    expect(parseNumberText('12abc')).toBeNaN();
    expect(parseNumberText('1,000.5')).toBeNaN();
  });

  it('show numbers with the locale’s decimal mark', () => {
    expect(numberToText(2.5, 'de')).toBe('2,5');
    expect(numberToText(2.5, 'en')).toBe('2.5');
    expect(numberToText(null, 'en')).toBe('');
  });
});
