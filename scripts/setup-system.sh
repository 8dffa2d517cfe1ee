#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing: a CJK font for labels, Chromium for the
# browser tests, poppler for rasterising PDF labels in tests, wrk for the scan page's closed-loop benchmark
# (scripts/bench_scan.py; its Python fallback costs a core itself and understates the server), redis-server for
# the several-instances test (tests/scale/test_stateless.py starts its own). Needs root (or
# sudo) and apt-get; elsewhere it says what to install and carries on (the tests that need a missing piece then fail or skip, saying why).
set -euo pipefail
need=()
[[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || -n "${LABEL_FONT_PATH:-}" ]] || need+=(fonts-wqy-microhei)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v java >/dev/null 2>&1 || [[ -n "${NEO4J_URI:-}" ]] || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || [[ -n "${NEO4J_URI:-}" ]] || need+=(maven)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# Optional, only for scripts/bench_pg.py (the PostgreSQL side-by-side benchmark): WITH_POSTGRES=1 make setup
if [[ -n "${WITH_POSTGRES:-}" ]] && ! command -v initdb >/dev/null 2>&1 \
    && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then need+=(postgresql); fi
# Redis: shared rate limits and lockouts of several web instances (REDIS_URL; tests/scale starts its own)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[[ ${#need[@]} -eq 0 ]] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: please install: ${need[*]} (Debian package names)" >&2
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: please install (as root): apt-get install ${need[*]}" >&2
    exit 0
  fi
fi
echo "setup: installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
