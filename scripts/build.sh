#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then configures and builds orderlake into
# build/ (or $ORDERLAKE_BUILD_DIR). Quiet and quick when everything is up to date.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ORDERLAKE_BUILD_DIR:-$root/build}"
duckdb_dir="$("$root/scripts/setup.sh" --print-duckdb-dir | tail -n 1)"
if [ ! -f "$build/build.ninja" ] || ! grep -q "DUCKDB_DIR:PATH=$duckdb_dir\$" "$build/CMakeCache.txt" 2>/dev/null; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUCKDB_DIR="$duckdb_dir" >&2
fi
ninja -C "$build" -j"$(nproc)" "$@" >&2
