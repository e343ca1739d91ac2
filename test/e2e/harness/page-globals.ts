/**
 * The few browser globals that functions run with `page.evaluate` use, typed here because the
 * project's tsconfig has no DOM library (it would leak into the Node code). Inside such a function:
 * `const w = globalThis as unknown as PageWindow;`.
 */

/** An element as far as the tests touch it. */
export interface PageElement {
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  readonly textContent: string | null;
  cloneNode(deep: boolean): PageElement;
  remove(): void;
  querySelectorAll(selector: string): Iterable<PageElement>;
}

export interface PagePerformanceEntry {
  readonly name: string;
  readonly startTime: number;
  readonly duration: number;
}

export interface PageWindow {
  location: { hash: string };
  document: {
    body: PageElement;
    documentElement: { lang: string };
    querySelector(selector: string): PageElement | null;
  };
  requestAnimationFrame(callback: (now: number) => void): number;
  setTimeout(callback: () => void, ms: number): number;
  performance: {
    now(): number;
    getEntriesByName(name: string): PagePerformanceEntry[];
    getEntriesByType(type: string): Array<PagePerformanceEntry & { domContentLoadedEventEnd?: number }>;
  };
  PerformanceObserver: new (callback: (list: { getEntries(): PagePerformanceEntry[] }) => void) => {
    observe(options: { type: string; buffered?: boolean }): void;
    disconnect(): void;
  };
}
