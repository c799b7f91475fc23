#!/usr/bin/env bash
# Build the unmodified TimescaleDB source found beside the project (../shared/vendor/) into the local
# PostgreSQL 15, once per machine, so the tests can run the production storage path too.
# Does nothing when the server already has the extension or when the source is absent (the
# TimescaleDB-path tests then skip, saying why). Nothing of the source is kept in the project.
#
# TELECARE_TIMESCALEDB_SOURCE names another tarball (then TELECARE_TIMESCALEDB_SHA256 its checksum);
# PG_CONFIG another PostgreSQL.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
name=timescaledb-2.28.3.tar.gz
# The checksum ../shared/vendor/README.md gives for the unmodified `git archive` of tag 2.28.3.
sha256="${TELECARE_TIMESCALEDB_SHA256:-ec2f7de0ba53a473c01e0a57e09053898c6b1f7487228caff0f1d31c8cb2dedb}"

pg_config="${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || command -v pg_config || true)}"
if [ -z "$pg_config" ]; then echo "timescaledb: no pg_config found; skipping"; exit 0; fi
libdir="$("$pg_config" --pkglibdir)"
sharedir="$("$pg_config" --sharedir)"
# All three pieces, so that an install cut short is done again rather than taken for complete.
if [ -e "$libdir/timescaledb.so" ] && [ -e "$sharedir/extension/timescaledb.control" ] \
  && compgen -G "$libdir/timescaledb-tsl-*.so" >/dev/null; then
  exit 0
fi

if [ -n "${TELECARE_TIMESCALEDB_SOURCE:-}" ]; then
  candidates=("$TELECARE_TIMESCALEDB_SOURCE")
else
  candidates=("$here/../shared/vendor/$name")
  # A git worktree elsewhere: look beside the main checkout as well.
  common="$(git -C "$here" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  [ -n "$common" ] && candidates+=("$(dirname "$common")/../shared/vendor/$name")
fi
tarball=
for candidate in "${candidates[@]}"; do
  if [ -f "$candidate" ]; then tarball="$candidate"; break; fi
done
if [ -z "$tarball" ]; then
  echo "timescaledb: not installed in $libdir and no source at ${candidates[*]};" \
    "the TimescaleDB-path tests will skip"
  exit 0
fi
if ! echo "$sha256  $tarball" | sha256sum -c --quiet - >/dev/null 2>&1; then
  echo "timescaledb: $tarball does not have the expected sha256 $sha256; not building it" >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
need=()
[ -e "$("$pg_config" --includedir-server)/postgres.h" ] || need+=(postgresql-server-dev-15)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v cc >/dev/null 2>&1 || need+=(gcc)
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
