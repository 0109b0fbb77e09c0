#!/usr/bin/env bash
# Makes sure the system programs the test suite drives for real are installed:
# Chromium (browser journeys, with an emoji font for faithful screenshots) and
# Dovecot (IMAP/LMTP for the mail tests) and PostgreSQL (the suite's second database).
# Runs as npm's `pretest`, so it must be a fast no-op when everything is present.
# As root on Debian/Ubuntu it installs what is missing with apt-get; otherwise it
# says what to install and fails, because the tests would fail later and less clearly.
#
# To add a dependency, add one line to REQUIRED: "<debian package> <file it installs>".
set -euo pipefail

REQUIRED=(
  "chromium /usr/bin/chromium"
  # Screenshots should show what people see: the pages use an emoji or two.
  "fonts-noto-color-emoji /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
  "dovecot-imapd /usr/lib/dovecot/imap"
  "dovecot-lmtpd /usr/lib/dovecot/lmtp"
  # The suite runs a second time on PostgreSQL (scripts/pg-test.sh starts a throwaway cluster).
  "postgresql /usr/lib/postgresql/*/bin/initdb"
)

# A proof may be a glob (PostgreSQL's directory carries its major version).
present() { compgen -G "$1" >/dev/null; }

missing=()
for entry in "${REQUIRED[@]}"; do
  read -r package proof <<<"$entry"
  present "$proof" || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

say() { printf 'ensure-test-deps: %s\n' "$*" >&2; }

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  say "the tests need these system packages, which are not installed: ${missing[*]}"
  if command -v apt-get >/dev/null 2>&1; then
    say "install them with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
  else
    say "install the equivalent packages for your system (Debian names shown above)"
  fi
  exit 1
fi

say "installing ${missing[*]} (apt-get, about a minute)"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run instead of failing on its lock.
apt_opts=(-q -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
log="$(mktemp -t casebridge-apt.XXXXXX)"
# apt and dpkg are chatty even with -q: keep their output for when something fails.
if ! { apt-get "${apt_opts[@]}" update && apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  say "apt-get failed (full output in $log)"
  exit 1
fi
rm -f "$log"

still=()
for entry in "${REQUIRED[@]}"; do
  read -r package proof <<<"$entry"
  present "$proof" || still+=("$package ($proof)")
done
if [[ ${#still[@]} -ne 0 ]]; then
  say "installed, but still missing: ${still[*]}"
  exit 1
fi
say "done"
