#!/bin/sh
# Fetch a POP3 mailbox with fetchmail. fetchmail wants its password in a
# run control file, so this script writes one (0600, in WORKDIR, which is
# also FETCHMAILHOME: .fetchids and the lock file stay there) from
# PASSFILE: the password is never on a command line. Each message goes
# through fetchmail-mda.sh into its own file in OUTDIR.
#   fetchmail-fetch.sh MODE HOST PORT USER PASSFILE CAFILE OUTDIR WORKDIR ACTION AUTH
# MODE: plain (sslproto '': no STLS), stls (sslproto 'auto': STLS required),
#       stls-opt (no sslproto: STLS if offered), implicit (ssl)
# ACTION: fetch (nokeep), fetch-keep (keep + uidl), check (fetchmail -c)
# AUTH: default (proto pop3: fetchmail picks the method) or apop (proto apop)
# Exit status: fetchmail's own (0 mail fetched, 1 no mail, 2 socket,
# 3 authentication, 4 protocol, 7 server error, ... see fetchmail(1)).
set -u
mode=$1 host=$2 port=$3 user=$4 passfile=$5 cafile=$6 outdir=$7 workdir=$8 action=$9
proto=pop3
[ "${10:-default}" = apop ] && proto=apop
here=$(cd "$(dirname "$0")" && pwd)
umask 077
# rcfile strings: "..." with \ and " escaped.
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
pass=$(head -n 1 "$passfile")
case "$mode" in
  plain) tls="sslproto ''" ;;
  stls) tls="sslproto 'auto' sslcertck sslcertfile $(q "$cafile")" ;;
  stls-opt) tls="sslcertck sslcertfile $(q "$cafile")" ;;
  implicit) tls="ssl sslproto 'auto' sslcertck sslcertfile $(q "$cafile")" ;;
  *) echo "fetchmail-fetch.sh: unknown mode $mode" >&2; exit 2 ;;
esac
flags="" uidl=""
case "$action" in
  fetch) keep="nokeep" ;;
  fetch-keep) keep="keep" uidl=" uidl" ;;
  check) keep="keep"; flags="--check" ;;
  *) echo "fetchmail-fetch.sh: unknown action $action" >&2; exit 2 ;;
esac
# fetchmail matches the server certificate against the polled name with
# DNS names only (subjectAltName dNSName, then the CN), never an IP address
# subjectAltName: "Server CommonName mismatch: localhost != 127.0.0.1".
# So with TLS it polls "localhost" (the test certificate's DNS name).
name=$host
[ "$mode" != plain ] && [ "$host" = 127.0.0.1 ] && name=localhost
rc="$workdir/fetchmailrc"
{
  echo "set no syslog"
  echo "set no bouncemail"
  echo "poll $(q "$name") port $port proto $proto$uidl timeout 15"
  echo "  user $(q "$user") password $(q "$pass")"
  echo "  $tls"
  echo "  $keep no rewrite"
  echo "  mda $(q "sh '$here/fetchmail-mda.sh' '$outdir'")"
} > "$rc"
chmod 600 "$rc"
# fetchmail's default is to fetch with "TOP n 99999999" (it leaves the
# server's seen flag alone); FETCHMAIL_POP3_FORCE_RETR (fetchmail(1),
# ENVIRONMENT) makes it use RETR like the other clients. See README.md.
FETCHMAILHOME=$workdir FETCHMAIL_POP3_FORCE_RETR=1
export FETCHMAILHOME FETCHMAIL_POP3_FORCE_RETR
# --pidfile: run as root, fetchmail would lock /var/run/fetchmail.pid, and
# two runs at once (pop3spec client --jobs) would end with exit 8.
exec fetchmail -N -d0 --nosyslog --pidfile "$workdir/fetchmail.pid" -f "$rc" $flags
