#!/usr/bin/env bash
# Proves that no password, APOP digest or AUTH payload reaches any output of
# pop3spec: the terminal (stdout, stderr) and the three reports. Runs
# scenarios that log in every way against the built-in reference server
# (user mrose, password tanstaaf) and searches everything it wrote.
#   bash tests/secrets.sh POP3SPEC_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
set +e
"$bin" server --builtin --scenarios "$src/tests/data/secrets" --report "$work/report" --color never \
  >"$work/stdout" 2>"$work/stderr"
rc=$?
set -e
# secret-fail must fail (exit 1) and the three logins must pass: the test
# checks real logins, not scenarios that never sent a secret.
[ "$rc" -eq 1 ] || { echo "secrets.sh: exit $rc, expected 1"; cat "$work/stdout" "$work/stderr"; exit 1; }
for id in secret-pass secret-apop secret-auth; do
  grep -q "\"id\":\"$id\".*\"verdict\":\"PASS\"" "$work/report/report.json" ||
    { echo "secrets.sh: $id did not PASS"; cat "$work/stdout"; exit 1; }
done
grep -q '"id":"secret-fail".*"verdict":"FAIL"' "$work/report/report.json"
files=("$work/stdout" "$work/stderr" "$work/report/junit.xml" "$work/report/report.json" "$work/report/report.html")
leak=0
# The password, its base64 forms, and the AUTH PLAIN payload.
for s in tanstaaf dGFuc3RhYWY AG1yb3NlAHRhbnN0YWFm; do
  if grep -l -- "$s" "${files[@]}"; then echo "secrets.sh: \"$s\" leaked"; leak=1; fi
done
# An APOP digest: 32 hex digits after "APOP user".
if grep -l -E 'APOP [^ ]+ [0-9a-f]{32}' "${files[@]}"; then echo "secrets.sh: APOP digest leaked"; leak=1; fi
# The redaction must be visible where the secrets were.
grep -q 'PASS &lt;redacted&gt;' "$work/report/report.html" || { echo "no redacted PASS in HTML"; leak=1; }
grep -q 'APOP mrose <redacted>' "$work/report/report.json" || { echo "no redacted APOP in JSON"; leak=1; }
grep -q 'AUTH PLAIN <redacted>' "$work/report/report.json" || { echo "no redacted AUTH in JSON"; leak=1; }
# report.json follows its documented schema (reports/report.schema.json).
/usr/bin/python3 - "$src/reports/report.schema.json" "$work/report/report.json" <<'PY' || leak=1
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
print("secrets.sh: report.json matches reports/report.schema.json")
PY
[ $leak -eq 0 ] && echo "secrets.sh: no secret in ${#files[@]} outputs"
exit $leak
