# Python's poplib, driven by poplib-fetch.py (written the way most scripts
# use poplib). See README.md for the keys and placeholders.
name = Python poplib
cmd-plain = python3 {profiledir}/poplib-fetch.py --mode plain --host {host} --port {port} --user {user} --passfile {passfile} --cafile {cafile} --outdir {outdir} --action {action} --auth {auth}
cmd-stls = python3 {profiledir}/poplib-fetch.py --mode stls --host {host} --port {port} --user {user} --passfile {passfile} --cafile {cafile} --outdir {outdir} --action {action} --auth {auth}
cmd-stls-opt = python3 {profiledir}/poplib-fetch.py --mode stls-opt --host {host} --port {port} --user {user} --passfile {passfile} --cafile {cafile} --outdir {outdir} --action {action} --auth {auth}
cmd-implicit = python3 {profiledir}/poplib-fetch.py --mode implicit --host {host} --port {port} --user {user} --passfile {passfile} --cafile {cafile} --outdir {outdir} --action {action} --auth {auth}
action-fetch =
action-fetch-keep =
action-check =
supports = APOP, USER
store = files
store-path = {outdir}
line-ends = crlf
exit-ok = 0
timeout = 20s
