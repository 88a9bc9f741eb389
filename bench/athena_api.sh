#!/usr/bin/env bash
# bench/athena_api.sh: latency of the Athena API (`orderlake aws`) for the seed's six queries
# (sql/queries.sql 1-6, over the seed's DDL table tbsm_red_transformed after MSCK REPAIR):
# StartQueryExecution -> SUCCEEDED (GetQueryExecution polled every 5 ms) -> the first page of
# GetQueryResults, p50 and p99, beside the same query through `orderlake query --format csv`
# (a process per statement, as the API's isolated worker is): the API's overhead as a ratio.
# AWS Athena's own floor is about a second (queueing plus planning).
#
#   bench/athena_api.sh                # ~10,000,000 rows
#   bench/athena_api.sh 200000         # quick check
#
# Variables: BENCH_RUNS (samples per query and path, 10), BENCH_SEED (42), BENCH_SQL_THREADS (nproc), BENCH_SQL_TIMEOUT (600),
# ORDERLAKE_BUILD_DIR (build/), ORDERLAKE_SKIP_BUILD (set: use the binary as it is).
# The input and the lake are made once under bench/out/ (athena-<rows>-<seed>/) and reused.
# Results: printed, and bench/out/athena_api.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ORDERLAKE_BUILD_DIR:-$root/build}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
rows="${1:-10000000}"
runs="${BENCH_RUNS:-10}"
seed="${BENCH_SEED:-42}"
case "$rows" in ''|*[!0-9]*) echo "athena_api: the row count must be a number, got '$rows'" >&2; exit 2 ;; esac
out="$root/bench/out"
base="$out/athena-$rows-$seed"
work="$out/work/athena"
mkdir -p "$out" "$work"
die() { echo "athena_api: $*" >&2; exit 1; }

if [ -z "${ORDERLAKE_SKIP_BUILD:-}" ]; then
  echo "building orderlake (scripts/build.sh) ..."
  ORDERLAKE_BUILD_DIR="$build" "$root/scripts/build.sh" orderlake 2>"$work/build.log" || { cat "$work/build.log" >&2; die "build failed"; }
fi
orderlake="$build/orderlake"
[ -x "$orderlake" ] || die "no binary at $orderlake"

# The etl keeps about 95% of the generated lines (the rest are the generator's bad lines).
lines=$(( rows * 105 / 100 ))
if [ ! -f "$base.complete" ]; then
  echo "generating $lines lines and building the lake in $base (once) ..."
  rm -rf "$base"
  "$orderlake" generate --out "$base/in" --count "$lines" --seed "$seed" --start 2010-12-01 --days 30 \
    >"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; die "generate failed"; }
  "$orderlake" etl --input "$base/in" --lake "$base/data/lake" --no-progress >"$work/etl.log" 2>&1 \
    || { cat "$work/etl.log" >&2; die "etl failed"; }
  date -u +%FT%TZ > "$base.complete"
fi
data="$work/data"
rm -rf "$data"
mkdir -p "$data"
cp -al "$base/data/lake" "$data/lake"

# As many DuckDB threads per statement as `orderlake query` uses (every core), so the ratio
# is the API's own overhead (BENCH_SQL_THREADS=1 gives the default console bound instead).
# The seed's query 6 returns ~91% of the table (9.2M of 10M rows, ~2.2 GB of Athena's quoted CSV): longer than the
# console's default 30 s bound and the API's 2 GiB result default, so the statements get
# BENCH_SQL_TIMEOUT (600 s) and 8 GiB of result.
"$orderlake" aws --data-dir "$data" --listen 127.0.0.1:0 --sql-threads "${BENCH_SQL_THREADS:-$(nproc)}" \
  --sql-timeout "${BENCH_SQL_TIMEOUT:-600}" --sql-result-mb 8192 \
  >"$work/aws.out" 2>"$work/aws.err" &
aws_pid=$!
trap 'kill "$aws_pid" 2>/dev/null || true; wait "$aws_pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^AWS endpoint at \(http:[^ ]*\).*/\1/p' "$work/aws.out" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$aws_pid" 2>/dev/null || { cat "$work/aws.err" >&2; die "orderlake aws ended"; }
  sleep 0.1
done
[ -n "$url" ] || die "orderlake aws printed no endpoint"

ORDERLAKE="$orderlake" DATA="$data" URL="$url" RUNS="$runs" ROWS="$rows" SOURCE="$root" OUT="$out/athena_api.json" \
python3 - <<'PY'
import json, os, statistics, subprocess, time
import boto3
from botocore.config import Config

env = os.environ
at = boto3.client("athena", endpoint_url=env["URL"], region_name="us-east-1", aws_access_key_id="x",
                  aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))

def run(sql):
    """Seconds from StartQueryExecution to the first page of results."""
    t0 = time.perf_counter()
    qid = at.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "default"})["QueryExecutionId"]
    while True:
        s = at.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if s["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.005)
    if s["State"] != "SUCCEEDED":
        raise SystemExit(f"athena_api: {sql[:60]!r}: {s}")
    at.get_query_results(QueryExecutionId=qid, MaxResults=1000)
    return time.perf_counter() - t0

def cli(sql):
    t0 = time.perf_counter()
    subprocess.run([env["ORDERLAKE"], "query", "--data-dir", env["DATA"], "--format", "csv", sql], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0

ddl = """CREATE EXTERNAL TABLE IF NOT EXISTS `default`.`tbsm_red_transformed` (
  `CustomerID` int, `OrderID` string, `InvoiceNo` string, `StockCode` string, `Description` string,
  `Quantity` int, `UnitPrice` double, `TotalAmount` double, `TotalAmountUSD` double, `OrderTag` string,
  `InvoiceDate` string, `InvoiceHour` int, `Region` string, `Country` string, `InvoiceDateOnly` date)
PARTITIONED BY (`Country` string, `InvoiceDateOnly` date) STORED AS PARQUET
LOCATION 's3://orderlake-lake/orders/'"""
run(ddl)
run("MSCK REPAIR TABLE tbsm_red_transformed")
text = open(os.path.join(env["SOURCE"], "sql", "queries.sql")).read()
text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("--"))
queries = [s.strip() for s in text.split(";") if s.strip()][:6]
runs = int(env["RUNS"])
pct = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
report = {"rows": int(env["ROWS"]), "runs": runs, "queries": []}
print(f"{'query':<6} {'api p50':>9} {'api p99':>9} {'cli p50':>9} {'cli p99':>9} {'ratio p50':>9}")
for i, q in enumerate(queries, 1):
    run(q)  # warm the page cache for both paths
    api = [run(q) for _ in range(runs)]
    ref = [cli(q) for _ in range(runs)]
    r = {"query": i, "api_p50_ms": pct(api, 50) * 1000, "api_p99_ms": pct(api, 99) * 1000,
         "cli_p50_ms": pct(ref, 50) * 1000, "cli_p99_ms": pct(ref, 99) * 1000}
    r["ratio_p50"] = r["api_p50_ms"] / r["cli_p50_ms"]
    report["queries"].append(r)
    print(f"{i:<6} {r['api_p50_ms']:>7.0f}ms {r['api_p99_ms']:>7.0f}ms {r['cli_p50_ms']:>7.0f}ms "
          f"{r['cli_p99_ms']:>7.0f}ms {r['ratio_p50']:>9.2f}")
json.dump(report, open(env["OUT"], "w"), indent=1)
print(f"rows: {report['rows']}; written {env['OUT']}")
PY
