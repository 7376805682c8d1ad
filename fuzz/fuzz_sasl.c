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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags = fz_flags(&data, &size);
    char *buf = fz_dup(data, size);
    size_t off = 0;
    while (off < size) {
        p3_sasl_line s;
        p3_diag d;
        size_t rem = size - off;
        ssize_t r = p3_sasl_line_parse(buf + off, rem, flags, &s, &d);
        if (r == P3_NEED_MORE)
            break;
        if (r == P3_ERROR) {
            fz_diag_ok(&d, rem);
            off = fz_skip(buf, off, size, &d);
            continue;
        }
        FZ_CHECK(r > 0 && (size_t)r <= rem);
        check_line(buf + off, (size_t)r, flags, &s);
        off += (size_t)r;
    }
    free(buf);
    return 0;
}
