#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan+UBSan; -DORDERLAKE_FUZZ=ON in
# build-asan/, the directory `scripts/test.sh --sanitize` uses too) and runs each for SECONDS
# (default 60) over its seed corpus fuzz/corpus/<target>/, one after the other.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 10, scripts/fuzz.sh 600 sql
#
# Prints, per target, the executions, the coverage (libFuzzer's cov: edges, ft: features)
# and the corpus size; exits non-zero when any target crashed, leaked, timed out or broke a
# property. Crash inputs are kept in $ORDERLAKE_FUZZ_FINDINGS/<target>/ (default
# fuzz/findings/, not in git); reproduce one with build-asan/fuzz/fuzz_<target> <file>. The
# corpus a run grows is kept in build-asan/fuzz-corpus/<target>/ (the seeds stay as they are).
# Logs go to $ORDERLAKE_FUZZ_LOGS/<target>.log (default build-asan/fuzz-logs/).
# Environment: ORDERLAKE_FUZZ_BUILD_DIR, ORDERLAKE_FUZZ_FINDINGS, ORDERLAKE_FUZZ_LOGS,
# ORDERLAKE_FUZZ_NICE (a nice level for the fuzzers, default 0), ORDERLAKE_FUZZ_NO_BUILD=1
# (run the targets as built, e.g. while another build of the directory is going on).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
[ $# -gt 0 ] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: SECONDS must be a whole number of seconds >= 1, got '$seconds'" >&2
  exit 2
fi
all_targets=(record firehose sigv4 agent_config sql delta crawl parquet)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " $t " ]]; then
    echo "fuzz.sh: unknown target '$t' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ is needed (libFuzzer); install clang" >&2
  exit 2
fi
build="${ORDERLAKE_FUZZ_BUILD_DIR:-$root/build-asan}"
findings="${ORDERLAKE_FUZZ_FINDINGS:-$root/fuzz/findings}"
logs="${ORDERLAKE_FUZZ_LOGS:-$build/fuzz-logs}"

if [ "${ORDERLAKE_FUZZ_NO_BUILD:-0}" != 1 ]; then
  "$root/scripts/sanitize_build.sh" "$build" address fuzzers >&2
fi

# halt_on_error: the first report ends the run with the input kept; libduckdb.so is not
# instrumented (see docs/testing.md), which ASan tolerates.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
mkdir -p "$logs"
failed=()
printf '%-13s %12s %8s %8s %7s  %s\n' target executions cov ft corpus result
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work" "$findings/$t"
  log="$logs/$t.log"
  rc=0
  nice -n "${ORDERLAKE_FUZZ_NICE:-0}" "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=30 -rss_limit_mb=2560 -max_len=65536 -artifact_prefix="$findings/$t/" \
    "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc; log $log; inputs in $findings/$t/)"
    failed+=("$t")
  fi
  printf '%-13s %12s %8s %8s %7s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  for t in "${failed[@]}"; do
    echo "---- $t: the report ----" >&2
    grep -E -A12 '^==[0-9]+==ERROR|runtime error|fuzz property failed|ERROR: libFuzzer' "$logs/$t.log" | head -n 40 >&2 || true
  done
  exit 1
fi
