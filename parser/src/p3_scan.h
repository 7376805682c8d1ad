/*
 * p3_scan.h - the one SIMD helper of the parser (private). The grammar code
 * calls these and never sees an intrinsic. Every implementation (scalar,
 * SSE2, AVX2, AVX-512) returns exactly the same index for the same input.
 * None of them reads before p or at/after p + n. The implementation is the
 * one p3_impl_set() chose (the best the CPU has, on first use).
 */
#ifndef P3_SCAN_H
#define P3_SCAN_H

#include <stdatomic.h>
#include <stddef.h>

/* The implementation in use: a table of function pointers that starts at a
 * resolver (the first call picks the best one) and is changed only by
 * p3_impl_set(). The wrappers below are inline so a short call (a command
 * line, a listing line) pays one indirect call, not two. */
struct p3_scan_ops {
    int impl; /* p3_impl */
    size_t (*special)(const char *p, size_t n);
    size_t (*body)(const char *p, size_t n, unsigned char prev, size_t *lf);
    size_t (*eol)(const char *p, size_t n);
};
extern _Atomic(const struct p3_scan_ops *) p3_scan_cur;

static inline const struct p3_scan_ops *p3_scan_ops_now(void)
{
    return atomic_load_explicit(&p3_scan_cur, memory_order_relaxed);
}

/* Index of the first octet of p[0..n) outside 0x20..0x7E (CR, LF, NUL, any
 * other control character, DEL, 8-bit), or n when there is none. */
static inline size_t p3_scan_special(const char *p, size_t n)
{
    return p3_scan_ops_now()->special(p, n);
}

/* Index of the first position i in [0, n) that a multi-line body decoder
 * must look at, or n. With prev(0) = prev and prev(i) = p[i-1]:
 *   p[i] == '\n' and prev(i) != '\r'   (a bare LF)
 *   prev(i) == '\r' and p[i] != '\n'   (a CR not followed by LF)
 *   prev(i) == '\n' and p[i] == '.'    (a dot at the start of a line) */
static inline size_t p3_scan_body(const char *p, size_t n, unsigned char prev)
{
    size_t lf;
    return p3_scan_ops_now()->body(p, n, prev, &lf);
}

/* p3_scan_body, and *lf = the number of '\n' octets in p[0..returned index)
 * (all of them CRLF line ends, by the definition above). */
static inline size_t p3_scan_body_lf(const char *p, size_t n, unsigned char prev, size_t *lf)
{
    return p3_scan_ops_now()->body(p, n, prev, lf);
}

/* Index of the first '\r' or '\n' in p[0..n), or n. */
static inline size_t p3_scan_eol(const char *p, size_t n)
{
    return p3_scan_ops_now()->eol(p, n);
}

#endif
