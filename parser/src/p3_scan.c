/* The scan helper: a scalar reference, SSE2, AVX2 and AVX-512BW versions with
 * identical results, and the run-time dispatch between them. */
#include "p3_scan.h"
#include "pop3parse.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define P3_X86 1
#include <immintrin.h>
#else
#define P3_X86 0
#endif

/* ------------------------------------------------------------------------
 * Scalar reference: the definitions in p3_scan.h, literally.
 *
 * In the libFuzzer build (P3_SCALAR_NOCOV) it carries no coverage hooks:
 * there it is mainly the oracle the SIMD paths are compared with
 * (fuzz_simd, fuzz_ml_entry); on x86-64 the dispatch runs it only for
 * lengths under 8 (special, eol) and for the tail of the SSE2 and AVX2 body
 * scans, whose callers keep their hooks. Its per-octet tests under
 * trace-cmp took over half of fuzz_simd's time.
 */
#if defined(P3_SCALAR_NOCOV) && defined(__clang__)
#define P3_ORACLE __attribute__((no_sanitize("coverage")))
#else
#define P3_ORACLE
#endif

P3_ORACLE static size_t special_scalar(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c > 0x7e)
            return i;
    }
    return n;
}

P3_ORACLE static size_t body_scalar(const char *p, size_t n, unsigned char prev, size_t *lf)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c == '\n') != (prev == '\r') || (prev == '\n' && c == '.')) {
            *lf = count;
            return i;
        }
        count += c == '\n';
        prev = c;
    }
    *lf = count;
    return n;
}

P3_ORACLE static size_t eol_scalar(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n')
            return i;
    return n;
}

P3_ORACLE static p3_mask128 nongraph_scalar(const char *p, size_t n)
{
    /* Positions from n up are set without looking at them: the fuzzers
     * call this on short lengths, under instrumentation of every test. */
    const size_t m = n < 128 ? n : 128;
    p3_mask128 r = {n >= 64 ? 0 : ~0ull << n, n >= 128 ? 0 : n <= 64 ? ~0ull : ~0ull << (n - 64)};
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c > 0x7e) {
            if (i < 64)
                r.lo |= 1ull << i;
            else
                r.hi |= 1ull << (i - 64);
        }
    }
    return r;
}

/* The set bits of one block's mask m as offsets base + bit, appended at
 * idx[cnt]: 8 of them per round whether there are that many or not (the
 * surplus is garbage past the count, overwritten later), so a block costs
 * no branch per line end (simdjson's "flatten"). Returns the new count. */
static inline size_t flatten(uint16_t *idx, size_t cnt, uint64_t m, size_t base)
{
    size_t c = cnt + (size_t)__builtin_popcountll(m);
    while (m) {
        for (int r = 0; r < 8; r++) {
            idx[cnt + (size_t)r] = (uint16_t)(base + (size_t)__builtin_ctzll(m | 1ull << 63));
            m &= m - 1;
        }
        cnt += 8;
    }
    return c;
}

P3_ORACLE static size_t eolidx_scalar(const char *p, size_t n, uint16_t *idx)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n')
            idx[c++] = (uint16_t)i;
    return c;
}

/* ------------------------------------------------------------------------
 * SWAR on 8 octets, for the short calls (command lines are ~10 octets) where
 * setting up a vector costs more than it saves. Every per-octet test below is
 * exact (no carries cross octets), so the lowest flagged octet is the answer.
 */
#define P3_LO7 P3_SWAR_LO7
#define P3_HI1 P3_SWAR_HI1
#define P3_ONES P3_SWAR_ONES
#define load64 p3_load64
#define swar_special p3_swar_special
#define swar_zero p3_swar_zero

static inline uint64_t swar_eol(uint64_t x)
{
    return swar_zero(x ^ (P3_ONES * '\n')) | swar_zero(x ^ (P3_ONES * '\r'));
}

/* n < 16: two overlapping 8-octet loads cover 8..15; the first load was clean
 * when the second is looked at, so its lowest flag is the first one. */
static inline size_t special_short(const char *p, size_t n)
{
    if (n < 8)
        return special_scalar(p, n);
    uint64_t m = swar_special(load64(p));
    if (m)
        return (size_t)__builtin_ctzll(m) >> 3;
    m = swar_special(load64(p + n - 8));
    return m ? n - 8 + ((size_t)__builtin_ctzll(m) >> 3) : n;
}

static inline size_t eol_short(const char *p, size_t n)
{
    if (n < 8)
        return eol_scalar(p, n);
    uint64_t m = swar_eol(load64(p));
    if (m)
        return (size_t)__builtin_ctzll(m) >> 3;
    m = swar_eol(load64(p + n - 8));
    return m ? n - 8 + ((size_t)__builtin_ctzll(m) >> 3) : n;
}

/* The body events of a 64-octet block from its LF, CR and dot bit masks;
 * *carry holds bit 0 = previous octet was CR, bit 1 = it was LF. */
static inline uint64_t body_events(uint64_t lf, uint64_t cr, uint64_t dot, unsigned *carry)
{
    uint64_t pcr = (cr << 1) | (*carry & 1u);
    uint64_t plf = (lf << 1) | ((*carry >> 1) & 1u);
    *carry = (unsigned)(cr >> 63) | (unsigned)(lf >> 63) << 1;
    return (lf ^ pcr) | (plf & dot);
}

static inline unsigned carry_of(unsigned char prev)
{
    return (prev == '\r') | (unsigned)(prev == '\n') << 1;
}

static inline size_t body_hit(size_t i, uint64_t ev, uint64_t lf, size_t count, size_t *lf_out)
{
    unsigned k = (unsigned)__builtin_ctzll(ev);
    uint64_t before = k ? lf & (~0ull >> (64 - k)) : 0;
    *lf_out = count + (size_t)__builtin_popcountll(before);
    return i + k;
}

static size_t body_tail(const char *p, size_t i, size_t n, unsigned char prev, size_t count,
                        size_t *lf)
{
    size_t more;
    size_t r = body_scalar(p + i, n - i, i ? (unsigned char)p[i - 1] : prev, &more);
    *lf = count + more;
    return i + r;
}

#if P3_X86
/* ------------------------------------------------------------------------
 * SSE2 (baseline on x86-64).
 */
/* The special octets of p[0..16) as a bit mask. Every SIMD special scan
 * looks at the first 16 octets this way first: command and listing lines
 * mostly end there, and one compare beats setting up a wider block. */
__attribute__((target("sse2"))) static inline unsigned special16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* signed compare: 8-bit octets are negative, so "< 0x20" catches them */
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
}

/* The same for CR and LF. */
__attribute__((target("sse2"))) static inline unsigned eol16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
}

__attribute__((target("sse2"))) static size_t special_sse2(const char *p, size_t n)
{
    if (n < 16)
        return special_short(p, n);
    const __m128i lo = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    size_t i = 0;
    for (;;) {
        if (i + 16 > n)
            i = n - 16; /* overlap: octets before i are known clean */
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* signed compare: 8-bit octets are negative, so "< 0x20" catches them */
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmplt_epi8(v, lo), _mm_cmpeq_epi8(v, del)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        if (i + 16 == n)
            return n;
        i += 16;
    }
}

__attribute__((target("sse2"))) static size_t eol_sse2(const char *p, size_t n)
{
    if (n < 16)
        return eol_short(p, n);
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    size_t i = 0;
    for (;;) {
        if (i + 16 > n)
            i = n - 16;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        if (i + 16 == n)
            return n;
        i += 16;
    }
}

__attribute__((target("sse2"))) static inline uint64_t mask16x4(const char *p, __m128i c)
{
    uint64_t m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const void *)p), c));
    uint64_t m1 =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const void *)(p + 16)), c));
    uint64_t m2 =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const void *)(p + 32)), c));
    uint64_t m3 =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const void *)(p + 48)), c));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

/* CR|LF bits of 64 octets. */
__attribute__((target("sse2"))) static inline uint64_t eol64_sse2(const char *p)
{
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    uint64_t m = 0;
    for (int j = 0; j < 4; j++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * j));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(
                 _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)))
             << (16 * j);
    }
    return m;
}

/* The last partial block is copied into a zeroed block first (a zero
 * octet is no line end), so no vector load reads past p + n. */
__attribute__((target("sse2"))) static size_t eolidx_sse2(const char *p, size_t n, uint16_t *idx)
{
    size_t i = 0, c = 0;
    for (; i + 64 <= n; i += 64)
        c = flatten(idx, c, eol64_sse2(p + i), i);
    if (i < n) {
        char t[64] = {0};
        memcpy(t, p + i, n - i);
        c = flatten(idx, c, eol64_sse2(t), i);
    }
    return c;
}

__attribute__((target("sse2"))) static size_t body_sse2(const char *p, size_t n,
                                                        unsigned char prev, size_t *lf)
{
    const __m128i vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r'), vdot = _mm_set1_epi8('.');
    unsigned carry = carry_of(prev);
    size_t count = 0, i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t l = mask16x4(p + i, vlf);
        uint64_t ev = body_events(l, mask16x4(p + i, vcr), mask16x4(p + i, vdot), &carry);
        if (ev)
            return body_hit(i, ev, l, count, lf);
        count += (size_t)__builtin_popcountll(l);
    }
    return body_tail(p, i, n, prev, count, lf);
}

/* Octets outside 0x21..0x7E of 16 at p: c + 0x5F maps 0x21..0x7E to
 * -128..-35 (signed), the only range not above -35. */
__attribute__((target("sse2"))) static inline unsigned nongraph16(const char *p)
{
    __m128i x = _mm_add_epi8(_mm_loadu_si128((const void *)p), _mm_set1_epi8(0x5f));
    return (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(x, _mm_set1_epi8(-35)));
}

/* For nongraph128 without masked loads: an input shorter than 128 octets
 * is copied into a block of NULs (no VCHAR), so the loads stay inside
 * p[0..n) and the positions from n up come out set. */
static inline const char *pad128(const char *p, size_t n, char pad[128])
{
    if (n >= 128)
        return p;
    memset(pad, 0, 128);
    memcpy(pad, p, n);
    return pad;
}

__attribute__((target("sse2"))) static p3_mask128 nongraph_sse2(const char *p, size_t n)
{
    char pad[128];
    p = pad128(p, n, pad);
    p3_mask128 m;
    m.lo = (uint64_t)nongraph16(p) | (uint64_t)nongraph16(p + 16) << 16 |
           (uint64_t)nongraph16(p + 32) << 32 | (uint64_t)nongraph16(p + 48) << 48;
    m.hi = (uint64_t)nongraph16(p + 64) | (uint64_t)nongraph16(p + 80) << 16 |
           (uint64_t)nongraph16(p + 96) << 32 | (uint64_t)nongraph16(p + 112) << 48;
    return m;
}

/* ------------------------------------------------------------------------
 * AVX2.
 */
__attribute__((target("avx2"))) static size_t special_avx2(const char *p, size_t n)
{
    if (n < 32)
        return special_sse2(p, n);
    unsigned m16 = special16(p);
    if (m16)
        return (size_t)__builtin_ctz(m16);
    const __m256i lo = _mm256_set1_epi8(0x20), del = _mm256_set1_epi8(0x7f);
    size_t i = 16;
    for (;;) {
        if (i + 32 > n)
            i = n - 32;
        __m256i v = _mm256_loadu_si256((const void *)(p + i));
        unsigned m = (unsigned)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpgt_epi8(lo, v), _mm256_cmpeq_epi8(v, del)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        if (i + 32 == n)
            return n;
        i += 32;
    }
}

__attribute__((target("avx2"))) static size_t eol_avx2(const char *p, size_t n)
{
    if (n < 32)
        return eol_sse2(p, n);
    unsigned m16 = eol16(p);
    if (m16)
        return (size_t)__builtin_ctz(m16);
    const __m256i cr = _mm256_set1_epi8('\r'), lf = _mm256_set1_epi8('\n');
    size_t i = 16;
    for (;;) {
        if (i + 32 > n)
            i = n - 32;
        __m256i v = _mm256_loadu_si256((const void *)(p + i));
        unsigned m = (unsigned)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        if (i + 32 == n)
            return n;
        i += 32;
    }
}

__attribute__((target("avx2"))) static inline uint64_t eol64_avx2(const char *p)
{
    const __m256i cr = _mm256_set1_epi8('\r'), lf = _mm256_set1_epi8('\n');
    __m256i a = _mm256_loadu_si256((const void *)p);
    __m256i b = _mm256_loadu_si256((const void *)(p + 32));
    uint64_t ma = (uint32_t)_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(a, cr), _mm256_cmpeq_epi8(a, lf)));
    uint64_t mb = (uint32_t)_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(b, cr), _mm256_cmpeq_epi8(b, lf)));
    return ma | mb << 32;
}

__attribute__((target("avx2"))) static size_t eolidx_avx2(const char *p, size_t n, uint16_t *idx)
{
    size_t i = 0, c = 0;
    for (; i + 64 <= n; i += 64)
        c = flatten(idx, c, eol64_avx2(p + i), i);
    if (i < n) {
        char t[64] = {0};
        memcpy(t, p + i, n - i);
        c = flatten(idx, c, eol64_avx2(t), i);
    }
    return c;
}

/* One 32-octet block with its previous octets loaded unaligned from p - 1:
 * the event test stays in vector registers (no mask arithmetic). */
__attribute__((target("avx2"))) static inline __m256i body_ev256(__m256i v, __m256i vp,
                                                                 __m256i l)
{
    __m256i pcr = _mm256_cmpeq_epi8(vp, _mm256_set1_epi8('\r'));
    __m256i plf = _mm256_cmpeq_epi8(vp, _mm256_set1_epi8('\n'));
    __m256i dot = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'));
    return _mm256_or_si256(_mm256_xor_si256(l, pcr), _mm256_and_si256(plf, dot));
}

__attribute__((target("avx2"))) static size_t body_avx2(const char *p, size_t n,
                                                        unsigned char prev, size_t *lf)
{
    const __m256i vlf = _mm256_set1_epi8('\n'), vcr = _mm256_set1_epi8('\r'),
                  vdot = _mm256_set1_epi8('.');
    unsigned carry = carry_of(prev);
    size_t count = 0, i = 0;
    if (n < 64)
        return body_tail(p, 0, n, prev, 0, lf);
    /* The first block has no p[-1]: its previous octets come from the masks. */
    {
        __m256i a = _mm256_loadu_si256((const void *)p);
        __m256i b = _mm256_loadu_si256((const void *)(p + 32));
        uint64_t l = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vlf)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vlf)) << 32;
        uint64_t c = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vcr)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vcr)) << 32;
        uint64_t d = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vdot)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vdot)) << 32;
        uint64_t ev = body_events(l, c, d, &carry);
        if (ev)
            return body_hit(0, ev, l, 0, lf);
        count = (size_t)__builtin_popcountll(l);
        i = 64;
    }
    /* Then 64 octets a round; the LFs are counted in 8-bit lanes (one
     * round adds at most 2 to a lane) and folded into count every 127
     * rounds and at the end. */
    while (i + 64 <= n) {
        __m256i acc = _mm256_setzero_si256();
        size_t stop = n - i >= 127 * 64 ? i + 127 * 64 : n - ((n - i) % 64);
        for (; i < stop; i += 64) {
            __m256i a = _mm256_loadu_si256((const void *)(p + i));
            __m256i b = _mm256_loadu_si256((const void *)(p + i + 32));
            __m256i la = _mm256_cmpeq_epi8(a, vlf), lb = _mm256_cmpeq_epi8(b, vlf);
            __m256i ea = body_ev256(a, _mm256_loadu_si256((const void *)(p + i - 1)), la);
            __m256i eb = body_ev256(b, _mm256_loadu_si256((const void *)(p + i + 31)), lb);
            if (!_mm256_testz_si256(_mm256_or_si256(ea, eb), _mm256_or_si256(ea, eb))) {
                __m256i s = _mm256_sad_epu8(_mm256_sub_epi8(_mm256_setzero_si256(), acc),
                                            _mm256_setzero_si256());
                count += (size_t)_mm256_extract_epi64(s, 0) + (size_t)_mm256_extract_epi64(s, 1) +
                         (size_t)_mm256_extract_epi64(s, 2) + (size_t)_mm256_extract_epi64(s, 3);
                uint64_t ev = (uint32_t)_mm256_movemask_epi8(ea) |
                              (uint64_t)(uint32_t)_mm256_movemask_epi8(eb) << 32;
                uint64_t l = (uint32_t)_mm256_movemask_epi8(la) |
                             (uint64_t)(uint32_t)_mm256_movemask_epi8(lb) << 32;
                return body_hit(i, ev, l, count, lf);
            }
            acc = _mm256_add_epi8(acc, _mm256_add_epi8(la, lb)); /* -1 per LF */
        }
        __m256i s = _mm256_sad_epu8(_mm256_sub_epi8(_mm256_setzero_si256(), acc),
                                    _mm256_setzero_si256());
        count += (size_t)_mm256_extract_epi64(s, 0) + (size_t)_mm256_extract_epi64(s, 1) +
                 (size_t)_mm256_extract_epi64(s, 2) + (size_t)_mm256_extract_epi64(s, 3);
    }
    return body_tail(p, i, n, prev, count, lf);
}

__attribute__((target("avx2"))) static inline uint64_t nongraph32(const char *p)
{
    __m256i x = _mm256_add_epi8(_mm256_loadu_si256((const void *)p), _mm256_set1_epi8(0x5f));
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(x, _mm256_set1_epi8(-35)));
}

__attribute__((target("avx2"))) static p3_mask128 nongraph_avx2(const char *p, size_t n)
{
    char pad[128];
    p = pad128(p, n, pad);
    p3_mask128 m;
    m.lo = nongraph32(p) | nongraph32(p + 32) << 32;
    m.hi = nongraph32(p + 64) | nongraph32(p + 96) << 32;
    return m;
}

/* ------------------------------------------------------------------------
 * AVX-512BW. Masked loads never fault on the masked-off octets, so the tail
 * needs no scalar loop; the load mask is applied to every result because
 * masked-off lanes read as 0x00.
 */
/* clang 14 crashes in its back end ("Cannot emit physreg copy instruction",
 * llvm/llvm-project#60442) on these functions when -fsanitize=pointer-overflow
 * is on together with ASan: plain -fsanitize=address,undefined at -O1..-O3
 * (UBSan's default recover mode), and at -Os also with
 * -fno-sanitize-recover. That one check is left out of them there; ASan
 * still checks every access, and the fuzz targets check them against the
 * scalar scan. scripts/compile-matrix tries every such combination. */
#if defined(__clang__) && __clang_major__ < 15
#define P3_AVX512_NOSAN __attribute__((no_sanitize("pointer-overflow")))
#else
#define P3_AVX512_NOSAN
#endif
#define P3_AVX512 __attribute__((target("avx512f,avx512bw,bmi,bmi2,popcnt"))) P3_AVX512_NOSAN
#define P3_AVX512VL                                                                           \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx2,bmi,bmi2,popcnt"))) P3_AVX512_NOSAN

static inline uint64_t tail_mask(size_t r)
{
    return r >= 64 ? ~0ull : (1ull << r) - 1;
}

P3_AVX512 static size_t special_avx512(const char *p, size_t n)
{
    const __m512i lo = _mm512_set1_epi8(0x20), del = _mm512_set1_epi8(0x7f);
    size_t i = 0;
    if (n >= 16) {
        unsigned m16 = special16(p);
        if (m16)
            return (size_t)__builtin_ctz(m16);
        i = 16;
    }
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512((const void *)(p + i));
        uint64_t m = _mm512_cmplt_epi8_mask(v, lo) | _mm512_cmpeq_epi8_mask(v, del);
        if (m)
            return i + (size_t)__builtin_ctzll(m);
    }
    if (i == n)
        return n;
    uint64_t k = tail_mask(n - i);
    __m512i v = _mm512_maskz_loadu_epi8(k, p + i);
    uint64_t m = (_mm512_cmplt_epi8_mask(v, lo) | _mm512_cmpeq_epi8_mask(v, del)) & k;
    return m ? i + (size_t)__builtin_ctzll(m) : n;
}

P3_AVX512 static size_t eol_avx512(const char *p, size_t n)
{
    const __m512i cr = _mm512_set1_epi8('\r'), lf = _mm512_set1_epi8('\n');
    size_t i = 0;
    if (n >= 16) {
        unsigned m16 = eol16(p);
        if (m16)
            return (size_t)__builtin_ctz(m16);
        i = 16;
    }
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512((const void *)(p + i));
        uint64_t m = _mm512_cmpeq_epi8_mask(v, cr) | _mm512_cmpeq_epi8_mask(v, lf);
        if (m)
            return i + (size_t)__builtin_ctzll(m);
    }
    if (i == n)
        return n;
    __m512i v = _mm512_maskz_loadu_epi8(tail_mask(n - i), p + i);
    uint64_t m = _mm512_cmpeq_epi8_mask(v, cr) | _mm512_cmpeq_epi8_mask(v, lf);
    return m ? i + (size_t)__builtin_ctzll(m) : n;
}

/* Masked loads: the tail needs no copy (masked-off lanes read as 0x00,
 * which is no line end). */
P3_AVX512 static size_t eolidx_avx512(const char *p, size_t n, uint16_t *idx)
{
    const __m512i cr = _mm512_set1_epi8('\r'), lf = _mm512_set1_epi8('\n');
    size_t c = 0;
    for (size_t i = 0; i < n; i += 64) {
        __m512i v = _mm512_maskz_loadu_epi8(tail_mask(n - i), p + i);
        c = flatten(idx, c, _mm512_cmpeq_epi8_mask(v, cr) | _mm512_cmpeq_epi8_mask(v, lf), i);
    }
    return c;
}

/* One block with the previous octets loaded unaligned from p - 1: the whole
 * event test stays in mask registers. */
P3_AVX512 static inline __mmask64 body_ev512(__m512i v, __m512i vp, __mmask64 kl)
{
    __mmask64 kcr = _mm512_cmpeq_epi8_mask(vp, _mm512_set1_epi8('\r'));
    __mmask64 kpl = _mm512_cmpeq_epi8_mask(vp, _mm512_set1_epi8('\n'));
    __mmask64 sol = _mm512_mask_cmpeq_epi8_mask(kpl, v, _mm512_set1_epi8('.'));
    return _kor_mask64(_kxor_mask64(kl, kcr), sol);
}

/* The LF octets of q[from..to), from a multiple of 64, to >= from: the
 * count up to an event inside a run (the run's count went past it). */
P3_AVX512 static size_t lf_between(const char *q, size_t from, size_t to)
{
    size_t c = 0;
    for (size_t j = from; j < to; j += 64) {
        uint64_t l = _cvtmask64_u64(
            _mm512_cmpeq_epi8_mask(_mm512_load_si512((const void *)(q + j)), _mm512_set1_epi8('\n')));
        c += (size_t)__builtin_popcountll(to - j >= 64 ? l : l & ~(~0ull << (to - j)));
    }
    return c;
}

/* One 128-octet round of the body scan at b (64-aligned): four 32-octet
 * vectors with VEX compares into vectors (4 a cycle on Zen 4, against 1 a
 * cycle for a 64-octet compare into a mask). Per vector: LF, CR before, and
 * the two word alignments of "\n." folded by ternary logic. Returns the
 * round's events (zero: none); *lfs = minus its LFs in byte lanes (at most
 * 4 a lane, so the sums of 63 rounds fit). */
P3_AVX512VL static inline __m256i body_round(const char *b, __m256i *lfs)
{
    const __m256i wlf = _mm256_set1_epi8('\n'), wcr = _mm256_set1_epi8('\r'),
                  wdot = _mm256_set1_epi16(0x2E0A); /* "\n." */
    __m256i lv[4], e[4], dv[4];
    for (int h = 0; h < 4; h++) {
        __m256i a = _mm256_load_si256((const void *)(b + 32 * h));
        __m256i ap = _mm256_loadu_si256((const void *)(b + 32 * h - 1));
        /* one load each: gcc would fold the load into every compare */
        __asm__("" : "+v"(a), "+v"(ap));
        lv[h] = _mm256_cmpeq_epi8(a, wlf);
        __m256i pc = _mm256_cmpeq_epi8(ap, wcr);
        __m256i dz = _mm256_cmpeq_epi16(a, wdot); /* "\n." at odd offsets */
        dv[h] = _mm256_cmpeq_epi16(ap, wdot);      /* at even offsets */
        /* keep d a vector (clang would otherwise move it to masks) */
        __asm__("" : "+v"(dv[h]));
        e[h] = _mm256_ternarylogic_epi32(lv[h], pc, dz, 0xBE); /* (l ^ pc) | dz */
    }
    __m256i t1 = _mm256_ternarylogic_epi32(e[0], e[1], e[2], 0xFE);
    __m256i t2 = _mm256_ternarylogic_epi32(e[3], dv[0], dv[1], 0xFE);
    *lfs = _mm256_add_epi8(_mm256_add_epi8(lv[0], lv[1]), _mm256_add_epi8(lv[2], lv[3]));
    return _mm256_ternarylogic_epi32(t1, t2, _mm256_or_si256(dv[2], dv[3]), 0xFE);
}

/* The LFs counted in byte lanes by body_round, summed. */
P3_AVX512VL static inline size_t lf_sum(__m256i acc)
{
    __m256i s8 = _mm256_sad_epu8(acc, _mm256_setzero_si256());
    return (size_t)_mm256_extract_epi64(s8, 0) + (size_t)_mm256_extract_epi64(s8, 1) +
           (size_t)_mm256_extract_epi64(s8, 2) + (size_t)_mm256_extract_epi64(s8, 3);
}

/* The events of the 128-octet round at q + j (64-aligned), in order: each
 * stuffed dot goes into dots[] (as an offset from q + mis) while *got <
 * dcap. Returns the first other event, *lr = the LFs of the round before
 * it; or SIZE_MAX when every event was a dot recorded, *lr = the round's
 * LFs. */
P3_AVX512 static inline size_t round_events(const char *q, size_t j, size_t end, size_t mis,
                                            size_t *dots, size_t dcap, size_t *got, size_t *lr)
{
    size_t c = 0;
    for (size_t b = j; b < j + 128; b += 64) {
        __m512i v = _mm512_load_si512((const void *)(q + b));
        __mmask64 kl = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
        uint64_t l = _cvtmask64_u64(kl);
        uint64_t e =
            _cvtmask64_u64(body_ev512(v, _mm512_loadu_si512((const void *)(q + b - 1)), kl));
        for (; e; e &= e - 1) {
            size_t at = b + (size_t)_tzcnt_u64(e);
            if (q[at - 1] == '\n' && q[at] == '.' && at + 1 < end && q[at + 1] != '\r' &&
                q[at + 1] != '\n' && *got < dcap) {
                dots[(*got)++] = at - mis;
                continue;
            }
            *lr = c + (size_t)__builtin_popcountll(_bzhi_u64(l, (unsigned)(at - b)));
            return at;
        }
        c += (size_t)__builtin_popcountll(l);
    }
    *lr = c;
    return SIZE_MAX;
}

/* The blocks are aligned to 64 octets (a block's own load never straddles
 * two cache lines; only its load from one octet before does). The first
 * block is q = p rounded down, loaded with the octets before p and at or
 * after p + n masked off (masked-off lanes are not read and read as 0x00);
 * its previous octets come from the masks, prev at the lane of p. */
P3_AVX512VL static size_t bodyd_avx512(const char *p, size_t n, unsigned char prev, size_t *lf,
                                       size_t *dots, size_t dcap, size_t *nd, unsigned *hint)
{
    const __m512i vlf = _mm512_set1_epi8('\n');
    const size_t mis = (size_t)((uintptr_t)p & 63);
    const char *q = p - mis;
    const size_t end = mis + n; /* p + n == q + end */
    uint64_t k = (~0ull << mis) & tail_mask(end);
    __m512i v = _mm512_maskz_loadu_epi8(k, q);
    uint64_t l = _cvtmask64_u64(_mm512_cmpeq_epi8_mask(v, vlf));
    uint64_t c = _cvtmask64_u64(_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r')));
    uint64_t d = _cvtmask64_u64(_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('.')));
    uint64_t pcr = c << 1 | (uint64_t)(prev == '\r') << mis;
    uint64_t plf = l << 1 | (uint64_t)(prev == '\n') << mis;
    uint64_t ev = ((l ^ pcr) | (plf & d)) & k;
    size_t got = 0;
    const unsigned h0 = *hint;
    *nd = 0;
    *hint = 0; /* unless the scan reaches n logging its rounds */
    if (ev)
        return body_hit(0, ev, l, 0, lf) - mis;
    size_t count = (size_t)__builtin_popcountll(l), i = 64;
    /* Middle blocks, 128 octets a round (body_round). At first each round
     * is tested and the scan stops at its first event, so that a short
     * response's terminator ends the scan where it is. Once two stuffed
     * dots have been recorded (or the hint says that the call before on
     * this stream ended so), the rounds are logged instead: vptest's result
     * is shifted into a word, a bit per round, and the rounds with an event
     * are looked at after a run of rounds. The branch that leaves the loop
     * at an event is mispredicted at each one, and from DRAM that also
     * throws away the loads the core had started past it: W1's line-start
     * dots (one every ~3.6 KiB) cost 10-17 % of its rate that way.
     * A logged run goes on past an event that stops the scan (a
     * terminator, a dot with no room left), so the runs grow from 2 rounds
     * to 63 (the most the LF count's byte lanes hold): a run goes past such
     * an event by at most what the logged runs before it covered. The hint
     * carries the run length to the next call, so that a long response is
     * logged from the start of each later chunk; a call that stops at an
     * event hands on 0. */
    const __m256i zero = _mm256_setzero_si256();
    int logging = h0 && dcap; /* runs logged, not tested round by round */
    size_t run = 128 * (size_t)(logging && h0 < 63 ? h0 : 63);
    while (i + 128 <= end) {
        const size_t start = i, before = count;
        const size_t stop = end - i >= run ? i + run : end - ((end - i) & 127);
        __m256i acc = zero, ls;
        size_t lr, at;
        if (!logging) {
            int hit = 0;
            for (; i < stop; i += 128) {
                __m256i t = body_round(q + i, &ls);
                if (!_mm256_testz_si256(t, t)) {
                    hit = 1;
                    break;
                }
                acc = _mm256_sub_epi8(acc, ls);
            }
            count += lf_sum(acc);
            if (!hit)
                continue;
            if ((at = round_events(q, i, end, mis, dots, dcap, &got, &lr)) != SIZE_MAX) {
                *lf = count + lr;
                *nd = got;
                return at - mis;
            }
            count += lr;
            i += 128;
            if (got >= 2 && got < dcap) {
                logging = 1;
                run = 2 * 128;
            }
            continue;
        }
        uint64_t quiet = 0; /* a bit per round, the first one highest: 1 = no event */
        for (; i < stop; i += 128) {
            __m256i t = body_round(q + i, &ls);
            acc = _mm256_sub_epi8(acc, ls);
            /* vptest's CF is "t is zero", shifted in by adc: the same two
             * instructions as a test and a branch (from the intrinsic,
             * compilers make four) */
            __asm__("vptest %[t], %[z]\n\tadc %[b], %[b]"
                    : [b] "+r"(quiet)
                    : [t] "x"(t), [z] "x"(zero)
                    : "cc");
        }
        count += lf_sum(acc);
        const unsigned rounds = (unsigned)((i - start) >> 7); /* 1 to 63 */
        /* the rounds with an event, the last one as bit 0, in order */
        for (uint64_t evr = ~quiet & ((1ull << rounds) - 1); evr;) {
            unsigned top = 63u - (unsigned)__builtin_clzll(evr);
            size_t j = start + 128 * (size_t)(rounds - 1 - top);
            evr &= ~(1ull << top);
            if ((at = round_events(q, j, end, mis, dots, dcap, &got, &lr)) != SIZE_MAX) {
                /* the LFs before the round, from whichever end of the run
                 * is nearer */
                *lf = lr + (j - start <= i - j ? before + lf_between(q, start, j)
                                               : count - lf_between(q, j, i));
                *nd = got;
                return at - mis;
            }
        }
        if (got == dcap) { /* no room: the next dot stops the scan */
            logging = 0;
            run = 63 * 128;
        } else {
            run = run < 32 * 128 ? 2 * run : 63 * 128;
        }
    }
    const unsigned h1 = logging ? (unsigned)(run >> 7) : 0;
    *nd = got;
    for (; i < end; i += 64) {
        k = tail_mask(end - i);
        v = _mm512_maskz_loadu_epi8(k, q + i);
        l = _mm512_cmpeq_epi8_mask(v, vlf);
        ev = body_ev512(v, _mm512_maskz_loadu_epi8(k, q + i - 1), l) & k;
        if (ev)
            return body_hit(i, ev, l, count, lf) - mis;
        count += (size_t)__builtin_popcountll(l);
    }
    *lf = count;
    *hint = h1;
    return n;
}

P3_AVX512 static p3_mask128 nongraph_avx512(const char *p, size_t n)
{
    const __m512i lo = _mm512_set1_epi8(0x21), span = _mm512_set1_epi8(0x7e - 0x21);
    __m512i a = _mm512_maskz_loadu_epi8(tail_mask(n), p);
    __m512i b = _mm512_maskz_loadu_epi8(n > 64 ? tail_mask(n - 64) : 0, p + 64);
    p3_mask128 m;
    m.lo = _cvtmask64_u64(_mm512_cmpgt_epu8_mask(_mm512_sub_epi8(a, lo), span));
    m.hi = _cvtmask64_u64(_mm512_cmpgt_epu8_mask(_mm512_sub_epi8(b, lo), span));
    return m;
}
#endif /* P3_X86 */

/* ------------------------------------------------------------------------
 * Dispatch. The table pointer starts at a resolver that picks the best
 * implementation and then forwards the call, so the hot path is one load and
 * one indirect call with no "initialised yet?" test. Concurrent first calls
 * all store the same pointer.
 */
/* The implementations that record no stuffed dots (allowed by the
 * contract): the first event, whatever it is, ends the scan. The scalar
 * one is the oracle, so its wrapper carries no coverage hooks either: the
 * scalar scan, inlined into a wrapper with hooks, had them back, and its
 * per-octet tests were a fifth of fuzz_simd's instructions. */
#define P3_BODYD_NONE(fn, attr)                                                                \
    attr static size_t fn##_d(const char *p, size_t n, unsigned char prev, size_t *lf,           \
                              size_t *dots, size_t dcap, size_t *nd, unsigned *hint)             \
    {                                                                                            \
        (void)dots;                                                                              \
        (void)dcap;                                                                              \
        (void)hint;                                                                              \
        *nd = 0;                                                                                 \
        return fn(p, n, prev, lf);                                                               \
    }
P3_BODYD_NONE(body_scalar, P3_ORACLE)
#if P3_X86
P3_BODYD_NONE(body_sse2, )
P3_BODYD_NONE(body_avx2, )
#endif

static const struct p3_scan_ops ops_scalar = {P3_IMPL_SCALAR, special_scalar, body_scalar_d,
                                           eol_scalar, eolidx_scalar, nongraph_scalar};
#if P3_X86
static const struct p3_scan_ops ops_sse2 = {P3_IMPL_SSE2, special_sse2, body_sse2_d,
                                         eol_sse2,     eolidx_sse2,  nongraph_sse2};
static const struct p3_scan_ops ops_avx2 = {P3_IMPL_AVX2, special_avx2, body_avx2_d,
                                         eol_avx2,     eolidx_avx2,  nongraph_avx2};
static const struct p3_scan_ops ops_avx512 = {P3_IMPL_AVX512, special_avx512, bodyd_avx512,
                                           eol_avx512,     eolidx_avx512,  nongraph_avx512};
#endif

static size_t special_resolve(const char *p, size_t n);
static size_t bodyd_resolve(const char *p, size_t n, unsigned char prev, size_t *lf, size_t *dots,
                            size_t dcap, size_t *nd, unsigned *hint);
static size_t eol_resolve(const char *p, size_t n);
static size_t eolidx_resolve(const char *p, size_t n, uint16_t *idx);
static p3_mask128 nongraph_resolve(const char *p, size_t n);
static const struct p3_scan_ops ops_resolve = {P3_IMPL_AUTO,   special_resolve, bodyd_resolve,
                                            eol_resolve,    eolidx_resolve,  nongraph_resolve};

_Atomic(const struct p3_scan_ops *) p3_scan_cur = &ops_resolve;

static const struct p3_scan_ops *ops_for(p3_impl i)
{
    switch (i) {
#if P3_X86
    case P3_IMPL_SSE2:
        return &ops_sse2;
    case P3_IMPL_AVX2:
        return &ops_avx2;
    case P3_IMPL_AVX512:
        return &ops_avx512;
#endif
    case P3_IMPL_SCALAR:
        return &ops_scalar;
    default:
        return NULL;
    }
}

int p3_impl_available(p3_impl i)
{
    switch (i) {
    case P3_IMPL_SCALAR:
        return 1;
#if P3_X86
    case P3_IMPL_SSE2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("sse2") != 0;
    case P3_IMPL_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    case P3_IMPL_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
               __builtin_cpu_supports("popcnt");
#endif
    default:
        return 0;
    }
}

static p3_impl best_impl(void)
{
    for (p3_impl i = P3_IMPL_AVX512; i > P3_IMPL_SCALAR; i = (p3_impl)(i - 1))
        if (p3_impl_available(i))
            return i;
    return P3_IMPL_SCALAR;
}

static const struct p3_scan_ops *resolve(void)
{
    const struct p3_scan_ops *o = atomic_load_explicit(&p3_scan_cur, memory_order_relaxed);
    if (o == &ops_resolve) {
        o = ops_for(best_impl());
        atomic_store_explicit(&p3_scan_cur, o, memory_order_relaxed);
    }
    return o;
}

static size_t special_resolve(const char *p, size_t n) { return resolve()->special(p, n); }
static size_t bodyd_resolve(const char *p, size_t n, unsigned char prev, size_t *lf, size_t *dots,
                            size_t dcap, size_t *nd, unsigned *hint)
{
    return resolve()->bodyd(p, n, prev, lf, dots, dcap, nd, hint);
}
static size_t eol_resolve(const char *p, size_t n) { return resolve()->eol(p, n); }
static size_t eolidx_resolve(const char *p, size_t n, uint16_t *idx)
{
    return resolve()->eolidx(p, n, idx);
}

static p3_mask128 nongraph_resolve(const char *p, size_t n) { return resolve()->nongraph(p, n); }

p3_impl p3_impl_get(void) { return (p3_impl)resolve()->impl; }

p3_impl p3_impl_set(p3_impl want)
{
    if (want == P3_IMPL_AUTO)
        atomic_store_explicit(&p3_scan_cur, ops_for(best_impl()), memory_order_relaxed);
    else if (ops_for(want) && p3_impl_available(want))
        atomic_store_explicit(&p3_scan_cur, ops_for(want), memory_order_relaxed);
    return p3_impl_get();
}

const char *p3_impl_name(p3_impl i)
{
    static const char *const names[] = {"auto", "scalar", "sse2", "avx2", "avx512"};
    return (unsigned)i < 5 ? names[i] : "unknown";
}
