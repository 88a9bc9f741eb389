#!/usr/bin/env bash
# The test command of the README: sets up the machine, builds, runs every test (ctest), then
# runs each fuzz target for a short budget (scripts/fuzz.sh $ORDERLAKE_FUZZ_SECONDS, default
# 10 s each; 0 skips; skipped with a note when clang is missing). Arguments go to ctest.
#
#   scripts/test.sh --sanitize [CTEST ARGS]  the whole suite under ASan+UBSan (build-asan/)
#   scripts/test.sh --tsan [CTEST ARGS]      the threaded stages' tests under TSan (build-tsan/)
#
# Under a sanitizer every report (of a test binary or of an orderlake process a test started)
# is also written to <build>/sanitizer-logs/; the run fails when any is there, even if the
# test that caused it passed. See docs/testing.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=plain
case "${1:-}" in
  --sanitize) mode=address; shift ;;
  --tsan) mode=thread; shift ;;
esac

if [ "$mode" = plain ]; then
  build="${ORDERLAKE_BUILD_DIR:-$root/build}"
  "$root/scripts/build.sh"
  cd "$build"
  ctest --output-on-failure --timeout 900 -j2 "$@"
  seconds="${ORDERLAKE_FUZZ_SECONDS:-10}"
  if [ "$seconds" = 0 ]; then
    echo "test.sh: fuzzing skipped (ORDERLAKE_FUZZ_SECONDS=0)"
  elif ! command -v clang++ >/dev/null; then
    echo "test.sh: fuzzing skipped: clang++ is not installed (scripts/fuzz.sh needs libFuzzer)"
  else
    "$root/scripts/fuzz.sh" "$seconds"
  fi
  exit 0
fi

if [ "$mode" = address ]; then
  build="${ORDERLAKE_ASAN_BUILD_DIR:-$root/build-asan}"
else
  build="${ORDERLAKE_TSAN_BUILD_DIR:-$root/build-tsan}"
fi
"$root/scripts/sanitize_build.sh" "$build" "$mode"
logs="$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
supp="$root/scripts/sanitizers"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
if [ "$mode" = address ]; then
  # Leaks are checked in every process (no suppressions needed so far: libduckdb.so is not
  # instrumented, but what it allocates through our calls is freed by our handles).
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:log_path=$logs/asan"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
  stages=()
else
  # TSan on the stages whose threads are ours: DuckDB (uninstrumented) starts threads of its
  # own and synchronizes them in code TSan cannot see, so the query engine's stages (query,
  # table, crawl, the dashboard's SQL, up) would report its internals; see docs/testing.md.
  # ignore_noninstrumented_modules: what libduckdb.so (and libstdc++) do inside themselves is
  # not seen at all, rather than half seen (their mutexes locked where TSan cannot see and
  # unlocked through inline code it can); tsan.supp drops races whose stacks run through
  # DuckDB's code. Races between our own threads are still reported.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$supp/tsan.supp:log_path=$logs/tsan"
  stages=(-L "^(core|aws|store|agent|firehose|etl|generate)\$")
fi
cd "$build"
rc=0
ctest --output-on-failure --timeout 1800 -j2 "${stages[@]}" "$@" || rc=$?
reports=("$logs"/*)
if [ -e "${reports[0]}" ]; then
  echo "test.sh: ${#reports[@]} sanitizer report(s) in $logs:" >&2
  for f in "${reports[@]}"; do
    echo "---- $f" >&2
    head -n 60 "$f" >&2
  done
  rc=1
fi
exit "$rc"
