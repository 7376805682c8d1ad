/*
 * nt_int.h - private to nt_*.c: the connection structure and the helpers the
 * TCP and TLS halves share. Not for use outside the transport layer.
 */
#ifndef NT_INT_H
#define NT_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "nt.h"

struct nt_conn {
    int fd;
    SSL *ssl;          /* NULL while plaintext */
    int tls_server;    /* 1 when ssl is the accepting side */
    char *host;        /* for verification and SNI; may be NULL */
    char *sni;         /* server side: SNI received */
    size_t written;    /* octets sent by the last write call */
    size_t discarded;  /* plaintext dropped at the last TLS start */
    int tls_dead;      /* a fatal TLS error happened: no close_notify */
    long verify_code;  /* client side: SSL_get_verify_result after handshake */
    char peer[80];
    char err[320];
};

/* Set c->err (printf-like). */
void nt__err(nt_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same into a caller buffer (errlen may be 0). */
void nt__errbuf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* poll() fd for events until deadline: 1 ready (or hung up), NT_TIMEOUT, or
 * NT_ERR (errno set). EINTR is retried. */
int nt__wait(int fd, short events, int64_t deadline);

/* The TLS halves of nt_read / nt_write_all / nt_close (nt_tls.c). The write
 * sets c->written. tls_free sends close_notify when send_notify and the
 * session is healthy, without waiting. */
ssize_t nt__tls_read(nt_conn *c, void *buf, size_t cap, int64_t deadline);
int nt__tls_write(nt_conn *c, const void *buf, size_t n, int64_t deadline);
void nt__tls_free(nt_conn *c, int send_notify);
/* SSL_shutdown without raising SIGPIPE (queues close_notify, no waiting). */
void nt__tls_shutdown(nt_conn *c);

#endif
