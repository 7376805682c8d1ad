/* Targets: TLS context and credentials, the discovery session that learns
 * the server's capabilities, and the "requires:" check. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt.h"
#include "pop3parse.h"
#include "run_int.h"

int run_target_init(run_target *t, const run_profile *p, const char *user, const char *pass,
                    char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->prof = p;
    t->host = p->host;
    t->port = p->port;
    t->user = user;
    t->pass = pass;
    t->messages = p->messages;
    t->timeout_ms = p->timeout_ms;
    nt_tls_client_opts o = {0};
    o.ca_file = p->ca_file;
    o.insecure = p->insecure;
    t->tls = nt_tls_client_ctx(&o, err, errlen);
    return t->tls ? 0 : -1;
}

void run_target_free(run_target *t)
{
    for (size_t i = 0; i < t->ncapa; i++)
        free(t->capa[i]);
    free(t->capa);
    nt_tls_ctx_free(t->tls);
    memset(t, 0, sizeof *t);
}

void run_target_copy_discovery(run_target *dst, const run_target *src)
{
    dst->capa = calloc(src->ncapa + 1, sizeof *dst->capa);
    if (!dst->capa)
        return;
    for (size_t i = 0; i < src->ncapa; i++)
        if ((dst->capa[dst->ncapa] = strdup(src->capa[i])))
            dst->ncapa++;
    dst->messages = src->messages;
}

typedef struct dconn {
    nt_conn *c;
    nt_buffer in;
    int64_t dl;
} dconn;

/* Next line without its CRLF, NUL-terminated into out. 0 or -1. */
static int dline(dconn *d, char *out, size_t cap)
{
    for (;;) {
        const char *p = nt_buffer_data(&d->in);
        size_t n = nt_buffer_len(&d->in);
        const char *lf = n ? memchr(p, '\n', n) : NULL;
        if (lf) {
            size_t len = (size_t)(lf - p);
            size_t k = len && p[len - 1] == '\r' ? len - 1 : len;
            if (k >= cap)
                k = cap - 1;
            memcpy(out, p, k);
            out[k] = 0;
            nt_buffer_consume(&d->in, len + 1);
            return 0;
        }
        if (nt_buffer_fill(&d->in, d->c, d->dl) <= 0)
            return -1;
    }
}

static int dcmd(dconn *d, const char *cmd, char *resp, size_t cap)
{
    if (nt_write_all(d->c, cmd, strlen(cmd), d->dl))
        return -1;
    if (dline(d, resp, cap))
        return -1;
    return strncmp(resp, "+OK", 3) == 0 ? 0 : 1;
}

static int known(const run_target *t, const char *c)
{
    for (size_t i = 0; i < t->ncapa; i++)
        if (!strcmp(t->capa[i], c))
            return 1;
    return 0;
}

/* CAPA, upper-cased lines added to t->capa (no duplicates). A server
 * without CAPA (-ERR) is fine: requires: then SKIPs. 0 or -1. */
static int read_capa(run_target *t, dconn *d, char *line, size_t cap, char *err, size_t errlen)
{
    if (dcmd(d, "CAPA\r\n", line, cap) != 0)
        return 0;
    for (;;) {
        if (dline(d, line, cap)) {
            snprintf(err, errlen, "CAPA response not terminated");
            return -1;
        }
        if (!strcmp(line, "."))
            return 0;
        for (char *q = line; *q; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char)(*q - 32);
        const char *c = line[0] == '.' ? line + 1 : line;
        if (known(t, c) || t->ncapa >= 256)
            continue;
        char **n = realloc(t->capa, (t->ncapa + 1) * sizeof *n);
        if (!n)
            continue;
        t->capa = n;
        if ((t->capa[t->ncapa] = strdup(c)))
            t->ncapa++;
    }
}

int run_discover(run_target *t, rp_run *r, char *err, size_t errlen)
{
    (void)r;
    dconn d = {0};
    d.dl = nt_deadline(t->timeout_ms ? t->timeout_ms * 3 : 30000);
    d.c = nt_connect(t->host, t->port, d.dl, err, errlen);
    if (!d.c)
        return RUN_UNREACHABLE;
    int rc = -1;
    char line[1024];
    if (nt_buffer_init(&d.in, 4096, 65536))
        goto out;
    if (t->prof->tls == RUN_TLS_IMPLICIT &&
        nt_tls_connect(d.c, t->tls, t->prof->tls_name ? t->prof->tls_name : t->host, &d.in, d.dl)) {
        snprintf(err, errlen, "TLS: %s", nt_errmsg(d.c));
        goto out_buf;
    }
    if (dline(&d, line, sizeof line - 2) || strncmp(line, "+OK", 3)) {
        snprintf(err, errlen, "no +OK greeting from %s:%u", t->host, t->port);
        goto out_buf;
    }
    {
        /* "requires: APOP" means the greeting carries a timestamp
         * (FORMAT.md), which only the parser can tell. */
        size_t gl = strlen(line);
        line[gl] = '\r';
        line[gl + 1] = '\n';
        p3_status st;
        p3_diag dg;
        p3_slice ts;
        if (p3_status_parse(line, gl + 2, P3_LENIENT_LONG_LINE, &st, &dg) > 0 &&
            p3_greeting_timestamp(&st, &ts, &dg) == 1) {
            char **n = realloc(t->capa, (t->ncapa + 1) * sizeof *n);
            if (n) {
                t->capa = n;
                if ((t->capa[t->ncapa] = strdup("APOP")))
                    t->ncapa++;
            }
        }
    }
    if (t->prof->tls == RUN_TLS_STLS) {
        /* Scenarios that start TLS themselves see the plaintext CAPA, so
         * what it announces (STLS) counts for "requires:" too. */
        if (read_capa(t, &d, line, sizeof line, err, errlen))
            goto out_buf;
        if (dcmd(&d, "STLS\r\n", line, sizeof line)) {
            snprintf(err, errlen, "STLS refused: %s", line);
            goto out_buf;
        }
        if (nt_tls_connect(d.c, t->tls, t->prof->tls_name ? t->prof->tls_name : t->host, &d.in,
                           d.dl)) {
            snprintf(err, errlen, "TLS after STLS: %s", nt_errmsg(d.c));
            goto out_buf;
        }
    }
    if (read_capa(t, &d, line, sizeof line, err, errlen))
        goto out_buf;
    if (t->prof->no_login) {
        dcmd(&d, "QUIT\r\n", line, sizeof line);
        rc = 0;
        goto out_buf;
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "USER %s\r\n", t->user);
    if (dcmd(&d, cmd, line, sizeof line)) {
        snprintf(err, errlen, "USER refused: %s", line);
        goto out_buf;
    }
    snprintf(cmd, sizeof cmd, "PASS %s\r\n", t->pass);
    int pr = dcmd(&d, cmd, line, sizeof line);
    memset(cmd, 0, sizeof cmd);
    if (pr) {
        snprintf(err, errlen, "login failed (PASS answered -ERR)");
        goto out_buf;
    }
    if (dcmd(&d, "STAT\r\n", line, sizeof line) == 0) {
        long v = 0;
        const char *q = line + 4;
        while (*q >= '0' && *q <= '9' && v < 100000000)
            v = v * 10 + (*q++ - '0');
        if (q > line + 4)
            t->messages = v;
    }
    dcmd(&d, "QUIT\r\n", line, sizeof line);
    rc = 0;
out_buf:
    nt_buffer_free(&d.in);
out:
    nt_close(d.c);
    return rc;
}

static int has_capa(const run_target *t, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < t->ncapa; i++) {
        const char *c = t->capa[i];
        /* "SASL PLAIN" is met by "SASL PLAIN LOGIN" and "SASL LOGIN PLAIN". */
        const char *sp = strchr(name, ' ');
        if (!sp) {
            if (!strncmp(c, name, n) && (c[n] == 0 || c[n] == ' '))
                return 1;
            continue;
        }
        size_t tn = (size_t)(sp - name);
        if (strncmp(c, name, tn) || (c[tn] != ' '))
            continue;
        const char *want = sp + 1;
        size_t wn = strlen(want);
        for (const char *q = c + tn; *q;) {
            while (*q == ' ')
                q++;
            const char *e = q;
            while (*e && *e != ' ')
                e++;
            if ((size_t)(e - q) == wn && !strncmp(q, want, wn))
                return 1;
            q = e;
        }
    }
    return 0;
}

/* The variables that carry the credentials: ${user} and ${pass}, ${plain}
 * and ${plain.AUTHZID} (run_vars.c), ${apop} (the digest, run_exec.c). */
static int names_credentials(const char *z)
{
    static const char *const vars[] = {"${user}", "${pass}", "${apop}", "${plain}", "${plain."};
    if (!z)
        return 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strstr(z, vars[i]))
            return 1;
    return 0;
}

/* 1 when a step of s uses a credential: what it sends, what it expects,
 * or what it asserts. */
static int logs_in(const sc_scenario *s)
{
    for (size_t i = 0; i < s->nsteps; i++) {
        const sc_step *st = &s->steps[i];
        if (names_credentials(st->text) || names_credentials(st->lhs) ||
            names_credentials(st->rhs) || names_credentials(st->pat.src) ||
            names_credentials(st->code.src))
            return 1;
    }
    return 0;
}

int run_requires_unmet(const sc_scenario *s, const run_target *t, char *reason, size_t len)
{
    if (t->prof->no_login && logs_in(s)) {
        snprintf(reason, len, "logs in, and the run has no credentials (--no-login)");
        return 1;
    }
    for (size_t i = 0; i < s->ntags; i++)
        if (!strcmp(s->tags[i], "slow") && !(t->flags & RUN_F_SLOW)) {
            snprintf(reason, len, "tagged slow (run with --slow)");
            return 1;
        }
    for (size_t i = 0; i < s->ntags; i++)
        if (!strcmp(s->tags[i], "destructive") && !t->prof->disposable) {
            snprintf(reason, len, "changes the mailbox, which is not marked disposable");
            return 1;
        }
    for (size_t i = 0; i < s->nrequires; i++) {
        const sc_require *q = &s->requires[i];
        if (q->kind == SC_REQ_CAPA) {
            if (!has_capa(t, q->name)) {
                snprintf(reason, len, "the server does not announce %s in CAPA", q->name);
                return 1;
            }
            continue;
        }
        if (!strcmp(q->name, "messages")) {
            if (t->messages < 0) {
                snprintf(reason, len, "the number of messages is unknown");
                return 1;
            }
            char a[24], b[24];
            int an = snprintf(a, sizeof a, "%ld", t->messages);
            int bn = snprintf(b, sizeof b, "%llu", (unsigned long long)q->value);
            if (sc_compare((p3_slice){a, (size_t)an}, q->op, (p3_slice){b, (size_t)bn}) != 1) {
                snprintf(reason, len, "needs messages %s %s, the mailbox has %ld",
                         sc_op_text(q->op), b, t->messages);
                return 1;
            }
            continue;
        }
        if (!strcmp(q->name, "implicit-tls") && t->prof->tls == RUN_TLS_IMPLICIT)
            continue;
        if (!strcmp(q->name, "seeded-mailbox") && (t->prof->builtin || t->prof->seed_command))
            continue;
        if (!run_profile_has(t->prof, q->name)) {
            snprintf(reason, len, "the target is not marked %s", q->name);
            return 1;
        }
    }
    return 0;
}
