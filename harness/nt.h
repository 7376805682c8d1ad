/*
 * nt.h - the transport layer of pop3spec: TCP connections (client and
 * loopback server side), TLS on them (implicit, RFC 8314, or upgraded by
 * STLS, RFC 2595), a bounded receive buffer, and test certificates.
 *
 * Contract, for every function here:
 *  - Sockets are non-blocking; every wait is a poll() bounded by a deadline.
 *    A deadline is an absolute time in milliseconds on the monotonic clock
 *    (nt_now_ms()); nt_deadline(ms) builds one, NT_NO_DEADLINE waits forever
 *    (never used by the runner: every read has a timeout).
 *  - Nothing raises SIGPIPE, and the program's SIGPIPE disposition is left
 *    alone: plaintext writes use MSG_NOSIGNAL; TLS calls run with SIGPIPE
 *    blocked in the calling thread, and a SIGPIPE they caused is consumed.
 *  - Functions that fail return NT_ERR (or NULL) and leave a one-line, human
 *    readable message: in the connection (nt_errmsg) or, for functions that
 *    create an object, in the caller's err buffer (errlen may be 0).
 *  - A connection is used by one thread at a time.
 */
#ifndef NT_H
#define NT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Negative results; a read returns > 0 octets, or 0 at end of stream. */
#define NT_ERR     (-1) /* I/O or protocol error, message in nt_errmsg */
#define NT_TIMEOUT (-2) /* the deadline passed first */
#define NT_FULL    (-3) /* nt_buffer_fill: the buffer is at its maximum size */

#define NT_NO_DEADLINE INT64_MAX

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t nt_now_ms(void);
/* nt_now_ms() + ms (ms < 0 means NT_NO_DEADLINE). */
int64_t nt_deadline(int64_t ms);

/* ---------------------------------------------------------------------------
 * Connections.
 */
typedef struct nt_conn nt_conn;

/* Connect to host:port over TCP. host is a name or an IPv4/IPv6 literal
 * (without brackets); every address getaddrinfo() gives is tried in turn
 * until the deadline. The host is remembered as the default name to verify
 * for TLS. TCP_NODELAY is set so that each write goes out on its own
 * (callers split writes to test reassembly). NULL on failure, e.g.
 * "connect 127.0.0.1:1: Connection refused" or "... timed out". */
nt_conn *nt_connect(const char *host, unsigned port, int64_t deadline, char *err, size_t errlen);

/* Wrap an already connected socket (made non-blocking; the connection owns
 * it from now on). host may be NULL. NULL only when out of memory. */
nt_conn *nt_conn_from_fd(int fd, const char *host);

/* Read up to cap octets: > 0 octets read, 0 at end of stream (for TLS: a
 * close_notify or a TCP close), NT_TIMEOUT, or NT_ERR. Returns as soon as
 * some octets are available. */
ssize_t nt_read(nt_conn *c, void *buf, size_t cap, int64_t deadline);

/* Write all n octets, looping over partial writes. 0, NT_TIMEOUT (some octets
 * may have been sent: nt_written tells how many of the last call), or NT_ERR
 * ("write: Broken pipe" when the peer closed). */
int nt_write_all(nt_conn *c, const void *buf, size_t n, int64_t deadline);

/* nt_write_all in pieces of `chunk` octets (0: all at once), sleeping gap_ms
 * between pieces, to exercise the peer's reassembly of split lines. */
int nt_write_chunked(nt_conn *c, const void *buf, size_t n, size_t chunk, int gap_ms,
                     int64_t deadline);

/* Octets the last nt_write_all / nt_write_chunked call sent. */
size_t nt_written(const nt_conn *c);

/* Octets nt_read can return without touching the socket (decrypted TLS
 * data held by OpenSSL; always 0 for plaintext). */
size_t nt_pending(const nt_conn *c);

/* Wait until nt_read would not block: 1, or NT_TIMEOUT, or NT_ERR. */
int nt_wait_readable(nt_conn *c, int64_t deadline);

/* Half-close: for TLS, send close_notify first; then shutdown(SHUT_WR).
 * Reading stays possible. 0 or NT_ERR. */
int nt_shutdown_write(nt_conn *c);

/* Close and free (NULL is fine). A TLS connection sends close_notify when
 * that does not block; nothing is waited for. */
void nt_close(nt_conn *c);

/* Close with a TCP RST (SO_LINGER 0), without close_notify, and free. */
void nt_abort(nt_conn *c);

/* The last error of this connection ("" when none). */
const char *nt_errmsg(const nt_conn *c);
int nt_fd(const nt_conn *c);
/* "127.0.0.1:11110" / "[::1]:11110" of the peer; "" when unknown. */
const char *nt_peer(const nt_conn *c);
/* The host name given to nt_connect / nt_conn_from_fd, or NULL. */
const char *nt_host(const nt_conn *c);

/* ---------------------------------------------------------------------------
 * Listening sockets (pop3spec as a scripted server for client tests).
 */
typedef struct nt_listener nt_listener;

/* Listen on addr ("127.0.0.1", "::1", NULL = 127.0.0.1), port 0 = any free
 * port; SO_REUSEADDR is set. NULL on failure. */
nt_listener *nt_listen(const char *addr, unsigned port, char *err, size_t errlen);
/* The bound port (the real one when 0 was asked for). */
unsigned nt_listener_port(const nt_listener *l);
int nt_listener_fd(const nt_listener *l);
/* Accept one connection: 0 with *out set, NT_TIMEOUT, or NT_ERR (err). */
int nt_accept(nt_listener *l, nt_conn **out, int64_t deadline, char *err, size_t errlen);
void nt_listener_close(nt_listener *l);

/* ---------------------------------------------------------------------------
 * Bounded receive buffer with compaction. The maximum size is the caller's,
 * so a hostile peer sending an endless line gets NT_FULL, never unbounded
 * memory. Data is kept contiguous: data()[0..len) is what is unread.
 */
typedef struct nt_buffer {
    char *buf;    /* private */
    size_t start; /* private: first unread octet */
    size_t end;   /* private: one past the last unread octet */
    size_t cap;   /* private: allocated size */
    size_t max;   /* private: most that will ever be allocated */
} nt_buffer;

/* max >= 1; initial is clamped to [1, max]. 0 or NT_ERR (out of memory). */
int nt_buffer_init(nt_buffer *b, size_t initial, size_t max);
void nt_buffer_free(nt_buffer *b);
const char *nt_buffer_data(const nt_buffer *b);
size_t nt_buffer_len(const nt_buffer *b);
/* Drop n unread octets (n <= len). */
void nt_buffer_consume(nt_buffer *b, size_t n);
/* Drop everything unread; returns how much that was. */
size_t nt_buffer_clear(nt_buffer *b);
/* Append n octets (tests, replays). 0, or NT_FULL when len + n > max (then
 * nothing is appended). */
int nt_buffer_append(nt_buffer *b, const void *p, size_t n);
/* Read once from c into the free space (compacting or growing up to max
 * first): > 0 octets added, 0 at end of stream, NT_TIMEOUT, NT_ERR, or
 * NT_FULL when len == max (the caller's line is too long). */
ssize_t nt_buffer_fill(nt_buffer *b, nt_conn *c, int64_t deadline);

/* ---------------------------------------------------------------------------
 * TLS (OpenSSL 3). A context holds the settings; it may be shared by many
 * connections (not concurrently modified).
 */
typedef struct nt_tls_ctx nt_tls_ctx;

typedef struct nt_tls_client_opts {
    const char *ca_file;  /* PEM bundle of trusted CAs; NULL: system default */
    int insecure;         /* 1: do not fail on verification errors (the
                             result is still computed: nt_tls_verify_*) */
    const char *cert_file; /* optional client certificate (PEM) */
    const char *key_file;  /* and its key; NULL: in cert_file */
} nt_tls_client_opts;

/* Client context: TLS >= 1.2, peer verification on unless insecure. opts may
 * be NULL (defaults). NULL on failure (e.g. unreadable CA file). */
nt_tls_ctx *nt_tls_client_ctx(const nt_tls_client_opts *opts, char *err, size_t errlen);

/* Server context: TLS >= 1.2 with this certificate chain and key (PEM; key
 * NULL: in cert_file). NULL on failure. */
nt_tls_ctx *nt_tls_server_ctx(const char *cert_file, const char *key_file, char *err,
                              size_t errlen);

void nt_tls_ctx_free(nt_tls_ctx *x);

/* Client handshake on c: implicit TLS right after nt_connect (RFC 8314), or
 * the STLS upgrade after the server's "+OK" (RFC 2595 section 4).
 * host is the name (or IP literal) to verify, NULL = nt_host(c). A name is
 * also sent as SNI; an IP literal is not (RFC 6066) and is matched against
 * the certificate's IP addresses. `plain` (may be NULL) is the caller's
 * receive buffer: before the handshake, everything still unread in it and
 * everything already received on the socket is plaintext that arrived
 * after the STLS answer; it is discarded (never handed to TLS nor to the
 * caller) and counted in nt_starttls_discarded (RFC 2595 / CVE-2011-0411:
 * the caller reports it as a finding). 0, NT_TIMEOUT, or NT_ERR with e.g.
 * "certificate verify failed for \"wrong.example\"... : hostname mismatch". */
int nt_tls_connect(nt_conn *c, nt_tls_ctx *x, const char *host, nt_buffer *plain,
                   int64_t deadline);

/* Server handshake on c (implicit TLS, or after answering STLS). `plain` as
 * above: unread plaintext the client pipelined after STLS is discarded and
 * counted (octets already on the socket are left for TLS, since the
 * ClientHello may legitimately be there). SNI the client sent is kept
 * (nt_tls_sni). 0, NT_TIMEOUT, NT_ERR. */
int nt_tls_accept(nt_conn *c, nt_tls_ctx *x, nt_buffer *plain, int64_t deadline);

/* Plaintext octets thrown away by the last nt_tls_connect / nt_tls_accept
 * (0 when none: the safe case). */
size_t nt_starttls_discarded(const nt_conn *c);

int nt_is_tls(const nt_conn *c);
/* "TLSv1.3", cipher name, or "" when not TLS. */
const char *nt_tls_version(const nt_conn *c);
const char *nt_tls_cipher(const nt_conn *c);
/* Server side: the SNI host name the client sent, or NULL. */
const char *nt_tls_sni(const nt_conn *c);
/* Client side: X509_V_OK (0) when the peer's certificate verified (chain and
 * host), else the X509_V_ERR_* code; meaningful in insecure mode too. */
long nt_tls_verify_code(const nt_conn *c);
/* Its text: "ok", "hostname mismatch", "self-signed certificate", ... */
const char *nt_tls_verify_text(const nt_conn *c);

/* ---------------------------------------------------------------------------
 * Test certificates, generated with the OpenSSL API (EC P-256 keys). Writes
 * into dir (which must exist): ca.pem (test CA), server.pem + server.key
 * (leaf for DNS localhost, IP 127.0.0.1 and ::1, signed by the CA),
 * wrong-host.pem + wrong-host.key (leaf for wrong.example only, signed by
 * the CA), unknown-ca.pem + unknown-ca.key (self-signed leaf for localhost /
 * 127.0.0.1, trusted by nobody). Keys are mode 0600. The CA key is not kept.
 * 0 or NT_ERR with err set.
 */
int nt_cert_make_dir(const char *dir, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
