#!/usr/bin/env bash
# Runs test files against a throwaway PostgreSQL cluster instead of SQLite: starts a cluster in
# a temporary directory, runs tap with TEST_DATABASE_URL (test/helpers/app.ts then gives each
# test its own fresh database), and stops and deletes the cluster however tap ends.
# `npm test` (scripts/test.sh) runs the whole suite through it after the SQLite run.
#
#   scripts/pg-test.sh test/db/search.test.ts test/web/reports.test.ts ...
#   scripts/pg-test.sh --run npx tsx bench/scale/run.ts     (any command, with TEST_DATABASE_URL)
#
# PG_BIN   PostgreSQL's bin directory (default: the newest /usr/lib/postgresql/*/bin, else pg_config's)
# PG_PORT  port to listen on, 127.0.0.1 only (default 55439)
# TAP_JOBS test files run at a time (default: .taprc's; scripts/test.sh gives 3)
# KEEP_PG=1 leaves the cluster running afterwards and prints its URL (stop it with
#           `pg_ctl -D <dir>/data stop`, as the cluster's owner).
# As root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

cd "$(dirname "$0")/.."
if (( $# == 0 )) && [[ "${KEEP_PG:-}" != 1 ]]; then
  echo "usage: scripts/pg-test.sh TEST_FILE...   (or KEEP_PG=1 scripts/pg-test.sh: just start one)" >&2
  exit 2
fi

say() { printf 'pg-test: %s\n' "$*" >&2; }

bin="${PG_BIN:-}"
if [[ -z "$bin" ]]; then
  # Debian's package, the newest major version installed.
  newest="$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true)"
  if [[ -n "$newest" ]]; then bin="$(dirname "$newest")"
  elif command -v pg_config >/dev/null 2>&1; then bin="$(pg_config --bindir)"
  fi
fi
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
  say "PostgreSQL server binaries not found (set PG_BIN; Debian: apt-get install postgresql-15)"
  exit 1
fi
port="${PG_PORT:-55439}"

dir="$(mktemp -d -t casebridge-pg.XXXXXX)"
run_as=()
if [[ "$(id -u)" -eq 0 ]]; then
  owner=postgres
  if ! id "$owner" >/dev/null 2>&1; then say "running as root needs a 'postgres' user"; exit 1; fi
  chown "$owner" "$dir"
  chmod 0755 "$dir"
  run_as=(runuser -u "$owner" --)
fi
pg() { "${run_as[@]}" "$@"; }

stop() {
  local status=$?
  if [[ "${KEEP_PG:-}" == 1 ]]; then
    say "left running: TEST_DATABASE_URL=${url:-?} (data in $dir/data)"
  else
    pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Trust auth on 127.0.0.1 and a private socket directory: nothing but this machine can reach it.
pg "$bin/initdb" -D "$dir/data" -U casebridge --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# A throwaway cluster: speed over durability. Each test opens a pool of up to 10 connections
# and tap runs two files at once, hence the connection limit.
cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start >/dev/null \
  || { cat "$dir/postgres.log" >&2; exit 1; }
url="postgres://casebridge@127.0.0.1:$port/postgres"
say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port"

if [[ "${1:-}" == --run ]]; then
  # Any command (a benchmark) with the cluster's URL.
  shift
  TEST_DATABASE_URL="$url" "$@"
elif (( $# > 0 )); then
  # TAP_JOBS: files at a time (default: .taprc's).
  TEST_DATABASE_URL="$url" npx tap ${TAP_JOBS:+--jobs "$TAP_JOBS"} "$@"
fi
