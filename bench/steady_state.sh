#!/usr/bin/env bash
# Steady state: the incremental etl run's cost at 3k, 100k and 1M objects of history, and a
# compressed soak of `orderlake up` printing each figure's trend. See bench/steady_state.py
# for what is measured and the BENCH_* variables; BENCH_SHORT=1 is a quick check.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${ORDERLAKE_SKIP_BUILD:-}" ]; then "$root/scripts/build.sh" orderlake >/dev/null; fi
exec python3 "$root/bench/steady_state.py" "$@"
