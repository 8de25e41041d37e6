// SPDX-License-Identifier: Apache-2.0
// The status page in a real browser: Debian's Chromium, headless, driven by Playwright
// (playwright-core from the npm registry; it downloads no browser). Loads the overview and the
// site pages over the data of ../fixture.sql, checks the states and uptime figures a reader
// sees, that a site named <script>alert(1)</script> shows as text and runs nothing, and saves
// screenshots. Usage: node status_page_browser_test.mjs BASE_URL SCREENSHOT_DIR
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node status_page_browser_test.mjs BASE_URL SCREENSHOT_DIR');
  process.exit(64);
}
mkdirSync(out, { recursive: true });
const hostile = '<script>alert(1)</script>';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const dialogs = [];
  const errors = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  // The overview: down first, then degraded, then up, with the 24-hour uptime.
  await page.goto(`${base}/`);
  const rows = page.locator('table[data-testid=sites] tbody tr');
  const seen = await rows.evaluateAll((trs) => trs.map((tr) => [
    tr.dataset.site,
    tr.querySelector('[data-state]').dataset.state,
    tr.querySelector('[data-field=uptime_24h]').textContent,
  ]));
  assert.deepEqual(seen, [
    ['bravo', 'down', '91.67%'],
    ['charlie', 'degraded', '—'],
    [hostile, 'up', '—'],
    ['alpha', 'up', '100.00%'],
  ]);
  assert.match(await page.textContent('[data-testid=counts]'), /2 up\s*1 down\s*1 degraded/);
  // The hostile name is a link's text, not markup.
  const link = page.locator('a.name', { hasText: 'alert(1)' });
  assert.equal(await link.textContent(), hostile);
  assert.equal(await page.locator('script').count(), 0);
  await page.screenshot({ path: `${out}/overview.png`, fullPage: true });

  // The form filters by state.
  await page.selectOption('select[name=state]', 'down');
  await page.click('button[type=submit]');
  await page.waitForURL(/state=down/);
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getAttribute('data-site'), 'bravo');

  // A site's page, reached by its link.
  await page.click('a.name:text-is("bravo")');
  await page.waitForURL(/\/sites\/bravo$/);
  const figures = {};
  for (const id of ['uptime-24h', 'uptime-7d', 'uptime-30d', 'uptime-90d']) {
    figures[id] = await page.textContent(`[data-testid=${id}]`);
  }
  assert.deepEqual(figures, {
    'uptime-24h': '91.67%', 'uptime-7d': '98.81%', 'uptime-30d': '99.72%', 'uptime-90d': '99.91%',
  });
  assert.match(await page.textContent('[data-testid=state]'), /down/);
  assert.match(await page.textContent('[data-testid=last-error]'), /Connection refused/);
  assert.equal(await page.locator('svg[data-testid=uptime-bar] rect').count(), 90);
  assert.match(await page.textContent('table[data-testid=incidents]'), /3 failed checks in a row/);
  await page.screenshot({ path: `${out}/site-down.png`, fullPage: true });

  await page.goto(`${base}/sites/alpha`);
  assert.equal(await page.textContent('[data-testid=uptime-90d]'), '100.00%');
  assert.equal(await page.textContent('[data-testid=tls]'), '2027-03-01');
  await page.screenshot({ path: `${out}/site-up.png`, fullPage: true });

  // The hostile site's own page: its name is the heading's text; no script ran.
  await page.goto(`${base}/`);
  await link.click();
  assert.equal(await page.textContent('[data-testid=site-name]'), hostile);
  assert.equal(await page.locator('script').count(), 0);
  await page.screenshot({ path: `${out}/site-hostile.png`, fullPage: true });

  assert.deepEqual(dialogs, [], 'a dialog opened: a script ran');
  assert.deepEqual(errors, [], 'the page logged errors');
  console.log(`status page browser test: passed; screenshots in ${out}`);
} finally {
  await browser.close();
}
