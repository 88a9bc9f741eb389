#!/usr/bin/env bash
# Configures (once) and builds a sanitizer build directory: scripts/sanitize_build.sh DIR KIND
# [NINJA TARGETS...], KIND "address" (ASan+UBSan; with clang also libFuzzer's coverage and the
# fuzz/ targets, so scripts/fuzz.sh and `scripts/test.sh --sanitize` share one build) or
# "thread" (TSan). Used by scripts/test.sh and scripts/fuzz.sh; see docs/testing.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$1"
kind="$2"
shift 2
duckdb_dir="$("$root/scripts/setup.sh" --print-duckdb-dir | tail -n 1)"
cc=gcc cxx=g++
if command -v clang++ >/dev/null; then cc=clang cxx=clang++; fi
flags=(-DORDERLAKE_SANITIZE="$kind")
if [ "$kind" = address ] && [ "$cxx" = clang++ ]; then flags+=(-DORDERLAKE_FUZZ=ON); fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_NOHASHDIR=1  # objects shared between worktrees and build directories
fi
if [ ! -f "$build/build.ninja" ] || ! grep -q "DUCKDB_DIR:PATH=$duckdb_dir\$" "$build/CMakeCache.txt" 2>/dev/null; then
  CC="$cc" CXX="$cxx" cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDUCKDB_DIR="$duckdb_dir" "${launcher[@]}" "${flags[@]}" >&2
fi
ninja -C "$build" -j"${ORDERLAKE_JOBS:-$(nproc)}" "$@" >&2
