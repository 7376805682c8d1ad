# curl (pop3:// and pop3s://), driven by curl-fetch.sh: curl transfers one
# message per URL, so the adapter lists, then RETRs (and DELEs) each message
# over its own connection. See README.md for the keys and placeholders.
name = curl
cmd-plain = sh {profiledir}/curl-fetch.sh plain {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action}
cmd-stls = sh {profiledir}/curl-fetch.sh stls {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action}
cmd-stls-opt = sh {profiledir}/curl-fetch.sh stls-opt {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action}
cmd-implicit = sh {profiledir}/curl-fetch.sh implicit {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action}
action-fetch =
action-fetch-keep =
action-check =
supports = USER, SASL PLAIN
store = files
store-path = {outdir}
line-ends = crlf
exit-ok = 0
timeout = 20s
