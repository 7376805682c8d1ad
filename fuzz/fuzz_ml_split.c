/* fuzz_ml_split: multi-line data fed in fuzzer-chosen pieces must decode
 * exactly as in one piece. Input: [mode][cap][nsplit][nsplit piece lengths]
 * then the data. mode bits 0-2 pick BARE_LF, BARE_CR, LONG_LINE, bits 3-4
 * the p3_ml_line max_line. Body mode (p3_ml_body, out[] capacity 1..8 vs
 * large) and line mode (p3_ml_line over growing windows vs all at once):
 * output, counters, err and err_off must be identical. Every piece is an
 * exact-size heap copy, freed after use, so ASan sees stale or far reads. */
#include "fz.h"

typedef struct res {
    char *out;
    size_t n;
    p3_ml d;
    int failed;
} res;

static const char static_cr_probe = '\r';

static void body_run(const char *in, size_t len, const uint8_t *sp, size_t nsp, size_t cap,
                     unsigned flags, res *r)
{
    p3_slice *out = malloc(cap * sizeof *out);
    size_t pos = 0, k = 0;
    if (!out)
        abort();
    p3_ml_init(&r->d, flags, 0);
    r->n = 0;
    r->failed = 0;
    while (!r->failed && !p3_ml_done(&r->d)) {
        size_t clen = k < nsp ? sp[k] : len - pos;
        if (clen > len - pos)
            clen = len - pos;
        char *c = fz_dup(in + pos, clen);
        size_t at = 0, guard = 2 * clen + 4;
        do {
            size_t nout = 99;
            ssize_t got = p3_ml_body(&r->d, c + at, clen - at, out, cap, &nout);
            if (got == P3_ERROR) {
                FZ_CHECK(r->d.err != P3_E_OK);
                r->failed = 1;
                break;
            }
            FZ_CHECK(got >= 0 && (size_t)got <= clen - at && nout <= cap);
            for (size_t i = 0; i < nout; i++) {
                int cr = out[i].n == 1 && out[i].p[0] == static_cr_probe;
                FZ_CHECK(cr || fz_inside(out[i], c + at, (size_t)got));
                FZ_CHECK(r->n + out[i].n <= len);
                memcpy(r->out + r->n, out[i].p, out[i].n);
                r->n += out[i].n;
            }
            at += (size_t)got;
            FZ_CHECK(guard-- > 0); /* no progress */
        } while (at < clen && !p3_ml_done(&r->d));
        free(c);
        pos += clen;
        if (k >= nsp && pos == len)
            break;
        k++;
    }
    if (!r->failed && !p3_ml_done(&r->d)) {
        FZ_CHECK(p3_ml_finish(&r->d) == P3_ERROR && r->d.err == P3_E_TRUNCATED);
        r->failed = 1;
    }
    free(out);
}

/* Line mode over windows that grow to the next piece boundary. */
static void line_run(const char *in, size_t len, const uint8_t *sp, size_t nsp, unsigned flags,
                     size_t max_line, res *r)
{
    size_t start = 0, end = 0, k = 0;
    p3_ml_init(&r->d, flags, max_line);
    r->n = 0;
    r->failed = 0;
    for (;;) {
        char *w = fz_dup(in + start, end - start);
        p3_slice line;
        ssize_t got = p3_ml_line(&r->d, w, end - start, &line);
        if (got == P3_NEED_MORE) {
            free(w);
            if (end == len)
                break;
            end = k < nsp && end + sp[k] < len ? end + sp[k] : len;
            k++;
            continue;
        }
        if (got == P3_ERROR) {
            free(w);
            r->failed = 1;
            break;
        }
        FZ_CHECK(got > 0 && (size_t)got <= end - start);
        FZ_CHECK(fz_inside(line, w, (size_t)got) && line.n < (size_t)got);
        uint64_t hdr[2] = {(uint64_t)got, line.n};
        memcpy(r->out + r->n, hdr, sizeof hdr);
        memcpy(r->out + r->n + sizeof hdr, line.p, line.n);
        r->n += sizeof hdr + line.n;
        free(w);
        start += (size_t)got;
        if (p3_ml_done(&r->d))
            break;
    }
    if (!r->failed && !p3_ml_done(&r->d))
        r->failed = p3_ml_finish(&r->d) == P3_ERROR;
}

static void same(const res *a, const res *b)
{
    FZ_CHECK(a->failed == b->failed);
    FZ_CHECK(a->d.err == b->d.err);
    if (a->failed) {
        FZ_CHECK(a->d.err_off == b->d.err_off);
        if (a->d.err != P3_E_TRUNCATED)
            return;
    }
    FZ_CHECK(a->n == b->n && memcmp(a->out, b->out, a->n) == 0);
    FZ_CHECK(p3_ml_done(&a->d) == p3_ml_done(&b->d));
    FZ_CHECK(a->d.consumed == b->d.consumed && a->d.octets == b->d.octets);
    FZ_CHECK(a->d.lines == b->d.lines && a->d.stuffed == b->d.stuffed);
    FZ_CHECK(a->d.lenient == b->d.lenient);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_lines[4] = {0, 8, 64, 1000};
    if (size < 3)
        return 0;
    unsigned mode = data[0];
    unsigned flags = (mode & 1 ? P3_LENIENT_BARE_LF : 0) | (mode & 2 ? P3_LENIENT_BARE_CR : 0) |
                     (mode & 4 ? P3_LENIENT_LONG_LINE : 0);
    size_t cap = 1 + data[1] % 8, nsp = data[2] % 16;
    data += 3;
    size -= 3;
    if (nsp > size)
        nsp = size;
    const uint8_t *sp = data;
    const char *in = (const char *)data + nsp;
    size_t len = size - nsp;

    res a, b;
    a.out = malloc(len + 1);
    b.out = malloc(len + 1);
    body_run(in, len, NULL, 0, len + 2, flags, &a);
    body_run(in, len, sp, nsp, cap, flags, &b);
    same(&a, &b);
    free(a.out);
    free(b.out);

    size_t rec = 17 * len + 17;
    a.out = malloc(rec);
    b.out = malloc(rec);
    line_run(in, len, NULL, 0, flags, max_lines[(mode >> 3) & 3], &a);
    line_run(in, len, sp, nsp, flags, max_lines[(mode >> 3) & 3], &b);
    same(&a, &b);
    free(a.out);
    free(b.out);
    return 0;
}
