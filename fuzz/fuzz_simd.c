/* fuzz_simd: the SIMD implementations (SSE2, AVX2, AVX-512, whichever this
 * CPU and build have) must give byte-for-byte the results of the scalar one:
 * the scan helpers (p3_scan.h, private: special, body, body_dots, nongraph128)
 * chained over the input and at the first 64 offsets, p3_ml_body,
 * p3_cmd_parse and p3_status_parse. Input:
 * 1 flag byte (leniency bits 0..7), 1 byte choosing the SIMD path (% 3:
 * SSE2, AVX2, AVX-512), then the data (the first 1024 octets). */
#include "fz.h"
#include "p3_scan.h"


FZ_NOCOV static void put_slice(fz_rec *r, p3_slice s, const char *base)
{
    fz_put(r, s.n);
    if (s.n)
        fz_put(r, (uint64_t)(s.p - base));
}

static void scans(fz_rec *r, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i += p3_scan_special(p + i, n - i) + 1)
        fz_put(r, i);
    for (size_t i = 0; i < n;) {
        size_t j = i + p3_scan_body(p + i, n - i, i ? (unsigned char)p[i - 1] : '\n');
        fz_put(r, j);
        i = j + 1;
    }
    /* The same events through the scan that goes past stuffed dots:
     * recorded dots and stops together are the chain above. */
    size_t lfs = 0;
    unsigned hint = n ? (unsigned char)p[n - 1] % 80 : 0; /* any start is allowed */
    for (size_t i = 0; i < n;) {
        size_t dots[8], nd, lf;
        size_t j = i + p3_scan_body_dots(p + i, n - i, i ? (unsigned char)p[i - 1] : '\n', &lf,
                                         dots, i % 9, &nd, &hint);
        for (size_t t = 0; t < nd; t++)
            fz_put(r, i + dots[t]);
        fz_put(r, j);
        lfs += lf;
        i = j + 1;
    }
    fz_put(r, lfs);
    static const unsigned char prevs[] = {'\r', '\n', '.', 'a'};
    /* Every alignment and short length (vector tails), bounded so that
     * long inputs stay fast under trace-cmp instrumentation. */
    for (size_t i = 0; i < n && i < 64; i++) {
        size_t m = 1 + (i * 37) % 130;
        m = n - i < m ? n - i : m;
        fz_put(r, p3_scan_special(p + i, m));
        fz_put(r, p3_scan_special(p, i));
        fz_put(r, p3_scan_body(p + i, m, prevs[i % sizeof prevs]));
    }
    /* The 128-position mask, short (every bit from the length up set) and
     * long (128 octets or more looked at). Every fourth offset: the scalar
     * reference costs 128 instrumented octet tests per call whatever the
     * length, and lengths matter more than alignment here. */
    for (size_t i = 0; i < n && i < 64; i += 4) {
        size_t m = (i * 53 + (unsigned char)p[i]) % 201;
        p3_mask128 g = p3_scan_nongraph128(p + i, n - i < m ? n - i : m);
        fz_put(r, g.lo), fz_put(r, g.hi);
    }
    for (size_t i = 0; i < n; i += 128) {
        p3_mask128 g = p3_scan_nongraph128(p + i, n - i);
        fz_put(r, g.lo), fz_put(r, g.hi);
    }
}

static void body(fz_rec *r, const char *p, size_t n, unsigned flags)
{
    p3_ml d;
    p3_slice *out = malloc((n + 2) * sizeof *out);
    size_t nout = 0;
    p3_ml_init(&d, flags, 0);
    ssize_t got = p3_ml_body(&d, p, n, out, n + 2, &nout);
    fz_put(r, (uint64_t)got);
    if (got >= 0)
        for (size_t i = 0; i < nout; i++)
            put_slice(r, out[i], p);
    fz_put(r, d.consumed), fz_put(r, d.octets), fz_put(r, d.lines), fz_put(r, d.stuffed);
    fz_put(r, d.err), fz_put(r, d.err_off), fz_put(r, d.lenient), fz_put(r, (uint64_t)p3_ml_done(&d));
    free(out);
}

static void lines(fz_rec *r, const char *p, size_t n, unsigned flags)
{
    for (size_t off = 0; off < n;) {
        p3_cmd c;
        p3_status st;
        p3_diag d;
        ssize_t got = p3_cmd_parse(p + off, n - off, flags, &c, &d);
        fz_put(r, (uint64_t)got);
        if (got > 0) {
            fz_put(r, c.kind), fz_put(r, c.nargs), fz_put(r, c.lenient), fz_put(r, c.num[0]), fz_put(r, c.num[1]);
            put_slice(r, c.keyword, p), put_slice(r, c.rest, p);
            for (unsigned i = 0; i < c.nargs && i < P3_MAX_ARGS; i++)
                put_slice(r, c.args[i], p);
        } else if (got == P3_ERROR) {
            fz_put(r, d.code), fz_put(r, d.offset), fz_put(r, d.skip);
        }
        got = p3_status_parse(p + off, n - off, flags, &st, &d);
        fz_put(r, (uint64_t)got);
        if (got > 0) {
            fz_put(r, st.kind), fz_put(r, st.code_kind), fz_put(r, st.lenient);
            put_slice(r, st.code, p), put_slice(r, st.text, p), put_slice(r, st.line, p);
        } else if (got == P3_ERROR) {
            fz_put(r, d.code), fz_put(r, d.offset), fz_put(r, d.skip);
        }
        const char *lf = memchr(p + off, '\n', n - off);
        off = lf ? (size_t)(lf - p) + 1 : n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const p3_impl simd[] = {P3_IMPL_SSE2, P3_IMPL_AVX2, P3_IMPL_AVX512};
    if (size < 2)
        return 0;
    /* Each implementation runs several passes, under trace-cmp; 1 KiB is
     * 16 AVX-512 blocks, plenty for block edges and tails. */
    if (size > 1026)
        size = 1026;
    unsigned flags = data[0];
    /* Scalar against one SIMD path per input (the second byte picks it, the
     * next available one when the CPU lacks it): half the cost of all. */
    p3_impl impls[2] = {P3_IMPL_SCALAR, P3_IMPL_SCALAR};
    for (size_t k = 0; k < 3; k++) {
        p3_impl i = simd[(data[1] + k) % 3];
        if (p3_impl_available(i)) {
            impls[1] = i;
            break;
        }
    }
    char *p = fz_dup(data + 2, size - 2);
    size_t n = size - 2;
    fz_rec r[2] = {{0}, {0}};
    for (size_t k = 0; k < 2; k++) {
        FZ_CHECK(p3_impl_set(impls[k]) == impls[k]);
        scans(&r[k], p, n);
        body(&r[k], p, n, flags & 7);
        lines(&r[k], p, n, flags);
    }
    if (r[0].n != r[1].n || memcmp(r[0].v, r[1].v, r[0].n * sizeof *r[0].v) != 0) {
        size_t i = 0;
        while (i < r[0].n && i < r[1].n && r[0].v[i] == r[1].v[i])
            i++;
        fprintf(stderr, "%s differs from scalar at record %zu of %zu\n", p3_impl_name(impls[1]),
                i, r[0].n);
        FZ_CHECK(0);
    }
    p3_impl_set(P3_IMPL_AUTO);
    free(r[0].v);
    free(r[1].v);
    free(p);
    return 0;
}
