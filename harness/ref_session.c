#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "pop3parse.h"
#include "ref_int.h"

/* The input buffer holds the longest line the server ever accepts, a SASL
 * response (P3_MAX_SASL_LINE, RFC 5034 section 4), plus room for the next
 * pipelined commands. */
#define IN_CAP (P3_MAX_SASL_LINE + 4096)
#define OUT_CAP 16384

typedef enum sstate { ST_AUTHORIZATION = 0, ST_TRANSACTION = 1, ST__COUNT } sstate;

typedef struct sess {
    ref_server *srv;
    uint64_t id;
    int fd;
    SSL *ssl;
    sstate state;
    int dead;       /* the connection is gone (or must go): stop */
    int quit;       /* QUIT answered: close */
    int discarding; /* drop input through the next LF (over-long line) */
    int user_ok;    /* the last command was a successful USER */
    int pass_ok;    /* user_ok as it was before the current command */
    char user[REF_MAX_NAME + 1];
    char stamp[160]; /* APOP timestamp of the greeting */
    ref_mailbox mb;
    size_t in_len;
    size_t out_len;
    char in[IN_CAP];
    char line[IN_CAP]; /* the command being executed (its slices point here) */
    char out[OUT_CAP];
} sess;

/* ---------------------------------------------------------------------------
 * I/O.
 */

static void flush_out(sess *s)
{
    size_t off = 0;
    while (off < s->out_len && !s->dead) {
        size_t n = s->out_len - off;
        if (s->ssl) {
            int w = SSL_write(s->ssl, s->out + off, n > INT_MAX ? INT_MAX : (int)n);
            if (w <= 0) {
                s->dead = 1;
                break;
            }
            off += (size_t)w;
        } else {
            ssize_t w = send(s->fd, s->out + off, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                s->dead = 1;
                break;
            }
            off += (size_t)w;
        }
    }
    s->out_len = 0;
}

static void put(sess *s, const char *p, size_t n)
{
    while (n && !s->dead) {
        if (s->out_len == OUT_CAP)
            flush_out(s);
        size_t k = OUT_CAP - s->out_len;
        if (k > n)
            k = n;
        memcpy(s->out + s->out_len, p, k);
        s->out_len += k;
        p += k;
        n -= k;
    }
}

static void puts_crlf(sess *s, const char *z)
{
    put(s, z, strlen(z));
    put(s, "\r\n", 2);
}

/* One status line through the shared encoder, so that the reference server
 * cannot send a line the parser would reject. */
static void reply(sess *s, p3_status_kind kind, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reply(sess *s, p3_status_kind kind, const char *code, const char *fmt, ...)
{
    char text[P3_MAX_RESP_LINE];
    int n = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        n = vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (n < 0)
            n = 0;
        /* Leave room for the status, the code and CRLF (RFC 2449 section 4:
         * 512 octets in all). */
        if ((size_t)n > 400)
            n = 400;
    }
    if (OUT_CAP - s->out_len < P3_MAX_RESP_LINE)
        flush_out(s);
    p3_slice c = {code ? code : "", code ? strlen(code) : 0};
    p3_slice t = {text, (size_t)n};
    p3_diag d;
    ssize_t w = p3_status_format(s->out + s->out_len, OUT_CAP - s->out_len, kind, c, t, &d);
    if (w < 0) {
        ref_srv_log(s->srv, s->id, "BUG: cannot format a reply: %s", p3_errno_msg(d.code));
        put(s, kind == P3_ST_OK ? "+OK\r\n" : "-ERR\r\n", kind == P3_ST_OK ? 5 : 6);
        return;
    }
    s->out_len += (size_t)w;
}

/* Read more input. 0, or -1 when the connection is gone (the caller ends
 * the session without the UPDATE state, RFC 1939 section 6). */
static int fill(sess *s)
{
    flush_out(s);
    if (s->dead)
        return -1;
    if (s->in_len == IN_CAP) {
        s->dead = 1;
        return -1;
    }
    for (;;) {
        ssize_t r;
        int e = 0;
        if (s->ssl) {
            ERR_clear_error();
            size_t cap = IN_CAP - s->in_len;
            int k = SSL_read(s->ssl, s->in + s->in_len, cap > INT_MAX ? INT_MAX : (int)cap);
            r = k;
            e = errno;
        } else {
            r = recv(s->fd, s->in + s->in_len, IN_CAP - s->in_len, 0);
            e = errno;
            if (r < 0 && e == EINTR)
                continue;
        }
        if (r > 0) {
            s->in_len += (size_t)r;
            return 0;
        }
        if (r < 0 && (e == EAGAIN || e == EWOULDBLOCK))
            /* RFC 1939 section 3: when the autologout timer expires "the
             * server should close the TCP connection without removing any
             * messages or sending any response to the client." */
            ref_srv_log(s->srv, s->id, "inactivity timeout: closing without UPDATE");
        else
            ref_srv_log(s->srv, s->id, "connection closed by the client%s",
                        s->state == ST_TRANSACTION ? " without QUIT: no UPDATE" : "");
        s->dead = 1;
        return -1;
    }
}

static void consume(sess *s, size_t n)
{
    memmove(s->in, s->in + n, s->in_len - n);
    s->in_len -= n;
}

static int tls_accept(sess *s)
{
    SSL *ssl = SSL_new(s->srv->tls);
    if (!ssl || SSL_set_fd(ssl, s->fd) != 1) {
        SSL_free(ssl);
        return -1;
    }
    ERR_clear_error();
    if (SSL_accept(ssl) != 1) {
        unsigned long e = ERR_peek_error();
        ref_srv_log(s->srv, s->id, "TLS handshake failed: %s",
                    e ? ERR_reason_error_string(e) : "connection closed");
        SSL_free(ssl);
        return -1;
    }
    s->ssl = ssl;
    ref_srv_log(s->srv, s->id, "TLS %s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
    return 0;
}

/* ---------------------------------------------------------------------------
 * Authentication.
 */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Lock and open the maildrop of s->user and enter the TRANSACTION state. */
static void login(sess *s)
{
    const ref_config *cfg = &s->srv->cfg;
    char path[4096];
    const char *dir = cfg->mailbox;
    /* Per-user sub-directories, except the names a maildir uses itself. */
    if (strcmp(s->user, "cur") && strcmp(s->user, "new") && strcmp(s->user, "tmp") &&
        strcmp(s->user, ".") && strcmp(s->user, "..") && !strchr(s->user, '/')) {
        int n = snprintf(path, sizeof path, "%s/%s", cfg->mailbox, s->user);
        if (n > 0 && (size_t)n < sizeof path && is_dir(path))
            dir = path;
    }
    int lk = ref_mailbox_lock(&s->mb, dir);
    if (lk == 1) {
        /* RFC 2449 section 8.1.2: IN-USE "indicates the authentication was
         * successful, but the user's maildrop is currently in use";
         * RFC 1939 section 4 example: "-ERR maildrop already locked". */
        ref_srv_log(s->srv, s->id, "%s: maildrop in use", s->user);
        reply(s, P3_ST_ERR, "IN-USE", "maildrop already locked");
        return;
    }
    if (lk != 0 || ref_mailbox_load(&s->mb, dir) != 0) {
        ref_srv_log(s->srv, s->id, "%s: cannot open maildrop %s: %s", s->user, dir,
                    strerror(errno));
        ref_mailbox_free(&s->mb);
        /* RFC 3206: SYS/TEMP, a system error, not the user's credentials. */
        reply(s, P3_ST_ERR, "SYS/TEMP", "unable to lock maildrop");
        return;
    }
    size_t count;
    uint64_t octets;
    ref_mailbox_stat(&s->mb, &count, &octets);
    s->state = ST_TRANSACTION;
    ref_srv_count(s->srv, &s->srv->stats.logins);
    ref_srv_log(s->srv, s->id, "%s logged in, %zu messages", s->user, count);
    reply(s, P3_ST_OK, NULL, "%s's maildrop has %zu message%s (%llu octets)", s->user, count,
          count == 1 ? "" : "s", (unsigned long long)octets);
}

static void auth_failed(sess *s, const char *how)
{
    ref_srv_log(s->srv, s->id, "%s authentication failed", how);
    /* RFC 3206: AUTH "there is a problem with the user's credentials";
     * announced by the AUTH-RESP-CODE capability. */
    reply(s, P3_ST_ERR, "AUTH", "invalid user name or password");
}

static int set_user(sess *s, const char *p, size_t n)
{
    if (n == 0 || n > REF_MAX_NAME)
        return -1;
    memcpy(s->user, p, n);
    s->user[n] = '\0';
    return 0;
}

static int password_ok(sess *s, const char *pass, size_t n)
{
    const char *want = ref_srv_password(s->srv, s->user, strlen(s->user));
    if (!want)
        return 0;
    size_t wn = strlen(want);
    return wn == n && CRYPTO_memcmp(want, pass, n) == 0;
}

static void h_user(sess *s, const p3_cmd *c)
{
    if (set_user(s, c->args[0].p, c->args[0].n) != 0) {
        reply(s, P3_ST_ERR, NULL, "user name too long");
        return;
    }
    /* RFC 1939 section 7: "The server may return a positive response even
     * though no such mailbox exists": PASS decides, so names are not
     * revealed one by one. */
    s->user_ok = 1;
    reply(s, P3_ST_OK, NULL, "send PASS");
}

static void h_pass(sess *s, const p3_cmd *c)
{
    /* RFC 1939 section 7: PASS "may only be given in the AUTHORIZATION state
     * immediately after a successful USER command". */
    if (!s->pass_ok) {
        reply(s, P3_ST_ERR, NULL, "PASS must follow a successful USER");
        return;
    }
    /* The argument is the rest of the line (type R): RFC 1939 section 7,
     * "a POP3 server may treat spaces in the argument as part of the
     * password". */
    if (!password_ok(s, c->args[0].p, c->args[0].n)) {
        auth_failed(s, "USER/PASS");
        return;
    }
    login(s);
}

static void h_apop(sess *s, const p3_cmd *c)
{
    if (set_user(s, c->args[0].p, c->args[0].n) != 0) {
        auth_failed(s, "APOP");
        return;
    }
    const char *secret = ref_srv_password(s->srv, s->user, strlen(s->user));
    /* RFC 1939 section 7: the digest is MD5 of the timestamp (with its
     * angle brackets) followed by the shared secret, "sent in hexadecimal
     * format, using lower-case ASCII characters". Upper case is refused:
     * this server is the strict reference. */
    char hex[33] = "";
    if (secret) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char dg[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        if (md && EVP_DigestInit_ex(md, EVP_md5(), NULL) == 1 &&
            EVP_DigestUpdate(md, s->stamp, strlen(s->stamp)) == 1 &&
            EVP_DigestUpdate(md, secret, strlen(secret)) == 1 &&
            EVP_DigestFinal_ex(md, dg, &dl) == 1 && dl == 16) {
            static const char digits[] = "0123456789abcdef";
            for (unsigned i = 0; i < 16; i++) {
                hex[2 * i] = digits[dg[i] >> 4];
                hex[2 * i + 1] = digits[dg[i] & 15];
            }
            hex[32] = '\0';
        }
        EVP_MD_CTX_free(md);
        if (!hex[0]) {
            reply(s, P3_ST_ERR, "SYS/TEMP", "MD5 unavailable");
            return;
        }
    }
    if (!secret || c->args[1].n != 32 || CRYPTO_memcmp(hex, c->args[1].p, 32) != 0) {
        auth_failed(s, "APOP");
        return;
    }
    login(s);
}

/* Base64 as RFC 5034 section 4 wants it: p3_base64_valid rejects anything
 * outside the alphabet and any "=" not at the end; EVP_DecodeBlock then
 * yields 3 octets per 4 characters, padding included, so the pads are
 * subtracted. */
static int b64_decode(const char *p, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    if (n == 0) {
        *outlen = 0;
        return 0;
    }
    if (!p3_base64_valid(p, n) || n % 4 != 0 || n / 4 * 3 > cap || n > INT_MAX)
        return -1;
    int r = EVP_DecodeBlock(out, (const unsigned char *)p, (int)n);
    if (r < 0 || (size_t)r != n / 4 * 3)
        return -1;
    size_t pads = (p[n - 1] == '=') + (p[n - 2] == '=');
    *outlen = (size_t)r - pads;
    return 0;
}

/* RFC 4616 section 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd. */
static void plain_finish(sess *s, const unsigned char *m, size_t n)
{
    const unsigned char *nul1 = memchr(m, 0, n);
    const unsigned char *nul2 = nul1 ? memchr(nul1 + 1, 0, n - (size_t)(nul1 + 1 - m)) : NULL;
    if (!nul2 || memchr(nul2 + 1, 0, n - (size_t)(nul2 + 1 - m))) {
        reply(s, P3_ST_ERR, NULL, "malformed PLAIN message (RFC 4616 section 2)");
        return;
    }
    size_t zlen = (size_t)(nul1 - m);
    const unsigned char *cid = nul1 + 1;
    size_t clen = (size_t)(nul2 - cid);
    const unsigned char *pw = nul2 + 1;
    size_t plen = n - (size_t)(pw - m);
    if (clen == 0 || plen == 0) {
        reply(s, P3_ST_ERR, NULL, "malformed PLAIN message (RFC 4616 section 2)");
        return;
    }
    if (set_user(s, (const char *)cid, clen) != 0 || strlen(s->user) != clen) {
        auth_failed(s, "AUTH PLAIN");
        return;
    }
    /* RFC 4616 section 2: the server must verify that the authcid may act
     * as the authzid; this server allows only acting as oneself. */
    if (zlen && (zlen != clen || memcmp(m, cid, clen) != 0)) {
        auth_failed(s, "AUTH PLAIN (authzid)");
        return;
    }
    if (!password_ok(s, (const char *)pw, plen)) {
        auth_failed(s, "AUTH PLAIN");
        return;
    }
    login(s);
}

static void h_auth(sess *s, const p3_cmd *c)
{
    if (!p3_slice_ieq(c->args[0], "PLAIN")) {
        /* RFC 5034 section 4: "If the requested authentication mechanism is
         * not supported, the server rejects the AUTH command with an -ERR
         * reply." */
        reply(s, P3_ST_ERR, NULL, "unsupported SASL mechanism");
        return;
    }
    unsigned char msg[P3_MAX_SASL_LINE];
    size_t mlen = 0;
    if (c->nargs == 2) {
        /* RFC 5034 section 4: "=" is an empty initial response. */
        int empty = c->args[1].n == 1 && c->args[1].p[0] == '=';
        if (!empty && b64_decode(c->args[1].p, c->args[1].n, msg, sizeof msg, &mlen) != 0) {
            reply(s, P3_ST_ERR, NULL, "invalid base64 (RFC 5034 section 4)");
            return;
        }
        plain_finish(s, msg, mlen);
        return;
    }
    /* RFC 5034 section 4: "an empty server challenge is defined as a line
     * with only a "+", followed by a single space". */
    reply(s, P3_ST_CONT, NULL, NULL);
    for (;;) {
        p3_sasl_line sl;
        p3_diag d;
        ssize_t r = p3_sasl_line_parse(s->in, s->in_len, 0, &sl, &d);
        if (r == P3_NEED_MORE) {
            if (fill(s) != 0)
                return;
            continue;
        }
        if (r == P3_ERROR) {
            if (d.skip)
                consume(s, d.skip);
            else
                s->discarding = 1;
            reply(s, P3_ST_ERR, NULL, "%s", p3_errno_msg(d.code));
            return;
        }
        if (sl.cancel) {
            consume(s, (size_t)r);
            /* RFC 5034 section 4: on "*" the server "MUST reject the AUTH
             * command by sending an -ERR reply". */
            reply(s, P3_ST_ERR, NULL, "authentication cancelled");
            return;
        }
        int bad = b64_decode(sl.data.p, sl.data.n, msg, sizeof msg, &mlen);
        consume(s, (size_t)r);
        if (bad) {
            reply(s, P3_ST_ERR, NULL, "invalid base64 (RFC 5034 section 4)");
            return;
        }
        plain_finish(s, msg, mlen);
        return;
    }
}

static void h_stls(sess *s, const p3_cmd *c)
{
    (void)c;
    if (!s->srv->tls) {
        reply(s, P3_ST_ERR, NULL, "STLS not available (no certificate)");
        return;
    }
    if (s->ssl) {
        /* RFC 2595 section 4 example. */
        reply(s, P3_ST_ERR, NULL, "Command not permitted when TLS active");
        return;
    }
    reply(s, P3_ST_OK, NULL, "Begin TLS negotiation");
    flush_out(s);
    if (s->dead)
        return;
    /* RFC 2595 section 4: "Once a client issues a STLS command, it MUST NOT
     * issue further commands until a server response is seen and the TLS
     * negotiation is complete." Plaintext pipelined after STLS would
     * otherwise be executed as if it came over TLS (CVE-2011-0411). */
    if (s->in_len) {
        ref_srv_log(s->srv, s->id, "STLS: discarding %zu octets pipelined in plaintext",
                    s->in_len);
        s->in_len = 0;
    }
    if (tls_accept(s) != 0) {
        s->dead = 1;
        return;
    }
    /* RFC 5034 / RFC 2595: knowledge obtained before the security layer is
     * forgotten; a pending USER is. */
    s->user_ok = 0;
}

/* ---------------------------------------------------------------------------
 * Both states.
 */

static void h_capa(sess *s, const p3_cmd *c)
{
    (void)c;
    /* RFC 2449 section 6: TOP, USER, SASL, RESP-CODES, PIPELINING, EXPIRE,
     * UIDL and IMPLEMENTATION are announced in both states with no
     * difference; STLS only where it is "present and permitted in the
     * current state" (RFC 2595 section 4). */
    static const char *const lines[] = {
        "TOP", "USER", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "SASL PLAIN",
        /* RFC 2449 section 6.7: "EXPIRE NEVER asserts that the server does
         * not delete messages." Only DELE + QUIT removes anything here. */
        "EXPIRE NEVER", "IMPLEMENTATION pop3spec-ref",
    };
    reply(s, P3_ST_OK, NULL, "Capability list follows");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        puts_crlf(s, lines[i]);
    if (s->srv->tls && !s->ssl && s->state == ST_AUTHORIZATION)
        puts_crlf(s, "STLS");
    put(s, ".\r\n", 3);
}

static void h_quit_authorization(sess *s, const p3_cmd *c)
{
    (void)c;
    /* RFC 1939 section 6: QUIT from AUTHORIZATION "terminates but does NOT
     * enter the UPDATE state". */
    reply(s, P3_ST_OK, NULL, "pop3spec-ref signing off");
    s->quit = 1;
}

/* ---------------------------------------------------------------------------
 * TRANSACTION state.
 */

/* The message a number refers to, or NULL after answering -ERR. RFC 1939
 * section 5: a message-number "may NOT refer to a message marked as
 * deleted". Numbers stay as they were at login: nothing is renumbered. */
static ref_msg *msg_arg(sess *s, uint32_t n)
{
    if (n == 0 || n > s->mb.count) {
        reply(s, P3_ST_ERR, NULL, "no such message, only %zu messages in maildrop",
              s->mb.count);
        return NULL;
    }
    ref_msg *m = &s->mb.msgs[n - 1];
    if (m->deleted) {
        reply(s, P3_ST_ERR, NULL, "message %u already deleted", (unsigned)n);
        return NULL;
    }
    return m;
}

static void h_stat(sess *s, const p3_cmd *c)
{
    (void)c;
    size_t count;
    uint64_t octets;
    ref_mailbox_stat(&s->mb, &count, &octets);
    /* RFC 1939 section 5: "+OK" SP count SP octets, nothing else needed. */
    reply(s, P3_ST_OK, NULL, "%zu %llu", count, (unsigned long long)octets);
}

static void h_list(sess *s, const p3_cmd *c)
{
    if (c->nargs == 1) {
        ref_msg *m = msg_arg(s, c->num[0]);
        if (m)
            reply(s, P3_ST_OK, NULL, "%u %zu", (unsigned)c->num[0], m->size);
        return;
    }
    size_t count;
    uint64_t octets;
    ref_mailbox_stat(&s->mb, &count, &octets);
    reply(s, P3_ST_OK, NULL, "%zu messages (%llu octets)", count, (unsigned long long)octets);
    char buf[64];
    for (size_t i = 0; i < s->mb.count; i++) {
        if (s->mb.msgs[i].deleted)
            continue;
        snprintf(buf, sizeof buf, "%zu %zu", i + 1, s->mb.msgs[i].size);
        puts_crlf(s, buf);
    }
    put(s, ".\r\n", 3);
}

static void h_uidl(sess *s, const p3_cmd *c)
{
    char buf[100];
    if (c->nargs == 1) {
        ref_msg *m = msg_arg(s, c->num[0]);
        if (m)
            reply(s, P3_ST_OK, NULL, "%u %s", (unsigned)c->num[0], m->uid);
        return;
    }
    reply(s, P3_ST_OK, NULL, "unique-id listing follows");
    for (size_t i = 0; i < s->mb.count; i++) {
        if (s->mb.msgs[i].deleted)
            continue;
        snprintf(buf, sizeof buf, "%zu %s", i + 1, s->mb.msgs[i].uid);
        puts_crlf(s, buf);
    }
    put(s, ".\r\n", 3);
}

/* Send data[0..n) dot-stuffed, then the terminator (RFC 1939 section 3). */
static void send_stuffed(sess *s, const char *data, size_t n)
{
    p3_stuffer st;
    p3_stuff_init(&st);
    size_t off = 0;
    while (off < n && !s->dead) {
        /* The stuffer may double its input; keep a useful amount of room. */
        if (OUT_CAP - s->out_len < 1024)
            flush_out(s);
        size_t used = 0;
        size_t w = p3_stuff(&st, data + off, n - off, s->out + s->out_len, OUT_CAP - s->out_len,
                            &used);
        s->out_len += w;
        off += used;
        if (used == 0 && w == 0)
            flush_out(s);
    }
    if (OUT_CAP - s->out_len < 8)
        flush_out(s);
    s->out_len += p3_stuff_end(&st, s->out + s->out_len, OUT_CAP - s->out_len);
}

static void h_retr(sess *s, const p3_cmd *c)
{
    ref_msg *m = msg_arg(s, c->num[0]);
    if (!m)
        return;
    /* RFC 1939 section 5: "+OK 120 octets", the size before stuffing. */
    reply(s, P3_ST_OK, NULL, "%zu octets", m->size);
    send_stuffed(s, m->data, m->size);
}

static void h_top(sess *s, const p3_cmd *c)
{
    ref_msg *m = msg_arg(s, c->num[0]);
    if (!m)
        return;
    /* RFC 1939 section 7: "the headers of the message, the blank line
     * separating the headers from the body, and then the number of lines
     * of the indicated message's body"; more lines than the body has
     * gives the entire message. A message without a blank line is all
     * headers. */
    size_t end = m->size;
    size_t body = m->size;
    if (m->size >= 2 && m->data[0] == '\r' && m->data[1] == '\n') {
        body = 2;
    } else {
        const char *blank = memmem(m->data, m->size, "\r\n\r\n", 4);
        if (blank)
            body = (size_t)(blank - m->data) + 4;
    }
    if (body < m->size) {
        uint32_t lines = c->num[1];
        end = body;
        while (lines && end < m->size) {
            const char *lf = memchr(m->data + end, '\n', m->size - end);
            end = lf ? (size_t)(lf - m->data) + 1 : m->size;
            lines--;
        }
    }
    reply(s, P3_ST_OK, NULL, "top of message follows");
    send_stuffed(s, m->data, end);
}

static void h_dele(sess *s, const p3_cmd *c)
{
    ref_msg *m = msg_arg(s, c->num[0]);
    if (!m)
        return;
    m->deleted = 1;
    reply(s, P3_ST_OK, NULL, "message %u deleted", (unsigned)c->num[0]);
}

static void h_noop(sess *s, const p3_cmd *c)
{
    (void)c;
    reply(s, P3_ST_OK, NULL, NULL);
}

static void h_rset(sess *s, const p3_cmd *c)
{
    (void)c;
    for (size_t i = 0; i < s->mb.count; i++)
        s->mb.msgs[i].deleted = 0;
    size_t count;
    uint64_t octets;
    ref_mailbox_stat(&s->mb, &count, &octets);
    reply(s, P3_ST_OK, NULL, "maildrop has %zu message%s (%llu octets)", count,
          count == 1 ? "" : "s", (unsigned long long)octets);
}

static void h_quit_transaction(sess *s, const p3_cmd *c)
{
    (void)c;
    /* RFC 1939 section 6: the UPDATE state removes the messages marked as
     * deleted, then "releases any exclusive-access lock on the maildrop
     * and closes the TCP connection". */
    size_t left;
    uint64_t octets;
    ref_mailbox_stat(&s->mb, &left, &octets);
    size_t failed = ref_mailbox_update(&s->mb);
    ref_mailbox_free(&s->mb);
    s->quit = 1;
    if (failed) {
        reply(s, P3_ST_ERR, "SYS/TEMP", "some deleted messages not removed");
        return;
    }
    if (left)
        reply(s, P3_ST_OK, NULL, "pop3spec-ref signing off (%zu message%s left)", left,
              left == 1 ? "" : "s");
    else
        reply(s, P3_ST_OK, NULL, "pop3spec-ref signing off (maildrop empty)");
}

/* ---------------------------------------------------------------------------
 * Verb tables: which handler a command has in each state. A command absent
 * from a state's table gets -ERR (e.g. RETR before login, USER after).
 */
typedef void (*handler)(sess *s, const p3_cmd *c);

static const handler verbs[ST__COUNT][P3_CMD__COUNT] = {
    [ST_AUTHORIZATION] =
        {
            [P3_CMD_USER] = h_user,
            [P3_CMD_PASS] = h_pass,
            [P3_CMD_APOP] = h_apop,
            [P3_CMD_AUTH] = h_auth,
            [P3_CMD_STLS] = h_stls,
            [P3_CMD_CAPA] = h_capa,
            [P3_CMD_QUIT] = h_quit_authorization,
        },
    [ST_TRANSACTION] =
        {
            [P3_CMD_STAT] = h_stat,
            [P3_CMD_LIST] = h_list,
            [P3_CMD_RETR] = h_retr,
            [P3_CMD_DELE] = h_dele,
            [P3_CMD_NOOP] = h_noop,
            [P3_CMD_RSET] = h_rset,
            [P3_CMD_TOP] = h_top,
            [P3_CMD_UIDL] = h_uidl,
            [P3_CMD_CAPA] = h_capa,
            [P3_CMD_QUIT] = h_quit_transaction,
        },
};

static void dispatch(sess *s, const p3_cmd *c)
{
    s->pass_ok = s->user_ok;
    s->user_ok = 0;
    if (c->kind == P3_CMD_UNKNOWN) {
        reply(s, P3_ST_ERR, NULL, "unknown command");
        return;
    }
    handler h = verbs[s->state][c->kind];
    if (h) {
        h(s, c);
        return;
    }
    if (c->kind == P3_CMD_STLS)
        reply(s, P3_ST_ERR, NULL, "STLS is only permitted in the AUTHORIZATION state");
    else if (c->kind == P3_CMD_UTF8 || c->kind == P3_CMD_LANG)
        reply(s, P3_ST_ERR, NULL, "not supported");
    else if (s->state == ST_AUTHORIZATION)
        reply(s, P3_ST_ERR, NULL, "not in the TRANSACTION state: log in first");
    else
        reply(s, P3_ST_ERR, NULL, "not valid in the TRANSACTION state");
}

/* ---------------------------------------------------------------------------
 * Command loop.
 */

/* Parse the next command line. > 0: its length; 0: an error was answered
 * (and the line dropped); -1: more input is needed. */
static ssize_t next_command(sess *s, p3_cmd *c)
{
    p3_diag d;
    ssize_t r = p3_cmd_parse(s->in, s->in_len, 0, c, &d);
    if (r == P3_NEED_MORE)
        return -1;
    if (r == P3_ERROR && d.code == P3_E_ARG_TOO_LONG) {
        /* Real clients send passwords and SASL initial responses longer
         * than RFC 1939's 40 octets; for PASS and AUTH only, accept them
         * (still within 255 octets) and count it. */
        p3_cmd c2;
        p3_diag d2;
        ssize_t r2 = p3_cmd_parse(s->in, s->in_len, P3_LENIENT_LONG_ARG, &c2, &d2);
        if (r2 > 0 && (c2.kind == P3_CMD_PASS || c2.kind == P3_CMD_AUTH)) {
            ref_srv_count(s->srv, &s->srv->stats.lenient_long_arg);
            ref_srv_log(s->srv, s->id, "%s argument over %d octets accepted (LONG_ARG)",
                        c2.kind == P3_CMD_PASS ? "PASS" : "AUTH", P3_MAX_ARG);
            *c = c2;
            return r2;
        }
    }
    if (r > 0)
        return r;
    ref_srv_count(s->srv, &s->srv->stats.syntax_errors);
    if (d.skip)
        consume(s, d.skip);
    else
        /* diag.skip == 0: the line end is not in view (it may be in the
         * buffer past the parser's window, or not yet received); drop
         * input through the next LF to get back in step with the client. */
        s->discarding = 1;
    s->user_ok = 0;
    reply(s, P3_ST_ERR, NULL, "%s", p3_errno_msg(d.code));
    return 0;
}

void ref_session_run(ref_server *srv, int fd, int tls, uint64_t id)
{
    sess *s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->srv = srv;
    s->id = id;
    s->fd = fd;
    s->mb.lock_fd = -1;
    struct timeval tv = {(time_t)srv->timeout, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ref_srv_log(srv, id, "connected%s", tls ? " (implicit TLS)" : "");
    if (tls && tls_accept(s) != 0)
        goto out;

    ref_srv_timestamp(srv, s->stamp, sizeof s->stamp);
    /* RFC 1939 section 7: a server implementing APOP "includes a timestamp
     * in its banner greeting". */
    reply(s, P3_ST_OK, NULL, "pop3spec-ref ready %s", s->stamp);

    while (!s->dead && !s->quit) {
        if (s->discarding) {
            char *lf = memchr(s->in, '\n', s->in_len);
            if (lf) {
                consume(s, (size_t)(lf - s->in) + 1);
                s->discarding = 0;
            } else {
                s->in_len = 0;
                if (fill(s) != 0)
                    break;
            }
            continue;
        }
        p3_cmd c;
        ssize_t r = next_command(s, &c);
        if (r < 0) {
            if (fill(s) != 0)
                break;
            continue;
        }
        if (r == 0)
            continue;
        /* Execute from a copy: handlers that read more input (AUTH) or
         * drop it (STLS) change s->in under the command's slices. */
        memcpy(s->line, s->in, (size_t)r);
        consume(s, (size_t)r);
        p3_diag d;
        unsigned flags = (c.lenient & P3_LENIENT_LONG_ARG) ? P3_LENIENT_LONG_ARG : 0;
        if (p3_cmd_parse(s->line, (size_t)r, flags, &c, &d) != r) {
            ref_srv_log(srv, id, "BUG: command parsed differently twice");
            s->dead = 1;
            break;
        }
        dispatch(s, &c);
    }
    flush_out(s);
out:
    /* Without QUIT in the TRANSACTION state nothing is removed (RFC 1939
     * section 6): freeing the mailbox only drops the marks and the lock. */
    ref_mailbox_free(&s->mb);
    if (s->ssl) {
        if (!s->dead)
            SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
    }
    ref_srv_log(srv, id, "closed");
    free(s);
}
