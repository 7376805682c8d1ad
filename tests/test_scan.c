/* The scan helper: every implementation against a local reference. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p3_scan.h"
#include "p3t.h"
#include "pop3parse.h"

static const p3_impl impls[] = {P3_IMPL_SCALAR, P3_IMPL_SSE2, P3_IMPL_AVX2, P3_IMPL_AVX512};
#define NIMPL (sizeof impls / sizeof impls[0])

static uint64_t rng = 0x1234567;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t ref_special(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
            return i;
    return n;
}

static size_t ref_eol(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n')
            return i;
    return n;
}

static size_t ref_body(const char *p, size_t n, unsigned char prev, size_t *lf)
{
    *lf = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i], pv = i ? (unsigned char)p[i - 1] : prev;
        if ((c == '\n' && pv != '\r') || (pv == '\r' && c != '\n') || (pv == '\n' && c == '.'))
            return i;
        *lf += c == '\n';
    }
    return n;
}

/* Not a VCHAR (outside 0x21..0x7E), or at/after n: p3_scan_nongraph128. */
static p3_mask128 ref_nongraph(const char *p, size_t n)
{
    p3_mask128 m = {0, 0};
    for (size_t i = 0; i < 128; i++) {
        if (i < n && (unsigned char)p[i] >= 0x21 && (unsigned char)p[i] <= 0x7e)
            continue;
        if (i < 64)
            m.lo |= 1ull << i;
        else
            m.hi |= 1ull << (i - 64);
    }
    return m;
}

/* p3_scan_body_dots (current implementation) against ref_body: each
 * recorded dot is the event ref_body finds next, from where the one
 * before left off, and a stuffed dot (line start, then data); the
 * returned index is the event after the last one, and *lf counts the LFs
 * before it. Returns how many dots were recorded. */
static size_t check_dots_hint(const char *p, size_t n, unsigned char prev, size_t dcap,
                              unsigned hint)
{
    size_t dots[20], nd = 99, lf = 99999, pos = 0, total = 0, rlf;
    size_t k = p3_scan_body_dots(p, n, prev, &lf, dots, dcap, &nd, &hint);
    ck_assert_uint_le(nd, dcap);
    unsigned char pv = prev;
    for (size_t t = 0; t < nd; t++) {
        size_t e = pos + ref_body(p + pos, n - pos, pv, &rlf);
        total += rlf;
        ck_assert_uint_eq(dots[t], e);
        ck_assert(e + 1 < n && p[e] == '.' && (e ? (unsigned char)p[e - 1] : prev) == '\n');
        ck_assert(p[e + 1] != '\r' && p[e + 1] != '\n');
        pos = e + 1;
        pv = '.';
    }
    ck_assert_uint_eq(k, pos + ref_body(p + pos, n - pos, pv, &rlf));
    ck_assert_uint_eq(lf, total + rlf);
    return nd;
}

/* The same against the oracle whatever hint the scan is given: the hint
 * may change only how fast it goes. Each call takes the next of these (0
 * is a new stream, the others what a call before may have left, or
 * nonsense). */
static size_t check_dots(const char *p, size_t n, unsigned char prev, size_t dcap)
{
    static const unsigned hints[] = {0, 1, 2, 5, 62, 63, 64, 4096, ~0u};
    static size_t next_hint;
    next_hint = (next_hint + 1) % (sizeof hints / sizeof hints[0]);
    return check_dots_hint(p, n, prev, dcap, hints[next_hint]);
}

/* Runs every available implementation on p[0..n) and checks all the scans
 * against the references. */
static void check_all(const char *p, size_t n)
{
    size_t rs = ref_special(p, n), re = ref_eol(p, n);
    p3_mask128 rg = ref_nongraph(p, n);
    static const unsigned char prevs[] = {'\n', '\r', 'a', '.'};
    for (size_t k = 0; k < NIMPL; k++) {
        if (!p3_impl_available(impls[k]))
            continue;
        ck_assert_int_eq(p3_impl_set(impls[k]), impls[k]);
        ck_assert_uint_eq(p3_scan_special(p, n), rs);
        ck_assert_uint_eq(p3_scan_eol(p, n), re);
        p3_mask128 g = p3_scan_nongraph128(p, n);
        ck_assert_msg(g.lo == rg.lo && g.hi == rg.hi,
                      "%s nongraph128 n %zu: %016llx %016llx, want %016llx %016llx",
                      p3_impl_name(impls[k]), n, (unsigned long long)g.hi,
                      (unsigned long long)g.lo, (unsigned long long)rg.hi,
                      (unsigned long long)rg.lo);
        for (size_t j = 0; j < sizeof prevs; j++) {
            size_t rlf, lf = 99999;
            size_t rb = ref_body(p, n, prevs[j], &rlf);
            ck_assert_uint_eq(p3_scan_body_lf(p, n, prevs[j], &lf), rb);
            ck_assert_uint_eq(lf, rlf);
            ck_assert_uint_eq(p3_scan_body(p, n, prevs[j]), rb);
            static const size_t dcaps[] = {0, 1, 2, 16};
            check_dots(p, n, prevs[j], dcaps[(n + j) % 4]);
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
}

START_TEST(impl_api)
{
    ck_assert_int_eq(p3_impl_available(P3_IMPL_SCALAR), 1);
    ck_assert_int_eq(p3_impl_available(P3_IMPL_AUTO), 0);
    ck_assert_int_eq(p3_impl_available((p3_impl)99), 0);
#if defined(__x86_64__)
    ck_assert_int_eq(p3_impl_available(P3_IMPL_SSE2), 1);
#endif
    p3_impl best = p3_impl_set(P3_IMPL_AUTO);
    ck_assert_int_ne(best, P3_IMPL_AUTO);
    ck_assert_int_eq(p3_impl_available(best), 1);
    for (int i = (int)best + 1; i <= P3_IMPL_AVX512; i++)
        ck_assert_int_eq(p3_impl_available((p3_impl)i), 0);
    ck_assert_int_eq(p3_impl_get(), best);
    ck_assert_int_eq(p3_impl_set(P3_IMPL_SCALAR), P3_IMPL_SCALAR);
    /* asking for something impossible keeps the current one */
    ck_assert_int_eq(p3_impl_set((p3_impl)99), P3_IMPL_SCALAR);
    ck_assert_int_eq(p3_impl_get(), P3_IMPL_SCALAR);
    ck_assert_int_eq(p3_impl_set(P3_IMPL_AUTO), best);
    ck_assert_str_eq(p3_impl_name(P3_IMPL_AUTO), "auto");
    ck_assert_str_eq(p3_impl_name(P3_IMPL_SCALAR), "scalar");
    ck_assert_str_eq(p3_impl_name(P3_IMPL_SSE2), "sse2");
    ck_assert_str_eq(p3_impl_name(P3_IMPL_AVX2), "avx2");
    ck_assert_str_eq(p3_impl_name(P3_IMPL_AVX512), "avx512");
    ck_assert_str_eq(p3_impl_name((p3_impl)5), "unknown");
}
END_TEST

START_TEST(special_every_position)
{
    /* Every length 0..300 at a guard page, the special octet at every
     * position (and none), the octet varying over the class boundaries. */
    static const unsigned char bad[] = {0x00, 0x0a, 0x0d, 0x1f, 0x7f, 0x80, 0xff, 0x09, 0x01, 0xc3};
    static const unsigned char good[] = {0x20, 0x7e, 'A', '.', '~', ' '};
    char buf[320] = {0}; /* n = 0 passes it unwritten */
    for (size_t n = 0; n <= 300; n++) {
        for (size_t pos = 0; pos <= n; pos++) {
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)good[(i + pos) % sizeof good];
            if (pos < n)
                buf[pos] = (char)bad[(n + pos) % sizeof bad];
            if (pos + 7 < n) /* a second one later must not matter */
                buf[pos + 7] = '\n';
            check_all(p3t_guard(buf, n), n);
        }
    }
}
END_TEST

/* Long runs: the SIMD bodies count LFs in narrow lanes and fold them now and
 * then; the densest text ("\r\n" over and over) and lines of ordinary text,
 * with the first event near the end, at a fold boundary, or none. */
START_TEST(body_long_counts)
{
    static char buf[3 * 127 * 64 + 300];
    const size_t n = sizeof buf;
    for (int kind = 0; kind < 2; kind++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = kind == 0 ? (i % 2 ? '\n' : '\r') : "abc.\r\n"[i % 6];
        static const size_t at[] = {0, 64 + 127 * 64 - 1, 64 + 127 * 64, 64 + 127 * 64 + 1,
                                    64 + 2 * 127 * 64 + 33, 3 * 127 * 64 + 250, 3 * 127 * 64 + 299};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            char keep = buf[at[k]];
            if (k)
                buf[at[k]] = kind == 0 ? '.' : '\n'; /* a stray dot after CR, or a bare LF */
            check_all(buf, n);
            check_all(buf + 1, n - 1);
            buf[at[k]] = keep;
        }
    }
}
END_TEST

/* p3_scan_nongraph128 under every implementation against ref_nongraph,
 * checked plainly (ck_assert* would mark the point on every pass). */
static void nongraph_all(const char *p, size_t n, const char *what, size_t pos)
{
    p3_mask128 want = ref_nongraph(p, n);
    for (size_t k = 0; k < NIMPL; k++) {
        if (!p3_impl_available(impls[k]))
            continue;
        p3_impl_set(impls[k]);
        p3_mask128 g = p3_scan_nongraph128(p, n);
        if (g.lo != want.lo || g.hi != want.hi)
            ck_abort_msg("%s nongraph128 (%s) n %zu, octet %#x at %zu: hi:lo %016llx:%016llx, "
                         "want %016llx:%016llx",
                         p3_impl_name(impls[k]), what, n, pos < n ? (unsigned char)p[pos] : 0u,
                         pos, (unsigned long long)g.hi, (unsigned long long)g.lo,
                         (unsigned long long)want.hi, (unsigned long long)want.lo);
    }
    p3_impl_set(P3_IMPL_AUTO);
}

START_TEST(nongraph_every_position)
{
    /* Every length 0..200, every non-VCHAR octet class at every position
     * (and none), VCHARs around it (the edges '!' and '~' among them):
     * at a guard page, and again inside a larger buffer whose octets from n
     * on are VCHARs, which must not show through (every bit from n up is
     * set whatever follows). */
    static const unsigned char bad[] = {0x00, 0x20, 0x7f, 0x80, 0xff, 0x0d, 0x0a, 0x09,
                                        0x01, 0x1f, 0xa0, 0xa1, 0xc2, 0xde, 0xdf, 0xe0};
    static const unsigned char good[] = {'!', '~', 'A', '.', '0', 'z', 0x22, 0x7d};
    char buf[260], big[400];
    for (size_t n = 0; n <= 200; n++) {
        for (size_t pos = 0; pos <= n && pos <= 130; pos++) {
            for (size_t b = 0; b < sizeof bad; b++) {
                if (pos == n && b > 0)
                    break; /* "none" once */
                for (size_t i = 0; i < n; i++)
                    buf[i] = (char)good[(i + pos + b) % sizeof good];
                if (pos < n)
                    buf[pos] = (char)bad[b];
                nongraph_all(p3t_guard(buf, n), n, "guard page", pos);
                memcpy(big + 1, buf, n);
                memset(big + 1 + n, 'Q', sizeof big - 1 - n);
                nongraph_all(big + 1, n, "VCHARs after n", pos);
            }
        }
    }
    /* Every octet value at positions around the 16/32/64 lane and block
     * edges, n below, at and above 128. */
    static const size_t at[] = {0, 1, 15, 16, 31, 32, 33, 63, 64, 65, 95, 96, 126, 127};
    static const size_t ns[] = {127, 128, 129, 200};
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
        for (size_t a = 0; a < sizeof at / sizeof at[0]; a++) {
            for (unsigned c = 0; c < 256; c++) {
                memset(buf, 'x', ns[j]);
                buf[at[a]] = (char)c;
                nongraph_all(p3t_guard(buf, ns[j]), ns[j], "octet values", at[a]);
            }
        }
    }
    /* Two or more non-VCHARs: every one is reported, not just the first. */
    for (size_t n = 0; n <= 200; n += 7) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(i % 5 == 0 ? bad[i % sizeof bad] : good[i % sizeof good]);
        nongraph_all(p3t_guard(buf, n), n, "many", 0);
        nongraph_all(buf, n, "many, unguarded", 0);
    }
}
END_TEST

START_TEST(body_every_position)
{
    /* Well-formed CRLF text with one event (or none) at every position. */
    char buf[320];
    for (size_t n = 0; n <= 300; n++) {
        for (size_t pos = 0; pos <= n; pos++) {
            for (size_t i = 0; i < n; i++)
                buf[i] = (i % 9 == 7) ? '\r' : (i % 9 == 8) ? '\n' : (char)('a' + i % 26);
            if (pos < n) {
                switch ((n + pos) % 4) {
                case 0: buf[pos] = '\n'; break;
                case 1: buf[pos] = '\r'; break;
                case 2: buf[pos] = '.'; if (pos) buf[pos - 1] = '\n'; break;
                default: buf[pos] = '.'; break;
                }
            }
            check_all(p3t_guard(buf, n), n);
        }
    }
}
END_TEST

START_TEST(random_inputs)
{
    static const char alpha[] = "\r\n.\r\n..aZ \x80\x00\x7f\t";
    char buf[700];
    for (int iter = 0; iter < 4000; iter++) {
        size_t n = (size_t)(next() % 700);
        int dense = (int)(next() % 4);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next();
            if (dense == 0 || r % 64 == 0)
                buf[i] = alpha[(r >> 8) % (sizeof alpha - 1)];
            else if (r % 37 == 1 && i + 1 < n) {
                buf[i++] = '\r';
                buf[i] = '\n';
            } else
                buf[i] = (char)(0x20 + (r >> 8) % 95);
        }
        check_all(p3t_guard(buf, n), n);
        /* and not at a guard page, at every alignment */
        size_t off = (size_t)(next() % 64);
        if (off < n)
            check_all(buf + off, n - off);
    }
}
END_TEST

START_TEST(long_clean)
{
    /* Long clean runs exercise the unrolled loops end to end. */
    size_t n = 70000;
    char *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (i % 72 == 70) ? '\r' : (i % 72 == 71) ? '\n' : (char)('A' + i % 26);
    check_all(p3t_guard(buf, n), n);
    buf[n - 1] = '.';
    buf[n - 2] = '\n';
    buf[n - 3] = '\r';
    check_all(p3t_guard(buf, n), n);
    buf[40000] = '\n';
    check_all(p3t_guard(buf, n), n);
    free(buf);
}
END_TEST

/* The scan past stuffed dots: lines of text with a stuffed dot now and
 * then, at every offset within the 128-octet rounds and across runs, with
 * and without something else (a terminator-like ".\r\n", ".\n", a bare
 * CR or LF) later on, every implementation against the oracle. The AVX-512
 * scan must really go past them (it records as many as there is room for;
 * the others may record none). */
START_TEST(body_dots)
{
    static char buf[24000];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 300 + (size_t)(next() % (sizeof buf - 300)), i = 0, ndots = 0;
        size_t every = 1 + (size_t)(next() % 12); /* a dot on every k-th line */
        size_t line = 0;
        while (i < n) {
            size_t len = (size_t)(next() % 90);
            if (i + len + 2 > n)
                len = n - i >= 2 ? n - i - 2 : 0;
            for (size_t c = 0; c < len && i + c < n; c++)
                buf[i + c] = (char)('A' + (i + c) % 26);
            if (len >= 2 && ++line % every == 0 && i >= 64) {
                buf[i] = '.';
                buf[i + 1] = next() % 3 ? (char)('a' + line % 26) : '.';
                ndots++;
            }
            i += len;
            if (i < n)
                buf[i++] = '\r';
            if (i < n)
                buf[i++] = '\n';
        }
        size_t bad = n, mode = (size_t)(next() % 5);
        if (mode && n > 400) { /* something that is not a stuffed dot, late */
            bad = n / 2 + (size_t)(next() % (n / 2 - 3));
            if (mode == 1)
                buf[bad] = '\n';
            else if (mode == 2)
                buf[bad] = '\r';
            else {
                buf[bad] = '\n';
                buf[bad + 1] = '.';
                buf[bad + 2] = mode == 3 ? '\r' : '\n';
            }
        }
        const char *p = p3t_guard(buf, n);
        for (size_t k = 0; k < NIMPL; k++) {
            if (!p3_impl_available(impls[k]))
                continue;
            p3_impl_set(impls[k]);
            size_t got = check_dots(p, n, '\n', 16);
            check_dots(p, n, 'x', (size_t)(next() % 18));
            check_dots(buf + 1, n - 1, '\r', 3);
            if (impls[k] == P3_IMPL_AVX512 && mode == 0 && ndots >= 40 && every == 1)
                ck_assert_uint_eq(got, 16);
        }
        p3_impl_set(P3_IMPL_AUTO);
    }
}
END_TEST

/* The hint of the AVX-512 scan: after a call that went past two or more
 * stuffed dots to the end of its input, the next call on the stream is
 * told to log its rounds (the hint is nonzero); after a call that stopped
 * at any other event, or that could record no dot, it is told to test them
 * one by one (0), so that a response's terminator stops the next scan
 * where it is. The results are the same either way (check_dots). */
START_TEST(body_hint)
{
    if (!p3_impl_available(P3_IMPL_AVX512))
        return;
    p3_impl_set(P3_IMPL_AVX512);
    static char buf[16384];
    for (size_t i = 0, line = 0; i < sizeof buf; line++) {
        for (size_t c = 0; c < 70 && i < sizeof buf - 2; c++)
            buf[i++] = (char)(c == 0 && line % 20 == 19 ? '.' : 'a' + (char)(c % 26));
        buf[i++] = '\r';
        buf[i++] = '\n';
    }
    const size_t n = sizeof buf;
    size_t dots[16], nd, lf;
    unsigned hint = 0;
    ck_assert_uint_eq(p3_scan_body_dots(buf, n, '\n', &lf, dots, 16, &nd, &hint), n);
    ck_assert_uint_eq(nd, 16384 / 72 / 20);
    ck_assert_uint_ne(hint, 0);
    /* the same text with a terminator line after the first dots */
    memcpy(buf + 72 * 40, ".\r\n", 3);
    hint = 0;
    ck_assert_uint_eq(p3_scan_body_dots(buf, n, '\n', &lf, dots, 16, &nd, &hint), 72 * 40);
    ck_assert_uint_eq(nd, 2);
    ck_assert_uint_eq(lf, 40);
    ck_assert_uint_eq(hint, 0);
    hint = 63;
    ck_assert_uint_eq(p3_scan_body_dots(buf, n, '\n', &lf, dots, 16, &nd, &hint), 72 * 40);
    ck_assert_uint_eq(hint, 0);
    /* no room for dots: the first one stops the scan, and the next call
     * tests rounds one by one */
    hint = 40;
    ck_assert_uint_eq(p3_scan_body_dots(buf, n, '\n', &lf, dots, 0, &nd, &hint), 72 * 19);
    ck_assert_uint_eq(hint, 0);
    p3_impl_set(P3_IMPL_AUTO);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, impl_api);
    tcase_add_test(tc, special_every_position);
    tcase_add_test(tc, nongraph_every_position);
    tcase_add_test(tc, body_every_position);
    tcase_add_test(tc, body_long_counts);
    tcase_add_test(tc, random_inputs);
    tcase_add_test(tc, long_clean);
    tcase_add_test(tc, body_dots);
    tcase_add_test(tc, body_hint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
