#!/usr/bin/env bash
# The operating-system work of diachiso, all of it: the Debian packages it needs (only
# those missing, only when root) and, when root, the unprivileged user PostgreSQL runs as
# (addresses/pgcluster.py uses postgres or diachiso and creates neither).
# Not root: print the exact apt command and stop if something is missing.
set -euo pipefail

ensure_run_user() {
  [ "$(id -u)" = 0 ] || return 0
  id postgres >/dev/null 2>&1 || id diachiso >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin diachiso
}

need=()
python3 -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql postgis)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
if [ "${DIACHISO_WITH_BROWSER:-1}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v make >/dev/null 2>&1 || need+=(make)
command -v wrk >/dev/null 2>&1 || need+=(wrk)  # the HTTP load generator of benchmarks/bench_http.py
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)  # Addok, the geocoding benchmarks' peer

if [ ${#need[@]} -eq 0 ]; then ensure_run_user; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "diachiso needs these Debian packages: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the distribution's postgis package name follows the server version
if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  v=$(ls /usr/lib/postgresql | sort -n | tail -1)
  apt-get install -y -qq --no-install-recommends "postgresql-$v-postgis-3" >/dev/null
fi
ensure_run_user
