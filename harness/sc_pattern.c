/*
 * sc_pattern.c - patterns, templates, comparisons and durations of the
 * scenario language (contract in sc.h, syntax in scenarios/FORMAT.md).
 */
#include "sc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void seterr(sc_error *err, size_t off, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->line = 0;
    err->col = (unsigned)(off + 1);
    snprintf(err->text, sizeof err->text, "%s", err->msg);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One escape at t[i] == '\\'. Templates and patterns share one escape set so
 * that authors need to learn one rule. Returns octets consumed, 0 if bad. */
static size_t escape(const char *t, size_t n, size_t i, unsigned char *out)
{
    if (i + 1 >= n)
        return 0;
    unsigned char c = (unsigned char)t[i + 1];
    switch (c) {
    case 'r': *out = '\r'; return 2;
    case 'n': *out = '\n'; return 2;
    case 't': *out = '\t'; return 2;
    case 's': *out = ' '; return 2;
    case '\\': case '$': case '*': case '?': case '{': case '}':
    case '(': case ')': case '|': case '[': case ']': case '#':
        *out = c;
        return 2;
    case 'x': {
        if (i + 3 >= n)
            return 0;
        int h = hexval((unsigned char)t[i + 2]), l = hexval((unsigned char)t[i + 3]);
        if (h < 0 || l < 0)
            return 0;
        *out = (unsigned char)(h * 16 + l);
        return 4;
    }
    default:
        return 0;
    }
}

static const char ESCAPES[] =
    "an escape: \\r \\n \\t \\s \\xHH, or \\ before one of \\ $ * ? { } ( ) | [ ] #";

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

/* ---------------------------------------------------------------------------
 * Templates.
 */
typedef struct xsink {
    char *p;
    size_t cap, len;
} xsink;

static int put(xsink *o, const char *p, size_t n)
{
    if (!o)
        return 0;
    if (n > o->cap - o->len)
        return -1;
    if (n)
        memcpy(o->p + o->len, p, n);
    o->len += n;
    return 0;
}

typedef struct xenv {
    sc_lookup_fn lookup;
    void *ctx;
    unsigned xflags;
    int check_only;
    sc_error *err;
} xenv;

#define NAME_BUF 256

static int walk_name(const char *t, size_t n, size_t *i, unsigned depth, xsink *o, xenv *e);

/* ${...} at t[*i] ('$'), expanded into o (value) or only checked. */
static int walk_var(const char *t, size_t n, size_t *i, unsigned depth, xsink *o, xenv *e)
{
    size_t start = *i;
    if (depth >= SC_MAX_VAR_DEPTH) {
        seterr(e->err, start, "variables nested deeper than %d levels", SC_MAX_VAR_DEPTH);
        return -1;
    }
    *i += 2;
    char name[NAME_BUF];
    xsink ns = {name, sizeof name, 0};
    if (walk_name(t, n, i, depth + 1, &ns, e) != 0)
        return -1;
    if (e->check_only)
        return 0;
    p3_slice v = {NULL, 0};
    int secret = 0;
    if (!e->lookup || !e->lookup(e->ctx, name, ns.len, &v, &secret)) {
        seterr(e->err, start, "undefined variable ${%.*s}", (int)ns.len, name);
        return -1;
    }
    if (secret)
        e->xflags |= SC_X_SECRET;
    if (put(o, v.p, v.n) != 0) {
        seterr(e->err, start, "expansion longer than %zu octets", o ? o->cap : 0);
        return -1;
    }
    return 0;
}

/* A variable name up to its '}' (consumed). */
static int walk_name(const char *t, size_t n, size_t *i, unsigned depth, xsink *o, xenv *e)
{
    size_t start = *i;
    while (*i < n) {
        unsigned char c = (unsigned char)t[*i];
        if (c == '}') {
            if (*i == start) {
                seterr(e->err, *i, "expected a variable name after \"${\"");
                return -1;
            }
            (*i)++;
            return 0;
        }
        if (c == '$' && *i + 1 < n && t[*i + 1] == '{') {
            if (walk_var(t, n, i, depth, o, e) != 0)
                return -1;
            continue;
        }
        if (!name_char(c)) {
            seterr(e->err, *i,
                   "expected a variable name (letters, digits, _ . -) or \"}\" in \"${\"");
            return -1;
        }
        if (put(o, (const char *)&t[*i], 1) != 0) {
            seterr(e->err, *i, "variable name longer than %d octets", NAME_BUF);
            return -1;
        }
        (*i)++;
    }
    seterr(e->err, n, "expected \"}\" to close \"${\"");
    return -1;
}

static int walk_top(const char *t, size_t n, xsink *o, xenv *e)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)t[i];
        if (c == '\\') {
            unsigned char b;
            size_t k = escape(t, n, i, &b);
            if (!k) {
                seterr(e->err, i, "expected %s", ESCAPES);
                return -1;
            }
            if (put(o, (const char *)&b, 1) != 0)
                goto full;
            i += k;
        } else if (c == '$' && i + 1 < n && t[i + 1] == '{') {
            if (walk_var(t, n, &i, 0, o, e) != 0)
                return -1;
        } else {
            if (put(o, (const char *)&t[i], 1) != 0)
                goto full;
            i++;
        }
    }
    return 0;
full:
    seterr(e->err, i, "expansion longer than %zu octets", o->cap);
    return -1;
}

int sc_expand(const char *t, size_t n, sc_lookup_fn lookup, void *ctx, char *out, size_t cap,
              size_t *outlen, unsigned *xflags, sc_error *err)
{
    xsink o = {out, out ? cap : 0, 0};
    xenv e = {lookup, ctx, 0, 0, err};
    int r = walk_top(t, n, &o, &e);
    if (outlen)
        *outlen = o.len;
    if (xflags)
        *xflags = e.xflags;
    return r;
}

int sc_template_check(const char *t, size_t n, sc_error *err)
{
    xenv e = {NULL, NULL, 0, 1, err};
    return walk_top(t, n, NULL, &e);
}

/* ---------------------------------------------------------------------------
 * Pattern compiler.
 */
typedef struct pbuild {
    sc_pattern *p;
    unsigned char *lit; /* pending literal run */
    size_t litn;
    sc_error *err;
} pbuild;

static int add_tok(pbuild *b, sc_ptok_kind k, const void *s, size_t n, size_t off)
{
    if (b->p->ntok >= SC_MAX_PTOKENS) {
        seterr(b->err, off, "pattern has more than %d parts", SC_MAX_PTOKENS);
        return -1;
    }
    sc_ptok *t = &b->p->tok[b->p->ntok];
    memset(t, 0, sizeof *t);
    t->kind = k;
    t->s = malloc(n + 1);
    if (!t->s) {
        seterr(b->err, off, "out of memory");
        return -1;
    }
    if (n)
        memcpy(t->s, s, n);
    t->s[n] = 0;
    t->n = n;
    b->p->ntok++;
    return 0;
}

static int flush_lit(pbuild *b, size_t off)
{
    if (!b->litn)
        return 0;
    int r = add_tok(b, SC_PT_LIT, b->lit, b->litn, off);
    b->litn = 0;
    return r;
}

static const struct {
    const char *name;
    sc_cap_type type;
} CAPTYPES[] = {{"num", SC_CAP_NUM},   {"word", SC_CAP_WORD}, {"text", SC_CAP_TEXT},
                {"uid", SC_CAP_UID},   {"ts", SC_CAP_TS},     {"b64", SC_CAP_B64}};

/* "{name:type}" at src[*i] == '{'. */
static int compile_capture(pbuild *b, const char *src, size_t n, size_t *i)
{
    size_t start = *i, j = *i + 1;
    size_t name_start = j;
    if (j < n && ((src[j] >= 'a' && src[j] <= 'z') || (src[j] >= 'A' && src[j] <= 'Z') ||
                  src[j] == '_')) {
        while (j < n && name_char((unsigned char)src[j]))
            j++;
    }
    size_t name_len = j - name_start;
    if (name_len > SC_MAX_NAME) {
        seterr(b->err, name_start, "capture name longer than %d octets", SC_MAX_NAME);
        return -1;
    }
    if (j >= n || src[j] != ':') {
        seterr(b->err, j,
               "expected \":\" and a capture type in \"{name:type}\" (write \\{ for a "
               "literal brace)");
        return -1;
    }
    j++;
    size_t ts = j;
    while (j < n && ((src[j] >= 'a' && src[j] <= 'z') || (src[j] >= '0' && src[j] <= '9')))
        j++;
    sc_cap_type type = 0;
    for (size_t k = 0; k < sizeof CAPTYPES / sizeof CAPTYPES[0]; k++)
        if (strlen(CAPTYPES[k].name) == j - ts && memcmp(CAPTYPES[k].name, src + ts, j - ts) == 0)
            type = CAPTYPES[k].type;
    if (!type) {
        seterr(b->err, ts, "expected a capture type: num, word, text, uid, ts or b64");
        return -1;
    }
    if (j >= n || src[j] != '}') {
        seterr(b->err, j, "expected \"}\" to close the capture");
        return -1;
    }
    if (name_len) {
        unsigned named = 0;
        for (unsigned k = 0; k < b->p->ntok; k++) {
            const sc_ptok *t = &b->p->tok[k];
            if (t->kind == SC_PT_CAP && t->n) {
                named++;
                if (t->n == name_len && memcmp(t->s, src + name_start, name_len) == 0) {
                    seterr(b->err, name_start, "capture {%.*s} appears twice in this pattern",
                           (int)name_len, src + name_start);
                    return -1;
                }
            }
        }
        if (named >= SC_MAX_CAPTURES) {
            seterr(b->err, start, "more than %d captures in one pattern", SC_MAX_CAPTURES);
            return -1;
        }
    }
    if (flush_lit(b, start) != 0 || add_tok(b, SC_PT_CAP, src + name_start, name_len, start) != 0)
        return -1;
    b->p->tok[b->p->ntok - 1].type = type;
    *i = j + 1;
    return 0;
}

/* "(a|b)" at src[*i] == '('. Returns 1 when the group holds no unescaped '|'
 * (then the parentheses are literal text, FORMAT.md "Patterns"). */
static int compile_alt(pbuild *b, const char *src, size_t n, size_t *i)
{
    size_t start = *i, j = *i + 1;
    int bar = 0, closed = 0;
    for (size_t k = j; k < n; k++) {
        if (src[k] == '\\') {
            k++;
            continue;
        }
        if (src[k] == '|')
            bar = 1;
        if (src[k] == ')' || src[k] == '(') {
            closed = src[k] == ')';
            break;
        }
    }
    if (!bar || !closed)
        return 1;
    unsigned char buf[SC_MAX_LINE];
    size_t bn = 0;
    unsigned nalt = 1;
    for (; j < n && src[j] != ')'; ) {
        unsigned char c = (unsigned char)src[j];
        if (c == '\\') {
            size_t k = escape(src, n, j, &c);
            if (!k) {
                seterr(b->err, j, "expected %s", ESCAPES);
                return -1;
            }
            j += k;
        } else if (c == '|') {
            if (++nalt > SC_MAX_ALTS) {
                seterr(b->err, j, "more than %d alternatives", SC_MAX_ALTS);
                return -1;
            }
            c = 0;
            j++;
        } else if (c == '*' || c == '?' || c == '{' || c == '$') {
            seterr(b->err, j, "alternatives are literal text: escape \"%c\" as \"\\%c\"", c, c);
            return -1;
        } else {
            j++;
        }
        if (bn >= sizeof buf) {
            seterr(b->err, j, "alternatives too long");
            return -1;
        }
        buf[bn++] = c;
    }
    if (flush_lit(b, start) != 0 || add_tok(b, SC_PT_ALT, buf, bn, start) != 0)
        return -1;
    b->p->tok[b->p->ntok - 1].nalt = nalt;
    *i = j + 1;
    return 0;
}

int sc_pattern_compile(const char *src, size_t n, sc_pattern *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    if (n > SC_MAX_LINE) {
        seterr(err, SC_MAX_LINE, "pattern longer than %d octets", SC_MAX_LINE);
        return -1;
    }
    unsigned char lit[SC_MAX_LINE];
    pbuild b = {out, lit, 0, err};
    out->tok = calloc(SC_MAX_PTOKENS, sizeof *out->tok);
    out->src = malloc(n + 1);
    if (!out->tok || !out->src) {
        seterr(err, 0, "out of memory");
        goto fail;
    }
    if (n)
        memcpy(out->src, src, n);
    out->src[n] = 0;
    out->srclen = n;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\\') {
            size_t k = escape(src, n, i, &c);
            if (!k) {
                seterr(err, i, "expected %s", ESCAPES);
                goto fail;
            }
            lit[b.litn++] = c;
            i += k;
        } else if (c == '*' || c == '?') {
            if (flush_lit(&b, i) != 0)
                goto fail;
            if (c == '*' && out->ntok && out->tok[out->ntok - 1].kind == SC_PT_STAR) {
                i++;
                continue; /* ** is * */
            }
            if (add_tok(&b, c == '*' ? SC_PT_STAR : SC_PT_ONE, "", 0, i) != 0)
                goto fail;
            i++;
        } else if (c == '{') {
            if (compile_capture(&b, src, n, &i) != 0)
                goto fail;
        } else if (c == '$' && i + 1 < n && src[i + 1] == '{') {
            size_t j = i + 2;
            xenv e = {NULL, NULL, 0, 1, err};
            if (walk_name(src, n, &j, 1, NULL, &e) != 0)
                goto fail;
            if (flush_lit(&b, i) != 0 || add_tok(&b, SC_PT_VAR, src + i + 2, j - i - 3, i) != 0)
                goto fail;
            i = j;
        } else if (c == '(') {
            int r = compile_alt(&b, src, n, &i);
            if (r < 0)
                goto fail;
            if (r == 1) {
                lit[b.litn++] = c;
                i++;
            }
        } else {
            lit[b.litn++] = c;
            i++;
        }
    }
    if (flush_lit(&b, n) != 0)
        goto fail;
    return 0;
fail:
    sc_pattern_free(out);
    return -1;
}

void sc_pattern_free(sc_pattern *p)
{
    if (!p)
        return;
    if (p->tok)
        for (unsigned i = 0; i < p->ntok; i++)
            free(p->tok[i].s);
    free(p->tok);
    free(p->src);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------------------
 * Matcher: backtracking over at most SC_MAX_PTOKENS levels (the recursion
 * depth is the token index), with a step budget against pathological
 * patterns such as *a*a*a*a*b on long text.
 */
typedef struct mctx {
    const sc_pattern *p;
    const unsigned char *t;
    size_t n;
    unsigned flags;
    size_t kw_end;
    unsigned long budget;
    sc_lookup_fn lookup;
    void *ctx;
    sc_error *err;
    size_t cap_off[SC_MAX_PTOKENS], cap_len[SC_MAX_PTOKENS];
} mctx;

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static int byte_eq(const mctx *m, size_t pos, unsigned char c)
{
    unsigned char x = m->t[pos];
    if (x == c)
        return 1;
    if ((m->flags & SC_M_NOCASE) || ((m->flags & SC_M_KEYWORD_NOCASE) && pos < m->kw_end))
        return fold(x) == fold(c);
    return 0;
}

static int lit_at(const mctx *m, size_t pos, const char *s, size_t n)
{
    if (n > m->n - pos)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (!byte_eq(m, pos + k, (unsigned char)s[k]))
            return 0;
    return 1;
}

static int is_b64(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=';
}

static int num_fits(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned d = (unsigned)(p[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return 1;
}

static int m_at(mctx *m, unsigned ti, size_t pos);

static int m_try(mctx *m, unsigned ti, size_t pos, size_t len)
{
    m->cap_off[ti] = pos;
    m->cap_len[ti] = len;
    return m_at(m, ti + 1, pos + len);
}

static int m_at(mctx *m, unsigned ti, size_t pos)
{
    if (m->budget == 0) {
        seterr(m->err, 0, "pattern too complex for this text (more than %u steps)",
               SC_MATCH_BUDGET);
        return -1;
    }
    m->budget--;
    if (ti == m->p->ntok)
        return pos == m->n;
    const sc_ptok *t = &m->p->tok[ti];
    size_t rest = m->n - pos;
    int r;
    switch (t->kind) {
    case SC_PT_LIT:
        if (!lit_at(m, pos, t->s, t->n))
            return 0;
        return m_try(m, ti, pos, t->n);
    case SC_PT_ONE:
        if (!rest)
            return 0;
        return m_try(m, ti, pos, 1);
    case SC_PT_STAR:
        if (ti + 1 == m->p->ntok)
            return m_try(m, ti, pos, rest);
        for (size_t k = 0; k <= rest; k++) {
            const sc_ptok *nx = &m->p->tok[ti + 1];
            if (nx->kind == SC_PT_LIT && (k == rest || !byte_eq(m, pos + k, (unsigned char)nx->s[0])))
                continue;
            if ((r = m_try(m, ti, pos, k)) != 0)
                return r;
        }
        return 0;
    case SC_PT_ALT: {
        const char *a = t->s;
        for (unsigned k = 0; k < t->nalt; k++) {
            size_t an = strlen(a);
            if (lit_at(m, pos, a, an) && (r = m_try(m, ti, pos, an)) != 0)
                return r;
            a += an + 1;
        }
        return 0;
    }
    case SC_PT_VAR: {
        char name[NAME_BUF];
        size_t nn = 0;
        if (sc_expand(t->s, t->n, m->lookup, m->ctx, name, sizeof name, &nn, NULL, m->err) != 0)
            return -1;
        p3_slice v = {NULL, 0};
        int secret = 0;
        if (!m->lookup || !m->lookup(m->ctx, name, nn, &v, &secret)) {
            seterr(m->err, 0, "undefined variable ${%.*s}", (int)nn, name);
            return -1;
        }
        if (!lit_at(m, pos, v.p, v.n))
            return 0;
        return m_try(m, ti, pos, v.n);
    }
    case SC_PT_CAP:
        break;
    }
    const unsigned char *s = m->t + pos;
    size_t run = 0;
    switch (t->type) {
    case SC_CAP_TEXT:
        for (size_t k = 0; k <= rest; k++)
            if ((r = m_try(m, ti, pos, k)) != 0)
                return r;
        return 0;
    case SC_CAP_TS: {
        if (!rest || s[0] != '<')
            return 0;
        int at = 0;
        for (size_t k = 1; k < rest; k++) {
            if (s[k] == '@')
                at = 1;
            if (s[k] == '>') {
                if (!at || k == 1)
                    return 0;
                return m_try(m, ti, pos, k + 1);
            }
        }
        return 0;
    }
    case SC_CAP_NUM:
        while (run < rest && s[run] >= '0' && s[run] <= '9')
            run++;
        break;
    case SC_CAP_WORD:
        while (run < rest && s[run] != ' ')
            run++;
        break;
    case SC_CAP_UID:
        while (run < rest && run < P3_MAX_UID && s[run] >= 0x21 && s[run] <= 0x7e)
            run++;
        break;
    case SC_CAP_B64:
        while (run < rest && is_b64(s[run]))
            run++;
        break;
    }
    /* Longest first: "{n:num}" takes all the digits unless what follows
     * needs some of them. */
    size_t min = t->type == SC_CAP_B64 ? 0 : 1;
    for (size_t k = run + 1; k-- > min;) {
        if (t->type == SC_CAP_NUM && !num_fits(s, k))
            continue;
        if (t->type == SC_CAP_B64 && !p3_base64_valid((const char *)s, k))
            continue;
        if ((r = m_try(m, ti, pos, k)) != 0)
            return r;
    }
    return 0;
}

int sc_match(const sc_pattern *p, const char *text, size_t n, unsigned flags,
             sc_lookup_fn lookup, void *ctx, sc_capture *caps, size_t capmax, size_t *ncaps,
             sc_error *err)
{
    if (ncaps)
        *ncaps = 0;
    mctx *m = calloc(1, sizeof *m);
    if (!m) {
        seterr(err, 0, "out of memory");
        return -1;
    }
    m->p = p;
    m->t = (const unsigned char *)(text ? text : "");
    m->n = text ? n : 0;
    m->flags = flags;
    m->kw_end = 0;
    while (m->kw_end < m->n && m->t[m->kw_end] != ' ')
        m->kw_end++;
    m->budget = SC_MATCH_BUDGET;
    m->lookup = lookup;
    m->ctx = ctx;
    m->err = err;
    int r = m_at(m, 0, 0);
    if (r == 1) {
        size_t k = 0;
        for (unsigned i = 0; i < p->ntok; i++) {
            const sc_ptok *t = &p->tok[i];
            if (t->kind != SC_PT_CAP || !t->n)
                continue;
            if (k >= capmax || !caps) {
                seterr(err, 0, "more than %zu captures", capmax);
                r = -1;
                break;
            }
            caps[k].name = t->s;
            caps[k].name_len = t->n;
            caps[k].value.p = text + m->cap_off[i];
            caps[k].value.n = m->cap_len[i];
            k++;
        }
        if (ncaps)
            *ncaps = r == 1 ? k : 0;
    }
    free(m);
    return r;
}

static const char *find_capture_name(const char *pat, const char *name, size_t n)
{
    for (const char *q = strchr(pat, '{'); q; q = strchr(q + 1, '{'))
        if (strncmp(q + 1, name, n) == 0 && q[1 + n] == ':')
            return q + 1;
    return "";
}

int sc_match_str(const char *pat, const char *text, size_t n, unsigned flags,
                 sc_lookup_fn lookup, void *ctx, sc_capture *caps, size_t capmax,
                 size_t *ncaps, sc_error *err)
{
    sc_pattern p;
    if (ncaps)
        *ncaps = 0;
    if (sc_pattern_compile(pat, strlen(pat), &p, err) != 0)
        return -1;
    int r = sc_match(&p, text, n, flags, lookup, ctx, caps, capmax, ncaps, err);
    /* caps[].name points into p: callers of this convenience get names only
     * while p lives, so point them at the source text instead. */
    if (r == 1 && ncaps)
        for (size_t k = 0; k < *ncaps; k++)
            for (unsigned i = 0; i < p.ntok; i++)
                if (caps[k].name == p.tok[i].s) {
                    caps[k].name = find_capture_name(pat, p.tok[i].s, p.tok[i].n);
                    break;
                }
    sc_pattern_free(&p);
    return r;
}

/* ---------------------------------------------------------------------------
 * Comparisons and durations.
 */
static int decimal(p3_slice s, uint64_t *v)
{
    if (!s.n || s.n > 20)
        return 0;
    for (size_t k = 0; k < s.n; k++)
        if (s.p[k] < '0' || s.p[k] > '9')
            return 0;
    if (!num_fits((const unsigned char *)s.p, s.n))
        return 0;
    uint64_t x = 0;
    for (size_t k = 0; k < s.n; k++)
        x = x * 10 + (uint64_t)(s.p[k] - '0');
    *v = x;
    return 1;
}

int sc_compare(p3_slice a, sc_op op, p3_slice b)
{
    uint64_t x, y;
    if (decimal(a, &x) && decimal(b, &y)) {
        switch (op) {
        case SC_OP_EQ: return x == y;
        case SC_OP_NE: return x != y;
        case SC_OP_LT: return x < y;
        case SC_OP_LE: return x <= y;
        case SC_OP_GT: return x > y;
        case SC_OP_GE: return x >= y;
        default: return -1;
        }
    }
    int eq = a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
    if (op == SC_OP_EQ)
        return eq;
    if (op == SC_OP_NE)
        return !eq;
    return -1;
}

const char *sc_op_text(sc_op op)
{
    switch (op) {
    case SC_OP_EQ: return "==";
    case SC_OP_NE: return "!=";
    case SC_OP_LT: return "<";
    case SC_OP_LE: return "<=";
    case SC_OP_GT: return ">";
    case SC_OP_GE: return ">=";
    case SC_OP_DEFINED: return "defined";
    case SC_OP_UNDEFINED: return "undefined";
    default: return "";
    }
}

int sc_duration(const char *p, size_t n, uint32_t *ms)
{
    size_t k = 0;
    uint64_t v = 0;
    while (k < n && p[k] >= '0' && p[k] <= '9') {
        v = v * 10 + (uint64_t)(p[k] - '0');
        if (v > SC_MAX_DURATION_MS)
            return -1;
        k++;
    }
    if (k == 0)
        return -1;
    uint64_t mult;
    if (n - k == 2 && p[k] == 'm' && p[k + 1] == 's')
        mult = 1;
    else if (n - k == 1 && p[k] == 's')
        mult = 1000;
    else if (n - k == 1 && p[k] == 'm')
        mult = 60000;
    else
        return -1;
    v *= mult;
    if (v > SC_MAX_DURATION_MS)
        return -1;
    *ms = (uint32_t)v;
    return 0;
}
