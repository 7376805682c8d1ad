/* Encoders: dot-stuffing (RFC 1939 section 3) and command / status lines that
 * the parser would accept in strict mode. */
#include "p3_util.h"
#include "pop3parse.h"

#include <string.h>

enum {
    SF_BOL = 0,  /* at the start of a line */
    SF_IN = 1,   /* inside a line */
    SF_OWED = 2  /* the stuffing dot was written, the data dot not yet */
};

void p3_stuff_init(p3_stuffer *s) { s->state = SF_BOL; }

size_t p3_stuff(p3_stuffer *s, const char *in, size_t n, char *out, size_t cap, size_t *used)
{
    size_t i = 0, o = 0;
    unsigned st = s->state;
    for (;;) {
        if (st == SF_OWED) {
            /* The input dot was taken when its stuffing dot was written. */
            if (o == cap)
                break;
            out[o++] = '.';
            st = SF_IN;
        }
        if (i == n || o == cap)
            break;
        if (st == SF_BOL && in[i] == '.') {
            out[o++] = '.';
            i++;
            st = SF_OWED;
            continue;
        }
        /* Copy through the next LF: only a line start needs a look. */
        size_t room = cap - o < n - i ? cap - o : n - i;
        const char *lf = memchr(in + i, '\n', room);
        size_t k = lf ? (size_t)(lf - (in + i)) + 1 : room;
        memcpy(out + o, in + i, k);
        o += k;
        i += k;
        st = lf ? SF_BOL : SF_IN;
    }
    s->state = st;
    *used = i;
    return o;
}

size_t p3_stuff_end(p3_stuffer *s, char *out, size_t cap)
{
    static const char end_bol[] = ".\r\n", end_in[] = "\r\n.\r\n", end_owed[] = ".\r\n.\r\n";
    const char *e = s->state == SF_BOL ? end_bol : s->state == SF_IN ? end_in : end_owed;
    size_t n = strlen(e);
    if (cap < 5 || cap < n)
        return 0;
    memcpy(out, e, n);
    s->state = SF_BOL;
    return n;
}

static ssize_t enc_fail(p3_diag *diag, p3_errno e, size_t off)
{
    if (diag) {
        diag->code = e;
        diag->offset = off;
        diag->skip = 0;
    }
    return P3_ERROR;
}

/* The code for the first octet of p[0..n) that may not appear in a line
 * (space allowed only when `space`), with *bad its index; P3_E_OK if none. */
static p3_errno check_text(const char *p, size_t n, int space, size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        p3_errno e = P3_E_OK;
        if (c == '\r')
            e = P3_E_BARE_CR;
        else if (c == '\n')
            e = P3_E_BARE_LF;
        else if (c == 0)
            e = P3_E_NUL;
        else if (c < 0x20)
            e = P3_E_CTL;
        else if (c > 0x7e)
            e = P3_E_EIGHT_BIT;
        else if (c == ' ' && !space)
            e = P3_E_SPACING;
        if (e != P3_E_OK) {
            *bad = i;
            return e;
        }
    }
    return P3_E_OK;
}

static const char arg_types[P3_CMD__COUNT][2] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) {#t1[0], #t2[0]},
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};
static const unsigned char arg_min[P3_CMD__COUNT] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) mina,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};
static const unsigned char arg_max[P3_CMD__COUNT] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) maxa,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};
static const char *const cmd_kw[P3_CMD__COUNT] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) kw,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

ssize_t p3_cmd_format(char *out, size_t cap, p3_cmd_kind kind, const char *unknown,
                      const p3_slice *args, unsigned nargs, p3_diag *diag)
{
    if ((unsigned)kind >= P3_CMD__COUNT || (kind == P3_CMD_UNKNOWN && !unknown) ||
        (nargs && !args))
        return enc_fail(diag, P3_E_ARGUMENT, 0);
    const char *kw = kind == P3_CMD_UNKNOWN ? unknown : cmd_kw[kind];
    size_t kn = strlen(kw), bad;
    p3_errno e = check_text(kw, kn, 0, &bad);
    if (e != P3_E_OK)
        return enc_fail(diag, e, bad);
    /* RFC 1939 section 3: "Keywords are three or four characters long." */
    if (kn < P3_MIN_KEYWORD || kn > P3_MAX_KEYWORD)
        return enc_fail(diag, P3_E_KEYWORD_LENGTH, 0);

    size_t len = kn;
    if (nargs > arg_max[kind])
        return enc_fail(diag, P3_E_TOO_MANY_ARGS, len);
    if (nargs < arg_min[kind])
        return enc_fail(diag, P3_E_TOO_FEW_ARGS, len);
    for (unsigned a = 0; a < nargs; a++) {
        const p3_slice *s = &args[a];
        if (s->n && !s->p)
            return enc_fail(diag, P3_E_ARGUMENT, len);
        len++; /* the space before it */
        char type = kind == P3_CMD_UNKNOWN ? 'S' : arg_types[kind][a];
        /* RFC 2449 section 3: param = 1*VCHAR. An empty one would read as
         * two spaces in a row. */
        if (s->n == 0)
            return enc_fail(diag, P3_E_SPACING, len);
        e = check_text(s->p, s->n, type == 'R', &bad);
        if (e != P3_E_OK)
            return enc_fail(diag, e, len + bad);
        /* RFC 1939 section 3: "Each argument may be up to 40 characters
         * long." RFC 5034 section 4 bounds the AUTH initial response only by
         * the 255-octet line. */
        if (s->n > P3_MAX_ARG && type != 'B')
            return enc_fail(diag, P3_E_ARG_TOO_LONG, len + P3_MAX_ARG);
        if (type == 'N') {
            uint32_t v;
            e = p3_dec_u32(s->p, s->n, &v, &bad);
            if (e != P3_E_OK)
                return enc_fail(diag, e, len + bad);
        } else if (type == 'B') {
            /* RFC 5034 section 6: initial-response = base64 / "=" */
            if (!(s->n == 1 && s->p[0] == '=') && !p3_base64_valid(s->p, s->n))
                return enc_fail(diag, P3_E_BASE64, len);
        }
        len += s->n;
    }
    len += 2;
    if (len > P3_MAX_CMD_LINE)
        return enc_fail(diag, P3_E_LINE_TOO_LONG, P3_MAX_CMD_LINE - 1);
    if (len > cap)
        return enc_fail(diag, P3_E_BUFFER, cap);
    size_t o = kn;
    memcpy(out, kw, kn);
    for (unsigned a = 0; a < nargs; a++) {
        out[o++] = ' ';
        memcpy(out + o, args[a].p, args[a].n);
        o += args[a].n;
    }
    out[o++] = '\r';
    out[o++] = '\n';
    return (ssize_t)o;
}

/* RFC 2449 section 3: resp-code = "[" resp-level *("/" resp-level) "]",
 * resp-level = 1*rchar, rchar = %x21-2E / %x30-5C / %x5E-7F. Returns the
 * index of the first bad octet, or n when the code is well-formed. */
static size_t check_code(const char *p, size_t n)
{
    size_t level = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '/') {
            if (level == 0)
                return i;
            level = 0;
            continue;
        }
        /* 0x7F is an rchar to the ABNF but DEL is not printable. */
        if (c < 0x21 || c > 0x7e || c == ']')
            return i;
        level++;
    }
    return level || n == 0 ? n : n - 1; /* a trailing "/" ends an empty level */
}

ssize_t p3_status_format(char *out, size_t cap, p3_status_kind kind, p3_slice code,
                         p3_slice text, p3_diag *diag)
{
    const char *st = kind == P3_ST_OK    ? "+OK"
                     : kind == P3_ST_ERR  ? "-ERR"
                     : kind == P3_ST_CONT ? "+ "
                                          : NULL;
    if (!st || (code.n && !code.p) || (text.n && !text.p))
        return enc_fail(diag, P3_E_ARGUMENT, 0);
    size_t sn = strlen(st), len = sn, bad;
    if (kind == P3_ST_CONT) {
        /* RFC 5034 section 6: continue-req = "+" SP [base64] CRLF */
        if (code.n)
            return enc_fail(diag, P3_E_ARGUMENT, len);
        p3_errno e = check_text(text.p, text.n, 0, &bad);
        if (e != P3_E_OK)
            return enc_fail(diag, e, len + bad);
        if (!p3_base64_valid(text.p, text.n))
            return enc_fail(diag, P3_E_BASE64, len);
        len += text.n;
    } else {
        if (code.n) {
            len += 2; /* " [" */
            bad = check_code(code.p, code.n);
            if (bad < code.n)
                return enc_fail(diag, P3_E_RESP_CODE, len + bad);
            len += code.n + 1;
        }
        if (text.n) {
            len++;
            p3_errno e = check_text(text.p, text.n, 1, &bad);
            if (e != P3_E_OK)
                return enc_fail(diag, e, len + bad);
            /* RFC 2449 section 3: text = *schar / resp-code *CHAR, and schar
             * excludes "[": without a code the text may not look like one. */
            if (!code.n && text.p[0] == '[')
                return enc_fail(diag, P3_E_RESP_CODE, len);
            len += text.n;
        }
    }
    len += 2;
    if (len > P3_MAX_RESP_LINE)
        return enc_fail(diag, P3_E_LINE_TOO_LONG, P3_MAX_RESP_LINE - 1);
    if (len > cap)
        return enc_fail(diag, P3_E_BUFFER, cap);
    size_t o = sn;
    memcpy(out, st, sn);
    if (kind == P3_ST_CONT) {
        if (text.n)
            memcpy(out + o, text.p, text.n);
        o += text.n;
    } else {
        if (code.n) {
            memcpy(out + o, " [", 2);
            memcpy(out + o + 2, code.p, code.n);
            o += code.n + 2;
            out[o++] = ']';
        }
        if (text.n) {
            out[o++] = ' ';
            memcpy(out + o, text.p, text.n);
            o += text.n;
        }
    }
    out[o++] = '\r';
    out[o++] = '\n';
    return (ssize_t)o;
}
