#!/usr/bin/env bash
# Refreshes the README screenshots: runs the browser journeys and the every-page test (which save
# their screenshots, the 375 px ones as mobile-*.png, to test/.artifacts/) and copies them to
# docs/screenshots/.
# Look at them before committing: they show whatever the pages look like today.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-deps.sh
npx tap test/browser/journey.test.ts test/browser/search-journey.test.ts test/browser/every-page.test.ts
mkdir -p docs/screenshots
cp test/.artifacts/0[1-6]-*.png test/.artifacts/mobile-*.png docs/screenshots/
ls -1 docs/screenshots/
