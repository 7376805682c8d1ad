/* fuzz_greeting: a server greeting, p3_status_parse + p3_greeting_timestamp.
 * Input: 2 flag bytes, then the stream of lines. Oracle: a timestamp lies
 * inside the line, starts with '<', ends with '>' and holds an '@'. */
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags = fz_flags(&data, &size);
    char *buf = fz_dup(data, size);
    size_t off = 0;
    while (off < size) {
        p3_status st;
        p3_diag d;
        size_t rem = size - off;
        ssize_t r = p3_status_parse(buf + off, rem, flags, &st, &d);
        if (r == P3_NEED_MORE)
            break;
        if (r == P3_ERROR) {
            fz_diag_ok(&d, rem);
            off = fz_skip(buf, off, size, &d);
            continue;
        }
        FZ_CHECK(r > 0 && (size_t)r <= rem);
        FZ_CHECK(st.line.p == buf + off && st.line.n < (size_t)r);
        p3_slice ts;
        int t = p3_greeting_timestamp(&st, &ts, &d);
        if (t == 1) {
            FZ_CHECK(ts.n >= 3 && fz_inside(ts, st.line.p, st.line.n));
            FZ_CHECK(ts.p[0] == '<' && ts.p[ts.n - 1] == '>');
            FZ_CHECK(memchr(ts.p, '@', ts.n) != NULL);
        } else if (t == P3_ERROR) {
            FZ_CHECK(d.code > P3_E_OK && d.code < P3_E__COUNT);
            FZ_CHECK(d.offset <= st.line.n);
        } else {
            FZ_CHECK(t == 0);
        }
        off += (size_t)r;
    }
    free(buf);
    return 0;
}
