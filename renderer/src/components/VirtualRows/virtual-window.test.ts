import { describe, expect, it } from 'vitest';
import { rowWindow, scrollTopFor } from './virtual-window.ts';

describe('virtual window', () => {
  it('renders only the visible rows plus overscan', () => {
    const w = rowWindow(100_000, 30, 30 * 5000, 600, 8);
    expect(w.start).toBe(5000 - 8);
    expect(w.end).toBe(5000 + 21 + 8);
    expect(w.offsetY).toBe((5000 - 8) * 30);
    expect(w.totalHeight).toBe(3_000_000);
  });
  it('clamps at both ends and handles an empty list', () => {
    expect(rowWindow(10, 30, -100, 600).start).toBe(0);
    expect(rowWindow(10, 30, 99_999, 600).end).toBe(10);
    expect(rowWindow(0, 30, 0, 600)).toEqual({ start: 0, end: 0, offsetY: 0, totalHeight: 0 });
  });
  it('scrolls a row into view only when needed', () => {
    expect(scrollTopFor(10, 30, 0, 600)).toBe(0);
    expect(scrollTopFor(30, 30, 0, 600)).toBe(30 * 31 - 600);
    expect(scrollTopFor(2, 30, 300, 600)).toBe(60);
  });
});
