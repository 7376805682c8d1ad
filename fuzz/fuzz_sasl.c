/* fuzz_sasl: p3_sasl_line_parse over a stream of client AUTH lines. Input:
 * 2 flag bytes, then the stream. Oracles: lengths and slices inside the
 * input, data is valid base64, leniency bits only from flags, a line that
 * needed no leniency parses the same in strict mode. */
#include "fz.h"

static void check_line(const char *line, size_t n, unsigned flags, const p3_sasl_line *s)
{
    FZ_CHECK((s->lenient & ~flags) == 0);
    FZ_CHECK(fz_inside(s->data, line, n));
    FZ_CHECK(p3_base64_valid(s->data.p, s->data.n));
    if (s->cancel)
        FZ_CHECK(s->data.n == 0);
    if (s->lenient == 0 && flags) {
        p3_sasl_line t;
        p3_diag d;
        FZ_CHECK(p3_sasl_line_parse(line, n, 0, &t, &d) == (ssize_t)n);
        FZ_CHECK(t.cancel == s->cancel && fz_same(t.data, s->data));
    }
}

static ssize_t one(const char *p, size_t n, unsigned flags, p3_diag *d)
{
    p3_sasl_line s;
    ssize_t r = p3_sasl_line_parse(p, n, flags, &s, d);
    if (r > 0 && (size_t)r <= n)
        check_line(p, (size_t)r, flags, &s);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_lines(data, size, one);
}
