/* fuzz_greeting: a server greeting, p3_status_parse + p3_greeting_timestamp.
 * Input: 2 flag bytes, then the stream of lines. Oracle: a timestamp lies
 * inside the line, starts with '<', ends with '>' and holds an '@'. */
#include "fz.h"

static ssize_t one(const char *p, size_t n, unsigned flags, p3_diag *d)
{
    p3_status st;
    ssize_t r = p3_status_parse(p, n, flags, &st, d);
    if (r <= 0 || (size_t)r > n)
        return r;
    FZ_CHECK(st.line.p == p && st.line.n < (size_t)r);
    p3_slice ts;
    p3_diag td;
    int t = p3_greeting_timestamp(&st, &ts, &td);
    if (t == 1) {
        FZ_CHECK(ts.n >= 3 && fz_inside(ts, st.line.p, st.line.n));
        FZ_CHECK(ts.p[0] == '<' && ts.p[ts.n - 1] == '>');
        FZ_CHECK(memchr(ts.p, '@', ts.n) != NULL);
    } else if (t == P3_ERROR) {
        FZ_CHECK(td.code > P3_E_OK && td.code < P3_E__COUNT);
        FZ_CHECK(td.offset <= st.line.n);
    } else {
        FZ_CHECK(t == 0);
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_lines(data, size, one);
}
