#!/bin/sh
# Fetch a POP3 mailbox with curl, which transfers one message per URL:
# list the mailbox, RETR each message into OUTDIR/N.eml, then (action
# fetch) DELE it. The password goes into a 0600 netrc file, never on the
# command line.
#   curl-fetch.sh MODE HOST PORT USER PASSFILE CAFILE OUTDIR WORKDIR ACTION
# MODE: plain | stls (--ssl-reqd) | stls-opt (--ssl) | implicit (pop3s://)
set -u
mode=$1 host=$2 port=$3 user=$4 passfile=$5 cafile=$6 outdir=$7 workdir=$8 action=$9
umask 077
netrc="$workdir/netrc"
printf 'machine %s login %s password %s\n' "$host" "$user" "$(head -n 1 "$passfile")" > "$netrc"
scheme=pop3
tls=""
case "$mode" in
  plain) ;;
  stls) tls="--ssl-reqd" ;;
  stls-opt) tls="--ssl" ;;
  implicit) scheme=pop3s ;;
  *) echo "curl-fetch.sh: unknown mode $mode" >&2; exit 2 ;;
esac
base="$scheme://$host:$port"
c() { curl --silent --show-error --netrc-file "$netrc" --cacert "$cafile" $tls --max-time 15 "$@"; }
list=$(c "$base/") || exit 1
[ "$action" = check ] && { printf '%s\n' "$list" | grep -c . ; exit 0; }
mkdir -p "$outdir"
nums=$(printf '%s\n' "$list" | tr -d '\r' | cut -d' ' -f1)
for n in $nums; do
  case "$n" in *[!0-9]*|'') echo "curl-fetch.sh: bad listing line" >&2; exit 1 ;; esac
  c -o "$outdir/$n.eml" "$base/$n" || { rm -f "$outdir/$n.eml"; exit 1; }
done
# Each DELE is its own session, committed by curl's QUIT; the server then
# renumbers what is left (RFC 1939 section 5), so delete from the highest
# number down.
if [ "$action" = fetch ]; then
  for n in $(printf '%s\n' $nums | sort -rn); do
    c -X "DELE $n" -I "$base/" >/dev/null || exit 1
  done
fi
exit 0
