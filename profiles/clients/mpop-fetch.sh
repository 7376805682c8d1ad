#!/bin/sh
# Fetch a POP3 mailbox with mpop. The script writes an mpop configuration
# file (0600, in WORKDIR) whose passwordeval reads PASSFILE, so the password
# is never on a command line or in the file; mpop delivers into the maildir
# OUTDIR (the script makes cur/, new/ and tmp/: mpop creates none) and
# keeps its UIDL list in WORKDIR.
#   mpop-fetch.sh MODE HOST PORT USER PASSFILE CAFILE OUTDIR WORKDIR ACTION AUTH
# MODE: plain (tls off), stls (tls on, tls_starttls on: mpop has no
#       "STLS if offered", TLS on means required), stls-opt (the same),
#       implicit (tls on, tls_starttls off)
# ACTION: fetch, fetch-keep (keep on), check (--status-only)
# AUTH: default or apop (auth apop). Default: with TLS "auth on" (mpop picks
#       the method); without TLS "auth user", because "auth on" never
#       chooses a cleartext method (USER/PASS, PLAIN) when TLS is off, nor
#       APOP: mpop ends with "cannot use a secure authentication method".
# Exit status: mpop's (sysexits.h: 0 ok, 69 unavailable, 76 protocol,
# 77 no permission / authentication, ...).
set -u
mode=$1 host=$2 port=$3 user=$4 passfile=$5 cafile=$6 outdir=$7 workdir=$8 action=$9
auth=${10:-default}
umask 077
# mpop configuration arguments: "..." with \ and " escaped.
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
case "$mode" in
  plain) tls="tls off" ;;
  stls|stls-opt) tls="tls on
tls_starttls on
tls_trust_file $(q "$cafile")" ;;
  implicit) tls="tls on
tls_starttls off
tls_trust_file $(q "$cafile")" ;;
  *) echo "mpop-fetch.sh: unknown mode $mode" >&2; exit 2 ;;
esac
flags=""
case "$action" in
  fetch) keep="keep off" ;;
  fetch-keep) keep="keep on" ;;
  check) keep="keep on"; flags="--status-only" ;;
  *) echo "mpop-fetch.sh: unknown action $action" >&2; exit 2 ;;
esac
case "$auth" in
  apop) authcmd="auth apop" ;;
  *) if [ "$mode" = plain ]; then authcmd="auth user"; else authcmd="auth on"; fi ;;
esac
mkdir -p "$outdir/cur" "$outdir/new" "$outdir/tmp" || exit 1
conf="$workdir/mpoprc"
# passwordeval runs through the shell: single-quote the path.
pf=$(printf '%s' "$passfile" | sed "s/'/'\\\\''/g")
cat > "$conf" <<CONF
defaults
timeout 8
account pop3spec
host $(q "$host")
port $port
user $(q "$user")
passwordeval "head -n 1 '$pf'"
$authcmd
$tls
$keep
delivery maildir $(q "$outdir")
uidls_file $(q "$workdir/uidls")
account default : pop3spec
CONF
chmod 600 "$conf"
exec mpop -C "$conf" --half-quiet $flags pop3spec
