#!/usr/bin/env bash
# The test command of the README: sets up the machine, builds, runs every test (ctest).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ORDERLAKE_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --timeout 900 -j2 "$@"
