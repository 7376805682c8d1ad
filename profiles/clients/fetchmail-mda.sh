#!/bin/sh
# fetchmail's MDA for pop3spec: store the message from stdin as one file in
# OUTDIR (written under a dot name, then renamed, so a half-written message
# never looks stored). A nonzero status tells fetchmail delivery failed.
#   fetchmail-mda.sh OUTDIR
set -eu
out=$1
tmp=$(mktemp "$out/.mda.XXXXXX")
cat > "$tmp"
mv "$tmp" "${tmp%/.mda.*}/msg.${tmp##*/.mda.}"
