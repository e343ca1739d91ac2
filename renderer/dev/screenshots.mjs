// DEV STAND-IN ONLY: screenshots of pages served by serve-dev.mjs, in en/de and light/dark.
// Usage: node renderer/dev/screenshots.mjs <baseUrl> <outDir> <route>[,<route>…] [--actions=name]
import { chromium } from 'playwright-core';

const [base, outDir, routesArg, ...flags] = process.argv.slice(2);
const routes = (routesArg ?? '#/i/local/mail-general').split(',');
const only = flags.find((f) => f.startsWith('--only='))?.slice(7);
const width = Number(flags.find((f) => f.startsWith('--width='))?.slice(8) ?? 1360);
const height = Number(flags.find((f) => f.startsWith('--height='))?.slice(9) ?? 900);
const fullPage = flags.includes('--full');
const scripts = flags.filter((f) => f.startsWith('--eval=')).map((f) => f.slice(7));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  for (const scheme of ['light', 'dark']) {
    for (const locale of ['en', 'de']) {
      const combo = `${locale}-${scheme}`;
      if (only && !only.split('+').includes(combo)) continue;
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height }, locale: locale === 'de' ? 'de-DE' : 'en-US' });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' || m.type() === 'warning' ? errors.push(`${m.type()}: ${m.text()}`) : undefined);
      await page.addInitScript((l) => localStorage.setItem('relayDesk.locale', l), locale);
      for (const route of routes) {
        await page.goto(`${base}/dev/index.html${route}`);
        await page.waitForTimeout(700);
        for (const s of scripts) {
          await page.evaluate(s);
          await page.waitForTimeout(500);
        }
        const name = route.replace(/^#\//, '').replace(/[^a-z0-9-]+/gi, '_');
        await page.screenshot({ path: `${outDir}/${name}.${combo}.png`, fullPage });
      }
      if (errors.length) console.log(combo, errors.join('\n'));
      await context.close();
    }
  }
} finally {
  await browser.close();
}
