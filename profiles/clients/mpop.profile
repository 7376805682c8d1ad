# mpop, driven by mpop-fetch.sh, which writes a 0600 configuration file
# (passwordeval reads the password file) and has mpop deliver into a
# maildir. See README.md for the keys and placeholders.
name = mpop
cmd-plain = sh {profiledir}/mpop-fetch.sh plain {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
cmd-stls = sh {profiledir}/mpop-fetch.sh stls {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
cmd-stls-opt = sh {profiledir}/mpop-fetch.sh stls-opt {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
cmd-implicit = sh {profiledir}/mpop-fetch.sh implicit {host} {port} {user} {passfile} {cafile} {outdir} {workdir} {action} {auth}
action-fetch =
action-fetch-keep =
action-check =
supports = APOP, USER, SASL PLAIN
store = maildir
store-path = {outdir}
line-ends = lf
strip-headers = Received
exit-ok = 0
timeout = 12s
