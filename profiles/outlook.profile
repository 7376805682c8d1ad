# Outlook.com / Microsoft 365: outlook.office365.com, POP3 over implicit TLS
# on port 995 (RFC 8314). Microsoft has retired password logins (USER/PASS)
# for POP in Exchange Online in favour of OAuth 2.0 (SASL XOAUTH2), which
# pop3spec does not speak: run with --no-login there, or give
# POP3SPEC_USER and POP3SPEC_PASS where a password is still accepted. A
# real mailbox: scenarios that delete mail do not run.
name = Outlook
host = outlook.office365.com
tls = implicit
timeout = 30s
