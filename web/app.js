// The orderlake dashboard page. Reads the JSON API of `orderlake serve` (see /api.md),
// draws the charts with ECharts (served by the binary, no CDN), keeps the filters in the
// URL, and refreshes in place on every table version pushed over /api/events.
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') || '';
  const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  const nf = new Intl.NumberFormat('en-US');
  const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
  const usd4 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 4 });
  const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 2 });
  const $ = (id) => document.getElementById(id);

  // State exposed for tests and for the curious: window.orderlake.
  const state = {
    filters: readFiltersFromUrl(),
    version: 0,          // the table version the page shows
    latest: null,        // the newest version announced by the server
    loading: false,
    pending: false,
    charts: {},
    data: {},
    renders: 0,
  };
  window.orderlake = state;

  function readFiltersFromUrl() {
    const p = new URLSearchParams(location.search);
    const list = (name) => p.getAll(name).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
    return { from: p.get('from') || '', to: p.get('to') || '', country: list('country'), region: list('region') };
  }

  function filterQuery(f) {
    const q = new URLSearchParams();
    if (f.from) q.set('from', f.from);
    if (f.to) q.set('to', f.to);
    if (f.country.length) q.set('country', f.country.join(','));
    if (f.region.length) q.set('region', f.region.join(','));
    return q;
  }

  function writeFiltersToUrl() {
    const q = filterQuery(state.filters);
    if (token) q.set('token', token);
    const s = q.toString();
    history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
  }

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (token) headers['Authorization'] = 'Bearer ' + token;
    const res = await fetch(path, Object.assign({}, options, { headers }));
    const type = res.headers.get('Content-Type') || '';
    const body = type.startsWith('application/json') ? await res.json() : await res.text();
    if (!res.ok) throw new Error((body && body.error) || res.status + ' ' + res.statusText);
    return body;
  }

  // ---- charts ----------------------------------------------------------------------
  const theme = dark ? 'dark' : null;
  const base = { backgroundColor: 'transparent', animationDuration: 300, animationDurationUpdate: 300 };
  function chart(id) {
    const c = echarts.init($(id), theme, { renderer: 'canvas' });
    state.charts[id.replace('c-', '')] = c;
    return c;
  }

  function initCharts() {
    chart('c-daily').setOption(Object.assign({}, base, {
      tooltip: { trigger: 'axis' },
      legend: { data: ['Orders', 'Revenue (USD)'], top: 0 },
      grid: { left: 56, right: 64, top: 52, bottom: 32 },
      xAxis: { type: 'category', data: [] },
      yAxis: [{ type: 'value', name: 'orders' }, { type: 'value', name: 'USD', splitLine: { show: false } }],
      series: [
        { name: 'Orders', type: 'bar', barMaxWidth: 48, data: [] },
        { name: 'Revenue (USD)', type: 'line', yAxisIndex: 1, data: [],
          tooltip: { valueFormatter: (v) => usd.format(v) } },
      ],
    }));
    chart('c-heatmap').setOption(Object.assign({}, base, {
      tooltip: { position: 'top', formatter: (p) => `${state.data.heatRegions[p.value[1]]} · ${p.value[0]}:00–${p.value[0]}:59<br>${nf.format(p.value[2])} orders` },
      grid: { left: 96, right: 16, top: 8, bottom: 84 },
      xAxis: { type: 'category', data: hours(), name: 'hour', nameLocation: 'middle', nameGap: 26, splitArea: { show: true } },
      yAxis: { type: 'category', data: [], splitArea: { show: true } },
      visualMap: { min: 0, max: 1, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 140, itemWidth: 12, text: ['more orders', 'fewer'] },
      series: [{ name: 'Orders', type: 'heatmap', data: [], emphasis: { itemStyle: { borderWidth: 1 } } }],
    }));
    chart('c-hourly').setOption(Object.assign({}, base, {
      tooltip: { trigger: 'axis' },
      grid: { left: 56, right: 16, top: 16, bottom: 40 },
      xAxis: { type: 'category', data: hours(), name: 'hour', nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', name: 'orders' },
      series: [{ name: 'Orders', type: 'bar', barMaxWidth: 32, data: [] }],
    }));
    chart('c-aov').setOption(Object.assign({}, base, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => usd4.format(v) },
      grid: { left: 130, right: 24, top: 8, bottom: 24 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: [], inverse: true, axisLabel: { width: 120, overflow: 'truncate' } },
      dataZoom: [{ type: 'inside', yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true }],
      series: [{ name: 'Average order value (USD)', type: 'bar', barMaxWidth: 22, data: [] }],
    }));
    window.addEventListener('resize', () => Object.values(state.charts).forEach((c) => c.resize()));
  }

  function hours() { return Array.from({ length: 24 }, (_, h) => String(h)); }

  // ---- rendering (in place: setOption merges, nothing is rebuilt) -------------------
  function renderSummary(s) {
    $('k-orders').textContent = nf.format(s.orders);
    $('k-revenue').textContent = usd.format(s.revenue_usd);
    $('k-aov').textContent = s.avg_order_value_usd == null ? '–' : usd4.format(s.avg_order_value_usd);
    $('k-high').textContent = s.high_share == null ? '–' : pct.format(s.high_share);
    $('k-high-n').textContent = nf.format(s.high_orders) + ' orders over the threshold';
  }

  function renderDaily(rows) {
    state.charts.daily.setOption({
      xAxis: { data: rows.map((r) => r.date) },
      series: [{ data: rows.map((r) => r.orders) }, { data: rows.map((r) => r.revenue_usd) }],
    });
  }

  function renderHeatmap(rows) {
    const regions = [...new Set(rows.map((r) => r.region))].sort();
    const index = new Map(regions.map((r, i) => [r, i]));
    state.data.heatRegions = regions;
    const max = rows.reduce((m, r) => Math.max(m, r.orders), 0);
    state.charts.heatmap.setOption({
      yAxis: { data: regions },
      visualMap: { max: Math.max(max, 1) },
      series: [{ data: rows.map((r) => [r.hour, index.get(r.region), r.orders]) }],
    });
  }

  function renderHourly(rows) {
    const counts = new Array(24).fill(0);
    for (const r of rows) counts[r.hour] = r.orders;
    state.charts.hourly.setOption({ series: [{ data: counts }] });
  }

  function renderAov(rows) {
    state.charts.aov.setOption({
      yAxis: { data: rows.map((r) => r.country) },
      series: [{ data: rows.map((r) => r.avg_order_value_usd) }],
    });
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    if (cls) td.className = cls;
    return td;
  }

  function renderTop(rows) {
    const body = $('top-orders').tBodies[0];
    const out = document.createDocumentFragment();
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.title = 'OrderID ' + r.OrderID;
      tr.append(cell(r.InvoiceNo), cell(r.StockCode), cell(r.Description), cell(r.CustomerID), cell(r.Country),
        cell(r.InvoiceDateOnly), cell(nf.format(r.Quantity), 'num'), cell(r.TotalAmount.toFixed(2), 'num'),
        cell(usd.format(r.TotalAmountUSD), 'num'));
      out.append(tr);
    }
    if (!rows.length) {
      const tr = document.createElement('tr');
      const td = cell('No high-value orders for these filters.');
      td.colSpan = 9;
      tr.append(td);
      out.append(tr);
    }
    body.replaceChildren(out);
  }

  function renderQuality(q) {
    const box = $('quality');
    const dl = (pairs) => {
      const d = document.createElement('dl');
      for (const [k, v, id] of pairs) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = nf.format(v);
        if (id) dd.dataset.key = id;
        d.append(dt, dd);
      }
      return d;
    };
    const head = (t) => { const h = document.createElement('h3'); h.textContent = t; return h; };
    const reasons = (obj, kind) => Object.entries(obj).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k.replace(/_/g, ' '), v, kind + ':' + k]);
    box.replaceChildren(
      dl([['Records read', q.records, 'records'], ['Kept', q.kept, 'kept'], ['Filtered', q.filtered_total, 'filtered_total'],
        ['Quarantined', q.quarantined_total, 'quarantined_total'], ['ETL runs', q.runs, 'runs']]),
      head('Filtered by reason'), dl(reasons(q.filtered, 'filtered')),
      head('Quarantined by reason'), dl(reasons(q.quarantined, 'quarantined')));
  }

  function fillSelect(sel, values, chosen) {
    const want = new Set(chosen);
    const known = new Set(values);
    const all = values.concat(chosen.filter((c) => !known.has(c)));
    const cur = [...sel.options].map((o) => o.value).join('\n');
    if (cur !== all.join('\n')) {
      sel.replaceChildren(...all.map((v) => { const o = document.createElement('option'); o.value = v; o.textContent = v; return o; }));
    }
    for (const o of sel.options) o.selected = want.has(o.value);
  }

  function renderFilterChoices(c) {
    fillSelect($('f-country'), c.countries, state.filters.country);
    fillSelect($('f-region'), c.regions, state.filters.region);
    for (const id of ['f-from', 'f-to']) {
      if (c.date_min) $(id).min = c.date_min;
      if (c.date_max) $(id).max = c.date_max;
    }
    $('f-from').value = state.filters.from;
    $('f-to').value = state.filters.to;
  }

  // ---- loading ---------------------------------------------------------------------
  async function refresh() {
    if (state.loading) { state.pending = true; return; }
    state.loading = true;
    try {
      do {
        state.pending = false;
        const q = filterQuery(state.filters).toString();
        const qs = q ? '?' + q : '';
        const names = ['summary', 'daily', 'heatmap', 'hourly', 'top-orders', 'aov-by-country', 'quality', 'filters'];
        let answers;
        try {
          answers = await Promise.all(names.map((n) => api('/api/' + n + (n === 'filters' ? '' : qs))));
          $('filter-error').textContent = '';
        } catch (e) {
          $('filter-error').textContent = e.message;
          break;
        }
        if (state.pending) continue;  // the filters changed meanwhile: load again
        const [summary, daily, heatmap, hourly, top, aov, quality, choices] = answers;
        Object.assign(state.data, { summary: summary.data, daily: daily.data, heatmap: heatmap.data, hourly: hourly.data,
          top: top.data, aov: aov.data, quality: quality.data, choices: choices.data });
        renderFilterChoices(choices.data);
        renderSummary(summary.data);
        renderDaily(daily.data);
        renderHeatmap(heatmap.data);
        renderHourly(hourly.data);
        renderTop(top.data);
        renderAov(aov.data);
        renderQuality(quality.data);
        const v = answers.reduce((m, a) => (a.version.version < m.version ? a.version : m), summary.version);
        state.version = v.version;
        state.shown = v;
        state.renders += 1;
        document.body.dataset.version = String(v.version);
        document.body.dataset.filters = q;
        updateFreshness();
      } while (state.pending);
    } finally {
      state.loading = false;
    }
    if (state.latest && state.latest.version > state.version) setTimeout(refresh, 0);
  }

  // ---- filters ---------------------------------------------------------------------
  function readForm() {
    const picked = (sel) => [...sel.selectedOptions].map((o) => o.value);
    state.filters = { from: $('f-from').value, to: $('f-to').value, country: picked($('f-country')), region: picked($('f-region')) };
    writeFiltersToUrl();
    refresh();
  }

  function initFilters() {
    for (const id of ['f-from', 'f-to', 'f-country', 'f-region']) $(id).addEventListener('change', readForm);
    $('f-reset').addEventListener('click', () => {
      state.filters = { from: '', to: '', country: [], region: [] };
      for (const id of ['f-country', 'f-region']) for (const o of $(id).options) o.selected = false;
      $('f-from').value = ''; $('f-to').value = '';
      writeFiltersToUrl();
      refresh();
    });
    window.addEventListener('popstate', () => { state.filters = readFiltersFromUrl(); refresh(); });
  }

  // ---- live updates ----------------------------------------------------------------
  function updateFreshness() {
    const v = state.latest || state.shown;
    if (!v) return;
    const shown = state.shown || v;
    const asOf = shown.published_at ? new Date(shown.published_at) : null;
    const ago = asOf ? Math.max(0, Math.round((Date.now() - asOf.getTime()) / 1000)) : null;
    const when = asOf ? asOf.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '';
    $('freshness-text').textContent = (asOf ? `data as of ${when} · updated ${fmtAgo(ago)} ago` : 'no data published yet') + ` · v${shown.version}`;
    const dot = $('live-dot');
    dot.classList.toggle('live', state.connected === true);
    dot.classList.toggle('stale', state.connected === false);
    dot.title = state.connected ? 'live: new commits appear here' : 'reconnecting';
  }

  function fmtAgo(s) {
    if (s < 90) return s + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }

  function initEvents() {
    const es = new EventSource('/api/events' + (token ? '?token=' + encodeURIComponent(token) : ''));
    es.addEventListener('version', (ev) => {
      const v = JSON.parse(ev.data);
      state.latest = v;
      state.connected = true;
      if (v.version !== state.version) refresh();
      updateFreshness();
    });
    es.addEventListener('open', () => { state.connected = true; updateFreshness(); });
    es.addEventListener('error', () => { state.connected = false; updateFreshness(); });
    setInterval(updateFreshness, 1000);
  }

  // ---- SQL console -----------------------------------------------------------------
  async function runSql() {
    const sql = $('sql').value;
    const status = $('sql-status');
    status.textContent = 'running…';
    status.className = 'muted';
    const t0 = performance.now();
    try {
      const r = await api('/api/sql', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sql }) });
      const table = $('sql-result');
      const tr = document.createElement('tr');
      r.columns.forEach((c) => { const th = document.createElement('th'); th.textContent = c.name; if (c.numeric) th.className = 'num'; tr.append(th); });
      table.tHead.replaceChildren(tr);
      const frag = document.createDocumentFragment();
      for (const row of r.rows) {
        const rtr = document.createElement('tr');
        row.forEach((v, i) => rtr.append(cell(v === null ? 'NULL' : v, r.columns[i].numeric ? 'num' : '')));
        frag.append(rtr);
      }
      table.tBodies[0].replaceChildren(frag);
      status.textContent = `${nf.format(r.rows_returned)} row${r.rows_returned === 1 ? '' : 's'}` + (r.truncated ? ' (first rows only; download CSV for more)' : '') +
        ` · ${Math.round(performance.now() - t0)} ms` + (r.notices.length ? ' · ' + r.notices.join('; ') : '');
      status.dataset.rows = String(r.rows_returned);
    } catch (e) {
      status.textContent = e.message;
      status.className = 'error';
      status.dataset.rows = '';
    }
  }

  async function downloadCsv() {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers['Authorization'] = 'Bearer ' + token;
    const res = await fetch('/api/sql?format=csv', { method: 'POST', headers, body: JSON.stringify({ sql: $('sql').value }) });
    if (!res.ok) { const e = await res.json(); $('sql-status').textContent = e.error; $('sql-status').className = 'error'; return; }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = 'orderlake-query.csv';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function initSql() {
    $('sql-run').addEventListener('click', runSql);
    $('sql-csv').addEventListener('click', downloadCsv);
    $('sql').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runSql(); } });
    try {
      const samples = await api('/api/samples');
      const box = $('samples');
      samples.forEach((s, i) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = s.title || 'Sample ' + (i + 1);
        b.title = s.sql;
        b.dataset.sample = String(i + 1);
        b.addEventListener('click', () => { $('sql').value = s.sql; runSql(); });
        box.append(b);
      });
    } catch (e) { /* the console still works without samples */ }
  }

  function start() {
    if (!window.echarts) {
      document.querySelector('main').prepend(Object.assign(document.createElement('p'), { className: 'error', textContent: 'ECharts did not load (/vendor/echarts.min.js).' }));
      return;
    }
    initCharts();
    initFilters();
    initSql();
    refresh().then(initEvents);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
