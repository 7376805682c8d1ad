/* The scan helper: a scalar reference now; SIMD paths and run-time dispatch
 * are added beside it with identical results. */
#include "p3_scan.h"
#include "pop3parse.h"

size_t p3_scan_special(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c > 0x7e)
            return i;
    }
    return n;
}

size_t p3_scan_body(const char *p, size_t n, unsigned char prev)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c == '\n') != (prev == '\r'))
            return i;
        if (prev == '\n' && c == '.')
            return i;
        prev = c;
    }
    return n;
}

static p3_impl current = P3_IMPL_SCALAR;

int p3_impl_available(p3_impl i) { return i == P3_IMPL_SCALAR; }
p3_impl p3_impl_get(void) { return current; }
p3_impl p3_impl_set(p3_impl want)
{
    if (want == P3_IMPL_AUTO || p3_impl_available(want))
        current = P3_IMPL_SCALAR;
    return current;
}
const char *p3_impl_name(p3_impl i)
{
    static const char *const names[] = {"auto", "scalar", "sse2", "avx2", "avx512"};
    return (unsigned)i < 5 ? names[i] : "unknown";
}
