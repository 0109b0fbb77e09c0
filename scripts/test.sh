#!/usr/bin/env bash
# The README's test command (`npm test`): type-checks the code, then runs the whole tap suite on
# SQLite (a fresh file per test) and again on PostgreSQL (a throwaway cluster started by
# scripts/pg-test.sh from Debian's package, a fresh database per test). Ends with one tap-style
# summary line adding up both runs, which .ci/run reads.
#
# The type check emits the JavaScript the tests then run (.test-build/, a mirror of the project
# with views/, public/ and package.json linked in): the same code, without tsx's loader in every
# test process. Tests that start the product or a child process run the TypeScript sources
# through tsx, as `npm start` does.
#
#   npm test                          both databases, every test file
#   npm test -- test/api/*.test.ts    both databases, these files
#   TEST_DATABASES=sqlite npm test    one of them (sqlite | postgres | both, default both)
set -uo pipefail
cd "$(dirname "$0")/.."

which="${TEST_DATABASES:-both}"
case "$which" in sqlite|postgres|both) ;; *) echo "TEST_DATABASES must be sqlite, postgres or both" >&2; exit 2 ;; esac

build=.test-build
rm -rf "$build"
npx tsc --outDir "$build" || exit $?
for linked in views public package.json; do ln -s "../$linked" "$build/$linked"; done

files=("$@")
if (( ${#files[@]} == 0 )); then
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi

# test/x.test.ts -> .test-build/test/x.test.js
compiled() { local f; for f in "$@"; do f="${f#./}"; echo "$build/${f%.ts}.js"; done; }

logs="$(mktemp -d -t casebridge-test.XXXXXX)"
trap 'rm -rf "$logs"' EXIT
status=0
runs=()

if [[ "$which" != postgres ]]; then
  echo "# --- SQLite ---"
  start=$SECONDS
  # pipefail: tap's status, not tee's.
  TEST_DATABASE_URL= npx tap $(compiled "${files[@]}") 2>&1 | tee "$logs/sqlite" || status=1
  echo "# SQLite run: $(( SECONDS - start )) s"
  runs+=(sqlite)
fi
if [[ "$which" != sqlite ]]; then
  echo "# --- PostgreSQL ---"
  start=$SECONDS
  # Files that never reach Casebridge's database (pure functions, the static architecture check,
  # the emulator with its own store), that start the product exactly as the README does (SQLite
  # by default), or that drive a browser through pages whose every route the web tests already run
  # on PostgreSQL, or that send malformed input the edge refuses before any query (the POST crawl,
  # the redirect probe): once, on SQLite, is enough. (Run one on PostgreSQL by hand with
  # scripts/pg-test.sh FILE.) The rest, about 80 files, run again here.
  once='^test/(architecture|server)\.test\.ts$|^test/(domain|emulator|browser)/|^test/imap/(decisions|replies)\.test\.ts$|^test/mail/(config|thread-token)\.test\.ts$|^test/sync/mapping\.test\.ts$|^test/api/refusals\.test\.ts$|^test/web/(malformed-crawl|redirect-probe)\.test\.ts$|^test/db/statement-cache\.test\.ts$'
  pg_files=()
  for f in "${files[@]}"; do
    if (( $# > 0 )) || ! [[ "$f" =~ $once ]]; then pg_files+=("$f"); fi
  done
  echo "# ${#pg_files[@]} of ${#files[@]} files (the others do not depend on the database)"
  # The database work happens in the PostgreSQL server, so a third file at a time keeps both cores busy.
  PG_PORT="${PG_PORT:-55439}" TAP_JOBS="${TAP_JOBS:-3}" bash scripts/pg-test.sh $(compiled "${pg_files[@]}") 2>&1 | tee "$logs/postgres" || status=1
  echo "# PostgreSQL run: $(( SECONDS - start )) s"
  runs+=(postgres)
fi

# tap ends each run with "# { total: N, pass: N, fail: N, ... }" (zero counts left out).
declare -A sum=([total]=0 [pass]=0 [fail]=0 [skip]=0 [todo]=0)
for run in "${runs[@]}"; do
  line="$(grep -E '^# \{ total: [0-9]+' "$logs/$run" | tail -n 1 || true)"
  if [[ -z "$line" ]]; then
    echo "# $run: no tap summary (the run did not finish)"
    status=1
    continue
  fi
  echo "# $run: ${line#\# }"
  for key in total pass fail skip todo; do
    n="$(grep -oE "$key: [0-9]+" <<<"$line" | grep -oE '[0-9]+' || echo 0)"
    sum[$key]=$(( ${sum[$key]} + n ))
  done
done
summary="total: ${sum[total]}, pass: ${sum[pass]}"
for key in fail skip todo; do (( ${sum[$key]} > 0 )) && summary="$summary, $key: ${sum[$key]}"; done
echo "# { $summary }"
exit "$status"
