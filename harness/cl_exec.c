/* The interpreter of one client scenario: pop3spec is the server. It
 * launches the client, plays the script, answers every command the script
 * does not expect with the default responder (a correct POP3 server over
 * the scenario's mailbox), and judges the whole session at the end. Every
 * wait is bounded by the client's deadline, every read by a size. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cl.h"
#include "nt.h"
#include "pop3parse.h"
#include "ref.h"
#include "run_flow.h"
#include "run_io.h"

#define CL_MAX_LINE 16384   /* receive bound; a command line is at most 255 */
#define CL_MAX_SESS 8
#define CL_MAX_CMDS 4096    /* command lines kept for the end-of-run judgements */
#define CL_MAX_VARS 4096
#define CL_SHOWN_LINES 40   /* body lines of a served message in the transcript */
#define CL_DEFAULT_TIMEOUT 20000
#define CL_KILL_GRACE 1000
#define CL_MAX_CAPA_LINES 64

typedef struct sess {
    nt_conn *c;
    nt_buffer in;
    int open;          /* has a connection */
    int used;          /* ever had one */
    int num;           /* transcript session number */
    int sent;          /* octets were sent (the greeting is out) */
    int trans;         /* TRANSACTION state */
    int quit;          /* the client sent QUIT */
    int quit_ok;       /* +OK to QUIT went out */
    int closed_by_us;  /* @close/@drop, or QUIT served, or a failed handshake */
    int closed_by_us_tls; /* a TLS handshake failed: the client refused us */
    int pipelining;    /* PIPELINING was announced in this session */
    int apop;          /* the greeting carried ${ts} */
    int auth_open;     /* a scripted AUTH exchange: we sent "+ ", the final
                          +OK/-ERR is not out yet; client lines are SASL
                          responses (RFC 5034 section 4), not commands */
    int bad_cert;      /* implicit TLS completed with a certificate the
                          client must refuse; no command from it yet */
    int orclose_watch; /* @starttls or-close completed: a close before the
                          first command is the client's safe refusal */
    int refused;       /* it was one of those refusals (refusal()) */
    char user[128];
    int have_user;
    size_t *view;      /* message numbers of this session -> index in msgs */
    size_t nview;
    unsigned char *del;/* DELE marks of this session, per view entry */
} sess;

typedef struct exec {
    const sc_scenario *s;
    const cl_env *e;
    rp_run *r;
    rp_case *c;
    volatile int *stop;
    cl_mode mode;
    run_flow f; /* findings, verdict, variables (run_flow.h) */
    sess ss[CL_MAX_SESS];
    int cur;
    int next_num;
    int64_t t0, deadline;
    nt_listener *l;
    struct nt_tls_ctx *cert;
    cl_proc proc;
    int launched;
    char ts[96];
    int strict;          /* tags: strict: no default responder */
    int default_greeting;/* the first wire step is C: */
    /* The mailbox: the scenario's fixtures, in order. */
    const cl_fixture **msgs;
    size_t nmsgs;
    unsigned char *gone; /* deleted for good (DELE, then +OK to QUIT) */
    /* Every command line, for @expect-no-command and the transcript. */
    char *cmds[CL_MAX_CMDS];
    size_t ncmds;
    /* The command the script matched last, to follow the state its
     * scripted answer implies. */
    p3_cmd_kind matched;
    uint32_t matched_num;
    int answer_pending;  /* the matched command's status line is not out */
    int capa_listing;    /* inside a scripted CAPA answer */
    /* The last scripted CAPA list: it answers every later CAPA of the run
     * (clients such as curl use a connection per message). */
    char *capa_lines[CL_MAX_CAPA_LINES];
    size_t ncapa_lines;
    int capa_scripted;   /* 1: capa_lines; 2: the -ERR line capa_err */
    char capa_err[256];
    int ended_early;     /* @starttls or-close: the client refused safely */
    /* once-only findings */
    int f_syntax, f_pipe, f_after_quit, f_state, f_clear;
    char dir[512], home[600], out[600], passfile[600], store[1200];
} exec;

static double t_ms(const exec *x)
{
    return (double)(nt_now_ms() - x->t0);
}

static void note_s(exec *x, int num, const char *text)
{
    rp_case_add_io(x->r, x->c, '#', num, t_ms(x), text, strlen(text));
}

static void note(exec *x, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    note_s(x, x->ss[x->cur].num, buf);
}

static void record(exec *x, sess *s, char dir, const char *p, size_t n)
{
    rp_case_add_io(x->r, x->c, dir, s->num, t_ms(x), p, n);
}

static int64_t step_deadline(const exec *x, const sc_step *st)
{
    if (st && st->timeout_ms) {
        int64_t d = nt_deadline(st->timeout_ms);
        return d < x->deadline ? d : x->deadline;
    }
    return x->deadline;
}


/* ---- sessions ------------------------------------------------------------------ */

static void sess_close(sess *s, int abort)
{
    run_io_close(&s->c, &s->in, &s->open, abort);
}

static void sess_free(sess *s)
{
    sess_close(s, 0);
    free(s->view);
    free(s->del);
    s->view = NULL;
    s->del = NULL;
}

/* A new connection's view of the mailbox: what was not deleted for good
 * by an earlier session, numbered from 1 (RFC 1939 section 5). */
static int sess_view(exec *x, sess *s)
{
    free(s->view);
    free(s->del);
    s->view = calloc(x->nmsgs + 1, sizeof *s->view);
    s->del = calloc(x->nmsgs + 1, 1);
    if (!s->view || !s->del)
        return -1;
    s->nview = 0;
    for (size_t i = 0; i < x->nmsgs; i++)
        if (!x->gone[i])
            s->view[s->nview++] = i;
    return 0;
}

/* Wait for the client's next connection. While waiting, a client that
 * exits (it will never connect) ends the wait at once. 0 with s open, or
 * a verdict and 1. */
static int accept_conn_q(exec *x, sess *s, const sc_step *st, int quiet)
{
    int64_t dl = step_deadline(x, st);
    char err[512];
    for (;;) {
        if (*x->stop)
            return run_harness_error(&x->f, st, "%s", "interrupted");
        int exited = cl_proc_poll(&x->proc);
        int64_t slice = nt_deadline(exited ? 200 : 50);
        nt_conn *c = NULL;
        int rc = nt_accept(x->l, &c, slice < dl ? slice : dl, err, sizeof err);
        if (rc == 0) {
            sess_close(s, 0);
            s->c = c;
            if (nt_buffer_init(&s->in, 4096, CL_MAX_LINE)) {
                nt_close(c);
                s->c = NULL;
                return run_harness_error(&x->f, st, "%s", "out of memory");
            }
            s->open = 1;
            s->used = 1;
            s->num = ++x->next_num;
            s->sent = s->trans = s->quit = s->quit_ok = s->closed_by_us = 0;
            s->pipelining = s->apop = s->have_user = s->closed_by_us_tls = 0;
            s->auth_open = s->bad_cert = s->orclose_watch = s->refused = 0;
            if (sess_view(x, s))
                return run_harness_error(&x->f, st, "%s", "out of memory");
            note_s(x, s->num, "client connected");
            if (x->mode == CL_MODE_IMPLICIT) {
                int hr = nt_tls_accept(s->c, x->cert, &s->in, x->deadline);
                if (hr != 0) {
                    char msg[700];
                    snprintf(msg, sizeof msg, "implicit TLS handshake failed: %s", nt_errmsg(s->c));
                    note_s(x, s->num, msg);
                    s->closed_by_us = 1;
                    sess_close(s, 1);
                    if (x->cert != x->e->tls_good)
                        return 1; /* the client refused a bad certificate: judged later */
                    return run_judge(&x->f, st, SC_V_ERROR, "a TLS handshake (RFC 8314)", msg, "%s",
                                     msg);
                }
                note_s(x, s->num, "TLS (implicit, RFC 8314)");
                /* Some clients check the certificate after the handshake
                 * and then close: a refusal, not a failed write. */
                s->bad_cert = x->cert != x->e->tls_good;
            }
            return 0;
        }
        if (rc == NT_ERR)
            return run_harness_error(&x->f, st, "accept: %s", err);
        if (quiet && (exited || nt_now_ms() >= dl))
            return 1;
        if (exited) {
            char how[128];
            cl_proc_describe(&x->proc, how, sizeof how);
            note(x, "the client ended (%s) without connecting", how);
            return run_judge(&x->f, st, sc_step_verdict(x->s, st), "a connection from the client",
                             how, "the client ended (%s) without connecting", how);
        }
        if (nt_now_ms() >= dl) {
            note(x, "no connection from the client");
            return run_judge(&x->f, st, sc_step_verdict(x->s, st), "a connection from the client",
                             "nothing", "the client did not connect within %u ms",
                             (unsigned)(dl - x->t0 > 0 ? dl - x->t0 : 0));
        }
    }
}

static int accept_conn(exec *x, sess *s, const sc_step *st)
{
    return accept_conn_q(x, s, st, 0);
}

/* The client closed s where that is its safe answer to us (a certificate
 * it must refuse, checked after the implicit-TLS handshake; injected
 * octets after STLS with @starttls or-close): 1 after noting it, with s
 * closed and not judged; 0 when the close is an ordinary one. */
static int refusal(exec *x, sess *s)
{
    if (!s->bad_cert && !s->orclose_watch)
        return 0;
    note_s(x, s->num, s->bad_cert
                          ? "the client closed the connection after the TLS handshake without a "
                            "command: it refused the certificate"
                          : "the client closed the connection after the TLS handshake without a "
                            "command (allowed by @starttls or-close); the scenario ends here");
    if (s->orclose_watch)
        x->ended_early = 1;
    s->bad_cert = s->orclose_watch = 0;
    s->refused = s->closed_by_us = s->closed_by_us_tls = 1;
    sess_close(s, 1);
    return 1;
}

/* Write with the step's @split / delay. 0, or 1 after a verdict. */
static int write_split(exec *x, sess *s, const sc_step *st, const char *p, size_t n)
{
    int64_t dl = x->deadline;
    int rc = 0;
    if (st && (st->flags & SC_F_BYTEWISE)) {
        rc = nt_write_chunked(s->c, p, n, 1, (int)st->delay_ms, dl);
    } else if (st && st->nsplit) {
        size_t off = 0;
        for (unsigned i = 0; i < st->nsplit && off < n && rc == 0; i++) {
            size_t k = st->split[i] < n - off ? st->split[i] : n - off;
            rc = nt_write_all(s->c, p + off, k, dl);
            off += k;
            if (off < n && st->delay_ms)
                run_io_sleep_ms(st->delay_ms, NULL);
        }
        if (rc == 0 && off < n)
            rc = nt_write_all(s->c, p + off, n - off, dl);
    } else {
        rc = nt_write_all(s->c, p, n, dl);
    }
    s->sent = 1;
    if (rc == 0)
        return 0;
    if (refusal(x, s))
        return 1;
    note_s(x, s->num, rc == NT_TIMEOUT ? "write timed out: the client does not read"
                                       : "write failed: the client closed the connection");
    sess_close(s, 1);
    if (!st)
        return 1;
    return run_judge(&x->f, st, sc_step_verdict(x->s, st), "the client to read our answer",
                     rc == NT_TIMEOUT ? "write timed out" : "connection closed",
                     "the client %s while we were sending",
                     rc == NT_TIMEOUT ? "stopped reading" : "closed the connection");
}

/* One line we send (CRLF added). */
static int send_line(exec *x, sess *s, const char *text)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s\r\n", text);
    if (n < 0 || (size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    record(x, s, 'S', buf, (size_t)n);
    if (!s->sent && strstr(text, x->ts))
        s->apop = 1;
    return write_split(x, s, NULL, buf, (size_t)n);
}

static int send_greeting(exec *x, sess *s)
{
    char g[160];
    snprintf(g, sizeof g, "+OK pop3spec ready %s", x->ts);
    return send_line(x, s, g);
}

/* One line from the client: 1 (*len includes the LF), 2 (partial line,
 * then end of stream), 0 (end of stream), NT_TIMEOUT, NT_ERR, NT_FULL. */
static int read_line(sess *s, int64_t dl, size_t *len)
{
    return run_io_read_line(&s->in, s->c, dl, NULL, len);
}

/* ---- the mailbox as served ----------------------------------------------------- */

/* Dot-stuffed body (all lines, or the header and `lines` body lines),
 * with the terminator unless noend. malloc'd. */
static char *stuffed_body(const char *d, size_t n, int stuff, int end, long lines, size_t *outn)
{
    size_t take = n;
    if (lines >= 0) {
        size_t i = 0;
        int in_body = 0;
        long k = 0;
        while (i < n) {
            const char *lf = memchr(d + i, '\n', n - i);
            size_t e = lf ? (size_t)(lf - d) + 1 : n;
            if (in_body) {
                if (k >= lines)
                    break;
                k++;
            } else if (e - i <= 2 && (d[i] == '\r' || d[i] == '\n')) {
                in_body = 1;
            }
            i = e;
        }
        take = i;
    }
    size_t cap = take * 2 + 8;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    size_t k;
    if (stuff) {
        p3_stuffer st;
        p3_stuff_init(&st);
        size_t used;
        k = p3_stuff(&st, d, take, o, cap, &used);
        if (end)
            k += p3_stuff_end(&st, o + k, cap - k);
    } else {
        memcpy(o, d, take);
        k = take;
        if (end) {
            if (k && o[k - 1] != '\n') {
                memcpy(o + k, "\r\n", 2);
                k += 2;
            }
            memcpy(o + k, ".\r\n", 3);
            k += 3;
        }
    }
    *outn = k;
    return o;
}

/* Record a multi-line answer line by line, the first CL_SHOWN_LINES. */
static void record_body(exec *x, sess *s, const char *b, size_t n)
{
    size_t i = 0, lines = 0;
    while (i < n) {
        const char *lf = memchr(b + i, '\n', n - i);
        size_t e = lf ? (size_t)(lf - b) + 1 : n;
        if (lines < CL_SHOWN_LINES)
            record(x, s, 'S', b + i, e - i);
        lines++;
        i = e;
    }
    if (lines > CL_SHOWN_LINES) {
        char msg[96];
        snprintf(msg, sizeof msg, "(%zu more lines not shown)", lines - CL_SHOWN_LINES);
        note_s(x, s->num, msg);
    }
}

static const cl_fixture *find_fixture(const cl_env *e, const char *name)
{
    for (size_t i = 0; i < e->nfix; i++)
        if (!strcmp(e->fix[i].name, name))
            return &e->fix[i];
    return NULL;
}

/* ---- the default responder ----------------------------------------------------- */

/* Decode base64 (a SASL response) into out[800]: its length, or -1. */
static int b64_decode(const char *b64, size_t n, unsigned char out[800])
{
    if (n == 0 || n > 1024 || n % 4)
        return -1;
    int k = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (k < 0)
        return -1;
    if (b64[n - 1] == '=')
        k--;
    if (n > 1 && b64[n - 2] == '=')
        k--;
    return k;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd, base64 (RFC 5034). */
static int plain_ok(exec *x, const char *b64, size_t n)
{
    unsigned char out[800];
    int k = b64_decode(b64, n, out);
    if (k < 0)
        return 0;
    const char *p = (const char *)out;
    const char *z1 = memchr(p, 0, (size_t)k);
    if (!z1)
        return 0;
    const char *u = z1 + 1;
    const char *z2 = memchr(u, 0, (size_t)k - (size_t)(u - p));
    if (!z2)
        return 0;
    const char *pw = z2 + 1;
    size_t pwn = (size_t)k - (size_t)(pw - p);
    int ok = (size_t)(z2 - u) == strlen(x->e->user) && !memcmp(u, x->e->user, strlen(x->e->user)) &&
             pwn == strlen(x->e->pass) && !memcmp(pw, x->e->pass, pwn);
    memset(out, 0, sizeof out);
    return ok;
}

static void uid_of(exec *x, size_t idx, char *out, size_t cap)
{
    snprintf(out, cap, "p3s-%zu-%.50s", idx + 1, x->msgs[idx]->name);
}

/* Message number arg -> index into the view, or -1 with an -ERR sent. */
static long msg_arg(exec *x, sess *s, const p3_cmd *cmd, unsigned i)
{
    uint32_t n = cmd->num[i];
    if (n == 0 || n > s->nview) {
        send_line(x, s, "-ERR no such message");
        return -1;
    }
    if (s->del[n - 1]) {
        send_line(x, s, "-ERR message deleted");
        return -1;
    }
    return (long)n - 1;
}

static void commit_quit(exec *x, sess *s)
{
    s->quit_ok = 1;
    if (!s->trans)
        return;
    for (size_t i = 0; i < s->nview; i++)
        if (s->del[i]) {
            x->gone[s->view[i]] = 1;
            char msg[160];
            snprintf(msg, sizeof msg, "message %zu (%s) deleted for good (DELE, then QUIT)",
                     i + 1, x->msgs[s->view[i]]->name);
            note_s(x, s->num, msg);
        }
}

static void send_capa(exec *x, sess *s)
{
    if (x->capa_scripted == 2) {
        send_line(x, s, x->capa_err);
        return;
    }
    send_line(x, s, "+OK capability list follows");
    if (x->capa_scripted) {
        /* The scenario's list, as scripted, for the rest of the run; a
         * session already in TLS is not offered STLS again. */
        s->pipelining = 0;
        for (size_t i = 0; i < x->ncapa_lines; i++) {
            const char *l = x->capa_lines[i];
            if (nt_is_tls(s->c) && !strcasecmp(l, "STLS"))
                continue;
            s->pipelining |= !strcasecmp(l, "PIPELINING");
            char b[SC_MAX_LINE + 2];
            snprintf(b, sizeof b, "%s%s", l[0] == '.' ? "." : "", l);
            send_line(x, s, b);
        }
        send_line(x, s, ".");
        return;
    }
    static const char *const base[] = {"TOP", "UIDL", "USER", "RESP-CODES", "PIPELINING",
                                       "SASL PLAIN"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if (s->trans == 0 || strncmp(base[i], "SASL", 4))
            send_line(x, s, base[i]);
    if ((x->mode == CL_MODE_STLS || x->mode == CL_MODE_STLS_OPT) && !nt_is_tls(s->c) && !s->trans)
        send_line(x, s, "STLS");
    send_line(x, s, "IMPLEMENTATION pop3spec");
    send_line(x, s, ".");
    s->pipelining = 1;
}

static int do_tls_accept(exec *x, sess *s, const sc_step *st);

/* Send a SASL challenge and read the client's response line (recorded).
 * 1 with the base64 in out (n octets), 0 when cancelled ("*") or the
 * session ended. */
static int sasl_exchange(exec *x, sess *s, const char *challenge, char *out, size_t cap,
                         size_t *n)
{
    if (send_line(x, s, challenge))
        return 0;
    size_t len;
    int rc = read_line(s, x->deadline, &len);
    if (rc != 1) {
        note_s(x, s->num, "no AUTH response from the client");
        return 0;
    }
    const char *l = nt_buffer_data(&s->in);
    record(x, s, 'C', l, len);
    size_t k = len;
    while (k && (l[k - 1] == '\n' || l[k - 1] == '\r'))
        k--;
    int ok = !(k == 1 && l[0] == '*') && k < cap;
    if (ok) {
        memcpy(out, l, k);
        *n = k;
    }
    nt_buffer_consume(&s->in, len);
    return ok;
}

/* AUTH LOGIN (not standardised, widely used): base64 user name and
 * password, each after its own challenge, or the user name as an initial
 * response. Accepted so that a scripted CAPA offering "SASL LOGIN" holds
 * on the connections the script does not cover. */
static int login_ok(exec *x, sess *s, const p3_cmd *cmd)
{
    char b[1100];
    size_t bn = 0;
    unsigned char u[800], p[800];
    int un, pn;
    if (cmd->nargs == 2) {
        if (cmd->args[1].n >= sizeof b)
            return 0;
        memcpy(b, cmd->args[1].p, cmd->args[1].n);
        bn = cmd->args[1].n;
    } else if (!sasl_exchange(x, s, "+ VXNlcm5hbWU6", b, sizeof b, &bn)) { /* "Username:" */
        return 0;
    }
    if ((un = b64_decode(b, bn, u)) < 0)
        return 0;
    if (!sasl_exchange(x, s, "+ UGFzc3dvcmQ6", b, sizeof b, &bn)) /* "Password:" */
        return 0;
    pn = b64_decode(b, bn, p);
    int ok = pn >= 0 && (size_t)un == strlen(x->e->user) && !memcmp(u, x->e->user, (size_t)un) &&
             (size_t)pn == strlen(x->e->pass) && !memcmp(p, x->e->pass, (size_t)pn);
    memset(p, 0, sizeof p);
    memset(b, 0, sizeof b);
    return ok;
}

/* Answer one command as a correct POP3 server over the scenario's mailbox
 * (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH PLAIN). */
static void respond(exec *x, sess *s, const p3_cmd *cmd, int parsed)
{
    char buf[256];
    if (!parsed) {
        send_line(x, s, "-ERR syntax error");
        return;
    }
    switch (cmd->kind) {
    case P3_CMD_CAPA:
        send_capa(x, s);
        return;
    case P3_CMD_QUIT:
        send_line(x, s, "+OK pop3spec signing off");
        commit_quit(x, s);
        s->closed_by_us = 1;
        sess_close(s, 0);
        note_s(x, s->num, "connection closed after QUIT");
        return;
    case P3_CMD_NOOP:
        send_line(x, s, s->trans ? "+OK" : "-ERR not in the TRANSACTION state");
        return;
    default:
        break;
    }
    if (!s->trans) {
        switch (cmd->kind) {
        case P3_CMD_USER:
            snprintf(s->user, sizeof s->user, "%.*s", (int)cmd->args[0].n, cmd->args[0].p);
            s->have_user = 1;
            send_line(x, s, "+OK send PASS");
            return;
        case P3_CMD_PASS: {
            int ok = s->have_user && !strcmp(s->user, x->e->user) &&
                     cmd->rest.n == strlen(x->e->pass) &&
                     !memcmp(cmd->rest.p, x->e->pass, cmd->rest.n);
            s->have_user = 0;
            if (ok) {
                s->trans = 1;
                snprintf(buf, sizeof buf, "+OK maildrop has %zu messages", s->nview);
                send_line(x, s, buf);
            } else {
                send_line(x, s, "-ERR [AUTH] invalid user name or password");
            }
            return;
        }
        case P3_CMD_APOP: {
            char want[33];
            run_md5_hex(x->ts, strlen(x->ts), x->e->pass, strlen(x->e->pass), want);
            int ok = s->apop && cmd->args[0].n == strlen(x->e->user) &&
                     !memcmp(cmd->args[0].p, x->e->user, cmd->args[0].n) && cmd->args[1].n == 32 &&
                     !strncasecmp(cmd->args[1].p, want, 32);
            if (ok) {
                s->trans = 1;
                snprintf(buf, sizeof buf, "+OK maildrop has %zu messages", s->nview);
                send_line(x, s, buf);
            } else {
                send_line(x, s, s->apop ? "-ERR [AUTH] authentication failed"
                                        : "-ERR APOP not offered (no timestamp in the greeting)");
            }
            return;
        }
        case P3_CMD_AUTH: {
            if (cmd->nargs == 0) {
                send_line(x, s, "+OK");
                send_line(x, s, "PLAIN");
                send_line(x, s, ".");
                return;
            }
            int login = cmd->args[0].n == 5 && !strncasecmp(cmd->args[0].p, "LOGIN", 5);
            if (!login && (cmd->args[0].n != 5 || strncasecmp(cmd->args[0].p, "PLAIN", 5))) {
                send_line(x, s, "-ERR unsupported mechanism");
                return;
            }
            int ok;
            char b[1100];
            size_t bn = 0;
            if (login)
                ok = login_ok(x, s, cmd);
            else if (cmd->nargs == 2)
                ok = plain_ok(x, cmd->args[1].p, cmd->args[1].n);
            else
                ok = sasl_exchange(x, s, "+ ", b, sizeof b, &bn) && plain_ok(x, b, bn);
            memset(b, 0, sizeof b);
            if (!s->open)
                return;
            if (ok) {
                s->trans = 1;
                send_line(x, s, "+OK authenticated");
            } else {
                send_line(x, s, "-ERR [AUTH] authentication failed");
            }
            return;
        }
        case P3_CMD_STLS:
            /* Accepted in every mode but implicit TLS: only announcing it
             * depends on the mode, so a scripted CAPA may offer it. */
            if (x->mode != CL_MODE_IMPLICIT && !nt_is_tls(s->c)) {
                if (send_line(x, s, "+OK begin TLS negotiation"))
                    return;
                do_tls_accept(x, s, NULL);
            } else {
                send_line(x, s, nt_is_tls(s->c) ? "-ERR already in TLS" : "-ERR STLS not offered");
            }
            return;
        default:
            send_line(x, s, "-ERR not in the TRANSACTION state");
            return;
        }
    }
    long m;
    switch (cmd->kind) {
    case P3_CMD_STAT:
    case P3_CMD_LIST:
    case P3_CMD_UIDL: {
        size_t cnt = 0, oct = 0;
        for (size_t i = 0; i < s->nview; i++)
            if (!s->del[i])
                cnt++, oct += x->msgs[s->view[i]]->len;
        if (cmd->kind == P3_CMD_STAT) {
            snprintf(buf, sizeof buf, "+OK %zu %zu", cnt, oct);
            send_line(x, s, buf);
            return;
        }
        char uid[80];
        if (cmd->nargs == 1) {
            if ((m = msg_arg(x, s, cmd, 0)) < 0)
                return;
            if (cmd->kind == P3_CMD_LIST) {
                snprintf(buf, sizeof buf, "+OK %ld %zu", m + 1, x->msgs[s->view[m]]->len);
            } else {
                uid_of(x, s->view[m], uid, sizeof uid);
                snprintf(buf, sizeof buf, "+OK %ld %s", m + 1, uid);
            }
            send_line(x, s, buf);
            return;
        }
        snprintf(buf, sizeof buf, "+OK %zu messages (%zu octets)", cnt, oct);
        send_line(x, s, buf);
        for (size_t i = 0; i < s->nview; i++) {
            if (s->del[i])
                continue;
            if (cmd->kind == P3_CMD_LIST) {
                snprintf(buf, sizeof buf, "%zu %zu", i + 1, x->msgs[s->view[i]]->len);
            } else {
                uid_of(x, s->view[i], uid, sizeof uid);
                snprintf(buf, sizeof buf, "%zu %s", i + 1, uid);
            }
            send_line(x, s, buf);
        }
        send_line(x, s, ".");
        return;
    }
    case P3_CMD_RETR:
    case P3_CMD_TOP: {
        if ((m = msg_arg(x, s, cmd, 0)) < 0)
            return;
        const cl_fixture *f = x->msgs[s->view[m]];
        snprintf(buf, sizeof buf, "+OK %zu octets", f->len);
        if (send_line(x, s, buf))
            return;
        size_t bn;
        char *b = stuffed_body(f->data, f->len, 1, 1,
                               cmd->kind == P3_CMD_TOP ? (long)cmd->num[1] : -1, &bn);
        if (!b)
            return;
        record_body(x, s, b, bn);
        write_split(x, s, NULL, b, bn);
        free(b);
        return;
    }
    case P3_CMD_DELE:
        if ((m = msg_arg(x, s, cmd, 0)) < 0)
            return;
        s->del[m] = 1;
        snprintf(buf, sizeof buf, "+OK message %ld deleted", m + 1);
        send_line(x, s, buf);
        return;
    case P3_CMD_RSET:
        memset(s->del, 0, s->nview);
        send_line(x, s, "+OK");
        return;
    default:
        send_line(x, s, "-ERR unknown command or not valid in this state");
        return;
    }
}

/* ---- judging command lines ------------------------------------------------------ */

static const char *const RFC2449_PIPE =
    "The PIPELINING capability indicates the server is capable of accepting multiple commands "
    "at a time; the client does not have to wait for the response to a command before issuing "
    "a subsequent command.";

/* Findings that hold for every command line, whoever answers it. Returns
 * whether the line parsed (cmd filled). */
static int check_command(exec *x, sess *s, const char *line, size_t len, p3_cmd *cmd)
{
    char got[400];
    run_show(got, sizeof got, line, len, RUN_SHOW_TRIM_ALL);
    s->bad_cert = s->orclose_watch = 0; /* it went on: no refusal */
    if (x->ncmds < CL_MAX_CMDS) {
        size_t k = len;
        while (k && (line[k - 1] == '\n' || line[k - 1] == '\r'))
            k--;
        x->cmds[x->ncmds] = strndup(line, k);
        if (x->cmds[x->ncmds])
            x->ncmds++;
    }
    if (s->quit && !x->f_after_quit) {
        x->f_after_quit = 1;
        run_judge(
            &x->f, NULL, SC_V_WARN, "nothing after QUIT", got,
            "the client sent a command after QUIT (RFC 1939 section 6: QUIT ends the session)");
    }
    /* Pipelining: octets of a further line were already here before we
     * answered this one. */
    if (nt_buffer_len(&s->in) > len && !s->pipelining && !x->f_pipe) {
        x->f_pipe = 1;
        note_s(x, s->num, "the next command arrived before this one was answered (pipelining)");
        run_judge(&x->f, NULL, SC_V_WARN, "one command at a time (PIPELINING was not announced)",
                  got,
                  "the client pipelined commands although the server did not announce PIPELINING "
                  "(RFC 2449 section 6.6: \"%s\")",
                  RFC2449_PIPE);
    }
    p3_diag d;
    memset(cmd, 0, sizeof *cmd);
    ssize_t r = p3_cmd_parse(line, len, 0, cmd, &d);
    if (r < 0) {
        /* RFC 5034 allows an AUTH initial response, and RFC 1939 a
         * password, longer than the 40-octet argument limit. */
        p3_cmd c2;
        ssize_t r2 = p3_cmd_parse(line, len, P3_LENIENT_LONG_ARG, &c2, &d);
        if (r2 > 0 && (c2.kind == P3_CMD_AUTH || c2.kind == P3_CMD_PASS)) {
            *cmd = c2;
            r = r2;
        } else {
            p3_cmd_parse(line, len, 0, cmd, &d);
        }
    }
    if (r < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "malformed command line: %s", p3_errno_msg(d.code));
        note_s(x, s->num, msg);
        if (!x->f_syntax) {
            x->f_syntax = 1;
            run_judge(&x->f, NULL, SC_V_FAIL,
                      "a command line as RFC 1939 section 3 and RFC 2449 section 4 "
                      "define it (keyword of 3-4 characters, arguments of at most 40, at most 255 "
                      "octets with CRLF)",
                      got, "%s (RFC 1939 section 3; RFC 2449 section 4)", msg);
        }
        return 0;
    }
    /* Which commands each state allows (RFC 1939 sections 4-6). */
    int auth_only = cmd->kind == P3_CMD_USER || cmd->kind == P3_CMD_PASS ||
                    cmd->kind == P3_CMD_APOP || cmd->kind == P3_CMD_AUTH || cmd->kind == P3_CMD_STLS;
    int trans_only = cmd->kind == P3_CMD_STAT || cmd->kind == P3_CMD_LIST ||
                     cmd->kind == P3_CMD_RETR || cmd->kind == P3_CMD_DELE ||
                     cmd->kind == P3_CMD_RSET || cmd->kind == P3_CMD_TOP ||
                     cmd->kind == P3_CMD_UIDL || cmd->kind == P3_CMD_NOOP;
    if (!s->quit && ((auth_only && s->trans) || (trans_only && !s->trans)) && !x->f_state) {
        x->f_state = 1;
        run_judge(&x->f, NULL, SC_V_WARN, "commands valid in the current state", got,
                  "%s sent in the %s state, where it is not valid (RFC 1939 sections 4-6)",
                  p3_cmd_keyword(cmd->kind), s->trans ? "TRANSACTION" : "AUTHORIZATION");
    }
    /* A client told to require STLS must not authenticate in clear. */
    if ((x->mode == CL_MODE_STLS) && !nt_is_tls(s->c) &&
        (cmd->kind == P3_CMD_USER || cmd->kind == P3_CMD_PASS || cmd->kind == P3_CMD_APOP ||
         cmd->kind == P3_CMD_AUTH) && !x->f_clear) {
        x->f_clear = 1;
        run_judge(
            &x->f, NULL, SC_V_FAIL, "STLS before any credentials", got,
            "the client, configured to require TLS, sent %s before STLS (RFC 8314 section 5.1; "
            "RFC 2595 section 2.2)",
            p3_cmd_keyword(cmd->kind));
    }
    if (cmd->kind == P3_CMD_QUIT)
        s->quit = 1;
    return 1;
}

/* A client line inside an open AUTH exchange: a SASL response (base64,
 * empty, or "*"), never a command (RFC 5034 section 4). Not kept for
 * @expect-no-command: it is not a command, and it carries credentials.
 * Returns whether it parsed (sl filled). */
static int check_sasl(exec *x, sess *s, const char *line, size_t len, p3_sasl_line *sl)
{
    p3_diag d;
    memset(sl, 0, sizeof *sl);
    s->bad_cert = s->orclose_watch = 0;
    if (p3_sasl_line_parse(line, len, 0, sl, &d) >= 0)
        return 1;
    char msg[300];
    snprintf(msg, sizeof msg, "malformed SASL response line: %s", p3_errno_msg(d.code));
    note_s(x, s->num, msg);
    if (!x->f_syntax) {
        x->f_syntax = 1;
        run_judge(&x->f, NULL, SC_V_FAIL, "a base64 line or \"*\" (RFC 5034 section 4)",
                  "<redacted>",
                  "%s (RFC 5034 section 4: a client response consists of a line containing a "
                  "string encoded as Base64, or \"*\" to cancel)",
                  msg);
    }
    return 0;
}

/* The default responder's end of an AUTH exchange the script opened but
 * does not finish: "*" cancels, valid PLAIN credentials log in, anything
 * else fails (RFC 5034 section 4). */
static void respond_sasl(exec *x, sess *s, const p3_sasl_line *sl, int parsed)
{
    s->auth_open = 0;
    x->answer_pending = 0;
    if (parsed && sl->cancel) {
        send_line(x, s, "-ERR [AUTH] authentication cancelled");
    } else if (parsed && plain_ok(x, sl->data.p, sl->data.n)) {
        s->trans = 1;
        send_line(x, s, "+OK authenticated");
    } else {
        send_line(x, s, "-ERR [AUTH] authentication failed");
    }
}

/* Read and handle client lines until one matches st's pattern (1 with
 * captures stored), or the session ends (0: verdict given when st). With
 * st NULL: serve until the session ends. */
static int serve_until(exec *x, sess *s, const sc_step *st)
{
    for (;;) {
        if (*x->stop)
            return run_harness_error(&x->f, st, "%s", "interrupted"), 0;
        if (!s->open && st && !x->strict && !s->closed_by_us_tls && !s->refused) {
            /* Clients such as curl use one connection per message: the
             * script goes on with the client's next connection. */
            int k = -1;
            for (int i = 0; i < CL_MAX_SESS && k < 0; i++)
                if (!x->ss[i].used)
                    k = i;
            if (k >= 0 && accept_conn_q(x, &x->ss[k], st, 1) == 0) {
                x->cur = k;
                s = &x->ss[k];
                if (s->open)
                    send_greeting(x, s); /* a failed write closes s: looped over */
                continue;
            }
        }
        if (!s->open) {
            if (st && !s->refused)
                run_judge(&x->f, st, sc_step_verdict(x->s, st), st->pat.src, "connection closed",
                          "the session ended before the client sent a command matching \"%s\"",
                          st->pat.src);
            return 0;
        }
        size_t len;
        int rc = read_line(s, step_deadline(x, st), &len);
        if (rc != 1) {
            char got[300] = "";
            if (rc == NT_FULL) {
                run_show(got, 120, nt_buffer_data(&s->in), nt_buffer_len(&s->in),
                         RUN_SHOW_TRIM_ALL);
                note_s(x, s->num, "no line end within the receive bound: connection cut off");
                run_judge(
                    &x->f, st, SC_V_FAIL, "a command line of at most 255 octets", got,
                    "the client sent %d octets without a line end (RFC 2449 section 4: at most "
                    "255 octets per command line)",
                    CL_MAX_LINE);
                s->closed_by_us = 1;
                sess_close(s, 1);
                return 0;
            }
            if ((rc == 0 || rc == NT_ERR) && refusal(x, s))
                return 0;
            if (rc == 2) {
                record(x, s, 'C', nt_buffer_data(&s->in), nt_buffer_len(&s->in));
                note_s(x, s->num, "the client closed the connection in the middle of a line");
            } else if (rc == 0) {
                note_s(x, s->num, "the client closed the connection");
            } else if (rc == NT_TIMEOUT) {
                note_s(x, s->num, "nothing from the client before the timeout");
            } else {
                note_s(x, s->num, nt_errmsg(s->c));
            }
            sess_close(s, rc == NT_TIMEOUT);
            if (st) {
                const char *what = rc == NT_TIMEOUT ? "nothing before the timeout"
                                   : rc == 2       ? "a partial line, then the connection closed"
                                   : rc == 0       ? "connection closed"
                                                   : "network error";
                run_judge(&x->f, st, sc_step_verdict(x->s, st), st->pat.src, what,
                          "waiting for a command matching \"%s\": %s", st->pat.src, what);
            }
            return 0;
        }
        const char *line = nt_buffer_data(&s->in);
        record(x, s, 'C', line, len);
        p3_cmd cmd;
        p3_sasl_line sl;
        int in_auth = s->auth_open;
        int parsed = in_auth ? check_sasl(x, s, line, len, &sl) : check_command(x, s, line, len, &cmd);
        if (st) {
            sc_capture caps[SC_MAX_CAPTURES];
            size_t nc = 0;
            sc_error err;
            x->f.vars.miss = 0;
            int m;
            if (in_auth) {
                /* base64 is case-sensitive: no keyword folding */
                size_t k = len;
                while (k && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                    k--;
                m = sc_match(&st->pat, line, k, 0, run_vars_lookup, &x->f.vars, caps,
                             SC_MAX_CAPTURES, &nc, &err);
            } else {
                m = sc_expect_command(st, line, len, run_vars_lookup, &x->f.vars, caps,
                                      SC_MAX_CAPTURES, &nc, &err);
            }
            if (m < 0) {
                nt_buffer_consume(&s->in, len);
                return run_judge(&x->f, st, x->f.vars.miss ? sc_step_verdict(x->s, st) : SC_V_ERROR,
                                 NULL, NULL, "%s:%u: %s", x->s->path, st->loc.line, err.msg),
                       0;
            }
            if (m == 1) {
                for (size_t i = 0; i < nc; i++)
                    run_vars_set(&x->f.vars, caps[i].name, caps[i].name_len, caps[i].value.p,
                                 caps[i].value.n, 0);
                /* A SASL response keeps the exchange AUTH's: the final
                 * scripted +OK logs in (scripted_answer). */
                x->matched = in_auth ? P3_CMD_AUTH : parsed ? cmd.kind : P3_CMD_UNKNOWN;
                x->matched_num = !in_auth && parsed ? cmd.num[0] : 0;
                x->answer_pending = 1;
                x->capa_listing = 0;
                nt_buffer_consume(&s->in, len);
                return 1;
            }
            if (x->strict) {
                char got[400];
                if (in_auth)
                    snprintf(got, sizeof got, "<redacted SASL response>");
                else
                    run_show(got, sizeof got, line, len, RUN_SHOW_TRIM_ALL);
                nt_buffer_consume(&s->in, len);
                return run_judge(&x->f, st, sc_step_verdict(x->s, st), st->pat.src, got,
                                 "expected a command matching \"%s\" (the scenario is strict)",
                                 st->pat.src),
                       0;
            }
        }
        /* Answered by the default responder: take the line out first, so
         * that a following AUTH response line is read fresh. */
        if (in_auth) {
            char copy[CL_MAX_LINE + 1];
            memcpy(copy, line, len);
            nt_buffer_consume(&s->in, len);
            if (parsed)
                p3_sasl_line_parse(copy, len, 0, &sl, &(p3_diag){0});
            respond_sasl(x, s, &sl, parsed);
            continue;
        }
        char copy[CL_MAX_LINE + 1];
        memcpy(copy, line, len);
        nt_buffer_consume(&s->in, len);
        if (parsed)
            p3_cmd_parse(copy, len, P3_LENIENT_LONG_ARG, &cmd, &(p3_diag){0});
        respond(x, s, &cmd, parsed);
    }
}

static void capa_clear(exec *x)
{
    for (size_t i = 0; i < x->ncapa_lines; i++)
        free(x->capa_lines[i]);
    x->ncapa_lines = 0;
    x->capa_scripted = 0;
}

/* Follow what a scripted answer implies for the session state. */
static void scripted_answer(exec *x, sess *s, const char *text, size_t n, int data_line)
{
    if (x->capa_listing) {
        if (n == 1 && text[0] == '.') {
            x->capa_listing = 0;
            x->capa_scripted = 1;
        } else {
            /* Kept un-stuffed; send_capa stuffs again. */
            const char *t = data_line && n > 1 && text[0] == '.' ? text + 1 : text;
            size_t tn = (size_t)(text + n - t);
            if (n == 10 && !memcmp(text, "PIPELINING", 10))
                s->pipelining = 1;
            if (x->ncapa_lines < CL_MAX_CAPA_LINES) {
                char *l = strndup(t, tn);
                if (l)
                    x->capa_lines[x->ncapa_lines++] = l;
            }
        }
        return;
    }
    if (!x->answer_pending)
        return;
    int ok = n >= 3 && !memcmp(text, "+OK", 3);
    int cont = n >= 1 && text[0] == '+' && !ok;
    if (cont) {
        /* A SASL continuation: the client's next lines are responses
         * (RFC 5034 section 4) until our final +OK or -ERR. */
        if (x->matched == P3_CMD_AUTH)
            s->auth_open = 1;
        return;
    }
    x->answer_pending = 0;
    s->auth_open = 0;
    if (!ok) {
        if (x->matched == P3_CMD_CAPA) {
            /* "-ERR": the server has no CAPA, for the rest of the run. */
            capa_clear(x);
            x->capa_scripted = 2;
            snprintf(x->capa_err, sizeof x->capa_err, "%.*s", (int)n, text);
        }
        return;
    }
    switch (x->matched) {
    case P3_CMD_PASS:
    case P3_CMD_APOP:
    case P3_CMD_AUTH:
        s->trans = 1;
        break;
    case P3_CMD_QUIT:
        commit_quit(x, s);
        break;
    case P3_CMD_DELE:
        if (x->matched_num >= 1 && x->matched_num <= s->nview)
            s->del[x->matched_num - 1] = 1;
        break;
    case P3_CMD_RSET:
        memset(s->del, 0, s->nview);
        break;
    case P3_CMD_CAPA:
        /* The scripted list replaces whatever was announced before, in
         * this session and (send_capa) every later CAPA of the run. */
        s->pipelining = 0;
        x->capa_listing = 1;
        capa_clear(x);
        break;
    default:
        break;
    }
}

/* ---- steps ---------------------------------------------------------------------- */

/* The connection a step needs: the main session's is accepted lazily, so
 * that @tls before it applies to an implicit-TLS handshake. */
static int need_conn(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (s->open)
        return 0;
    if (s->used || x->cur != 0)
        return run_harness_error(&x->f, st, "%s", "no connection on this session (add @connect)");
    /* Without a connection the script cannot go on, even when the verdict
     * for that (an INFO step, a MAY scenario) lets the run continue. */
    int rc = accept_conn(x, s, st);
    return rc ? rc : !s->open;
}

static int do_send(exec *x, const sc_step *st)
{
    if (need_conn(x, st))
        return 1;
    sess *s = &x->ss[x->cur];
    char out[SC_MAX_LINE * 2 + 4];
    size_t n;
    unsigned xf = 0;
    sc_error err;
    x->f.vars.miss = 0;
    size_t off = (st->flags & SC_F_STUFF) && !(st->flags & SC_F_RAW) ? 1 : 0;
    if (sc_expand(st->text, st->text_len, run_vars_lookup, &x->f.vars, out + off,
                  sizeof out - 3 - off, &n, &xf, &err))
        return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path, st->loc.line,
                         err.msg);
    /* S* lines are dot-stuffed (RFC 1939 section 3). */
    if (off && n && out[1] == '.')
        out[0] = '.', n++;
    else if (off)
        memmove(out, out + 1, n);
    scripted_answer(x, s, out, n, (st->flags & SC_F_STUFF) != 0);
    if (!s->sent && memmem(out, n, x->ts, strlen(x->ts)))
        s->apop = 1;
    if (!(st->flags & SC_F_RAW)) {
        out[n++] = '\r';
        out[n++] = '\n';
    }
    if ((st->flags & SC_F_SECRET) || (xf & SC_X_SECRET))
        record(x, s, 'S', "<redacted>\r\n", 12);
    else
        record(x, s, 'S', out, n);
    return write_split(x, s, st, out, n);
}

static int do_fixture(exec *x, const sc_step *st)
{
    if (need_conn(x, st))
        return 1;
    sess *s = &x->ss[x->cur];
    char name[256];
    size_t nn;
    unsigned xf;
    sc_error err;
    if (!st->fixture)
        return run_harness_error(&x->f, st, "%s", "@fixture without a name");
    if (sc_expand(st->fixture, st->text_len, run_vars_lookup, &x->f.vars, name, sizeof name - 1,
                  &nn, &xf, &err))
        return run_judge(&x->f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", x->s->path, st->loc.line,
                         err.msg);
    name[nn] = 0;
    const cl_fixture *f = find_fixture(x->e, name);
    if (!f)
        return run_harness_error(&x->f, st,
                                 "no fixture \"%s\" (scenarios/client/fixtures/NAME.eml)", name);
    size_t bn;
    char *b = stuffed_body(f->data, f->len, !(st->flags & SC_F_NOSTUFF), !(st->flags & SC_F_NOEND),
                           st->has_num ? (long)st->num : -1, &bn);
    if (!b)
        return run_harness_error(&x->f, st, "%s", "out of memory");
    x->answer_pending = 0;
    record_body(x, s, b, bn);
    int rc = write_split(x, s, st, b, bn);
    free(b);
    return rc;
}

static int do_command(exec *x, const sc_step *st)
{
    if (need_conn(x, st))
        return 1;
    sess *s = &x->ss[x->cur];
    if (!s->sent && send_greeting(x, s))
        return s->refused ? 1
                          : run_judge(&x->f, st, sc_step_verdict(x->s, st),
                                      "the client to read the greeting", "connection closed",
                                      "the client closed the connection before the greeting");
    return serve_until(x, s, st) == 1 ? 0 : 1;
}

/* Server side of a TLS handshake on s (STLS answered, or @starttls). With
 * st and SC_F_FAILS the client must refuse our certificate. */
static int do_tls_accept(exec *x, sess *s, const sc_step *st)
{
    size_t pending = nt_buffer_len(&s->in);
    int rc = nt_tls_accept(s->c, x->cert, &s->in, step_deadline(x, st));
    size_t discarded = nt_starttls_discarded(s->c);
    int fails = st && (st->flags & SC_F_FAILS);
    int orclose = st && (st->flags & SC_F_ORCLOSE);
    char msg[700];
    if (rc != 0) {
        snprintf(msg, sizeof msg, "TLS handshake did not complete: %s", nt_errmsg(s->c));
        note_s(x, s->num, msg);
        s->closed_by_us = 1;
        s->closed_by_us_tls = 1;
        sess_close(s, 1);
        if (orclose) {
            /* FORMAT.md @starttls: refusing the handshake (e.g. over
             * octets injected after +OK) is a safe end. */
            note_s(x, s->num, "the client did not complete the TLS handshake (allowed by "
                              "@starttls or-close); the scenario ends here");
            s->refused = 1;
            x->ended_early = 1;
            return 1;
        }
        if (fails || x->cert != x->e->tls_good)
            return fails ? 0 : 1;
        if (!st)
            return run_judge(&x->f, NULL, SC_V_FAIL, "a TLS handshake after +OK to STLS", msg,
                             "the STLS handshake failed: %s", msg);
        return run_judge(&x->f, st, sc_step_verdict(x->s, st), "a TLS handshake", msg, "%s", msg);
    }
    snprintf(msg, sizeof msg, "TLS %s %s (STLS, RFC 2595)", nt_tls_version(s->c),
             nt_tls_cipher(s->c));
    note_s(x, s->num, msg);
    /* RFC 2595 section 4: nothing may follow STLS before the handshake,
     * and capabilities learned before it are void. */
    s->pipelining = 0;
    if (discarded || pending) {
        snprintf(msg, sizeof msg, "%zu plaintext octets followed STLS before the handshake",
                 discarded ? discarded : pending);
        note_s(x, s->num, msg);
        run_judge(&x->f, st, SC_V_FAIL, "nothing between STLS and the TLS handshake", msg,
                  "%s (RFC 2595 section 4: the TLS negotiation begins immediately after the CRLF)",
                  msg);
    }
    s->orclose_watch = orclose;
    if (!fails)
        return 0;
    /* The handshake completed with a certificate the client must not
     * accept. Some clients check after the handshake: closing without a
     * command is still a refusal; any command is the finding. */
    size_t len;
    int r = read_line(s, step_deadline(x, st), &len);
    if (r == 1 || r == 2) {
        char got[400];
        run_show(got, sizeof got, nt_buffer_data(&s->in), len, RUN_SHOW_TRIM_ALL);
        record(x, s, 'C', nt_buffer_data(&s->in), len);
        p3_cmd cmd;
        check_command(x, s, nt_buffer_data(&s->in), len, &cmd);
        s->closed_by_us = 1;
        sess_close(s, 1);
        return run_judge(
            &x->f, st, sc_step_verdict(x->s, st), "the client to refuse the certificate", got,
            "the client accepted an untrusted certificate and went on with \"%s\"", got);
    }
    note_s(x, s->num, "the client completed the handshake, then closed without a command");
    s->closed_by_us = 1;
    sess_close(s, 1);
    return 0;
}

static int do_starttls(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return run_harness_error(&x->f, st, "%s", "@starttls on a session that is not connected");
    return do_tls_accept(x, s, st);
}

static int do_expect_close(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return 0;
    int64_t dl = st->delay_ms ? nt_deadline(st->delay_ms) : x->deadline;
    if (dl > x->deadline)
        dl = x->deadline;
    for (;;) {
        size_t n = nt_buffer_len(&s->in);
        if (n) {
            char got[300];
            run_show(got, sizeof got, nt_buffer_data(&s->in), n, RUN_SHOW_TRIM_ALL);
            record(x, s, 'C', nt_buffer_data(&s->in), n);
            nt_buffer_clear(&s->in);
            return run_judge(&x->f, st, sc_step_verdict(x->s, st),
                             "the client to close the connection", got,
                             "data arrived where the client should close the connection");
        }
        ssize_t r = nt_buffer_fill(&s->in, s->c, dl);
        if (r > 0)
            continue;
        if (r == 0 || r == NT_ERR) {
            note_s(x, s->num, "the client closed the connection");
            sess_close(s, 0);
            return 0;
        }
        return run_judge(&x->f, st, sc_step_verdict(x->s, st), "the client to close the connection",
                         "still open", "the client did not close the connection");
    }
}

static int do_expect_silence(exec *x, const sc_step *st)
{
    sess *s = &x->ss[x->cur];
    if (!s->open)
        return run_harness_error(&x->f, st, "%s", "@expect-silence on a closed session");
    int64_t dl = nt_deadline(st->delay_ms);
    if (nt_buffer_len(&s->in) == 0) {
        ssize_t r = nt_buffer_fill(&s->in, s->c, dl);
        if (r == NT_TIMEOUT)
            return 0;
        if (r == 0)
            return run_judge(&x->f, st, sc_step_verdict(x->s, st), "silence", "connection closed",
                             "the client closed the connection");
    }
    char got[300];
    run_show(got, sizeof got, nt_buffer_data(&s->in), nt_buffer_len(&s->in), RUN_SHOW_TRIM_ALL);
    record(x, s, 'C', nt_buffer_data(&s->in), nt_buffer_len(&s->in));
    nt_buffer_clear(&s->in);
    return run_judge(&x->f, st, sc_step_verdict(x->s, st), "nothing from the client", got,
                     "the client sent something");
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
        case SC_STEP_FIXTURE:
            stop = do_fixture(x, st);
            break;
        case SC_STEP_COMMAND:
            stop = do_command(x, st);
            break;
        case SC_STEP_DELAY: run_io_sleep_ms(st->delay_ms, NULL); break;
        case SC_STEP_SESSION:
            for (size_t i = 0; i < s->nsessions && i < CL_MAX_SESS; i++)
                if (!strcmp(s->sessions[i], st->name))
                    x->cur = (int)i;
            break;
        case SC_STEP_CONNECT:
            stop = accept_conn(x, &x->ss[x->cur], st);
            break;
        case SC_STEP_DROP:
            if (!need_conn(x, st)) {
                note(x, "connection dropped by pop3spec (TCP reset)");
                x->ss[x->cur].closed_by_us = 1;
                sess_close(&x->ss[x->cur], 1);
            }
            break;
        case SC_STEP_CLOSE:
            if (!need_conn(x, st)) {
                note(x, "connection closed by pop3spec");
                x->ss[x->cur].closed_by_us = 1;
                sess_close(&x->ss[x->cur], 0);
            }
            break;
        case SC_STEP_EXPECT_CLOSE:
            stop = need_conn(x, st) || do_expect_close(x, st);
            break;
        case SC_STEP_EXPECT_SILENCE:
            stop = need_conn(x, st) || do_expect_silence(x, st);
            break;
        case SC_STEP_STARTTLS:
            stop = do_starttls(x, st);
            break;
        case SC_STEP_TLS:
            x->cert = !strcmp(st->name, "unknown-ca")   ? x->e->tls_unknown
                      : !strcmp(st->name, "wrong-host") ? x->e->tls_wrong
                                                        : x->e->tls_good;
            break;
        case SC_STEP_ASSERT:
        case SC_STEP_FOREACH:
        case SC_STEP_END: stop = run_flow_step(&x->f, st, &pc, RUN_ASSERT_EXPECT_LHS); break;
        case SC_STEP_EXPECT_EXIT:
        case SC_STEP_EXPECT_STORED:
        case SC_STEP_EXPECT_NO_COMMAND:
        case SC_STEP_EXPECT_QUIT:
            break; /* judged when the run ends */
        default:
            stop = run_harness_error(&x->f, st, "step %s is for server scenarios",
                                     sc_step_kind_name(st->kind));
            break;
        }
        if (stop)
            return;
    }
}

/* After the script: keep serving until the client quits, closes, exits,
 * or the deadline; accept its further connections meanwhile. */
static void serve_rest(exec *x)
{
    sess *s = &x->ss[x->cur];
    if (s->open) {
        if (s->quit_ok) {
            /* The script answered QUIT; a server closes then. */
            s->closed_by_us = 1;
            sess_close(s, 0);
            note_s(x, s->num, "connection closed after QUIT");
        } else {
            if (!s->sent)
                send_greeting(x, s);
            serve_until(x, s, NULL);
        }
    }
    for (int guard = 0; guard < 64 && !*x->stop; guard++) {
        if (nt_now_ms() >= x->deadline)
            return;
        /* Find a free session slot for a further connection. */
        int k = -1;
        for (int i = 0; i < CL_MAX_SESS && k < 0; i++)
            if (!x->ss[i].used)
                k = i;
        int exited = cl_proc_poll(&x->proc);
        nt_conn *c = NULL;
        char err[256];
        int64_t dl = nt_deadline(exited ? 100 : 50);
        if (nt_accept(x->l, &c, dl < x->deadline ? dl : x->deadline, err, sizeof err) != 0) {
            if (exited)
                return;
            guard--; /* waiting is not a connection */
            continue;
        }
        if (k < 0) {
            nt_close(c);
            continue;
        }
        /* Hand it to accept_conn's bookkeeping via a pre-accepted conn. */
        sess *n = &x->ss[k];
        n->c = c;
        if (nt_buffer_init(&n->in, 4096, CL_MAX_LINE)) {
            nt_close(c);
            n->c = NULL;
            return;
        }
        n->open = n->used = 1;
        n->num = ++x->next_num;
        if (sess_view(x, n))
            return;
        x->cur = k;
        note_s(x, n->num, "client connected again");
        if (x->mode == CL_MODE_IMPLICIT && nt_tls_accept(n->c, x->cert, &n->in, x->deadline)) {
            note_s(x, n->num, nt_errmsg(n->c));
            n->closed_by_us = 1;
            sess_close(n, 1);
            continue;
        }
        n->bad_cert = x->mode == CL_MODE_IMPLICIT && x->cert != x->e->tls_good;
        send_greeting(x, n);
        serve_until(x, n, NULL);
    }
}

/* ---- the client ------------------------------------------------------------------ */

/* Replace {name} placeholders; unknown {...} stay literal (shell syntax). */
static int expand_cmd(exec *x, const char *t, char *out, size_t cap, char *err, size_t errlen)
{
    const cl_profile *p = x->e->prof;
    char port[16], profdir[1024];
    snprintf(port, sizeof port, "%u", nt_listener_port(x->l));
    /* Absolute: the client runs in its own work folder. */
    char *abs = p->path ? realpath(p->path, NULL) : NULL;
    snprintf(profdir, sizeof profdir, "%s", abs ? abs : p->path ? p->path : ".");
    free(abs);
    char *sl = strrchr(profdir, '/');
    if (sl)
        *sl = 0;
    else
        snprintf(profdir, sizeof profdir, ".");
    char cafile[1024];
    snprintf(cafile, sizeof cafile, "%s/ca.pem", x->e->certdir);
    const char *action = x->s->action ? x->s->action : "fetch";
    const char *aflags = cl_profile_action(p, action);
    int apop = 0;
    for (size_t i = 0; i < x->s->nrequires; i++)
        apop |= x->s->requires[i].kind == SC_REQ_CAPA && !strcmp(x->s->requires[i].name, "APOP");
    const char *keys[] = {"host",    "port",   "user",   "passfile",     "cafile", "outdir",
                          "workdir", "action", "action-flags", "auth",   "profiledir", "mode"};
    const char *vals[] = {"127.0.0.1", port,       x->e->user, x->passfile,
                          cafile,      x->out,     x->home,    action,
                          aflags ? aflags : "", apop ? "apop" : "default", profdir,
                          cl_mode_name(x->mode)};
    size_t o = 0;
    for (size_t i = 0; t[i];) {
        int done = 0;
        if (t[i] == '{') {
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                size_t kn = strlen(keys[k]);
                if (!strncmp(t + i + 1, keys[k], kn) && t[i + 1 + kn] == '}') {
                    size_t vn = strlen(vals[k]);
                    if (o + vn >= cap)
                        goto big;
                    memcpy(out + o, vals[k], vn);
                    o += vn;
                    i += kn + 2;
                    done = 1;
                    break;
                }
            }
        }
        if (!done) {
            if (o + 1 >= cap)
                goto big;
            out[o++] = t[i++];
        }
    }
    out[o] = 0;
    return 0;
big:
    snprintf(err, errlen, "the expanded command is longer than %zu octets", cap);
    return -1;
}

static int write_secret_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    ssize_t w1 = write(fd, text, n);
    ssize_t w2 = write(fd, "\n", 1);
    close(fd);
    return (w1 == (ssize_t)n && w2 == 1) ? 0 : -1;
}

static int setup_dirs(exec *x, char *err, size_t errlen)
{
    snprintf(x->dir, sizeof x->dir, "%s/%.64s.XXXXXX", x->e->workroot, x->s->id);
    if (!mkdtemp(x->dir)) {
        snprintf(err, errlen, "mkdtemp %s: %s", x->dir, strerror(errno));
        return -1;
    }
    snprintf(x->home, sizeof x->home, "%s/work", x->dir);
    snprintf(x->out, sizeof x->out, "%s/out", x->dir);
    snprintf(x->passfile, sizeof x->passfile, "%s/work/password", x->dir);
    if (mkdir(x->home, 0700) || mkdir(x->out, 0700)) {
        snprintf(err, errlen, "mkdir in %s: %s", x->dir, strerror(errno));
        return -1;
    }
    if (write_secret_file(x->passfile, x->e->pass)) {
        snprintf(err, errlen, "%s: %s", x->passfile, strerror(errno));
        return -1;
    }
    return 0;
}

static int launch(exec *x, char *err, size_t errlen)
{
    const char *tmpl = x->e->prof->cmd[x->mode];
    char cmd[8192];
    if (expand_cmd(x, tmpl, cmd, sizeof cmd, err, errlen))
        return -1;
    if (expand_cmd(x, x->e->prof->store_path, x->store, sizeof x->store, err, errlen))
        return -1;
    /* A fixed, small environment: nothing of ours (credentials of a
     * server run, tokens) reaches the client. */
    char home[700], tmp[700];
    snprintf(home, sizeof home, "HOME=%s", x->home);
    snprintf(tmp, sizeof tmp, "TMPDIR=%s", x->home);
    char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", home, tmp, "LC_ALL=C", "LANG=C",
                   "TZ=UTC", NULL};
    note_s(x, 0, "client command:");
    note_s(x, 0, cmd);
    if (cl_proc_start(&x->proc, cmd, env, x->home, err, errlen))
        return -1;
    x->launched = 1;
    return 0;
}

/* ---- end of the run ----------------------------------------------------------------- */

static void show_output(exec *x, const char *what, const char *b, size_t n, size_t lost)
{
    if (!n)
        return;
    char hdr[128];
    snprintf(hdr, sizeof hdr, "client %s (%zu octets%s):", what, n + lost,
             lost ? ", cut" : "");
    note_s(x, 0, hdr);
    size_t i = 0, lines = 0;
    while (i < n && lines < CL_SHOWN_LINES) {
        const char *lf = memchr(b + i, '\n', n - i);
        size_t e = lf ? (size_t)(lf - b) + 1 : n;
        char line[RP_MAX_IO_TEXT];
        size_t k = e - i < sizeof line - 3 ? e - i : sizeof line - 3;
        line[0] = ' ';
        line[1] = ' ';
        memcpy(line + 2, b + i, k);
        while (k && (line[k + 1] == '\n' || line[k + 1] == '\r'))
            k--;
        line[k + 2] = 0;
        note_s(x, 0, line);
        lines++;
        i = e;
    }
    if (i < n)
        note_s(x, 0, "  ...");
}

/* First offset where a and b differ, for the report. */
static size_t first_diff(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0;
    while (i < an && i < bn && a[i] == b[i])
        i++;
    return i;
}

static void judge_end(exec *x, cl_stored *st, size_t nst)
{
    const sc_scenario *s = x->s;
    const cl_profile *p = x->e->prof;
    char how[160];
    cl_proc_describe(&x->proc, how, sizeof how);
    unsigned secs = (unsigned)((x->proc.t_end - x->proc.t_start + 500) / 1000);
    if (x->proc.killed) {
        char got[200];
        snprintf(got, sizeof got, "client killed after %u s", secs);
        run_judge(&x->f, NULL, sc_step_verdict(s, NULL), "the client to finish by itself", got,
                  "client killed after %u s: it did not finish within the timeout", secs);
    }
    /* Data loss: deleted for good on the server, yet not stored. */
    const char *action = s->action ? s->action : "fetch";
    for (size_t i = 0; i < x->nmsgs; i++) {
        if (!x->gone[i])
            continue;
        if (strcmp(action, "fetch")) {
            run_judge(&x->f, NULL, SC_V_FAIL, "mail left on the server", x->msgs[i]->name,
                      "the client deleted message %zu (%s) although its action was %s", i + 1,
                      x->msgs[i]->name, action);
            continue;
        }
        size_t wn;
        char *want = cl_store_expect(p, x->msgs[i]->data, x->msgs[i]->len, &wn);
        int found = 0;
        for (size_t k = 0; want && k < nst && !found; k++)
            found = st[k].len == wn && !memcmp(st[k].data, want, wn);
        free(want);
        if (!found)
            run_judge(
                &x->f, NULL, SC_V_FAIL, "every deleted message stored", x->msgs[i]->name,
                "message %zu (%s) was deleted on the server (DELE, QUIT) but the client did not "
                "store it intact: mail lost (%s)",
                i + 1, x->msgs[i]->name, how);
    }
    if (x->ended_early) {
        /* @starttls or-close: the client refused safely; what the script
         * expected of a completed run does not apply. */
        note_s(x, 0, "end-of-run expectations not judged: the client ended the session at "
                     "@starttls or-close");
        return;
    }
    for (size_t i = 0; i < s->nsteps; i++) {
        const sc_step *e = &s->steps[i];
        sc_verdict v = sc_step_verdict(s, e);
        switch (e->kind) {
        case SC_STEP_EXPECT_EXIT: {
            int code = x->proc.exited && WIFEXITED(x->proc.status) ? WEXITSTATUS(x->proc.status)
                                                                   : -1;
            int ok;
            char want[64];
            if (e->op == SC_OP_NE) {
                ok = code != -1 ? code != p->exit_ok : 1;
                /* killed by a signal is not a clean success either */
                ok = ok && !x->proc.killed;
                snprintf(want, sizeof want, "exit status other than %d", p->exit_ok);
            } else {
                int w = e->num == 0 ? p->exit_ok : (int)e->num;
                ok = code == w && !x->proc.killed;
                snprintf(want, sizeof want, "exit %d", w);
            }
            if (!ok) {
                char got[200];
                if (x->proc.killed)
                    snprintf(got, sizeof got, "client killed after %u s", secs);
                else
                    snprintf(got, sizeof got, "%s", how);
                run_judge(&x->f, e, v, want, got, "the client ended with %s, expected %s", got,
                          want);
            }
            break;
        }
        case SC_STEP_EXPECT_STORED: {
            unsigned char used[CL_MAX_STORED] = {0};
            char missing[512] = "";
            size_t ml = 0;
            for (size_t a = 0; a < e->nargs; a++) {
                const cl_fixture *f = find_fixture(x->e, e->args[a]);
                if (!f) {
                    run_harness_error(&x->f, e, "no fixture \"%s\"", e->args[a]);
                    break;
                }
                size_t wn;
                char *want = cl_store_expect(p, f->data, f->len, &wn);
                size_t hit = (size_t)-1, best = 0, bestk = (size_t)-1;
                for (size_t k = 0; want && k < nst; k++) {
                    if (used[k])
                        continue;
                    if (st[k].len == wn && !memcmp(st[k].data, want, wn)) {
                        hit = k;
                        break;
                    }
                    size_t d = first_diff(st[k].data, st[k].len, want, wn);
                    if (bestk == (size_t)-1 || d > best)
                        best = d, bestk = k;
                }
                if (hit != (size_t)-1) {
                    used[hit] = 1;
                } else {
                    ml += (size_t)snprintf(missing + ml, sizeof missing - ml > 0 ? sizeof missing - ml : 0,
                                           "%s%s", ml ? ", " : "", e->args[a]);
                    if (ml >= sizeof missing)
                        ml = sizeof missing - 1;
                    if (bestk != (size_t)-1) {
                        char msg[300];
                        snprintf(msg, sizeof msg,
                                 "%s: closest stored message %s differs at octet %zu (%zu vs %zu "
                                 "octets expected)",
                                 e->args[a], st[bestk].name, best, st[bestk].len, wn);
                        note_s(x, 0, msg);
                    }
                }
                free(want);
            }
            size_t extra = 0;
            for (size_t k = 0; k < nst; k++)
                extra += !used[k];
            if (ml || extra) {
                char got[300], want[300];
                snprintf(got, sizeof got, "%zu message%s stored%s%s", nst, nst == 1 ? "" : "s",
                         ml ? "; missing or different: " : "", missing);
                snprintf(want, sizeof want, "%zu message%s", e->nargs, e->nargs == 1 ? "" : "s");
                run_judge(&x->f, e, v, want, got,
                          "stored mail differs from what was served: %s%s%zu "
                          "stored, %zu expected",
                          ml ? missing : "", ml ? " not stored intact; " : "", nst, e->nargs);
            }
            break;
        }
        case SC_STEP_EXPECT_NO_COMMAND:
            for (size_t k = 0; k < x->ncmds; k++) {
                sc_capture caps[SC_MAX_CAPTURES];
                size_t nc;
                sc_error err;
                int m = sc_expect_command(e, x->cmds[k], strlen(x->cmds[k]), run_vars_lookup,
                                          &x->f.vars, caps, SC_MAX_CAPTURES, &nc, &err);
                if (m == 1) {
                    char *shown = rp_filter(x->r, x->cmds[k]);
                    char got[300];
                    /* PASS/APOP/AUTH arguments never reach a report. */
                    if (!strncasecmp(x->cmds[k], "PASS", 4) || !strncasecmp(x->cmds[k], "APOP", 4) ||
                        !strncasecmp(x->cmds[k], "AUTH", 4))
                        snprintf(got, sizeof got, "%.4s <redacted>", x->cmds[k]);
                    else
                        snprintf(got, sizeof got, "%s", shown ? shown : "?");
                    free(shown);
                    run_judge(&x->f, e, v, e->pat.src, got,
                              "the client sent \"%s\", which the scenario "
                              "forbids (%s)",
                              got, e->pat.src);
                    break;
                }
            }
            break;
        case SC_STEP_EXPECT_QUIT:
            for (int k = 0; k < CL_MAX_SESS; k++) {
                sess *ss = &x->ss[k];
                if (ss->used && !ss->quit && !ss->closed_by_us) {
                    char got[80];
                    snprintf(got, sizeof got, "session %d closed without QUIT", ss->num);
                    run_judge(&x->f, e, v, "QUIT before closing", got,
                              "the client closed session %d without QUIT (RFC 1939 section 6)",
                              ss->num);
                    break;
                }
            }
            break;
        default:
            break;
        }
    }
}

/* The transport a scenario runs with: scenarios about STLS need a client
 * that uses it, even in a plain run. */
static cl_mode scenario_mode(const sc_scenario *s, const cl_env *e)
{
    int wants_stls = 0;
    for (size_t i = 0; i < s->nsteps; i++)
        wants_stls |= s->steps[i].kind == SC_STEP_STARTTLS;
    for (size_t i = 0; i < s->nrequires; i++)
        wants_stls |= s->requires[i].kind == SC_REQ_CAPA && !strcmp(s->requires[i].name, "STLS");
    if (!wants_stls || e->mode == CL_MODE_STLS || e->mode == CL_MODE_STLS_OPT)
        return e->mode;
    return e->prof->cmd[CL_MODE_STLS] ? CL_MODE_STLS : CL_MODE_STLS_OPT;
}

int cl_requires_unmet(const sc_scenario *s, const cl_env *e, char *reason, size_t len)
{
    const cl_profile *p = e->prof;
    const char *action = s->action ? s->action : "fetch";
    if (!cl_profile_action(p, action)) {
        snprintf(reason, len, "the profile has no action-%s", action);
        return 1;
    }
    int tls_steps = 0;
    for (size_t i = 0; i < s->nsteps; i++)
        tls_steps |= s->steps[i].kind == SC_STEP_STARTTLS;
    for (size_t i = 0; i < s->nrequires; i++) {
        const sc_require *r = &s->requires[i];
        if (r->kind == SC_REQ_CAPA) {
            int ok = 0;
            if (!strcmp(r->name, "STLS"))
                ok = e->mode != CL_MODE_IMPLICIT &&
                     (e->mode != CL_MODE_PLAIN || p->cmd[CL_MODE_STLS] || p->cmd[CL_MODE_STLS_OPT]);
            for (size_t k = 0; k < p->nsupports && !ok; k++)
                ok = !strcmp(p->supports[k], r->name);
            if (!ok) {
                snprintf(reason, len, "the client does not support %s (profile \"supports\")",
                         r->name);
                return 1;
            }
        } else {
            /* tls-required: the client runs with a template that must not
             * go on without TLS ("STLS required" or implicit TLS). */
            cl_mode m = scenario_mode(s, e);
            int ok = !strcmp(r->name, "implicit-tls")   ? e->mode == CL_MODE_IMPLICIT
                     : !strcmp(r->name, "tls-required") ? m == CL_MODE_STLS || m == CL_MODE_IMPLICIT
                                                        : 0;
            for (size_t k = 0; k < p->nprops && !ok; k++)
                ok = !strcmp(p->props[k], r->name);
            if (!ok) {
                snprintf(reason, len, "the profile lacks property %s", r->name);
                return 1;
            }
        }
    }
    if (tls_steps && e->mode == CL_MODE_IMPLICIT) {
        snprintf(reason, len, "the scenario starts TLS with STLS; this run uses implicit TLS");
        return 1;
    }
    return 0;
}

void cl_run_scenario(const sc_scenario *s, const cl_env *e, rp_run *r, rp_case *c,
                     volatile int *stop)
{
    exec *x = calloc(1, sizeof *x);
    if (!x) {
        rp_case_verdict(r, c, RP_ERROR, 0, "out of memory", NULL, NULL);
        return;
    }
    x->s = s;
    x->e = e;
    x->r = r;
    x->c = c;
    x->stop = stop;
    x->t0 = nt_now_ms();
    run_flow_init(&x->f, s, CL_MAX_VARS, NULL, NULL);
    x->cert = e->tls_good;
    x->mode = scenario_mode(s, e);
    for (size_t i = 0; i < s->ntags; i++)
        x->strict |= !strcmp(s->tags[i], "strict");
    snprintf(x->ts, sizeof x->ts, "<%ld.%lld@pop3spec.test>", (long)getpid(),
             (long long)(x->t0 % 1000000000));
    run_vars_setz(&x->f.vars, "user", e->user, 0);
    run_vars_setz(&x->f.vars, "pass", e->pass, 1);
    run_vars_setz(&x->f.vars, "ts", x->ts, 0);
    run_vars_setz(&x->f.vars, "host", "127.0.0.1", 0);
    char err[768];
    cl_stored *stored = NULL;
    size_t nstored = 0;
    int ok = 1;
    x->msgs = calloc(s->nmailbox + 1, sizeof *x->msgs);
    x->gone = calloc(s->nmailbox + 1, 1);
    if (!x->msgs || !x->gone) {
        run_harness_error(&x->f, NULL, "%s", "out of memory");
        ok = 0;
    }
    for (size_t i = 0; ok && i < s->nmailbox; i++) {
        x->msgs[i] = find_fixture(e, s->mailbox[i]);
        if (!x->msgs[i]) {
            run_harness_error(&x->f, NULL,
                              "mailbox: no fixture \"%s\" (scenarios/client/fixtures/NAME.eml)",
                              s->mailbox[i]);
            ok = 0;
        }
        x->nmsgs = i + 1;
    }
    if (ok && !e->prof->cmd[x->mode]) {
        snprintf(err, sizeof err, "the profile has no cmd-%s template", cl_mode_name(x->mode));
        rp_case_verdict(r, c, RP_SKIP, 0, err, NULL, NULL);
        goto out;
    }
    if (ok && setup_dirs(x, err, sizeof err)) {
        run_harness_error(&x->f, NULL, "%s", err);
        ok = 0;
    }
    if (ok && !(x->l = nt_listen("127.0.0.1", 0, err, sizeof err))) {
        run_harness_error(&x->f, NULL, "listen: %s", err);
        ok = 0;
    }
    if (ok) {
        uint32_t to = e->timeout_ms ? e->timeout_ms : CL_DEFAULT_TIMEOUT;
        if (launch(x, err, sizeof err)) {
            run_harness_error(&x->f, NULL, "launching the client: %s", err);
            ok = 0;
        }
        x->deadline = nt_deadline(to);
    }
    if (ok) {
        char m[160];
        snprintf(m, sizeof m, "listening on 127.0.0.1:%u (%s), client pid %ld",
                 nt_listener_port(x->l), cl_mode_name(x->mode), (long)x->proc.pid);
        note_s(x, 0, m);
        run_steps(x);
        if (x->f.worst != SC_V_ERROR)
            serve_rest(x);
    }
    for (int i = 0; i < CL_MAX_SESS; i++)
        sess_close(&x->ss[i], 0);
    if (x->launched) {
        cl_proc_wait(&x->proc, x->deadline);
        cl_proc_finish(&x->proc, CL_KILL_GRACE);
        char how[160];
        cl_proc_describe(&x->proc, how, sizeof how);
        char m[300];
        if (x->proc.killed)
            snprintf(m, sizeof m, "client killed after %.1f s (%s)",
                     (double)(x->proc.t_end - x->proc.t_start) / 1000.0, how);
        else
            snprintf(m, sizeof m, "client ended: %s after %.1f s", how,
                     (double)(x->proc.t_end - x->proc.t_start) / 1000.0);
        note_s(x, 0, m);
        if (cl_store_collect(e->prof, x->store, &stored, &nstored, err, sizeof err)) {
            run_harness_error(&x->f, NULL, "reading what the client stored: %s", err);
        }
        if (x->f.worst != SC_V_ERROR)
            judge_end(x, stored, nstored);
        if (x->f.worst != SC_V_PASS) {
            char m2[1400];
            snprintf(m2, sizeof m2, "stored in %s: %zu message%s", x->store, nstored,
                     nstored == 1 ? "" : "s");
            note_s(x, 0, m2);
            for (size_t i = 0; i < nstored; i++) {
                snprintf(m2, sizeof m2, "  %s: %zu octets on disk, %zu compared", stored[i].name,
                         stored[i].raw_len, stored[i].len);
                note_s(x, 0, m2);
            }
            show_output(x, "stdout", x->proc.out, x->proc.nout, x->proc.lost_out);
            show_output(x, "stderr", x->proc.err, x->proc.nerr, x->proc.lost_err);
        }
    }
    run_flow_verdict(&x->f, r, c);
out:
    cl_store_free(stored, nstored);
    for (int i = 0; i < CL_MAX_SESS; i++)
        sess_free(&x->ss[i]);
    if (x->l)
        nt_listener_close(x->l);
    cl_proc_free(&x->proc);
    if (x->dir[0] && !e->keep)
        cl_rm_tree(x->dir);
    for (size_t i = 0; i < x->ncmds; i++)
        free(x->cmds[i]);
    capa_clear(x);
    free(x->msgs);
    free(x->gone);
    run_flow_free(&x->f);
    free(x);
}

/* ---- fixtures -------------------------------------------------------------------- */

int cl_fixtures_load(const char *dir, cl_fixture **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    cl_fixture *f = calloc(256, sizeof *f);
    size_t k = 0;
    struct dirent *de;
    int rc = 0;
    while (f && (de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".eml") || de->d_name[0] == '.')
            continue;
        if (k >= 256) {
            snprintf(err, errlen, "%s: more than 256 fixtures", dir);
            rc = -1;
            break;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        size_t cap = 1u << 20;
        char *buf = malloc(cap);
        size_t len = buf ? fread(buf, 1, cap, fp) : 0;
        fclose(fp);
        if (!buf || len == cap) {
            free(buf);
            snprintf(err, errlen, "%s: fixtures are at most 1 MiB", path);
            rc = -1;
            break;
        }
        f[k].name = strndup(de->d_name, nl - 4);
        if (ref_normalise(buf, len, &f[k].data, &f[k].len) || !f[k].name) {
            free(buf);
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        free(buf);
        k++;
    }
    closedir(d);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = f;
    *n = k;
    return rc;
}

void cl_fixtures_free(cl_fixture *f, size_t n)
{
    if (!f)
        return;
    for (size_t i = 0; i < n; i++) {
        free(f[i].name);
        free(f[i].data);
    }
    free(f);
}
