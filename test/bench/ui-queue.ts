/**
 * Benchmark (not a test) of the UI in Debian's Chromium against the real services and a real local
 * relay with a big queue:
 *   npx tsx test/bench/ui-queue.ts [rows=100000] [--json FILE]
 * Measures: first paint of the app shell (cold page load), time until the Queue page shows its first
 * rows and until all rows are loaded, sorting all rows, scroll frame times while scrolling through the
 * whole list (target: no frame over 50 ms), and the renderer's memory (JS heap, DOM nodes).
 * Needs the built renderer (npm run build:renderer) and the relay bundle (npm run build:relay).
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startE2eApp } from '../e2e/harness/e2e-app.ts';
import type { PageWindow } from '../e2e/harness/page-globals.ts';
import { goto, main, screenshot, settle, waitForText } from '../e2e/harness/ui.ts';
import { fillSpool } from './ui-spool-fill.ts';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const rows = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--json') ?? 100_000);
const fmt = new Intl.NumberFormat('en-US');

interface FrameStats {
  frames: number;
  maxMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  over50: number;
  longTasks: number;
  longestTaskMs: number;
}

/** Scroll the grid from top to bottom in `durationMs` (plus some jumps) and record every frame. */
async function scrollFrames(page: Page, durationMs: number): Promise<FrameStats> {
  return page.evaluate(async (duration) => {
    const w = globalThis as unknown as PageWindow;
    const grid = w.document.querySelector('[role="grid"]');
    if (!grid) throw new Error('no grid');
    const longTasks: number[] = [];
    const obs = new w.PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    obs.observe({ type: 'longtask', buffered: false });
    const deltas: number[] = [];
    const max = grid.scrollHeight - grid.clientHeight;
    await new Promise<void>((resolve) => {
      const start = w.performance.now();
      let last = start;
      let frame = 0;
      const step = (now: number): void => {
        deltas.push(now - last);
        last = now;
        frame++;
        const t = (now - start) / duration;
        // Mostly a steady sweep, every 30th frame a jump to a random place (a dragged scrollbar).
        grid.scrollTop = frame % 30 === 0 ? Math.random() * max : Math.min(1, t) * max;
        if (t < 1) w.requestAnimationFrame(step);
        else resolve();
      };
      w.requestAnimationFrame(step);
    });
    // Let the last frames' long tasks arrive.
    await new Promise<void>((r) => w.setTimeout(r, 100));
    obs.disconnect();
    const sorted = deltas.slice(1).sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    return {
      frames: sorted.length,
      maxMs: sorted[sorted.length - 1] ?? 0,
      p50Ms: q(0.5),
      p95Ms: q(0.95),
      p99Ms: q(0.99),
      over50: sorted.filter((d) => d > 50).length,
      longTasks: longTasks.length,
      longestTaskMs: Math.max(0, ...longTasks),
    };
  }, durationMs);
}

async function metrics(page: Page): Promise<Record<string, number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('Performance.enable');
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

const tFill = performance.now();
const app = await startE2eApp({
  prepare: (dataDir) => fillSpool(dataDir, rows),
  deps: { localRelay: { startTimeoutMs: 180_000 } },
  noWait: true,
});
const results: Record<string, number> = {};
try {
  const { waitFor } = await import('../support/wait-for.ts');
  await waitFor('the local relay with its queue', () => app.services.local.state.status === 'connected', 180_000);
  results['spool fill + relay start (s)'] = (performance.now() - tFill) / 1000;
  const page = app.page;
  // tsx keeps function names with a __name() helper that page.evaluate'd functions then call.
  const nameShim = 'globalThis.__name = globalThis.__name || ((f) => f);';
  await page.addInitScript(nameShim);
  await page.evaluate(nameShim);

  // First paint of the app shell: a cold load of the page (the bridge script is already installed).
  await goto(page, '/app/fleet');
  await page.reload({ waitUntil: 'load' });
  await page.locator('aside').first().waitFor();
  const paint = await page.evaluate(() => {
    const perf = (globalThis as unknown as PageWindow).performance;
    const fcp = perf.getEntriesByName('first-contentful-paint')[0];
    const fp = perf.getEntriesByName('first-paint')[0];
    const nav = perf.getEntriesByType('navigation')[0];
    return { fp: fp?.startTime ?? NaN, fcp: fcp?.startTime ?? NaN, domContentLoaded: nav?.domContentLoadedEventEnd ?? NaN };
  });
  await waitForText(page.locator('aside'), 'Connected');
  const shellReady = await page.evaluate(() => (globalThis as unknown as PageWindow).performance.now());
  results['first paint (ms)'] = paint.fp;
  results['first contentful paint (ms)'] = paint.fcp;
  results['shell with live relay state (ms)'] = shellReady;

  // The Queue page with every row.
  const t0 = Date.now();
  await goto(page, '/i/local/queue');
  await page.locator('[role="grid"] [role="row"][data-index="0"]').waitFor({ timeout: 60_000 });
  results['queue: first rows visible (ms)'] = Date.now() - t0;
  const total = fmt.format(rows);
  await waitForText(page.getByTestId('queue-total'), `${total} messages match`, 60_000);
  await page.waitForFunction(() => !(globalThis as unknown as PageWindow).document.querySelector('main [role="progressbar"]'), undefined, { timeout: 300_000 });
  results[`queue: all ${fmt.format(rows)} rows loaded (ms)`] = Date.now() - t0;
  await screenshot(page, `bench-queue-${rows}-en`);
  results['queue: rows in the DOM'] = await page.locator('[role="grid"] [role="row"][data-index]').count();
  results['control calls over the bridge so far'] = app.server.callCounts.get('control.call') ?? 0;

  const before = await metrics(page);
  results['renderer JS heap after load (MiB)'] = (before.JSHeapUsedSize ?? 0) / 1024 / 1024;
  results['renderer DOM nodes'] = before.Nodes ?? 0;

  const scroll = await scrollFrames(page, 5000);
  results['scroll: frames'] = scroll.frames;
  results['scroll: frame time p50 (ms)'] = scroll.p50Ms;
  results['scroll: frame time p95 (ms)'] = scroll.p95Ms;
  results['scroll: frame time p99 (ms)'] = scroll.p99Ms;
  results['scroll: frame time max (ms)'] = scroll.maxMs;
  results['scroll: frames over 50 ms'] = scroll.over50;
  results['scroll: long tasks (>50 ms)'] = scroll.longTasks;

  // Sorting every row by sender, then back.
  const ts = Date.now();
  await main(page).getByRole('button', { name: /^Sender/ }).click();
  await page.waitForFunction(() => (globalThis as unknown as PageWindow).document.querySelector('[role="columnheader"][aria-sort="ascending"]')?.textContent?.includes('Sender'));
  await settle(page);
  results['sort all rows by sender (ms)'] = Date.now() - ts;
  const scrollSorted = await scrollFrames(page, 2000);
  results['scroll sorted: frame time max (ms)'] = scrollSorted.maxMs;

  const after = await metrics(page);
  results['renderer JS heap after scrolling (MiB)'] = (after.JSHeapUsedSize ?? 0) / 1024 / 1024;
  results['renderer DOM nodes after scrolling'] = after.Nodes ?? 0;
} finally {
  await app.close();
}

const width = Math.max(...Object.keys(results).map((k) => k.length));
console.log(`UI benchmark: ${fmt.format(rows)} queued messages, Chromium headless, real relay through the e2e bridge`);
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(width)}  ${Number.isInteger(v) ? fmt.format(v) : v.toFixed(1)}`);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ rows, results }, null, 2));
