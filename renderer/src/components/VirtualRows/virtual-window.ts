/**
 * The arithmetic of a virtualized list with a fixed row height: which rows to render for a scroll
 * position, and where the first of them sits. Only these rows exist in the DOM, so 100 000 rows cost
 * no more than a screenful.
 */

/** The slice of rows to render. */
export interface RowWindow {
  /** First row index to render (inclusive). */
  readonly start: number;
  /** Row index after the last one to render (exclusive). */
  readonly end: number;
  /** Pixel offset of row `start` from the top of the list. */
  readonly offsetY: number;
  /** Height of the whole list in pixels. */
  readonly totalHeight: number;
}

/** Browsers cap element heights (Chromium ~33.5 M px); 100 000 × 32 px rows are far below that. */
export const MAX_SCROLL_HEIGHT = 30_000_000;

/** The rows visible at `scrollTop` in a viewport of `viewportHeight`, plus `overscan` rows each side. */
export function rowWindow(total: number, rowHeight: number, scrollTop: number, viewportHeight: number, overscan = 8): RowWindow {
  const totalHeight = Math.min(total * rowHeight, MAX_SCROLL_HEIGHT);
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0, offsetY: 0, totalHeight: 0 };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, totalHeight - viewportHeight)));
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(total, first + visible + overscan);
  return { start, end, offsetY: start * rowHeight, totalHeight };
}

/** The scrollTop that brings row `index` into view (unchanged when it already is). */
export function scrollTopFor(index: number, rowHeight: number, scrollTop: number, viewportHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewportHeight) return top + rowHeight - viewportHeight;
  return scrollTop;
}
