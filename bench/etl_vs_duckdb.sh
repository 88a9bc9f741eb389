#!/usr/bin/env bash
# Times `orderlake etl` against DuckDB SQL doing the same SPEC.md §2 transformation into the
# same Hive-partitioned Parquet layout (SPEC.md §3), on the same generated input.
#
# Usage: bench/etl_vs_duckdb.sh            (from any directory)
#   BENCH_LINES=200000  number of generated lines (default 5000000)
#   BENCH_SEED=42       generator seed (default 42)
#   BENCH_REPS=3        timed repetitions of each side (default 3; the median is reported)
#   BENCH_THREADS=N     threads for both sides (default: nproc)
#   BENCH_WAIT_IDLE=S   first wait up to S seconds for the 1-minute load average to fall below
#                       BENCH_IDLE_LOAD (default 0.5): other processes distort the times
#
# The input is generated once into bench/out/logs-<lines>-<seed>/ and reused by later runs
# (bench/out/logs-<lines>-<seed>.complete marks a finished generation). Results are printed
# as a table and written to bench/out/etl_vs_duckdb.json. See bench/README.md.
set -euo pipefail

echo "etl_vs_duckdb: times 'orderlake etl' against DuckDB SQL (read_csv + sha256 + COPY ... PARTITION_BY) doing the same SPEC §2 transformation into the same partitioned Parquet layout"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lines="${BENCH_LINES:-5000000}"
seed="${BENCH_SEED:-42}"
reps="${BENCH_REPS:-3}"
threads="${BENCH_THREADS:-$(nproc)}"
wait_idle="${BENCH_WAIT_IDLE:-0}"
idle_load="${BENCH_IDLE_LOAD:-0.5}"
for v in lines seed reps threads wait_idle; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]] || { [ "$v" != seed ] && [ "$v" != wait_idle ] && [ "${!v}" -lt 1 ]; }; then
    echo "etl_vs_duckdb: BENCH_${v^^}='${!v}' is not a positive integer" >&2
    exit 2
  fi
done

build="${ORDERLAKE_BUILD_DIR:-$root/build}"
orderlake="$build/orderlake"
duckdb_sql="$build/bench/duckdb_sql"
out="$root/bench/out"
logs="$out/logs-$lines-$seed"
summary="$out/summary-$lines-$seed.json"
marker="$out/logs-$lines-$seed.complete"
lake_ol="$out/lake-orderlake"
lake_dd="$out/lake-duckdb"
work="$out/work"
regions_csv="$root/data/regions.csv"

die() {
  echo "etl_vs_duckdb: FAILED: $*" >&2
  exit 1
}
# A path as a SQL string literal.
sqlstr() { printf "'%s'" "${1//\'/\'\'}"; }
# Seconds since the epoch, microsecond resolution (bash 5).
now() { echo "$EPOCHREALTIME"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
thousands() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
plural() { if [ "$1" = 1 ]; then echo "$1 $2"; else echo "$1 ${2}s"; fi; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# ---- build ----------------------------------------------------------------------------------
mkdir -p "$out" "$work"
echo "building orderlake and duckdb_sql (scripts/build.sh) ..."
"$root/scripts/build.sh" orderlake duckdb_sql 2>"$work/build.log" || { cat "$work/build.log" >&2; die "build failed"; }
[ -x "$orderlake" ] || die "$orderlake was not built"
[ -x "$duckdb_sql" ] || die "$duckdb_sql was not built"

# ---- input: generated once --------------------------------------------------------------------
if [ -f "$marker" ] && [ -d "$logs" ] && [ -f "$summary" ]; then
  echo "input: reusing $logs ($(cat "$marker"))"
else
  echo "input: generating $(thousands "$lines") lines (seed $seed) into $logs ..."
  rm -rf "$logs" "$marker" "$summary"
  t0=$(now)
  "$orderlake" generate --out "$logs" --count "$lines" --seed "$seed" --start 2010-12-01 --days 30 \
    --summary "$summary" --progress-interval 0 >"$work/generate.log" 2>&1 \
    || { cat "$work/generate.log" >&2; die "orderlake generate failed"; }
  t1=$(now)
  echo "generated in $(elapsed "$t0" "$t1") s on $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$marker"
fi
shopt -s nullglob
inputs=("$logs"/*)
shopt -u nullglob
[ "${#inputs[@]}" -gt 0 ] || die "no input files in $logs"
for f in "${inputs[@]}"; do
  case "$f" in *.log) ;; *) die "unexpected file $f in $logs (both sides read every file there)" ;; esac
done
input_bytes=$(cat "${inputs[@]}" | wc -c)

# Expected figures from the generator's summary (read with DuckDB's JSON reader).
cat >"$work/expected.sql" <<EOF
SELECT lines, expected.rows AS rows, round(expected.total_amount * 0.012, 2) AS usd FROM read_json($(sqlstr "$summary"));
EOF
read -r exp_lines exp_rows exp_usd < <("$duckdb_sql" "$work/expected.sql" 2>/dev/null | tail -n 1) \
  || die "cannot read the generator summary $summary"
[ "$exp_lines" = "$lines" ] || die "$summary says $exp_lines lines, expected $lines (delete $marker to regenerate)"

# ---- the two sides ------------------------------------------------------------------------------
# DuckDB: the SPEC §2 transformation as one COPY. Unparseable lines (wrong field count,
# non-numeric numbers: ignore_errors; an unknown date: try_strptime gives NULL) are skipped,
# as orderlake quarantines them; then the same three filters.
cat >"$work/duckdb_etl.sql" <<EOF
SET threads = $threads;
SET preserve_insertion_order = false;
CREATE TEMP TABLE regions AS
  SELECT lower(trim(country)) AS country_key, any_value(region) AS region
  FROM read_csv($(sqlstr "$regions_csv"), header = true, comment = '#', auto_detect = false,
                delim = ',', quote = '"', columns = {'country': 'VARCHAR', 'region': 'VARCHAR'})
  GROUP BY ALL;
COPY (
  WITH src AS (
    SELECT *, try_strptime(InvoiceDate, '%m/%d/%Y %H:%M') AS ts
    FROM read_csv($(sqlstr "$logs/*.log"), header = false, auto_detect = false,
                  delim = ',', quote = '"', escape = '"',
                  columns = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR',
                             'Quantity': 'INTEGER', 'InvoiceDate': 'VARCHAR', 'UnitPrice': 'DOUBLE',
                             'CustomerID': 'INTEGER', 'Country': 'VARCHAR'},
                  ignore_errors = true)
  )
  SELECT s.CustomerID,
         sha256(s.InvoiceNo || '-' || s.StockCode) AS OrderID,
         s.InvoiceNo, s.StockCode, s.Description, s.Quantity, s.UnitPrice,
         s.Quantity * s.UnitPrice AS TotalAmount,
         s.Quantity * s.UnitPrice * 0.012 AS TotalAmountUSD,
         CASE WHEN s.Quantity * s.UnitPrice > 100 THEN 'High' ELSE 'Normal' END AS OrderTag,
         s.InvoiceDate,
         CAST(hour(s.ts) AS INTEGER) AS InvoiceHour,
         coalesce(r.region, 'Other') AS Region,
         s.Country,
         CAST(s.ts AS DATE) AS InvoiceDateOnly
  FROM src AS s LEFT JOIN regions AS r ON lower(trim(s.Country)) = r.country_key
  WHERE s.Quantity > 0 AND s.UnitPrice > 0 AND s.CustomerID IS NOT NULL AND s.ts IS NOT NULL
) TO $(sqlstr "$lake_dd/orders") (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (Country, InvoiceDateOnly));
EOF

# Before every timed run: empty output directory, dirty pages of earlier runs written back,
# input in the page cache. None of this is timed.
prepare() {
  rm -rf "$1"
  sync
  cat "${inputs[@]}" >/dev/null
}

ol_times=() ol_cpu=()
dd_times=() dd_cpu=() dd_copy_times=() dd_sync_times=()
ol_kept=""

# Runs a command with bash's `time`; sets T_REAL and T_CPU (user + system, seconds).
timed() {
  local out=$1 err=$2 tf="$work/time.txt"
  shift 2
  local TIMEFORMAT='%3R %3U %3S' r u s
  { time "$@" >"$out" 2>"$err"; } 2>"$tf" || return 1
  read -r r u s <"$tf"
  T_REAL=$r
  T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
}

run_orderlake() {
  prepare "$lake_ol"
  timed "$work/orderlake-etl.json" "$work/orderlake-etl.log" \
    "$orderlake" etl --input "$logs" --lake "$lake_ol" --threads "$threads" --no-progress --json \
    || { cat "$work/orderlake-etl.log" >&2; die "orderlake etl failed"; }
  ol_times+=("$T_REAL")
  ol_cpu+=("$T_CPU")
}

# DuckDB writes without fsync; orderlake syncs its staged files (syncfs) before it commits.
# For the same work the DuckDB time includes `sync -f` of its output (syncfs of the same
# file system); the COPY-only time is reported too.
run_duckdb() {
  prepare "$lake_dd"
  mkdir -p "$lake_dd"
  timed /dev/null "$work/duckdb-etl.log" "$duckdb_sql" --threads "$threads" "$work/duckdb_etl.sql" \
    || { cat "$work/duckdb-etl.log" >&2; die "DuckDB COPY failed"; }
  local copy=$T_REAL cpu=$T_CPU
  timed /dev/null "$work/sync.log" sync -f "$lake_dd" || { cat "$work/sync.log" >&2; die "sync -f failed"; }
  dd_copy_times+=("$copy")
  dd_sync_times+=("$T_REAL")
  dd_times+=("$(awk -v a="$copy" -v b="$T_REAL" 'BEGIN { printf "%.3f", a + b }')")
  dd_cpu+=("$(awk -v a="$cpu" -v b="$T_CPU" 'BEGIN { printf "%.3f", a + b }')")
}

# Both lakes must hold the generator's expected rows, the same USD sum and partitions, and
# (warning only) the same values in every column.
check_lakes() {
  view() {
    printf "SELECT * FROM read_parquet(%s, hive_partitioning = true, hive_types = {'Country': VARCHAR, 'InvoiceDateOnly': DATE})" \
      "$(sqlstr "$1/orders/Country=*/InvoiceDateOnly=*/[!._]*.parquet")"
  }
  local agg="count(*) AS n, sum(TotalAmountUSD) AS usd, sum(hash(OrderID, CustomerID, InvoiceNo, StockCode, coalesce(Description, ''), Quantity, UnitPrice, TotalAmount, TotalAmountUSD, OrderTag, InvoiceDate, InvoiceHour, Region)) AS h"
  cat >"$work/check.sql" <<EOF
CREATE TEMP TABLE pa AS SELECT Country, InvoiceDateOnly, $agg FROM ($(view "$lake_ol")) GROUP BY ALL;
CREATE TEMP TABLE pb AS SELECT Country, InvoiceDateOnly, $agg FROM ($(view "$lake_dd")) GROUP BY ALL;
SELECT (SELECT coalesce(sum(n), 0) FROM pa) AS ol_rows, (SELECT coalesce(sum(n), 0) FROM pb) AS dd_rows,
       (SELECT coalesce(round(sum(usd), 2), 0) FROM pa) AS ol_usd, (SELECT coalesce(round(sum(usd), 2), 0) FROM pb) AS dd_usd,
       (SELECT count(*) FROM pa) AS ol_partitions, (SELECT count(*) FROM pb) AS dd_partitions,
       (SELECT count(*) FROM pa FULL OUTER JOIN pb USING (Country, InvoiceDateOnly)
         WHERE pa.n IS DISTINCT FROM pb.n OR pa.usd IS NULL OR pb.usd IS NULL OR abs(pa.usd - pb.usd) > 0.005) AS partitions_differing,
       (SELECT count(*) FROM pa FULL OUTER JOIN pb USING (Country, InvoiceDateOnly)
         WHERE pa.h IS DISTINCT FROM pb.h) AS partitions_values_differing;
EOF
  local row
  row=$("$duckdb_sql" --threads "$threads" "$work/check.sql" 2>"$work/check.log" | tail -n 1) \
    || { cat "$work/check.log" >&2; die "the sanity-check query failed"; }
  read -r c_ol_rows c_dd_rows c_ol_usd c_dd_usd c_ol_parts c_dd_parts c_parts_diff c_values_diff <<<"$row"
  ol_kept=$(sed -n 's/^ *"kept": *\([0-9]*\).*/\1/p' "$work/orderlake-etl.json" | head -n 1)
  echo "check: rows orderlake $c_ol_rows, DuckDB $c_dd_rows, expected $exp_rows (etl says kept $ol_kept);" \
    "sum(TotalAmountUSD) $c_ol_usd / $c_dd_usd / expected $exp_usd; partitions $c_ol_parts / $c_dd_parts"
  [ "$c_ol_rows" = "$exp_rows" ] || die "orderlake's lake has $c_ol_rows rows, the generator expects $exp_rows"
  [ "$c_dd_rows" = "$exp_rows" ] || die "DuckDB's lake has $c_dd_rows rows, the generator expects $exp_rows"
  [ "$ol_kept" = "$exp_rows" ] || die "orderlake etl reports kept=$ol_kept, the generator expects $exp_rows"
  awk -v a="$c_ol_usd" -v b="$c_dd_usd" -v e="$exp_usd" 'BEGIN {
        d1 = a - b; if (d1 < 0) d1 = -d1; d2 = a - e; if (d2 < 0) d2 = -d2
        tol = 0.011 + 1e-12 * (e < 0 ? -e : e); exit !(d1 <= tol && d2 <= tol) }' \
    || die "sum(TotalAmountUSD) differs: orderlake $c_ol_usd, DuckDB $c_dd_usd, expected $exp_usd"
  [ "$c_ol_parts" = "$c_dd_parts" ] || die "partition count differs: orderlake $c_ol_parts, DuckDB $c_dd_parts"
  [ "$c_parts_diff" = 0 ] || die "$c_parts_diff partitions differ in row count or USD sum between the lakes"
  if [ "$c_values_diff" = 0 ]; then
    values_identical=true
    echo "check: OK, and every column's values are identical partition by partition (hash checksum)"
  else
    values_identical=false
    echo "check: OK on rows and sums, but WARNING: $c_values_diff partitions differ in some column value (hash checksum)"
  fi
}

lake_stats() {  # "<bytes> <parquet files>" of a table directory
  local bytes files
  bytes=$(find "$1" -type f -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
  files=$(find "$1" -type f -name '*.parquet' | wc -l)
  echo "$bytes $files"
}

# ---- timed repetitions (the side that goes first alternates) ------------------------------------
# Other processes on the machine distort wall times: optionally wait for a quiet machine.
if [ "$wait_idle" -gt 0 ]; then
  deadline=$((SECONDS + wait_idle))
  while awk -v l="$(loadavg)" -v m="$idle_load" 'BEGIN { exit !(l >= m) }' && ((SECONDS < deadline)); do
    echo "  waiting for a quiet machine: load average $(loadavg) (until < $idle_load, at most $((deadline - SECONDS)) s more)"
    sleep 10
  done
fi
load_before=$(loadavg)
echo "timing: $(plural "$reps" repetition) of each side, $threads threads each, input $(mib "$input_bytes") MiB in $(plural "${#inputs[@]}" file) (page cache warm); load average $load_before"
if awk -v l="$load_before" -v n="$(nproc)" 'BEGIN { exit !(l >= n / 4) }'; then
  echo "  WARNING: load average $load_before before timing: other processes are using the CPUs, wall times will be noisy (BENCH_WAIT_IDLE=600 waits for a quiet machine)"
fi
values_identical=unknown
for ((i = 1; i <= reps; i++)); do
  if ((i % 2)); then order=(orderlake duckdb); else order=(duckdb orderlake); fi
  for side in "${order[@]}"; do
    "run_$side"
    if [ "$side" = orderlake ]; then
      echo "  run $i orderlake etl:  ${ol_times[-1]} s (cpu ${ol_cpu[-1]} s)"
    else
      echo "  run $i DuckDB:         ${dd_times[-1]} s = COPY ${dd_copy_times[-1]} s + sync ${dd_sync_times[-1]} s (cpu ${dd_cpu[-1]} s)"
    fi
  done
  if ((i == 1)); then
    check_lakes
    read -r ol_bytes ol_files < <(lake_stats "$lake_ol/orders")
    read -r dd_bytes dd_files < <(lake_stats "$lake_dd/orders")
  fi
done
load_after=$(loadavg)

# ---- report -----------------------------------------------------------------------------------------
ol_med=$(median "${ol_times[@]}")
dd_med=$(median "${dd_times[@]}")
dd_copy_med=$(median "${dd_copy_times[@]}")
ol_cpu_med=$(median "${ol_cpu[@]}")
dd_cpu_med=$(median "${dd_cpu[@]}")
ratio_same=$(ratio "$dd_med" "$ol_med")
ratio_copy=$(ratio "$dd_copy_med" "$ol_med")
ratio_cpu=$(ratio "$dd_cpu_med" "$ol_cpu_med")
cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
cpu=${cpu:-unknown}
ncpu=$(nproc)
duck_version=$(echo "SELECT version();" | "$duckdb_sql" - 2>/dev/null | tail -n 1)
ol_version=$("$orderlake" --version 2>/dev/null | head -n 1)
git_rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
join() { local IFS=' '; echo "$*"; }
row() { printf '  %-31s %9s %12s %9s   %s\n' "$@"; }

echo
echo "etl_vs_duckdb: $(thousands "$lines") lines ($(mib "$input_bytes") MiB, $(plural "${#inputs[@]}" file)) -> $(thousands "$exp_rows") rows in $c_ol_parts partitions; $(plural "$reps" repetition) each, medians"
row "" "median s" "lines/s" "cpu s" "every run (s)"
row "orderlake etl" "$ol_med" "$(thousands "$(per_second "$lines" "$ol_med")")" "$ol_cpu_med" "$(join "${ol_times[@]}")"
row "DuckDB COPY + sync (same work)" "$dd_med" "$(thousands "$(per_second "$lines" "$dd_med")")" "$dd_cpu_med" "$(join "${dd_times[@]}")"
row "DuckDB COPY alone (no fsync)" "$dd_copy_med" "$(thousands "$(per_second "$lines" "$dd_copy_med")")" "" "$(join "${dd_copy_times[@]}")"
echo "  ratio duckdb_time / orderlake_time = ${ratio_same}: orderlake is ${ratio_same}× faster (same work, both outputs synced to disk)"
echo "    against DuckDB's COPY alone: ${ratio_copy}×; CPU seconds duckdb / orderlake: ${ratio_cpu}×"
echo "  output: orderlake $(mib "$ol_bytes") MiB in $ol_files files, DuckDB $(mib "$dd_bytes") MiB in $dd_files files (Parquet, snappy); same rows, USD sum and partitions; all values identical: $values_identical"
echo "  machine: nproc $ncpu, $cpu; $threads threads each; load average $load_before before, $load_after after"
echo "  versions: DuckDB $duck_version (C API, libduckdb.so); orderlake $ol_version (git $git_rev)"

json="$out/etl_vs_duckdb.json"
jarr() { local IFS=,; echo "[$*]"; }
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
cat >"$json.tmp" <<EOF
{
  "benchmark": "etl_vs_duckdb",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "lines": $lines,
  "seed": $seed,
  "input_bytes": $input_bytes,
  "input_files": ${#inputs[@]},
  "rows_kept": $exp_rows,
  "repetitions": $reps,
  "threads": $threads,
  "orderlake": {
    "median_s": $ol_med,
    "lines_per_s": $(per_second "$lines" "$ol_med"),
    "runs_s": $(jarr "${ol_times[@]}"),
    "cpu_median_s": $ol_cpu_med,
    "cpu_runs_s": $(jarr "${ol_cpu[@]}"),
    "output_bytes": $ol_bytes,
    "output_files": $ol_files,
    "version": $(jstr "$ol_version"),
    "git": $(jstr "$git_rev")
  },
  "duckdb": {
    "median_s": $dd_med,
    "lines_per_s": $(per_second "$lines" "$dd_med"),
    "runs_s": $(jarr "${dd_times[@]}"),
    "cpu_median_s": $dd_cpu_med,
    "cpu_runs_s": $(jarr "${dd_cpu[@]}"),
    "copy_median_s": $dd_copy_med,
    "copy_lines_per_s": $(per_second "$lines" "$dd_copy_med"),
    "copy_runs_s": $(jarr "${dd_copy_times[@]}"),
    "sync_runs_s": $(jarr "${dd_sync_times[@]}"),
    "output_bytes": $dd_bytes,
    "output_files": $dd_files,
    "version": $(jstr "$duck_version")
  },
  "ratio_duckdb_over_orderlake": $ratio_same,
  "ratio_duckdb_copy_alone_over_orderlake": $ratio_copy,
  "ratio_cpu_duckdb_over_orderlake": $ratio_cpu,
  "check": {
    "rows": $c_ol_rows,
    "sum_total_amount_usd": $c_ol_usd,
    "partitions": $c_ol_parts,
    "values_identical": $values_identical
  },
  "machine": {
    "nproc": $ncpu,
    "cpu": $(jstr "$cpu"),
    "load_average_before": $load_before,
    "load_average_after": $load_after
  }
}
EOF
mv "$json.tmp" "$json"
echo "  written: ${json#"$root"/}"
