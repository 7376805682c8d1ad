# QQ Mail: pop.qq.com, POP3 over implicit TLS on port 995 (RFC 8314). POP3
# must be turned on in the mailbox settings, which then issue an
# authorization code: that code, not the QQ password, goes in
# POP3SPEC_PASS (POP3SPEC_USER: the full address). Or --no-login. A real
# mailbox: scenarios that delete mail do not run.
name = QQ Mail
host = pop.qq.com
tls = implicit
timeout = 30s
