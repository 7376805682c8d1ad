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
#include <stdint.h>
#include <string.h>

/* The implementation in use: a table of function pointers that starts at a
 * resolver (the first call picks the best one) and is changed only by
 * p3_impl_set(). The wrappers below are inline so a short call (a command
 * line, a listing line) pays one indirect call, not two. */
/* A mask of 128 positions, bit i of lo (i < 64) or of hi (i >= 64). */
typedef struct p3_mask128 {
    uint64_t lo, hi;
} p3_mask128;

struct p3_scan_ops {
    int impl; /* p3_impl */
    size_t (*special)(const char *p, size_t n);
    size_t (*bodyd)(const char *p, size_t n, unsigned char prev, size_t *lf, size_t *dots,
                    size_t dcap, size_t *nd, unsigned *hint);
    size_t (*eol)(const char *p, size_t n);
    size_t (*eolidx)(const char *p, size_t n, uint16_t *idx);
    p3_mask128 (*nongraph)(const char *p, size_t n);
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

/* p3_scan_body below, and *lf = the number of '\n' octets in p[0..returned
 * index) (all of them CRLF line ends, by p3_scan_body's definition). */
static inline size_t p3_scan_body_lf(const char *p, size_t n, unsigned char prev, size_t *lf)
{
    size_t nd;
    unsigned hint = 0;
    return p3_scan_ops_now()->bodyd(p, n, prev, lf, NULL, 0, &nd, &hint);
}

/* Index of the first position i in [0, n) that a multi-line body decoder
 * must look at, or n. With prev(0) = prev and prev(i) = p[i-1]:
 *   p[i] == '\n' and prev(i) != '\r'   (a bare LF)
 *   prev(i) == '\r' and p[i] != '\n'   (a CR not followed by LF)
 *   prev(i) == '\n' and p[i] == '.'    (a dot at the start of a line) */
static inline size_t p3_scan_body(const char *p, size_t n, unsigned char prev)
{
    size_t lf;
    return p3_scan_body_lf(p, n, prev, &lf);
}

/* p3_scan_body_lf that may go on past stuffed dots: positions d with
 * prev(d) == '\n', p[d] == '.', d + 1 < n and p[d + 1] neither '\r' nor
 * '\n' (a dot the decoder removes before it reads data again). The dots
 * it goes past are written to dots[0..*nd), at most dcap of them (dots may
 * be NULL when dcap is 0): the first is where p3_scan_body_lf(p, n, prev)
 * stops, each next one where it stops when called again from the dot
 * before + 1. The returned index is where that chain stops next, and *lf
 * counts the LFs before it. How many dots an implementation goes past is
 * its own choice (none is allowed), so callers see one behaviour.
 * *hint carries what the scan learnt about the data to the next call on
 * the same stream (0 before the first call, or for a new stream; any value
 * is safe): only the speed depends on it, never the results. */
static inline size_t p3_scan_body_dots(const char *p, size_t n, unsigned char prev, size_t *lf,
                                       size_t *dots, size_t dcap, size_t *nd, unsigned *hint)
{
    return p3_scan_ops_now()->bodyd(p, n, prev, lf, dots, dcap, nd, hint);
}

/* Index of the first '\r' or '\n' in p[0..n), or n. */
static inline size_t p3_scan_eol(const char *p, size_t n)
{
    return p3_scan_ops_now()->eol(p, n);
}

/* Stage 1 of the batch line decoders: every line end of a window in one
 * pass. Writes the offsets of every '\r' and '\n' of p[0..n), in
 * increasing order, to idx[0..returned count). n is at most P3_EOLIDX_MAX
 * (so an offset fits 16 bits); idx must hold P3_EOLIDX_CAP entries: the
 * entries from the count up to 8 past it may be overwritten with garbage
 * (the bits of a block are turned into offsets 8 at a time, without a
 * branch per offset). With the offsets in an array, a batch finds the next
 * line from an index that only grows, instead of from the end of the line
 * before: the lines' parses do not wait for each other. */
#define P3_EOLIDX_MAX 4096u
#define P3_EOLIDX_CAP (P3_EOLIDX_MAX + 8u)
static inline size_t p3_scan_eolidx(const char *p, size_t n, uint16_t *idx)
{
    return p3_scan_ops_now()->eolidx(p, n, idx);
}

/* The octets of p[0..min(n, 128)) outside 0x21..0x7E (not a VCHAR: SP,
 * controls, DEL, 8-bit) as a mask, bit i for p[i]; every position i >= n
 * is set as well. For a listing line's field of up to 70 octets (a UIDL
 * unique-id): one call, no loop whose length varies from line to line. */
static inline p3_mask128 p3_scan_nongraph128(const char *p, size_t n)
{
    return p3_scan_ops_now()->nongraph(p, n);
}

/* ------------------------------------------------------------------------
 * SWAR on 8 octets (little-endian words; plain C, no intrinsics), for short
 * inputs where a call and a vector set-up cost more than they save: a
 * command line, a listing line. Every per-octet test is exact (no carry
 * crosses octets), so the lowest flagged octet is the first one. Each
 * returns the words's octets flagged by their high bit (0x80).
 */
#define P3_SWAR_LO7 0x7f7f7f7f7f7f7f7full
#define P3_SWAR_HI1 0x8080808080808080ull
#define P3_SWAR_ONES 0x0101010101010101ull

static inline uint64_t p3_load64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Octets outside 0x20..0x7E (p3_scan_special's set). */
static inline uint64_t p3_swar_special(uint64_t x)
{
    uint64_t lo = x & P3_SWAR_LO7;
    uint64_t ge20 = lo + 0x6060606060606060ull; /* bit 7: low 7 bits >= 0x20 */
    uint64_t is7f = lo + P3_SWAR_ONES;          /* bit 7: low 7 bits == 0x7f */
    return (~ge20 | is7f | x) & P3_SWAR_HI1;
}

/* Octets outside 0x21..0x7E (not a VCHAR: space, controls, DEL, 8-bit). */
static inline uint64_t p3_swar_nongraph(uint64_t x)
{
    uint64_t lo = x & P3_SWAR_LO7;
    uint64_t ge21 = lo + 0x5f5f5f5f5f5f5f5full; /* bit 7: low 7 bits >= 0x21 */
    uint64_t is7f = lo + P3_SWAR_ONES;
    return (~ge21 | is7f | x) & P3_SWAR_HI1;
}

/* Octets equal to zero. */
static inline uint64_t p3_swar_zero(uint64_t y)
{
    return ~(((y & P3_SWAR_LO7) + P3_SWAR_LO7) | y | P3_SWAR_LO7);
}

/* Octets that are no decimal digit. */
static inline uint64_t p3_swar_nondigit(uint64_t x)
{
    x ^= P3_SWAR_ONES * '0';
    return (((x & P3_SWAR_LO7) + 0x7676767676767676ull) | x) & P3_SWAR_HI1;
}

/* The value of up to 8 digits held as octet values 0..9 (the digits with
 * '0' taken away), the last digit in the top octet and zeros below the
 * first: pairs, quads, then all eight. */
static inline uint32_t p3_swar_dec8(uint64_t x)
{
    x = x * 10 + (x >> 8);
    x = (((x & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
         (((x >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >>
        32;
    return (uint32_t)x;
}

/* The same for up to 4 digits in a 32-bit word (first digit in the lowest
 * octet, zeros before it): pairs, then one multiply whose top half is
 * 100 * high pair + low pair (the rest wraps out of the 32 bits). */
static inline uint32_t p3_swar_dec4(uint32_t x)
{
    x = (x * 10 + (x >> 8)) & 0x00ff00ffu;
    return (x * (1u + (100u << 16))) >> 16;
}

/* The leading "n" SP of a listing line, from 8 readable octets at s:
 * returns the count k of digits (1..7) with s[k] the SP, or 0. *m is the
 * number (meaningful only when k > 0). */
static inline size_t p3_swar_lead_number(const char *s, uint64_t *m)
{
    uint64_t w = p3_load64(s);
    size_t k = (size_t)__builtin_ctzll(p3_swar_nondigit(w) | 1ull << 63) >> 3;
    /* k digits moved to the top, zeros below (k >= 1 when it counts). */
    *m = p3_swar_dec8(((w ^ (P3_SWAR_ONES * '0')) << ((64 - 8 * k) & 63)));
    return k >= 1 && (w >> (8 * k) & 0xff) == ' ' ? k : 0;
}

#endif
