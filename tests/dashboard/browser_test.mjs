// The dashboard in headless Chromium (Debian's chromium driven by playwright-core): the page
// loads, every chart holds the same numbers as the same query through `orderlake query`, a
// filter changes the figures correctly and lands in the URL, a new commit reaches the open
// page without a reload, the SQL console runs a sample query. Each test saves a screenshot
// under ./screenshots/ (ctest runs in the build tree).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  tempDir, buildLake, addCommit, query, serve, launchBrowser, screenshotDir, assertNear, assertNearArrays,
} from './lib.mjs';

let dir, lake, server, context, page;
const shots = screenshotDir();

before(async () => {
  dir = tempDir('dash-browser');
  ({ lake } = buildLake(dir, { count: 4000, seed: 7 }));
  server = await serve(lake);
  context = await launchBrowser(path.join(dir, 'chromium-profile'));
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  if (context) await context.close();
  if (server) await server.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function waitRendered(p, minVersion = 1) {
  await p.waitForFunction((v) => Number(document.body.dataset.version || 0) >= v, minVersion, { timeout: 30000 });
}

function where(f) {
  const parts = [];
  if (f.from) parts.push(`InvoiceDateOnly >= DATE '${f.from}'`);
  if (f.to) parts.push(`InvoiceDateOnly <= DATE '${f.to}'`);
  if (f.country) parts.push(`Country IN (${f.country.map((c) => `'${c.replace(/'/g, "''")}'`).join(', ')})`);
  if (f.region) parts.push(`Region IN (${f.region.map((c) => `'${c.replace(/'/g, "''")}'`).join(', ')})`);
  return parts.length ? parts.join(' AND ') : 'true';
}

// What the page shows, read from the charts' own options and the DOM.
async function pageFigures(p) {
  return p.evaluate(() => {
    const o = (name) => window.orderlake.charts[name].getOption();
    const daily = o('daily'), heat = o('heatmap'), hourly = o('hourly'), aov = o('aov');
    return {
      daily: { dates: daily.xAxis[0].data, orders: daily.series[0].data, revenue: daily.series[1].data },
      heat: { regions: heat.yAxis[0].data, cells: heat.series[0].data },
      hourly: hourly.series[0].data,
      aov: { countries: aov.yAxis[0].data, values: aov.series[0].data },
      summary: window.orderlake.data.summary,
      cards: { orders: document.getElementById('k-orders').textContent },
      top: [...document.querySelectorAll('#top-orders tbody tr')].map((tr) => tr.title.replace('OrderID ', '')),
      quality: Object.fromEntries([...document.querySelectorAll('#quality dd[data-key]')].map((d) => [d.dataset.key, d.textContent])),
    };
  });
}

// Every visual against `orderlake query` under the same filters.
function checkFigures(fig, f) {
  const w = where(f);
  const daily = query(lake, `SELECT CAST(InvoiceDateOnly AS VARCHAR) AS d, count(*) AS n, sum(TotalAmountUSD) AS r FROM orders WHERE ${w} GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(fig.daily.dates, daily.map((r) => r.d), 'daily dates');
  assert.deepEqual(fig.daily.orders, daily.map((r) => r.n), 'daily orders');
  assertNearArrays(assert, fig.daily.revenue, daily.map((r) => r.r), 'daily revenue');

  const heat = query(lake, `SELECT Region AS g, InvoiceHour AS h, count(*) AS n FROM orders WHERE ${w} GROUP BY 1, 2 ORDER BY 1, 2`);
  const regions = [...new Set(heat.map((r) => r.g))].sort();
  assert.deepEqual(fig.heat.regions, regions, 'heatmap regions');
  const cells = heat.map((r) => [r.h, regions.indexOf(r.g), r.n]);
  assert.deepEqual(fig.heat.cells.map((c) => (Array.isArray(c) ? c : c.value)), cells, 'heatmap cells');

  const hourly = query(lake, `SELECT InvoiceHour AS h, count(*) AS n FROM orders WHERE ${w} GROUP BY 1 ORDER BY 1`);
  const byHour = new Array(24).fill(0);
  for (const r of hourly) byHour[r.h] = r.n;
  assert.deepEqual(fig.hourly, byHour, 'orders by hour');

  const aov = query(lake, `SELECT Country AS c, avg(TotalAmountUSD) AS a FROM orders WHERE ${w} GROUP BY 1 ORDER BY 2 DESC, 1`);
  assert.deepEqual(fig.aov.countries, aov.map((r) => r.c), 'AOV countries');
  assertNearArrays(assert, fig.aov.values, aov.map((r) => r.a), 'AOV values');

  const [s] = query(lake, `SELECT count(*) AS n, sum(TotalAmountUSD) AS r, avg(TotalAmountUSD) AS a, count(*) FILTER (WHERE OrderTag = 'High') AS h FROM orders WHERE ${w}`);
  assert.equal(fig.summary.orders, s.n, 'headline orders');
  assert.equal(fig.cards.orders, new Intl.NumberFormat('en-US').format(s.n), 'orders card text');
  assertNear(assert, fig.summary.revenue_usd, s.r, 'headline revenue');
  assertNear(assert, fig.summary.avg_order_value_usd, s.a, 'headline AOV');
  assert.equal(fig.summary.high_orders, s.h, 'headline High orders');
  assertNear(assert, fig.summary.high_share, s.h / s.n, 'headline High share');

  const top = query(lake, `SELECT OrderID FROM orders WHERE OrderTag = 'High' AND ${w} ORDER BY TotalAmountUSD DESC, OrderID LIMIT 10`);
  assert.deepEqual(fig.top, top.map((r) => r.OrderID), 'top high-value orders');
  return s;
}

function qualityFromRuns() {
  const runsDir = path.join(lake, '_orderlake', 'orders', 'runs');
  const q = { records: 0, kept: 0, runs: 0 };
  for (const f of fs.readdirSync(runsDir).filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
    const j = JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8'));
    q.records += j.records; q.kept += j.kept; q.runs += 1;
  }
  return q;
}

test('the page loads and every chart equals orderlake query', async () => {
  const res = await page.goto(server.url);
  assert.equal(res.status(), 200);
  await waitRendered(page);
  const fig = await pageFigures(page);
  const s = checkFigures(fig, {});
  assert.ok(s.n > 1000, 'the lake has rows');
  const q = qualityFromRuns();
  const nf = new Intl.NumberFormat('en-US');
  assert.equal(fig.quality.records, nf.format(q.records), 'data quality: records read');
  assert.equal(fig.quality.kept, nf.format(q.kept), 'data quality: kept');
  assert.match(await page.textContent('#freshness-text'), /data as of .* updated .* ago/);
  // ECharts came from the binary, not from a CDN.
  const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src));
  assert.ok(scripts.every((s) => s.startsWith(server.base)), 'scripts served by orderlake: ' + scripts);
  await page.screenshot({ path: path.join(shots, 'dashboard-loaded.png'), fullPage: true });
});

test('a filter changes the figures correctly and lands in the URL', async () => {
  await page.goto(server.url);
  await waitRendered(page);
  const before = (await pageFigures(page)).summary.orders;
  await page.selectOption('#f-country', ['France', 'Germany']);
  await page.waitForFunction(() => (document.body.dataset.filters || '').includes('country='), null, { timeout: 30000 });
  await page.evaluate(() => {
    const el = document.getElementById('f-from');
    el.value = '2010-12-02';
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.waitForFunction(() => (document.body.dataset.filters || '').includes('from=2010-12-02'), null, { timeout: 30000 });
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('country'), 'France,Germany');
  assert.equal(url.searchParams.get('from'), '2010-12-02');
  const f = { from: '2010-12-02', country: ['France', 'Germany'] };
  const fig = await pageFigures(page);
  const s = checkFigures(fig, f);
  assert.ok(s.n > 0 && s.n < before, `filtered orders ${s.n} < all ${before}`);
  // The URL is a shareable view: a fresh page opened on it shows the same figures.
  const shared = await context.newPage();
  await shared.goto(page.url());
  await waitRendered(shared);
  const fig2 = await pageFigures(shared);
  checkFigures(fig2, f);
  assert.deepEqual(await shared.evaluate(() => [...document.getElementById('f-country').selectedOptions].map((o) => o.value)), ['France', 'Germany']);
  await page.screenshot({ path: path.join(shots, 'dashboard-filtered.png'), fullPage: true });
  await shared.close();
  // A region filter through the URL.
  await page.goto(server.url + '?region=Asia,Oceania');
  await waitRendered(page);
  checkFigures(await pageFigures(page), { region: ['Asia', 'Oceania'] });
});

test('a new commit reaches the open page without a reload', async () => {
  await page.goto(server.url);
  await waitRendered(page);
  const v0 = Number(await page.evaluate(() => document.body.dataset.version));
  const n0 = (await pageFigures(page)).summary.orders;
  await page.evaluate(() => { window.__notReloaded = true; });
  addCommit(dir, { count: 800, seed: 1234 });
  await page.waitForFunction((v) => Number(document.body.dataset.version) > v, v0, { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
  const fig = await pageFigures(page);
  const s = checkFigures(fig, {});
  assert.ok(s.n > n0, `orders grew: ${n0} -> ${s.n}`);
  assert.equal(fig.summary.orders, s.n);
  const q = qualityFromRuns();
  assert.equal(q.runs, 2);
  assert.equal(fig.quality.runs, '2');
  await page.screenshot({ path: path.join(shots, 'dashboard-live-update.png'), fullPage: true });
});

test('the SQL console runs a sample query', async () => {
  await page.goto(server.url);
  await waitRendered(page);
  await page.waitForSelector('#samples button[data-sample="5"]');
  await page.click('#samples button[data-sample="5"]');  // 5. Orders per hour of the day
  await page.waitForFunction(() => document.getElementById('sql-status').dataset.rows, null, { timeout: 30000 });
  const shown = await page.evaluate(() => ({
    head: [...document.querySelectorAll('#sql-result thead th')].map((t) => t.textContent),
    rows: [...document.querySelectorAll('#sql-result tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)),
  }));
  const want = query(lake, 'SELECT InvoiceHour, COUNT(*) AS order_count FROM tbsm_red_transformed GROUP BY InvoiceHour ORDER BY InvoiceHour');
  assert.deepEqual(shown.head, ['InvoiceHour', 'order_count']);
  assert.deepEqual(shown.rows, want.map((r) => [String(r.InvoiceHour), String(r.order_count)]));
  await page.locator('#sql-console').screenshot({ path: path.join(shots, 'dashboard-sql-console.png') });
  // A write attempt is refused with a clear message on the page.
  await page.fill('#sql', "COPY orders TO '/tmp/orderlake-should-not-exist.csv'");
  await page.click('#sql-run');
  await page.waitForFunction(() => document.getElementById('sql-status').className === 'error', null, { timeout: 30000 });
  assert.match(await page.textContent('#sql-status'), /refused: COPY/);
  assert.ok(!fs.existsSync('/tmp/orderlake-should-not-exist.csv'));
});

test('phone size in a dark room', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url);
  await waitRendered(page);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(17, 21, 28)', 'dark background');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
  await page.screenshot({ path: path.join(shots, 'dashboard-phone-dark.png'), fullPage: true });
});
