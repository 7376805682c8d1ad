/* fuzz_capa: a CAPA answer. Input: 2 flag bytes, then the server's bytes:
 * an optional status line (p3_status_parse), then the multi-line list
 * (p3_ml_line) with every line through p3_capa_line. Oracles: lines and
 * capabilities inside the input, nparams bounded, leniency bits only from
 * flags, a line that needed no leniency parses the same in strict mode. */
#include "fz.h"

static void check_capa(p3_slice line, unsigned flags)
{
    p3_capa c;
    p3_diag d;
    if (p3_capa_line(line, flags, &c, &d) != 0) {
        FZ_CHECK(d.code > P3_E_OK && d.code < P3_E__COUNT && d.offset <= line.n);
        return;
    }
    FZ_CHECK(c.tag.n > 0 && fz_inside(c.tag, line.p, line.n));
    FZ_CHECK(c.nparams <= P3_MAX_CAPA_PARAMS);
    FZ_CHECK((c.lenient & ~flags) == 0);
    for (unsigned i = 0; i < c.nparams; i++)
        FZ_CHECK(fz_inside(c.params[i], line.p, line.n));
    if (c.lenient == 0 && flags) {
        p3_capa s;
        FZ_CHECK(p3_capa_line(line, 0, &s, &d) == 0);
        FZ_CHECK(fz_same(s.tag, c.tag) && s.nparams == c.nparams);
        for (unsigned i = 0; i < c.nparams; i++)
            FZ_CHECK(fz_same(s.params[i], c.params[i]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags = fz_flags(&data, &size);
    char *buf = fz_dup(data, size);
    size_t off = 0;
    p3_status st;
    p3_diag d;
    ssize_t r = p3_status_parse(buf, size, flags, &st, &d);
    if (r > 0)
        off = (size_t)r;

    p3_ml ml;
    p3_ml_init(&ml, flags, 0);
    while (off < size) {
        p3_slice line;
        size_t rem = size - off;
        r = p3_ml_line(&ml, buf + off, rem, &line);
        if (r == P3_NEED_MORE)
            break;
        if (r == P3_ERROR) {
            FZ_CHECK(ml.err != P3_E_OK && ml.err_off <= size);
            FZ_CHECK(p3_ml_line(&ml, buf + off, rem, &line) == P3_ERROR); /* sticky */
            break;
        }
        FZ_CHECK(r > 0 && (size_t)r <= rem);
        FZ_CHECK(fz_inside(line, buf + off, (size_t)r) && line.n < (size_t)r);
        off += (size_t)r;
        if (p3_ml_done(&ml)) {
            FZ_CHECK(line.n == 0);
            break;
        }
        check_capa(line, flags);
    }
    free(buf);
    return 0;
}
