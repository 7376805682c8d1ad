/* nt_tls.c - TLS over nt_conn with non-blocking OpenSSL and poll(). */
#include "nt_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

struct nt_tls_ctx {
    SSL_CTX *ctx;
    int server;
    int insecure;
};

/* OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the
 * peer is gone. Changing the process-wide disposition would be a library
 * imposing on its program, so (as libpq does) SIGPIPE is blocked in this
 * thread around each SSL call and a SIGPIPE it caused is consumed. */
typedef struct sigpipe_guard {
    sigset_t old;
    int was_pending;
} sigpipe_guard;

static void sp_block(sigpipe_guard *g)
{
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
    g->was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
}

static void sp_unblock(sigpipe_guard *g)
{
    sigset_t pend;
    if (!g->was_pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        struct timespec zero = {0, 0};
        int saved = errno;
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
        }
        errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* The most useful text of OpenSSL's error queue ("wrong version number"). */
static void ssl_errtext(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(out, cap, "unknown error");
        return;
    }
    const char *reason = ERR_reason_error_string(e);
    if (reason)
        snprintf(out, cap, "%s", reason);
    else
        ERR_error_string_n(e, out, cap);
}

static SSL_CTX *ctx_common(const SSL_METHOD *m, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(m);
    if (!ctx) {
        char t[200];
        ssl_errtext(t, sizeof t);
        nt__errbuf(err, errlen, "TLS context: %s", t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* A peer that drops TCP without close_notify is an end of stream to the
     * runner, not a hard error (the caller may still note it). */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    return ctx;
}

static int load_cert_key(SSL_CTX *ctx, const char *cert, const char *key, char *err,
                         size_t errlen)
{
    char t[200];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_errtext(t, sizeof t);
        nt__errbuf(err, errlen, "certificate %s: %s", cert, t);
        return NT_ERR;
    }
    if (!key)
        key = cert;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_errtext(t, sizeof t);
        nt__errbuf(err, errlen, "key %s: %s", key, t);
        return NT_ERR;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        nt__errbuf(err, errlen, "key %s does not match certificate %s", key, cert);
        return NT_ERR;
    }
    return 0;
}

nt_tls_ctx *nt_tls_client_ctx(const nt_tls_client_opts *opts, char *err, size_t errlen)
{
    nt_tls_client_opts none = {0};
    if (!opts)
        opts = &none;
    SSL_CTX *ctx = ctx_common(TLS_client_method(), err, errlen);
    if (!ctx)
        return NULL;
    char t[200];
    if (opts->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, opts->ca_file, NULL) != 1) {
            ssl_errtext(t, sizeof t);
            nt__errbuf(err, errlen, "CA file %s: %s", opts->ca_file, t);
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ssl_errtext(t, sizeof t);
        nt__errbuf(err, errlen, "system CA store: %s", t);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* VERIFY_NONE still runs the verification and records the result, which
     * the runner reports in insecure mode. */
    SSL_CTX_set_verify(ctx, opts->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (opts->cert_file && load_cert_key(ctx, opts->cert_file, opts->key_file, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    nt_tls_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        SSL_CTX_free(ctx);
        nt__errbuf(err, errlen, "TLS context: out of memory");
        return NULL;
    }
    x->ctx = ctx;
    x->insecure = opts->insecure != 0;
    return x;
}

nt_tls_ctx *nt_tls_server_ctx(const char *cert_file, const char *key_file, char *err,
                              size_t errlen)
{
    if (!cert_file) {
        nt__errbuf(err, errlen, "TLS server: no certificate");
        return NULL;
    }
    SSL_CTX *ctx = ctx_common(TLS_server_method(), err, errlen);
    if (!ctx)
        return NULL;
    if (load_cert_key(ctx, cert_file, key_file, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    nt_tls_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        SSL_CTX_free(ctx);
        nt__errbuf(err, errlen, "TLS context: out of memory");
        return NULL;
    }
    x->ctx = ctx;
    x->server = 1;
    return x;
}

void nt_tls_ctx_free(nt_tls_ctx *x)
{
    if (!x)
        return;
    SSL_CTX_free(x->ctx);
    free(x);
}

/* After SSL_* returned r <= 0: wait as OpenSSL asks (1 = retry), or fill
 * c->err and return 0 (end of stream), NT_TIMEOUT or NT_ERR. */
static int ssl_retry(nt_conn *c, int r, int64_t deadline, const char *what)
{
    int e = SSL_get_error(c->ssl, r);
    short ev;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        ev = POLLIN;
        break;
    case SSL_ERROR_WANT_WRITE:
        ev = POLLOUT;
        break;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        c->tls_dead = 1;
        if (errno)
            nt__err(c, "%s: %s", what, strerror(errno));
        else
            nt__err(c, "%s: connection closed by peer", what);
        return NT_ERR;
    default: {
        char t[200];
        c->tls_dead = 1;
        ssl_errtext(t, sizeof t);
        nt__err(c, "%s: %s", what, t);
        return NT_ERR;
    }
    }
    int w = nt__wait(c->fd, ev, deadline);
    if (w == NT_TIMEOUT) {
        nt__err(c, "%s: timed out", what);
        return NT_TIMEOUT;
    }
    if (w == NT_ERR) {
        nt__err(c, "poll: %s", strerror(errno));
        return NT_ERR;
    }
    return 1;
}

ssize_t nt__tls_read(nt_conn *c, void *buf, size_t cap, int64_t deadline)
{
    for (;;) {
        size_t got = 0;
        ERR_clear_error();
        errno = 0;
        sigpipe_guard g;
        sp_block(&g);
        int r = SSL_read_ex(c->ssl, buf, cap, &got);
        sp_unblock(&g);
        if (r == 1)
            return (ssize_t)got;
        int k = ssl_retry(c, r, deadline, "TLS read");
        if (k != 1)
            return k;
    }
}

int nt__tls_write(nt_conn *c, const void *buf, size_t n, int64_t deadline)
{
    const char *p = buf;
    c->written = 0;
    while (c->written < n) {
        size_t w = 0;
        ERR_clear_error();
        errno = 0;
        sigpipe_guard g;
        sp_block(&g);
        int r = SSL_write_ex(c->ssl, p + c->written, n - c->written, &w);
        sp_unblock(&g);
        if (r == 1) {
            c->written += w;
            continue;
        }
        int k = ssl_retry(c, r, deadline, "TLS write");
        if (k == 0) {
            nt__err(c, "TLS write: peer sent close_notify");
            return NT_ERR;
        }
        if (k != 1)
            return k;
    }
    return 0;
}

void nt__tls_free(nt_conn *c, int send_notify)
{
    if (send_notify && !c->tls_dead && SSL_is_init_finished(c->ssl)) {
        ERR_clear_error();
        nt__tls_shutdown(c);
    }
    SSL_free(c->ssl);
    c->ssl = NULL;
    ERR_clear_error();
}

void nt__tls_shutdown(nt_conn *c)
{
    sigpipe_guard g;
    sp_block(&g);
    SSL_shutdown(c->ssl);
    sp_unblock(&g);
}

static int is_ip_literal(const char *h)
{
    unsigned char a[16];
    return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* Plaintext already received when TLS starts cannot be from the TLS peer's
 * handshake (the client speaks first), so it was injected or pipelined
 * after the STLS answer: drop it unread by anyone (RFC 2595 section 4). */
static size_t drain_socket(int fd)
{
    char scratch[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return total;
    }
}

static int handshake(nt_conn *c, int64_t deadline, const char *who)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        sigpipe_guard g;
        sp_block(&g);
        int r = SSL_do_handshake(c->ssl);
        sp_unblock(&g);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if (!c->tls_server && e == SSL_ERROR_SSL) {
            long v = SSL_get_verify_result(c->ssl);
            if (v != X509_V_OK) {
                c->verify_code = v;
                c->tls_dead = 1;
                const char *h = c->host ? c->host : "";
                nt__err(c, "TLS handshake with %s: certificate verify failed for \"%s\": %s", who,
                        h, X509_verify_cert_error_string(v));
                return NT_ERR;
            }
        }
        char what[128];
        snprintf(what, sizeof what, "TLS handshake with %s", who);
        int k = ssl_retry(c, r, deadline, what);
        if (k == 0) {
            c->tls_dead = 1;
            nt__err(c, "%s: connection closed by peer", what);
            return NT_ERR;
        }
        if (k != 1)
            return k;
    }
}

static int tls_start(nt_conn *c, nt_tls_ctx *x, int server)
{
    if (c->ssl) {
        nt__err(c, "TLS: already active on this connection");
        return NT_ERR;
    }
    if (x->server != server) {
        nt__err(c, "TLS: %s context used for a %s handshake", x->server ? "server" : "client",
                server ? "server" : "client");
        return NT_ERR;
    }
    ERR_clear_error();
    c->ssl = SSL_new(x->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        char t[200];
        ssl_errtext(t, sizeof t);
        nt__err(c, "TLS: %s", t);
        SSL_free(c->ssl);
        c->ssl = NULL;
        return NT_ERR;
    }
    c->tls_server = server;
    c->tls_dead = 0;
    c->verify_code = X509_V_OK;
    if (server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    return 0;
}

int nt_tls_connect(nt_conn *c, nt_tls_ctx *x, const char *host, nt_buffer *plain,
                   int64_t deadline)
{
    c->discarded = plain ? nt_buffer_clear(plain) : 0;
    c->discarded += drain_socket(c->fd);
    if (host && host != c->host) {
        char *h = strdup(host);
        if (!h) {
            nt__err(c, "TLS: out of memory");
            return NT_ERR;
        }
        free(c->host);
        c->host = h;
    }
    if (!c->host && !x->insecure) {
        nt__err(c, "TLS: no host name to verify the certificate against");
        return NT_ERR;
    }
    if (tls_start(c, x, 0))
        return NT_ERR;
    if (c->host) {
        int ok;
        if (is_ip_literal(c->host)) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) == 1;
        } else {
            SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(c->ssl, c->host) == 1 &&
                 SSL_set_tlsext_host_name(c->ssl, c->host) == 1;
        }
        if (!ok) {
            nt__err(c, "TLS: cannot use host name \"%s\"", c->host);
            SSL_free(c->ssl);
            c->ssl = NULL;
            return NT_ERR;
        }
    }
    int r = handshake(c, deadline, c->peer[0] ? c->peer : "server");
    if (r != 0) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        return r;
    }
    c->verify_code = SSL_get_verify_result(c->ssl);
    return 0;
}

int nt_tls_accept(nt_conn *c, nt_tls_ctx *x, nt_buffer *plain, int64_t deadline)
{
    c->discarded = plain ? nt_buffer_clear(plain) : 0;
    if (tls_start(c, x, 1))
        return NT_ERR;
    int r = handshake(c, deadline, c->peer[0] ? c->peer : "client");
    if (r != 0) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        return r;
    }
    const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    free(c->sni);
    c->sni = sni ? strdup(sni) : NULL;
    return 0;
}

size_t nt_starttls_discarded(const nt_conn *c)
{
    return c->discarded;
}

int nt_is_tls(const nt_conn *c)
{
    return c->ssl != NULL;
}

const char *nt_tls_version(const nt_conn *c)
{
    return c->ssl ? SSL_get_version(c->ssl) : "";
}

const char *nt_tls_cipher(const nt_conn *c)
{
    const char *n = c->ssl ? SSL_get_cipher_name(c->ssl) : NULL;
    return n ? n : "";
}

const char *nt_tls_sni(const nt_conn *c)
{
    return c->sni;
}

long nt_tls_verify_code(const nt_conn *c)
{
    return c->verify_code;
}

const char *nt_tls_verify_text(const nt_conn *c)
{
    return X509_verify_cert_error_string(c->verify_code);
}
