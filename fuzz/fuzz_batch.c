/* fuzz_batch: the batch entry points against repeated single-line calls.
 * Input: [mode][cap] then the data. mode bit 0 picks the command batch
 * (p3_cmd_parse_many vs p3_cmd_parse) or the line batch (p3_ml_lines vs
 * p3_ml_line); bits 1-3 pick leniencies (BARE_LF, BARE_CR, LONG_LINE for
 * lines; SPACING, EIGHT_BIT, CTL for commands); bits 4-5 the max_line of
 * p3_ml_init. cap is 1 + cap % 64. Every result, every counter and the
 * final status (with diag, err, err_off) must be identical. The data is an
 * exact-size heap copy, so ASan sees a read past its end. */
#include "fz.h"

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

static void cmd_run(const char *c, size_t len, unsigned flags, size_t cap)
{
    p3_cmd *out = malloc(cap * sizeof *out);
    if (!out)
        abort();
    size_t pos = 0, spos = 0;
    for (;;) {
        size_t n = 99;
        p3_diag bd = {0}, sd = {0};
        ssize_t r = p3_cmd_parse_many(c + pos, len - pos, flags, out, cap, &n, &bd);
        if (r <= 0) {
            /* Must equal a single call at the same place. */
            p3_cmd one;
            ssize_t s = p3_cmd_parse(c + pos, len - pos, flags, &one, &sd);
            FZ_CHECK(n == 0 && r == s);
            if (r == P3_ERROR)
                FZ_CHECK(bd.code == sd.code && bd.offset == sd.offset && bd.skip == sd.skip);
            break;
        }
        FZ_CHECK(n >= 1 && n <= cap && (size_t)r <= len - pos);
        for (size_t k = 0; k < n; k++) {
            p3_cmd one;
            ssize_t s = p3_cmd_parse(c + spos, len - spos, flags, &one, &sd);
            FZ_CHECK(s > 0 && cmd_eq(&one, &out[k]));
            spos += (size_t)s;
        }
        pos += (size_t)r;
        FZ_CHECK(spos == pos);
    }
    free(out);
}

static void ml_run(const char *c, size_t len, unsigned flags, size_t max_line, size_t cap)
{
    p3_slice *out = malloc(cap * sizeof *out);
    if (!out)
        abort();
    p3_ml b, s;
    p3_ml_init(&b, flags, max_line);
    p3_ml_init(&s, flags, max_line);
    size_t pos = 0, spos = 0;
    for (;;) {
        size_t n = 99;
        ssize_t r = p3_ml_lines(&b, c + pos, len - pos, out, cap, &n);
        if (r <= 0) {
            p3_slice one;
            ssize_t q = p3_ml_line(&s, c + spos, len - spos, &one);
            FZ_CHECK(n == 0 && r == q && spos == pos);
            break;
        }
        FZ_CHECK(n <= cap && (size_t)r <= len - pos);
        for (size_t k = 0; k < n; k++) {
            p3_slice one;
            ssize_t q = p3_ml_line(&s, c + spos, len - spos, &one);
            FZ_CHECK(q > 0 && !p3_ml_done(&s) && one.p == out[k].p && one.n == out[k].n);
            spos += (size_t)q;
        }
        if (p3_ml_done(&b)) {
            p3_slice one;
            ssize_t q = p3_ml_line(&s, c + spos, len - spos, &one);
            FZ_CHECK(q > 0 && p3_ml_done(&s));
            spos += (size_t)q;
        }
        pos += (size_t)r;
        FZ_CHECK(spos == pos);
        if (p3_ml_done(&b))
            break;
    }
    FZ_CHECK(b.consumed == s.consumed && b.octets == s.octets && b.lines == s.lines &&
             b.stuffed == s.stuffed && b.lenient == s.lenient && b.err == s.err &&
             b.err_off == s.err_off && p3_ml_done(&b) == p3_ml_done(&s));
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mode = data[0];
    size_t cap = 1 + data[1] % 64;
    char *c = fz_dup(data + 2, size - 2);
    size_t len = size - 2;
    static const unsigned cmd_fl[3] = {P3_LENIENT_SPACING, P3_LENIENT_EIGHT_BIT, P3_LENIENT_CTL};
    static const unsigned ml_fl[3] = {P3_LENIENT_BARE_LF, P3_LENIENT_BARE_CR,
                                      P3_LENIENT_LONG_LINE};
    static const size_t maxl[4] = {0, 8, 64, 1000};
    unsigned flags = 0;
    for (int b = 0; b < 3; b++)
        if (mode >> (b + 1) & 1)
            flags |= (mode & 1) ? ml_fl[b] : cmd_fl[b];
    if (mode & 1)
        ml_run(c, len, flags, maxl[(mode >> 4) & 3], cap);
    else
        cmd_run(c, len, flags, cap);
    free(c);
    return 0;
}
