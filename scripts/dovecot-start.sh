#!/usr/bin/env bash
# Starts a throwaway Dovecot (IMAP + LMTP) with its own config, ports and directories, for the
# mail tests and a local demo. Nothing outside DIR is touched; no systemd is needed.
#
#   scripts/dovecot-start.sh [DIR] [IMAP_PORT] [LMTP_PORT] [PASSWORD]
#
# Defaults: DIR=./data/dovecot, IMAP 1143, LMTP 1024, password "casebridge".
# A static passdb accepts ANY user name with that password and creates its mailbox on first use:
#   IMAP_URL=imap://support%40localhost:casebridge@127.0.0.1:1143/INBOX
# Mail for support+anything@localhost delivered over LMTP lands in support@localhost's INBOX.
# FOREGROUND=1 keeps Dovecot in the foreground (the test helper runs it that way).
# Stop it with scripts/dovecot-stop.sh DIR.
set -euo pipefail

dir="${1:-./data/dovecot}"
imap_port="${2:-1143}"
lmtp_port="${3:-1024}"
password="${4:-casebridge}"

say() { printf 'dovecot-start: %s\n' "$*" >&2; }

if [[ ! -x /usr/sbin/dovecot || ! -e /usr/lib/dovecot/imap || ! -e /usr/lib/dovecot/lmtp ]]; then
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "Dovecot is not installed: sudo apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd"
    exit 1
  fi
  say "installing dovecot-imapd dovecot-lmtpd (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q -o DPkg::Lock::Timeout=300 update >/dev/null
  apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends dovecot-imapd dovecot-lmtpd >/dev/null
  # The package starts a system-wide instance on the standard ports; ours does not need it.
  command -v systemctl >/dev/null 2>&1 && systemctl disable --now dovecot >/dev/null 2>&1 || true
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
mkdir -p "$dir/run" "$dir/state" "$dir/mail"

if [[ "$(id -u)" -eq 0 ]]; then
  # Dovecot never accesses mail as root: mail belongs to nobody, and every directory on the
  # way to it must be enterable by that user.
  mail_user=nobody
  mail_group="$(id -gn nobody)"
  login_user=dovenull
  internal_user=dovecot
  chown "$mail_user:$mail_group" "$dir/mail"
  chmod 0755 "$dir"
  parent="$dir"
  while [[ "$parent" != "/" ]]; do
    parent="$(dirname "$parent")"
    # Test the "others" execute bit itself: as root, [[ -x ]] is always true.
    (( 8#$(stat -c %a "$parent") & 1 )) || chmod o+x "$parent"
  done
else
  mail_user="$(id -un)"
  mail_group="$(id -gn)"
  login_user="$mail_user"
  internal_user="$mail_user"
fi
uid="$(id -u "$mail_user")"
gid="$(getent group "$mail_group" | cut -d: -f3)"

conf="$dir/dovecot.conf"
# Gotcha: in Dovecot's config a `{` must end its line.
cat >"$conf" <<EOF
protocols = imap lmtp
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
instance_name = casebridge-$imap_port
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = $login_user
default_internal_user = $internal_user
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = 0
mail_location = maildir:$dir/mail/%u/Maildir
mail_uid = $uid
mail_gid = $gid
recipient_delimiter = +
# A throwaway server: speed over durability (no fsync per delivered or moved message).
mail_fsync = never
lmtp_save_to_detail_mailbox = no
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = static
  args = password=$password
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
protocol lmtp {
  postmaster_address = postmaster@localhost
}
protocol imap {
  mail_max_userip_connections = 100
}
EOF

if [[ "${FOREGROUND:-0}" == "1" ]]; then
  exec /usr/sbin/dovecot -F -c "$conf"
fi
/usr/sbin/dovecot -c "$conf"
say "IMAP on 127.0.0.1:$imap_port, LMTP on 127.0.0.1:$lmtp_port, any user, password \"$password\" (logs: $dir/dovecot.log)"
