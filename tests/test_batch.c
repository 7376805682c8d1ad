/* The batch entry points (p3_cmd_parse_many, p3_ml_lines) against repeated
 * single-line calls (p3_cmd_parse, p3_ml_line): identical results, counters
 * and final status for every input, whole and cut at every position, with
 * every cap from 1 up, under every implementation. Inputs are placed with
 * p3t_guard so that a read past their end faults. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

static int cmd_eq(const p3_cmd *a, const p3_cmd *b)
{
    if (a->kind != b->kind || a->nargs != b->nargs || a->lenient != b->lenient ||
        a->num[0] != b->num[0] || a->num[1] != b->num[1] || a->keyword.p != b->keyword.p ||
        a->keyword.n != b->keyword.n || a->rest.p != b->rest.p || a->rest.n != b->rest.n)
        return 0;
    for (unsigned i = 0; i < a->nargs && i < P3_MAX_ARGS; i++)
        if (a->args[i].p != b->args[i].p || a->args[i].n != b->args[i].n)
            return 0;
    return 1;
}

/* Batch calls until one returns <= 0, each line checked against a single
 * call at the same place; the last status against a single call too.
 * Returns the number of lines parsed. */
static size_t cmd_check(const char *c, size_t len, unsigned flags, size_t cap)
{
    p3_cmd out[80];
    size_t pos = 0, lines = 0;
    ck_assert_uint_le(cap, 80);
    for (;;) {
        size_t n = 99;
        p3_diag bd = {P3_E_OK, 7, 7}, sd = {P3_E_OK, 7, 7};
        ssize_t r = p3_cmd_parse_many(c + pos, len - pos, flags, out, cap, &n, &bd);
        if (r <= 0) {
            p3_cmd one;
            ssize_t s = p3_cmd_parse(c + pos, len - pos, flags, &one, &sd);
            ck_assert_uint_eq(n, 0);
            ck_assert_int_eq(r, cap ? s : 0);
            if (r == P3_ERROR) {
                ck_assert_int_eq(bd.code, sd.code);
                ck_assert_uint_eq(bd.offset, sd.offset);
                ck_assert_uint_eq(bd.skip, sd.skip);
            } else {
                ck_assert_uint_eq(bd.offset, 7); /* untouched */
            }
            return lines;
        }
        ck_assert_uint_eq(bd.offset, 7); /* diag written only with P3_ERROR */
        ck_assert(n >= 1 && n <= cap && (size_t)r <= len - pos);
        size_t sp = pos;
        for (size_t k = 0; k < n; k++) {
            p3_cmd one;
            ssize_t s = p3_cmd_parse(c + sp, len - sp, flags, &one, &sd);
            ck_assert_int_gt(s, 0);
            ck_assert(cmd_eq(&one, &out[k]));
            sp += (size_t)s;
        }
        ck_assert_uint_eq(sp, pos + (size_t)r);
        pos = sp;
        lines += n;
    }
}

static void ml_check(const char *c, size_t len, unsigned flags, size_t max_line, size_t cap)
{
    p3_slice out[80];
    p3_ml b, s;
    p3_ml_init(&b, flags, max_line);
    p3_ml_init(&s, flags, max_line);
    size_t pos = 0;
    for (;;) {
        size_t n = 99;
        ssize_t r = p3_ml_lines(&b, c + pos, len - pos, out, cap, &n);
        if (r <= 0) {
            p3_slice one;
            ssize_t q = p3_ml_line(&s, c + pos, len - pos, &one);
            ck_assert_uint_eq(n, 0);
            ck_assert_int_eq(r, cap ? q : 0);
            break;
        }
        ck_assert(n <= cap && (size_t)r <= len - pos);
        size_t sp = pos;
        for (size_t k = 0; k < n; k++) {
            p3_slice one;
            ssize_t q = p3_ml_line(&s, c + sp, len - sp, &one);
            ck_assert_int_gt(q, 0);
            ck_assert(!p3_ml_done(&s));
            ck_assert(one.p == out[k].p && one.n == out[k].n);
            sp += (size_t)q;
        }
        if (p3_ml_done(&b)) {
            p3_slice one;
            ssize_t q = p3_ml_line(&s, c + sp, len - sp, &one);
            ck_assert_int_gt(q, 0);
            ck_assert(p3_ml_done(&s));
            sp += (size_t)q;
        }
        ck_assert_uint_eq(sp, pos + (size_t)r);
        pos = sp;
        if (p3_ml_done(&b))
            break;
    }
    ck_assert_uint_eq(b.consumed, s.consumed);
    ck_assert_uint_eq(b.octets, s.octets);
    ck_assert_uint_eq(b.lines, s.lines);
    ck_assert_uint_eq(b.stuffed, s.stuffed);
    ck_assert_uint_eq(b.lenient, s.lenient);
    ck_assert_int_eq(b.err, s.err);
    ck_assert_uint_eq(b.err_off, s.err_off);
    ck_assert_int_eq(p3_ml_done(&b), p3_ml_done(&s));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Command lines of every kind the parser tells apart: tiny shapes, TOP,
 * USER/PASS, unknown keywords, long numbers, and every kind of error. */
static size_t gen_cmds(char *o, size_t cap, size_t nlines)
{
    static const char *const good[] = {
        "RETR 1\r\n", "dele 4999\r\n", "Uidl 12\r\n", "UIDL\r\n", "LIST 800\r\n", "list\r\n",
        "TOP 3 10\r\n", "top 4999 200\r\n", "STAT\r\n", "NOOP\r\n", "USER alice\r\n",
        "PASS a b c\r\n", "CAPA\r\n", "RSET\r\n", "QUIT\r\n", "RETR 1234567\r\n",
        "RETR 4294967295\r\n", "XYZZY\r\n", "FOO bar baz\r\n", "AUTH PLAIN dGVzdA==\r\n",
        "APOP bob c4c9334bac560ecc979e58001b3e22fb\r\n", "STLS\r\n", "UTF8\r\n", "LANG en\r\n",
        "TOP 1\r\n", "STAT 1\r\n", "RETR x\r\n", "RETR 4294967296\r\n", "RETR  1\r\n",
        " NOOP\r\n", "NOOP \r\n", "\r\n", "NO\r\n", "RETR 1\n", "RE\rTR\r\n", "RETR \x01\r\n",
        "RETR \xe9\r\n", "RETR \0\r\n", "RETR\t1\r\n", "USER 0123456789012345678901234567890123456789x\r\n",
        "RETR 12345678901\r\n", "TOP 1 2 3\r\n",
    };
    size_t n = 0;
    for (size_t l = 0; l < nlines; l++) {
        const char *z = good[rnd(sizeof good / sizeof good[0])];
        size_t zn = strlen(z);
        if (z[0] == 'R' && z[5] == '\0')
            zn = 8; /* "RETR \0\r\n" */
        if (rnd(40) == 0) {
            /* A long line: over the limit, or just within. */
            size_t ln = 240 + rnd(40);
            if (n + ln + 2 > cap)
                break;
            memcpy(o + n, "USER ", 5);
            memset(o + n + 5, 'a', ln - 5);
            memcpy(o + n + ln, "\r\n", 2);
            n += ln + 2;
            continue;
        }
        if (n + zn > cap)
            break;
        memcpy(o + n, z, zn);
        n += zn;
    }
    return n;
}

static size_t gen_ml(char *o, size_t cap, size_t nlines)
{
    static const char *const lines[] = {
        "1 200\r\n", "22 300\r\n", "3 abcdefghij\r\n", "..dot\r\n", ".x\r\n", "\r\n",
        "4 x\n", "5 a\rb\r\n", "6 \xe9\r\n", ".\r\n", ".\n", ".\rx\r\n", "\r", "\n",
        "7 0123456789012345678901234567890123456789012345678901234567890123456789\r\n",
    };
    size_t n = 0;
    for (size_t l = 0; l < nlines; l++) {
        const char *z = lines[rnd(sizeof lines / sizeof lines[0])];
        size_t zn = strlen(z);
        if (rnd(30) == 0) {
            size_t ln = rnd(2) ? 500 + rnd(30) : 4090 + rnd(20);
            if (n + ln + 2 > cap)
                break;
            memset(o + n, 'q', ln);
            memcpy(o + n + ln, "\r\n", 2);
            n += ln + 2;
            continue;
        }
        if (n + zn > cap)
            break;
        memcpy(o + n, z, zn);
        n += zn;
    }
    return n;
}

static const unsigned cmd_flags[] = {0, P3_LENIENT_SPACING | P3_LENIENT_LONG_ARG,
                                     P3_LENIENT_BARE_LF | P3_LENIENT_BARE_CR | P3_LENIENT_CTL |
                                         P3_LENIENT_EIGHT_BIT,
                                     P3_LENIENT_LONG_LINE | P3_LENIENT_KEYWORD_LENGTH, 0x7ff};
static const unsigned ml_flags[] = {0, P3_LENIENT_BARE_LF, P3_LENIENT_BARE_CR,
                                    P3_LENIENT_LONG_LINE, 0x7ff};

START_TEST(cmd_fixed)
{
    static const char in[] = "RETR 1\r\nTOP 3 10\r\nuser bob\r\nPASS a b\r\nLIST\r\nXYZ\r\n"
                             "NOOP\r\nSTAT\r\nRETR 12345678\r\nQUIT\r\nbad\nRETR 2\r\nRE";
    size_t len = sizeof in - 1;
    p3_cmd out[16];
    size_t n;
    p3_diag dg;
    const char *g = p3t_guard(in, len);
    ssize_t r = p3_cmd_parse_many(g, len, 0, out, 16, &n, &dg);
    ck_assert_int_eq(r, 82);
    ck_assert_uint_eq(n, 10);
    ck_assert_int_eq(out[1].kind, P3_CMD_TOP);
    ck_assert_uint_eq(out[1].num[1], 10);
    ck_assert_int_eq(out[5].kind, P3_CMD_UNKNOWN);
    ck_assert_uint_eq(out[8].num[0], 12345678);
    r = p3_cmd_parse_many(g + 82, len - 82, 0, out, 16, &n, &dg);
    ck_assert_int_eq(r, P3_ERROR);
    ck_assert_int_eq(dg.code, P3_E_BARE_LF);
    ck_assert_uint_eq(dg.skip, 4);
    r = p3_cmd_parse_many(g + 86, len - 86, 0, out, 16, &n, &dg);
    ck_assert_int_eq(r, 8);
    ck_assert_uint_eq(n, 1);
    r = p3_cmd_parse_many(g + 94, len - 94, 0, out, 16, &n, &dg);
    ck_assert_int_eq(r, P3_NEED_MORE);
    ck_assert_int_eq(p3_cmd_parse_many(g, len, 0, out, 0, &n, &dg), 0);
    ck_assert_uint_eq(n, 0);
    for (size_t cap = 1; cap <= 12; cap++)
        for (size_t cut = 0; cut <= len; cut++)
            cmd_check(p3t_guard(in, cut), cut, 0, cap);
}
END_TEST

START_TEST(ml_fixed)
{
    static const char in[] = "1 200\r\n2 300\r\n..dot\r\n3 x\r\n.\r\nafter";
    size_t len = sizeof in - 1;
    p3_slice out[16];
    size_t n;
    p3_ml d;
    p3_ml_init(&d, 0, 0);
    const char *g = p3t_guard(in, len);
    ssize_t r = p3_ml_lines(&d, g, len, out, 16, &n);
    ck_assert_int_eq(r, len - 5);
    ck_assert_uint_eq(n, 4);
    ck_assert(p3_ml_done(&d));
    ck_assert_uint_eq(out[2].n, 4);
    ck_assert(memcmp(out[2].p, "dot", 3) != 0 || out[2].p == g + 15);
    ck_assert_uint_eq(d.stuffed, 1);
    ck_assert_uint_eq(d.lines, 4);
    ck_assert_int_eq(p3_ml_lines(&d, g + r, len - (size_t)r, out, 16, &n), 0);
    /* The terminator alone, an error after good lines, NEED_MORE. */
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(p3_ml_lines(&d, p3t_guard(".\r\n", 3), 3, out, 4, &n), 3);
    ck_assert_uint_eq(n, 0);
    ck_assert(p3_ml_done(&d));
    p3_ml_init(&d, 0, 0);
    g = p3t_guard("1 a\r\n2 b\n", 9);
    ck_assert_int_eq(p3_ml_lines(&d, g, 9, out, 4, &n), 5);
    ck_assert_int_eq(d.err, P3_E_OK);
    ck_assert_int_eq(p3_ml_lines(&d, g + 5, 4, out, 4, &n), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_BARE_LF);
    ck_assert_uint_eq(d.err_off, 8);
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(p3_ml_lines(&d, p3t_guard("1 a\r", 4), 4, out, 4, &n), P3_NEED_MORE);
    ck_assert_int_eq(p3_ml_lines(&d, g, 9, out, 0, &n), 0);
    for (size_t cap = 1; cap <= 6; cap++)
        for (size_t cut = 0; cut <= len; cut++)
            for (size_t f = 0; f < sizeof ml_flags / sizeof ml_flags[0]; f++)
                ml_check(p3t_guard(in, cut), cut, ml_flags[f], 0, cap);
}
END_TEST

/* Random inputs, every cut, every implementation. */
START_TEST(cmd_random)
{
    static char buf[12000];
    for (p3_impl im = P3_IMPL_SCALAR; im <= P3_IMPL_AVX512; im = (p3_impl)(im + 1)) {
        if (!p3_impl_available(im))
            continue;
        p3_impl_set(im);
        for (int round = 0; round < 30; round++) {
            size_t len = gen_cmds(buf, sizeof buf, 5 + rnd(60));
            unsigned fl = cmd_flags[rnd(sizeof cmd_flags / sizeof cmd_flags[0])];
            for (size_t cut = 0; cut <= len; cut += 1 + rnd(3))
                cmd_check(p3t_guard(buf, cut), cut, fl, 1 + rnd(70));
        }
        /* Long inputs: windows of the index end in mid-line. */
        for (int round = 0; round < 6; round++) {
            size_t len = gen_cmds(buf, sizeof buf, 2000);
            unsigned fl = cmd_flags[rnd(sizeof cmd_flags / sizeof cmd_flags[0])];
            for (size_t cap = 1; cap <= 80; cap += 13)
                cmd_check(p3t_guard(buf, len), len, fl, cap);
            /* Only good lines: long runs of batches without a stop. */
            size_t m = 0;
            while (m + 10 < sizeof buf) {
                memcpy(buf + m, rnd(2) ? "RETR 12\r\n" : "TOP 1 2\r\n", 9);
                m += 9;
            }
            ck_assert_uint_eq(cmd_check(p3t_guard(buf, m), m, fl, 80), m / 9);
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
}
END_TEST

START_TEST(ml_random)
{
    static char buf[40000];
    static const size_t maxl[] = {0, 8, 64, 600, 5000};
    for (p3_impl im = P3_IMPL_SCALAR; im <= P3_IMPL_AVX512; im = (p3_impl)(im + 1)) {
        if (!p3_impl_available(im))
            continue;
        p3_impl_set(im);
        for (int round = 0; round < 30; round++) {
            size_t len = gen_ml(buf, 2000, 5 + rnd(40));
            unsigned fl = ml_flags[rnd(sizeof ml_flags / sizeof ml_flags[0])];
            size_t ml = maxl[rnd(5)];
            for (size_t cut = 0; cut <= len; cut += 1 + rnd(3))
                ml_check(p3t_guard(buf, cut), cut, fl, ml, 1 + rnd(70));
        }
        for (int round = 0; round < 10; round++) {
            size_t len = gen_ml(buf, sizeof buf, 3000);
            unsigned fl = ml_flags[rnd(sizeof ml_flags / sizeof ml_flags[0])];
            for (size_t cap = 1; cap <= 80; cap += 19)
                ml_check(p3t_guard(buf, len), len, fl, maxl[rnd(5)], cap);
            /* Good listing lines only (no terminator): many windows. */
            size_t m = 0;
            while (m + 60 < sizeof buf) {
                size_t l = 1 + rnd(50);
                memset(buf + m, 'u', l);
                memcpy(buf + m + l, "\r\n", 2);
                m += l + 2;
            }
            ml_check(p3t_guard(buf, m), m, fl, 0, 80);
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, cmd_fixed);
    tcase_add_test(tc, ml_fixed);
    tcase_add_test(tc, cmd_random);
    tcase_add_test(tc, ml_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
