/* The interpreter of one server scenario: pop3spec is the client. Every
 * read has a deadline and a size bound, so a hostile server can give a
 * scenario FAIL or ERROR but never hang or crash the runner. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "nt.h"
#include "pop3parse.h"
#include "run_flow.h"
#include "run_io.h"
#include "run_int.h"

#define RUN_MAX_LINE 8192            /* receive buffer: a line longer is a finding */
#define RUN_MAX_BLOCK_LINES 1000000  /* data lines of one multi-line response */
#define RUN_MAX_BLOCK_OCTETS (64u << 20)
#define RUN_MAX_BODY ((uint64_t)1 << 30)
#define RUN_MAX_VARS 65536
#define RUN_MAX_SESS 8
#define RUN_SHOWN_LINES 40           /* data lines kept in a transcript */
#define RUN_DEFAULT_TIMEOUT 10000

typedef struct sess {
    nt_conn *c;
    nt_buffer in;
    int open;
    int num;      /* transcript session number */
    int greeted;  /* the first status line (the greeting) was read */
} sess;

typedef struct exec {
    const sc_scenario *s;
    const run_target *t;
    rp_run *r;
    rp_case *c;
    volatile int *stop;
    run_flow f; /* findings, verdict, variables (run_flow.h) */
    sess ss[RUN_MAX_SESS];
    int cur;
    int next_num;
    int64_t t0;
    int auto_stls;
} exec;

static void note(exec *x, const char *text)
{
    rp_case_add_io(x->r, x->c, '#', x->ss[x->cur].num, (double)(nt_now_ms() - x->t0), text,
                   strlen(text));
}

static uint32_t step_timeout(const exec *x, const sc_step *st)
{
    if (st && st->timeout_ms)
        return st->timeout_ms;
    return x->t->timeout_ms ? x->t->timeout_ms : RUN_DEFAULT_TIMEOUT;
}

/* ---- connections ------------------------------------------------------------ */

static void sess_close(sess *s, int abort)
{
    run_io_close(&s->c, &s->in, &s->open, abort);
}

static const char *tls_host(const run_target *t)
{
    return t->prof->tls_name ? t->prof->tls_name : t->host;
}

static int sess_connect(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    sess_close(s, 0);
    char err[512];
    int64_t dl = nt_deadline(step_timeout(x, st));
    s->c = nt_connect(x->t->host, x->t->port, dl, err, sizeof err);
    if (!s->c)
        return run_harness_error(&x->f, st, "cannot connect: %s", err), -1;
    if (nt_buffer_init(&s->in, 4096, RUN_MAX_LINE)) {
        nt_close(s->c);
        s->c = NULL;
        return run_harness_error(&x->f, st, "%s", "out of memory"), -1;
    }
    s->open = 1;
    s->greeted = 0;
    s->num = ++x->next_num;
    char msg[600];
    snprintf(msg, sizeof msg, "connected to %s", nt_peer(s->c));
    note(x, msg);
    if (x->t->prof->tls == RUN_TLS_IMPLICIT) {
        if (nt_tls_connect(s->c, x->t->tls, tls_host(x->t), &s->in, dl) != 0) {
            snprintf(msg, sizeof msg, "TLS handshake failed: %s", nt_errmsg(s->c));
            note(x, msg);
            return run_harness_error(&x->f, st, "%s", msg), -1;
        }
        snprintf(msg, sizeof msg, "TLS %s %s (implicit, RFC 8314)", nt_tls_version(s->c),
                 nt_tls_cipher(s->c));
        note(x, msg);
    }
    return 0;
}

/* Every wait is cut into slices of at most 200 ms so that Ctrl-C (the
 * stop flag) ends even a 10-minute @expect-silence promptly. */
static volatile int *g_stopflag;

static ssize_t fill(sess *s, int64_t dl)
{
    return run_io_fill(&s->in, s->c, dl, g_stopflag);
}

static void sleep_ms(uint32_t ms)
{
    run_io_sleep_ms(ms, g_stopflag);
}

/* One line from the current session: 1 (*len includes the LF), 2 (a partial
 * line, then the end of the stream), 0 (end of stream, nothing pending),
 * NT_TIMEOUT, NT_ERR, NT_FULL. */
static int read_line(sess *s, int64_t dl, size_t *len)
{
    return run_io_read_line(&s->in, s->c, dl, g_stopflag, len);
}

static void record(exec *x, char dir, const char *p, size_t n)
{
    rp_case_add_io(x->r, x->c, dir, x->ss[x->cur].num, (double)(nt_now_ms() - x->t0), p, n);
}

/* A read that did not give a line: a verdict for the step. Returns 1 (stop). */
static int read_failure(exec *x, const sc_step *st, int rc, const char *what)
{
    sess *s = &x->ss[x->cur];
    sc_verdict v = sc_step_verdict(x->s, st);
    char got[700];
    if (rc == NT_TIMEOUT) {
        snprintf(got, sizeof got, "nothing within %u ms", step_timeout(x, st));
        note(x, got);
        run_judge(&x->f, st, v, what, got, "timed out waiting for %s", what);
        return 1;
    }
    if (rc == NT_FULL) {
        run_show(got, 200, nt_buffer_data(&s->in), nt_buffer_len(&s->in), RUN_SHOW_CUT_MARK);
        note(x, "line longer than the receive bound; connection dropped");
        run_judge(&x->f, st, v, what, got,
                  "no line end within %d octets (RFC 2449 section 4 limits a "
                  "response line to 512)",
                  RUN_MAX_LINE);
        return 1;
    }
    if (rc == 0) {
        note(x, "connection closed by the server");
        run_judge(&x->f, st, v, what, "connection closed",
                  "the server closed the connection while "
                  "waiting for %s",
                  what);
        return 1;
    }
    if (rc == 2) {
        run_show(got, sizeof got, nt_buffer_data(&s->in), nt_buffer_len(&s->in), RUN_SHOW_CUT_MARK);
        record(x, 'S', nt_buffer_data(&s->in), nt_buffer_len(&s->in));
        run_judge(&x->f, st, v, what, got, "the connection closed in the middle of a line");
        return 1;
    }
    snprintf(got, sizeof got, "%s", nt_errmsg(s->c));
    note(x, got);
    /* A reset on an established connection is the server's doing. */
    if (strstr(got, "reset by peer"))
        return run_judge(&x->f, st, v, what, got,
                         "the server reset the connection while waiting for %s", what),
               1;
    return run_harness_error(&x->f, st, "network error: %s", got), 1;
}

/* ---- steps ------------------------------------------------------------------ */

static int do_send(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return run_harness_error(&x->f, st, "%s",
                                 "C: on a session that is not connected (add @connect)");
    char out[SC_MAX_LINE * 2 + 2];
    size_t n;
    unsigned xf = 0;
    sc_error err;
    x->f.vars.miss = 0;
    if (sc_expand(st->text, st->text_len, run_vars_lookup, &x->f.vars, out, sizeof out - 2, &n, &xf,
                  &err))
        return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path, st->loc.line,
                         err.msg);
    if (!(st->flags & SC_F_RAW)) {
        out[n++] = '\r';
        out[n++] = '\n';
    }
    int secret = (st->flags & SC_F_SECRET) || (xf & SC_X_SECRET);
    /* PASS, APOP and AUTH lines are redacted by the report layer itself
     * (rp_case_add_io), which keeps what is not secret (the APOP user, the
     * AUTH mechanism); any other secret line shows its keyword only. */
    if (secret && n >= 4 && (!strncasecmp(out, "PASS", 4) || !strncasecmp(out, "APOP", 4) ||
                             !strncasecmp(out, "AUTH", 4)))
        secret = 0;
    if (secret) {
        /* The transcript shows the keyword only. */
        const char *sp = memchr(out, ' ', n);
        size_t kw = sp ? (size_t)(sp - out) : 0;
        char red[80];
        int k = snprintf(red, sizeof red, "%.*s%s<redacted>\r\n", (int)(kw > 20 ? 20 : kw), out,
                         kw ? " " : "");
        record(x, 'C', red, (size_t)k);
    } else {
        record(x, 'C', out, n);
    }
    int64_t dl = nt_deadline(step_timeout(x, st) + (int64_t)st->delay_ms * (st->nsplit + 2));
    int rc;
    if (st->flags & SC_F_BYTEWISE) {
        rc = nt_write_chunked(s->c, out, n, 1, (int)st->delay_ms, dl);
    } else if (st->nsplit) {
        size_t off = 0;
        rc = 0;
        for (unsigned i = 0; i < st->nsplit && off < n && rc == 0; i++) {
            size_t k = st->split[i] < n - off ? st->split[i] : n - off;
            rc = nt_write_all(s->c, out + off, k, dl);
            off += k;
            if (off < n && st->delay_ms)
                sleep_ms(st->delay_ms);
        }
        if (rc == 0 && off < n)
            rc = nt_write_all(s->c, out + off, n - off, dl);
    } else {
        rc = nt_write_all(s->c, out, n, dl);
    }
    memset(out, 0, n);
    if (rc != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "write failed: %s", nt_errmsg(s->c));
        note(x, msg);
        /* A server that closed after a command it must refuse is judged by
         * the next expectation, not here. */
        run_judge(&x->f, st, sc_step_verdict(x->s, st), "the server to accept the command", msg,
                  "could not send: %s", nt_errmsg(s->c));
        return 1;
    }
    return 0;
}

static void store_caps(exec *x, const sc_capture *caps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_vars_set(&x->f.vars, caps[i].name, caps[i].name_len, caps[i].value.p, caps[i].value.n,
                     0);
}

static const char *want_text(const sc_step *st)
{
    switch (st->want) {
    case SC_WANT_OK: return "+OK";
    case SC_WANT_ERR: return "-ERR";
    case SC_WANT_CONT: return "+ (continuation)";
    default: return "+OK or -ERR";
    }
}

/* Data lines of a multi-line block, copied out of the receive buffer. */
typedef struct block {
    char **line;
    size_t *len;
    size_t n, cap;
    size_t octets;
    uint64_t body_octets, body_lines, body_stuffed;
    int body; /* read in body mode */
} block;

static void block_free(block *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->line[i]);
    free(b->line);
    free(b->len);
    memset(b, 0, sizeof *b);
}

static int block_push(block *b, const char *p, size_t n)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char **l = realloc(b->line, cap * sizeof *l);
        if (!l)
            return -1;
        b->line = l;
        size_t *ln = realloc(b->len, cap * sizeof *ln);
        if (!ln)
            return -1;
        b->len = ln;
        b->cap = cap;
    }
    b->line[b->n] = malloc(n + 1);
    if (!b->line[b->n])
        return -1;
    memcpy(b->line[b->n], p, n);
    b->line[b->n][n] = 0;
    b->len[b->n++] = n;
    b->octets += n;
    return 0;
}

/* Read the data of a multi-line response: lines (with p3_ml_line), or a
 * body (with p3_ml_body) when the block has @body. Returns 0 or 1 (stop). */
static int read_block(exec *x, const sc_step *st, block *b, int body_mode)
{
    sess *s = &x->ss[x->cur];
    p3_ml ml;
    p3_ml_init(&ml, 0, 1000); /* RFC 5322 section 2.1.1: 998 octets + CRLF */
    int64_t dl = nt_deadline(step_timeout(x, st));
    size_t shown = 0;
    b->body = body_mode;
    char what[64] = "the multi-line data and its \".\" terminator";
    for (;;) {
        if (*x->stop)
            return run_harness_error(&x->f, st, "%s", "interrupted"), 1;
        const char *d = nt_buffer_data(&s->in);
        size_t n = nt_buffer_len(&s->in);
        ssize_t k;
        if (body_mode) {
            p3_slice out[64];
            size_t nout = 0;
            uint64_t before = ml.lines;
            k = n ? p3_ml_body(&ml, d, n, out, 64, &nout) : 0;
            if (k > 0) {
                /* Keep the first lines for the transcript only. */
                for (size_t i = 0; i < nout && shown < RUN_SHOWN_LINES; i++) {
                    const char *q = out[i].p;
                    size_t left = out[i].n;
                    while (left && shown < RUN_SHOWN_LINES) {
                        const char *lf = memchr(q, '\n', left);
                        size_t ln = lf ? (size_t)(lf - q) + 1 : left;
                        record(x, 'S', q, ln);
                        shown += lf != NULL;
                        q += ln;
                        left -= ln;
                    }
                }
                (void)before;
                nt_buffer_consume(&s->in, (size_t)k);
                if (ml.octets > RUN_MAX_BODY)
                    return run_judge(&x->f, st, sc_step_verdict(x->s, st), "a terminated response",
                                     "more than 1 GiB",
                                     "multi-line response over 1 GiB without "
                                     "a terminator"),
                           1;
                if (p3_ml_done(&ml))
                    break;
                continue;
            }
        } else {
            p3_slice line;
            k = n ? p3_ml_line(&ml, d, n, &line) : P3_NEED_MORE;
            if (k > 0) {
                if (p3_ml_done(&ml)) {
                    record(x, 'S', d, (size_t)k);
                    nt_buffer_consume(&s->in, (size_t)k);
                    break;
                }
                if (b->n >= RUN_MAX_BLOCK_LINES || b->octets + line.n > RUN_MAX_BLOCK_OCTETS)
                    return run_judge(&x->f, st, sc_step_verdict(x->s, st), "a terminated response",
                                     "an endless response",
                                     "multi-line response over %d lines or "
                                     "64 MiB without a terminator",
                                     RUN_MAX_BLOCK_LINES),
                           1;
                if (block_push(b, line.p, line.n))
                    return run_harness_error(&x->f, st, "%s", "out of memory"), 1;
                if (shown < RUN_SHOWN_LINES)
                    record(x, 'S', d, (size_t)k);
                else if (shown == RUN_SHOWN_LINES)
                    note(x, "(further data lines not shown)");
                shown++;
                nt_buffer_consume(&s->in, (size_t)k);
                continue;
            }
        }
        if (k == P3_ERROR) {
            char got[200];
            size_t off = (size_t)(ml.err_off - ml.consumed);
            run_show(got, sizeof got, d, n < off + 40 ? n : off + 40, RUN_SHOW_CUT_MARK);
            return run_judge(&x->f, st, sc_step_verdict(x->s, st),
                             "dot-stuffed CRLF lines (RFC 1939 section 3)", got,
                             "malformed multi-line data at octet %llu: %s",
                             (unsigned long long)ml.err_off, p3_errno_msg(ml.err)),
                   1;
        }
        ssize_t r = fill(s, dl);
        if (r > 0)
            continue;
        if (r == NT_FULL)
            return run_judge(&x->f, st, sc_step_verdict(x->s, st),
                             "data lines of at most 1000 octets", "a longer line",
                             "a data line exceeds %d octets", RUN_MAX_LINE),
                   1;
        return read_failure(x, st, r == 0 ? (n ? 2 : 0) : (int)r, what);
    }
    if (body_mode) {
        b->body_octets = ml.octets;
        b->body_lines = ml.lines;
        b->body_stuffed = ml.stuffed;
        if (shown >= RUN_SHOWN_LINES) {
            char msg[120];
            snprintf(msg, sizeof msg, "(body: %llu octets in %llu lines; not all shown)",
                     (unsigned long long)ml.octets, (unsigned long long)ml.lines);
            note(x, msg);
        }
        record(x, 'S', ".\r\n", 3);
    }
    return 0;
}

static void name_join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    snprintf(out, cap, "%s%s%s%s%s", a, b ? "." : "", b ? b : "", c ? "." : "", c ? c : "");
}

/* The steps of a block, judged against what was read. Returns 1 to stop. */
static int judge_block(exec *x, size_t first, size_t dot, block *b)
{
    size_t next = 0; /* next data line for S* */
    for (size_t i = first; i < dot; i++) {
        const sc_step *st = &x->s->steps[i];
        sc_verdict v = sc_step_verdict(x->s, st);
        sc_capture caps[SC_MAX_CAPTURES];
        size_t nc = 0;
        sc_error err;
        char got[600];
        switch (st->kind) {
        case SC_STEP_LINE: {
            if (next >= b->n) {
                if (run_judge(&x->f, st, v, st->pat.src, "the end of the data",
                              "expected another data line"))
                    return 1;
                break;
            }
            int m = sc_match(&st->pat, b->line[next], b->len[next], 0, run_vars_lookup, &x->f.vars,
                             caps, SC_MAX_CAPTURES, &nc, &err);
            run_show(got, sizeof got, b->line[next], b->len[next], RUN_SHOW_CUT_MARK);
            next++;
            if (m < 0)
                return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path,
                                 st->loc.line, err.msg);
            if (!m) {
                if (run_judge(&x->f, st, v, st->pat.src, got, "data line %zu does not match", next))
                    return 1;
                break;
            }
            store_caps(x, caps, nc);
            break;
        }
        case SC_STEP_EACH: {
            size_t count = 0;
            uint64_t sums[SC_MAX_CAPTURES] = {0};
            const char *names[SC_MAX_CAPTURES] = {0};
            size_t nlen[SC_MAX_CAPTURES] = {0};
            size_t nnames = 0;
            for (; next < b->n; next++) {
                int m = sc_match(&st->pat, b->line[next], b->len[next], 0, run_vars_lookup,
                                 &x->f.vars, caps, SC_MAX_CAPTURES, &nc, &err);
                if (m < 0)
                    return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path,
                                     st->loc.line, err.msg);
                if (!m) {
                    run_show(got, sizeof got, b->line[next], b->len[next], RUN_SHOW_CUT_MARK);
                    if (run_judge(&x->f, st, v, st->pat.src, got, "data line %zu does not match",
                                  next + 1))
                        return 1;
                    continue;
                }
                count++;
                char idx[24];
                snprintf(idx, sizeof idx, "%zu", count);
                for (size_t k = 0; k < nc; k++) {
                    char nm[SC_MAX_NAME * 2 + 48];
                    char cn[SC_MAX_NAME + 1];
                    snprintf(cn, sizeof cn, "%.*s", (int)caps[k].name_len, caps[k].name);
                    name_join(nm, sizeof nm, st->name, idx, cn);
                    run_vars_set(&x->f.vars, nm, strlen(nm), caps[k].value.p, caps[k].value.n, 0);
                    uint64_t val = 0;
                    int numeric = caps[k].value.n > 0 && caps[k].value.n < 20;
                    for (size_t q = 0; q < caps[k].value.n && numeric; q++) {
                        unsigned dgt = (unsigned char)caps[k].value.p[q] - '0';
                        numeric = dgt < 10;
                        val = val * 10 + dgt;
                    }
                    if (numeric && k < SC_MAX_CAPTURES) {
                        sums[k] += val;
                        names[k] = caps[k].name;
                        nlen[k] = caps[k].name_len;
                        if (k + 1 > nnames)
                            nnames = k + 1;
                    }
                }
            }
            char nm[SC_MAX_NAME * 2 + 48];
            name_join(nm, sizeof nm, st->name, "count", NULL);
            run_vars_setu(&x->f.vars, nm, count);
            for (size_t k = 0; k < nnames; k++) {
                if (!names[k])
                    continue;
                char cn[SC_MAX_NAME + 1];
                snprintf(cn, sizeof cn, "%.*s", (int)nlen[k], names[k]);
                name_join(nm, sizeof nm, st->name, "sum", cn);
                run_vars_setu(&x->f.vars, nm, sums[k]);
            }
            break;
        }
        case SC_STEP_ENTRIES: {
            char rhs[256];
            size_t rn;
            unsigned xf;
            if (sc_expand(st->rhs, st->rhs_len, run_vars_lookup, &x->f.vars, rhs, sizeof rhs, &rn,
                          &xf, &err))
                return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path,
                                 st->loc.line, err.msg);
            char cnt[24];
            int cn = snprintf(cnt, sizeof cnt, "%zu", b->n);
            int r = sc_compare((p3_slice){cnt, (size_t)cn}, st->op, (p3_slice){rhs, rn});
            if (r != 1) {
                char exp[300];
                snprintf(exp, sizeof exp, "entries %s %.*s", sc_op_text(st->op), (int)rn, rhs);
                if (run_judge(&x->f, st, r < 0 ? SC_V_ERROR : v, exp, cnt,
                              "%zu data lines, expected %s %.*s", b->n, sc_op_text(st->op), (int)rn,
                              rhs))
                    return 1;
            }
            break;
        }
        case SC_STEP_BODY: {
            if (st->name) {
                char nm[SC_MAX_NAME + 16];
                name_join(nm, sizeof nm, st->name, "octets", NULL);
                run_vars_setu(&x->f.vars, nm, b->body ? b->body_octets : b->octets);
                name_join(nm, sizeof nm, st->name, "lines", NULL);
                run_vars_setu(&x->f.vars, nm, b->body ? b->body_lines : b->n);
                name_join(nm, sizeof nm, st->name, "stuffed", NULL);
                run_vars_setu(&x->f.vars, nm, b->body_stuffed);
            }
            break;
        }
        case SC_STEP_CAPA: {
            size_t count = 0;
            for (size_t k = 0; k < b->n; k++) {
                p3_capa cap;
                p3_diag dg;
                if (p3_capa_line((p3_slice){b->line[k], b->len[k]}, 0, &cap, &dg) != 0) {
                    run_show(got, sizeof got, b->line[k], b->len[k], RUN_SHOW_CUT_MARK);
                    if (run_judge(&x->f, st, v, "capa-tag *(SP param) (RFC 2449 section 3)", got,
                                  "malformed capability line %zu: %s", k + 1,
                                  p3_errno_msg(dg.code)))
                        return 1;
                    continue;
                }
                char tag[SC_MAX_NAME + 1];
                size_t tn = cap.tag.n < SC_MAX_NAME ? cap.tag.n : SC_MAX_NAME;
                for (size_t q = 0; q < tn; q++) {
                    char ch = cap.tag.p[q];
                    tag[q] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
                }
                tag[tn] = 0;
                char nm[SC_MAX_NAME * 2 + 8];
                name_join(nm, sizeof nm, st->name, tag, NULL);
                const char *params = cap.nparams ? cap.params[0].p : "";
                size_t pn = cap.nparams ? (size_t)(b->line[k] + b->len[k] - params) : 0;
                run_vars_set(&x->f.vars, nm, strlen(nm), params, pn, 0);
                count++;
            }
            char nm[SC_MAX_NAME + 16];
            name_join(nm, sizeof nm, st->name, "count", NULL);
            run_vars_setu(&x->f.vars, nm, count);
            break;
        }
        default:
            break;
        }
    }
    (void)next;
    return 0;
}

/* The greeting's APOP timestamp gives ${ts} and the secret ${apop}, the
 * digest RFC 1939 section 7 defines: MD5 of the timestamp followed by the
 * shared secret (here, the password), as 32 lower-case hex digits. */
static void greeting_vars(exec *x, const p3_status *ps, int parsed)
{
    p3_slice ts;
    p3_diag dg;
    if (!parsed || ps->kind != P3_ST_OK || p3_greeting_timestamp(ps, &ts, &dg) != 1)
        return;
    run_vars_set(&x->f.vars, "ts", 2, ts.p, ts.n, 0);
    char out[33];
    if (run_md5_hex(ts.p, ts.n, x->t->pass, strlen(x->t->pass), out))
        return;
    run_vars_set(&x->f.vars, "apop", 4, out, 32, 1);
    memset(out, 0, sizeof out);
}

static int do_status(exec *x, size_t *pc)
{
    const sc_step *st = &x->s->steps[*pc];
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return run_harness_error(&x->f, st, "%s",
                                 "S: on a session that is not connected (add @connect)");
    size_t len;
    int rc = read_line(s, nt_deadline(step_timeout(x, st)), &len);
    char what[300];
    snprintf(what, sizeof what, "%s%s%s", want_text(st), st->has_pat ? " " : "",
             st->has_pat ? st->pat.src : "");
    if (rc != 1)
        return read_failure(x, st, rc, what);
    const char *line = nt_buffer_data(&s->in);
    record(x, 'S', line, len);
    sc_capture caps[SC_MAX_CAPTURES];
    size_t nc = 0;
    p3_status ps;
    p3_diag dg;
    sc_error err;
    sc_status_result sr = sc_expect_status(st, line, len, 0, run_vars_lookup, &x->f.vars, caps,
                                           SC_MAX_CAPTURES, &nc, &ps, &dg, &err);
    char got[600];
    run_show(got, sizeof got, line, len, RUN_SHOW_CUT_MARK);
    int multi = (st->flags & SC_F_MULTILINE) != 0;
    int stop = 0;
    sc_verdict v = sc_step_verdict(x->s, st);
    if (!s->greeted) {
        s->greeted = 1;
        greeting_vars(x, &ps, sr != SC_SR_MALFORMED);
    }
    switch (sr) {
    case SC_SR_MATCH:
        store_caps(x, caps, nc);
        break;
    case SC_SR_MALFORMED:
        stop = run_judge(&x->f, st, v, what, got, "malformed response line: %s (octet %zu)",
                         p3_errno_msg(dg.code), dg.offset);
        break;
    case SC_SR_STATUS:
        stop = run_judge(&x->f, st, v, what, got, "expected %s", want_text(st));
        /* The data of a block that was not sent cannot be read. */
        if (multi && ps.kind != P3_ST_OK)
            stop = 1, x->f.worst = run_severity(x->f.worst) < run_severity(v) ? v : x->f.worst;
        break;
    case SC_SR_CODE:
        stop = run_judge(&x->f, st, v, what, got, "response code differs from [%s]",
                         st->code_want == SC_CODE_MATCH ? st->code.src : "");
        break;
    case SC_SR_TEXT:
        stop = run_judge(&x->f, st, v, what, got, "the response text does not match");
        break;
    case SC_SR_ERROR:
        nt_buffer_consume(&s->in, len);
        return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path, st->loc.line,
                         err.msg);
    }
    nt_buffer_consume(&s->in, len);
    if (!multi)
        return stop;
    if (sr == SC_SR_STATUS && ps.kind != P3_ST_OK)
        return 1;
    size_t dot = (size_t)st->link;
    int body = 0;
    for (size_t i = *pc + 1; i < dot; i++)
        body |= x->s->steps[i].kind == SC_STEP_BODY;
    block b = {0};
    int r = read_block(x, st, &b, body);
    if (!r)
        r = judge_block(x, *pc + 1, dot, &b);
    block_free(&b);
    *pc = dot; /* the caller steps past the DOT */
    return r || stop;
}

static int do_starttls(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return run_harness_error(&x->f, st, "%s", "@starttls on a session that is not connected");
    size_t pending = nt_buffer_len(&s->in);
    int64_t dl = nt_deadline(step_timeout(x, st));
    int rc = nt_tls_connect(s->c, x->t->tls, tls_host(x->t), &s->in, dl);
    size_t discarded = nt_starttls_discarded(s->c);
    char msg[700];
    if (rc != 0) {
        snprintf(msg, sizeof msg, "TLS handshake failed: %s", nt_errmsg(s->c));
        note(x, msg);
        if (st->flags & SC_F_FAILS)
            return 0;
        if ((st->flags & SC_F_ORCLOSE) && (strstr(nt_errmsg(s->c), "closed by peer") ||
                                            strstr(nt_errmsg(s->c), "reset by peer"))) {
            note(x, "the server closed the connection instead of the TLS handshake "
                    "(allowed by @starttls or-close); the scenario ends here");
            sess_close(s, 0);
            return 2;
        }
        /* A certificate we cannot verify is our configuration's problem
         * (ERROR); a handshake the server breaks is the server's (FAIL). */
        long vcode = nt_tls_verify_code(s->c);
        sess_close(s, 1);
        if (x->t->prof->insecure || vcode == 0)
            return run_judge(&x->f, st, sc_step_verdict(x->s, st), "a TLS handshake", msg, "%s",
                             msg);
        return run_judge(&x->f, st, SC_V_ERROR, "a TLS handshake", msg, "%s", msg);
    }
    if (st->flags & SC_F_FAILS)
        return run_judge(&x->f, st, sc_step_verdict(x->s, st), "the handshake to fail",
                         "it completed",
                         "the TLS handshake completed but the scenario expects it to fail");
    snprintf(msg, sizeof msg, "TLS %s %s (STLS, RFC 2595)%s", nt_tls_version(s->c),
             nt_tls_cipher(s->c), x->t->prof->insecure ? "; verification OFF" : "");
    note(x, msg);
    if (discarded || pending) {
        snprintf(msg, sizeof msg, "%zu plaintext octets arrived after the STLS answer and before "
                 "the TLS handshake; they were discarded", discarded ? discarded : pending);
        note(x, msg);
        return run_judge(&x->f, st, SC_V_FAIL, "nothing between \"+OK\" and the TLS handshake", msg,
                         "%s (RFC 2595 section 4: the TLS negotiation begins immediately after the "
                         "CRLF at the end of the +OK)",
                         msg);
    }
    return 0;
}

static int do_expect_close(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return 0;
    uint32_t ms = st->delay_ms ? st->delay_ms : step_timeout(x, st);
    int64_t dl = nt_deadline(ms);
    for (;;) {
        size_t n = nt_buffer_len(&s->in);
        if (n) {
            char got[300];
            run_show(got, sizeof got, nt_buffer_data(&s->in), n, RUN_SHOW_CUT_MARK);
            record(x, 'S', nt_buffer_data(&s->in), n);
            nt_buffer_clear(&s->in);
            return run_judge(&x->f, st, sc_step_verdict(x->s, st),
                             "the server to close the connection", got,
                             "data arrived where the connection should close");
        }
        ssize_t r = fill(s, dl);
        if (r > 0)
            continue;
        if (r == 0 || r == NT_ERR) {
            note(x, "connection closed by the server");
            sess_close(s, 0);
            return 0;
        }
        char got[64];
        snprintf(got, sizeof got, "still open after %u ms", ms);
        note(x, got);
        return run_judge(&x->f, st, sc_step_verdict(x->s, st), "the server to close the connection",
                         got, "the server did not close the connection");
    }
}

static int do_expect_silence(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return run_harness_error(&x->f, st, "%s", "@expect-silence on a closed session");
    int64_t dl = nt_deadline(st->delay_ms);
    if (nt_buffer_len(&s->in) == 0) {
        ssize_t r = fill(s, dl);
        if (r == NT_TIMEOUT)
            return 0;
        if (r == 0)
            return run_judge(&x->f, st, sc_step_verdict(x->s, st), "silence", "connection closed",
                             "the server closed the connection");
    }
    char got[300];
    run_show(got, sizeof got, nt_buffer_data(&s->in), nt_buffer_len(&s->in), RUN_SHOW_CUT_MARK);
    record(x, 'S', nt_buffer_data(&s->in), nt_buffer_len(&s->in));
    nt_buffer_clear(&s->in);
    return run_judge(&x->f, st, sc_step_verdict(x->s, st), "no response", got,
                     "the server answered");
}

static int switch_session(exec *x, const sc_step *st)
{
    for (size_t i = 0; i < x->s->nsessions && i < RUN_MAX_SESS; i++)
        if (!strcmp(x->s->sessions[i], st->name)) {
            x->cur = (int)i;
            return 0;
        }
    return run_harness_error(&x->f, st, "unknown session %s", st->name);
}

/* In stls mode, scenarios that do not start TLS themselves run over a
 * session the runner upgraded first (the greeting stays for S:). */
static int needs_auto_stls(const sc_scenario *s)
{
    for (size_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].kind == SC_STEP_STARTTLS)
            return 0;
    return 1;
}

static int auto_stls(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    size_t len;
    int64_t dl = nt_deadline(step_timeout(x, st));
    /* Keep the greeting in the buffer for the scenario's first S:. */
    int rc = read_line(s, dl, &len);
    if (rc != 1)
        return read_failure(x, st, rc, "the greeting");
    char greet[600];
    size_t gl = len < sizeof greet ? len : sizeof greet;
    memcpy(greet, nt_buffer_data(&s->in), gl);
    nt_buffer_consume(&s->in, len);
    record(x, 'S', greet, gl);
    record(x, 'C', "STLS\r\n", 6);
    if (nt_write_all(s->c, "STLS\r\n", 6, dl))
        return run_harness_error(&x->f, st, "STLS: %s", nt_errmsg(s->c));
    rc = read_line(s, dl, &len);
    if (rc != 1)
        return read_failure(x, st, rc, "+OK to STLS");
    record(x, 'S', nt_buffer_data(&s->in), len);
    if (len < 3 || memcmp(nt_buffer_data(&s->in), "+OK", 3))
        return run_harness_error(&x->f, st, "%s",
                                 "the profile says tls = stls but STLS was refused");
    nt_buffer_consume(&s->in, len);
    sc_step fake = *st;
    fake.flags = 0;
    if (do_starttls(x, &fake))
        return 1;
    /* Put the greeting back so that the scenario's "S:" reads it. */
    nt_buffer_clear(&s->in);
    nt_buffer_append(&s->in, greet, gl);
    note(x, "(greeting of the session, shown again for the scenario)");
    return 0;
}

static void run_steps(exec *x)
{
    const sc_scenario *s = x->s;
    for (size_t pc = 0; pc < s->nsteps; pc++) {
        if (*x->stop) {
            run_harness_error(&x->f, NULL, "%s", "interrupted");
            return;
        }
        const sc_step *st = &s->steps[pc];
        int stop = 0;
        switch (st->kind) {
        case SC_STEP_SEND:
            stop = do_send(x, st);
            break;
        case SC_STEP_STATUS:
            stop = do_status(x, &pc);
            break;
        case SC_STEP_DELAY:
            sleep_ms(st->delay_ms);
            break;
        case SC_STEP_SESSION:
            stop = switch_session(x, st);
            break;
        case SC_STEP_CONNECT:
            stop = sess_connect(x, st) != 0;
            if (!stop && x->auto_stls)
                stop = auto_stls(x, st);
            break;
        case SC_STEP_DROP:
            note(x, "connection dropped without QUIT (TCP reset)");
            sess_close(&x->ss[x->cur], 1);
            break;
        case SC_STEP_CLOSE:
            note(x, "connection closed by pop3spec");
            sess_close(&x->ss[x->cur], 0);
            break;
        case SC_STEP_EXPECT_CLOSE:
            stop = do_expect_close(x, st);
            break;
        case SC_STEP_EXPECT_SILENCE:
            stop = do_expect_silence(x, st);
            break;
        case SC_STEP_STARTTLS:
            stop = do_starttls(x, st);
            break;
        case SC_STEP_ASSERT:
        case SC_STEP_FOREACH:
        case SC_STEP_END: stop = run_flow_step(&x->f, st, &pc, RUN_ASSERT_EXPECT_ALL); break;
        case SC_STEP_DOT:
            break;
        default:
            stop = run_harness_error(&x->f, st, "step %s is for client scenarios",
                                     sc_step_kind_name(st->kind));
            break;
        }
        if (stop) /* 1: a failure ended it; 2: an allowed early end */
            return;
    }
}

void run_scenario(const sc_scenario *s, const run_target *t, rp_run *r, rp_case *c,
                  volatile int *stop)
{
    exec x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.t = t;
    x.r = r;
    x.c = c;
    x.stop = stop;
    g_stopflag = stop; /* the same flag for every job: Ctrl-C */
    x.t0 = nt_now_ms();
    run_flow_init(&x.f, s, RUN_MAX_VARS, t->user, t->pass);
    x.auto_stls = t->prof->tls == RUN_TLS_STLS && needs_auto_stls(s);
    run_vars_setz(&x.f.vars, "user", t->user, 0);
    run_vars_setz(&x.f.vars, "pass", t->pass, 1);
    run_vars_setz(&x.f.vars, "host", t->host, 0);
    run_vars_setu(&x.f.vars, "port", t->port);
    run_vars_setu(&x.f.vars, "msg", 1);
    if (t->messages >= 0)
        run_vars_setu(&x.f.vars, "messages", (uint64_t)t->messages);
    x.cur = 0;
    sc_step first = {0};
    first.loc.line = 1;
    if (sess_connect(&x, &first) == 0 && (!x.auto_stls || auto_stls(&x, &first) == 0))
        run_steps(&x);
    for (int i = 0; i < RUN_MAX_SESS; i++) {
        x.cur = i;
        if (x.ss[i].open) {
            /* Show what the server sent last, then close our side and wait
             * (at most 2 s) for the server to close its own: a server that
             * locks the maildrop releases it when it sees the close, and
             * the next scenario must not meet a lock this one left. */
            sess *ss = &x.ss[i];
            if (nt_buffer_len(&ss->in))
                record(&x, 'S', nt_buffer_data(&ss->in), nt_buffer_len(&ss->in));
            nt_buffer_clear(&ss->in);
            if (nt_shutdown_write(ss->c) == 0) {
                int64_t dl = nt_deadline(2000);
                ssize_t rd;
                while ((rd = nt_buffer_fill(&ss->in, ss->c, dl)) > 0 || rd == NT_FULL)
                    nt_buffer_clear(&ss->in);
            }
            sess_close(ss, 0);
        }
    }
    run_flow_verdict(&x.f, r, c);
    run_flow_free(&x.f);
}
