# The built-in reference server, started in-process on 127.0.0.1 with a demo
# mailbox (re-seeded around destructive scenarios) and a test CA.
name = pop3spec reference server
builtin = yes
