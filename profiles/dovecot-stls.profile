# Debian's Dovecot, started privately by scripts/dovecot (P3S_DOVECOT_DIR).
name = dovecot (stls)
host = 127.0.0.1
port = $P3S_DOVECOT_PORT
tls = stls
tls-name = localhost
ca-file = $P3S_DOVECOT_DIR/certs/ca.pem
user-env = P3S_DOVECOT_USER
pass-file = $P3S_DOVECOT_DIR/password
disposable-mailbox = yes
seed-command = bash "$P3S_SOURCE_DIR/scripts/dovecot" seed "$P3S_DOVECOT_DIR" >/dev/null 2>&1
