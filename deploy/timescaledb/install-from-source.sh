#!/usr/bin/env bash
# Build the unmodified TimescaleDB source found beside the project (../shared/vendor/) into the local
# PostgreSQL 15, once per machine, so the tests can run the production storage path too.
# Does nothing when the server already has the extension or when the source is absent (the
# TimescaleDB-path tests then skip, saying why). Nothing of the source is kept in the project.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
tarball="${TELECARE_TIMESCALEDB_SOURCE:-$here/../shared/vendor/timescaledb-2.28.3.tar.gz}"
pg_config="${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || command -v pg_config || true)}"
if [ -z "$pg_config" ]; then echo "timescaledb: no pg_config found; skipping"; exit 0; fi
libdir="$("$pg_config" --pkglibdir)"
if [ -e "$libdir/timescaledb.so" ]; then exit 0; fi
if [ ! -f "$tarball" ]; then
  echo "timescaledb: not installed and no source at $tarball; the TimescaleDB-path tests will skip"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
need=()
[ -e "$("$pg_config" --includedir-server)/postgres.h" ] || need+=(postgresql-server-dev-15)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
if [ ${#need[@]} -gt 0 ]; then
  echo "timescaledb: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "timescaledb: building $(basename "$tarball") into $libdir (about 5 minutes on 2 cores, once per machine)"
tar -xzf "$tarball" -C "$work"
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
cd "$src"
./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DPG_CONFIG="$pg_config" >"$work/bootstrap.log" 2>&1 \
  || { tail -30 "$work/bootstrap.log"; exit 1; }
make -C build -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
$SUDO make -C build install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
echo "timescaledb: installed"
