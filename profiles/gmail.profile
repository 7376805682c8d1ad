# Gmail: pop.gmail.com, POP3 over implicit TLS on port 995 (RFC 8314).
# POP must be turned on in the account's settings ("Forwarding and
# POP/IMAP"); an account with 2-step verification logs in with an app
# password. Credentials: POP3SPEC_USER and POP3SPEC_PASS, or --no-login to
# judge only what comes before the login. A real mailbox: scenarios that
# delete mail do not run.
name = Gmail
host = pop.gmail.com
tls = implicit
timeout = 30s
