/* fuzz_simd: every implementation (scalar, SSE2, AVX2, AVX-512, whichever
 * this CPU and build have) must give byte-for-byte the same results: the
 * scan helpers (p3_scan.h, private) chained over the input and at the first
 * offsets, p3_ml_body, p3_cmd_parse and p3_status_parse. Input: 1 flag byte
 * (bits map to leniency bits 0..7), then the data (the first 1024 octets). */
#include "fz.h"
#include "p3_scan.h"

/* The recorder is bookkeeping, not code under test: no coverage hooks. */
#if defined(__clang__)
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

typedef struct rec {
    uint64_t *v;
    size_t n, cap;
} rec;

FZ_NOCOV static void put(rec *r, uint64_t x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v)
            abort();
    }
    r->v[r->n++] = x;
}

FZ_NOCOV static void put_slice(rec *r, p3_slice s, const char *base)
{
    put(r, s.n);
    if (s.n)
        put(r, (uint64_t)(s.p - base));
}

static void scans(rec *r, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i += p3_scan_special(p + i, n - i) + 1)
        put(r, i);
    for (size_t i = 0; i < n;) {
        size_t j = i + p3_scan_body(p + i, n - i, i ? (unsigned char)p[i - 1] : '\n');
        put(r, j);
        i = j + 1;
    }
    static const unsigned char prevs[] = {'\r', '\n', '.', 'a'};
    /* Every alignment and short length (vector tails), bounded so that
     * long inputs stay fast under trace-cmp instrumentation. */
    for (size_t i = 0; i < n && i < 64; i++) {
        size_t m = n - i < 100 ? n - i : 100;
        put(r, p3_scan_special(p + i, m));
        put(r, p3_scan_special(p, i));
        put(r, p3_scan_body(p + i, m, prevs[i % sizeof prevs]));
    }
}

static void body(rec *r, const char *p, size_t n, unsigned flags)
{
    p3_ml d;
    p3_slice *out = malloc((n + 2) * sizeof *out);
    size_t nout = 0;
    p3_ml_init(&d, flags, 0);
    ssize_t got = p3_ml_body(&d, p, n, out, n + 2, &nout);
    put(r, (uint64_t)got);
    if (got >= 0)
        for (size_t i = 0; i < nout; i++)
            put_slice(r, out[i], p);
    put(r, d.consumed), put(r, d.octets), put(r, d.lines), put(r, d.stuffed);
    put(r, d.err), put(r, d.err_off), put(r, d.lenient), put(r, (uint64_t)p3_ml_done(&d));
    free(out);
}

static void lines(rec *r, const char *p, size_t n, unsigned flags)
{
    for (size_t off = 0; off < n;) {
        p3_cmd c;
        p3_status st;
        p3_diag d;
        ssize_t got = p3_cmd_parse(p + off, n - off, flags, &c, &d);
        put(r, (uint64_t)got);
        if (got > 0) {
            put(r, c.kind), put(r, c.nargs), put(r, c.lenient), put(r, c.num[0]), put(r, c.num[1]);
            put_slice(r, c.keyword, p), put_slice(r, c.rest, p);
            for (unsigned i = 0; i < c.nargs && i < P3_MAX_ARGS; i++)
                put_slice(r, c.args[i], p);
        } else if (got == P3_ERROR) {
            put(r, d.code), put(r, d.offset), put(r, d.skip);
        }
        got = p3_status_parse(p + off, n - off, flags, &st, &d);
        put(r, (uint64_t)got);
        if (got > 0) {
            put(r, st.kind), put(r, st.code_kind), put(r, st.lenient);
            put_slice(r, st.code, p), put_slice(r, st.text, p), put_slice(r, st.line, p);
        } else if (got == P3_ERROR) {
            put(r, d.code), put(r, d.offset), put(r, d.skip);
        }
        const char *lf = memchr(p + off, '\n', n - off);
        off = lf ? (size_t)(lf - p) + 1 : n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const p3_impl impls[] = {P3_IMPL_SCALAR, P3_IMPL_SSE2, P3_IMPL_AVX2, P3_IMPL_AVX512};
    if (size < 1)
        return 0;
    /* Each implementation runs several passes, under trace-cmp; 1 KiB is
     * 16 AVX-512 blocks, plenty for block edges and tails. */
    if (size > 1025)
        size = 1025;
    unsigned flags = data[0];
    char *p = fz_dup(data + 1, size - 1);
    size_t n = size - 1;
    rec ref = {0}, cur = {0};
    for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++) {
        if (!p3_impl_available(impls[k]))
            continue;
        FZ_CHECK(p3_impl_set(impls[k]) == impls[k]);
        rec *r = k == 0 ? &ref : &cur;
        r->n = 0;
        scans(r, p, n);
        body(r, p, n, flags & 7);
        lines(r, p, n, flags);
        if (k && (cur.n != ref.n || memcmp(cur.v, ref.v, ref.n * sizeof *ref.v) != 0)) {
            size_t i = 0;
            while (i < cur.n && i < ref.n && cur.v[i] == ref.v[i])
                i++;
            fprintf(stderr, "%s differs from scalar at record %zu of %zu\n",
                    p3_impl_name(impls[k]), i, ref.n);
            FZ_CHECK(0);
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
    free(ref.v);
    free(cur.v);
    free(p);
    return 0;
}
