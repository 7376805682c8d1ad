/*
 * sc_parse.c - the .scn parser (contract in sc.h, format in
 * scenarios/FORMAT.md). One pass over the lines, no recursion: blocks are
 * tracked with an explicit stack of step indices.
 */
#include "sc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR_VALUE_MAX 16384 /* one header value, continuations included */
#define MAX_WORDS 32
#define MAX_SESSIONS 8

enum { K_ID, K_TITLE, K_RFC, K_SECTION, K_LEVEL, K_QUOTE, K_ROLE, K_REQUIRES, K_TAGS,
       K_MAILBOX, K_ACTION, K__COUNT };
static const char *const KEYS[K__COUNT] = {"id",    "title",    "rfc",  "section",
                                           "level", "quote",    "role", "requires",
                                           "tags",  "mailbox",  "action"};
static const int KEY_REQUIRED[K__COUNT] = {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};

typedef struct hval {
    int seen;
    unsigned line, col; /* of the key */
    char *v;            /* joined value */
    size_t n;
    sc_loc *loc;        /* source position of each octet of v */
} hval;

typedef struct word {
    const char *p;
    size_t n;
    unsigned col;
} word;

typedef struct P {
    const char *path;
    sc_scenario *s;
    sc_error *err;
    size_t cap;
    unsigned lineno;
    const char *l; /* current line, without its line end and trailing blanks */
    size_t ln;
    size_t rawlen; /* the line's length before trailing blanks were removed */
    int in_body;
    int last_key; /* for continuation lines, -1: none */
    hval h[K__COUNT];
    long block;                /* STATUS index of the open multi-line block */
    long loops[SC_MAX_NESTING];
    unsigned nloops;
    int session;
} P;

static void perr(P *p, unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    p->err->line = p->lineno;
    p->err->col = col ? col : 1;
    const char *path = p->path ? p->path : "-";
    if (p->lineno)
        snprintf(p->err->text, sizeof p->err->text, "%s:%u:%u: %s", path, p->lineno,
                 p->err->col, p->err->msg);
    else
        snprintf(p->err->text, sizeof p->err->text, "%s: %s", path, p->err->msg);
}

/* An error from sc_pattern.c / templates, whose col is relative to src. */
static int sub_err(P *p, unsigned col0, const sc_error *e)
{
    char msg[sizeof e->msg];
    memcpy(msg, e->msg, sizeof msg);
    perr(p, col0 + (e->col ? e->col - 1 : 0), "%s", msg);
    return -1;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int oom(P *p)
{
    perr(p, 1, "out of memory");
    return -1;
}

static unsigned colof(const P *p, const char *q)
{
    return (unsigned)(q - p->l) + 1;
}

static int split_words(P *p, const char *q, const char *end, word *w, unsigned *nw)
{
    *nw = 0;
    while (q < end) {
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end)
            break;
        if (*nw >= MAX_WORDS) {
            perr(p, colof(p, q), "more than %d arguments", MAX_WORDS);
            return -1;
        }
        const char *s = q;
        while (q < end && *q != ' ' && *q != '\t')
            q++;
        w[*nw].p = s;
        w[*nw].n = (size_t)(q - s);
        w[*nw].col = colof(p, s);
        (*nw)++;
    }
    return 0;
}

static int weq(const word *w, const char *z)
{
    return strlen(z) == w->n && memcmp(w->p, z, w->n) == 0;
}

static int ident_ok(const char *s, size_t n, int allow_upper)
{
    if (!n || n > SC_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                 (i > 0 && c == '.') || (allow_upper && c >= 'A' && c <= 'Z');
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------
 * Header.
 */
static int hdr_append(P *p, hval *h, const char *s, size_t n, unsigned col, int sep)
{
    size_t need = h->n + (sep ? 1 : 0) + n;
    if (need > HDR_VALUE_MAX) {
        perr(p, col, "header value longer than %d octets", HDR_VALUE_MAX);
        return -1;
    }
    char *v = realloc(h->v, need + 1);
    if (!v)
        return oom(p);
    h->v = v;
    sc_loc *loc = realloc(h->loc, (need + 1) * sizeof *loc);
    if (!loc)
        return oom(p);
    h->loc = loc;
    if (sep) {
        h->v[h->n] = ' ';
        h->loc[h->n].line = p->lineno;
        h->loc[h->n].col = col;
        h->n++;
    }
    for (size_t i = 0; i < n; i++) {
        h->v[h->n] = s[i];
        h->loc[h->n].line = p->lineno;
        h->loc[h->n].col = col + (unsigned)i;
        h->n++;
    }
    h->v[h->n] = 0;
    h->loc[h->n].line = p->lineno;
    h->loc[h->n].col = col + (unsigned)n;
    return 0;
}

static int header_line(P *p)
{
    const char *l = p->l, *end = p->l + p->ln;
    if (*l == ' ' || *l == '\t') {
        const char *q = l;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (p->last_key < 0) {
            perr(p, 1, "indented line before any header key: continuation lines follow a key");
            return -1;
        }
        hval *h = &p->h[p->last_key];
        return hdr_append(p, h, q, (size_t)(end - q), colof(p, q), h->n > 0);
    }
    const char *q = l;
    while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '-' || (q > l && *q >= '0' && *q <= '9')))
        q++;
    if (q == l || q >= end || *q != ':') {
        perr(p, colof(p, q),
             "expected a header line \"key: value\" (id, title, rfc, section, level, quote, "
             "role, requires, tags, mailbox, action) or a step (C:, S:, S*, @directive)");
        return -1;
    }
    size_t kn = (size_t)(q - l);
    int key = -1;
    for (int k = 0; k < K__COUNT; k++)
        if (strlen(KEYS[k]) == kn && memcmp(KEYS[k], l, kn) == 0)
            key = k;
    q++;
    if (q < end && *q != ' ' && *q != '\t') {
        perr(p, colof(p, q), "expected a space after \"%.*s:\"", (int)kn, l);
        return -1;
    }
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    if (key < 0) {
        if (kn > 2 && l[0] == 'x' && l[1] == '-') {
            p->last_key = -1;
            return 0; /* extension keys are for tools, ignored here */
        }
        perr(p, 1,
             "unknown header key \"%.*s\" (expected id, title, rfc, section, level, quote, "
             "role, requires, tags, mailbox, action, or x-...)",
             (int)kn, l);
        return -1;
    }
    hval *h = &p->h[key];
    if (h->seen) {
        perr(p, 1, "header key \"%s\" given twice (first at line %u)", KEYS[key], h->line);
        return -1;
    }
    h->seen = 1;
    h->line = p->lineno;
    h->col = 1;
    p->last_key = key;
    return hdr_append(p, h, q, (size_t)(end - q), colof(p, q), 0);
}

/* Report an error at offset off of header value k. */
static int herr(P *p, int k, size_t off, const char *fmt, ...)
{
    hval *h = &p->h[k];
    if (off > h->n)
        off = h->n;
    unsigned save = p->lineno;
    p->lineno = h->loc ? h->loc[off].line : h->line;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    perr(p, h->loc ? h->loc[off].col : 1, "%s", msg);
    p->lineno = save;
    return -1;
}

static int parse_list(P *p, int k, char ***out, size_t *nout, int allow_upper)
{
    hval *h = &p->h[k];
    size_t i = 0;
    while (i < h->n) {
        while (i < h->n && (h->v[i] == ' ' || h->v[i] == ','))
            i++;
        if (i >= h->n)
            break;
        size_t s = i;
        while (i < h->n && h->v[i] != ' ' && h->v[i] != ',')
            i++;
        if (!ident_ok(h->v + s, i - s, allow_upper))
            return herr(p, k, s,
                        "expected a name of letters, digits, \"-\", \"_\" or \".\" in \"%s:\"",
                        KEYS[k]);
        if (*nout >= SC_MAX_TAGS)
            return herr(p, k, s, "more than %d items in \"%s:\"", SC_MAX_TAGS, KEYS[k]);
        char **a = realloc(*out, (*nout + 1) * sizeof *a);
        if (!a)
            return oom(p);
        *out = a;
        if (!(a[*nout] = dupn(h->v + s, i - s)))
            return oom(p);
        (*nout)++;
    }
    return 0;
}

static int parse_requires(P *p)
{
    hval *h = &p->h[K_REQUIRES];
    sc_scenario *s = p->s;
    size_t i = 0;
    while (i < h->n) {
        while (i < h->n && (h->v[i] == ' ' || h->v[i] == ','))
            i++;
        if (i >= h->n)
            break;
        size_t st = i;
        while (i < h->n && h->v[i] != ',')
            i++;
        size_t en = i;
        while (en > st && h->v[en - 1] == ' ')
            en--;
        if (s->nrequires >= SC_MAX_REQUIRES)
            return herr(p, K_REQUIRES, st, "more than %d items in \"requires:\"",
                        SC_MAX_REQUIRES);
        sc_require r = {0};
        r.loc = h->loc[st];
        const char *v = h->v + st;
        size_t n = en - st;
        if (v[0] >= 'A' && v[0] <= 'Z') {
            /* A capability: upper-case words, single spaces ("SASL PLAIN"). */
            for (size_t j = 0; j < n; j++) {
                unsigned char c = (unsigned char)v[j];
                int ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '_' || c == '.' || (c == ' ' && j + 1 < n && v[j + 1] != ' ');
                if (!ok)
                    return herr(p, K_REQUIRES, st + j,
                                "expected a capability in upper case (e.g. STLS, SASL PLAIN)");
            }
            r.kind = SC_REQ_CAPA;
            r.name = dupn(v, n);
        } else {
            size_t j = 0;
            while (j < n && ((v[j] >= 'a' && v[j] <= 'z') || (v[j] >= '0' && v[j] <= '9') ||
                             v[j] == '-'))
                j++;
            if (j == 0 || !(v[0] >= 'a' && v[0] <= 'z'))
                return herr(p, K_REQUIRES, st,
                            "expected a capability (upper case) or a target property (lower "
                            "case, e.g. disposable-mailbox, messages>=2)");
            r.kind = SC_REQ_PROP;
            r.name = dupn(v, j);
            if (j < n) {
                static const struct { const char *t; sc_op op; } OPS[] = {
                    {">=", SC_OP_GE}, {"<=", SC_OP_LE}, {"==", SC_OP_EQ}, {"!=", SC_OP_NE},
                    {">", SC_OP_GT},  {"<", SC_OP_LT}};
                size_t ol = 0;
                for (size_t o = 0; o < sizeof OPS / sizeof OPS[0] && !ol; o++) {
                    size_t tl = strlen(OPS[o].t);
                    if (n - j >= tl && memcmp(v + j, OPS[o].t, tl) == 0) {
                        r.op = OPS[o].op;
                        ol = tl;
                    }
                }
                if (!ol) {
                    free(r.name);
                    return herr(p, K_REQUIRES, st + j,
                                "expected \",\" or a comparison (>=, <=, ==, !=, >, <) after "
                                "a property name");
                }
                size_t d = j + ol, ds = d;
                uint64_t val = 0;
                while (d < n && v[d] >= '0' && v[d] <= '9' && d - ds < 18)
                    val = val * 10 + (uint64_t)(v[d++] - '0');
                if (d == ds || d != n) {
                    free(r.name);
                    return herr(p, K_REQUIRES, st + d, "expected a number (up to 18 digits)");
                }
                r.value = val;
            }
        }
        if (!r.name)
            return oom(p);
        sc_require *a = realloc(s->requires, (s->nrequires + 1) * sizeof *a);
        if (!a) {
            free(r.name);
            return oom(p);
        }
        s->requires = a;
        a[s->nrequires++] = r;
    }
    return 0;
}

static int level_of(const char *v, sc_level *l)
{
    static const struct { const char *t; sc_level l; } L[] = {
        {"MUST", SC_LEVEL_MUST},       {"MUST NOT", SC_LEVEL_MUST},
        {"REQUIRED", SC_LEVEL_MUST},   {"SHALL", SC_LEVEL_MUST},
        {"SHALL NOT", SC_LEVEL_MUST},  {"SHOULD", SC_LEVEL_SHOULD},
        {"SHOULD NOT", SC_LEVEL_SHOULD}, {"RECOMMENDED", SC_LEVEL_SHOULD},
        {"MAY", SC_LEVEL_MAY},         {"OPTIONAL", SC_LEVEL_MAY}};
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        if (strcmp(v, L[i].t) == 0) {
            *l = L[i].l;
            return 0;
        }
    return -1;
}

/* The header is complete (first step line or end of file): check it. */
static int header_done(P *p)
{
    sc_scenario *s = p->s;
    for (int k = 0; k < K__COUNT; k++)
        if (KEY_REQUIRED[k] && !p->h[k].seen) {
            perr(p, 1, "expected header key \"%s:\" before the first step", KEYS[k]);
            return -1;
        }
    for (int k = 0; k < K__COUNT; k++)
        if (p->h[k].seen && p->h[k].n == 0 && k != K_REQUIRES && k != K_TAGS) {
            herr(p, k, 0, "expected a value after \"%s:\"", KEYS[k]);
            return -1;
        }
    hval *h = p->h;
    if (!ident_ok(h[K_ID].v, h[K_ID].n, 0) || h[K_ID].v[0] == '-' || h[K_ID].v[0] == '_')
        return herr(p, K_ID, 0,
                    "expected an id of lower-case letters, digits, \".\", \"-\", \"_\" (at most "
                    "%d octets)",
                    SC_MAX_NAME);
    if (strcmp(h[K_ROLE].v, "server") == 0)
        s->role = SC_ROLE_SERVER;
    else if (strcmp(h[K_ROLE].v, "client") == 0)
        s->role = SC_ROLE_CLIENT;
    else
        return herr(p, K_ROLE, 0, "expected role \"server\" (the target is a server) or "
                                  "\"client\" (the target is a client)");
    if (level_of(h[K_LEVEL].v, &s->level) != 0)
        return herr(p, K_LEVEL, 0, "expected a level: MUST, MUST NOT, SHOULD, SHOULD NOT or MAY");
    /* rfc: numbers separated by commas */
    size_t i = 0;
    while (i < h[K_RFC].n) {
        while (i < h[K_RFC].n && (h[K_RFC].v[i] == ' ' || h[K_RFC].v[i] == ','))
            i++;
        if (i >= h[K_RFC].n)
            break;
        size_t st = i;
        unsigned v = 0;
        while (i < h[K_RFC].n && h[K_RFC].v[i] >= '0' && h[K_RFC].v[i] <= '9' && i - st < 5)
            v = v * 10 + (unsigned)(h[K_RFC].v[i++] - '0');
        if (i == st || v == 0 || (i < h[K_RFC].n && h[K_RFC].v[i] != ',' && h[K_RFC].v[i] != ' '))
            return herr(p, K_RFC, i, "expected an RFC number (e.g. 1939), several separated by \",\"");
        if (s->nrfc >= SC_MAX_RFCS)
            return herr(p, K_RFC, st, "more than %d RFC numbers", SC_MAX_RFCS);
        s->rfc[s->nrfc++] = v;
    }
    if (!s->nrfc)
        return herr(p, K_RFC, 0, "expected an RFC number (e.g. 1939)");
    if (s->role == SC_ROLE_SERVER)
        for (int k = K_MAILBOX; k <= K_ACTION; k++)
            if (h[k].seen)
                return herr(p, k, 0, "\"%s:\" is only for role: client scenarios", KEYS[k]);
    if (!(s->id = dupn(h[K_ID].v, h[K_ID].n)) || !(s->title = dupn(h[K_TITLE].v, h[K_TITLE].n)) ||
        !(s->section = dupn(h[K_SECTION].v, h[K_SECTION].n)) ||
        !(s->quote = dupn(h[K_QUOTE].v, h[K_QUOTE].n)) ||
        !(s->level_text = dupn(h[K_LEVEL].v, h[K_LEVEL].n)) ||
        !(s->action = h[K_ACTION].seen ? dupn(h[K_ACTION].v, h[K_ACTION].n)
                                       : dupn("fetch", 5)))
        return oom(p);
    if (h[K_ACTION].seen && !ident_ok(s->action, strlen(s->action), 0))
        return herr(p, K_ACTION, 0, "expected an action name (e.g. fetch, fetch-keep)");
    if (h[K_REQUIRES].seen && parse_requires(p) != 0)
        return -1;
    if (h[K_TAGS].seen && parse_list(p, K_TAGS, &s->tags, &s->ntags, 0) != 0)
        return -1;
    if (h[K_MAILBOX].seen && parse_list(p, K_MAILBOX, &s->mailbox, &s->nmailbox, 1) != 0)
        return -1;
    if (!(s->sessions = calloc(MAX_SESSIONS, sizeof *s->sessions)) ||
        !(s->sessions[0] = dupn("main", 4)))
        return oom(p);
    s->nsessions = 1;
    p->in_body = 1;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Steps.
 */
static sc_step *new_step(P *p, sc_step_kind k, unsigned col)
{
    sc_scenario *s = p->s;
    if (s->nsteps >= SC_MAX_STEPS) {
        perr(p, col, "more than %d steps", SC_MAX_STEPS);
        return NULL;
    }
    if (s->nsteps == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 32;
        if (nc > SC_MAX_STEPS)
            nc = SC_MAX_STEPS;
        sc_step *a = realloc(s->steps, nc * sizeof *a);
        if (!a) {
            oom(p);
            return NULL;
        }
        s->steps = a;
        p->cap = nc;
    }
    sc_step *st = &s->steps[s->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = k;
    st->loc.line = p->lineno;
    st->loc.col = col;
    st->link = -1;
    st->session = p->session;
    return st;
}

static sc_step *prev_step(P *p)
{
    return p->s->nsteps ? &p->s->steps[p->s->nsteps - 1] : NULL;
}

/* Before a step that may not sit inside a multi-line block. */
static int no_open_block(P *p, unsigned col)
{
    if (p->block >= 0) {
        perr(p, col, "expected \"S: .\" to end the multi-line response started at line %u",
             p->s->steps[p->block].loc.line);
        return -1;
    }
    return 0;
}

/* Before a block item: open the block on the STATUS just before, if any. */
static int need_block(P *p, unsigned col, const char *what)
{
    if (p->block >= 0)
        return 0;
    sc_step *pv = prev_step(p);
    if (!pv || pv->kind != SC_STEP_STATUS) {
        perr(p, col, "%s outside a multi-line response: expected it right after an \"S: +OK\" line",
             what);
        return -1;
    }
    if (pv->want != SC_WANT_OK && pv->want != SC_WANT_ANY) {
        perr(p, col, "a multi-line response starts with \"S: +OK\" or \"S: *\", not the line above");
        return -1;
    }
    pv->flags |= SC_F_MULTILINE;
    p->block = (long)(pv - p->s->steps);
    return 0;
}

static int prefix_icase(const char *q, size_t n, const char *z)
{
    size_t zn = strlen(z);
    if (n < zn)
        return 0;
    for (size_t i = 0; i < zn; i++) {
        char c = q[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != z[i])
            return 0;
    }
    return 1;
}

static int template_step(P *p, sc_step *st, const char *q, const char *end)
{
    sc_error e = {0};
    size_t n = (size_t)(end - q);
    if (sc_template_check(q, n, &e) != 0)
        return sub_err(p, colof(p, q), &e);
    if (!(st->text = dupn(q, n)))
        return oom(p);
    st->text_len = n;
    if ((n >= 4 && prefix_icase(q, n, "PASS") && (n == 4 || q[4] == ' ')) ||
        strstr(st->text, "${pass}"))
        st->flags |= SC_F_SECRET;
    return 0;
}

static int pattern_into(P *p, sc_pattern *pat, const char *q, const char *end)
{
    sc_error e = {0};
    if (sc_pattern_compile(q, (size_t)(end - q), pat, &e) != 0)
        return sub_err(p, colof(p, q), &e);
    return 0;
}

/* Role server "S: ...": status, optional [code], optional text pattern. */
static int status_step(P *p, const char *q, const char *end, unsigned col)
{
    const char *t = q;
    while (t < end && *t != ' ')
        t++;
    size_t tn = (size_t)(t - q);
    sc_want w = 0;
    if (tn == 3 && memcmp(q, "+OK", 3) == 0)
        w = SC_WANT_OK;
    else if (tn == 4 && memcmp(q, "-ERR", 4) == 0)
        w = SC_WANT_ERR;
    else if (tn == 1 && *q == '*')
        w = SC_WANT_ANY;
    else if (tn == 1 && *q == '+')
        w = SC_WANT_CONT;
    if (!w) {
        perr(p, colof(p, q), "expected a status (+OK, -ERR, * or +) after \"S:\"");
        return -1;
    }
    if (no_open_block(p, col) != 0)
        return -1;
    sc_step *st = new_step(p, SC_STEP_STATUS, col);
    if (!st)
        return -1;
    st->want = w;
    if (t >= end)
        return 0;
    q = t + 1;
    if (q >= end || *q == ' ') {
        perr(p, colof(p, q), "expected one space, then a response code \"[...]\" or a text pattern");
        return -1;
    }
    if (*q == '[') {
        const char *c = q + 1;
        while (c < end && *c != ']') {
            if (*c == '\\' && c + 1 < end)
                c++;
            c++;
        }
        if (c >= end) {
            perr(p, colof(p, q), "expected \"]\" to close the response code");
            return -1;
        }
        if (c == q + 1) {
            st->code_want = SC_CODE_NONE;
        } else {
            st->code_want = SC_CODE_MATCH;
            if (pattern_into(p, &st->code, q + 1, c) != 0)
                return -1;
        }
        q = c + 1;
        if (q >= end)
            return 0;
        if (*q != ' ' || q + 1 >= end) {
            perr(p, colof(p, q), "expected a space and a text pattern after the response code");
            return -1;
        }
        q++;
    }
    st->has_pat = 1;
    if (prefix_icase(q, (size_t)(end - q), "PASS"))
        st->flags |= SC_F_SECRET;
    return pattern_into(p, &st->pat, q, end);
}

static int role_only(P *p, sc_role r, const word *w)
{
    if (p->s->role != r) {
        perr(p, w->col, "%.*s is only for role: %s scenarios", (int)w->n, w->p,
             r == SC_ROLE_SERVER ? "server" : "client");
        return -1;
    }
    return 0;
}

static int nargs_is(P *p, const word *w, unsigned nw, unsigned lo, unsigned hi, const char *usage)
{
    if (nw - 1 < lo || nw - 1 > hi) {
        perr(p, nw - 1 > hi ? w[hi + 1].col : w[0].col, "expected %s", usage);
        return -1;
    }
    return 0;
}

static int duration_arg(P *p, const word *w, uint32_t *ms)
{
    if (sc_duration(w->p, w->n, ms) != 0) {
        perr(p, w->col, "expected a duration (e.g. 200ms, 2s, 1m; at most 10m)");
        return -1;
    }
    return 0;
}

static int name_arg(P *p, const word *w, char **out, const char *what)
{
    if (!ident_ok(w->p, w->n, 0) || w->p[0] == '-') {
        perr(p, w->col, "expected %s (lower-case letters, digits, \"_\", \"-\", \".\")", what);
        return -1;
    }
    if (!(*out = dupn(w->p, w->n)))
        return oom(p);
    return 0;
}

static int operand(P *p, const word *w, char **out, size_t *outn)
{
    sc_error e = {0};
    if (sc_template_check(w->p, w->n, &e) != 0)
        return sub_err(p, w->col, &e);
    if (!(*out = dupn(w->p, w->n)))
        return oom(p);
    *outn = w->n;
    return 0;
}

static int op_of(const word *w, sc_op *op)
{
    static const struct { const char *t; sc_op op; } OPS[] = {
        {"==", SC_OP_EQ}, {"!=", SC_OP_NE}, {"<", SC_OP_LT},
        {"<=", SC_OP_LE}, {">", SC_OP_GT},  {">=", SC_OP_GE}};
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (weq(w, OPS[i].t)) {
            *op = OPS[i].op;
            return 0;
        }
    return -1;
}

/* Modifiers change the step before them (FORMAT.md "Modifiers"). */
static sc_step *modifier_target(P *p, const word *w, const sc_step_kind *kinds, size_t nk,
                                const char *what)
{
    sc_step *pv = prev_step(p);
    if (pv)
        for (size_t i = 0; i < nk; i++)
            if (pv->kind == kinds[i])
                return pv;
    perr(p, w->col, "%.*s modifies the step on the line before it, which must be %s", (int)w->n,
         w->p, what);
    return NULL;
}

static const sc_step_kind SENDS[] = {SC_STEP_SEND, SC_STEP_FIXTURE};
static const sc_step_kind SECRETS[] = {SC_STEP_SEND, SC_STEP_STATUS, SC_STEP_LINE,
                                       SC_STEP_COMMAND, SC_STEP_EACH};
static const sc_step_kind JUDGED[] = {
    SC_STEP_STATUS,         SC_STEP_LINE,         SC_STEP_EACH,          SC_STEP_ENTRIES,
    SC_STEP_BODY,           SC_STEP_CAPA,         SC_STEP_DOT,           SC_STEP_COMMAND,
    SC_STEP_EXPECT_CLOSE,   SC_STEP_EXPECT_SILENCE, SC_STEP_STARTTLS,    SC_STEP_ASSERT,
    SC_STEP_EXPECT_EXIT,    SC_STEP_EXPECT_STORED, SC_STEP_EXPECT_NO_COMMAND,
    SC_STEP_EXPECT_QUIT,    SC_STEP_CONNECT};
static const sc_step_kind WAITS[] = {SC_STEP_STATUS, SC_STEP_LINE,    SC_STEP_DOT,
                                     SC_STEP_COMMAND, SC_STEP_CONNECT, SC_STEP_STARTTLS,
                                     SC_STEP_EXPECT_CLOSE, SC_STEP_EACH, SC_STEP_BODY,
                                     SC_STEP_CAPA};
#define NK(a) (sizeof a / sizeof a[0])

static int split_args(P *p, sc_step *st, const word *w, unsigned nw)
{
    for (unsigned i = 1; i < nw; i++) {
        if (weq(&w[i], "bytewise")) {
            st->flags |= SC_F_BYTEWISE;
        } else if (w[i].n > 6 && memcmp(w[i].p, "delay=", 6) == 0) {
            word d = {w[i].p + 6, w[i].n - 6, w[i].col + 6};
            if (duration_arg(p, &d, &st->delay_ms) != 0)
                return -1;
        } else {
            const char *q = w[i].p, *e = w[i].p + w[i].n;
            while (q < e) {
                const char *s = q;
                uint32_t v = 0;
                while (q < e && *q >= '0' && *q <= '9' && q - s < 6)
                    v = v * 10 + (uint32_t)(*q++ - '0');
                if (q == s || v == 0 || (q < e && *q != ',') || st->nsplit >= SC_MAX_SPLITS) {
                    perr(p, colof(p, q),
                         "expected chunk sizes \"N,N,...\" (1 to 999999, at most %d), "
                         "\"bytewise\" or \"delay=T\"",
                         SC_MAX_SPLITS);
                    return -1;
                }
                st->split[st->nsplit++] = v;
                if (q < e)
                    q++;
                if (q == e && q[-1] == ',') {
                    perr(p, colof(p, q), "expected a chunk size after \",\"");
                    return -1;
                }
            }
        }
    }
    if (!st->nsplit && !(st->flags & SC_F_BYTEWISE)) {
        perr(p, w[0].col, "expected chunk sizes \"N,N,...\" or \"bytewise\" after @split");
        return -1;
    }
    return 0;
}

static int directive(P *p, const char *q, const char *end)
{
    word w[MAX_WORDS];
    unsigned nw;
    unsigned col = colof(p, q);
    if (split_words(p, q, end, w, &nw) != 0)
        return -1;
    const word *d = &w[0];
    sc_step *st;

    /* modifiers */
    if (weq(d, "@raw") || weq(d, "@secret") || weq(d, "@split")) {
        int raw = weq(d, "@raw"), sec = weq(d, "@secret");
        st = modifier_target(p, d, sec ? SECRETS : SENDS, sec ? NK(SECRETS) : raw ? 1 : NK(SENDS),
                             sec ? "a C:, S:, S* or @each line" : "a line we send");
        if (!st)
            return -1;
        if (raw || sec) {
            if (nargs_is(p, w, nw, 0, 0, raw ? "no arguments after @raw" : "no arguments after @secret") != 0)
                return -1;
            st->flags |= raw ? SC_F_RAW : SC_F_SECRET;
            return 0;
        }
        return split_args(p, st, w, nw);
    }
    if (weq(d, "@must") || weq(d, "@should") || weq(d, "@may") || weq(d, "@info")) {
        if (!(st = modifier_target(p, d, JUDGED, NK(JUDGED), "an expectation")))
            return -1;
        if (nargs_is(p, w, nw, 0, 0, "no arguments after a level override") != 0)
            return -1;
        st->level = d->p[1] == 'm' ? (d->p[2] == 'u' ? SC_LEVEL_MUST : SC_LEVEL_MAY)
                    : d->p[1] == 's' ? SC_LEVEL_SHOULD : SC_LEVEL_MAY;
        return 0;
    }
    if (weq(d, "@timeout")) {
        if (!(st = modifier_target(p, d, WAITS, NK(WAITS), "a step that waits for the peer")))
            return -1;
        if (nargs_is(p, w, nw, 1, 1, "a duration after @timeout (e.g. 5s)") != 0)
            return -1;
        return duration_arg(p, &w[1], &st->timeout_ms);
    }

    /* multi-line block items (role server) */
    if (weq(d, "@each") || weq(d, "@entries") || weq(d, "@body") || weq(d, "@capa")) {
        if (role_only(p, SC_ROLE_SERVER, d) != 0 || need_block(p, d->col, "@each/@entries/@body/@capa") != 0)
            return -1;
        long blk = p->block;
        if (weq(d, "@each")) {
            if (nw < 3) {
                perr(p, nw < 2 ? (unsigned)(end - p->l) + 1 : w[1].col + (unsigned)w[1].n,
                     "expected a name and a pattern: @each NAME PATTERN");
                return -1;
            }
            if (!(st = new_step(p, SC_STEP_EACH, col)) || name_arg(p, &w[1], &st->name, "a name for the entries") != 0 ||
                pattern_into(p, &st->pat, w[2].p, end) != 0)
                return -1;
            st->has_pat = 1;
        } else if (weq(d, "@entries")) {
            if (nargs_is(p, w, nw, 2, 2, "a comparison and a number: @entries >= 2") != 0)
                return -1;
            if (!(st = new_step(p, SC_STEP_ENTRIES, col)))
                return -1;
            if (op_of(&w[1], &st->op) != 0) {
                perr(p, w[1].col, "expected a comparison: ==, !=, <, <=, >, >=");
                return -1;
            }
            if (operand(p, &w[2], &st->rhs, &st->rhs_len) != 0)
                return -1;
        } else if (weq(d, "@body")) {
            if (!(st = new_step(p, SC_STEP_BODY, col)))
                return -1;
            for (unsigned i = 1; i < nw; i++) {
                word v = w[i];
                if (v.n > 7 && memcmp(v.p, "equals=", 7) == 0 && !st->fixture) {
                    v.p += 7, v.n -= 7, v.col += 7;
                    if (operand(p, &v, &st->fixture, &st->rhs_len) != 0)
                        return -1;
                } else if (v.n > 3 && memcmp(v.p, "as=", 3) == 0 && !st->name) {
                    v.p += 3, v.n -= 3, v.col += 3;
                    if (name_arg(p, &v, &st->name, "a name after as=") != 0)
                        return -1;
                } else {
                    perr(p, v.col, "expected equals=FIXTURE or as=NAME (each at most once)");
                    return -1;
                }
            }
            if (nw == 1) {
                perr(p, d->col + (unsigned)d->n, "expected equals=FIXTURE and/or as=NAME after @body");
                return -1;
            }
        } else {
            if (nargs_is(p, w, nw, 1, 1, "a name: @capa NAME") != 0)
                return -1;
            if (!(st = new_step(p, SC_STEP_CAPA, col)) || name_arg(p, &w[1], &st->name, "a name for the capability set") != 0)
                return -1;
        }
        st->link = blk;
        return 0;
    }

    if (no_open_block(p, col) != 0)
        return -1;

    if (weq(d, "@foreach")) {
        if (nargs_is(p, w, nw, 3, 3, "@foreach NAME in FROM..TO") != 0)
            return -1;
        if (!weq(&w[2], "in")) {
            perr(p, w[2].col, "expected \"in\" after the loop variable");
            return -1;
        }
        if (p->nloops >= SC_MAX_NESTING) {
            perr(p, col, "@foreach nested deeper than %d levels", SC_MAX_NESTING);
            return -1;
        }
        const char *r = w[3].p, *re = w[3].p + w[3].n, *dots = NULL;
        int depth = 0;
        for (const char *c = r; c + 1 < re && !dots; c++) {
            if (*c == '$' && c[1] == '{')
                depth++;
            else if (*c == '}' && depth > 0)
                depth--;
            else if (!depth && c[0] == '.' && c[1] == '.')
                dots = c;
        }
        if (!dots || dots == r || dots + 2 == re) {
            perr(p, w[3].col, "expected a range FROM..TO (numbers or ${variables})");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_FOREACH, col)) || name_arg(p, &w[1], &st->name, "a loop variable name") != 0)
            return -1;
        word a = {r, (size_t)(dots - r), w[3].col}, b = {dots + 2, (size_t)(re - dots - 2), colof(p, dots + 2)};
        if (operand(p, &a, &st->lhs, &st->lhs_len) != 0 || operand(p, &b, &st->rhs, &st->rhs_len) != 0)
            return -1;
        p->loops[p->nloops++] = (long)(p->s->nsteps - 1);
        return 0;
    }
    if (weq(d, "@end")) {
        if (nargs_is(p, w, nw, 0, 0, "no arguments after @end") != 0)
            return -1;
        if (!p->nloops) {
            perr(p, col, "@end without a @foreach to end");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_END, col)))
            return -1;
        long b = p->loops[--p->nloops];
        st->link = b;
        p->s->steps[b].link = (long)(p->s->nsteps - 1);
        return 0;
    }
    if (weq(d, "@assert")) {
        if (nw == 3 && (weq(&w[1], "defined") || weq(&w[1], "undefined"))) {
            if (!(st = new_step(p, SC_STEP_ASSERT, col)))
                return -1;
            st->op = weq(&w[1], "defined") ? SC_OP_DEFINED : SC_OP_UNDEFINED;
            if (w[2].n < 4 || memcmp(w[2].p, "${", 2) != 0 || w[2].p[w[2].n - 1] != '}') {
                perr(p, w[2].col, "expected a variable ${name} after \"%.*s\"", (int)w[1].n, w[1].p);
                return -1;
            }
            return operand(p, &w[2], &st->lhs, &st->lhs_len);
        }
        if (nw != 4) {
            perr(p, nw > 4 ? w[4].col : col,
                 "expected @assert A OP B (OP: == != < <= > >=) or @assert defined|undefined ${name}");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_ASSERT, col)))
            return -1;
        if (op_of(&w[2], &st->op) != 0) {
            perr(p, w[2].col, "expected a comparison: ==, !=, <, <=, >, >=");
            return -1;
        }
        if (operand(p, &w[1], &st->lhs, &st->lhs_len) != 0 || operand(p, &w[3], &st->rhs, &st->rhs_len) != 0)
            return -1;
        return 0;
    }
    if (weq(d, "@delay")) {
        if (nargs_is(p, w, nw, 1, 1, "a duration after @delay (e.g. 200ms)") != 0 ||
            !(st = new_step(p, SC_STEP_DELAY, col)))
            return -1;
        return duration_arg(p, &w[1], &st->delay_ms);
    }
    if (weq(d, "@session")) {
        if (nargs_is(p, w, nw, 1, 1, "a session name after @session") != 0)
            return -1;
        char *name = NULL;
        if (name_arg(p, &w[1], &name, "a session name") != 0)
            return -1;
        size_t i;
        for (i = 0; i < p->s->nsessions; i++)
            if (strcmp(p->s->sessions[i], name) == 0)
                break;
        if (i == p->s->nsessions) {
            if (i >= MAX_SESSIONS) {
                free(name);
                perr(p, w[1].col, "more than %d sessions", MAX_SESSIONS);
                return -1;
            }
            p->s->sessions[p->s->nsessions++] = name;
            name = NULL;
        }
        free(name);
        p->session = (int)i;
        if (!(st = new_step(p, SC_STEP_SESSION, col)))
            return -1;
        if (!(st->name = dupn(p->s->sessions[i], strlen(p->s->sessions[i]))))
            return oom(p);
        return 0;
    }
    static const struct { const char *n; sc_step_kind k; } BARE[] = {
        {"@connect", SC_STEP_CONNECT}, {"@drop", SC_STEP_DROP}, {"@close", SC_STEP_CLOSE}};
    if (weq(d, "@starttls")) {
        if (nw > 2 || (nw == 2 && !weq(&w[1], "fails") && !weq(&w[1], "or-close"))) {
            perr(p, w[1].col, "expected nothing, \"fails\" or \"or-close\" after @starttls");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_STARTTLS, col)))
            return -1;
        if (nw == 2)
            st->flags |= weq(&w[1], "fails") ? SC_F_FAILS : SC_F_ORCLOSE;
        return 0;
    }
    for (size_t i = 0; i < NK(BARE); i++)
        if (weq(d, BARE[i].n)) {
            if (nargs_is(p, w, nw, 0, 0, "no arguments") != 0)
                return -1;
            return new_step(p, BARE[i].k, col) ? 0 : -1;
        }
    if (weq(d, "@expect-close")) {
        if (!(st = new_step(p, SC_STEP_EXPECT_CLOSE, col)))
            return -1;
        if (nw == 1)
            return 0;
        if (nw != 3 || !weq(&w[1], "within")) {
            perr(p, w[1].col, "expected nothing or \"within T\" after @expect-close");
            return -1;
        }
        return duration_arg(p, &w[2], &st->delay_ms);
    }
    if (weq(d, "@expect-silence")) {
        if (nargs_is(p, w, nw, 1, 1, "a duration after @expect-silence (e.g. 2s)") != 0 ||
            !(st = new_step(p, SC_STEP_EXPECT_SILENCE, col)))
            return -1;
        return duration_arg(p, &w[1], &st->delay_ms);
    }
    /* role client only */
    if (weq(d, "@tls")) {
        if (role_only(p, SC_ROLE_CLIENT, d) != 0 ||
            nargs_is(p, w, nw, 1, 1, "cert=good|unknown-ca|wrong-host after @tls") != 0)
            return -1;
        static const char *const CERTS[] = {"cert=good", "cert=unknown-ca", "cert=wrong-host"};
        for (size_t i = 0; i < NK(CERTS); i++)
            if (weq(&w[1], CERTS[i])) {
                if (!(st = new_step(p, SC_STEP_TLS, col)) || !(st->name = dupn(CERTS[i] + 5, strlen(CERTS[i]) - 5)))
                    return st ? oom(p) : -1;
                return 0;
            }
        perr(p, w[1].col, "expected cert=good, cert=unknown-ca or cert=wrong-host");
        return -1;
    }
    if (weq(d, "@fixture")) {
        if (role_only(p, SC_ROLE_CLIENT, d) != 0)
            return -1;
        if (nw < 2) {
            perr(p, d->col + (unsigned)d->n, "expected a fixture name after @fixture");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_FIXTURE, col)) || operand(p, &w[1], &st->fixture, &st->text_len) != 0)
            return -1;
        for (unsigned i = 2; i < nw; i++) {
            if (weq(&w[i], "stuff=no") && !(st->flags & SC_F_NOSTUFF)) {
                st->flags |= SC_F_NOSTUFF;
            } else if (weq(&w[i], "end=no") && !(st->flags & SC_F_NOEND)) {
                st->flags |= SC_F_NOEND;
            } else if (w[i].n > 6 && memcmp(w[i].p, "lines=", 6) == 0 && !st->has_num) {
                uint64_t v = 0;
                size_t k = 6;
                while (k < w[i].n && w[i].p[k] >= '0' && w[i].p[k] <= '9' && k < 15)
                    v = v * 10 + (uint64_t)(w[i].p[k++] - '0');
                if (k == 6 || k != w[i].n) {
                    perr(p, w[i].col + 6, "expected a number after lines=");
                    return -1;
                }
                st->num = v;
                st->has_num = 1;
            } else {
                perr(p, w[i].col, "expected stuff=no, end=no or lines=N (each at most once)");
                return -1;
            }
        }
        return 0;
    }
    if (weq(d, "@expect-exit")) {
        if (role_only(p, SC_ROLE_CLIENT, d) != 0 ||
            nargs_is(p, w, nw, 1, 1, "0, nonzero or an exit status after @expect-exit") != 0 ||
            !(st = new_step(p, SC_STEP_EXPECT_EXIT, col)))
            return -1;
        st->has_num = 1;
        if (weq(&w[1], "nonzero")) {
            st->op = SC_OP_NE;
            return 0;
        }
        st->op = SC_OP_EQ;
        uint64_t v = 0;
        size_t k = 0;
        while (k < w[1].n && w[1].p[k] >= '0' && w[1].p[k] <= '9' && k < 3)
            v = v * 10 + (uint64_t)(w[1].p[k++] - '0');
        if (k == 0 || k != w[1].n || v > 255) {
            perr(p, w[1].col, "expected 0, nonzero or an exit status 0-255");
            return -1;
        }
        st->num = v;
        return 0;
    }
    if (weq(d, "@expect-stored")) {
        if (role_only(p, SC_ROLE_CLIENT, d) != 0)
            return -1;
        if (nw < 2) {
            perr(p, d->col + (unsigned)d->n, "expected fixture names, or \"none\", after @expect-stored");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_EXPECT_STORED, col)))
            return -1;
        if (nw == 2 && weq(&w[1], "none"))
            return 0;
        if (!(st->args = calloc(nw - 1, sizeof *st->args)))
            return oom(p);
        for (unsigned i = 1; i < nw; i++) {
            if (!ident_ok(w[i].p, w[i].n, 1)) {
                perr(p, w[i].col, "expected a fixture name");
                return -1;
            }
            if (!(st->args[st->nargs++] = dupn(w[i].p, w[i].n)))
                return oom(p);
        }
        return 0;
    }
    if (weq(d, "@expect-no-command")) {
        if (role_only(p, SC_ROLE_CLIENT, d) != 0)
            return -1;
        if (nw < 2) {
            perr(p, d->col + (unsigned)d->n, "expected a command pattern after @expect-no-command");
            return -1;
        }
        if (!(st = new_step(p, SC_STEP_EXPECT_NO_COMMAND, col)) || pattern_into(p, &st->pat, w[1].p, end) != 0)
            return -1;
        st->has_pat = 1;
        return 0;
    }
    if (weq(d, "@expect-quit")) {
        if (role_only(p, SC_ROLE_CLIENT, d) != 0 || nargs_is(p, w, nw, 0, 0, "no arguments") != 0)
            return -1;
        return new_step(p, SC_STEP_EXPECT_QUIT, col) ? 0 : -1;
    }
    perr(p, col, "unknown directive \"%.*s\" (see scenarios/FORMAT.md \"Directives\")", (int)d->n, d->p);
    return -1;
}

static int body_line(P *p)
{
    const char *q = p->l, *end = p->l + p->ln;
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    unsigned col = colof(p, q);
    if (*q == '@')
        return directive(p, q, end);
    int c = end - q >= 2 && q[0] == 'C' && q[1] == ':';
    int s = end - q >= 2 && q[0] == 'S' && q[1] == ':';
    int sd = end - q >= 2 && q[0] == 'S' && q[1] == '*';
    if (!c && !s && !sd) {
        perr(p, col, "expected a step: \"C:\", \"S:\", \"S*\", \"@directive\", or a # comment");
        return -1;
    }
    const char *t = q + 2;
    if (t < end) {
        if (*t != ' ') {
            perr(p, colof(p, t), "expected a space after \"%.2s\"", q);
            return -1;
        }
        t++;
    }
    sc_step *st;
    if (p->s->role == SC_ROLE_SERVER) {
        if (c) {
            if (no_open_block(p, col) != 0 || !(st = new_step(p, SC_STEP_SEND, col)))
                return -1;
            return template_step(p, st, t, end);
        }
        if (sd) {
            if (need_block(p, col, "S*") != 0 || !(st = new_step(p, SC_STEP_LINE, col)))
                return -1;
            st->link = p->block;
            st->has_pat = 1;
            return pattern_into(p, &st->pat, t, end);
        }
        if (end - t == 1 && *t == '.') {
            if (need_block(p, col, "\"S: .\"") != 0 || !(st = new_step(p, SC_STEP_DOT, col)))
                return -1;
            st->link = p->block;
            p->s->steps[p->block].link = (long)(p->s->nsteps - 1);
            p->block = -1;
            return 0;
        }
        if (t >= end) {
            perr(p, colof(p, t), "expected a status (+OK, -ERR, * or +) after \"S:\"");
            return -1;
        }
        return status_step(p, t, end, col);
    }
    if (no_open_block(p, col) != 0)
        return -1;
    if (c) {
        if (!(st = new_step(p, SC_STEP_COMMAND, col)))
            return -1;
        st->has_pat = 1;
        if (prefix_icase(t, (size_t)(end - t), "PASS") || prefix_icase(t, (size_t)(end - t), "AUTH"))
            st->flags |= SC_F_SECRET;
        return pattern_into(p, &st->pat, t, end);
    }
    if (!(st = new_step(p, SC_STEP_SEND, col)))
        return -1;
    if (sd)
        st->flags |= SC_F_STUFF;
    return template_step(p, st, t, end);
}

/* Octet hygiene of one raw line; returns 0 or the 1-based bad column. */
static unsigned bad_octet(const char *l, size_t n, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)l[i];
        if (c == 0) {
            *why = "NUL octet in a scenario file";
            return (unsigned)i + 1;
        }
        if (c == '\r') {
            *why = "CR not followed by LF (write \\r for a CR in text)";
            return (unsigned)i + 1;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = "control character in a scenario file (use an escape such as \\x01)";
            return (unsigned)i + 1;
        }
    }
    return 0;
}

int sc_parse(const char *path, const char *buf, size_t len, sc_scenario *out, sc_error *err)
{
    sc_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    memset(out, 0, sizeof *out);
    P *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        snprintf(err->text, sizeof err->text, "%s: out of memory", path ? path : "-");
        return -1;
    }
    p->path = path;
    p->s = out;
    p->err = err;
    p->block = -1;
    p->last_key = -1;
    int rc = -1;
    if (!(out->path = dupn(path ? path : "-", strlen(path ? path : "-")))) {
        oom(p);
        goto done;
    }
    if (len > SC_MAX_FILE) {
        perr(p, 0, "file larger than %u octets", SC_MAX_FILE);
        goto done;
    }
    size_t pos = 0;
    for (;;) {
        p->lineno++;
        if (pos >= len && (len == 0 || buf[len - 1] == '\n'))
            break; /* the empty "line" after the final LF */
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t raw = nl ? (size_t)(nl - l) : len - pos;
        pos += raw + (nl ? 1 : 0);
        size_t n = raw;
        if (n && l[n - 1] == '\r' && nl)
            n--;
        p->l = l;
        p->ln = n;
        p->rawlen = n;
        const char *why = NULL;
        unsigned bad = bad_octet(l, n, &why);
        if (bad) {
            perr(p, bad, "%s", why);
            goto done;
        }
        if (n > SC_MAX_LINE) {
            perr(p, SC_MAX_LINE + 1, "line longer than %d octets", SC_MAX_LINE);
            goto done;
        }
        while (p->ln && (l[p->ln - 1] == ' ' || l[p->ln - 1] == '\t'))
            p->ln--;
        size_t k = 0;
        while (k < p->ln && (l[k] == ' ' || l[k] == '\t'))
            k++;
        if (k == p->ln || l[k] == '#')
            goto next;
        if (!p->in_body) {
            int step = (p->ln - k >= 2 && ((l[k] == 'C' && l[k + 1] == ':') ||
                                           (l[k] == 'S' && (l[k + 1] == ':' || l[k + 1] == '*')))) ||
                       l[k] == '@';
            if (step && k == 0) {
                if (header_done(p) != 0)
                    goto done;
            } else {
                if (header_line(p) != 0)
                    goto done;
                goto next;
            }
        }
        if (body_line(p) != 0)
            goto done;
    next:
        if (!nl)
            break;
    }
    /* p->lineno is now the last line (the empty one after a final LF). */
    if (!p->in_body) {
        if (header_done(p) != 0)
            goto done;
        perr(p, 1, "expected steps (C:, S:, @directive) after the header");
        goto done;
    }
    if (p->block >= 0) {
        perr(p, 1, "expected \"S: .\" to end the multi-line response started at line %u",
             out->steps[p->block].loc.line);
        goto done;
    }
    if (p->nloops) {
        perr(p, 1, "expected @end for the @foreach at line %u",
             out->steps[p->loops[p->nloops - 1]].loc.line);
        goto done;
    }
    if (!out->nsteps) {
        perr(p, 1, "expected steps (C:, S:, @directive) after the header");
        goto done;
    }
    rc = 0;
done:
    for (int k = 0; k < K__COUNT; k++) {
        free(p->h[k].v);
        free(p->h[k].loc);
    }
    free(p);
    if (rc != 0)
        sc_free(out);
    return rc;
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sc_free(sc_scenario *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->id);
    free(s->title);
    free(s->section);
    free(s->quote);
    free(s->action);
    free(s->level_text);
    for (size_t i = 0; i < s->nrequires; i++)
        free(s->requires[i].name);
    free(s->requires);
    free_strv(s->tags, s->ntags);
    free_strv(s->mailbox, s->nmailbox);
    if (s->sessions)
        free_strv(s->sessions, s->nsessions);
    for (size_t i = 0; i < s->nsteps; i++) {
        sc_step *st = &s->steps[i];
        free(st->text);
        free(st->lhs);
        free(st->rhs);
        free(st->name);
        free(st->fixture);
        sc_pattern_free(&st->code);
        sc_pattern_free(&st->pat);
        free_strv(st->args, st->nargs);
    }
    free(s->steps);
    memset(s, 0, sizeof *s);
}
