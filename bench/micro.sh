#!/usr/bin/env bash
# bench/micro.sh: the hand-written SHA-256 and Parquet writer beside the library each could be
# replaced by, in one run of bench/micro/micro.cpp (Google Benchmark), with the ratios printed.
#
#   bench/micro.sh                      # 3 repetitions of each benchmark, medians compared
#   BENCH_REPS=1 bench/micro.sh
#
# Ratios above 1 mean orderlake's own code is faster. Output files go to bench/out/micro/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ORDERLAKE_BUILD_DIR:-$ROOT/build}
REPS=${BENCH_REPS:-3}
OUT=$ROOT/bench/out/micro
mkdir -p "$OUT"
"$ROOT/scripts/build.sh" micro
BENCH_OUT="$OUT" "$BUILD/bench/micro" --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_out="$OUT/micro.json" --benchmark_out_format=json
python3 - "$OUT/micro.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
med = {b["run_name"]: b for b in runs if b.get("aggregate_name") == "median"}
def t(name):  # real time per iteration, ns
    b = med[name]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    return b["real_time"] * scale
print("\nSHA-256 of one short key (ns; ratio = library time / orderlake time)")
print(f"{'key bytes':>9} {'orderlake':>10} {'EVP_Digest':>11} {'EVP ctx':>9} {'vs Digest':>10} {'vs ctx':>8}")
for n in (16, 30, 45, 60):
    o, d, c = t(f"BM_Sha256_Orderlake/{n}"), t(f"BM_Sha256_EvpDigest/{n}"), t(f"BM_Sha256_EvpReusedCtx/{n}")
    print(f"{n:>9} {o:>10.1f} {d:>11.1f} {c:>9.1f} {d/o:>9.2f}x {c/o:>7.2f}x")
rows = 1 << 20
o = t(f"BM_Parquet_Orderlake/{rows}/real_time")
print(f"\nParquet file of {rows:,} rows x 13 columns (ms; ratio = DuckDB time / orderlake time)")
print(f"  orderlake FileWriter (1 thread): {o/1e6:8.1f} ms  {med[f'BM_Parquet_Orderlake/{rows}/real_time']['file_MB']:.1f} MB")
for th in (1, 2):
    name = f"BM_Parquet_DuckdbCopy/{rows}/{th}/real_time"
    d = t(name)
    print(f"  DuckDB COPY, threads={th}:         {d/1e6:8.1f} ms  {med[name]['file_MB']:.1f} MB   {d/o:.2f}x")
PY
