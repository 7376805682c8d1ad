/* The command parser (what a POP3 server reads) and the client's lines
 * inside an AUTH exchange. One pass over the line: p3_scan_special() finds
 * the line end or the first special octet, then the grammar walks the
 * printable text once. */
#include <stdatomic.h>
#include <string.h>

#include "p3_scan.h"
#include "p3_util.h"
#include "pop3parse.h"

#if defined(__GNUC__)
#define P3_COLD __attribute__((cold, noinline))
#define P3_ALWAYS_INLINE inline __attribute__((always_inline))
#define P3_LIKELY(x) __builtin_expect(!!(x), 1)
#define P3_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define P3_COLD
#define P3_ALWAYS_INLINE inline
#define P3_LIKELY(x) (x)
#define P3_UNLIKELY(x) (x)
#endif

/* Keywords as 4 octets ("TOP" is padded with its NUL), straight from the
 * X-macro so the table cannot drift from the public list. A char[4] may be
 * initialised from a 4-character literal in C; the NUL is dropped. */
static const char kw_tab[P3_CMD__COUNT][4] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) [num] = kw,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

/* Arity and argument types, also from the X-macro: the types are kept as
 * the characters of the map (S, N, R, B, -), so no per-command code. */
static const struct cmd_info {
    unsigned char mina, maxa;
    char ty[2];
} cmd_info[P3_CMD__COUNT] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) [num] = {mina, maxa, #t1 #t2},
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

P3_COLD static ssize_t fail(p3_diag *d, p3_errno code, size_t off, size_t skip)
{
    if (d) {
        d->code = code;
        d->offset = off;
        d->skip = skip;
    }
    return P3_ERROR;
}

/* An octet error is reported as soon as it is seen, before the line end is
 * known; skip then covers the line only when its LF is already in view. */
P3_COLD static ssize_t fail_octet(p3_diag *d, p3_errno code, const char *buf, size_t off,
                                  size_t win)
{
    const char *lf = memchr(buf + off, '\n', win - off);
    return fail(d, code, off, lf ? (size_t)(lf - buf) + 1 : 0);
}

/* Finds the end of the line starting at buf. Returns the octets of the line
 * with its line end, P3_NEED_MORE or P3_ERROR; *cend is where the text ends
 * (the CR, or the LF of a bare-LF line end). Special octets inside the line
 * are errors unless their leniency is on. */
static P3_ALWAYS_INLINE ssize_t line_end(const char *buf, size_t len, size_t limit, unsigned flags,
                               size_t *cend, unsigned *bits, p3_diag *diag)
{
    size_t win = len;
    if (!(flags & P3_LENIENT_LONG_LINE) && win > limit)
        win = limit;
    size_t i = 0;
    for (;;) {
        i += p3_scan_special(buf + i, win - i);
        if (i == win)
            break;
        unsigned char c = (unsigned char)buf[i];
        if (P3_LIKELY(c == '\r')) {
            if (i + 1 == win)
                break;
            if (P3_LIKELY(buf[i + 1] == '\n')) {
                *cend = i;
                i += 2;
                goto found;
            }
            if (!(flags & P3_LENIENT_BARE_CR))
                return fail_octet(diag, P3_E_BARE_CR, buf, i, win);
            *bits |= P3_LENIENT_BARE_CR;
        } else if (c == '\n') {
            /* A CR before it would have ended the line one octet earlier. */
            if (!(flags & P3_LENIENT_BARE_LF))
                return fail(diag, P3_E_BARE_LF, i, i + 1);
            *bits |= P3_LENIENT_BARE_LF;
            *cend = i;
            i += 1;
            goto found;
        } else if (c == 0) {
            return fail_octet(diag, P3_E_NUL, buf, i, win);
        } else if (c >= 0x80) {
            if (!(flags & P3_LENIENT_EIGHT_BIT))
                return fail_octet(diag, P3_E_EIGHT_BIT, buf, i, win);
            *bits |= P3_LENIENT_EIGHT_BIT;
        } else {
            /* TAB, the other C0 controls and DEL. */
            if (!(flags & P3_LENIENT_CTL))
                return fail_octet(diag, P3_E_CTL, buf, i, win);
            *bits |= P3_LENIENT_CTL;
        }
        i++;
    }
    /* No line end in view: either more may come, or the limit is passed
     * (the caller cannot grow the line past it, so wait no longer). */
    if (win < limit || (flags & P3_LENIENT_LONG_LINE))
        return P3_NEED_MORE;
    return fail(diag, P3_E_LINE_TOO_LONG, limit, 0);
found:
    if (P3_UNLIKELY(i > limit))
        *bits |= P3_LENIENT_LONG_LINE;
    return (ssize_t)i;
}

/* 1 for the RFC 4648 alphabet RFC 5034 section 4 allows (without "="). */
static const unsigned char b64_tab[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1,
};

/* Same acceptance as p3_base64_valid(), but says where it went wrong:
 * returns n + 1 when valid, else the offset of the first bad octet (n when
 * only the length is not a multiple of 4). */
static size_t b64_bad(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (b64_tab[c])
            continue;
        /* RFC 5034: "MUST reject any sequence of Base64 characters that
         * contains the pad character ('=') anywhere other than the end of
         * the string" - one "=" last, or "==" as the final pair, and only
         * in the last two places of a 4-octet group. */
        if (c == '=' && (i & 3) >= 2 && (i == n - 1 || (i == n - 2 && p[n - 1] == '=')))
            continue;
        return i;
    }
    return n % 4 ? n : n + 1;
}

/* Folds the letters of four octets to upper case at once (bytes above 0x7E
 * are left alone), so a keyword is one integer compare. */
static inline uint32_t fold_upper4(uint32_t v)
{
    uint32_t x = v & 0x7f7f7f7fu;
    uint32_t ge_a = x + 0x1f1f1f1fu; /* high bit set when x >= 'a' */
    uint32_t gt_z = x + 0x05050505u; /* high bit set when x >  'z' */
    uint32_t lower = ge_a & ~gt_z & ~v & 0x80808080u;
    return v ^ (lower >> 2);
}

/* Keyword to kind: a perfect hash into 64 slots, then one compare with the
 * table. The hash is taken over the keyword with bit 0x20 set in every octet
 * (a case fold that is exact for letters and digits). The slots are filled
 * on first use from kw_tab, so from the X-macro; the multiplier is one for
 * which the keywords of P3_CMD_MAP do not collide (test_cmd parses every
 * keyword of the map, so a new keyword that collided would fail there).
 * Relaxed atomics: threads racing through the first use store the same
 * values. */
#define P3_KW_MULT 0x85ebca6bu
#define P3_KW_BITS 6
#define P3_KW_FOLD 0x20202020u
static _Atomic unsigned char kw_slot[1u << P3_KW_BITS];
static atomic_int kw_ready;

static inline unsigned kw_hash(uint32_t folded)
{
    return (uint32_t)(folded * P3_KW_MULT) >> (32 - P3_KW_BITS);
}

P3_COLD static void kw_init(void)
{
    for (unsigned k = 1; k < P3_CMD__COUNT; k++) {
        uint32_t t;
        memcpy(&t, kw_tab[k], 4);
        atomic_store_explicit(&kw_slot[kw_hash(t | P3_KW_FOLD)], (unsigned char)k,
                              memory_order_relaxed);
    }
    atomic_store_explicit(&kw_ready, 1, memory_order_release);
}

/* The keyword's 4 octets, the 4th zeroed for a 3-octet keyword. n is 3 or 4
 * and p[3] is readable either way: after a 3-octet keyword comes its space
 * or the line end, which are inside the buffer. */
static inline uint32_t kw_load(const char *p, size_t n)
{
    static const unsigned char m3[4] = {0xff, 0xff, 0xff, 0};
    uint32_t v, mask = 0xffffffffu;
    memcpy(&v, p, 4);
    if (n == 3)
        memcpy(&mask, m3, 4);
    return v & mask;
}

static inline unsigned kw_slot_of(uint32_t folded)
{
    if (P3_UNLIKELY(!atomic_load_explicit(&kw_ready, memory_order_acquire)))
        kw_init();
    return atomic_load_explicit(&kw_slot[kw_hash(folded)], memory_order_relaxed);
}

/* Any octets: exact upper-case fold (so "UTF\x18" is not UTF8). */
static p3_cmd_kind keyword_kind(const char *p, size_t n)
{
    uint32_t v = fold_upper4(kw_load(p, n));
    unsigned k = kw_slot_of(v | P3_KW_FOLD);
    uint32_t t;
    memcpy(&t, kw_tab[k], 4);
    /* kw_tab[0] is all zero and v never is: no NUL gets this far. */
    return (p3_cmd_kind)(t == v ? k : 0);
}

/* Printable octets only: there, c | 0x20 equals a keyword octet's fold only
 * for that letter in either case (and "8" only for "8"). */
static inline p3_cmd_kind keyword_kind_printable(const char *p, size_t n)
{
    uint32_t v = kw_load(p, n) | P3_KW_FOLD;
    unsigned k = kw_slot_of(v);
    uint32_t t;
    memcpy(&t, kw_tab[k], 4);
    return (p3_cmd_kind)((t | P3_KW_FOLD) == v ? k : 0);
}

/* The grammar, octet by octet: every line the fast path below does not take,
 * and the only place diagnostics of the grammar come from. */
P3_COLD static ssize_t cmd_grammar(const char *p, size_t e, size_t used, unsigned bits, unsigned flags,
                           p3_cmd *out, p3_diag *diag)
{
    size_t i = 0;

    if (P3_UNLIKELY(p[0] == ' ')) {
        if (!(flags & P3_LENIENT_SPACING))
            return fail(diag, P3_E_SPACING, 0, used);
        while (i < e && p[i] == ' ')
            i++;
        bits |= P3_LENIENT_SPACING;
    }
    if (P3_UNLIKELY(i == e))
        return fail(diag, P3_E_EMPTY_LINE, e, used);

    size_t ks = i;
    while (i < e && p[i] != ' ')
        i++;
    size_t kn = i - ks;
    p3_cmd_kind kind = P3_CMD_UNKNOWN;
    if (P3_LIKELY(kn - P3_MIN_KEYWORD <= P3_MAX_KEYWORD - P3_MIN_KEYWORD)) {
        kind = keyword_kind(p + ks, kn);
    } else {
        if (!(flags & P3_LENIENT_KEYWORD_LENGTH))
            return fail(diag, P3_E_KEYWORD_LENGTH, kn < P3_MIN_KEYWORD ? i : ks + P3_MAX_KEYWORD,
                        used);
        bits |= P3_LENIENT_KEYWORD_LENGTH;
    }
    const struct cmd_info *ci = &cmd_info[kind];
    out->keyword.p = p + ks;
    out->keyword.n = kn;
    out->num[0] = 0;
    out->num[1] = 0;

    unsigned n = 0;
    if (i == e) {
        out->rest.p = p + e;
        out->rest.n = 0;
    } else {
        i++; /* the keyword's space */
        out->rest.p = p + i;
        out->rest.n = e - i;
        if (ci->ty[0] == 'R') {
            /* RFC 1939 section 7 (PASS): "Since the PASS command has exactly
             * one argument, a POP3 server may treat spaces in the argument
             * as part of the password, instead of as argument separators."
             * So the argument is the rest of the line, spaces and all; only
             * a line ending in the keyword's own space has none. */
            if (i == e) {
                if (!(flags & P3_LENIENT_SPACING))
                    return fail(diag, P3_E_SPACING, i - 1, used);
                bits |= P3_LENIENT_SPACING;
            } else {
                if (e - i > P3_MAX_ARG) {
                    if (!(flags & P3_LENIENT_LONG_ARG))
                        return fail(diag, P3_E_ARG_TOO_LONG, i + P3_MAX_ARG, used);
                    bits |= P3_LENIENT_LONG_ARG;
                }
                out->args[0].p = p + i;
                out->args[0].n = e - i;
                n = 1;
            }
        } else {
            for (;;) {
                /* i is just past a separating space. */
                if (P3_UNLIKELY(i == e || p[i] == ' ')) {
                    if (!(flags & P3_LENIENT_SPACING))
                        return fail(diag, P3_E_SPACING, i == e ? i - 1 : i, used);
                    bits |= P3_LENIENT_SPACING;
                    while (i < e && p[i] == ' ')
                        i++;
                    if (i == e)
                        break;
                }
                size_t as = i;
                while (i < e && p[i] != ' ')
                    i++;
                size_t an = i - as;
                if (P3_UNLIKELY(n == ci->maxa))
                    return fail(diag, P3_E_TOO_MANY_ARGS, as, used);
                char t = n < 2 ? ci->ty[n] : 'S';
                if (t == 'N') {
                    size_t bad;
                    p3_errno ec = p3_dec_u32(p + as, an, &out->num[n], &bad);
                    if (P3_UNLIKELY(ec != P3_E_OK))
                        return fail(diag, ec, as + bad, used);
                }
                if (t == 'B') {
                    /* RFC 5034 section 4: the initial response "MUST be
                     * encoded as Base64 ... or consist only of the single
                     * character "=", which represents an empty initial
                     * response", and it is not held to the 40 octets of
                     * RFC 1939: "For the purposes of the initial client
                     * response, the 255-octet limit on the length of a
                     * single command, defined in Section 4 of [RFC2449],
                     * still applies." */
                    if (!(an == 1 && p[as] == '=')) {
                        size_t bad = b64_bad(p + as, an);
                        if (bad <= an)
                            return fail(diag, P3_E_BASE64, as + bad, used);
                    }
                } else if (P3_UNLIKELY(an > P3_MAX_ARG)) {
                    if (!(flags & P3_LENIENT_LONG_ARG))
                        return fail(diag, P3_E_ARG_TOO_LONG, as + P3_MAX_ARG, used);
                    bits |= P3_LENIENT_LONG_ARG;
                }
                out->args[n].p = p + as;
                out->args[n].n = an;
                n++;
                if (i == e)
                    break;
                i++;
            }
        }
    }
    if (P3_UNLIKELY(n < ci->mina))
        return fail(diag, P3_E_TOO_FEW_ARGS, e, used);
    out->kind = kind;
    out->nargs = n;
    out->lenient = bits;
    return (ssize_t)used;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define P3_CMD_FAST 1

/* 8 octets from p + off, never reading at or past len (zeros there). */
static inline uint64_t load8(const char *p, size_t off, size_t len)
{
    uint64_t w = 0;
    if (P3_LIKELY(off + 8 <= len))
        memcpy(&w, p + off, 8);
    else if (off < len)
        memcpy(&w, p + off, len - off);
    return w;
}

#define P3_LO7 0x7f7f7f7f7f7f7f7full
#define P3_HI1 0x8080808080808080ull

/* Per octet of w, the high bit set when it is a space (exact: no carry
 * crosses octets). */
static inline uint64_t spaces8(uint64_t w)
{
    uint64_t t = w ^ 0x2020202020202020ull;
    return ~(((t & P3_LO7) + P3_LO7) | t | P3_LO7);
}

/* The first space at or after i, or e when none comes before e (p[e] is the
 * line end, never a space). */
static inline size_t next_space(const char *p, size_t i, size_t e, size_t len)
{
    for (;;) {
        uint64_t m = spaces8(load8(p, i, len));
        if (m) {
            size_t k = i + ((size_t)__builtin_ctzll(m) >> 3);
            return k < e ? k : e;
        }
        i += 8;
        if (i >= e)
            return e;
    }
}

/* One argument of type t starting at as (just past its space). Returns
 * where it ends (a space or e), or 0 when the fast path cannot take it. */
static P3_ALWAYS_INLINE size_t fast_arg(const char *p, size_t len, size_t as, size_t e, char t,
                                        uint32_t *num)
{
    if (P3_LIKELY(t == 'N')) {
        uint64_t x = load8(p, as, len) ^ 0x3030303030303030ull;
        uint64_t nd = (((x & P3_LO7) + 0x7676767676767676ull) | x) & P3_HI1;
        if (!nd)
            return 0; /* 8 digits or more: cmd_grammar checks the range */
        size_t an = (size_t)__builtin_ctzll(nd) >> 3;
        size_t ae = as + an;
        if (an == 0 || (ae < e && p[ae] != ' '))
            return 0;
        /* The digit values, most significant first, moved to the top with
         * zeros before them; then pairs, quads and all eight at once. */
        x <<= 8 * (8 - an);
        x = x * 10 + (x >> 8);
        x = (((x & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
             (((x >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >>
            32;
        *num = (uint32_t)x;
        return ae;
    }
    if (t == 'R')
        return e > as && e - as <= P3_MAX_ARG ? e : 0;
    if (t != 'S' && t != 'B')
        return 0;
    size_t ae = next_space(p, as, e, len);
    size_t an = ae - as;
    if (an == 0)
        return 0;
    if (t == 'B')
        return (an == 1 && p[as] == '=') || b64_bad(p + as, an) > an ? ae : 0;
    return an <= P3_MAX_ARG ? ae : 0;
}

/* The common case, with no branch per octet: a known keyword, single
 * spaces, arguments within their limits, numbers of at most 7 digits, and
 * only printable octets before the CRLF at e. Returns 0 for anything else,
 * leaving the line (and its diagnostic) to the general path. */
static P3_ALWAYS_INLINE int cmd_fast(const char *p, size_t len, size_t e, p3_cmd *out)
{
    if (e < P3_MIN_KEYWORD)
        return 0;
    /* A keyword of 3 when a space or the line end follows 3 octets, else 4;
     * the table compare rejects a guess that swallowed a space. */
    size_t kn = (p[3] == ' ' || e == 3) ? 3 : 4;
    if (kn < e && p[kn] != ' ')
        return 0;
    p3_cmd_kind kind = keyword_kind_printable(p, kn);
    if (kind == P3_CMD_UNKNOWN)
        return 0;
    const struct cmd_info *ci = &cmd_info[kind];
    out->num[0] = 0;
    out->num[1] = 0;
    unsigned n = 0;
    if (kn < e) {
        /* Known commands take at most two arguments. */
        size_t as = kn + 1;
        size_t ae = fast_arg(p, len, as, e, ci->ty[0], &out->num[0]);
        if (!ae)
            return 0;
        out->args[0].p = p + as;
        out->args[0].n = ae - as;
        n = 1;
        if (ae < e) {
            as = ae + 1;
            ae = fast_arg(p, len, as, e, ci->ty[1], &out->num[1]);
            if (ae != e)
                return 0;
            out->args[1].p = p + as;
            out->args[1].n = ae - as;
            n = 2;
        }
    }
    if (n < ci->mina || n > ci->maxa)
        return 0;
    out->kind = kind;
    out->keyword.p = p;
    out->keyword.n = kn;
    out->rest.p = p + (kn < e ? kn + 1 : e);
    out->rest.n = kn < e ? e - kn - 1 : 0;
    out->nargs = n;
    out->lenient = 0;
    return 1;
}

/* Per kind, for the tiny path below (from the X-macro): bit c set when the
 * tiny path takes the kind with c octets of SP and digits after the
 * keyword: c = 0 no argument, c = 2..5 one number of 1 to 4 digits (c = 1,
 * a SP alone, never); none for a keyword that is not 4 octets long (TOP
 * takes two arguments anyway). */
static const unsigned char tiny_ok[P3_CMD__COUNT] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2)                                          \
    [num] = (unsigned char)(((num != 0 && mina == 0) |                                   \
                             (num != 0 && #t1[0] == 'N' && mina <= 1 && maxa >= 1) * 0x3c) * \
                            (sizeof kw == 5)),
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

/* The keywords with the case fold applied, for the tiny path's compare. */
static const uint32_t kw_folded[P3_CMD__COUNT] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2)                                          \
    [num] = ((uint32_t)(unsigned char)(kw "\0\0\0")[0] |                                  \
             (uint32_t)(unsigned char)(kw "\0\0\0")[1] << 8 |                             \
             (uint32_t)(unsigned char)(kw "\0\0\0")[2] << 16 |                            \
             (uint32_t)(unsigned char)(kw "\0\0\0")[3] << 24) | P3_KW_FOLD,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

/* The commonest lines of all, with no branch that depends on the command:
 * a known keyword alone, or with one number of 1 to 4 digits, then CRLF
 * (message numbers past 9999 are rare, and four digits convert in 32-bit
 * arithmetic with small constants).
 * At least 16 octets are readable at p. Every octet before the CR is
 * checked on the way (keyword letters, SP, digits), so no scan for special
 * octets is needed: where the checked octets end, the CRLF must be.
 * Returns the line's length, or 0 for anything else (cmd_fast and the
 * general path judge it). */
static P3_ALWAYS_INLINE ssize_t cmd_tiny(const char *p, p3_cmd *out, unsigned *kind)
{
    uint64_t w0 = p3_load64(p);
    /* The keyword's first 4 octets folded: "TOP" SP folds to "top " like
     * the table's "TOP\0". No "filled yet?" test: before kw_init every
     * slot reads 0 (UNKNOWN), which sends the line to cmd_fast, and that
     * fills the slots. */
    uint32_t v = (uint32_t)w0 | P3_KW_FOLD;
    unsigned k = atomic_load_explicit(&kw_slot[kw_hash(v)], memory_order_relaxed);
    /* The fold alone lets a control octet pass for a digit: 0x18 | 0x20 is
     * "8", so "UTF\x18" would read as UTF8. Letters have 0x40 set, digits
     * and SP 0x20, controls neither: each of the 4 octets must have one.
     * With that, a match means: the keyword's letters in any case (or its
     * digit), and for a 3-octet keyword a SP as the 4th octet (the pad
     * folds to SP, and only SP itself, not NUL, passes), so kn below is
     * the keyword's length whenever k survives. */
    /* Below 0x80 (the fold compare sees to that), "0x40 or 0x20 set" is
     * ">= 0x20": bit 7 after + 0x60, with no carry between such octets
     * (a carry comes only from an octet of 0x80 or more). */
    uint32_t cls = ((uint32_t)w0 + 0x60606060u) & 0x80808080u;
    /* Only 4-octet keywords take this path (tiny_ok), so the argument
     * starts at 4 whatever the line: its load does not wait for the
     * keyword's, and the line's length, which the next line's parse waits
     * for, is two loads and a few operations away from p. */
    const size_t kn = 4;
    /* SP and digits from kn: with the SP taken as a leading "0" digit, an
     * octet passes when (octet ^ '0', or ^ SP for the first) is below 0x80
     * and + 0x76 (0x7f for the first) stays below 0x80. A carry into the
     * next octet comes only from an octet that does not pass itself, so
     * cnt, the count of passing octets from kn (at most 7), is exact. The
     * 8th octet never passes (+ 0x80: its bit 7 is set unless the octet is
     * 0x80 or more, which sets it through "| x"; a carry into it comes
     * only after a lower octet that failed), so nd is never 0 and needs
     * no guard bit on the way to the next line. */
    uint64_t x = p3_load64(p + kn) ^ 0x3030303030303020ull;
    uint64_t nd = ((x + 0x807676767676767full) | x) & P3_SWAR_HI1;
    size_t cnt = (size_t)((unsigned)__builtin_ctzll(nd) >> 3);
    size_t e = kn + cnt;
    uint16_t eol;
    memcpy(&eol, p + e, 2);
    /* Masks and ORs, not && and ||: gcc would make a branch of each test,
     * and for the lines that fail one of them each could mispredict. One
     * branch for all the tests. */
    k &= 0u - ((unsigned)(kw_folded[k] == v) & (unsigned)(cls == 0x80808080u));
    *kind = k;
    unsigned bad = ((unsigned)eol ^ ('\r' | '\n' << 8)) | (~(unsigned)tiny_ok[k] >> cnt & 1);
    if (P3_UNLIKELY(bad))
        return 0;
    /* The argument (and the rest): the digits, or empty at e. Arithmetic,
     * not a branch: which of the two it is varies from line to line. cnt
     * is 0 or 2..5 here. */
    unsigned one = cnt != 0;
    size_t nn = (cnt - 1) & (0 - (size_t)one);
    const char *ap = p + e - nn;
    out->kind = (p3_cmd_kind)k;
    out->keyword.p = p;
    out->keyword.n = kn;
    out->nargs = one;
    out->args[0].p = ap;
    out->args[0].n = nn;
    out->rest.p = ap;
    out->rest.n = nn;
    /* The cnt passing octets moved to the top (0 when there are none);
     * their last four (zeros before the first digit) are the number. */
    out->num[0] = p3_swar_dec4((uint32_t)(((x << (56 - 8 * cnt)) << 8) >> 32));
    out->num[1] = 0;
    out->lenient = 0;
    return (ssize_t)(e + 2);
}
#endif

/* Everything the fast path does not take: any leniency, any error. */
P3_COLD static ssize_t cmd_general(const char *buf, size_t len, unsigned flags, p3_cmd *out,
                                   p3_diag *diag)
{
    size_t e = 0;
    unsigned bits = 0;
    ssize_t r = line_end(buf, len, P3_MAX_CMD_LINE, flags, &e, &bits, diag);
    if (r < 0)
        return r;
    return cmd_grammar(buf, e, (size_t)r, bits, flags, out, diag);
}

#ifdef P3_CMD_FAST
/* "SP digits" from p: the count of passing octets (SP and digits, at most
 * 7) as in cmd_tiny, and *num the value of their last four (meaningful
 * when the count is 5 or less: 1 to 4 digits). 8 octets must be readable. */
static P3_ALWAYS_INLINE size_t sp_number(const char *p, uint32_t *num)
{
    uint64_t x = p3_load64(p) ^ 0x3030303030303020ull;
    uint64_t nd = ((x + 0x807676767676767full) | x) & P3_SWAR_HI1;
    size_t cnt = (size_t)((unsigned)__builtin_ctzll(nd) >> 3);
    *num = p3_swar_dec4((uint32_t)(((x << (56 - 8 * cnt)) << 8) >> 32));
    return cnt;
}

/* TOP with two numbers of 1 to 4 digits, the one command with two arguments that
 * is common, the way cmd_tiny takes the others; the keyword is matched
 * already (cmd_tiny's kind: "TOP" in any case, then SP); 24 octets must be
 * readable. Returns the line's length, or 0. */
static P3_ALWAYS_INLINE ssize_t cmd_top(const char *p, p3_cmd *out)
{
    uint32_t n1, n2;
    size_t c1 = sp_number(p + 3, &n1);
    size_t e1 = 3 + c1;
    size_t c2 = sp_number(p + e1, &n2);
    size_t e = e1 + c2;
    if (c1 - 2 > 3 || c2 - 2 > 3 || p[e] != '\r' || p[e + 1] != '\n')
        return 0;
    out->kind = P3_CMD_TOP;
    out->keyword.p = p;
    out->keyword.n = 3;
    out->nargs = 2;
    out->args[0].p = p + 4;
    out->args[0].n = c1 - 1;
    out->args[1].p = p + e1 + 1;
    out->args[1].n = c2 - 1;
    out->rest.p = p + 4;
    out->rest.n = e - 4;
    out->num[0] = n1;
    out->num[1] = n2;
    out->lenient = 0;
    return (ssize_t)(e + 2);
}

/* The high bits of the 8 octets of m (as the P3_SWAR tests leave them) as
 * 8 bits, octet i to bit i (the products of the multiply do not overlap). */
static inline uint64_t hibits8(uint64_t m)
{
    return ((m >> 7) * 0x0102040810204080ull) >> 56;
}

/* USER name or PASS pw, with no branch that depends on the argument's
 * length: the 4-octet keyword k (USER or PASS, already matched, any case)
 * at p, SP, then an argument of 1 to P3_MAX_ARG (40) octets and CRLF. The
 * argument of USER (type S) is 0x21..0x7E, so it ends at the first octet
 * outside that range, which must be the CR; the argument of PASS (type R,
 * the rest of the line) may hold spaces: it ends at the first octet
 * outside 0x20..0x7E. Five words cover the 40 octets; a longer argument
 * finds no CR at octet 40 and is left to cmd_fast. 48 octets must be
 * readable. Returns the line's length, or 0. */
static P3_ALWAYS_INLINE ssize_t cmd_str(const char *p, p3_cmd *out, unsigned k)
{
    const uint64_t keep_sp = cmd_info[k].ty[0] == 'R' ? ~0ull : 0;
    uint64_t m = 1ull << P3_MAX_ARG;
    for (unsigned j = 0; j < P3_MAX_ARG / 8; j++) {
        uint64_t w = p3_load64(p + 5 + 8 * j);
        m |= hibits8(p3_swar_nongraph(w) & ~(spaces8(w) & keep_sp)) << (8 * j);
    }
    size_t an = (size_t)__builtin_ctzll(m);
    size_t e = 5 + an;
    if ((p[4] != ' ') | (an == 0) | (p[e] != '\r') | (p[e + 1] != '\n'))
        return 0;
    out->kind = (p3_cmd_kind)k;
    out->keyword.p = p;
    out->keyword.n = 4;
    out->nargs = 1;
    out->args[0].p = p + 5;
    out->args[0].n = an;
    out->rest.p = p + 5;
    out->rest.n = an;
    out->num[0] = 0;
    out->num[1] = 0;
    out->lenient = 0;
    return (ssize_t)(e + 2);
}
#endif

/* Everything but the tiny path: e is the offset of a CRLF that is the first
 * special octet (checked by the caller), or SIZE_MAX when not known. */
P3_COLD static ssize_t cmd_rest(const char *buf, size_t len, unsigned flags, p3_cmd *out,
                                p3_diag *diag, size_t e)
{
#ifdef P3_CMD_FAST
    /* A CRLF as the first special octet within the limit: the line needs no
     * leniency, whatever the flags, so the fast path's answer is final. */
    if (e == SIZE_MAX) {
        size_t win = len < P3_MAX_CMD_LINE ? len : P3_MAX_CMD_LINE;
        e = p3_scan_special(buf, win);
        if (!(e + 1 < win && buf[e] == '\r' && buf[e + 1] == '\n'))
            return cmd_general(buf, len, flags, out, diag);
    }
    if (cmd_fast(buf, len, e, out))
        return (ssize_t)(e + 2);
#endif
    return cmd_general(buf, len, flags, out, diag);
}

/* After cmd_tiny declined a line: k is the kind it matched (keyword octets
 * checked), or 0. The two other common shapes are taken here, not in the
 * cold cmd_rest, whose frame and register saves cost about as much as
 * they do; everything else goes to cmd_rest. Not inlined: its registers
 * would be saved on every call of p3_cmd_parse, also for the lines the
 * tiny path takes (W3 0.513 -> 0.525, alternating runs). */
__attribute__((noinline)) static ssize_t cmd_more(const char *buf, size_t len, unsigned flags,
                                                  p3_cmd *out, p3_diag *diag, unsigned k)
{
#ifdef P3_CMD_FAST
    if (k == P3_CMD_TOP && len >= 24) {
        ssize_t r = cmd_top(buf, out);
        if (r)
            return r;
    } else if ((k == P3_CMD_USER || k == P3_CMD_PASS) && len >= 48) {
        ssize_t r = cmd_str(buf, out, k);
        if (r)
            return r;
    }
#else
    (void)k;
#endif
    return cmd_rest(buf, len, flags, out, diag, SIZE_MAX);
}

ssize_t p3_cmd_parse(const char *buf, size_t len, unsigned flags, p3_cmd *out, p3_diag *diag)
{
    unsigned k = 0;
#ifdef P3_CMD_FAST
    if (P3_LIKELY(len >= 16)) {
        ssize_t r = cmd_tiny(buf, out, &k);
        if (P3_LIKELY(r))
            return r;
    }
#endif
    return cmd_more(buf, len, flags, out, diag, k);
}

/* The batch: the lines one after another as p3_cmd_parse takes them, with
 * the tiny path inline, so a common line costs no call and no register
 * saves. (An index of every CR and LF first, to find each line's start
 * without waiting for the line before, was tried: it cost more than the
 * chain it broke.) Every other line goes through cmd_rest, as in
 * p3_cmd_parse, so each line's result is the one p3_cmd_parse gives. A
 * line that fails is parsed again by p3_cmd_parse when it is the first
 * one (for the diagnostic), else left for the next call; a local
 * diagnostic keeps the caller's untouched. */
ssize_t p3_cmd_parse_many(const char *buf, size_t len, unsigned flags, p3_cmd *out, size_t cap,
                          size_t *n, p3_diag *diag)
{
    size_t i = 0, k = 0;
    p3_diag dg;
    *n = 0;
    if (cap == 0)
        return 0;
    while (k < cap && i < len) {
        ssize_t r;
        unsigned kind = 0;
#ifdef P3_CMD_FAST
        if (P3_LIKELY(len - i >= 16) && P3_LIKELY((r = cmd_tiny(buf + i, &out[k], &kind)) != 0)) {
            i += (size_t)r;
            k++;
            continue;
        }
#endif
        r = cmd_more(buf + i, len - i, flags, &out[k], &dg, kind);
        if (r < 0)
            break;
        i += (size_t)r;
        k++;
    }
    if (k == 0)
        return p3_cmd_parse(buf, len, flags, out, diag);
    *n = k;
    return (ssize_t)i;
}

ssize_t p3_sasl_line_parse(const char *buf, size_t len, unsigned flags, p3_sasl_line *out,
                           p3_diag *diag)
{
    size_t e = 0;
    unsigned bits = 0;
    ssize_t r = line_end(buf, len, P3_MAX_SASL_LINE, flags, &e, &bits, diag);
    if (r < 0)
        return r;
    size_t s = 0, e0 = e;
    if (flags & P3_LENIENT_SPACING) {
        while (s < e && buf[s] == ' ')
            s++;
        while (e > s && buf[e - 1] == ' ')
            e--;
        if (s > 0 || e < e0)
            bits |= P3_LENIENT_SPACING;
    }
    /* RFC 5034 section 4: "If the client wishes to cancel the
     * authentication exchange, it issues a line with a single "*"." */
    int cancel = e - s == 1 && buf[s] == '*';
    if (!cancel) {
        size_t bad = b64_bad(buf + s, e - s);
        if (bad <= e - s)
            return fail(diag, P3_E_BASE64, s + bad, (size_t)r);
    }
    out->cancel = cancel;
    out->data.p = buf + s;
    out->data.n = cancel ? 0 : e - s;
    out->lenient = bits;
    return r;
}
