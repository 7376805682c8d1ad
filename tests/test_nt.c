/* test_nt.c - loopback tests of the transport layer (nt.h). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nt.h"
#include "p3t.h"

static char certdir[64];

/* One certificate directory per test (Check forks each test). */
static void make_certs(void)
{
    char err[256];
    snprintf(certdir, sizeof certdir, "/tmp/nt-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(certdir));
    ck_assert_msg(nt_cert_make_dir(certdir, err, sizeof err) == 0, "%s", err);
}

static void remove_certs(void)
{
    static const char *files[] = {"ca.pem",         "server.pem",     "server.key",
                                  "wrong-host.pem", "wrong-host.key", "unknown-ca.pem",
                                  "unknown-ca.key"};
    char p[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", certdir, files[i]);
        unlink(p);
    }
    rmdir(certdir);
}

/* Not thread-safe: only the test's main thread calls it. */
static const char *cpath(const char *f)
{
    static char p[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", certdir, f);
    return p[i];
}

/* ---- a scripted peer in a thread ---------------------------------------- */

enum mode {
    M_SILENT,      /* accept, say nothing until the client closes */
    M_CLOSE,       /* accept and close at once */
    M_FLOOD,       /* send 10000 'A' with no line end */
    M_TLS,         /* implicit TLS, send "+OK hello\r\n", then echo one line */
    M_STLS,        /* greeting, STLS, TLS, answer one line */
    M_STLS_INJECT, /* like M_STLS but "+OK\r\n+OK injected\r\n" in one write */
    M_PIPELINE,    /* read "STLS\r\nCAPA\r\n" in one go, then TLS */
    M_RST,         /* accept, read one octet, reset */
    M_PLAIN_ERR    /* plaintext greeting, "-ERR" to whatever comes, close */
};

typedef struct srv {
    nt_listener *l;
    enum mode mode;
    const char *cert, *key; /* full paths, resolved before the thread runs */
    char cert_path[128], key_path[128];
    pthread_t th;
    int ok;           /* the server's own script succeeded */
    char err[256];
    char sni[256];
    int has_sni;
    size_t discarded; /* server-side nt_starttls_discarded */
    char line[64];    /* line received over TLS */
} srv;

static int64_t dl(void)
{
    return nt_deadline(5000);
}

/* Read one CRLF line with a bounded buffer (the runner's job; enough here). */
static int read_line(nt_conn *c, nt_buffer *b, char *out, size_t cap)
{
    for (;;) {
        const char *d = nt_buffer_data(b);
        size_t n = nt_buffer_len(b);
        const char *lf = memchr(d, '\n', n);
        if (lf) {
            size_t k = (size_t)(lf - d) + 1;
            size_t m = k < cap - 1 ? k : cap - 1;
            memcpy(out, d, m);
            out[m] = '\0';
            nt_buffer_consume(b, k);
            return 0;
        }
        ssize_t r = nt_buffer_fill(b, c, dl());
        if (r <= 0)
            return -1;
    }
}

static void wait_eof(nt_conn *c)
{
    char tmp[256];
    while (nt_read(c, tmp, sizeof tmp, dl()) > 0) {
    }
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    nt_conn *c = NULL;
    nt_tls_ctx *x = NULL;
    nt_buffer b;
    nt_buffer_init(&b, 64, 4096);
    if (nt_accept(s->l, &c, dl(), s->err, sizeof s->err) != 0)
        goto out;
    if (s->cert) {
        x = nt_tls_server_ctx(s->cert, s->key, s->err, sizeof s->err);
        if (!x)
            goto out;
    }
    char line[128];
    switch (s->mode) {
    case M_SILENT:
        wait_eof(c);
        s->ok = 1;
        break;
    case M_CLOSE:
        s->ok = 1;
        break;
    case M_PLAIN_ERR:
        if (nt_write_all(c, "+OK ready\r\n", 11, dl()) == 0 &&
            nt_read(c, line, sizeof line, dl()) > 0)
            s->ok = nt_write_all(c, "-ERR unknown command\r\n", 22, dl()) == 0;
        break;
    case M_RST: /* only once the client's connect surely completed */
        if (nt_read(c, line, 1, dl()) != 1)
            break;
        nt_abort(c);
        c = NULL;
        s->ok = 1;
        break;
    case M_FLOOD: {
        static char big[10000];
        memset(big, 'A', sizeof big);
        s->ok = nt_write_all(c, big, sizeof big, dl()) == 0;
        wait_eof(c);
        break;
    }
    case M_TLS:
        if (nt_tls_accept(c, x, NULL, dl()) != 0) {
            snprintf(s->err, sizeof s->err, "%s", nt_errmsg(c));
            break;
        }
        if (nt_tls_sni(c)) {
            s->has_sni = 1;
            snprintf(s->sni, sizeof s->sni, "%s", nt_tls_sni(c));
        }
        s->ok = nt_write_all(c, "+OK hello\r\n", 11, dl()) == 0;
        if (s->ok && read_line(c, &b, s->line, sizeof s->line) == 0)
            nt_write_all(c, "+OK bye\r\n", 9, dl());
        wait_eof(c);
        break;
    case M_STLS:
    case M_STLS_INJECT:
    case M_PIPELINE: {
        if (nt_write_all(c, "+OK ready\r\n", 11, dl()) != 0 ||
            read_line(c, &b, line, sizeof line) != 0 || strcmp(line, "STLS\r\n") != 0) {
            snprintf(s->err, sizeof s->err, "no STLS");
            break;
        }
        const char *ans = s->mode == M_STLS_INJECT ? "+OK begin TLS\r\n+OK injected\r\n"
                                                   : "+OK begin TLS\r\n";
        if (nt_write_all(c, ans, strlen(ans), dl()) != 0)
            break;
        if (nt_tls_accept(c, x, &b, dl()) != 0) {
            snprintf(s->err, sizeof s->err, "%s", nt_errmsg(c));
            break;
        }
        s->discarded = nt_starttls_discarded(c);
        if (read_line(c, &b, s->line, sizeof s->line) != 0)
            break;
        s->ok = nt_write_all(c, "+OK over TLS\r\n", 14, dl()) == 0;
        wait_eof(c);
        break;
    }
    }
out:
    nt_buffer_free(&b);
    nt_close(c);
    nt_tls_ctx_free(x);
    return NULL;
}

static void srv_start(srv *s, enum mode m, const char *cert, const char *key)
{
    char err[256];
    memset(s, 0, sizeof *s);
    s->mode = m;
    if (cert) {
        snprintf(s->cert_path, sizeof s->cert_path, "%s", cpath(cert));
        snprintf(s->key_path, sizeof s->key_path, "%s", cpath(key));
        s->cert = s->cert_path;
        s->key = s->key_path;
    }
    s->l = nt_listen("127.0.0.1", 0, err, sizeof err);
    ck_assert_msg(s->l != NULL, "%s", err);
    ck_assert_uint_gt(nt_listener_port(s->l), 0);
    ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_join(srv *s)
{
    pthread_join(s->th, NULL);
    nt_listener_close(s->l);
}

static nt_conn *connect_to(srv *s)
{
    char err[256];
    nt_conn *c = nt_connect("127.0.0.1", nt_listener_port(s->l), dl(), err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static nt_tls_ctx *client_ctx(const char *ca, int insecure)
{
    char err[256];
    nt_tls_client_opts o = {.ca_file = ca ? cpath(ca) : NULL, .insecure = insecure};
    nt_tls_ctx *x = nt_tls_client_ctx(&o, err, sizeof err);
    ck_assert_msg(x != NULL, "%s", err);
    return x;
}

/* ---- plain TCP ------------------------------------------------------------ */

START_TEST(connect_refused_fast)
{
    char err[256];
    nt_listener *l = nt_listen("127.0.0.1", 0, err, sizeof err);
    ck_assert_ptr_nonnull(l);
    unsigned port = nt_listener_port(l);
    nt_listener_close(l);
    int64_t t0 = nt_now_ms();
    nt_conn *c = nt_connect("127.0.0.1", port, nt_deadline(5000), err, sizeof err);
    ck_assert_ptr_null(c);
    ck_assert_int_lt(nt_now_ms() - t0, 1000);
    ck_assert_msg(strstr(err, "refused") != NULL, "%s", err);
}
END_TEST

START_TEST(connect_bad_host)
{
    char err[256];
    ck_assert_ptr_null(nt_connect("no-such-host.invalid", 110, nt_deadline(3000), err, sizeof err));
    ck_assert_msg(strstr(err, "no-such-host.invalid") != NULL, "%s", err);
    ck_assert_ptr_null(nt_connect("127.0.0.1", 0, nt_deadline(100), err, sizeof err));
    ck_assert_ptr_null(nt_connect("127.0.0.1", 70000, nt_deadline(100), err, sizeof err));
}
END_TEST

/* A listener whose accept queue is full drops further SYNs, so the connect
 * can only end by our deadline. */
START_TEST(connect_timeout)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 0), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    unsigned port = ntohs(sa.sin_port);
    char err[256];
    nt_conn *fill[4] = {0};
    int timed_out = 0;
    for (int i = 0; i < 4 && !timed_out; i++) {
        int64_t t0 = nt_now_ms();
        fill[i] = nt_connect("127.0.0.1", port, nt_deadline(300), err, sizeof err);
        if (!fill[i]) {
            ck_assert_msg(strstr(err, "timed out") != NULL, "%s", err);
            int64_t el = nt_now_ms() - t0;
            ck_assert_int_ge(el, 250);
            ck_assert_int_lt(el, 2000);
            timed_out = 1;
        }
    }
    ck_assert_msg(timed_out, "the full accept queue never made connect wait");
    for (int i = 0; i < 4; i++)
        nt_close(fill[i]);
    close(fd);
}
END_TEST

START_TEST(read_timeout_silent_peer)
{
    srv s;
    srv_start(&s, M_SILENT, NULL, NULL);
    nt_conn *c = connect_to(&s);
    char buf[16];
    int64_t t0 = nt_now_ms();
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, nt_deadline(200)), NT_TIMEOUT);
    int64_t el = nt_now_ms() - t0;
    ck_assert_int_ge(el, 190);
    ck_assert_int_lt(el, 2000);
    ck_assert_str_eq(nt_errmsg(c), "read: timed out");
    ck_assert_int_eq(nt_wait_readable(c, nt_deadline(50)), NT_TIMEOUT);
    nt_close(c);
    srv_join(&s);
    ck_assert(s.ok);
}
END_TEST

START_TEST(read_eof)
{
    srv s;
    srv_start(&s, M_CLOSE, NULL, NULL);
    nt_conn *c = connect_to(&s);
    char buf[16];
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, dl()), 0);
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, dl()), 0);
    ck_assert_ptr_nonnull(strstr(nt_peer(c), "127.0.0.1:"));
    nt_close(c);
    srv_join(&s);
}
END_TEST

START_TEST(write_to_reset_peer_no_sigpipe)
{
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill this test */
    srv s;
    srv_start(&s, M_RST, NULL, NULL);
    nt_conn *c = connect_to(&s);
    ck_assert_int_eq(nt_write_all(c, "X", 1, dl()), 0);
    srv_join(&s);
    ck_assert(s.ok);
    char buf[16];
    ssize_t r = nt_read(c, buf, sizeof buf, dl());
    ck_assert_int_eq(r, NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "reset") != NULL, "%s", nt_errmsg(c));
    static char big[65536];
    int w = 0;
    for (int i = 0; i < 20 && w == 0; i++)
        w = nt_write_all(c, big, sizeof big, dl());
    ck_assert_int_eq(w, NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "pipe") || strstr(nt_errmsg(c), "reset"), "%s",
                  nt_errmsg(c));
    nt_close(c);
    /* EPIPE for certain: writing after our own half-close */
    srv_start(&s, M_SILENT, NULL, NULL);
    c = connect_to(&s);
    ck_assert_int_eq(nt_shutdown_write(c), 0);
    ck_assert_int_eq(nt_write_all(c, "QUIT\r\n", 6, dl()), NT_ERR);
    ck_assert_str_eq(nt_errmsg(c), "write: Broken pipe");
    nt_close(c);
    srv_join(&s);
}
END_TEST

START_TEST(bounded_buffer_overflow)
{
    srv s;
    srv_start(&s, M_FLOOD, NULL, NULL);
    nt_conn *c = connect_to(&s);
    nt_buffer b;
    ck_assert_int_eq(nt_buffer_init(&b, 16, 1024), 0);
    ssize_t r;
    while ((r = nt_buffer_fill(&b, c, dl())) > 0) {
    }
    ck_assert_int_eq(r, NT_FULL);
    ck_assert_uint_eq(nt_buffer_len(&b), 1024);
    ck_assert_uint_le(b.cap, 1024);
    ck_assert_int_eq(nt_buffer_data(&b)[1023], 'A');
    nt_buffer_free(&b);
    nt_close(c);
    srv_join(&s);
    ck_assert(s.ok);
}
END_TEST

START_TEST(buffer_compaction)
{
    nt_buffer b;
    ck_assert_int_eq(nt_buffer_init(&b, 8, 8), 0);
    ck_assert_int_eq(nt_buffer_append(&b, "abcdef", 6), 0);
    ck_assert_int_eq(nt_buffer_append(&b, "ghi", 3), NT_FULL);
    ck_assert_uint_eq(nt_buffer_len(&b), 6);
    nt_buffer_consume(&b, 4);
    ck_assert_int_eq(nt_buffer_append(&b, "ghijkl", 6), 0); /* needs compaction */
    ck_assert_uint_eq(nt_buffer_len(&b), 8);
    ck_assert_int_eq(memcmp(nt_buffer_data(&b), "efghijkl", 8), 0);
    ck_assert_uint_eq(b.cap, 8);
    ck_assert_uint_eq(nt_buffer_clear(&b), 8);
    ck_assert_uint_eq(nt_buffer_len(&b), 0);
    nt_buffer_free(&b);
    /* growth stops at max */
    ck_assert_int_eq(nt_buffer_init(&b, 1, 100), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(nt_buffer_append(&b, "x", 1), 0);
    ck_assert_int_eq(nt_buffer_append(&b, "x", 1), NT_FULL);
    ck_assert_uint_eq(b.cap, 100);
    nt_buffer_free(&b);
    ck_assert_int_eq(nt_buffer_init(&b, 1, 0), NT_ERR);
}
END_TEST

START_TEST(chunked_write)
{
    srv s;
    srv_start(&s, M_SILENT, NULL, NULL);
    nt_conn *c = connect_to(&s);
    ck_assert_int_eq(nt_write_chunked(c, "USER alice\r\n", 12, 1, 1, dl()), 0);
    ck_assert_uint_eq(nt_written(c), 12);
    ck_assert_int_eq(nt_write_chunked(c, "CAPA\r\n", 6, 0, 0, dl()), 0);
    ck_assert_uint_eq(nt_written(c), 6);
    ck_assert_int_eq(nt_shutdown_write(c), 0);
    char buf[8];
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, dl()), 0); /* server saw EOF, closed */
    nt_close(c);
    srv_join(&s);
    ck_assert(s.ok);
}
END_TEST

START_TEST(ipv6_loopback)
{
    char err[256];
    nt_listener *l = nt_listen("::1", 0, err, sizeof err);
    if (!l)
        return; /* no IPv6 in this sandbox */
    nt_conn *c = nt_connect("::1", nt_listener_port(l), dl(), err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    nt_conn *a = NULL;
    ck_assert_int_eq(nt_accept(l, &a, dl(), err, sizeof err), 0);
    ck_assert_int_eq(nt_write_all(a, "+OK\r\n", 5, dl()), 0);
    char buf[8];
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, dl()), 5);
    ck_assert_ptr_nonnull(strstr(nt_peer(c), "[::1]:"));
    nt_close(a);
    nt_close(c);
    nt_listener_close(l);
}
END_TEST

START_TEST(accept_timeout)
{
    char err[256];
    nt_listener *l = nt_listen(NULL, 0, err, sizeof err);
    ck_assert_ptr_nonnull(l);
    nt_conn *a = NULL;
    ck_assert_int_eq(nt_accept(l, &a, nt_deadline(50), err, sizeof err), NT_TIMEOUT);
    ck_assert_ptr_null(a);
    nt_listener_close(l);
}
END_TEST

/* ---- TLS ------------------------------------------------------------------ */

static void tls_hello(srv *s, nt_conn *c)
{
    char line[64];
    nt_buffer b;
    nt_buffer_init(&b, 64, 512);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK hello\r\n");
    ck_assert_int_eq(nt_write_all(c, "CAPA\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK bye\r\n");
    nt_buffer_free(&b);
    (void)s;
}

START_TEST(tls_ok_with_test_ca)
{
    make_certs();
    srv s;
    srv_start(&s, M_TLS, "server.pem", "server.key");
    nt_conn *c = nt_connect("localhost", nt_listener_port(s.l), dl(), NULL, 0);
    if (!c) /* localhost may resolve to ::1 first, where nobody listens */
        c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_int_eq(nt_is_tls(c), 0);
    int r = nt_tls_connect(c, x, "localhost", NULL, dl());
    ck_assert_msg(r == 0, "%s", nt_errmsg(c));
    ck_assert(nt_is_tls(c));
    ck_assert_int_eq(nt_tls_verify_code(c), 0);
    ck_assert_str_eq(nt_tls_verify_text(c), "ok");
    ck_assert_msg(strcmp(nt_tls_version(c), "TLSv1.2") == 0 ||
                      strcmp(nt_tls_version(c), "TLSv1.3") == 0,
                  "%s", nt_tls_version(c));
    ck_assert_str_ne(nt_tls_cipher(c), "");
    ck_assert_uint_eq(nt_starttls_discarded(c), 0);
    tls_hello(&s, c);
    char buf[8];
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, nt_deadline(100)), NT_TIMEOUT);
    nt_close(c);
    srv_join(&s);
    ck_assert_msg(s.ok, "%s", s.err);
    ck_assert(s.has_sni);
    ck_assert_str_eq(s.sni, "localhost");
    ck_assert_str_eq(s.line, "CAPA\r\n");
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(tls_ip_literal_no_sni)
{
    make_certs();
    srv s;
    srv_start(&s, M_TLS, "server.pem", "server.key");
    nt_conn *c = connect_to(&s); /* host 127.0.0.1, checked against IP SAN */
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_msg(nt_tls_connect(c, x, NULL, NULL, dl()) == 0, "%s", nt_errmsg(c));
    tls_hello(&s, c);
    nt_close(c);
    srv_join(&s);
    ck_assert_msg(s.ok, "%s", s.err);
    ck_assert_int_eq(s.has_sni, 0);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(tls_wrong_host)
{
    make_certs();
    srv s;
    srv_start(&s, M_TLS, "wrong-host.pem", "wrong-host.key");
    nt_conn *c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_int_eq(nt_tls_connect(c, x, "localhost", NULL, dl()), NT_ERR);
    const char *e = nt_errmsg(c);
    ck_assert_msg(strstr(e, "certificate verify failed") && strstr(e, "\"localhost\"") &&
                      strstr(e, "hostname mismatch"),
                  "%s", e);
    ck_assert_int_eq(nt_is_tls(c), 0);
    ck_assert_int_ne(nt_tls_verify_code(c), 0);
    nt_close(c);
    srv_join(&s);
    ck_assert_int_eq(s.ok, 0); /* the server saw the alert */
    /* the IP literal is not in wrong-host.pem either */
    srv_start(&s, M_TLS, "wrong-host.pem", "wrong-host.key");
    c = connect_to(&s);
    ck_assert_int_eq(nt_tls_connect(c, x, NULL, NULL, dl()), NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "\"127.0.0.1\"") && strstr(nt_errmsg(c), "IP address mismatch"),
                  "%s", nt_errmsg(c));
    nt_close(c);
    srv_join(&s);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(tls_unknown_ca)
{
    make_certs();
    srv s;
    srv_start(&s, M_TLS, "unknown-ca.pem", "unknown-ca.key");
    nt_conn *c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_int_eq(nt_tls_connect(c, x, "localhost", NULL, dl()), NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "certificate verify failed") &&
                      strstr(nt_errmsg(c), "self-signed certificate"),
                  "%s", nt_errmsg(c));
    nt_close(c);
    srv_join(&s);
    nt_tls_ctx_free(x);
    /* the system store does not know our test CA either */
    srv_start(&s, M_TLS, "server.pem", "server.key");
    c = connect_to(&s);
    x = client_ctx(NULL, 0);
    ck_assert_int_eq(nt_tls_connect(c, x, "localhost", NULL, dl()), NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "unable to get local issuer certificate"), "%s",
                  nt_errmsg(c));
    nt_close(c);
    srv_join(&s);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(tls_insecure_connects_anyway)
{
    make_certs();
    srv s;
    srv_start(&s, M_TLS, "unknown-ca.pem", "unknown-ca.key");
    nt_conn *c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 1);
    ck_assert_msg(nt_tls_connect(c, x, "localhost", NULL, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_int_ne(nt_tls_verify_code(c), 0); /* still known, for the report */
    ck_assert_str_eq(nt_tls_verify_text(c), "self-signed certificate");
    tls_hello(&s, c);
    nt_close(c);
    srv_join(&s);
    ck_assert_msg(s.ok, "%s", s.err);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(tls_handshake_timeout_and_bad_files)
{
    make_certs();
    srv s;
    srv_start(&s, M_SILENT, NULL, NULL); /* never answers the ClientHello */
    nt_conn *c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    int64_t t0 = nt_now_ms();
    ck_assert_int_eq(nt_tls_connect(c, x, "localhost", NULL, nt_deadline(200)), NT_TIMEOUT);
    ck_assert_int_lt(nt_now_ms() - t0, 2000);
    ck_assert_msg(strstr(nt_errmsg(c), "timed out"), "%s", nt_errmsg(c));
    nt_close(c);
    srv_join(&s);
    nt_tls_ctx_free(x);
    char err[256];
    nt_tls_client_opts o = {.ca_file = "/nonexistent/ca.pem"};
    ck_assert_ptr_null(nt_tls_client_ctx(&o, err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent/ca.pem"), "%s", err);
    ck_assert_ptr_null(nt_tls_server_ctx(cpath("server.pem"), cpath("wrong-host.key"), err,
                                         sizeof err));
    ck_assert_msg(strstr(err, "does not match") || strstr(err, "mismatch"), "%s", err);
    remove_certs();
}
END_TEST

START_TEST(tls_plain_server_speaks_first)
{
    /* implicit TLS against a plaintext POP3 server: a clear error, no hang */
    make_certs();
    srv s;
    srv_start(&s, M_PLAIN_ERR, NULL, NULL);
    nt_conn *c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    usleep(50000); /* let "+OK ready" arrive: it is discarded plaintext */
    int r = nt_tls_connect(c, x, "localhost", NULL, dl());
    ck_assert_int_eq(r, NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "TLS handshake with 127.0.0.1:"), "%s", nt_errmsg(c));
    ck_assert_uint_eq(nt_starttls_discarded(c), 11);
    nt_close(c);
    srv_join(&s);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

static nt_conn *stls_prelude(srv *s, nt_buffer *b)
{
    char line[64];
    nt_conn *c = connect_to(s);
    ck_assert_int_eq(nt_buffer_init(b, 64, 512), 0);
    ck_assert_int_eq(read_line(c, b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK ready\r\n");
    ck_assert_int_eq(nt_write_all(c, "STLS\r\n", 6, dl()), 0);
    return c;
}

START_TEST(stls_upgrade)
{
    make_certs();
    srv s;
    srv_start(&s, M_STLS, "server.pem", "server.key");
    nt_buffer b;
    nt_conn *c = stls_prelude(&s, &b);
    char line[64];
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK begin TLS\r\n");
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_msg(nt_tls_connect(c, x, "localhost", &b, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_uint_eq(nt_starttls_discarded(c), 0);
    ck_assert_int_eq(nt_write_all(c, "CAPA\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK over TLS\r\n");
    ck_assert_int_eq(nt_shutdown_write(c), 0); /* close_notify, then FIN */
    ck_assert_int_eq(nt_read(c, line, sizeof line, dl()), 0);
    nt_close(c);
    srv_join(&s);
    ck_assert_msg(s.ok, "%s", s.err);
    ck_assert_str_eq(s.line, "CAPA\r\n");
    ck_assert_uint_eq(s.discarded, 0);
    nt_buffer_free(&b);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

/* The server's STLS answer is followed by plaintext in the same segment: it
 * lands in the caller's buffer and must be discarded and counted. */
START_TEST(stls_injected_bytes_in_buffer)
{
    make_certs();
    srv s;
    srv_start(&s, M_STLS_INJECT, "server.pem", "server.key");
    nt_buffer b;
    nt_conn *c = stls_prelude(&s, &b);
    char line[64];
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK begin TLS\r\n");
    ck_assert_uint_eq(nt_buffer_len(&b), 14); /* "+OK injected\r\n" */
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_msg(nt_tls_connect(c, x, "localhost", &b, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_uint_eq(nt_starttls_discarded(c), 14);
    ck_assert_uint_eq(nt_buffer_len(&b), 0);
    ck_assert_int_eq(nt_write_all(c, "CAPA\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK over TLS\r\n"); /* never "+OK injected" */
    nt_close(c);
    srv_join(&s);
    nt_buffer_free(&b);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

/* Same, but the client read exactly the answer: the injected octets are
 * still in the socket when the handshake starts. */
START_TEST(stls_injected_bytes_in_socket)
{
    make_certs();
    srv s;
    srv_start(&s, M_STLS_INJECT, "server.pem", "server.key");
    nt_buffer b;
    nt_conn *c = stls_prelude(&s, &b);
    char line[64];
    ck_assert_uint_eq(nt_buffer_len(&b), 0);
    ssize_t got = 0;
    while (got < 15) {
        ssize_t r = nt_read(c, line + got, (size_t)(15 - got), dl());
        ck_assert_int_gt(r, 0);
        got += r;
    }
    ck_assert_int_eq(memcmp(line, "+OK begin TLS\r\n", 15), 0);
    usleep(50000);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_msg(nt_tls_connect(c, x, "localhost", NULL, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_uint_eq(nt_starttls_discarded(c), 14);
    nt_close(c);
    srv_join(&s);
    nt_buffer_free(&b);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

/* Server side: a client pipelining a command after STLS (CVE-2011-0411). */
START_TEST(stls_server_discards_pipelined)
{
    make_certs();
    srv s;
    srv_start(&s, M_PIPELINE, "server.pem", "server.key");
    nt_buffer b;
    char line[64];
    nt_conn *c = connect_to(&s);
    ck_assert_int_eq(nt_buffer_init(&b, 64, 512), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_int_eq(nt_write_all(c, "STLS\r\nCAPA\r\n", 12, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK begin TLS\r\n");
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_msg(nt_tls_connect(c, x, "localhost", &b, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_int_eq(nt_write_all(c, "NOOP\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_str_eq(line, "+OK over TLS\r\n");
    nt_close(c);
    srv_join(&s);
    ck_assert_msg(s.ok, "%s", s.err);
    ck_assert_uint_eq(s.discarded, 6);     /* "CAPA\r\n" */
    ck_assert_str_eq(s.line, "NOOP\r\n"); /* the pipelined CAPA never ran */
    nt_buffer_free(&b);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(tls_write_after_peer_gone)
{
    signal(SIGPIPE, SIG_DFL);
    make_certs();
    srv s;
    srv_start(&s, M_TLS, "server.pem", "server.key");
    nt_conn *c = connect_to(&s);
    nt_tls_ctx *x = client_ctx("ca.pem", 0);
    ck_assert_msg(nt_tls_connect(c, x, NULL, NULL, dl()) == 0, "%s", nt_errmsg(c));
    tls_hello(&s, c);
    ck_assert_int_eq(nt_shutdown_write(c), 0);
    pthread_join(s.th, NULL); /* the server closed */
    char buf[16];
    ck_assert_int_eq(nt_read(c, buf, sizeof buf, dl()), 0);
    static char big[65536];
    int w = 0;
    for (int i = 0; i < 20 && w == 0; i++)
        w = nt_write_all(c, big, sizeof big, dl());
    ck_assert_int_eq(w, NT_ERR);
    nt_close(c);
    srv_join(&s);

    /* EPIPE for certain: our own socket's write side is shut under TLS, so
     * OpenSSL's write(2) fails with EPIPE, which would raise SIGPIPE. */
    srv_start(&s, M_TLS, "server.pem", "server.key");
    c = connect_to(&s);
    ck_assert_msg(nt_tls_connect(c, x, NULL, NULL, dl()) == 0, "%s", nt_errmsg(c));
    tls_hello(&s, c);
    ck_assert_int_eq(shutdown(nt_fd(c), SHUT_WR), 0);
    ck_assert_int_eq(nt_write_all(c, "QUIT\r\n", 6, dl()), NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "Broken pipe"), "%s", nt_errmsg(c));
    nt_close(c);
    srv_join(&s);
    nt_tls_ctx_free(x);
    remove_certs();
}
END_TEST

START_TEST(certs_are_well_formed)
{
    make_certs();
    struct stat st;
    ck_assert_int_eq(stat(cpath("server.key"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(cpath("ca.pem"), &st), 0);
    ck_assert_int_gt(st.st_size, 100);
    char err[256];
    ck_assert_int_eq(nt_cert_make_dir("/nonexistent-dir", err, sizeof err), NT_ERR);
    ck_assert_msg(strstr(err, "/nonexistent-dir"), "%s", err);
    remove_certs();
}
END_TEST

/* Against a real server: runs only when P3S_DOVECOT_DIR names a directory
 * where `bash scripts/dovecot start DIR` runs Dovecot (ports 11110/11995). */
START_TEST(dovecot_live)
{
    const char *d = getenv("P3S_DOVECOT_DIR");
    if (!d || !*d)
        return;
    char ca[512], err[256], line[600];
    snprintf(ca, sizeof ca, "%s/certs/ca.pem", d);
    nt_tls_client_opts o = {.ca_file = ca};
    nt_tls_ctx *x = nt_tls_client_ctx(&o, err, sizeof err);
    ck_assert_msg(x != NULL, "%s", err);
    nt_buffer b;
    ck_assert_int_eq(nt_buffer_init(&b, 512, 4096), 0);

    /* implicit TLS, checked against the IP address */
    nt_conn *c = nt_connect("127.0.0.1", 11995, dl(), err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_msg(nt_tls_connect(c, x, NULL, &b, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_uint_eq(nt_starttls_discarded(c), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_msg(strncmp(line, "+OK ", 4) == 0, "%s", line);
    nt_close(c);

    /* STLS by host name */
    nt_buffer_clear(&b);
    c = nt_connect("127.0.0.1", 11110, dl(), err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_int_eq(nt_write_all(c, "STLS\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_msg(strncmp(line, "+OK", 3) == 0, "%s", line);
    ck_assert_msg(nt_tls_connect(c, x, "localhost", &b, dl()) == 0, "%s", nt_errmsg(c));
    ck_assert_uint_eq(nt_starttls_discarded(c), 0);
    /* NOOP is not valid before login (RFC 1939); CAPA is, and after STLS
     * it must no longer offer STLS (RFC 2595 section 4). */
    ck_assert_int_eq(nt_write_all(c, "CAPA\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    ck_assert_msg(strncmp(line, "+OK", 3) == 0, "%s", line);
    int ncapa = 0;
    for (;;) {
        ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
        if (strcmp(line, ".\r\n") == 0)
            break;
        ck_assert_str_ne(line, "STLS\r\n");
        ncapa++;
    }
    ck_assert_int_gt(ncapa, 0);
    ck_assert_int_eq(nt_write_all(c, "QUIT\r\n", 6, dl()), 0);
    ck_assert_int_eq(read_line(c, &b, line, sizeof line), 0);
    nt_close(c);

    /* verification against the wrong name fails */
    c = nt_connect("127.0.0.1", 11995, dl(), err, sizeof err);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(nt_tls_connect(c, x, "wrong.example", NULL, dl()), NT_ERR);
    ck_assert_msg(strstr(nt_errmsg(c), "hostname mismatch"), "%s", nt_errmsg(c));
    nt_close(c);
    nt_buffer_free(&b);
    nt_tls_ctx_free(x);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("nt");
    TCase *tcp = tcase_create("tcp");
    tcase_add_test(tcp, connect_refused_fast);
    tcase_add_test(tcp, connect_bad_host);
    tcase_add_test(tcp, connect_timeout);
    tcase_add_test(tcp, read_timeout_silent_peer);
    tcase_add_test(tcp, read_eof);
    tcase_add_test(tcp, write_to_reset_peer_no_sigpipe);
    tcase_add_test(tcp, bounded_buffer_overflow);
    tcase_add_test(tcp, buffer_compaction);
    tcase_add_test(tcp, chunked_write);
    tcase_add_test(tcp, ipv6_loopback);
    tcase_add_test(tcp, accept_timeout);
    suite_add_tcase(s, tcp);
    TCase *tls = tcase_create("tls");
    tcase_set_timeout(tls, 60);
    tcase_add_test(tls, certs_are_well_formed);
    tcase_add_test(tls, tls_ok_with_test_ca);
    tcase_add_test(tls, tls_ip_literal_no_sni);
    tcase_add_test(tls, tls_wrong_host);
    tcase_add_test(tls, tls_unknown_ca);
    tcase_add_test(tls, tls_insecure_connects_anyway);
    tcase_add_test(tls, tls_handshake_timeout_and_bad_files);
    tcase_add_test(tls, tls_plain_server_speaks_first);
    tcase_add_test(tls, stls_upgrade);
    tcase_add_test(tls, stls_injected_bytes_in_buffer);
    tcase_add_test(tls, stls_injected_bytes_in_socket);
    tcase_add_test(tls, stls_server_discards_pipelined);
    tcase_add_test(tls, tls_write_after_peer_gone);
    tcase_add_test(tls, dovecot_live);
    suite_add_tcase(s, tls);
    return s;
}

int main(void)
{
    return p3t_run(make_suite());
}
