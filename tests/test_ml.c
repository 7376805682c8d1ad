/* Multi-line data: p3_ml_body against a byte-at-a-time reference under every
 * split of the input, and p3_ml_line. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

#define S(lit) lit, sizeof(lit) - 1

/* ---- reference: RFC 1939 section 3 read literally, on the whole input ---- */
struct res {
    char out[4096];
    size_t nout;
    uint64_t lines, stuffed, consumed, err_off;
    p3_errno err;
    int done;
    unsigned lenient;
};

static void ref_decode(const char *in, size_t n, unsigned flags, struct res *r)
{
    memset(r, 0, sizeof *r);
    size_t i = 0;
    int bol = 1;
#define FAIL(code, off)                                                                            \
    do {                                                                                           \
        r->err = code;                                                                             \
        r->err_off = off;                                                                          \
        return;                                                                                    \
    } while (0)
    while (i < n) {
        if (bol && in[i] == '.') {
            if (i + 1 >= n)
                return;
            if (in[i + 1] == '\r') {
                if (i + 2 >= n)
                    return;
                if (in[i + 2] == '\n') {
                    r->done = 1;
                    r->consumed = i + 3;
                    return;
                }
                if (!(flags & P3_LENIENT_BARE_CR))
                    FAIL(P3_E_BARE_CR, i + 1);
                r->lenient |= P3_LENIENT_BARE_CR;
                r->stuffed++;
                r->out[r->nout++] = '\r';
                i += 2;
                bol = 0;
                continue;
            }
            if (in[i + 1] == '\n') {
                if (!(flags & P3_LENIENT_BARE_LF))
                    FAIL(P3_E_BARE_LF, i + 1);
                r->lenient |= P3_LENIENT_BARE_LF;
                r->done = 1;
                r->consumed = i + 2;
                return;
            }
            r->stuffed++;
            i++;
            bol = 0;
            continue;
        }
        char c = in[i];
        bol = 0;
        if (c == '\r') {
            if (i + 1 < n && in[i + 1] == '\n') {
                memcpy(r->out + r->nout, "\r\n", 2);
                r->nout += 2;
                r->lines++;
                i += 2;
                bol = 1;
                continue;
            }
            if (i + 1 >= n)
                return;
            if (!(flags & P3_LENIENT_BARE_CR))
                FAIL(P3_E_BARE_CR, i);
            r->lenient |= P3_LENIENT_BARE_CR;
        } else if (c == '\n') {
            if (!(flags & P3_LENIENT_BARE_LF))
                FAIL(P3_E_BARE_LF, i);
            r->lenient |= P3_LENIENT_BARE_LF;
            r->lines++;
            bol = 1;
        }
        r->out[r->nout++] = c;
        i++;
    }
#undef FAIL
}

/* ---- the decoder under test, fed the chunks [cut[k], cut[k+1]) ---- */
static void run_decode(const char *in, size_t n, unsigned flags, const size_t *cuts, size_t ncuts,
                       size_t cap, struct res *r)
{
    memset(r, 0, sizeof *r);
    p3_ml d;
    p3_ml_init(&d, flags, 0);
    p3_slice sl[8];
    ck_assert_uint_le(cap, 8);
    size_t a = 0;
    for (size_t k = 0; k <= ncuts && !p3_ml_done(&d); k++) {
        size_t b = k < ncuts ? cuts[k] : n;
        const char *buf = p3t_guard(in + a, b - a);
        size_t len = b - a, off = 0;
        while (off < len && !p3_ml_done(&d)) {
            size_t nout = 99;
            ssize_t got = p3_ml_body(&d, buf + off, len - off, sl, cap, &nout);
            ck_assert_uint_le(nout, cap);
            for (size_t j = 0; j < nout; j++) {
                ck_assert_uint_gt(sl[j].n, 0);
                int inside = sl[j].p >= buf + off && sl[j].p + sl[j].n <= buf + len;
                int static_cr = sl[j].n == 1 && sl[j].p[0] == '\r';
                ck_assert(inside || static_cr);
                ck_assert_uint_le(r->nout + sl[j].n, sizeof r->out);
                memcpy(r->out + r->nout, sl[j].p, sl[j].n);
                r->nout += sl[j].n;
            }
            if (got == P3_ERROR) {
                ck_assert_int_ne(d.err, P3_E_OK);
                r->err = d.err;
                r->err_off = d.err_off;
                /* sticky */
                ck_assert_int_eq(p3_ml_body(&d, buf, len, sl, cap, &nout), P3_ERROR);
                ck_assert_uint_eq(nout, 0);
                ck_assert_int_eq(p3_ml_finish(&d), P3_ERROR);
                ck_assert_int_eq(d.err, r->err);
                goto out;
            }
            ck_assert_int_ge(got, 0);
            ck_assert(got > 0 || nout > 0 || p3_ml_done(&d));
            off += (size_t)got;
        }
        if (p3_ml_done(&d)) {
            /* the octets after the terminator are not consumed */
            ck_assert_uint_eq(d.consumed, a + off);
            size_t nout = 99;
            ck_assert_int_eq(p3_ml_body(&d, buf + off, len - off, sl, cap, &nout), 0);
            ck_assert_uint_eq(nout, 0);
        }
        a = b;
    }
out:
    r->done = p3_ml_done(&d);
    r->lines = d.lines;
    r->stuffed = d.stuffed;
    r->consumed = r->done ? d.consumed : 0;
    r->lenient = d.lenient;
    if (r->err == P3_E_OK)
        ck_assert_uint_eq(d.octets, r->nout);
    if (r->done)
        ck_assert_int_eq(p3_ml_finish(&d), 0);
    else if (r->err == P3_E_OK) {
        ck_assert_int_eq(p3_ml_finish(&d), P3_ERROR);
        ck_assert_int_eq(d.err, P3_E_TRUNCATED);
        ck_assert_uint_eq(d.err_off, n);
    }
}

static void same(const struct res *want, const struct res *got, const char *in, size_t n)
{
    ck_assert_msg(want->err == got->err, "err %d want %d for \"%.*s\"", got->err, want->err,
                  (int)n, in);
    ck_assert_int_eq(want->done, got->done);
    if (want->err) {
        ck_assert_uint_eq(want->err_off, got->err_off);
        return;
    }
    ck_assert_msg(want->nout == got->nout && memcmp(want->out, got->out, want->nout) == 0,
                  "output differs for \"%.*s\"", (int)n, in);
    ck_assert_uint_eq(want->lines, got->lines);
    ck_assert_uint_eq(want->stuffed, got->stuffed);
    ck_assert_uint_eq(want->consumed, got->consumed);
    ck_assert_uint_eq(want->lenient, got->lenient);
}

/* Whole, byte by byte, every 2-split and every 3-split (small inputs), with
 * out[] capacities 1 and 8. */
static void check_splits(const char *in, size_t n, unsigned flags)
{
    struct res *want = malloc(sizeof *want), *got = malloc(sizeof *got);
    ref_decode(in, n, flags, want);
    size_t caps[] = {1, 8};
    for (size_t c = 0; c < 2; c++) {
        run_decode(in, n, flags, NULL, 0, caps[c], got);
        same(want, got, in, n);
        size_t cuts[4096];
        for (size_t i = 0; i < n; i++)
            cuts[i] = i + 1;
        run_decode(in, n, flags, cuts, n, caps[c], got);
        same(want, got, in, n);
        for (size_t i = 0; i <= n; i++) {
            run_decode(in, n, flags, &i, 1, caps[c], got);
            same(want, got, in, n);
            if (n <= 40)
                for (size_t j = i; j <= n; j++) {
                    size_t two[2] = {i, j};
                    run_decode(in, n, flags, two, 2, caps[c], got);
                    same(want, got, in, n);
                }
        }
    }
    free(want);
    free(got);
}

static void expect(const char *in, size_t n, unsigned flags, const char *out, size_t nout,
                   uint64_t lines, uint64_t stuffed, uint64_t consumed)
{
    struct res r;
    run_decode(in, n, flags, NULL, 0, 8, &r);
    ck_assert_int_eq(r.err, P3_E_OK);
    ck_assert_int_eq(r.done, 1);
    ck_assert_uint_eq(r.nout, nout);
    ck_assert(memcmp(r.out, out, nout) == 0);
    ck_assert_uint_eq(r.lines, lines);
    ck_assert_uint_eq(r.stuffed, stuffed);
    ck_assert_uint_eq(r.consumed, consumed);
    check_splits(in, n, flags);
}

static void expect_err(const char *in, size_t n, unsigned flags, p3_errno e, uint64_t off)
{
    struct res r;
    run_decode(in, n, flags, NULL, 0, 8, &r);
    ck_assert_int_eq(r.err, e);
    ck_assert_uint_eq(r.err_off, off);
    check_splits(in, n, flags);
}

START_TEST(rfc_examples)
{
    /* RFC 1939 section 5, LIST: the multi-line part after "+OK 2 messages" */
    expect(S("1 120\r\n2 200\r\n.\r\n"), 0, S("1 120\r\n2 200\r\n"), 2, 0, 17);
    /* RFC 1939 section 7, UIDL */
    expect(S("1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"), 0,
           S("1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n"), 2, 0, 53);
    /* RETR / TOP: headers, empty line, a body with stuffed lines */
    expect(S("Subject: x\r\n\r\n..\r\n.x\r\n..x\r\n...\r\nend\r\n.\r\n+OK next"), 0,
           S("Subject: x\r\n\r\n.\r\nx\r\n.x\r\n..\r\nend\r\n"), 7, 4, 40);
}
END_TEST

START_TEST(terminators)
{
    expect(S(".\r\n"), 0, "", 0, 0, 0, 3);                      /* empty body */
    expect(S(".\r\nMORE"), 0, "", 0, 0, 0, 3);                  /* rest not consumed */
    expect(S("a\r\n.\r\n.\r\n"), 0, S("a\r\n"), 1, 0, 6);
    expect(S("..\r\n.\r\n"), 0, S(".\r\n"), 1, 1, 7);            /* ".." is data "." */
    expect(S("\r\n\r\n.\r\n"), 0, S("\r\n\r\n"), 2, 0, 7);
    expect(S("x.\r\n.\r\n"), 0, S("x.\r\n"), 1, 0, 7);           /* dot not at line start */
    expect(S(".\n"), P3_LENIENT_BARE_LF, "", 0, 0, 0, 2);
    expect(S("a\n.\n"), P3_LENIENT_BARE_LF, S("a\n"), 1, 0, 4);
    expect(S("a\r\n.\n"), P3_LENIENT_BARE_LF, S("a\r\n"), 1, 0, 5);
    /* 8-bit and NUL are message content */
    expect(S("\x00\xff\x80\r\n.\r\n"), 0, S("\x00\xff\x80\r\n"), 1, 0, 8);
}
END_TEST

START_TEST(diagnostics)
{
    expect_err(S("ab\ncd\r\n.\r\n"), 0, P3_E_BARE_LF, 2);
    expect_err(S("\n.\r\n"), 0, P3_E_BARE_LF, 0);
    expect_err(S(".\n"), 0, P3_E_BARE_LF, 1);
    expect_err(S("ab\rcd\r\n.\r\n"), 0, P3_E_BARE_CR, 2);
    expect_err(S("ab\r\r\n.\r\n"), 0, P3_E_BARE_CR, 2);
    expect_err(S(".\rx\r\n.\r\n"), 0, P3_E_BARE_CR, 1);
    expect_err(S("ok\r\n.\r.\r\n"), 0, P3_E_BARE_CR, 5);
    expect_err(S("ok\r\n\r\n\n.\r\n"), 0, P3_E_BARE_LF, 6);
    /* leniency for the other kind does not help */
    expect_err(S("ab\ncd\r\n.\r\n"), P3_LENIENT_BARE_CR, P3_E_BARE_LF, 2);
    expect_err(S("ab\rcd\r\n.\r\n"), P3_LENIENT_BARE_LF, P3_E_BARE_CR, 2);
    expect_err(S(".\r.\n"), P3_LENIENT_BARE_CR, P3_E_BARE_LF, 3);
}
END_TEST

START_TEST(leniencies)
{
    struct res r;
    expect(S("ab\ncd\r\n.\r\n"), P3_LENIENT_BARE_LF, S("ab\ncd\r\n"), 2, 0, 10);
    run_decode(S("ab\ncd\r\n.\r\n"), P3_LENIENT_BARE_LF, NULL, 0, 8, &r);
    ck_assert_uint_eq(r.lenient, P3_LENIENT_BARE_LF);
    expect(S("ab\rcd\r\n.\r\n"), P3_LENIENT_BARE_CR, S("ab\rcd\r\n"), 1, 0, 10);
    run_decode(S("ab\rcd\r\n.\r\n"), P3_LENIENT_BARE_CR, NULL, 0, 8, &r);
    ck_assert_uint_eq(r.lenient, P3_LENIENT_BARE_CR);
    /* ".\r" then not LF: the dot is stripped, the CR is data */
    expect(S(".\rx\r\n.\r\n"), P3_LENIENT_BARE_CR, S("\rx\r\n"), 1, 1, 8);
    expect(S(".\r\r\n.\r\n"), P3_LENIENT_BARE_CR, S("\r\r\n"), 1, 1, 7);
    expect(S(".\r.\r\n.\r\n"), P3_LENIENT_BARE_CR, S("\r.\r\n"), 1, 1, 8);
    expect(S("\r.\r\n.\r\n"), P3_LENIENT_BARE_CR, S("\r.\r\n"), 1, 0, 7);
    expect(S("a\n.b\n.\n"), P3_LENIENT_BARE_LF, S("a\nb\n"), 2, 1, 7);
    expect(S("a\r\r\n\n.\r\n"), P3_LENIENT_BARE_LF | P3_LENIENT_BARE_CR, S("a\r\r\n\n"), 2, 0, 8);
    /* no leniency needed: no bit */
    run_decode(S("a\r\n.\r\n"), P3_LENIENT_BARE_LF | P3_LENIENT_BARE_CR, NULL, 0, 8, &r);
    ck_assert_uint_eq(r.lenient, 0);
}
END_TEST

START_TEST(random_bodies)
{
    uint64_t x = 88172645463325252ull;
    static const char alpha[] = "..\r\n\r\n\r\nab\n\r.";
    char in[200];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 0, want = 1 + (size_t)(iter % 30);
        while (n < want) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x % 5 == 0 && n + 2 <= want) {
                in[n++] = '\r';
                in[n++] = '\n';
            } else
                in[n++] = alpha[(x >> 9) % (sizeof alpha - 1)];
        }
        memcpy(in + n, "\r\n.\r\n", 5);
        n += 5;
        static const unsigned fl[] = {0, P3_LENIENT_BARE_LF, P3_LENIENT_BARE_CR,
                                      P3_LENIENT_BARE_LF | P3_LENIENT_BARE_CR};
        check_splits(in, n, fl[iter % 4]);
    }
}
END_TEST

START_TEST(big_body)
{
    /* Long data through the SIMD paths, every implementation, 1000 cut
     * points: same output and counts as the reference. */
    size_t n = 3000;
    char *in = malloc(n + 5);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('A' + i % 23);
    for (size_t i = 70; i < n; i += 71) {
        in[i - 1] = '\r';
        in[i] = '\n';
        if (i % 7 == 0 && i + 1 < n)
            in[i + 1] = '.';
    }
    in[n - 2] = '\r';
    in[n - 1] = '\n';
    memcpy(in + n, ".\r\n", 3);
    n += 3;
    struct res *want = malloc(sizeof *want), *got = malloc(sizeof *got);
    ref_decode(in, n, 0, want);
    ck_assert_int_eq(want->done, 1);
    for (p3_impl im = P3_IMPL_SCALAR; im <= P3_IMPL_AVX512; im++) {
        if (!p3_impl_available(im))
            continue;
        p3_impl_set(im);
        run_decode(in, n, 0, NULL, 0, 8, got);
        same(want, got, in, n);
        for (size_t c = 0; c < n; c += 3) {
            run_decode(in, n, 0, &c, 1, 1, got);
            same(want, got, in, n);
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
    free(in);
    free(want);
    free(got);
}
END_TEST

START_TEST(zero_cap)
{
    p3_ml d;
    p3_slice sl[1];
    size_t nout;
    p3_ml_init(&d, 0, 0);
    /* nothing to output: the terminator still goes through */
    ck_assert_int_eq(p3_ml_body(&d, S(".\r\n"), sl, 0, &nout), 3);
    ck_assert(p3_ml_done(&d));
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(p3_ml_body(&d, S("ab\r\n.\r\n"), sl, 0, &nout), 0);
    ck_assert_uint_eq(nout, 0);
    ck_assert(!p3_ml_done(&d));
    ck_assert_int_eq(p3_ml_finish(&d), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_TRUNCATED);
    ck_assert_uint_eq(d.err_off, 0);
}
END_TEST

/* ---- p3_ml_line ---- */

static ssize_t line1(p3_ml *d, const char *s, size_t n, p3_slice *l)
{
    return p3_ml_line(d, p3t_guard(s, n), n, l);
}

START_TEST(line_mode)
{
    p3_ml d;
    p3_slice l;
    static const char in[] = "1 whqtswO00WBw418f9t5JxYwZ\r\n..x\r\n.\r\n\r\n.\r\nrest";
    const char *g = p3t_guard(in, sizeof in - 1);
    size_t len = sizeof in - 1, off = 0;
    p3_ml_init(&d, 0, 0);
    ssize_t r = p3_ml_line(&d, g, len, &l);
    ck_assert_int_eq(r, 28);
    ck_assert_uint_eq(l.n, 26);
    ck_assert(l.p == g && memcmp(l.p, "1 whqtswO00WBw418f9t5JxYwZ", 26) == 0);
    off += (size_t)r;
    r = p3_ml_line(&d, g + off, len - off, &l);
    ck_assert_int_eq(r, 5);
    ck_assert(l.p == g + off + 1 && l.n == 2 && memcmp(l.p, ".x", 2) == 0);
    off += (size_t)r;
    r = p3_ml_line(&d, g + off, len - off, &l); /* ".\r\n" with more after it */
    ck_assert_int_eq(r, 3);
    ck_assert(p3_ml_done(&d));
    ck_assert_uint_eq(l.n, 0);
    ck_assert_uint_eq(d.lines, 2);
    ck_assert_uint_eq(d.stuffed, 1);
    ck_assert_uint_eq(d.consumed, 36);
    ck_assert_uint_eq(d.octets, 26 + 2 + 2 + 2);
    ck_assert_int_eq(p3_ml_finish(&d), 0);
    /* after the end nothing more is taken */
    ck_assert_int_eq(p3_ml_line(&d, g + off + 3, len - off - 3, &l), 0);

    /* NEED_MORE consumes nothing, at every prefix */
    static const char one[] = "2 QhdPYR:00WBw1Ph7x7\r\n";
    for (size_t k = 0; k < sizeof one - 1; k++) {
        p3_ml_init(&d, 0, 0);
        ck_assert_int_eq(line1(&d, one, k, &l), P3_NEED_MORE);
        ck_assert_uint_eq(d.consumed, 0);
        ck_assert_int_eq(d.err, P3_E_OK);
    }
    ck_assert_int_eq(line1(&d, one, sizeof one - 1, &l), (ssize_t)sizeof one - 1);
    ck_assert_uint_eq(l.n, sizeof one - 3);

    /* empty line, and "." alone vs ".." */
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, S("\r\n"), &l), 2);
    ck_assert_uint_eq(l.n, 0);
    ck_assert(!p3_ml_done(&d));
    ck_assert_int_eq(line1(&d, S("..\r\n"), &l), 4);
    ck_assert(l.n == 1 && l.p[0] == '.');
    ck_assert_uint_eq(d.stuffed, 1);
    ck_assert_int_eq(p3_ml_finish(&d), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_TRUNCATED);
    ck_assert_uint_eq(d.err_off, 6);
    /* sticky */
    ck_assert_int_eq(line1(&d, S(".\r\n"), &l), P3_ERROR);
}
END_TEST

START_TEST(line_errors)
{
    p3_ml d;
    p3_slice l;
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, S("a\r\n"), &l), 3);
    ck_assert_int_eq(line1(&d, S("ab\ncd\r\n"), &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_BARE_LF);
    ck_assert_uint_eq(d.err_off, 3 + 2);
    ck_assert_int_eq(line1(&d, S("a\r\n"), &l), P3_ERROR);

    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, S("ab\rcd\r\n"), &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_BARE_CR);
    ck_assert_uint_eq(d.err_off, 2);
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, S(".\n"), &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_BARE_LF);
    ck_assert_uint_eq(d.err_off, 1);

    /* leniencies */
    p3_ml_init(&d, P3_LENIENT_BARE_LF, 0);
    ck_assert_int_eq(line1(&d, S("ab\ncd\r\n"), &l), 3);
    ck_assert(l.n == 2 && memcmp(l.p, "ab", 2) == 0);
    ck_assert_uint_eq(d.lenient, P3_LENIENT_BARE_LF);
    ck_assert_uint_eq(d.octets, 3);
    ck_assert_int_eq(line1(&d, S(".\nx"), &l), 2);
    ck_assert(p3_ml_done(&d));
    p3_ml_init(&d, P3_LENIENT_BARE_CR, 0);
    ck_assert_int_eq(line1(&d, S("ab\rc\rd\r\n"), &l), 8);
    ck_assert_uint_eq(l.n, 6);
    ck_assert_uint_eq(d.lenient, P3_LENIENT_BARE_CR);
    ck_assert_int_eq(line1(&d, S("ab\r"), &l), P3_NEED_MORE);
    p3_ml_init(&d, P3_LENIENT_BARE_CR, 0);
    ck_assert_int_eq(line1(&d, S("\r\r\n"), &l), 3);
    ck_assert_uint_eq(l.n, 1);
}
END_TEST

START_TEST(line_limits)
{
    p3_ml d;
    p3_slice l;
    char buf[2000];
    memset(buf, 'x', sizeof buf);
    /* 512 octets including CRLF is the most (RFC 2449 section 4) */
    memcpy(buf + 510, "\r\n", 2);
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, buf, 512, &l), 512);
    ck_assert_uint_eq(l.n, 510);
    memset(buf, 'x', sizeof buf);
    memcpy(buf + 511, "\r\n", 2);
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, buf, 513, &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_LINE_TOO_LONG);
    ck_assert_uint_eq(d.err_off, 511);
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, buf, 511, &l), P3_NEED_MORE);
    ck_assert_int_eq(line1(&d, buf, 512, &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_LINE_TOO_LONG);
    /* no line end at all */
    memset(buf, 'x', sizeof buf);
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(line1(&d, buf, 600, &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_LINE_TOO_LONG);
    ck_assert_uint_eq(d.err_off, 511);
    /* a caller's limit */
    memcpy(buf + 20, "\r\n", 2);
    p3_ml_init(&d, 0, 22);
    ck_assert_int_eq(line1(&d, buf, 22, &l), 22);
    p3_ml_init(&d, 0, 21);
    ck_assert_int_eq(line1(&d, buf, 22, &l), P3_ERROR);
    ck_assert_int_eq(d.err, P3_E_LINE_TOO_LONG);
    ck_assert_uint_eq(d.err_off, 20);
    /* LENIENT_LONG_LINE: only the buffer bounds it */
    memset(buf, 'x', sizeof buf);
    memcpy(buf + 1998, "\r\n", 2);
    p3_ml_init(&d, P3_LENIENT_LONG_LINE, 0);
    ck_assert_int_eq(line1(&d, buf, 1999, &l), P3_NEED_MORE);
    ck_assert_int_eq(line1(&d, buf, 2000, &l), 2000);
    ck_assert_uint_eq(l.n, 1998);
}
END_TEST

START_TEST(line_matches_body)
{
    /* The line decoder and the body decoder agree on the counters. */
    static const char in[] = "a\r\n..b\r\n\r\n.c\r\n...\r\n.\r\n";
    struct res want;
    run_decode(S(in), 0, NULL, 0, 8, &want);
    p3_ml d;
    p3_slice l;
    p3_ml_init(&d, 0, 0);
    size_t off = 0, n = sizeof in - 1;
    while (!p3_ml_done(&d)) {
        ssize_t r = line1(&d, in + off, n - off, &l);
        ck_assert_int_gt(r, 0);
        off += (size_t)r;
    }
    ck_assert_uint_eq(d.lines, want.lines);
    ck_assert_uint_eq(d.stuffed, want.stuffed);
    ck_assert_uint_eq(d.octets, want.nout);
    ck_assert_uint_eq(d.consumed, want.consumed);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("ml");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rfc_examples);
    tcase_add_test(tc, terminators);
    tcase_add_test(tc, diagnostics);
    tcase_add_test(tc, leniencies);
    tcase_add_test(tc, random_bodies);
    tcase_add_test(tc, big_body);
    tcase_add_test(tc, zero_cap);
    tcase_add_test(tc, line_mode);
    tcase_add_test(tc, line_errors);
    tcase_add_test(tc, line_limits);
    tcase_add_test(tc, line_matches_body);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
