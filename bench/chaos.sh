#!/usr/bin/env bash
# The pipeline under SIGKILL and faults: see bench/chaos.py for what it does and prints.
#   bench/chaos.sh                         # stages mode, 120 kills
#   CHAOS_KILLS=10 bench/chaos.sh          # the short run CI does
#   CHAOS_MODE=all bench/chaos.sh          # stages, up, disk full (tmpfs, root), S3 outages (moto)
# Builds orderlake first unless ORDERLAKE_SKIP_BUILD=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${ORDERLAKE_SKIP_BUILD:-0}" != 1 ]; then "$root/scripts/build.sh" >/dev/null; fi
exec python3 "$root/bench/chaos.py" "$@"
