#!/usr/bin/env bash
# bench/dashboard_api.sh: latency of the dashboard's API (`orderlake serve`) on a table of
# about 10,000,000 rows: p50 and p99 per visual endpoint, cold (the first request for it
# after a new table version) and cached (repeated requests between commits). Cold answers
# come from the kept aggregates (dashboard/cube.h) and, for comparison, from SQL over the
# table (`source=table`, the path every answer took before the aggregates): both are printed
# with their ratio. "After commit": the first request of each endpoint (with a filter set no
# cache holds) as soon as the server has seen a new commit (its table_version metric moved),
# before the commit is folded into the aggregates: it must not wait for the fold. Also printed: the
# aggregates' first build (time, cells, rows kept, and the server's resident memory before
# and after).
#
#   bench/dashboard_api.sh                       # 10,500,000 lines -> ~10.0 M rows
#   BENCH_LINES=500000 bench/dashboard_api.sh    # quick check
#
# Variables: BENCH_LINES (10500000), BENCH_SEED (42), BENCH_COLD (new versions, 15),
# BENCH_WARM (cached requests per endpoint, 500), BENCH_SQL (1; 0 skips the source=table
# samples, the slow part), ORDERLAKE_BUILD_DIR (build/), ORDERLAKE_SKIP_BUILD (set: use the
# binary as it is).
# The input (bench/out/logs-<lines>-<seed>-30d/) and the lake (bench/out/dash-lake-<lines>-<seed>/)
# are made once and reused; bench/out/dash-lake-<lines>-<seed>.complete marks a finished lake.
# Each cold sample commits a new etl run of 100 lines (into a copy of that lake, so the
# cached lake stays as it was). Results: printed, and bench/out/dashboard_api.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ORDERLAKE_BUILD_DIR:-$root/build}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
lines="${BENCH_LINES:-10500000}"
seed="${BENCH_SEED:-42}"
cold="${BENCH_COLD:-15}"
warm="${BENCH_WARM:-500}"
sql="${BENCH_SQL:-1}"
out="$root/bench/out"
work="$out/work/dashboard"
mkdir -p "$out" "$work"
die() { echo "dashboard_api: $*" >&2; exit 1; }

if [ -z "${ORDERLAKE_SKIP_BUILD:-}" ]; then
  echo "building orderlake (scripts/build.sh) ..."
  ORDERLAKE_BUILD_DIR="$build" "$root/scripts/build.sh" orderlake 2>"$work/build.log" || { cat "$work/build.log" >&2; die "build failed"; }
fi
orderlake="$build/orderlake"
[ -x "$orderlake" ] || die "no binary at $orderlake"

logs="$out/logs-$lines-$seed-30d"
lake="$out/dash-lake-$lines-$seed"
if [ ! -f "$logs.complete" ]; then
  echo "generating $lines lines into $logs (once) ..."
  rm -rf "$logs"
  "$orderlake" generate --out "$logs" --count "$lines" --seed "$seed" --start 2010-12-01 --days 30 \
    >"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; die "generate failed"; }
  date -u +%FT%TZ > "$logs.complete"
fi
if [ ! -f "$lake.complete" ]; then
  echo "building the lake $lake (once) ..."
  rm -rf "$lake"
  "$orderlake" etl --input "$logs" --lake "$lake" --no-progress >"$work/etl.log" 2>&1 \
    || { cat "$work/etl.log" >&2; die "etl failed"; }
  date -u +%FT%TZ > "$lake.complete"
fi

# The server reads a copy (hard links: no data copied) so the trickle commits leave the
# cached lake alone.
run_lake="$work/lake"
rm -rf "$run_lake" "$work/trickle"
cp -al "$lake" "$run_lake"
rows=$("$orderlake" query --lake "$run_lake" --format csv "SELECT count(*) FROM orders" | tail -n 1)

"$orderlake" serve --lake "$run_lake" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "dashboard at" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/serve.out" | head -n 1) || die "serve did not start: $(cat "$work/serve.err")"
base="${url%/}"

echo "dashboard_api: $rows rows in $lake; serve at $base; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"

SERVE_PID="$serve_pid" BASE="$base" ORDERLAKE="$orderlake" LAKE="$run_lake" TRICKLE="$work/trickle" COLD="$cold" WARM="$warm" \
ROWS="$rows" SQL="$sql" RESULT="$out/dashboard_api.json" node --input-type=module <<'JS'
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
const { BASE, ORDERLAKE, LAKE, TRICKLE, COLD, WARM, ROWS, SQL, RESULT } = process.env;
const endpoints = ['summary', 'daily', 'heatmap', 'hourly', 'top-orders', 'aov-by-country', 'quality', 'filters'];
const fromCube = new Set(['summary', 'daily', 'heatmap', 'hourly', 'top-orders', 'aov-by-country', 'filters']);
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${process.env.SERVE_PID}/status`, 'utf8'))[1]) / 1024;
const metric = (text, name) => Number((new RegExp(`^${name} (\\S+)$`, 'm').exec(text) || [])[1]);
const filtered = '?country=United%20Kingdom,France&from=2010-12-05&to=2010-12-20';

async function time(path) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(BASE + path);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cache: res.headers.get('x-orderlake-cache'), version: Number(res.headers.get('x-orderlake-version')) };
}
const version = async () => (await (await fetch(BASE + '/api/version')).json()).version;
// The newest commit the server has seen (its table watcher), folded into the aggregates or not.
const seen = async () => metric(await (await fetch(BASE + '/metrics')).text(), 'orderlake_dashboard_table_version');
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

// The aggregates' first build: the first answer after start.
const rssBefore = rssMb();
const build = await time('/api/summary');
const metricsText = await (await fetch(BASE + '/metrics')).text();
const cube = { first_answer_ms: build.ms, build_seconds: metric(metricsText, 'orderlake_dashboard_cube_build_seconds'),
  cells: metric(metricsText, 'orderlake_dashboard_cube_cells'), top_rows: metric(metricsText, 'orderlake_dashboard_cube_top_rows'),
  rss_before_mb: rssBefore, rss_after_mb: rssMb() };
console.log(`  aggregates built in ${cube.build_seconds.toFixed(2)} s (first answer ${build.ms.toFixed(0)} ms): ${cube.cells} cells, ` +
  `${cube.top_rows} top rows; server RSS ${cube.rss_before_mb.toFixed(0)} -> ${cube.rss_after_mb.toFixed(0)} MB`);

const cold = Object.fromEntries(endpoints.flatMap((e) => [[e, []], [e + ' (filtered)', []]]));
const coldSql = Object.fromEntries(Object.keys(cold).map((k) => [k, []]));
const filteredCube = endpoints.filter((e) => fromCube.has(e) && e !== 'filters');
const afterCommit = Object.fromEntries(filteredCube.map((e) => [e, []]));
for (let i = 0; i < Number(COLD); ++i) {
  // A new version: a real etl commit of 100 lines.
  const v0 = await version();
  const s0 = await seen();
  const dir = `${TRICKLE}/${i}`;
  execFileSync(ORDERLAKE, ['generate', '--out', dir, '--count', '100', '--seed', String(1000 + i), '--start', '2010-12-01', '--days', '30'], { stdio: 'ignore' });
  execFileSync(ORDERLAKE, ['etl', '--input', dir, '--lake', LAKE, '--no-progress'], { stdio: 'ignore' });
  while ((await seen()) === s0) await new Promise((r) => setTimeout(r, 5));
  // The first request of each endpoint after the commit, with a filter set of this round only.
  const fresh = `?from=2010-12-${String(2 + (i % 27)).padStart(2, '0')}&region=Europe`;
  for (const e of filteredCube) afterCommit[e].push((await time('/api/' + e + fresh)).ms);
  while ((await version()) === v0) await new Promise((r) => setTimeout(r, 20));
  for (const e of endpoints) {
    const a = await time('/api/' + e);
    if (a.cache !== 'miss') throw new Error(`${e}: expected a cold answer, got ${a.cache}`);
    cold[e].push(a.ms);
    const b = await time('/api/' + e + filtered);
    cold[e + ' (filtered)'].push(b.ms);
  }
  for (const e of endpoints.filter((x) => SQL !== '0' && fromCube.has(x))) {  // the same answers by SQL over the table
    const a = await time('/api/' + e + '?source=table');
    if (a.cache !== 'miss') throw new Error(`${e}?source=table: expected a cold answer, got ${a.cache}`);
    coldSql[e].push(a.ms);
    coldSql[e + ' (filtered)'].push((await time('/api/' + e + filtered + '&source=table')).ms);
  }
}
const warm = Object.fromEntries(Object.keys(cold).map((k) => [k, []]));
for (let i = 0; i < Number(WARM); ++i) {
  for (const e of endpoints) {
    const a = await time('/api/' + e);
    if (a.cache !== 'hit') throw new Error(`${e}: expected a cached answer, got ${a.cache}`);
    warm[e].push(a.ms);
    warm[e + ' (filtered)'].push((await time('/api/' + e + filtered)).ms);
  }
}
const result = { rows: Number(ROWS), cold_samples: Number(COLD), warm_samples: Number(WARM), filtered, cube, endpoints: {} };
const col = (x, d) => (x === undefined ? '-' : x.toFixed(d)).padStart(9);
console.log(`\n  ${'endpoint'.padEnd(30)} ${'cold p50'.padStart(9)} ${'cold p99'.padStart(9)} ${'SQL p50'.padStart(9)} ${'SQL p99'.padStart(9)} ` +
  `${'SQL/cold'.padStart(9)} ${'warm p50'.padStart(9)} ${'warm p99'.padStart(9)}   (ms; cold = uncached)`);
for (const k of Object.keys(cold)) {
  const r = { cold_p50: pct(cold[k], 50), cold_p99: pct(cold[k], 99), warm_p50: pct(warm[k], 50), warm_p99: pct(warm[k], 99) };
  if (coldSql[k].length) {
    r.sql_cold_p50 = pct(coldSql[k], 50);
    r.sql_cold_p99 = pct(coldSql[k], 99);
    r.sql_over_cold_p99 = r.sql_cold_p99 / r.cold_p99;
  }
  result.endpoints[k] = r;
  console.log(`  ${('/api/' + k).padEnd(30)} ${col(r.cold_p50, 1)} ${col(r.cold_p99, 1)} ${col(r.sql_cold_p50, 1)} ${col(r.sql_cold_p99, 1)} ` +
    `${col(r.sql_over_cold_p99, 1)} ${col(r.warm_p50, 2)} ${col(r.warm_p99, 2)}`);
}
console.log(`\n  ${'first request after a commit'.padEnd(30)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}   (ms)`);
result.after_commit = {};
for (const e of filteredCube) {
  const r = { p50: pct(afterCommit[e], 50), p99: pct(afterCommit[e], 99), max: Math.max(...afterCommit[e]) };
  result.after_commit[e] = r;
  console.log(`  ${('/api/' + e).padEnd(30)} ${col(r.p50, 1)} ${col(r.p99, 1)} ${col(r.max, 1)}`);
}
result.worst_after_commit_p99 = Math.max(...Object.values(result.after_commit).map((r) => r.p99));
const after = await (await fetch(BASE + '/metrics')).text();
cube.folds = metric(after, 'orderlake_dashboard_cube_folds_total');
cube.fold_ms_mean = (1000 * metric(after, 'orderlake_dashboard_cube_fold_seconds_total')) / cube.folds;
cube.rebuilds = metric(after, 'orderlake_dashboard_cube_rebuilds_total');
console.log(`\n  aggregates: ${cube.folds} commits folded in, ${cube.fold_ms_mean.toFixed(1)} ms each on average; ${cube.rebuilds} full build(s)`);
const worst = Math.max(...Object.values(result.endpoints).map((r) => r.warm_p99));
result.worst_warm_p99 = worst;
const worstCold = Math.max(...Object.entries(result.endpoints).filter(([k]) => fromCube.has(k.split(' ')[0])).map(([, r]) => r.cold_p99));
result.worst_cold_p99 = worstCold;
console.log(`\n  worst warm p99: ${worst.toFixed(2)} ms (goal: <= 150 ms) -> ${worst <= 150 ? 'met' : 'NOT met'}`);
console.log(`  worst uncached p99 of the aggregates' endpoints: ${worstCold.toFixed(1)} ms (goal: <= 50 ms) -> ${worstCold <= 50 ? 'met' : 'NOT met'}`);
console.log(`  worst p99 of the first request after a commit: ${result.worst_after_commit_p99.toFixed(1)} ms (goal: <= 50 ms) -> ${result.worst_after_commit_p99 <= 50 ? 'met' : 'NOT met'}`);
fs.writeFileSync(RESULT, JSON.stringify(result, null, 2) + '\n');
JS
echo "dashboard_api: load average after: $(cut -d' ' -f1-3 /proc/loadavg); results in $out/dashboard_api.json"
