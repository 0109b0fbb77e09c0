#!/usr/bin/env bash
# Refreshes the README screenshots: runs the browser journey (which saves its
# screenshots to test/.artifacts/) and copies them to docs/screenshots/.
# Look at them before committing: they show whatever the pages look like today.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-deps.sh
npx tap test/browser/journey.test.ts test/browser/search-journey.test.ts
mkdir -p docs/screenshots
cp test/.artifacts/0[1-6]-*.png docs/screenshots/
ls -1 docs/screenshots/
