/* Unit tests of p3_cmd_parse and p3_sasl_line_parse. Every input goes
 * through run_cmd()/run_sasl(), which parse it placed at a guard page (so a
 * read past len faults), then parse every proper prefix and check that each
 * one either waits for more or reports the same diagnostic. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

#define END ((const char *)NULL)

typedef struct res {
    ssize_t r;
    p3_diag d;
    p3_cmd_kind kind;
    unsigned nargs;
    size_t kw_off, kw_n;
    size_t a_off[P3_MAX_ARGS], a_n[P3_MAX_ARGS];
    uint32_t num[2];
    size_t rest_off, rest_n;
    unsigned lenient;
} res;

static const char *esc(const char *s, size_t n)
{
    static char out[4096];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
    return out;
}

static void slice_in(p3_slice s, const char *base, size_t r, size_t *off, size_t *n)
{
    ck_assert_ptr_nonnull(s.p);
    ck_assert(s.p >= base && s.p + s.n <= base + r);
    *off = (size_t)(s.p - base);
    *n = s.n;
}

static res parse1(const char *s, size_t n, unsigned flags)
{
    const char *g = p3t_guard(s, n);
    p3_cmd c;
    p3_diag d;
    memset(&c, 0xa5, sizeof c);
    memset(&d, 0xa5, sizeof d);
    res x;
    memset(&x, 0, sizeof x);
    x.r = p3_cmd_parse(g, n, flags, &c, &d);
    if (x.r == P3_ERROR) {
        x.d = d;
        ck_assert_int_lt(d.code, P3_E__COUNT);
        ck_assert_int_ne(d.code, P3_E_OK);
        ck_assert_uint_le(d.skip, n);
        ck_assert_uint_le(d.offset, n > P3_MAX_CMD_LINE ? n : P3_MAX_CMD_LINE);
    } else if (x.r > 0) {
        size_t r = (size_t)x.r;
        ck_assert_uint_le(r, n);
        ck_assert_int_lt(c.kind, P3_CMD__COUNT);
        ck_assert_uint_le(c.nargs, P3_MAX_ARGS);
        ck_assert_uint_eq(c.lenient & ~0x7ffu, 0);
        x.kind = c.kind;
        x.nargs = c.nargs;
        slice_in(c.keyword, g, r, &x.kw_off, &x.kw_n);
        for (unsigned i = 0; i < c.nargs; i++)
            slice_in(c.args[i], g, r, &x.a_off[i], &x.a_n[i]);
        slice_in(c.rest, g, r, &x.rest_off, &x.rest_n);
        x.num[0] = c.num[0];
        x.num[1] = c.num[1];
        x.lenient = c.lenient;
        if (r > P3_MAX_CMD_LINE)
            ck_assert(c.lenient & P3_LENIENT_LONG_LINE);
    } else {
        ck_assert_int_eq(x.r, P3_NEED_MORE);
    }
    return x;
}

static void same_res(const res *a, const res *b, const char *what)
{
    ck_assert_msg(a->r == b->r, "%s: r %zd vs %zd", what, a->r, b->r);
    if (a->r == P3_ERROR) {
        ck_assert_msg(a->d.code == b->d.code && a->d.offset == b->d.offset &&
                          a->d.skip == b->d.skip,
                      "%s: diag differs", what);
        return;
    }
    ck_assert_msg(memcmp(a, b, sizeof *a) == 0, "%s: outputs differ", what);
}

/* Parse s whole and every proper prefix of it. */
static res run_cmd(const char *s, size_t n, unsigned flags)
{
    res full = parse1(s, n, flags);
    res again = parse1(s, n, flags);
    same_res(&full, &again, esc(s, n));
    for (size_t k = 0; k < n; k++) {
        res pre = parse1(s, k, flags);
        if (full.r > 0) {
            if (k < (size_t)full.r) {
                ck_assert_msg(pre.r == P3_NEED_MORE, "prefix %zu of \"%s\": %zd", k, esc(s, n),
                              pre.r);
            } else {
                same_res(&pre, &full, esc(s, n));
            }
        } else if (full.r == P3_ERROR) {
            if (pre.r == P3_NEED_MORE) {
                ck_assert_msg(full.d.skip == 0 || k < full.d.skip,
                              "prefix %zu of \"%s\" waits past the line", k, esc(s, n));
                continue;
            }
            ck_assert_msg(pre.r == P3_ERROR, "prefix %zu of \"%s\": %zd", k, esc(s, n), pre.r);
            ck_assert_msg(pre.d.code == full.d.code && pre.d.offset == full.d.offset,
                          "prefix %zu of \"%s\": %s@%zu vs %s@%zu", k, esc(s, n),
                          p3_errno_name(pre.d.code), pre.d.offset, p3_errno_name(full.d.code),
                          full.d.offset);
            if (full.d.skip && k >= full.d.skip)
                ck_assert_uint_eq(pre.d.skip, full.d.skip);
            else
                ck_assert_uint_eq(pre.d.skip, 0);
        } else {
            ck_assert_int_eq(pre.r, P3_NEED_MORE);
        }
    }
    return full;
}

static res check_ok(int line, const char *s, size_t n, unsigned flags, p3_cmd_kind kind,
                    unsigned lenient, const char *const *args)
{
    res x = run_cmd(s, n, flags);
    ck_assert_msg(x.r > 0, "line %d: \"%s\" -> %zd %s@%zu", line, esc(s, n), x.r,
                  x.r == P3_ERROR ? p3_errno_name(x.d.code) : "", x.d.offset);
    ck_assert_msg(x.kind == kind, "line %d: kind %d, want %d", line, x.kind, kind);
    ck_assert_msg(x.lenient == lenient, "line %d: lenient %#x, want %#x", line, x.lenient,
                  lenient);
    unsigned na = 0;
    while (args[na])
        na++;
    ck_assert_msg(x.nargs == na, "line %d: nargs %u, want %u", line, x.nargs, na);
    for (unsigned i = 0; i < na; i++) {
        size_t len = strlen(args[i]);
        ck_assert_msg(x.a_n[i] == len && memcmp(s + x.a_off[i], args[i], len) == 0,
                      "line %d: arg %u is \"%s\"", line, i, esc(s + x.a_off[i], x.a_n[i]));
    }
    return x;
}

static void check_err(int line, const char *s, size_t n, unsigned flags, p3_errno code,
                      size_t off, size_t skip)
{
    res x = run_cmd(s, n, flags);
    ck_assert_msg(x.r == P3_ERROR, "line %d: \"%s\" -> %zd, want %s", line, esc(s, n), x.r,
                  p3_errno_name(code));
    ck_assert_msg(x.d.code == code && x.d.offset == off && x.d.skip == skip,
                  "line %d: \"%s\" -> %s@%zu skip %zu, want %s@%zu skip %zu", line, esc(s, n),
                  p3_errno_name(x.d.code), x.d.offset, x.d.skip, p3_errno_name(code), off, skip);
}

#define OK(s, fl, kind, len, ...) \
    check_ok(__LINE__, s, sizeof(s) - 1, fl, kind, len, (const char *const[]){__VA_ARGS__})
#define OKN(s, n, fl, kind, len, ...) \
    check_ok(__LINE__, s, n, fl, kind, len, (const char *const[]){__VA_ARGS__})
#define ERR(s, fl, code, off, skip) check_err(__LINE__, s, sizeof(s) - 1, fl, code, off, skip)
#define ERRN(s, n, fl, code, off, skip) check_err(__LINE__, s, n, fl, code, off, skip)

static void rest_is(const res *x, const char *s, const char *want)
{
    size_t n = strlen(want);
    ck_assert_msg(x->rest_n == n && memcmp(s + x->rest_off, want, n) == 0, "rest \"%s\"",
                  esc(s + x->rest_off, x->rest_n));
}

/* ------------------------------------------------------------------------ */

START_TEST(rfc1939_examples)
{
    /* Every client line of the RFC 1939 examples (sections 4 to 7, 10). */
    OK("USER mrose\r\n", 0, P3_CMD_USER, 0, "mrose", END);
    OK("USER frated\r\n", 0, P3_CMD_USER, 0, "frated", END);
    OK("PASS secret\r\n", 0, P3_CMD_PASS, 0, "secret", END);
    OK("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", 0, P3_CMD_APOP, 0, "mrose",
       "c4c9334bac560ecc979e58001b3e22fb", END);
    OK("QUIT\r\n", 0, P3_CMD_QUIT, 0, END);
    OK("STAT\r\n", 0, P3_CMD_STAT, 0, END);
    OK("LIST\r\n", 0, P3_CMD_LIST, 0, END);
    res x = OK("LIST 2\r\n", 0, P3_CMD_LIST, 0, "2", END);
    ck_assert_uint_eq(x.num[0], 2);
    ck_assert_uint_eq(x.num[1], 0);
    x = OK("LIST 3\r\n", 0, P3_CMD_LIST, 0, "3", END);
    ck_assert_uint_eq(x.num[0], 3);
    x = OK("RETR 1\r\n", 0, P3_CMD_RETR, 0, "1", END);
    ck_assert_uint_eq(x.num[0], 1);
    x = OK("RETR 2\r\n", 0, P3_CMD_RETR, 0, "2", END);
    ck_assert_uint_eq(x.num[0], 2);
    x = OK("DELE 1\r\n", 0, P3_CMD_DELE, 0, "1", END);
    ck_assert_uint_eq(x.num[0], 1);
    x = OK("DELE 2\r\n", 0, P3_CMD_DELE, 0, "2", END);
    ck_assert_uint_eq(x.num[0], 2);
    OK("NOOP\r\n", 0, P3_CMD_NOOP, 0, END);
    OK("RSET\r\n", 0, P3_CMD_RSET, 0, END);
    x = OK("TOP 1 10\r\n", 0, P3_CMD_TOP, 0, "1", "10", END);
    ck_assert_uint_eq(x.num[0], 1);
    ck_assert_uint_eq(x.num[1], 10);
    x = OK("TOP 100 3\r\n", 0, P3_CMD_TOP, 0, "100", "3", END);
    ck_assert_uint_eq(x.num[0], 100);
    ck_assert_uint_eq(x.num[1], 3);
    x = OK("UIDL\r\n", 0, P3_CMD_UIDL, 0, END);
    ck_assert_uint_eq(x.num[0], 0);
    x = OK("UIDL 2\r\n", 0, P3_CMD_UIDL, 0, "2", END);
    ck_assert_uint_eq(x.num[0], 2);
    OK("UIDL 3\r\n", 0, P3_CMD_UIDL, 0, "3", END);
}
END_TEST

START_TEST(other_rfc_examples)
{
    /* RFC 2449 / 5034 / 2595 / 6856 client lines. */
    OK("CAPA\r\n", 0, P3_CMD_CAPA, 0, END);
    OK("STLS\r\n", 0, P3_CMD_STLS, 0, END);
    OK("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", 0, P3_CMD_AUTH, 0, "PLAIN",
       "dGVzdAB0ZXN0AHRlc3Q=", END);
    OK("AUTH PLAIN\r\n", 0, P3_CMD_AUTH, 0, "PLAIN", END);
    OK("AUTH DIGEST-MD5\r\n", 0, P3_CMD_AUTH, 0, "DIGEST-MD5", END);
    OK("USER karen\r\n", 0, P3_CMD_USER, 0, "karen", END);
    OK("PASS password\r\n", 0, P3_CMD_PASS, 0, "password", END);
    OK("LANG MUL\r\n", 0, P3_CMD_LANG, 0, "MUL", END);
    OK("LANG\r\n", 0, P3_CMD_LANG, 0, END);
    OK("LANG es\r\n", 0, P3_CMD_LANG, 0, "es", END);
    OK("LANG uga\r\n", 0, P3_CMD_LANG, 0, "uga", END);
    OK("LANG sv\r\n", 0, P3_CMD_LANG, 0, "sv", END);
    OK("LANG *\r\n", 0, P3_CMD_LANG, 0, "*", END);
    OK("UTF8\r\n", 0, P3_CMD_UTF8, 0, END);
}
END_TEST

/* Every known command with too few, the allowed and too many arguments,
 * driven by the same X-macro as the parser. */
static const struct {
    p3_cmd_kind kind;
    const char *kw;
    unsigned mina, maxa;
} cmds[] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) {P3_CMD_##name, kw, mina, maxa},
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

static const char *good_arg(p3_cmd_kind k, unsigned i)
{
    switch (k) {
    case P3_CMD_LIST:
    case P3_CMD_RETR:
    case P3_CMD_DELE:
    case P3_CMD_TOP:
    case P3_CMD_UIDL:
        return i ? "7" : "42";
    case P3_CMD_AUTH:
        return i ? "AAAA" : "PLAIN";
    default:
        return i ? "b" : "a";
    }
}

START_TEST(arg_counts)
{
    for (size_t c = 1; c < sizeof cmds / sizeof cmds[0]; c++) {
        ck_assert_str_eq(p3_cmd_keyword(cmds[c].kind), cmds[c].kw);
        for (unsigned na = 0; na <= cmds[c].maxa + 1; na++) {
            char line[128];
            size_t n = strlen(cmds[c].kw);
            memcpy(line, cmds[c].kw, n);
            for (unsigned i = 0; i < na; i++) {
                const char *a = good_arg(cmds[c].kind, i);
                if (cmds[c].kind == P3_CMD_PASS && i == 1) {
                    a = "x";
                }
                line[n++] = ' ';
                memcpy(line + n, a, strlen(a));
                n += strlen(a);
            }
            size_t e = n;
            line[n++] = '\r';
            line[n++] = '\n';
            res x = run_cmd(line, n, 0);
            if (cmds[c].kind == P3_CMD_PASS && na == 2) {
                /* "PASS a x": one argument with a space inside. */
                ck_assert_int_eq(x.r, (ssize_t)n);
                ck_assert_uint_eq(x.nargs, 1);
                ck_assert_uint_eq(x.a_n[0], 3);
            } else if (na < cmds[c].mina) {
                ck_assert_msg(x.r == P3_ERROR && x.d.code == P3_E_TOO_FEW_ARGS &&
                                  x.d.offset == e && x.d.skip == n,
                              "%s", esc(line, n));
            } else if (na > cmds[c].maxa) {
                size_t last = e - strlen(good_arg(cmds[c].kind, na - 1));
                ck_assert_msg(x.r == P3_ERROR && x.d.code == P3_E_TOO_MANY_ARGS &&
                                  x.d.offset == last && x.d.skip == n,
                              "%s: %zd %s@%zu", esc(line, n), x.r, p3_errno_name(x.d.code),
                              x.d.offset);
            } else {
                ck_assert_msg(x.r == (ssize_t)n, "%s", esc(line, n));
                ck_assert_int_eq(x.kind, cmds[c].kind);
                ck_assert_uint_eq(x.nargs, na);
                ck_assert_uint_eq(x.kw_off, 0);
                ck_assert_uint_eq(x.kw_n, strlen(cmds[c].kw));
            }
        }
    }
}
END_TEST

START_TEST(case_insensitive)
{
    OK("user mrose\r\n", 0, P3_CMD_USER, 0, "mrose", END);
    OK("UsEr mrose\r\n", 0, P3_CMD_USER, 0, "mrose", END);
    OK("uSeR MrOsE\r\n", 0, P3_CMD_USER, 0, "MrOsE", END);
    OK("top 1 2\r\n", 0, P3_CMD_TOP, 0, "1", "2", END);
    OK("ToP 1 2\r\n", 0, P3_CMD_TOP, 0, "1", "2", END);
    OK("utf8\r\n", 0, P3_CMD_UTF8, 0, END);
    OK("Utf8\r\n", 0, P3_CMD_UTF8, 0, END);
    /* Every keyword in lower case and in mixed case. */
    for (size_t c = 1; c < sizeof cmds / sizeof cmds[0]; c++) {
        for (int mode = 0; mode < 2; mode++) {
            char line[16];
            size_t n = strlen(cmds[c].kw);
            for (size_t i = 0; i < n; i++) {
                char ch = cmds[c].kw[i];
                if (ch >= 'A' && ch <= 'Z' && (mode == 0 || i % 2))
                    ch = (char)(ch + 32);
                line[i] = ch;
            }
            /* Arity errors still prove the keyword was recognised. */
            memcpy(line + n, "\r\n", 2);
            res x = run_cmd(line, n + 2, 0);
            if (cmds[c].mina == 0) {
                ck_assert_int_eq(x.r, (ssize_t)n + 2);
                ck_assert_int_eq(x.kind, cmds[c].kind);
                ck_assert_uint_eq(x.kw_n, n);
            } else {
                ck_assert_int_eq(x.r, P3_ERROR);
                ck_assert_int_eq(x.d.code, P3_E_TOO_FEW_ARGS);
            }
        }
    }
    /* Near misses: not letters folded into letters. */
    OK("USE@ a\r\n", 0, P3_CMD_UNKNOWN, 0, "a", END);
}
END_TEST

START_TEST(keyword_near_misses)
{
    /* Octets that differ from a keyword's letters only in bit 0x20 or by
     * being 8-bit must not match. */
    OK("USE\x52 a\r\n", 0, P3_CMD_USER, 0, "a", END);
    OK("USEr a\r\n", 0, P3_CMD_USER, 0, "a", END);
    OK("USE{ a\r\n", 0, P3_CMD_UNKNOWN, 0, "a", END);
    OK("USE[ a\r\n", 0, P3_CMD_UNKNOWN, 0, "a", END);
    OK("UTF\x18\r\n", P3_LENIENT_CTL, P3_CMD_UNKNOWN, P3_LENIENT_CTL, END);
    OK("UTF\xb8\r\n", P3_LENIENT_EIGHT_BIT, P3_CMD_UNKNOWN, P3_LENIENT_EIGHT_BIT, END);
    OK("\xd5SER a\r\n", P3_LENIENT_EIGHT_BIT, P3_CMD_UNKNOWN, P3_LENIENT_EIGHT_BIT, "a", END);
    OK("TOPS\r\n", 0, P3_CMD_UNKNOWN, 0, END);
    OK("TO P\r\n", P3_LENIENT_KEYWORD_LENGTH, P3_CMD_UNKNOWN, P3_LENIENT_KEYWORD_LENGTH, "P",
       END);
    OK("STA\r\n", 0, P3_CMD_UNKNOWN, 0, END);
    OK("QUITX\r\n", P3_LENIENT_KEYWORD_LENGTH, P3_CMD_UNKNOWN, P3_LENIENT_KEYWORD_LENGTH, END);
}
END_TEST

START_TEST(unknown_keywords)
{
    res x = OK("XTND XMIT\r\n", 0, P3_CMD_UNKNOWN, 0, "XMIT", END);
    ck_assert_uint_eq(x.kw_off, 0);
    ck_assert_uint_eq(x.kw_n, 4);
    rest_is(&x, "XTND XMIT\r\n", "XMIT");
    x = OK("XYZ a b c\r\n", 0, P3_CMD_UNKNOWN, 0, "a", "b", "c", END);
    rest_is(&x, "XYZ a b c\r\n", "a b c");
    ck_assert_uint_eq(x.num[0], 0);
    ck_assert_uint_eq(x.num[1], 0);
    OK("LAST\r\n", 0, P3_CMD_UNKNOWN, 0, END);
    OK("a1b2 1 2 3 4 5 6 7 8\r\n", 0, P3_CMD_UNKNOWN, 0, "1", "2", "3", "4", "5", "6", "7", "8",
       END);
    ERR("a1b2 1 2 3 4 5 6 7 8 9\r\n", 0, P3_E_TOO_MANY_ARGS, 21, 24);
    /* Arguments of unknown commands are held to 40 octets too. */
    ERR("XYZZ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 0, P3_E_ARG_TOO_LONG, 45, 48);
}
END_TEST

START_TEST(rest_slices)
{
    const char *s = "USER mrose\r\n";
    res x = OK("USER mrose\r\n", 0, P3_CMD_USER, 0, "mrose", END);
    rest_is(&x, s, "mrose");
    s = "QUIT\r\n";
    x = OK("QUIT\r\n", 0, P3_CMD_QUIT, 0, END);
    rest_is(&x, s, "");
    ck_assert_uint_eq(x.rest_off, 4);
    s = "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n";
    x = OK("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", 0, P3_CMD_APOP, 0, "mrose",
           "c4c9334bac560ecc979e58001b3e22fb", END);
    rest_is(&x, s, "mrose c4c9334bac560ecc979e58001b3e22fb");
    s = "  USER   a  \r\n";
    x = OK("  USER   a  \r\n", P3_LENIENT_SPACING, P3_CMD_USER, P3_LENIENT_SPACING, "a", END);
    ck_assert_uint_eq(x.kw_off, 2);
    rest_is(&x, s, "  a  ");
}
END_TEST

START_TEST(pass_spaces)
{
    res x = OK("PASS my secret pass\r\n", 0, P3_CMD_PASS, 0, "my secret pass", END);
    rest_is(&x, "PASS my secret pass\r\n", "my secret pass");
    OK("PASS  lead\r\n", 0, P3_CMD_PASS, 0, " lead", END);
    OK("PASS trail \r\n", 0, P3_CMD_PASS, 0, "trail ", END);
    OK("PASS a  b\r\n", 0, P3_CMD_PASS, 0, "a  b", END);
    OK("PASS  \r\n", 0, P3_CMD_PASS, 0, " ", END);
    OK("pass x\r\n", 0, P3_CMD_PASS, 0, "x", END);
    /* The keyword's own space with nothing after it. */
    ERR("PASS \r\n", 0, P3_E_SPACING, 4, 7);
    ERR("PASS \r\n", P3_LENIENT_SPACING, P3_E_TOO_FEW_ARGS, 5, 7);
    ERR("PASS\r\n", 0, P3_E_TOO_FEW_ARGS, 4, 6);
    /* 40 octets with spaces is fine, 41 is too long. */
    OK("PASS aaaaaaaaaa aaaaaaaaaa aaaaaaaaaa aaaaaaa\r\n", 0, P3_CMD_PASS, 0,
       "aaaaaaaaaa aaaaaaaaaa aaaaaaaaaa aaaaaaa", END);
    ERR("PASS aaaaaaaaaa aaaaaaaaaa aaaaaaaaaa aaaaaaaa\r\n", 0, P3_E_ARG_TOO_LONG, 45, 48);
    OK("PASS aaaaaaaaaa aaaaaaaaaa aaaaaaaaaa aaaaaaaa\r\n", P3_LENIENT_LONG_ARG, P3_CMD_PASS,
       P3_LENIENT_LONG_ARG, "aaaaaaaaaa aaaaaaaaaa aaaaaaaaaa aaaaaaaa", END);
}
END_TEST

START_TEST(auth_initial_response)
{
    OK("AUTH PLAIN =\r\n", 0, P3_CMD_AUTH, 0, "PLAIN", "=", END);
    OK("AUTH PLAIN AAAA\r\n", 0, P3_CMD_AUTH, 0, "PLAIN", "AAAA", END);
    OK("AUTH PLAIN AA==\r\n", 0, P3_CMD_AUTH, 0, "PLAIN", "AA==", END);
    OK("AUTH PLAIN AAA=\r\n", 0, P3_CMD_AUTH, 0, "PLAIN", "AAA=", END);
    OK("auth plain a+/9\r\n", 0, P3_CMD_AUTH, 0, "plain", "a+/9", END);
    ERR("AUTH PLAIN ==\r\n", 0, P3_E_BASE64, 11, 15);
    ERR("AUTH PLAIN A\r\n", 0, P3_E_BASE64, 12, 14);
    ERR("AUTH PLAIN AAA\r\n", 0, P3_E_BASE64, 14, 16);
    ERR("AUTH PLAIN =AAA\r\n", 0, P3_E_BASE64, 11, 17);
    ERR("AUTH PLAIN AAA=BBBB\r\n", 0, P3_E_BASE64, 14, 21);
    ERR("AUTH PLAIN A=A=\r\n", 0, P3_E_BASE64, 12, 17);
    ERR("AUTH PLAIN AA-A\r\n", 0, P3_E_BASE64, 13, 17);
    ERR("AUTH PLAIN A===\r\n", 0, P3_E_BASE64, 12, 17);
    ERR("AUTH PLAIN AAAA AAAA\r\n", 0, P3_E_TOO_MANY_ARGS, 16, 22);
    ERR("AUTH\r\n", 0, P3_E_TOO_FEW_ARGS, 4, 6);
    /* RFC 4616 PLAIN "\0tim\0tanstaaftanstaaf" style: a long initial
     * response, over 40 octets, inside the 255-octet line. */
    char line[300];
    memcpy(line, "AUTH PLAIN ", 11);
    size_t n = 11;
    for (size_t i = 0; i < 240; i++)
        line[n++] = "ABCD"[i % 4];
    memcpy(line + n, "\r\n", 2);
    n += 2; /* 253 */
    res x = run_cmd(line, n, 0);
    ck_assert_int_eq(x.r, (ssize_t)n);
    ck_assert_int_eq(x.kind, P3_CMD_AUTH);
    ck_assert_uint_eq(x.nargs, 2);
    ck_assert_uint_eq(x.a_n[1], 240);
    ck_assert_uint_eq(x.lenient, 0);
    /* A 244-octet response makes the line 257: too long. */
    memcpy(line, "AUTH PLAIN ", 11);
    n = 11;
    for (size_t i = 0; i < 244; i++)
        line[n++] = 'Q';
    memcpy(line + n, "\r\n", 2);
    n += 2;
    ERRN(line, n, 0, P3_E_LINE_TOO_LONG, 255, 0);
    x = run_cmd(line, n, P3_LENIENT_LONG_LINE);
    ck_assert_int_eq(x.r, (ssize_t)n);
    ck_assert_uint_eq(x.lenient, P3_LENIENT_LONG_LINE);
    /* Exactly 255 with a 3-octet mechanism name. */
    memcpy(line, "AUTH XYZ ", 9);
    n = 9;
    for (size_t i = 0; i < 244; i++)
        line[n++] = 'Q';
    memcpy(line + n, "\r\n", 2);
    n += 2;
    ck_assert_uint_eq(n, 255);
    x = run_cmd(line, n, 0);
    ck_assert_int_eq(x.r, 255);
    ck_assert_uint_eq(x.a_n[1], 244);
    /* The mechanism name is an ordinary argument: 40 octets at most. */
    ERR("AUTH AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n", 0, P3_E_ARG_TOO_LONG, 45, 48);
}
END_TEST

/* Content of c octets (an unknown command with 40-octet arguments). */
static size_t make_line(char *out, size_t c)
{
    size_t n = 0;
    memcpy(out, "XYZW", 4);
    n = 4;
    while (n < c) {
        out[n++] = ' ';
        for (size_t i = 0; i < P3_MAX_ARG && n < c; i++)
            out[n++] = 'a';
    }
    out[n++] = '\r';
    out[n++] = '\n';
    return n;
}

START_TEST(line_limit)
{
    char line[600];
    size_t n = make_line(line, 252);
    ck_assert_uint_eq(n, 254);
    res x = run_cmd(line, n, 0);
    ck_assert_int_eq(x.r, 254);
    n = make_line(line, 253);
    x = run_cmd(line, n, 0);
    ck_assert_int_eq(x.r, 255);
    ck_assert_uint_eq(x.lenient, 0);
    n = make_line(line, 254);
    ck_assert_uint_eq(n, 256);
    ERRN(line, n, 0, P3_E_LINE_TOO_LONG, 255, 0);
    x = run_cmd(line, n, P3_LENIENT_LONG_LINE);
    ck_assert_int_eq(x.r, 256);
    ck_assert_uint_eq(x.lenient, P3_LENIENT_LONG_LINE);
    /* The 255 limit counts the line end: a bare LF line of 255 fits. */
    n = make_line(line, 254);
    line[254] = '\n';
    x = run_cmd(line, 255, P3_LENIENT_BARE_LF);
    ck_assert_int_eq(x.r, 255);
    ck_assert_uint_eq(x.lenient, P3_LENIENT_BARE_LF);
    /* No line end: NEED_MORE below the limit, then too long. */
    memset(line, 'a', sizeof line);
    x = run_cmd(line, 254, 0);
    ck_assert_int_eq(x.r, P3_NEED_MORE);
    ERRN(line, 255, 0, P3_E_LINE_TOO_LONG, 255, 0);
    ERRN(line, 600, 0, P3_E_LINE_TOO_LONG, 255, 0);
    x = run_cmd(line, 600, P3_LENIENT_LONG_LINE);
    ck_assert_int_eq(x.r, P3_NEED_MORE);
    /* A line of 500 with LONG_LINE: also needs LONG_ARG for its args. */
    n = make_line(line, 498);
    ck_assert_uint_eq(n, 500);
    ERRN(line, n, P3_LENIENT_LONG_LINE, P3_E_TOO_MANY_ARGS, 4 + 8 * 41 + 1, 500);
    n = make_line(line, 300);
    x = run_cmd(line, n, P3_LENIENT_LONG_LINE);
    ck_assert_int_eq(x.r, 302);
    ck_assert_uint_eq(x.nargs, 8);
    /* CR as the 255th octet: the LF would be the 256th. */
    memset(line, 'a', sizeof line);
    memcpy(line, "XYZW ", 5);
    line[254] = '\r';
    line[255] = '\n';
    ERRN(line, 255, 0, P3_E_LINE_TOO_LONG, 255, 0);
    ERRN(line, 256, 0, P3_E_LINE_TOO_LONG, 255, 0);
}
END_TEST

START_TEST(arg_length)
{
    char line[128];
    for (size_t len = 1; len <= 45; len++) {
        memcpy(line, "USER ", 5);
        memset(line + 5, 'u', len);
        memcpy(line + 5 + len, "\r\n", 2);
        size_t n = len + 7;
        res x = run_cmd(line, n, 0);
        if (len <= P3_MAX_ARG) {
            ck_assert_int_eq(x.r, (ssize_t)n);
            ck_assert_uint_eq(x.a_n[0], len);
        } else {
            ck_assert_int_eq(x.r, P3_ERROR);
            ck_assert_int_eq(x.d.code, P3_E_ARG_TOO_LONG);
            ck_assert_uint_eq(x.d.offset, 5 + P3_MAX_ARG);
            ck_assert_uint_eq(x.d.skip, n);
            x = run_cmd(line, n, P3_LENIENT_LONG_ARG);
            ck_assert_int_eq(x.r, (ssize_t)n);
            ck_assert_uint_eq(x.lenient, P3_LENIENT_LONG_ARG);
        }
    }
    /* 39, 40, 41 in the second argument of APOP. */
    OK("APOP u 012345678901234567890123456789012345678\r\n", 0, P3_CMD_APOP, 0, "u",
       "012345678901234567890123456789012345678", END);
    OK("APOP u 0123456789012345678901234567890123456789\r\n", 0, P3_CMD_APOP, 0, "u",
       "0123456789012345678901234567890123456789", END);
    ERR("APOP u 01234567890123456789012345678901234567890\r\n", 0, P3_E_ARG_TOO_LONG, 47, 50);
    /* A number with 41 digits that fits (leading zeros) is still too long. */
    ERR("RETR 00000000000000000000000000000000000000001\r\n", 0, P3_E_ARG_TOO_LONG, 45, 48);
    res x = OK("RETR 00000000000000000000000000000000000000001\r\n", P3_LENIENT_LONG_ARG,
               P3_CMD_RETR, P3_LENIENT_LONG_ARG, "00000000000000000000000000000000000000001",
               END);
    ck_assert_uint_eq(x.num[0], 1);
}
END_TEST

START_TEST(keyword_length)
{
    ERR("AB\r\n", 0, P3_E_KEYWORD_LENGTH, 2, 4);
    ERR("A x\r\n", 0, P3_E_KEYWORD_LENGTH, 1, 5);
    OK("ABC\r\n", 0, P3_CMD_UNKNOWN, 0, END);
    OK("ABCD\r\n", 0, P3_CMD_UNKNOWN, 0, END);
    ERR("ABCDE\r\n", 0, P3_E_KEYWORD_LENGTH, 4, 7);
    ERR("ABCDEFGHIJ x\r\n", 0, P3_E_KEYWORD_LENGTH, 4, 14);
    ERR("USERS x\r\n", 0, P3_E_KEYWORD_LENGTH, 4, 9);
    res x = OK("AB\r\n", P3_LENIENT_KEYWORD_LENGTH, P3_CMD_UNKNOWN, P3_LENIENT_KEYWORD_LENGTH,
               END);
    ck_assert_uint_eq(x.kw_n, 2);
    x = OK("ABCDE x\r\n", P3_LENIENT_KEYWORD_LENGTH, P3_CMD_UNKNOWN, P3_LENIENT_KEYWORD_LENGTH,
           "x", END);
    ck_assert_uint_eq(x.kw_n, 5);
    OK("A\r\n", P3_LENIENT_KEYWORD_LENGTH, P3_CMD_UNKNOWN, P3_LENIENT_KEYWORD_LENGTH, END);
    /* A 3-octet keyword ending the line, and one followed by its space. */
    ERR("TOP\r\n", 0, P3_E_TOO_FEW_ARGS, 3, 5);
    OK("TOP 1 2\r\n", 0, P3_CMD_TOP, 0, "1", "2", END);
    OK("XYZ\r\n", 0, P3_CMD_UNKNOWN, 0, END);
}
END_TEST

START_TEST(numbers)
{
    res x = OK("RETR 4294967295\r\n", 0, P3_CMD_RETR, 0, "4294967295", END);
    ck_assert_uint_eq(x.num[0], 4294967295u);
    ERR("RETR 4294967296\r\n", 0, P3_E_NUMBER_RANGE, 14, 17);
    ERR("RETR 9999999999\r\n", 0, P3_E_NUMBER_RANGE, 14, 17);
    ERR("RETR 10000000000\r\n", 0, P3_E_NUMBER_RANGE, 15, 18);
    ERR("RETR 123456789012345678901234567890\r\n", 0, P3_E_NUMBER_RANGE, 15, 37);
    ERR("RETR 99999999999999999999999999999999999999999999\r\n", 0, P3_E_NUMBER_RANGE, 14,
        51);
    ERR("RETR 99999999999999999999999999999999999999999999\r\n", P3_LENIENT_LONG_ARG,
        P3_E_NUMBER_RANGE, 14, 51);
    x = OK("RETR 0\r\n", 0, P3_CMD_RETR, 0, "0", END);
    ck_assert_uint_eq(x.num[0], 0);
    x = OK("RETR 0004294967295\r\n", 0, P3_CMD_RETR, 0, "0004294967295", END);
    ck_assert_uint_eq(x.num[0], 4294967295u);
    ERR("RETR +1\r\n", 0, P3_E_NUMBER_SIGN, 5, 9);
    ERR("RETR -1\r\n", 0, P3_E_NUMBER_SIGN, 5, 9);
    ERR("RETR 1a\r\n", 0, P3_E_NUMBER, 6, 9);
    ERR("RETR a\r\n", 0, P3_E_NUMBER, 5, 8);
    ERR("RETR 0x10\r\n", 0, P3_E_NUMBER, 6, 11);
    ERR("DELE 1.\r\n", 0, P3_E_NUMBER, 6, 9);
    ERR("LIST #\r\n", 0, P3_E_NUMBER, 5, 8);
    ERR("UIDL 1e3\r\n", 0, P3_E_NUMBER, 6, 10);
    ERR("TOP 1 -0\r\n", 0, P3_E_NUMBER_SIGN, 6, 10);
    ERR("TOP x 1\r\n", 0, P3_E_NUMBER, 4, 9);
    ERR("TOP 1 4294967296\r\n", 0, P3_E_NUMBER_RANGE, 15, 18);
    x = OK("TOP 4294967295 4294967294\r\n", 0, P3_CMD_TOP, 0, "4294967295", "4294967294", END);
    ck_assert_uint_eq(x.num[0], 4294967295u);
    ck_assert_uint_eq(x.num[1], 4294967294u);
    /* A non-digit after an overflow is reported where it is. */
    ERR("RETR 99999999999x\r\n", 0, P3_E_NUMBER, 16, 19);
}
END_TEST

START_TEST(spacing)
{
    ERR(" USER a\r\n", 0, P3_E_SPACING, 0, 9);
    ERR("USER  a\r\n", 0, P3_E_SPACING, 5, 9);
    ERR("USER a \r\n", 0, P3_E_SPACING, 6, 9);
    ERR("QUIT \r\n", 0, P3_E_SPACING, 4, 7);
    ERR("TOP 1  2\r\n", 0, P3_E_SPACING, 6, 10);
    ERR("XYZ a  b\r\n", 0, P3_E_SPACING, 6, 10);
    ERR(" \r\n", 0, P3_E_SPACING, 0, 3);
    OK("  USER a\r\n", P3_LENIENT_SPACING, P3_CMD_USER, P3_LENIENT_SPACING, "a", END);
    OK("USER   a\r\n", P3_LENIENT_SPACING, P3_CMD_USER, P3_LENIENT_SPACING, "a", END);
    OK("USER a   \r\n", P3_LENIENT_SPACING, P3_CMD_USER, P3_LENIENT_SPACING, "a", END);
    OK("QUIT \r\n", P3_LENIENT_SPACING, P3_CMD_QUIT, P3_LENIENT_SPACING, END);
    OK("TOP  1   2 \r\n", P3_LENIENT_SPACING, P3_CMD_TOP, P3_LENIENT_SPACING, "1", "2", END);
    OK("XYZ  a   b\r\n", P3_LENIENT_SPACING, P3_CMD_UNKNOWN, P3_LENIENT_SPACING, "a", "b", END);
    /* Spacing leniency does not create arguments. */
    ERR("USER   \r\n", P3_LENIENT_SPACING, P3_E_TOO_FEW_ARGS, 7, 9);
    ERR("   \r\n", P3_LENIENT_SPACING, P3_E_EMPTY_LINE, 3, 5);
    /* Only SP separates: a TAB is part of a word (and needs CTL). */
    ERR("USER\ta\r\n", 0, P3_E_CTL, 4, 8);
    OK("USER a\tb\r\n", P3_LENIENT_CTL, P3_CMD_USER, P3_LENIENT_CTL, "a\tb", END);
    ERR("USER\ta\r\n", P3_LENIENT_CTL, P3_E_KEYWORD_LENGTH, 4, 8);
}
END_TEST

START_TEST(empty_line)
{
    ERR("\r\n", 0, P3_E_EMPTY_LINE, 0, 2);
    ERR("\r\nQUIT\r\n", 0, P3_E_EMPTY_LINE, 0, 2);
    ERR("\n", 0, P3_E_BARE_LF, 0, 1);
    ERR("\n", P3_LENIENT_BARE_LF, P3_E_EMPTY_LINE, 0, 1);
    ck_assert_int_eq(run_cmd("", 0, 0).r, P3_NEED_MORE);
    ck_assert_int_eq(run_cmd("\r", 1, 0).r, P3_NEED_MORE);
}
END_TEST

START_TEST(line_ends)
{
    /* Bare LF. */
    ERR("QUIT\n", 0, P3_E_BARE_LF, 4, 5);
    ERR("USER a\nQUIT\r\n", 0, P3_E_BARE_LF, 6, 7);
    OK("QUIT\n", P3_LENIENT_BARE_LF, P3_CMD_QUIT, P3_LENIENT_BARE_LF, END);
    res x = OK("USER a\nQUIT\r\n", P3_LENIENT_BARE_LF, P3_CMD_USER, P3_LENIENT_BARE_LF, "a",
               END);
    ck_assert_int_eq(x.r, 7);
    OK("QUIT\r\n", P3_LENIENT_BARE_LF, P3_CMD_QUIT, 0, END);
    /* Bare CR: an error as soon as the next octet is not LF. */
    ERR("QU\rIT\r\n", 0, P3_E_BARE_CR, 2, 7);
    ERR("QUIT\r\r\n", 0, P3_E_BARE_CR, 4, 7);
    ERR("QUIT\rX", 0, P3_E_BARE_CR, 4, 0);
    ERR("QUIT\r\r", 0, P3_E_BARE_CR, 4, 0);
    OK("USER a\rb\r\n", P3_LENIENT_BARE_CR, P3_CMD_USER, P3_LENIENT_BARE_CR, "a\rb", END);
    x = run_cmd("QUIT\r\r\n", 7, P3_LENIENT_BARE_CR);
    ck_assert_int_eq(x.r, P3_ERROR);
    ck_assert_int_eq(x.d.code, P3_E_KEYWORD_LENGTH);
    /* CR then bare LF: with both leniencies the LF ends the line. */
    OK("NOOP\n", P3_LENIENT_BARE_CR | P3_LENIENT_BARE_LF, P3_CMD_NOOP, P3_LENIENT_BARE_LF, END);
    /* "\n\r" is a bare LF, not a line end. */
    ERR("QUIT\n\r", 0, P3_E_BARE_LF, 4, 5);
}
END_TEST

START_TEST(special_octets)
{
    ERRN("QU\0T\r\n", 6, 0, P3_E_NUL, 2, 6);
    ERRN("QU\0T\r\n", 6, 0x7ff, P3_E_NUL, 2, 6);
    ERRN("USER a\0", 7, 0, P3_E_NUL, 6, 0);
    ERRN("\0", 1, 0, P3_E_NUL, 0, 0);
    ERR("USER a\tb\r\n", 0, P3_E_CTL, 6, 10);
    ERR("USER a\x01\r\n", 0, P3_E_CTL, 6, 9);
    ERR("USER a\x1f\r\n", 0, P3_E_CTL, 6, 9);
    ERR("USER a\x7f\r\n", 0, P3_E_CTL, 6, 9);
    ERR("USER a\x7f\r\n", P3_LENIENT_EIGHT_BIT, P3_E_CTL, 6, 9);
    ERR("USER a\x80\r\n", 0, P3_E_EIGHT_BIT, 6, 9);
    ERR("USER a\xff\r\n", 0, P3_E_EIGHT_BIT, 6, 9);
    ERR("USER \xc3\xa9t\xc3\xa9\r\n", 0, P3_E_EIGHT_BIT, 5, 12);
    ERR("USER \xc3\xa9t\xc3\xa9\r\n", P3_LENIENT_CTL, P3_E_EIGHT_BIT, 5, 12);
    OK("USER \xc3\xa9t\xc3\xa9\r\n", P3_LENIENT_EIGHT_BIT, P3_CMD_USER, P3_LENIENT_EIGHT_BIT,
       "\xc3\xa9t\xc3\xa9", END);
    OK("USER a\x7f\r\n", P3_LENIENT_CTL, P3_CMD_USER, P3_LENIENT_CTL, "a\x7f", END);
    OK("USER a\x01\tb\x1b\r\n", P3_LENIENT_CTL, P3_CMD_USER, P3_LENIENT_CTL, "a\x01\tb\x1b",
       END);
    OK("USER \x80\x01\r\n", P3_LENIENT_CTL | P3_LENIENT_EIGHT_BIT, P3_CMD_USER,
       P3_LENIENT_CTL | P3_LENIENT_EIGHT_BIT, "\x80\x01", END);
    /* The first special octet wins, and is reported before the line end
     * is seen (skip 0 then). */
    ERR("USER \x80\x01\r\n", P3_LENIENT_EIGHT_BIT, P3_E_CTL, 6, 9);
    ERR("US\x01R \x80", 0, P3_E_CTL, 2, 0);
    /* Octet errors come before grammar errors later in the line... */
    ERR("USER  a\x01\r\n", 0, P3_E_CTL, 7, 10);
    /* ... and the special octet past the limit is not looked at. */
    char line[300];
    memset(line, 'a', sizeof line);
    memcpy(line, "XYZW ", 5);
    line[260] = 0;
    ERRN(line, 300, 0, P3_E_LINE_TOO_LONG, 255, 0);
    line[254] = 0;
    ERRN(line, 300, 0, P3_E_NUL, 254, 0);
    /* The skip of an octet error finds the LF inside the limit only. */
    memset(line, 'a', sizeof line);
    memcpy(line, "XYZW ", 5);
    line[10] = '\t';
    line[280] = '\r';
    line[281] = '\n';
    ERRN(line, 282, 0, P3_E_CTL, 10, 0);
    ERRN(line, 282, P3_LENIENT_LONG_LINE, P3_E_CTL, 10, 282);
}
END_TEST

START_TEST(leniency_bits)
{
    /* One line needing every leniency at once. */
    const char s[] = "  x\x01  a\xff\rb \n";
    unsigned all = P3_LENIENT_SPACING | P3_LENIENT_CTL | P3_LENIENT_EIGHT_BIT |
                   P3_LENIENT_BARE_CR | P3_LENIENT_BARE_LF | P3_LENIENT_KEYWORD_LENGTH;
    res x = OK(s, all | P3_LENIENT_LONG_ARG | P3_LENIENT_LONG_LINE, P3_CMD_UNKNOWN, all,
               "a\xff\rb", END);
    ck_assert_uint_eq(x.kw_off, 2);
    ck_assert_uint_eq(x.kw_n, 2);
    /* Leniencies that do not apply to commands change nothing. */
    OK("QUIT\r\n", P3_LENIENT_STATUS_CASE | P3_LENIENT_STATUS_SPACE | P3_LENIENT_UID,
       P3_CMD_QUIT, 0, END);
}
END_TEST

START_TEST(need_more)
{
    const char *lines[] = {"USER mrose\r\n", "QUIT\r\n", "TOP 1 10\r\n",
                           "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", "PASS a b c\r\n"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t n = strlen(lines[i]);
        for (size_t k = 0; k < n; k++) {
            p3_cmd c;
            p3_diag d;
            const char *g = p3t_guard(lines[i], k);
            ck_assert_int_eq(p3_cmd_parse(g, k, 0, &c, &d), P3_NEED_MORE);
        }
    }
    /* A NULL diag is allowed. */
    p3_cmd c;
    const char *g = p3t_guard("\r\n", 2);
    ck_assert_int_eq(p3_cmd_parse(g, 2, 0, &c, NULL), P3_ERROR);
}
END_TEST

START_TEST(pipelined)
{
    const char s[] = "USER mrose\r\nPASS secret word\r\nSTAT\r\nLIST 2\r\nTOP 1 10\r\nQUIT\r\n";
    const p3_cmd_kind want[] = {P3_CMD_USER, P3_CMD_PASS, P3_CMD_STAT,
                                P3_CMD_LIST, P3_CMD_TOP,  P3_CMD_QUIT};
    size_t n = sizeof s - 1, off = 0;
    const char *g = p3t_guard(s, n);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        p3_cmd c;
        p3_diag d;
        ssize_t r = p3_cmd_parse(g + off, n - off, 0, &c, &d);
        ck_assert_int_gt(r, 0);
        ck_assert_int_eq(c.kind, want[i]);
        ck_assert(c.keyword.p == g + off);
        off += (size_t)r;
    }
    ck_assert_uint_eq(off, n);
    /* The first line's result does not depend on what follows it. */
    res x = OK("USER mrose\r\nQUIT\r\n", 0, P3_CMD_USER, 0, "mrose", END);
    ck_assert_int_eq(x.r, 12);
    x = OK("QUIT\r\nUSER", 0, P3_CMD_QUIT, 0, END);
    ck_assert_int_eq(x.r, 6);
    /* A bad line followed by a good one: skip lands on the good one. */
    ERR("USER  a\r\nQUIT\r\n", 0, P3_E_SPACING, 5, 9);
}
END_TEST

/* ------------------------------------------------------------------------
 * SASL lines.
 */

typedef struct sres {
    ssize_t r;
    p3_diag d;
    int cancel;
    size_t off, n;
    unsigned lenient;
} sres;

static sres sparse1(const char *s, size_t n, unsigned flags)
{
    const char *g = p3t_guard(s, n);
    p3_sasl_line l;
    p3_diag d;
    memset(&l, 0xa5, sizeof l);
    memset(&d, 0xa5, sizeof d);
    sres x;
    memset(&x, 0, sizeof x);
    x.r = p3_sasl_line_parse(g, n, flags, &l, &d);
    if (x.r == P3_ERROR) {
        x.d = d;
        ck_assert_uint_le(d.skip, n);
    } else if (x.r > 0) {
        ck_assert_uint_le((size_t)x.r, n);
        ck_assert(l.cancel == 0 || l.cancel == 1);
        x.cancel = l.cancel;
        slice_in(l.data, g, (size_t)x.r, &x.off, &x.n);
        ck_assert(p3_base64_valid(l.data.p, l.data.n));
        x.lenient = l.lenient;
    } else {
        ck_assert_int_eq(x.r, P3_NEED_MORE);
    }
    return x;
}

static sres run_sasl(const char *s, size_t n, unsigned flags)
{
    sres full = sparse1(s, n, flags);
    for (size_t k = 0; k < n; k++) {
        sres pre = sparse1(s, k, flags);
        if (full.r > 0 && k >= (size_t)full.r) {
            ck_assert(memcmp(&pre, &full, sizeof pre) == 0);
        } else if (full.r == P3_ERROR && pre.r == P3_ERROR) {
            ck_assert_int_eq(pre.d.code, full.d.code);
            ck_assert_uint_eq(pre.d.offset, full.d.offset);
            ck_assert(pre.d.skip == 0 || pre.d.skip == full.d.skip);
        } else {
            ck_assert_msg(pre.r == P3_NEED_MORE, "prefix %zu of \"%s\"", k, esc(s, n));
        }
    }
    return full;
}

#define SOK(s, fl, cancel_, data, len)                                                  \
    do {                                                                                \
        sres x_ = run_sasl(s, sizeof(s) - 1, fl);                                       \
        ck_assert_msg(x_.r > 0, "\"%s\": %zd %s@%zu", esc(s, sizeof(s) - 1), x_.r,     \
                      p3_errno_name(x_.d.code), x_.d.offset);                           \
        ck_assert_int_eq(x_.cancel, cancel_);                                           \
        ck_assert_uint_eq(x_.n, strlen(data));                                          \
        ck_assert(memcmp((s) + x_.off, data, x_.n) == 0);                               \
        ck_assert_uint_eq(x_.lenient, len);                                             \
    } while (0)

#define SERR(s, n, fl, code_, off_, skip_)                                                 \
    do {                                                                                \
        sres x_ = run_sasl(s, n, fl);                                                   \
        ck_assert_msg(x_.r == P3_ERROR && x_.d.code == (code_) && x_.d.offset == (off_) && \
                          x_.d.skip == (skip_),                                          \
                      "\"%s\": %zd %s@%zu skip %zu", esc(s, n), x_.r,                   \
                      p3_errno_name(x_.d.code), x_.d.offset, x_.d.skip);                \
    } while (0)

START_TEST(sasl_lines)
{
    /* RFC 5034 section 6 examples. */
    SOK("dGVzdAB0ZXN0AHRlc3Q=\r\n", 0, 0, "dGVzdAB0ZXN0AHRlc3Q=", 0);
    SOK("Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2"
        "QuaW5ub3NvZnQuY29tIixub25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAw"
        "MDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9In"
        "BvcC9lbHdvb2QuaW5ub3NvZnQuY29tIixyZXNwb25zZT1iMGQ1NmQyZjA1"
        "NGMyNGI2MjA3MjMyMjEwNjQ2OGRiOSxxb3A9YXV0aA==\r\n",
        0, 0,
        "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2"
        "QuaW5ub3NvZnQuY29tIixub25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAw"
        "MDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9In"
        "BvcC9lbHdvb2QuaW5ub3NvZnQuY29tIixyZXNwb25zZT1iMGQ1NmQyZjA1"
        "NGMyNGI2MjA3MjMyMjEwNjQ2OGRiOSxxb3A9YXV0aA==",
        0);
    SOK("\r\n", 0, 0, "", 0);
    /* RFC 2195 CRAM-MD5 response. */
    SOK("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n", 0, 0,
        "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", 0);
    SOK("*\r\n", 0, 1, "", 0);
    SERR("**\r\n", 4, 0, P3_E_BASE64, 0, 4);
    SERR("* \r\n", 4, 0, P3_E_BASE64, 0, 4);
    SOK("* \r\n", P3_LENIENT_SPACING, 1, "", P3_LENIENT_SPACING);
    SOK(" AAAA \r\n", P3_LENIENT_SPACING, 0, "AAAA", P3_LENIENT_SPACING);
    SOK("   \r\n", P3_LENIENT_SPACING, 0, "", P3_LENIENT_SPACING);
    SOK("AAAA\r\n", P3_LENIENT_SPACING, 0, "AAAA", 0);
    SERR(" AAAA\r\n", 7, 0, P3_E_BASE64, 0, 7);
    SERR("=\r\n", 3, 0, P3_E_BASE64, 0, 3);
    SERR("AAA\r\n", 5, 0, P3_E_BASE64, 3, 5);
    SERR("AAAA=AAA\r\n", 10, 0, P3_E_BASE64, 4, 10);
    SERR("AA.A\r\n", 6, 0, P3_E_BASE64, 2, 6);
    SERR("AAAA\n", 5, 0, P3_E_BARE_LF, 4, 5);
    SOK("AAAA\n", P3_LENIENT_BARE_LF, 0, "AAAA", P3_LENIENT_BARE_LF);
    SOK("*\n", P3_LENIENT_BARE_LF, 1, "", P3_LENIENT_BARE_LF);
    SOK("\n", P3_LENIENT_BARE_LF, 0, "", P3_LENIENT_BARE_LF);
    SERR("AA\rAA\r\n", 7, 0, P3_E_BARE_CR, 2, 7);
    SERR("AA\rAA\r\n", 7, P3_LENIENT_BARE_CR, P3_E_BASE64, 2, 7);
    SERR("AA\0A\r\n", 6, 0x7ff, P3_E_NUL, 2, 6);
    SERR("AA\tA\r\n", 6, 0, P3_E_CTL, 2, 6);
    SERR("AA\tA\r\n", 6, P3_LENIENT_CTL, P3_E_BASE64, 2, 6);
    SERR("AA\xe9\x41\r\n", 6, 0, P3_E_EIGHT_BIT, 2, 6);
    SERR("AA\xe9\x41\r\n", 6, P3_LENIENT_EIGHT_BIT, P3_E_BASE64, 2, 6);
    ck_assert_int_eq(run_sasl("AAAA", 4, 0).r, P3_NEED_MORE);
}
END_TEST

START_TEST(sasl_limit)
{
    static char line[P3_MAX_SASL_LINE + 16];
    for (size_t total = P3_MAX_SASL_LINE - 2; total <= P3_MAX_SASL_LINE + 2; total++) {
        /* content of total-2 octets; make it base64-valid when a multiple
         * of 4, else pad with "=" so only the length is wrong. */
        size_t c = total - 2;
        memset(line, 'A', c);
        memcpy(line + c, "\r\n", 2);
        p3_sasl_line l;
        p3_diag d;
        const char *g = p3t_guard(line, total);
        ssize_t r = p3_sasl_line_parse(g, total, 0, &l, &d);
        if (total > P3_MAX_SASL_LINE) {
            ck_assert_int_eq(r, P3_ERROR);
            ck_assert_int_eq(d.code, P3_E_LINE_TOO_LONG);
            ck_assert_uint_eq(d.offset, P3_MAX_SASL_LINE);
            ck_assert_uint_eq(d.skip, 0);
            r = p3_sasl_line_parse(g, total, P3_LENIENT_LONG_LINE, &l, &d);
            if (c % 4 == 0) {
                ck_assert_int_eq(r, (ssize_t)total);
                ck_assert_uint_eq(l.lenient, P3_LENIENT_LONG_LINE);
            } else {
                ck_assert_int_eq(r, P3_ERROR);
                ck_assert_int_eq(d.code, P3_E_BASE64);
                ck_assert_uint_eq(d.offset, c);
            }
        } else if (c % 4 == 0) {
            ck_assert_int_eq(r, (ssize_t)total);
            ck_assert_uint_eq(l.data.n, c);
            ck_assert_uint_eq(l.lenient, 0);
        } else {
            ck_assert_int_eq(r, P3_ERROR);
            ck_assert_int_eq(d.code, P3_E_BASE64);
            ck_assert_uint_eq(d.offset, c);
            ck_assert_uint_eq(d.skip, total);
        }
        /* Without the line end. */
        g = p3t_guard(line, c);
        r = p3_sasl_line_parse(g, c, 0, &l, &d);
        if (c < P3_MAX_SASL_LINE) {
            ck_assert_int_eq(r, P3_NEED_MORE);
        } else {
            ck_assert_int_eq(r, P3_ERROR);
            ck_assert_int_eq(d.code, P3_E_LINE_TOO_LONG);
        }
    }
}
END_TEST

/* The offset-reporting base64 check accepts exactly what p3_base64_valid
 * accepts: all strings of up to 6 octets over a small alphabet. */
START_TEST(sasl_base64_equivalence)
{
    static const char alpha[] = "A+/=.*";
    const size_t na = sizeof alpha - 1;
    char line[16];
    for (size_t len = 0; len <= 6; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= na;
        for (size_t v = 0; v < total; v++) {
            size_t x = v;
            for (size_t i = 0; i < len; i++) {
                line[i] = alpha[x % na];
                x /= na;
            }
            memcpy(line + len, "\r\n", 2);
            const char *g = p3t_guard(line, len + 2);
            p3_sasl_line l;
            p3_diag d;
            ssize_t r = p3_sasl_line_parse(g, len + 2, 0, &l, &d);
            int cancel = len == 1 && line[0] == '*';
            if (cancel || p3_base64_valid(line, len)) {
                ck_assert_int_eq(r, (ssize_t)len + 2);
                ck_assert_int_eq(l.cancel, cancel);
            } else {
                ck_assert_int_eq(r, P3_ERROR);
                ck_assert_int_eq(d.code, P3_E_BASE64);
                ck_assert_uint_le(d.offset, len);
                /* The reported octet is a real culprit: the text before it
                 * is a valid base64 prefix (or it is the length). */
                ck_assert(d.offset == len || line[d.offset] == '=' || line[d.offset] == '.' ||
                          line[d.offset] == '*');
            }
            /* The same text as an AUTH initial response. */
            char cmd[32];
            memcpy(cmd, "AUTH X ", 7);
            memcpy(cmd + 7, line, len + 2);
            if (len == 0)
                continue;
            g = p3t_guard(cmd, len + 9);
            p3_cmd c;
            r = p3_cmd_parse(g, len + 9, 0, &c, &d);
            int ok = (len == 1 && line[0] == '=') || p3_base64_valid(line, len);
            if (ok) {
                ck_assert_int_eq(r, (ssize_t)len + 9);
            } else {
                ck_assert_int_eq(r, P3_ERROR);
                ck_assert_int_eq(d.code, P3_E_BASE64);
                ck_assert_uint_ge(d.offset, 7);
                ck_assert_uint_le(d.offset, len + 7);
            }
        }
    }
}
END_TEST

/* Random lines over an alphabet of the octets that matter, with random
 * flags: no crash past the guard page, prefixes consistent, slices inside
 * the line (checked by run_cmd). */
START_TEST(random_lines)
{
    static const char alpha[] = "USERPAStop 0129=+/\r\n\r\n\t\x80\x7f";
    const size_t na = sizeof alpha; /* includes the NUL */
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int iter = 0; iter < 3000; iter++) {
        char line[48];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t n = (size_t)(seed >> 59) + 1;
        unsigned flags = (unsigned)(seed >> 20) & 0x7ff;
        if (iter % 2)
            flags = 0;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            line[i] = (i < 4 && iter % 4 == 0) ? "RETR"[i] : alpha[(seed >> 33) % na];
        }
        run_cmd(line, n, flags);
        run_sasl(line, n, flags);
    }
}
END_TEST

/* The fast path (CRLF, no leniency needed) and the general path (taken here
 * through a bare LF with its leniency) give the same answer on the same
 * text: generated commands with random case, spacing and arguments. */
START_TEST(fast_general_agree)
{
    static const char *const words[] = {"1",   "42",  "4294967295", "4294967296", "0000001",
                                        "x",   "=",   "AAAA",       "AA==",       "+1",
                                        "a b", "",    "12345678",   "1234567",    "abc=",
                                        "-",   "007", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    uint64_t seed = 0x243f6a8885a308d3u;
    for (int iter = 0; iter < 20000; iter++) {
        char line[160];
        size_t n = 0;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned r = (unsigned)(seed >> 32);
        const char *kw = cmds[r % (sizeof cmds / sizeof cmds[0])].kw;
        if (!*kw)
            kw = (r >> 5) & 1 ? "XTND" : "AB";
        for (size_t i = 0; kw[i]; i++) {
            char c = kw[i];
            if ((r >> (8 + i)) & 1 && c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            line[n++] = c;
        }
        unsigned nargs = (r >> 13) % 4;
        for (unsigned a = 0; a < nargs; a++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            unsigned q = (unsigned)(seed >> 40);
            line[n++] = ' ';
            if (q % 16 == 0)
                line[n++] = ' ';
            const char *w = words[(q >> 4) % (sizeof words / sizeof words[0])];
            memcpy(line + n, w, strlen(w));
            n += strlen(w);
        }
        if ((r >> 20) % 16 == 0)
            line[n++] = ' ';
        memcpy(line + n, "\r\n", 2);
        res crlf = parse1(line, n + 2, 0);
        line[n] = '\n';
        res lf = parse1(line, n + 1, P3_LENIENT_BARE_LF);
        if (crlf.r > 0) {
            ck_assert_msg(lf.r == crlf.r - 1, "%s", esc(line, n));
            ck_assert_uint_eq(lf.lenient, crlf.lenient | P3_LENIENT_BARE_LF);
            lf.r = crlf.r;
            lf.lenient = crlf.lenient;
            ck_assert_msg(memcmp(&lf, &crlf, sizeof lf) == 0, "%s", esc(line, n));
        } else {
            ck_assert_int_eq(crlf.r, P3_ERROR);
            ck_assert_msg(lf.r == P3_ERROR && lf.d.code == crlf.d.code &&
                              lf.d.offset == crlf.d.offset && lf.d.skip + 1 == crlf.d.skip,
                          "%s: %s@%zu vs %s@%zu", esc(line, n), p3_errno_name(crlf.d.code),
                          crlf.d.offset, p3_errno_name(lf.d.code), lf.d.offset);
        }
    }
}
END_TEST

/* The tiny path (a known keyword alone or with one short number, taken only
 * when at least 16 octets are readable) against the general path (a bare LF
 * with its leniency) and against the same line with nothing after it:
 * random keywords, case, numbers, junk octets and whatever follows. */
START_TEST(tiny_path_agrees)
{
    static const char junk[] = " \t!)/:\x7f\x80\xff\r\n\0aZ09 ";
    static const char tail[] = "0123456789 \r\n.\x80\xffRETR";
    static const char *const extra_kw[] = {"TOPS", "RET", "XRETR", "TO", "UIDL8", "STA"};
    uint64_t seed = 0x13198a2e03707344u;
    for (int iter = 0; iter < 20000; iter++) {
        char line[64], buf[96];
        size_t n = 0;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t r = seed;
#define NEXT() (r = r * 6364136223846793005u + 1442695040888963407u, (unsigned)(r >> 33))
        unsigned pick = NEXT() % (sizeof cmds / sizeof cmds[0] + 6);
        const char *kw = pick < sizeof cmds / sizeof cmds[0] ? cmds[pick].kw
                                                               : extra_kw[pick - sizeof cmds / sizeof cmds[0]];
        if (!*kw)
            kw = "NOOP";
        for (size_t i = 0; kw[i]; i++) {
            char ch = kw[i];
            if (NEXT() & 1 && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch + 32);
            line[n++] = ch;
        }
        unsigned nargs = NEXT() % 4 ? NEXT() % 3 : 0;
        for (unsigned a = 0; a < nargs; a++) {
            line[n++] = ' ';
            unsigned nd = NEXT() % 11; /* 0..10 digits */
            for (unsigned i = 0; i < nd; i++)
                line[n++] = (char)('0' + (NEXT() % 4 == 0 ? 9 : NEXT() % 10));
        }
        if (NEXT() % 5 == 0) { /* one junk octet somewhere, or at the end */
            size_t at = NEXT() % (n + 1);
            if (at == n)
                n++;
            line[at] = junk[NEXT() % (sizeof junk - 1)];
        }
        /* The line, its CRLF, then 0 to 20 octets of whatever follows. */
        size_t m = 0;
        memcpy(buf, line, n);
        m = n;
        buf[m++] = '\r';
        buf[m++] = '\n';
        size_t line_len = m;
        unsigned tn = NEXT() % 21;
        for (unsigned i = 0; i < tn; i++)
            buf[m++] = tail[NEXT() % (sizeof tail - 1)];
#undef NEXT
        res alone = parse1(buf, line_len, 0);
        res more = parse1(buf, m, 0);
        if (alone.r == P3_NEED_MORE || more.r == P3_NEED_MORE ||
            memchr(line, '\r', n) || memchr(line, '\n', n)) {
            /* A CR or LF inside: the line ends elsewhere; just no crash. */
            continue;
        }
        same_res(&alone, &more, esc(buf, m));
        /* The general path on the same text with a bare LF. */
        buf[n] = '\n';
        memmove(buf + n + 1, buf + n + 2, m - n - 2);
        res lf = parse1(buf, m - 1, P3_LENIENT_BARE_LF);
        if (more.r > 0) {
            ck_assert_msg(lf.r == more.r - 1, "%s", esc(line, n));
            ck_assert_uint_eq(lf.lenient, more.lenient | P3_LENIENT_BARE_LF);
            lf.r = more.r;
            lf.lenient = more.lenient;
            ck_assert_msg(memcmp(&lf, &more, sizeof lf) == 0, "%s", esc(line, n));
        } else {
            ck_assert_msg(lf.r == P3_ERROR && lf.d.code == more.d.code &&
                              lf.d.offset == more.d.offset,
                          "%s: %s@%zu vs %s@%zu", esc(line, n), p3_errno_name(more.d.code),
                          more.d.offset, p3_errno_name(lf.d.code), lf.d.offset);
        }
    }
}
END_TEST

/* The USER / PASS path (cmd_str) and the TOP path (cmd_top) against the
 * general path: USER, PASS or TOP in any case, SP, then an argument of 0 to
 * 45 octets drawn mostly from its own alphabet with spaces, controls,
 * DEL, 8-bit octets, CR and LF mixed in at any position, then CRLF. With
 * 48 or more octets in the buffer the fast paths take the line; the same
 * line alone (under 48 octets) and with a bare LF (P3_LENIENT_BARE_LF,
 * the general path only) must give the same result. */
START_TEST(str_path_agrees)
{
    static const char odd[] = " \t\x01\x18\x1f\x7f\x80\xa0\xff\r\n\0=+";
    static const char *const kws[] = {"USER", "PASS", "user", "Pass", "TOP", "tOp", "USER",
                                      "PASS"};
    uint64_t r = 0x243f6a8885a308d3u;
#define NEXT() (r = r * 6364136223846793005u + 1442695040888963407u, (unsigned)(r >> 33))
    for (int iter = 0; iter < 20000; iter++) {
        char line[64], buf[128];
        size_t n = 0;
        const char *kw = kws[NEXT() % 8];
        int top = kw[3] == 0;
        memcpy(line, kw, strlen(kw));
        n = strlen(kw);
        line[n++] = ' ';
        unsigned an = NEXT() % 46;
        if (top && NEXT() % 2)
            an = NEXT() % 16;
        for (unsigned i = 0; i < an; i++) {
            unsigned q = NEXT() % 40;
            char c;
            if (q == 0)
                c = odd[NEXT() % (sizeof odd - 1)];
            else if (q < 4)
                c = ' ';
            else if (top)
                c = (char)('0' + NEXT() % 10);
            else
                c = (char)(0x21 + NEXT() % 94);
            line[n++] = c;
        }
        if (NEXT() % 8 == 0) /* no argument at all, or the SP replaced */
            n = NEXT() % 2 ? strlen(kw) : n;
        if (n > 0 && NEXT() % 16 == 0) {
            size_t at = NEXT() % n;
            line[at] = odd[NEXT() % (sizeof odd - 1)];
        }
        memcpy(buf, line, n);
        size_t m = n;
        buf[m++] = '\r';
        buf[m++] = '\n';
        size_t line_len = m;
        for (; m < 64; m++) /* whatever follows: another command */
            buf[m] = "RETR 1\r\n"[(m - line_len) % 8];
        if (memchr(line, '\r', n) || memchr(line, '\n', n))
            continue;
        res alone = parse1(buf, line_len, 0);
        res more = parse1(buf, m, 0);
        if (alone.r == P3_NEED_MORE || more.r == P3_NEED_MORE)
            continue;
        same_res(&alone, &more, esc(buf, line_len));
        buf[n] = '\n';
        memmove(buf + n + 1, buf + n + 2, m - n - 2);
        res lf = parse1(buf, m - 1, P3_LENIENT_BARE_LF);
        if (more.r > 0) {
            ck_assert_msg(lf.r == more.r - 1, "%s", esc(line, n));
            ck_assert_uint_eq(lf.lenient, more.lenient | P3_LENIENT_BARE_LF);
            lf.r = more.r;
            lf.lenient = more.lenient;
            ck_assert_msg(memcmp(&lf, &more, sizeof lf) == 0, "%s", esc(line, n));
        } else {
            ck_assert_msg(lf.r == P3_ERROR && lf.d.code == more.d.code &&
                              lf.d.offset == more.d.offset,
                          "%s: %s@%zu vs %s@%zu", esc(line, n), p3_errno_name(more.d.code),
                          more.d.offset, p3_errno_name(lf.d.code), lf.d.offset);
        }
    }
#undef NEXT
}
END_TEST

/* The fast USER and PASS path at its edges: arguments of 1, 39, 40 and 41
 * octets, spaces in PASS (kept) and in USER (an error), in a buffer of 64. */
START_TEST(str_path_edges)
{
    char buf[64];
    for (size_t an = 0; an <= 42; an++) {
        for (int pass = 0; pass < 2; pass++) {
            for (int sp = 0; sp < 2; sp++) {
                memset(buf, 'x', sizeof buf);
                memcpy(buf, pass ? "PASS " : "USER ", 5);
                for (size_t i = 0; i < an; i++)
                    buf[5 + i] = (char)('a' + i % 26);
                if (sp && an > 2)
                    buf[5 + an / 2] = ' ';
                buf[5 + an] = '\r';
                buf[6 + an] = '\n';
                res x = parse1(buf, sizeof buf, 0);
                if (an == 0) {
                    ck_assert_int_eq(x.r, P3_ERROR);
                } else if (sp && an > 2 && !pass) {
                    ck_assert_int_eq(x.r, P3_ERROR);
                    ck_assert_int_eq(x.d.code, P3_E_TOO_MANY_ARGS);
                } else if (an > P3_MAX_ARG) {
                    ck_assert_int_eq(x.r, P3_ERROR);
                    ck_assert_int_eq(x.d.code, P3_E_ARG_TOO_LONG);
                } else {
                    ck_assert_int_eq(x.r, (ssize_t)(an + 7));
                    ck_assert_int_eq(x.kind, pass ? P3_CMD_PASS : P3_CMD_USER);
                    ck_assert_uint_eq(x.nargs, 1);
                    ck_assert_uint_eq(x.a_off[0], 5);
                    ck_assert_uint_eq(x.a_n[0], an);
                    ck_assert_uint_eq(x.rest_off, 5);
                    ck_assert_uint_eq(x.rest_n, an);
                    ck_assert_uint_eq(x.lenient, 0);
                }
            }
        }
    }
}
END_TEST

/* The tiny path's own shapes, spelled out: every kind it takes, with the
 * values and slices checked, in a buffer long enough for it. */
/* A control or 8-bit octet inside a keyword is never a keyword letter or
 * digit, whatever the case fold does to it ("UTF\x18": 0x18 | 0x20 is "8").
 * Found by fuzz_cmd (corpus/fuzz_cmd/regress-utf-ctl-folds-to-8). */
START_TEST(keyword_octet_never_folds_from_control)
{
    static const char *const kws[] = {"UTF8", "STAT", "LIST", "TOP "};
    static const unsigned flagsets[] = {0, P3_LENIENT_SPACING, P3_LENIENT_UID,
                                        P3_LENIENT_SPACING | P3_LENIENT_UID};
    /* The keyword table fills on the first valid line; the lines below all
     * fail before any keyword lookup, so fill it first as a server would. */
    p3_cmd warm;
    p3_diag wd;
    ck_assert_int_eq(p3_cmd_parse("NOOP\r\n", 6, 0, &warm, &wd), 6);
    for (size_t k = 0; k < sizeof kws / sizeof kws[0]; k++)
        for (unsigned pos = 0; pos < 4; pos++)
            for (unsigned c = 0; c < 256; c++) {
                if (c >= 0x20 && c < 0x7f)
                    continue;
                char line[40];
                memcpy(line, kws[k], 4);
                line[pos] = (char)c;
                memcpy(line + 4, "\r\nNOOP\r\nNOOP\r\nNOOP\r\n", 18);
                for (size_t f = 0; f < sizeof flagsets / sizeof flagsets[0]; f++) {
                    const char *g = p3t_guard(line, 22);
                    p3_cmd cmd;
                    p3_diag d;
                    ssize_t r = p3_cmd_parse(g, 22, flagsets[f], &cmd, &d);
                    ck_assert_msg(r == P3_ERROR, "%s octet 0x%02x at %u flags %x: r %zd kind %d",
                                  kws[k], c, pos, flagsets[f], r, r > 0 ? (int)cmd.kind : -1);
                    ck_assert_msg(d.code == P3_E_CTL || d.code == P3_E_EIGHT_BIT ||
                                      d.code == P3_E_NUL || d.code == P3_E_BARE_CR ||
                                      d.code == P3_E_BARE_LF || d.code == P3_E_KEYWORD_LENGTH ||
                                      d.code == P3_E_SPACING,
                                  "%s octet 0x%02x at %u: %s", kws[k], c, pos,
                                  p3_errno_name(d.code));
                }
            }
}
END_TEST

START_TEST(tiny_path_shapes)
{
    static const struct {
        const char *s;
        p3_cmd_kind kind;
        unsigned nargs;
        uint32_t num;
    } ok[] = {
        {"STAT\r\nNOOP\r\nNOOP\r\n", P3_CMD_STAT, 0, 0},
        {"noop\r\n\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", P3_CMD_NOOP, 0, 0},
        {"List\r\n999999999999999", P3_CMD_LIST, 0, 0},
        {"LIST 1\r\n.\r\n........", P3_CMD_LIST, 1, 1},
        {"RETR 123456\r\n\r\n\r\n\r\n\r\n", P3_CMD_RETR, 1, 123456},
        {"dele 000000\r\nxxxxxxxxxx", P3_CMD_DELE, 1, 0},
        {"UIDL 42\r\n12345678901234567", P3_CMD_UIDL, 1, 42},
        {"QUIT\r\n                      ", P3_CMD_QUIT, 0, 0},
        {"RSET\r\nRSET\r\nRSET\r\n", P3_CMD_RSET, 0, 0},
        {"CAPA\r\nCAPA\r\nCAPA\r\n", P3_CMD_CAPA, 0, 0},
        {"STLS\r\nSTLS\r\nSTLS\r\n", P3_CMD_STLS, 0, 0},
        {"UTF8\r\nUTF8\r\nUTF8\r\n", P3_CMD_UTF8, 0, 0},
        {"LANG\r\nLANG\r\nLANG\r\n", P3_CMD_LANG, 0, 0},
        {"RETR 1234567\r\n\r\n\r\n\r\n", P3_CMD_RETR, 1, 1234567}, /* 7 digits: cmd_fast */
        {"RETR 4294967295\r\n\r\n\r\n", P3_CMD_RETR, 1, 4294967295u},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *s = ok[i].s;
        size_t n = strlen(s);
        if (n < 6) /* the fixtures with embedded NUL-free text only */
            continue;
        const char *g = p3t_guard(s, n);
        p3_cmd c;
        p3_diag d;
        memset(&c, 0xa5, sizeof c);
        ssize_t r = p3_cmd_parse(g, n, 0, &c, &d);
        const char *cr = memchr(s, '\r', n);
        ck_assert_msg(r == cr - s + 2, "%s: r %zd", s, r);
        ck_assert_int_eq(c.kind, ok[i].kind);
        ck_assert_uint_eq(c.nargs, ok[i].nargs);
        ck_assert_uint_eq(c.num[0], ok[i].num);
        ck_assert_uint_eq(c.num[1], 0);
        ck_assert_uint_eq(c.lenient, 0);
        ck_assert_ptr_eq(c.keyword.p, g);
        ck_assert_uint_eq(c.keyword.n, 4);
        ck_assert_ptr_eq(c.rest.p, ok[i].nargs ? g + 5 : g + (cr - s));
        ck_assert_uint_eq(c.rest.n, ok[i].nargs ? (size_t)(cr - s) - 5 : 0);
        if (ok[i].nargs) {
            ck_assert_ptr_eq(c.args[0].p, g + 5);
            ck_assert_uint_eq(c.args[0].n, (size_t)(cr - s) - 5);
        }
    }
    /* TOP with two numbers (its own fast path, 24 octets readable). */
    static const struct {
        const char *s;
        uint32_t n1, n2;
    } top[] = {
        {"TOP 1 2\r\n.................", 1, 2},
        {"top 123456 654321\r\n......", 123456, 654321},
        {"Top 0 000000\r\n...........", 0, 0},
        {"TOP 1234567 1\r\n...........", 1234567, 1}, /* 7 digits: cmd_fast */
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        const char *s = top[i].s;
        size_t n = strlen(s);
        const char *g = p3t_guard(s, n);
        p3_cmd c;
        p3_diag d;
        memset(&c, 0xa5, sizeof c);
        ssize_t r = p3_cmd_parse(g, n, 0, &c, &d);
        size_t e = (size_t)((const char *)memchr(s, '\r', n) - s);
        const char *sp2 = memchr(s + 4, ' ', e - 4);
        ck_assert_int_eq(r, (ssize_t)e + 2);
        ck_assert_int_eq(c.kind, P3_CMD_TOP);
        ck_assert_uint_eq(c.nargs, 2);
        ck_assert_uint_eq(c.num[0], top[i].n1);
        ck_assert_uint_eq(c.num[1], top[i].n2);
        ck_assert_uint_eq(c.lenient, 0);
        ck_assert_ptr_eq(c.keyword.p, g);
        ck_assert_uint_eq(c.keyword.n, 3);
        ck_assert_ptr_eq(c.args[0].p, g + 4);
        ck_assert_uint_eq(c.args[0].n, (size_t)(sp2 - s) - 4);
        ck_assert_ptr_eq(c.args[1].p, g + (sp2 - s) + 1);
        ck_assert_uint_eq(c.args[1].n, e - (size_t)(sp2 - s) - 1);
        ck_assert_ptr_eq(c.rest.p, g + 4);
        ck_assert_uint_eq(c.rest.n, e - 4);
        /* The same without the readable tail: the general path agrees. */
        res full = parse1(s, n, 0), alone = parse1(s, e + 2, 0);
        same_res(&full, &alone, s);
    }
    /* Near misses the tiny path must leave alone, each with its verdict. */
    static const struct {
        const char *s;
        ssize_t r;
        p3_errno code;
    } bad[] = {
        {"RETR \r\n.............", P3_ERROR, P3_E_SPACING},
        {"RETR\r\n..............", P3_ERROR, P3_E_TOO_FEW_ARGS},
        {"STAT 1\r\n............", P3_ERROR, P3_E_TOO_MANY_ARGS},
        {"RETR 1 \r\n...........", P3_ERROR, P3_E_SPACING},
        {"RETR  1\r\n...........", P3_ERROR, P3_E_SPACING},
        {"RETR 1x\r\n...........", P3_ERROR, P3_E_NUMBER},
        {"RETR 1\n\r............", P3_ERROR, P3_E_BARE_LF},
        {"RETR 1\r\r\n..........", P3_ERROR, P3_E_BARE_CR},
        {"RETR 1\x7f\r\n..........", P3_ERROR, P3_E_CTL},
        {"RETR +1\r\n...........", P3_ERROR, P3_E_NUMBER_SIGN},
        {"RETR 4294967296\r\n...", P3_ERROR, P3_E_NUMBER_RANGE},
        {"TOP 1\r\n.............", P3_ERROR, P3_E_TOO_FEW_ARGS},
        {"RETRX 1\r\n...........", P3_ERROR, P3_E_KEYWORD_LENGTH},
        {"R\x80TR 1\r\n...........", P3_ERROR, P3_E_EIGHT_BIT},
        {"TOP 1  2\r\n..................", P3_ERROR, P3_E_SPACING},
        {"TOP 1 2 3\r\n.................", P3_ERROR, P3_E_TOO_MANY_ARGS},
        {"TOP 1 x\r\n...................", P3_ERROR, P3_E_NUMBER},
        {"TOP 1 2\r\r\n.................", P3_ERROR, P3_E_BARE_CR},
        {"TOP 1 2 \r\n..................", P3_ERROR, P3_E_SPACING},
        {"TOP 1 \r\n....................", P3_ERROR, P3_E_SPACING},
        {"TOP 1 2\x80\r\n..................", P3_ERROR, P3_E_EIGHT_BIT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i].s);
        res x = parse1(bad[i].s, n, 0);
        ck_assert_msg(x.r == bad[i].r && x.d.code == bad[i].code, "%s: %zd %s", esc(bad[i].s, n),
                      x.r, x.r == P3_ERROR ? p3_errno_name(x.d.code) : "");
    }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("cmd");
    TCase *t = tcase_create("cmd");
    tcase_add_test(t, rfc1939_examples);
    tcase_add_test(t, other_rfc_examples);
    tcase_add_test(t, arg_counts);
    tcase_add_test(t, case_insensitive);
    tcase_add_test(t, keyword_near_misses);
    tcase_add_test(t, unknown_keywords);
    tcase_add_test(t, rest_slices);
    tcase_add_test(t, pass_spaces);
    tcase_add_test(t, auth_initial_response);
    tcase_add_test(t, line_limit);
    tcase_add_test(t, arg_length);
    tcase_add_test(t, keyword_length);
    tcase_add_test(t, numbers);
    tcase_add_test(t, spacing);
    tcase_add_test(t, empty_line);
    tcase_add_test(t, line_ends);
    tcase_add_test(t, special_octets);
    tcase_add_test(t, leniency_bits);
    tcase_add_test(t, need_more);
    tcase_add_test(t, pipelined);
    tcase_add_test(t, sasl_lines);
    tcase_add_test(t, sasl_limit);
    tcase_add_test(t, sasl_base64_equivalence);
    tcase_add_test(t, random_lines);
    tcase_add_test(t, fast_general_agree);
    tcase_add_test(t, tiny_path_agrees);
    tcase_add_test(t, str_path_agrees);
    tcase_add_test(t, str_path_edges);
    tcase_add_test(t, tiny_path_shapes);
    tcase_add_test(t, keyword_octet_never_folds_from_control);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return p3t_run(make_suite());
}
