#!/usr/bin/env bash
# Stops a Dovecot started by scripts/dovecot-start.sh DIR (signals its master process only).
#   scripts/dovecot-stop.sh [DIR]        DIR defaults to ./data/dovecot
set -euo pipefail

dir="${1:-./data/dovecot}"
pidfile="$dir/run/master.pid"
if [[ ! -f "$pidfile" ]]; then
  printf 'dovecot-stop: no master.pid under %s/run (not running?)\n' "$dir" >&2
  exit 0
fi
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  # Dovecot waits for its children; give it a few seconds before insisting.
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
fi
rm -f "$pidfile"
printf 'dovecot-stop: stopped (pid %s)\n' "$pid" >&2
