// The dashboard's HTTP API: wrong filters and parameters, SQL errors, write and escape
// attempts through the SQL endpoint (clear errors, nothing changed, nothing read), the
// cache between commits, server-sent events on a new commit, the access token, CSV.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, buildLake, addCommit, query, run, serve, getJson, assertNear } from './lib.mjs';

let dir, lake, server;

before(async () => {
  dir = tempDir('dash-api');
  ({ lake } = buildLake(dir, { count: 3000, seed: 11 }));
  server = await serve(lake);
});

after(async () => {
  if (server) await server.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const sql = (statement, q = '') => getJson(`${server.base}/api/sql${q}`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sql: statement }),
});

// Every file under the lake with its size and modification time.
function tree(root) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { const s = fs.statSync(p); out.push(`${path.relative(root, p)} ${s.size} ${s.mtimeMs}`); }
    }
  };
  walk(root);
  return out.sort();
}

test('wrong filters and parameters get clear 400 errors', async () => {
  const cases = [
    ['/api/daily?from=2010-13-01', /parameter 'from': '2010-13-01' is not a date: expected YYYY-MM-DD/],
    ['/api/summary?to=2010-02-30', /parameter 'to'.*YYYY-MM-DD/],
    ['/api/summary?from=12%2F01%2F2010', /parameter 'from'/],
    ['/api/heatmap?from=2010-12-05&to=2010-12-01', /'to' \(2010-12-01\) is before 'from' \(2010-12-05\)/],
    ['/api/hourly?colour=red', /unknown parameter 'colour' \(this endpoint takes: from, to, country, region, source\)/],
    ['/api/hourly?source=disk', /parameter 'source': 'disk' is neither 'cube' .* nor 'table'/],
    ['/api/quality?source=table', /unknown parameter 'source'/],
    ['/api/aov-by-country?country=', /parameter 'country': empty name/],
    ['/api/summary?country=France,,Spain', /parameter 'country': empty name/],
    ['/api/summary?region=' + 'x'.repeat(101), /parameter 'region': name longer than 100 bytes/],
    ['/api/summary?from=2010-12-01&from=2010-12-02', /parameter 'from' given more than once/],
    ['/api/top-orders?limit=0', /parameter 'limit': 0 is out of range \(1 to 100\)/],
    ['/api/top-orders?limit=ten', /parameter 'limit': 'ten' is not a whole number/],
    ['/api/daily?limit=5', /unknown parameter 'limit'/],
    ['/api/version?from=2010-12-01', /unknown parameter 'from'/],
  ];
  for (const [url, re] of cases) {
    const r = await getJson(server.base + url);
    assert.equal(r.status, 400, url);
    assert.match(r.body.error, re, url);
  }
  const missing = await getJson(server.base + '/api/nope');
  assert.equal(missing.status, 404);
  assert.match(missing.body.error, /no such endpoint: \/api\/nope/);
  const get = await getJson(server.base + '/api/sql');
  assert.equal(get.status, 405);
  assert.match(get.body.error, /use POST/);
  // A quote in a filter value is data, not SQL.
  const inj = await getJson(server.base + "/api/summary?country=" + encodeURIComponent("x') OR true --"));
  assert.equal(inj.status, 200);
  assert.equal(inj.body.data.orders, 0);
});

test('the visual endpoints answer what orderlake query answers', async () => {
  const f = '?from=2010-12-02&to=2010-12-04&region=Europe';
  const w = "InvoiceDateOnly BETWEEN DATE '2010-12-02' AND DATE '2010-12-04' AND Region = 'Europe'";
  const s = (await getJson(server.base + '/api/summary' + f)).body;
  assert.deepEqual(s.filters, { from: '2010-12-02', to: '2010-12-04', region: ['Europe'] });
  const [want] = query(lake, `SELECT count(*) AS n, sum(TotalAmountUSD) AS r FROM orders WHERE ${w}`);
  assert.equal(s.data.orders, want.n);
  assertNear(assert, s.data.revenue_usd, want.r, 'revenue');
  const h = (await getJson(server.base + '/api/hourly' + f)).body.data;
  const hw = query(lake, `SELECT InvoiceHour AS hour, count(*) AS orders FROM orders WHERE ${w} GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(h.map((r) => [r.hour, r.orders]), hw.map((r) => [r.hour, r.orders]));
  const top = (await getJson(server.base + '/api/top-orders?limit=3')).body.data;
  assert.equal(top.length, 3);
  const fc = (await getJson(server.base + '/api/filters')).body.data;
  assert.ok(fc.countries.includes('United Kingdom') && fc.regions.includes('Europe'));
  assert.equal(fc.date_min, '2010-12-01');
  const q = (await getJson(server.base + '/api/quality')).body.data;
  const runs = fs.readdirSync(path.join(lake, '_orderlake/orders/runs')).filter((n) => n.endsWith('.json'));
  const summary = JSON.parse(fs.readFileSync(path.join(lake, '_orderlake/orders/runs', runs[0]), 'utf8'));
  assert.equal(q.records, summary.records);
  assert.deepEqual(q.filtered, summary.filtered);
  assert.deepEqual(q.quarantined, summary.quarantined);
});

test('SQL errors are clear 400s', async () => {
  const cases = [
    ['SELEC 1', /Parser Error: syntax error at or near "SELEC"/],
    ['SELECT nosuchcolumn FROM orders', /Binder Error: .*nosuchcolumn/],
    ['SELECT * FROM nosuchtable', /Catalog Error: .*nosuchtable/],
    ['SELECT 1; SELECT 2', /expected one statement, got 2/],
    ['   ', /no SQL statement given/],
    ['SELECT $1', /parameter/],
  ];
  for (const [s, re] of cases) {
    const r = await sql(s);
    assert.equal(r.status, 400, s);
    assert.match(r.body.error, re, s);
  }
  const bad = await getJson(`${server.base}/api/sql`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"query": 1}' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /"sql"/);
});

test('write attempts and reads outside the lake are refused; nothing changes, nothing is read', async () => {
  const before = tree(lake);
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  const attempts = [
    [`COPY orders TO '${outside}/x.csv'`, /refused: COPY/],
    [`COPY (SELECT 1) TO '${lake}/orders/evil.parquet' (FORMAT parquet)`, /refused: COPY/],
    [`ATTACH '${outside}/x.duckdb' AS x`, /refused: ATTACH/],
    ['INSTALL httpfs', /refused: INSTALL/],
    ['LOAD httpfs', /refused: (INSTALL\/)?LOAD/],
    ["SELECT * FROM read_csv('/etc/passwd')", /Permission Error.*\/etc\/passwd.*can read only the lake/],
    ["SELECT * FROM read_text('/etc/passwd')", /Permission Error/],
    ["SELECT * FROM read_csv_auto('/etc/passwd', header = false)", /Permission Error/],
    [`SELECT * FROM read_parquet('${lake}/../outside/*.parquet')`, /(Permission Error|No files found)/],
    ['CREATE TABLE t AS SELECT 1', /refused: CREATE/],
    ['DROP VIEW orders', /refused: DROP/],
    ["SET enable_external_access = true", /refused: SET/],
    [`EXPORT DATABASE '${outside}/export'`, /refused: EXPORT/],
    ['PRAGMA enable_profiling', /refused: PRAGMA/],
    ['WITH x AS (SELECT 1) INSERT INTO orders SELECT * FROM orders', /(refused|Error)/],
    ['EXPLAIN ANALYZE COPY orders TO \'/tmp/x.csv\'', /refused/],
    // Athena DDL: the dashboard has no catalog to change (orderlake query does).
    [`CREATE EXTERNAL TABLE x (a int) STORED AS PARQUET LOCATION '${outside}'`, /refused: CREATE EXTERNAL TABLE changes the catalog/],
    ['MSCK REPAIR TABLE orders', /refused: MSCK REPAIR TABLE changes the catalog/],
    ["ALTER TABLE orders ADD PARTITION (Country = 'X', InvoiceDateOnly = '2010-12-01')", /refused: ALTER TABLE ADD PARTITION/],
    ['DROP TABLE tbsm_red_transformed', /refused: DROP TABLE changes the catalog/],
  ];
  for (const [s, re] of attempts) {
    const r = await sql(s);
    assert.equal(r.status, 400, s);
    assert.match(r.body.error, re, s);
    assert.ok(!JSON.stringify(r.body).includes('root:x:0:0'), 'nothing of /etc/passwd came back');
  }
  const csv = await sql("SELECT * FROM read_csv('/etc/passwd')", '?format=csv');
  assert.equal(csv.status, 400);
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing written outside the lake');
  assert.deepEqual(tree(lake), before, 'the lake is unchanged');
  // Read-only Athena statements answer.
  const shown = await sql('SHOW TABLES');
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.rows, [['orders'], ['tbsm_red_transformed']]);
  // And the table still answers.
  const ok = await sql('SELECT count(*) AS n FROM orders');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.rows[0][0], query(lake, 'SELECT count(*) AS n FROM orders')[0].n);
});

test('the SQL endpoint answers JSON and CSV like orderlake query', async () => {
  const s = 'SELECT Country, count(*) AS n, round(sum(TotalAmountUSD), 2) AS usd FROM orders GROUP BY Country ORDER BY n DESC, Country';
  const j = await sql(s);
  assert.equal(j.status, 200);
  assert.deepEqual(j.body.columns.map((c) => c.name), ['Country', 'n', 'usd']);
  const want = query(lake, s);
  assert.deepEqual(j.body.rows, want.map((r) => [r.Country, r.n, r.usd]));
  const res = await fetch(`${server.base}/api/sql?format=csv`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: s });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/csv/);
  assert.match(res.headers.get('content-disposition'), /attachment; filename="orderlake-query.csv"/);
  const csvText = await res.text();
  assert.equal(csvText, run(['query', '--lake', lake, '--format', 'csv', s]).stdout);
  const limited = await sql('SELECT * FROM range(50)', '?limit=7');
  assert.equal(limited.body.rows.length, 7);
  assert.equal(limited.body.truncated, true);
  const samples = (await getJson(server.base + '/api/samples')).body;
  assert.equal(samples.length, 12);
  assert.match(samples[0].title, /^1\. Top 10 high-value orders/);
});

// Reads server-sent events until `pred(event)` holds.
async function nextEvent(pred, timeoutMs = 20000) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(server.base + '/api/events', { signal: ctl.signal });
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended');
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (!data) continue;
        const ev = JSON.parse(data);
        if (pred(ev)) { ctl.abort(); return ev; }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

test('answers are cached between commits; a commit is pushed and starts a new version', async () => {
  const url = server.base + '/api/daily?country=United%20Kingdom';
  const a = await getJson(url);
  const b = await getJson(url);
  assert.equal(b.headers.get('x-orderlake-cache'), 'hit');
  assert.deepEqual(b.body, a.body);
  const v = a.body.version.version;
  const first = await nextEvent(() => true);
  assert.equal(first.version, v, 'the stream starts with the current version');
  const pushed = nextEvent((ev) => ev.version > v);
  addCommit(dir, { count: 400, seed: 77 });
  const ev = await pushed;
  assert.ok(ev.version > v);
  assert.equal(ev.runs, 2);
  assert.ok(ev.published_at && !Number.isNaN(Date.parse(ev.published_at)));
  const c = await getJson(url);
  // Computed for the new version: by this request, or already by the server's prewarm (it
  // computes the views open pages asked for right after the aggregates hold the version,
  // before this request may arrive): never the old version's answer.
  assert.ok(['miss', 'hit'].includes(c.headers.get('x-orderlake-cache')));
  assert.equal(c.body.version.version, ev.version);
  assert.notDeepEqual(c.body.data, a.body.data);
  const total = c.body.data.reduce((s, r) => s + r.orders, 0);
  assert.equal(total, query(lake, "SELECT count(*) AS n FROM orders WHERE Country = 'United Kingdom'")[0].n);
  const d = await getJson(url);
  assert.equal(d.headers.get('x-orderlake-cache'), 'hit');
  const status = (await getJson(server.base + '/api/status')).body;
  assert.ok(status.cache.hits >= 2);
});

test('a token guards the API; beyond loopback a token is required', async () => {
  const guarded = await serve(lake, ['--token', 's3cret']);
  try {
    assert.match(guarded.url, /\?token=s3cret$/);
    const none = await getJson(guarded.base + '/api/summary');
    assert.equal(none.status, 401);
    assert.match(none.body.error, /access token is required/);
    const wrong = await getJson(guarded.base + '/api/summary', { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal((await getJson(guarded.base + '/api/summary', { headers: { Authorization: 'Bearer s3cret' } })).status, 200);
    assert.equal((await getJson(guarded.base + '/api/summary?token=s3cret')).status, 200);
    assert.equal((await getJson(guarded.base + '/api/sql?token=nope', { method: 'POST', body: 'SELECT 1' })).status, 401);
    assert.equal((await fetch(guarded.base + '/')).status, 200, 'the page itself holds no data');
  } finally {
    assert.equal(await guarded.stop(), 0, 'SIGTERM stops serve cleanly');
  }
  const open = run(['serve', '--lake', lake, '--listen', '0.0.0.0:0'], { allowFail: true, timeout: 20000 });
  assert.notEqual(open.status, 0);
  assert.match(open.stderr, /needs an access token: give --token/);
  const badListen = run(['serve', '--lake', lake, '--listen', 'localhost'], { allowFail: true, timeout: 20000 });
  assert.notEqual(badListen.status, 0);
  assert.match(badListen.stderr, /is not HOST:PORT/);
});
