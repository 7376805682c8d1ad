/* fuzz_ml_entry: p3_ml_list / p3_ml_uidl must give exactly the results of
 * the composition they are defined as (pop3parse.h): p3_ml_line, then
 * p3_list_entry / p3_uidl_entry with the p3_ml_init flags, the SPACING /
 * UID bits the entry cannot do without added to d->lenient, a malformed
 * entry as P3_ERROR with diag {code, (line.p - buf) + offset, line octets}
 * (d->err still OK), a framing error as P3_ERROR with diag {d->err,
 * d->err_off - consumed before the call, 0}.
 *
 * Input: [flags lo][flags hi][mode][nsplit][nsplit piece lengths] then the
 * data (at most 4 KiB). Flags: P3_LENIENT_* bits. mode bit 0: UIDL (else
 * LIST); bits 1-2: max_line 0 (512), 10, 24, 80; bits 3-4: the SIMD path
 * (0 the best this CPU has, 1 SSE2, 2 AVX2, 3 AVX-512; the best when the
 * CPU lacks it).
 *
 * The oracle is the composition fed the whole input under the scalar
 * implementation. Against it: the call under test under the scalar and the
 * SIMD implementation, fed in the pieces (P3_NEED_MORE: the unconsumed
 * octets again with the next piece appended; an entry error: on at
 * buf + skip), and under the SIMD implementation fed whole. Every result,
 * output, diagnostic and counter must be the same. Each buffer is an
 * exact-size heap copy of the input up to the current piece end, freed
 * when the end moves, so ASan sees reads past len and stale pointers. */
#include "fz.h"
#include "ml_oracle.h"

#define MSG_POISON 0xdeadbeefu
#define OCT_POISON 0xfeedfacecafef00dull

/* Feed in[0..len) to fn in the pieces sp[0..nsp) (then the rest), or whole
 * when nsp is 0, and record every result but the P3_NEED_MOREs that more
 * input answered. Bookkeeping and checks around the calls under test: no
 * coverage hooks (their trace-cmp calls were about 14 % of the instructions
 * replaying a corpus). */
FZ_NOCOV static void run(mlo_fn fn, int uidl, const char *in, size_t len, const uint8_t *sp,
                         size_t nsp, unsigned flags, size_t max_line, fz_rec *r)
{
    p3_ml d;
    p3_ml_init(&d, flags, max_line);
    unsigned extra = 0;
    size_t start = 0, k = 1;
    size_t end = nsp ? (sp[0] < len ? sp[0] : len) : len;
    char *w = fz_dup(in, end);
    for (size_t guard = 0;; guard++) {
        FZ_CHECK(guard <= 2 * len + nsp + 4); /* progress */
        const char *buf = w + start;
        const size_t n = end - start;
        uint32_t msg = MSG_POISON;
        uint64_t oct = OCT_POISON;
        p3_slice uid = {NULL, 12345};
        p3_diag dg;
        memset(&dg, 0xa5, sizeof dg);
        const p3_diag dpoison = dg;
        const p3_ml before = d;
        ssize_t got = fn(uidl, &d, flags, buf, n, &msg, &oct, &uid, &dg, &extra);
        const int out_untouched =
            msg == MSG_POISON && oct == OCT_POISON && uid.p == NULL && uid.n == 12345;
        const int diag_untouched = memcmp(&dg, &dpoison, sizeof dg) == 0;
        FZ_CHECK((d.lenient & ~flags) == 0);

        if (got == P3_NEED_MORE) {
            FZ_CHECK(mlo_same(&before, &d) && out_untouched && diag_untouched);
            if (end < len) {
                end = k < nsp && end + sp[k] < len ? end + sp[k] : len;
                k++;
                free(w);
                w = fz_dup(in, end);
                continue;
            }
        }
        fz_put(r, start);
        fz_put(r, (uint64_t)got);
        fz_put(r, d.consumed), fz_put(r, d.octets), fz_put(r, d.lines), fz_put(r, d.stuffed);
        fz_put(r, d.err), fz_put(r, d.err ? d.err_off : 0), fz_put(r, d.lenient | extra);
        fz_put(r, (uint64_t)p3_ml_done(&d));
        if (got == P3_NEED_MORE)
            break;
        if (got > 0) {
            FZ_CHECK((size_t)got <= n && d.consumed == before.consumed + (uint64_t)got);
            FZ_CHECK(diag_untouched);
            if (p3_ml_done(&d)) {
                FZ_CHECK(out_untouched);
                /* nothing more is taken */
                const p3_ml after = d;
                FZ_CHECK(fn(uidl, &d, flags, buf + got, n - (size_t)got, &msg, &oct, &uid, &dg,
                            &extra) == 0);
                FZ_CHECK(mlo_same(&after, &d));
                break;
            }
            fz_put(r, msg);
            if (uidl) {
                FZ_CHECK(oct == OCT_POISON);
                FZ_CHECK(uid.n == 0 || fz_inside(uid, buf, (size_t)got));
                fz_put(r, uid.n ? start + (size_t)(uid.p - buf) : 0);
                fz_put(r, uid.n);
                if (!(flags & P3_LENIENT_UID))
                    FZ_CHECK(uid.n >= 1 && uid.n <= 70);
            } else {
                FZ_CHECK(uid.p == NULL && uid.n == 12345);
                fz_put(r, oct);
            }
            start += (size_t)got;
            continue;
        }
        if (got == 0) {
            FZ_CHECK(p3_ml_done(&d));
            break;
        }
        FZ_CHECK(got == P3_ERROR);
        FZ_CHECK(out_untouched);
        fz_diag_ok(&dg, n);
        fz_put(r, dg.code), fz_put(r, dg.offset), fz_put(r, dg.skip);
        if (d.err != P3_E_OK) {
            /* framing: sticky, nothing consumed */
            FZ_CHECK(d.consumed == before.consumed && d.err_off >= before.consumed);
            FZ_CHECK(dg.code == d.err && dg.skip == 0 && dg.offset == d.err_off - d.consumed);
            const p3_ml after = d;
            p3_diag d2;
            FZ_CHECK(fn(uidl, &d, flags, buf, n, &msg, &oct, &uid, &d2, &extra) == P3_ERROR);
            FZ_CHECK(mlo_same(&after, &d) && d2.code == dg.code && d2.offset == dg.offset);
            break;
        }
        /* entry: the line is consumed; go on after it */
        FZ_CHECK(dg.skip > 0 && dg.offset < dg.skip && dg.skip == d.consumed - before.consumed);
        FZ_CHECK(d.lines == before.lines + 1 && !p3_ml_done(&d));
        start += dg.skip;
    }
    fz_put(r, (uint64_t)p3_ml_finish(&d));
    fz_put(r, d.err), fz_put(r, d.err_off);
    free(w);
}

static void same(const fz_rec *want, const fz_rec *got, const char *what)
{
    if (want->n == got->n && memcmp(want->v, got->v, want->n * sizeof *want->v) == 0)
        return;
    size_t i = 0;
    while (i < want->n && i < got->n && want->v[i] == got->v[i])
        i++;
    fprintf(stderr, "%s (%s) differs from the composition at record %zu of %zu/%zu\n", what,
            p3_impl_name(p3_impl_get()), i, got->n, want->n);
    FZ_CHECK(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_lines[4] = {0, 10, 24, 80};
    static const p3_impl paths[4] = {P3_IMPL_AUTO, P3_IMPL_SSE2, P3_IMPL_AVX2, P3_IMPL_AVX512};
    if (size < 4)
        return 0;
    unsigned flags = fz_flags(&data, &size);
    unsigned mode = data[0];
    size_t nsp = data[1] % 16;
    data += 2;
    size -= 2;
    if (nsp > size)
        nsp = size;
    const uint8_t *sp = data;
    size_t len = size - nsp;
    if (len > 4096)
        len = 4096;
    char *in = fz_dup(data + nsp, len);
    const int uidl = mode & 1;
    const size_t max_line = max_lines[(mode >> 1) & 3];

    p3_impl simd = p3_impl_set(P3_IMPL_AUTO);
    if (paths[(mode >> 3) & 3] != P3_IMPL_AUTO && p3_impl_available(paths[(mode >> 3) & 3]))
        simd = paths[(mode >> 3) & 3];

    fz_rec want = {0}, got = {0};
    FZ_CHECK(p3_impl_set(P3_IMPL_SCALAR) == P3_IMPL_SCALAR);
    run(mlo_compose, uidl, in, len, NULL, 0, flags, max_line, &want);
    run(mlo_api, uidl, in, len, sp, nsp, flags, max_line, &got);
    same(&want, &got, "pieces, scalar");
    if (simd != P3_IMPL_SCALAR) {
        FZ_CHECK(p3_impl_set(simd) == simd);
        got.n = 0;
        run(mlo_api, uidl, in, len, sp, nsp, flags, max_line, &got);
        same(&want, &got, "pieces");
        if (nsp) { /* without pieces, "pieces" was the whole input already */
            got.n = 0;
            run(mlo_api, uidl, in, len, NULL, 0, flags, max_line, &got);
            same(&want, &got, "whole");
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
    free(want.v);
    free(got.v);
    free(in);
    return 0;
}
