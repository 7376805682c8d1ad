/*
 * test_ref.c - the reference POP3 server, driven over real sockets by
 * dialogues written from the RFC texts (RFC 1939, 2449, 2595, 4616, 5034,
 * 8314). Each test starts its own server on 127.0.0.1 port 0 with its own
 * temporary mailbox.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "p3t.h"
#include "pop3parse.h"
#include "ref.h"

/* ---------------------------------------------------------------------------
 * Fixture: a temporary directory, a mailbox, a users file, a server.
 */

#define LONG_PASS "this password is longer than forty octets, with spaces"

typedef struct fx {
    char root[256];
    char mail[300];
    char users[300];
    char cert[300];
    char key[300];
    ref_server *srv;
    unsigned port;
    unsigned tls_port;
} fx;

static fx F;

static void write_file(const char *dir, const char *name, const char *data, size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static char *read_path(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = malloc(1 << 20);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static int file_exists(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* A throwaway self-signed certificate (EC P-256) for localhost. */
static void make_cert(void)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ck_assert_ptr_nonnull(pk);
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pk);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, nm);
    ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
    snprintf(F.cert, sizeof F.cert, "%s/cert.pem", F.root);
    snprintf(F.key, sizeof F.key, "%s/key.pem", F.root);
    FILE *f = fopen(F.cert, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    fclose(f);
    f = fopen(F.key, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* The fixture without a server: demo mailbox and users. */
static void fx_files(void)
{
    memset(&F, 0, sizeof F);
    snprintf(F.root, sizeof F.root, "/tmp/test_ref.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(F.root));
    snprintf(F.mail, sizeof F.mail, "%s/mail", F.root);
    snprintf(F.users, sizeof F.users, "%s/users", F.root);
    ck_assert_int_eq(ref_mailbox_seed(F.mail), 0);
    static const char users[] = "# test users\n"
                                "mrose:tanstaaf\n"
                                "long:" LONG_PASS "\n"
                                "other:secret:with:colons\r\n";
    write_file(F.root, "users", users, sizeof users - 1);
}

static void fx_start(int tls, unsigned timeout)
{
    ref_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.mailbox = F.mail;
    cfg.users = F.users;
    cfg.timeout = timeout;
    if (tls) {
        make_cert();
        cfg.cert = F.cert;
        cfg.key = F.key;
        cfg.listen_tls = "127.0.0.1:0";
    }
    char err[256] = "";
    int rc = ref_server_start(&cfg, &F.srv, err, sizeof err);
    ck_assert_msg(rc == 0, "ref_server_start: %s", err);
    F.port = ref_server_port(F.srv, 0);
    F.tls_port = ref_server_port(F.srv, 1);
    ck_assert_uint_ne(F.port, 0);
    ck_assert_uint_eq(F.tls_port != 0, tls != 0);
}

static void setup(void)
{
    fx_files();
    fx_start(0, 0);
}

static void setup_tls(void)
{
    fx_files();
    fx_start(1, 0);
}

static void teardown(void)
{
    ref_server_stop(F.srv);
    F.srv = NULL;
}

/* ---------------------------------------------------------------------------
 * A test client over plain sockets (and OpenSSL for TLS).
 */

typedef struct cl {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char buf[1 << 16];
    size_t len;
} cl;

static cl *cl_connect(unsigned port)
{
    cl *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(c->fd, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {10, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
}

static void cl_tls(cl *c)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(c->ctx);
    /* This tests the server: the client does not verify the certificate. */
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    ck_assert_int_eq(SSL_connect(c->ssl), 1);
}

static void cl_close(cl *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    close(c->fd);
    free(c);
}

static void cl_send_n(cl *c, const char *p, size_t n)
{
    if (c->ssl) {
        ck_assert_int_eq(SSL_write(c->ssl, p, (int)n), (int)n);
    } else {
        ck_assert_int_eq(send(c->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
    }
}

static void cl_send(cl *c, const char *z) { cl_send_n(c, z, strlen(z)); }

/* Read more: octets read, 0 at end of stream (or timeout). */
static ssize_t cl_fill(cl *c)
{
    ck_assert_uint_lt(c->len, sizeof c->buf);
    ssize_t r;
    if (c->ssl)
        r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
    else
        r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r <= 0)
        return 0;
    c->len += (size_t)r;
    return r;
}

static void cl_consume(cl *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* One line without its CRLF into out (static storage per call site is the
 * caller's); fails the test at end of stream. */
static const char *cl_line(cl *c)
{
    static char line[1024];
    for (;;) {
        char *lf = memchr(c->buf, '\n', c->len);
        if (lf) {
            size_t n = (size_t)(lf - c->buf) + 1;
            ck_assert_msg(n >= 2 && lf[-1] == '\r', "line without CRLF");
            ck_assert_uint_lt(n, sizeof line);
            memcpy(line, c->buf, n - 2);
            line[n - 2] = '\0';
            cl_consume(c, n);
            return line;
        }
        ck_assert_msg(cl_fill(c) > 0, "connection closed while waiting for a line");
    }
}

/* A status line, parsed strictly by the shared parser. */
static p3_status_kind cl_status(cl *c, char *text, size_t cap)
{
    const char *l = cl_line(c);
    char tmp[600];
    size_t n = strlen(l);
    memcpy(tmp, l, n);
    memcpy(tmp + n, "\r\n", 2);
    p3_status st;
    p3_diag d;
    ssize_t r = p3_status_parse(tmp, n + 2, 0, &st, &d);
    ck_assert_msg(r == (ssize_t)(n + 2), "bad status line \"%s\": %s", l, p3_errno_msg(d.code));
    if (text) {
        snprintf(text, cap, "%s", l);
    }
    return st.kind;
}

static void expect_ok(cl *c, const char *cmd)
{
    char t[600];
    if (cmd)
        cl_send(c, cmd);
    p3_status_kind k = cl_status(c, t, sizeof t);
    ck_assert_msg(k == P3_ST_OK, "%s-> %s", cmd ? cmd : "greeting ", t);
}

/* -ERR; returns the whole line. */
static const char *expect_err(cl *c, const char *cmd)
{
    static char t[600];
    if (cmd)
        cl_send(c, cmd);
    p3_status_kind k = cl_status(c, t, sizeof t);
    ck_assert_msg(k == P3_ST_ERR, "%s-> %s", cmd ? cmd : "", t);
    return t;
}

/* The lines of a multi-line answer (unstuffed), joined with "\n". */
static char *cl_lines(cl *c)
{
    p3_ml ml;
    p3_ml_init(&ml, 0, 0);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (;;) {
        p3_slice line;
        ssize_t r = p3_ml_line(&ml, c->buf, c->len, &line);
        if (r == P3_NEED_MORE) {
            ck_assert_msg(cl_fill(c) > 0, "closed inside a multi-line answer");
            continue;
        }
        ck_assert_msg(r > 0, "multi-line error %s", p3_errno_name(ml.err));
        if (p3_ml_done(&ml)) {
            cl_consume(c, (size_t)r);
            break;
        }
        ck_assert_uint_lt(n + line.n + 2, cap);
        memcpy(out + n, line.p, line.n);
        n += line.n;
        out[n++] = '\n';
        out[n] = '\0';
        cl_consume(c, (size_t)r);
    }
    return out;
}

/* Next "\n"-terminated line of *cur (cl_lines output) as a slice; 0 at the end. */
static int next_line(const char **cur, p3_slice *line)
{
    const char *nl = strchr(*cur, '\n');
    if (!nl)
        return 0;
    line->p = *cur;
    line->n = (size_t)(nl - *cur);
    *cur = nl + 1;
    return 1;
}

/* The body of a RETR / TOP answer, decoded with p3_ml_body. */
static char *cl_body(cl *c, size_t *out_n)
{
    p3_ml ml;
    p3_ml_init(&ml, 0, 0);
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    while (!p3_ml_done(&ml)) {
        if (c->len == 0)
            ck_assert_msg(cl_fill(c) > 0, "closed inside a message");
        p3_slice sl[32];
        size_t ns = 0;
        ssize_t r = p3_ml_body(&ml, c->buf, c->len, sl, 32, &ns);
        ck_assert_msg(r >= 0, "body error %s", p3_errno_name(ml.err));
        for (size_t i = 0; i < ns; i++) {
            ck_assert_uint_le(n + sl[i].n, cap);
            memcpy(out + n, sl[i].p, sl[i].n);
            n += sl[i].n;
        }
        cl_consume(c, (size_t)r);
    }
    *out_n = n;
    return out;
}

/* Greeting, then USER/PASS as mrose. */
static cl *login(void)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "PASS tanstaaf\r\n");
    return c;
}

static void quit(cl *c)
{
    expect_ok(c, "QUIT\r\n");
    /* The server closes after QUIT. */
    ck_assert_int_eq(cl_fill(c), 0);
    cl_close(c);
}

/* The normalised content of a demo message file (what RETR must yield). */
static char *expected(const char *name, size_t *n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", F.mail, name);
    size_t raw_n;
    char *raw = read_path(path, &raw_n);
    char *norm;
    ck_assert_int_eq(ref_normalise(raw, raw_n, &norm, n), 0);
    free(raw);
    return norm;
}

static unsigned stat_count(cl *c)
{
    char t[600];
    cl_send(c, "STAT\r\n");
    ck_assert_int_eq(cl_status(c, t, sizeof t), P3_ST_OK);
    p3_slice text = {t + 4, strlen(t + 4)};
    uint32_t count;
    uint64_t oct;
    p3_diag d;
    ck_assert_int_eq(p3_stat_text(text, 0, &count, &oct, &d), 0);
    return count;
}

/* Log in, retrying while a session that just dropped still holds the lock. */
static cl *login_when_free(void)
{
    for (int i = 0; i < 100; i++) {
        cl *c = cl_connect(F.port);
        expect_ok(c, NULL);
        expect_ok(c, "USER mrose\r\n");
        char t[600];
        cl_send(c, "PASS tanstaaf\r\n");
        if (cl_status(c, t, sizeof t) == P3_ST_OK)
            return c;
        ck_assert_msg(strstr(t, "[IN-USE]") != NULL, "unexpected: %s", t);
        cl_close(c);
        usleep(50000);
    }
    ck_abort_msg("maildrop stayed locked");
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Normalisation (no server).
 */

START_TEST(normalise_line_ends)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"a\n", "a\r\n"},
        {"a\r\n", "a\r\n"},
        {"a\rb", "a\r\nb\r\n"},
        {"a\n\nb", "a\r\n\r\nb\r\n"},
        {"\r\n\r\n", "\r\n\r\n"},
        {".\n..\n", ".\r\n..\r\n"},
        {"no line end", "no line end\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *o;
        size_t n;
        ck_assert_int_eq(ref_normalise(cases[i].in, strlen(cases[i].in), &o, &n), 0);
        ck_assert_uint_eq(n, strlen(cases[i].out));
        ck_assert_mem_eq(o, cases[i].out, n);
        free(o);
    }
}
END_TEST

START_TEST(mailbox_maildir_uids)
{
    fx_files();
    char md[400];
    snprintf(md, sizeof md, "%s/maildir", F.root);
    mkdir(md, 0700);
    char sub[450];
    snprintf(sub, sizeof sub, "%s/cur", md);
    mkdir(sub, 0700);
    write_file(sub, "1700000002.M1P1.host:2,S", "b\n", 2);
    snprintf(sub, sizeof sub, "%s/new", md);
    mkdir(sub, 0700);
    write_file(sub, "1700000001.M1P1.host", "a\n", 2);
    write_file(sub, ".hidden", "x\n", 2);
    ref_mailbox mb = REF_MAILBOX_INIT;
    ck_assert_int_eq(ref_mailbox_load(&mb, md), 0);
    ck_assert_uint_eq(mb.count, 2);
    /* Sorted by unique name; the ":2,S" info is not part of the uid. */
    ck_assert_str_eq(mb.msgs[0].uid, "1700000001.M1P1.host");
    ck_assert_str_eq(mb.msgs[1].uid, "1700000002.M1P1.host");
    ck_assert_uint_eq(mb.msgs[1].size, 3);
    ref_mailbox_free(&mb);

    /* A name that is not a valid unique-id (a space, over 70 octets) is
     * hashed: 32 hex digits, the same every time. */
    char plain[400];
    snprintf(plain, sizeof plain, "%s/plain", F.root);
    mkdir(plain, 0700);
    write_file(plain, "with space", "x\n", 2);
    char longname[100];
    memset(longname, 'n', 80);
    longname[80] = '\0';
    write_file(plain, longname, "y\n", 2);
    ck_assert_int_eq(ref_mailbox_load(&mb, plain), 0);
    ck_assert_uint_eq(mb.count, 2);
    char uid0[71];
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(strlen(mb.msgs[i].uid), 32);
        ck_assert_uint_eq(strspn(mb.msgs[i].uid, "0123456789abcdef"), 32);
    }
    snprintf(uid0, sizeof uid0, "%s", mb.msgs[0].uid);
    ref_mailbox_free(&mb);
    ck_assert_int_eq(ref_mailbox_load(&mb, plain), 0);
    ck_assert_str_eq(mb.msgs[0].uid, uid0);
    ref_mailbox_free(&mb);
}
END_TEST

START_TEST(seed_is_deterministic)
{
    fx_files();
    size_t n1, n2;
    char p[400];
    snprintf(p, sizeof p, "%s/0005.eml", F.mail);
    char *a = read_path(p, &n1);
    ck_assert_uint_gt(n1, 100000);
    ck_assert_int_eq(ref_mailbox_seed(F.mail), 0);
    char *b = read_path(p, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(a, b, n1);
    free(a);
    free(b);
    ck_assert(file_exists(F.mail, "0001.eml") && file_exists(F.mail, "0004.eml"));
}
END_TEST

/* ---------------------------------------------------------------------------
 * AUTHORIZATION state.
 */

START_TEST(greeting_has_unique_timestamp)
{
    char ts[2][200];
    for (int i = 0; i < 2; i++) {
        cl *c = cl_connect(F.port);
        const char *l = cl_line(c);
        char tmp[600];
        size_t n = strlen(l);
        memcpy(tmp, l, n);
        memcpy(tmp + n, "\r\n", 2);
        p3_status st;
        p3_diag d;
        ck_assert_int_eq(p3_status_parse(tmp, n + 2, 0, &st, &d), (ssize_t)(n + 2));
        ck_assert_int_eq(st.kind, P3_ST_OK);
        p3_slice t;
        ck_assert_int_eq(p3_greeting_timestamp(&st, &t, &d), 1);
        snprintf(ts[i], sizeof ts[i], "%.*s", (int)t.n, t.p);
        quit(c);
    }
    /* RFC 1939 section 7: "the timestamp MUST be different each time". */
    ck_assert_str_ne(ts[0], ts[1]);
}
END_TEST

static void md5_hex(const char *a, const char *b, char out[33])
{
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned dl;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestInit_ex(m, EVP_md5(), NULL);
    EVP_DigestUpdate(m, a, strlen(a));
    EVP_DigestUpdate(m, b, strlen(b));
    EVP_DigestFinal_ex(m, dg, &dl);
    EVP_MD_CTX_free(m);
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", dg[i]);
}

START_TEST(md5_matches_rfc1939_example)
{
    /* RFC 1939 section 7: the example digest. */
    char hex[33];
    md5_hex("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf", hex);
    ck_assert_str_eq(hex, "c4c9334bac560ecc979e58001b3e22fb");
}
END_TEST

/* RFC 1939 section 10, with a two-message maildrop. */
START_TEST(rfc1939_example_session)
{
    /* Replace the demo mailbox by two messages. */
    for (int i = 1; i <= 5; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/000%d.eml", F.mail, i);
        unlink(p);
    }
    static const char m1[] = "Subject: one\n\nfirst\n", m2[] = "Subject: two\r\n\r\n.dot\r\n";
    write_file(F.mail, "a", m1, sizeof m1 - 1);
    write_file(F.mail, "b", m2, sizeof m2 - 1);
    size_t n1 = sizeof m1 - 1 + 3; /* three LF become CRLF */
    size_t n2 = sizeof m2 - 1;

    cl *c = cl_connect(F.port);
    const char *g = cl_line(c);
    const char *lt = strchr(g, '<'), *gt = strchr(g, '>');
    ck_assert(lt && gt && gt > lt);
    char stamp[200];
    snprintf(stamp, sizeof stamp, "%.*s", (int)(gt - lt + 1), lt);
    char hex[33], cmd[100];
    md5_hex(stamp, "tanstaaf", hex);
    snprintf(cmd, sizeof cmd, "APOP mrose %s\r\n", hex);
    char t[600];
    cl_send(c, cmd);
    ck_assert_int_eq(cl_status(c, t, sizeof t), P3_ST_OK);
    char want[200];
    snprintf(want, sizeof want, "+OK mrose's maildrop has 2 messages (%zu octets)", n1 + n2);
    ck_assert_str_eq(t, want);

    cl_send(c, "STAT\r\n");
    snprintf(want, sizeof want, "+OK 2 %zu", n1 + n2);
    ck_assert_str_eq(cl_line(c), want);

    expect_ok(c, "LIST\r\n");
    char *l = cl_lines(c);
    snprintf(want, sizeof want, "1 %zu\n2 %zu\n", n1, n2);
    ck_assert_str_eq(l, want);
    free(l);

    cl_send(c, "RETR 1\r\n");
    snprintf(want, sizeof want, "+OK %zu octets", n1);
    ck_assert_str_eq(cl_line(c), want);
    size_t bn;
    char *body = cl_body(c, &bn);
    ck_assert_uint_eq(bn, n1);
    ck_assert_mem_eq(body, "Subject: one\r\n\r\nfirst\r\n", n1);
    free(body);

    cl_send(c, "DELE 1\r\n");
    ck_assert_str_eq(cl_line(c), "+OK message 1 deleted");
    cl_send(c, "RETR 2\r\n");
    snprintf(want, sizeof want, "+OK %zu octets", n2);
    ck_assert_str_eq(cl_line(c), want);
    body = cl_body(c, &bn);
    ck_assert_uint_eq(bn, n2);
    ck_assert_mem_eq(body, m2, n2);
    free(body);
    cl_send(c, "DELE 2\r\n");
    ck_assert_str_eq(cl_line(c), "+OK message 2 deleted");
    cl_send(c, "QUIT\r\n");
    ck_assert_str_eq(cl_line(c), "+OK pop3spec-ref signing off (maildrop empty)");
    ck_assert_int_eq(cl_fill(c), 0);
    cl_close(c);
    ck_assert(!file_exists(F.mail, "a"));
    ck_assert(!file_exists(F.mail, "b"));
}
END_TEST

START_TEST(apop_wrong_digest_and_upper_case)
{
    cl *c = cl_connect(F.port);
    const char *g = cl_line(c);
    const char *lt = strchr(g, '<'), *gt = strchr(g, '>');
    char stamp[200];
    snprintf(stamp, sizeof stamp, "%.*s", (int)(gt - lt + 1), lt);
    char hex[33], cmd[100];
    md5_hex(stamp, "wrong", hex);
    snprintf(cmd, sizeof cmd, "APOP mrose %s\r\n", hex);
    ck_assert_ptr_nonnull(strstr(expect_err(c, cmd), "[AUTH]"));
    md5_hex(stamp, "tanstaaf", hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    snprintf(cmd, sizeof cmd, "APOP mrose %s\r\n", hex);
    expect_err(c, cmd);
    snprintf(cmd, sizeof cmd, "APOP nobody %s\r\n", hex);
    expect_err(c, cmd);
    quit(c);
}
END_TEST

START_TEST(user_pass_rules)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    /* RFC 1939 section 7: PASS only right after a successful USER. */
    expect_err(c, "PASS tanstaaf\r\n");
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "CAPA\r\n");
    free(cl_lines(c));
    expect_err(c, "PASS tanstaaf\r\n");
    /* Wrong password: [AUTH] (RFC 3206), back to AUTHORIZATION. */
    expect_ok(c, "USER mrose\r\n");
    ck_assert_ptr_nonnull(strstr(expect_err(c, "PASS wrong\r\n"), "[AUTH]"));
    expect_err(c, "PASS tanstaaf\r\n");
    /* Unknown user: USER says +OK, PASS fails the same way. */
    expect_ok(c, "USER nobody\r\n");
    ck_assert_ptr_nonnull(strstr(expect_err(c, "PASS tanstaaf\r\n"), "[AUTH]"));
    /* TRANSACTION commands are refused before login. */
    expect_err(c, "STAT\r\n");
    expect_err(c, "RETR 1\r\n");
    expect_err(c, "DELE 1\r\n");
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "PASS tanstaaf\r\n");
    /* ... and AUTHORIZATION commands after it. */
    expect_err(c, "USER mrose\r\n");
    expect_err(c, "PASS tanstaaf\r\n");
    expect_err(c, "AUTH PLAIN\r\n");
    quit(c);
}
END_TEST

START_TEST(pass_long_and_with_colons)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    expect_ok(c, "USER long\r\n");
    /* Over 40 octets, with spaces: the rest of the line is the password
     * (RFC 1939 section 7), accepted with P3_LENIENT_LONG_ARG and counted. */
    expect_ok(c, "PASS " LONG_PASS "\r\n");
    ref_stats st;
    ref_server_stats(F.srv, &st);
    ck_assert_uint_eq(st.lenient_long_arg, 1);
    ck_assert_uint_eq(st.logins, 1);
    quit(c);
    c = cl_connect(F.port);
    expect_ok(c, NULL);
    expect_ok(c, "USER other\r\n");
    expect_ok(c, "PASS secret:with:colons\r\n");
    quit(c);
}
END_TEST

static void b64(const char *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p, (int)n);
}

START_TEST(auth_plain)
{
    char enc[200], cmd[300];
    static const char good[] = "\0mrose\0tanstaaf";
    b64(good, sizeof good - 1, enc);

    /* Initial response (RFC 5034 section 4). */
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    snprintf(cmd, sizeof cmd, "AUTH PLAIN %s\r\n", enc);
    expect_ok(c, cmd);
    /* RFC 5034: no second AUTH once authenticated. */
    expect_err(c, cmd);
    quit(c);

    /* Empty challenge "+ " then the response; mechanism name in any case. */
    c = cl_connect(F.port);
    expect_ok(c, NULL);
    cl_send(c, "AUTH plain\r\n");
    ck_assert_str_eq(cl_line(c), "+ ");
    snprintf(cmd, sizeof cmd, "%s\r\n", enc);
    expect_ok(c, cmd);
    quit(c);

    c = cl_connect(F.port);
    expect_ok(c, NULL);
    /* "*" cancels: -ERR, still in AUTHORIZATION. */
    cl_send(c, "AUTH PLAIN\r\n");
    ck_assert_str_eq(cl_line(c), "+ ");
    expect_err(c, "*\r\n");
    /* Bad base64 in the continuation and in the initial response. */
    cl_send(c, "AUTH PLAIN\r\n");
    ck_assert_str_eq(cl_line(c), "+ ");
    expect_err(c, "AAA=BBB=\r\n");
    expect_err(c, "AUTH PLAIN =AAA\r\n");
    /* "=" is an empty initial response: not a valid PLAIN message. */
    expect_err(c, "AUTH PLAIN =\r\n");
    /* Wrong password: [AUTH]. */
    static const char bad[] = "\0mrose\0nope";
    b64(bad, sizeof bad - 1, enc);
    snprintf(cmd, sizeof cmd, "AUTH PLAIN %s\r\n", enc);
    ck_assert_ptr_nonnull(strstr(expect_err(c, cmd), "[AUTH]"));
    /* Another user as authzid is refused. */
    static const char proxy[] = "other\0mrose\0tanstaaf";
    b64(proxy, sizeof proxy - 1, enc);
    snprintf(cmd, sizeof cmd, "AUTH PLAIN %s\r\n", enc);
    expect_err(c, cmd);
    /* Same authzid as authcid is fine. */
    static const char self[] = "mrose\0mrose\0tanstaaf";
    b64(self, sizeof self - 1, enc);
    snprintf(cmd, sizeof cmd, "AUTH PLAIN %s\r\n", enc);
    expect_ok(c, cmd);
    quit(c);

    c = cl_connect(F.port);
    expect_ok(c, NULL);
    expect_err(c, "AUTH CRAM-MD5\r\n");
    /* A long initial response (over 40 octets) is accepted. */
    static const char lng[] = "\0long\0" LONG_PASS;
    b64(lng, sizeof lng - 1, enc);
    snprintf(cmd, sizeof cmd, "AUTH PLAIN %s\r\n", enc);
    expect_ok(c, cmd);
    quit(c);
}
END_TEST

START_TEST(capa_both_states)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    expect_ok(c, "CAPA\r\n");
    char *l = cl_lines(c);
    const char *want[] = {"TOP\n", "USER\n", "UIDL\n", "RESP-CODES\n", "PIPELINING\n",
                          "SASL PLAIN\n", "AUTH-RESP-CODE\n", "IMPLEMENTATION pop3spec-ref\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(l, want[i]), "CAPA lacks %s", want[i]);
    /* No certificate: no STLS. */
    ck_assert_ptr_null(strstr(l, "STLS"));
    /* Every line is a valid capability (RFC 2449 section 3). */
    const char *cur = l;
    p3_slice line;
    while (next_line(&cur, &line)) {
        p3_capa cap;
        p3_diag d;
        ck_assert_int_eq(p3_capa_line(line, 0, &cap, &d), 0);
    }
    free(l);
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "PASS tanstaaf\r\n");
    expect_ok(c, "CAPA\r\n");
    l = cl_lines(c);
    ck_assert_ptr_nonnull(strstr(l, "TOP\n"));
    free(l);
    quit(c);
}
END_TEST

START_TEST(syntax_errors)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    /* An unknown command, and the parser's own diagnostics. */
    expect_err(c, "XYZZY\r\n");
    const char *e = expect_err(c, "\r\n");
    ck_assert_ptr_nonnull(strstr(e, p3_errno_msg(P3_E_EMPTY_LINE)));
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "PASS tanstaaf\r\n");
    e = expect_err(c, "RETR abc\r\n");
    ck_assert_ptr_nonnull(strstr(e, p3_errno_msg(P3_E_NUMBER)));
    e = expect_err(c, "STAT 1\r\n");
    ck_assert_ptr_nonnull(strstr(e, p3_errno_msg(P3_E_TOO_MANY_ARGS)));
    e = expect_err(c, "RETR\r\n");
    ck_assert_ptr_nonnull(strstr(e, p3_errno_msg(P3_E_TOO_FEW_ARGS)));
    expect_err(c, "RETR 1\n");
    expect_err(c, "RETR 0\r\n");
    expect_err(c, "RETR 6\r\n");
    expect_err(c, "RETR 4294967295\r\n");
    expect_err(c, "RETR 4294967296\r\n");
    expect_err(c, "STLS\r\n");
    /* Keywords are case-insensitive (RFC 1939 section 3). */
    expect_ok(c, "noop\r\n");
    ref_stats st;
    ref_server_stats(F.srv, &st);
    ck_assert_uint_ge(st.syntax_errors, 6);
    quit(c);
}
END_TEST

START_TEST(overlong_line_resynchronises)
{
    cl *c = login();
    /* 300 octets: over the 255 of RFC 2449 section 4. */
    char big[400];
    memset(big, 'A', 300);
    memcpy(big + 300, "\r\nNOOP\r\n", 9);
    cl_send(c, big);
    const char *e = expect_err(c, NULL);
    ck_assert_ptr_nonnull(strstr(e, p3_errno_msg(P3_E_LINE_TOO_LONG)));
    expect_ok(c, NULL);
    /* 100 KiB without a line end, sent in pieces, then one more command:
     * one -ERR, and the server is back in step. */
    char *huge = malloc(100000);
    memset(huge, 'B', 100000);
    for (int i = 0; i < 10; i++)
        cl_send_n(c, huge + i * 10000, 10000);
    cl_send(c, "\r\nSTAT\r\n");
    expect_err(c, NULL);
    free(huge);
    char t[600];
    ck_assert_int_eq(cl_status(c, t, sizeof t), P3_ST_OK);
    ck_assert_ptr_nonnull(strstr(t, "+OK 5 "));
    quit(c);
}
END_TEST

START_TEST(pipelining)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    /* RFC 2449 section 6.6: commands in one write, answers in order. */
    cl_send(c, "USER mrose\r\nPASS tanstaaf\r\nSTAT\r\nLIST 2\r\nUIDL 3\r\nDELE 1\r\n"
               "LIST 1\r\nNOOP\r\nRSET\r\nLIST 1\r\nBOGUS\r\nQUIT\r\n");
    expect_ok(c, NULL);
    expect_ok(c, NULL);
    ck_assert_ptr_nonnull(strstr(cl_line(c), "+OK 5 "));
    size_t n2;
    char *m2 = expected("0002.eml", &n2);
    char want[100];
    snprintf(want, sizeof want, "+OK 2 %zu", n2);
    free(m2);
    ck_assert_str_eq(cl_line(c), want);
    ck_assert_str_eq(cl_line(c), "+OK 3 0003.eml");
    ck_assert_str_eq(cl_line(c), "+OK message 1 deleted");
    expect_err(c, NULL);
    expect_ok(c, NULL);
    expect_ok(c, NULL);
    expect_ok(c, NULL);
    expect_err(c, NULL);
    expect_ok(c, NULL);
    ck_assert_int_eq(cl_fill(c), 0);
    cl_close(c);
    ck_assert(file_exists(F.mail, "0001.eml"));
}
END_TEST

/* ---------------------------------------------------------------------------
 * TRANSACTION state.
 */

START_TEST(retr_every_demo_message)
{
    cl *c = login();
    expect_ok(c, "LIST\r\n");
    char *list = cl_lines(c);
    uint64_t total = 0;
    for (int i = 1; i <= 5; i++) {
        char name[20], cmd[40], want[80];
        snprintf(name, sizeof name, "000%d.eml", i);
        size_t n;
        char *exp = expected(name, &n);
        total += n;
        snprintf(want, sizeof want, "%d %zu\n", i, n);
        ck_assert_msg(strstr(list, want), "LIST lacks %s", want);
        snprintf(cmd, sizeof cmd, "RETR %d\r\n", i);
        cl_send(c, cmd);
        snprintf(want, sizeof want, "+OK %zu octets", n);
        ck_assert_str_eq(cl_line(c), want);
        size_t bn;
        char *body = cl_body(c, &bn);
        ck_assert_uint_eq(bn, n);
        ck_assert_mem_eq(body, exp, n);
        free(body);
        free(exp);
    }
    free(list);
    /* The file on disk has LF line ends; the wire has CRLF. */
    size_t raw_n, n;
    char p[400];
    snprintf(p, sizeof p, "%s/0002.eml", F.mail);
    char *raw = read_path(p, &raw_n);
    ck_assert_ptr_null(memchr(raw, '\r', raw_n));
    char *exp = expected("0002.eml", &n);
    ck_assert_uint_gt(n, raw_n);
    free(raw);
    free(exp);
    char t[600], want[100];
    cl_send(c, "STAT\r\n");
    cl_status(c, t, sizeof t);
    snprintf(want, sizeof want, "+OK 5 %llu", (unsigned long long)total);
    ck_assert_str_eq(t, want);
    quit(c);
}
END_TEST

START_TEST(dot_stuffing_on_the_wire)
{
    cl *c = login();
    cl_send(c, "RETR 2\r\n");
    expect_ok(c, NULL);
    /* Read the raw lines: each data line starting with "." gets one more. */
    const char *want[] = {"..this line starts with a dot", "...and this one with two", "..",
                          NULL};
    int seen = 0;
    for (;;) {
        const char *l = cl_line(c);
        if (!strcmp(l, "."))
            break;
        for (int i = 0; want[i]; i++)
            if (!strcmp(l, want[i]))
                seen |= 1 << i;
        ck_assert_msg(l[0] != '.' || l[1] == '.', "unstuffed line \"%s\"", l);
    }
    ck_assert_int_eq(seen, 7);
    quit(c);
}
END_TEST

START_TEST(top_command)
{
    cl *c = login();
    size_t n;
    char *m1 = expected("0001.eml", &n);
    const char *blank = strstr(m1, "\r\n\r\n");
    size_t head = (size_t)(blank - m1) + 4;
    size_t bn;
    char *b;

    /* TOP n 0: the headers and the blank line. */
    cl_send(c, "TOP 1 0\r\n");
    expect_ok(c, NULL);
    b = cl_body(c, &bn);
    ck_assert_uint_eq(bn, head);
    ck_assert_mem_eq(b, m1, head);
    free(b);
    /* TOP n 2: two body lines. */
    cl_send(c, "TOP 1 2\r\n");
    expect_ok(c, NULL);
    b = cl_body(c, &bn);
    const char *two = strstr(m1 + head, "\r\n");
    two = strstr(two + 2, "\r\n") + 2;
    ck_assert_uint_eq(bn, (size_t)(two - m1));
    ck_assert_mem_eq(b, m1, bn);
    free(b);
    /* More lines than the body has: the entire message. */
    cl_send(c, "TOP 1 1000\r\n");
    expect_ok(c, NULL);
    b = cl_body(c, &bn);
    ck_assert_uint_eq(bn, n);
    ck_assert_mem_eq(b, m1, n);
    free(b);
    free(m1);
    /* Empty body: headers and blank line whatever m is. */
    char *m3 = expected("0003.eml", &n);
    cl_send(c, "TOP 3 5\r\n");
    expect_ok(c, NULL);
    b = cl_body(c, &bn);
    ck_assert_uint_eq(bn, n);
    ck_assert_mem_eq(b, m3, n);
    free(b);
    free(m3);
    /* Stuffed lines inside TOP too (message 2 body starts with "."). */
    char *m2 = expected("0002.eml", &n);
    cl_send(c, "TOP 2 3\r\n");
    expect_ok(c, NULL);
    b = cl_body(c, &bn);
    const char *h2 = strstr(m2, "\r\n\r\n") + 4;
    const char *e3 = h2;
    for (int i = 0; i < 3; i++)
        e3 = strstr(e3, "\r\n") + 2;
    ck_assert_uint_eq(bn, (size_t)(e3 - m2));
    ck_assert_mem_eq(b, m2, bn);
    free(b);
    free(m2);
    expect_err(c, "TOP 9 1\r\n");
    expect_err(c, "TOP 1\r\n");
    expect_ok(c, "DELE 1\r\n");
    expect_err(c, "TOP 1 0\r\n");
    quit(c);
}
END_TEST

START_TEST(dele_rset_and_numbering)
{
    cl *c = login();
    ck_assert_uint_eq(stat_count(c), 5);
    expect_ok(c, "DELE 2\r\n");
    /* RFC 1939 section 5: a deleted message may not be referenced. */
    ck_assert_ptr_nonnull(strstr(expect_err(c, "DELE 2\r\n"), "already deleted"));
    expect_err(c, "RETR 2\r\n");
    expect_err(c, "LIST 2\r\n");
    expect_err(c, "UIDL 2\r\n");
    ck_assert_uint_eq(stat_count(c), 4);
    /* Not listed, and not renumbered. */
    expect_ok(c, "LIST\r\n");
    char *l = cl_lines(c);
    ck_assert_ptr_null(strstr(l, "2 "));
    ck_assert_ptr_nonnull(strstr(l, "3 "));
    ck_assert_ptr_nonnull(strstr(l, "5 "));
    free(l);
    expect_ok(c, "UIDL\r\n");
    l = cl_lines(c);
    ck_assert_str_eq(l, "1 0001.eml\n3 0003.eml\n4 0004.eml\n5 0005.eml\n");
    free(l);
    expect_ok(c, "RETR 3\r\n");
    size_t bn;
    free(cl_body(c, &bn));
    /* RSET unmarks. */
    expect_ok(c, "RSET\r\n");
    ck_assert_uint_eq(stat_count(c), 5);
    expect_ok(c, "LIST 2\r\n");
    expect_ok(c, "NOOP\r\n");
    quit(c);
    for (int i = 1; i <= 5; i++) {
        char name[20];
        snprintf(name, sizeof name, "000%d.eml", i);
        ck_assert(file_exists(F.mail, name));
    }
}
END_TEST

START_TEST(dele_quit_removes)
{
    cl *c = login();
    expect_ok(c, "DELE 1\r\n");
    expect_ok(c, "DELE 5\r\n");
    cl_send(c, "QUIT\r\n");
    ck_assert_str_eq(cl_line(c), "+OK pop3spec-ref signing off (3 messages left)");
    ck_assert_int_eq(cl_fill(c), 0);
    cl_close(c);
    ck_assert(!file_exists(F.mail, "0001.eml"));
    ck_assert(!file_exists(F.mail, "0005.eml"));
    ck_assert(file_exists(F.mail, "0002.eml"));
    /* The next session sees three messages, numbered from 1 again. */
    c = login_when_free();
    ck_assert_uint_eq(stat_count(c), 3);
    expect_ok(c, "UIDL\r\n");
    char *l = cl_lines(c);
    ck_assert_str_eq(l, "1 0002.eml\n2 0003.eml\n3 0004.eml\n");
    free(l);
    quit(c);
}
END_TEST

START_TEST(abnormal_close_keeps_messages)
{
    cl *c = login();
    expect_ok(c, "DELE 1\r\n");
    expect_ok(c, "DELE 2\r\n");
    /* RFC 1939 section 6: no QUIT, no UPDATE. */
    cl_close(c);
    c = login_when_free();
    ck_assert_uint_eq(stat_count(c), 5);
    quit(c);
    ck_assert(file_exists(F.mail, "0001.eml"));
    ck_assert(file_exists(F.mail, "0002.eml"));
    /* QUIT in AUTHORIZATION does not enter UPDATE either (nothing to do,
     * but the session must end with +OK and a close). */
    c = cl_connect(F.port);
    expect_ok(c, NULL);
    quit(c);
}
END_TEST

START_TEST(in_use_second_session)
{
    cl *a = login();
    cl *b = cl_connect(F.port);
    expect_ok(b, NULL);
    expect_ok(b, "USER mrose\r\n");
    /* RFC 2449 section 8.1.2 */
    const char *e = expect_err(b, "PASS tanstaaf\r\n");
    ck_assert_msg(!strncmp(e, "-ERR [IN-USE] ", 14), "got %s", e);
    /* Same with AUTH PLAIN. */
    char enc[100], cmd[200];
    static const char good[] = "\0mrose\0tanstaaf";
    b64(good, sizeof good - 1, enc);
    snprintf(cmd, sizeof cmd, "AUTH PLAIN %s\r\n", enc);
    e = expect_err(b, cmd);
    ck_assert_msg(!strncmp(e, "-ERR [IN-USE] ", 14), "got %s", e);
    quit(a);
    /* Once the first session is gone, the lock is free. */
    expect_ok(b, "USER mrose\r\n");
    expect_ok(b, "PASS tanstaaf\r\n");
    quit(b);
}
END_TEST

START_TEST(uidl_stable_across_sessions)
{
    char *first = NULL;
    for (int round = 0; round < 2; round++) {
        cl *c = login_when_free();
        expect_ok(c, "UIDL\r\n");
        char *l = cl_lines(c);
        /* Every entry is "n uid", uid 1-70 octets of 0x21-0x7E. */
        const char *cur = l;
        p3_slice line;
        unsigned k = 0;
        while (next_line(&cur, &line)) {
            uint32_t msg;
            p3_slice uid;
            p3_diag d;
            ck_assert_int_eq(p3_uidl_entry(line, 0, &msg, &uid, &d), 0);
            ck_assert_uint_eq(msg, ++k);
        }
        ck_assert_uint_eq(k, 5);
        if (!first) {
            first = l;
        } else {
            ck_assert_str_eq(l, first);
            free(l);
        }
        cl_send(c, "UIDL 4\r\n");
        ck_assert_str_eq(cl_line(c), "+OK 4 0004.eml");
        if (round == 0)
            cl_close(c); /* abnormal end: still the same unique-ids */
        else
            quit(c);
    }
    free(first);
}
END_TEST

START_TEST(timeout_closes_without_update)
{
    ref_server_stop(F.srv);
    fx_start(0, 1);
    cl *c = login();
    expect_ok(c, "DELE 1\r\n");
    /* RFC 1939 section 3: on autologout the server closes "without removing
     * any messages or sending any response". */
    struct timeval tv = {5, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[16];
    ck_assert_int_eq(recv(c->fd, b, sizeof b, 0), 0);
    cl_close(c);
    c = login_when_free();
    ck_assert_uint_eq(stat_count(c), 5);
    quit(c);
}
END_TEST

START_TEST(port_file_and_once)
{
    ref_server_stop(F.srv);
    F.srv = NULL;
    ref_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char pf[400];
    snprintf(pf, sizeof pf, "%s/ports", F.root);
    cfg.listen = "127.0.0.1:0";
    cfg.mailbox = F.mail;
    cfg.users = F.users;
    cfg.port_file = pf;
    cfg.once = 1;
    char err[256];
    ref_server *srv;
    ck_assert_int_eq(ref_server_start(&cfg, &srv, err, sizeof err), 0);
    size_t n;
    char *txt = read_path(pf, &n);
    char want[40];
    snprintf(want, sizeof want, "pop3 %u\n", ref_server_port(srv, 0));
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(txt, want, n);
    free(txt);
    F.port = ref_server_port(srv, 0);
    cl *c = login();
    quit(c);
    /* --once: the server stops by itself after that connection. */
    ref_server_wait(srv);
    ref_server_stop(srv);
}
END_TEST

START_TEST(start_errors)
{
    ref_server_stop(F.srv);
    F.srv = NULL;
    ref_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.mailbox = F.mail;
    char err[256] = "";
    ref_server *srv;
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nope", F.root);
    cfg.users = missing;
    ck_assert_int_eq(ref_server_start(&cfg, &srv, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "nope"));
    write_file(F.root, "badusers", "no colon here\n", 14);
    snprintf(missing, sizeof missing, "%s/badusers", F.root);
    ck_assert_int_eq(ref_server_start(&cfg, &srv, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    cfg.users = F.users;
    cfg.listen = "127.0.0.1:notaport";
    ck_assert_int_eq(ref_server_start(&cfg, &srv, err, sizeof err), -1);
    cfg.listen = "127.0.0.1:0";
    cfg.listen_tls = "127.0.0.1:0";
    ck_assert_int_eq(ref_server_start(&cfg, &srv, err, sizeof err), -1);
}
END_TEST

START_TEST(cli_seed_only)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/demo", F.root);
    char *argv[] = {"serve", "--seed-demo", dir, "--seed-only", "--quiet", NULL};
    ck_assert_int_eq(ref_main(5, argv), 0);
    char mail[450];
    snprintf(mail, sizeof mail, "%s/mail", dir);
    ck_assert(file_exists(mail, "0003.eml"));
    ck_assert(file_exists(dir, "users"));
    char *bad[] = {"serve", "--timeout", "abc", NULL};
    ck_assert_int_eq(ref_main(3, bad), 2);
    char *bad2[] = {"serve", "--mailbox", dir, NULL};
    ck_assert_int_eq(ref_main(3, bad2), 2);
}
END_TEST

/* ---------------------------------------------------------------------------
 * TLS.
 */

START_TEST(stls_upgrade)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    expect_ok(c, "CAPA\r\n");
    char *l = cl_lines(c);
    ck_assert_ptr_nonnull(strstr(l, "STLS\n"));
    free(l);
    cl_send(c, "STLS\r\n");
    ck_assert_str_eq(cl_line(c), "+OK Begin TLS negotiation");
    ck_assert_uint_eq(c->len, 0);
    cl_tls(c);
    /* RFC 2595 section 4: the server may advertise different capabilities;
     * STLS is no longer permitted, so not listed. */
    expect_ok(c, "CAPA\r\n");
    l = cl_lines(c);
    ck_assert_ptr_null(strstr(l, "STLS"));
    ck_assert_ptr_nonnull(strstr(l, "SASL PLAIN\n"));
    free(l);
    expect_err(c, "STLS\r\n");
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "PASS tanstaaf\r\n");
    expect_err(c, "STLS\r\n");
    size_t n, bn;
    char *exp = expected("0005.eml", &n);
    expect_ok(c, "RETR 5\r\n");
    char *b = cl_body(c, &bn);
    ck_assert_uint_eq(bn, n);
    ck_assert_mem_eq(b, exp, n);
    free(b);
    free(exp);
    quit(c);
}
END_TEST

START_TEST(stls_discards_pipelined_plaintext)
{
    cl *c = cl_connect(F.port);
    expect_ok(c, NULL);
    /* A man in the middle appends a command after STLS (CVE-2011-0411):
     * it must not be executed inside the TLS session. */
    cl_send(c, "STLS\r\nUSER mrose\r\n");
    ck_assert_str_eq(cl_line(c), "+OK Begin TLS negotiation");
    cl_tls(c);
    /* Had "USER mrose" survived, this PASS would log in. */
    expect_err(c, "PASS tanstaaf\r\n");
    expect_ok(c, "CAPA\r\n");
    free(cl_lines(c));
    cl_close(c);
}
END_TEST

START_TEST(stls_not_after_login)
{
    cl *c = login();
    expect_err(c, "STLS\r\n");
    expect_ok(c, "NOOP\r\n");
    quit(c);
}
END_TEST

START_TEST(implicit_tls)
{
    cl *c = cl_connect(F.tls_port);
    cl_tls(c);
    expect_ok(c, NULL);
    expect_ok(c, "CAPA\r\n");
    char *l = cl_lines(c);
    ck_assert_ptr_null(strstr(l, "STLS"));
    free(l);
    expect_err(c, "STLS\r\n");
    expect_ok(c, "USER mrose\r\n");
    expect_ok(c, "PASS tanstaaf\r\n");
    ck_assert_uint_eq(stat_count(c), 5);
    quit(c);
}
END_TEST

START_TEST(max_sessions_and_user_dirs)
{
    ref_server_stop(F.srv);
    F.srv = NULL;
    /* "other" has a maildrop of its own: a sub-directory named like the
     * user; mrose keeps the shared one. */
    char sub[400];
    snprintf(sub, sizeof sub, "%s/other", F.mail);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    write_file(sub, "only", "Subject: x\n\nbody\n", 17);
    ref_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.mailbox = F.mail;
    cfg.users = F.users;
    cfg.max_sessions = 1;
    char err[256];
    ck_assert_int_eq(ref_server_start(&cfg, &F.srv, err, sizeof err), 0);
    F.port = ref_server_port(F.srv, 0);
    cl *a = cl_connect(F.port);
    expect_ok(a, NULL); /* the greeting */
    cl *b = cl_connect(F.port);
    /* Over the limit: RFC 3206 SYS/TEMP in place of a greeting, then close. */
    ck_assert_str_eq(cl_line(b), "-ERR [SYS/TEMP] too many sessions, try again later");
    ck_assert_int_eq(cl_fill(b), 0);
    cl_close(b);
    expect_ok(a, "USER other\r\n");
    expect_ok(a, "PASS secret:with:colons\r\n");
    ck_assert_uint_eq(stat_count(a), 1);
    expect_ok(a, "UIDL\r\n");
    char *l = cl_lines(a);
    ck_assert_str_eq(l, "1 only\n");
    free(l);
    quit(a);
    /* The shared maildrop does not list the sub-directory as a message. */
    for (int i = 0; i < 100; i++) {
        cl *c = cl_connect(F.port);
        char t[600];
        if (cl_status(c, t, sizeof t) == P3_ST_OK) {
            expect_ok(c, "USER mrose\r\n");
            expect_ok(c, "PASS tanstaaf\r\n");
            ck_assert_uint_eq(stat_count(c), 5);
            quit(c);
            return;
        }
        cl_close(c);
        usleep(50000);
    }
    ck_abort_msg("session slot never freed");
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("ref");
    TCase *u = tcase_create("mailbox");
    tcase_add_test(u, normalise_line_ends);
    tcase_add_test(u, mailbox_maildir_uids);
    tcase_add_test(u, seed_is_deterministic);
    tcase_add_test(u, md5_matches_rfc1939_example);
    suite_add_tcase(s, u);

    TCase *t = tcase_create("dialogues");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, greeting_has_unique_timestamp);
    tcase_add_test(t, rfc1939_example_session);
    tcase_add_test(t, apop_wrong_digest_and_upper_case);
    tcase_add_test(t, user_pass_rules);
    tcase_add_test(t, pass_long_and_with_colons);
    tcase_add_test(t, auth_plain);
    tcase_add_test(t, capa_both_states);
    tcase_add_test(t, syntax_errors);
    tcase_add_test(t, overlong_line_resynchronises);
    tcase_add_test(t, pipelining);
    tcase_add_test(t, retr_every_demo_message);
    tcase_add_test(t, dot_stuffing_on_the_wire);
    tcase_add_test(t, top_command);
    tcase_add_test(t, dele_rset_and_numbering);
    tcase_add_test(t, dele_quit_removes);
    tcase_add_test(t, abnormal_close_keeps_messages);
    tcase_add_test(t, in_use_second_session);
    tcase_add_test(t, uidl_stable_across_sessions);
    tcase_add_test(t, timeout_closes_without_update);
    tcase_add_test(t, port_file_and_once);
    tcase_add_test(t, start_errors);
    tcase_add_test(t, cli_seed_only);
    tcase_add_test(t, max_sessions_and_user_dirs);
    suite_add_tcase(s, t);

    TCase *x = tcase_create("tls");
    tcase_add_checked_fixture(x, setup_tls, teardown);
    tcase_set_timeout(x, 60);
    tcase_add_test(x, stls_upgrade);
    tcase_add_test(x, stls_discards_pipelined_plaintext);
    tcase_add_test(x, stls_not_after_login);
    tcase_add_test(x, implicit_tls);
    suite_add_tcase(s, x);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
