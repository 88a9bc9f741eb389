#!/usr/bin/env bash
# Installs everything orderlake needs on a fresh Debian 12 machine of this kind:
#   - the Debian packages of the build, the tests and the benchmarks (apt-get), and
#   - DuckDB 1.4.4 (LTS): libduckdb.so from the npm package @duckdb/node-bindings-linux-x64
#     and duckdb.h from the npm package duckdb, both pinned and checked against their
#     sha512 integrity, cached outside the source tree (ORDERLAKE_CACHE, default
#     ~/.cache/orderlake) so a second run downloads nothing.
# Idempotent; when everything is present it only checks and returns in well under a second.
# Prints the DuckDB directory on its last line of stdout when run with --print-duckdb-dir.
set -euo pipefail

APT_PACKAGES=(
  cmake ninja-build g++ pkg-config git ca-certificates
  libssl-dev libcurl4-openssl-dev zlib1g-dev libsnappy-dev libzstd-dev libdeflate-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libsimdjson-dev
  libcpp-httplib-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm python3
  awscli chromium curl openssl
)

DUCKDB_VERSION=1.4.4
DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
DUCKDB_LIB_INTEGRITY="sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA=="
DUCKDB_HDR_PKG="duckdb@1.4.4"
DUCKDB_HDR_INTEGRITY="sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="

CACHE_DIR="${ORDERLAKE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orderlake}"
DUCKDB_DIR="$CACHE_DIR/duckdb-$DUCKDB_VERSION"

log() { echo "setup: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_debian_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # Commands that may come from elsewhere (the image's own node/npm/python) count as present.
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
      python3) command -v python3 >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# fetch_npm PACKAGE@VERSION INTEGRITY DEST: npm pack into DEST, verify the tarball's sha512.
fetch_npm() {
  local spec="$1" integrity="$2" dest="$3"
  (cd "$dest" && npm pack "$spec" --silent >/dev/null 2>&1) || { log "npm pack $spec failed"; return 1; }
  local tgz
  tgz=$(ls "$dest"/*.tgz | head -n 1)
  local got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    log "integrity mismatch for $spec: expected $integrity, got $got"
    return 1
  fi
  echo "$tgz"
}

install_duckdb() {
  if [ -f "$DUCKDB_DIR/.complete" ]; then return 0; fi
  log "fetching DuckDB $DUCKDB_VERSION from npm into $DUCKDB_DIR"
  local work
  work=$(mktemp -d)
  mkdir -p "$work/lib" "$work/hdr"
  local lib_tgz hdr_tgz
  lib_tgz=$(fetch_npm "$DUCKDB_LIB_PKG" "$DUCKDB_LIB_INTEGRITY" "$work/lib")
  hdr_tgz=$(fetch_npm "$DUCKDB_HDR_PKG" "$DUCKDB_HDR_INTEGRITY" "$work/hdr")
  mkdir -p "$work/out/lib" "$work/out/include"
  tar -xzf "$lib_tgz" -C "$work/lib" package/libduckdb.so
  tar -xzf "$hdr_tgz" -C "$work/hdr" package/src/duckdb/src/include/duckdb.h
  mv "$work/lib/package/libduckdb.so" "$work/out/lib/"
  mv "$work/hdr/package/src/duckdb/src/include/duckdb.h" "$work/out/include/"
  mkdir -p "$CACHE_DIR"
  rm -rf "$DUCKDB_DIR.partial"
  mv "$work/out" "$DUCKDB_DIR.partial"
  touch "$DUCKDB_DIR.partial/.complete"
  rm -rf "$DUCKDB_DIR"
  mv "$DUCKDB_DIR.partial" "$DUCKDB_DIR"
  rm -rf "$work"
}

# The web front end's npm packages (web/package.json, pinned by web/package-lock.json).
install_web_packages() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  [ -f "$root/web/package-lock.json" ] || return 0
  local stamp="$root/web/node_modules/.orderlake-lock.sha256"
  local want
  want=$(sha256sum "$root/web/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing web packages (npm ci in web/)"
  (cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" > "$stamp"
}

main() {
  install_debian_packages
  install_duckdb
  install_web_packages
  if [ "${1:-}" = "--print-duckdb-dir" ]; then echo "$DUCKDB_DIR"; fi
}
main "$@"
