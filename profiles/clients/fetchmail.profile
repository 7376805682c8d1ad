# fetchmail, driven by fetchmail-fetch.sh, which writes a 0600 run control
# file from the password file and delivers through fetchmail-mda.sh (one
# file per message). See README.md for the keys and placeholders.
name = fetchmail
cmd-plain = sh {profiledir}/fetchmail-fetch.sh plain {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
cmd-stls = sh {profiledir}/fetchmail-fetch.sh stls {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
cmd-stls-opt = sh {profiledir}/fetchmail-fetch.sh stls-opt {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
cmd-implicit = sh {profiledir}/fetchmail-fetch.sh implicit {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
action-fetch =
action-fetch-keep =
action-check =
supports = APOP, USER
store = files
store-path = {outdir}
line-ends = lf
strip-headers = Received
exit-ok = 0
timeout = 20s
