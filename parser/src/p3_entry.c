/* Entries of multi-line answers as a client reads them: scan listings
 * (LIST), unique-id listings (UIDL) and capability lines (CAPA). The first
 * two sit in the benchmark's hot path: one pass, no strlen, no per-octet
 * calls. */
#include <stdint.h>
#include <string.h>

#include "p3_scan.h"
#include "p3_util.h"
#include "pop3parse.h"

static int fail(p3_diag *diag, p3_errno code, size_t offset)
{
    if (diag) {
        diag->code = code;
        diag->offset = offset;
        /* The caller already holds the whole line (it was split off by
         * p3_ml_line or p3_status_parse): nothing is left to discard. */
        diag->skip = 0;
    }
    return P3_ERROR;
}

/* The complete grammar with every diagnostic and leniency lives in the
 * *_full functions; the public entry points first try the one shape a
 * conforming server sends and return straight away when it fits. A line
 * the fast path declines is judged from scratch by the full parser, so the
 * fast path can only be faster, never different. */
#if defined(__GNUC__)
#define P3_COLD __attribute__((noinline, cold))
#else
#define P3_COLD
#endif

static inline size_t skip_spaces(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

static inline size_t field_end(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] != ' ')
        i++;
    return i;
}

/* "n" SP: the message number every listing starts with. Returns the offset
 * just past its separating space, or 0 with *diag set (0 is never a valid
 * result: a number and a space take at least two octets). */
static inline size_t lead_number(const char *s, size_t n, unsigned flags, p3_errno structure,
                                 uint32_t *num, p3_diag *diag)
{
    size_t a = 0;
    if (flags & P3_LENIENT_SPACING)
        a = skip_spaces(s, 0, n);
    size_t i = field_end(s, a, n);
    if (i == a) {
        fail(diag, structure, a);
        return 0;
    }
    size_t bad;
    p3_errno e = p3_dec_u32(s + a, i - a, num, &bad);
    if (e != P3_E_OK) {
        fail(diag, e, a + bad);
        return 0;
    }
    if (i == n) {
        fail(diag, structure, n);
        return 0;
    }
    i++;
    if (flags & P3_LENIENT_SPACING)
        i = skip_spaces(s, i, n);
    return i;
}

/* RFC 1939 section 5 (LIST): "A scan listing consists of the message-number
 * of the message, followed by a single space and the exact size of the
 * message in octets. [...] This memo makes no requirement on what follows
 * the message size in the scan listing." */
static P3_COLD int list_full(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets,
                             p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n;
    uint32_t m;
    size_t b = lead_number(s, n, flags, P3_E_LIST_ENTRY, &m, diag);
    if (b == 0)
        return P3_ERROR;
    size_t i = field_end(s, b, n);
    if (i == b)
        return fail(diag, P3_E_LIST_ENTRY, b);
    uint64_t o;
    size_t bad;
    p3_errno e = p3_dec_u64(s + b, i - b, &o, &bad);
    if (e != P3_E_OK)
        return fail(diag, e, b + bad);
    *msg = m;
    *octets = o;
    return 0;
}

/* RFC 1939 section 7 (UIDL): "A unique-id listing consists of the
 * message-number of the message, followed by a single space and the
 * unique-id of the message. No information follows the unique-id in the
 * unique-id listing. The unique-id of a message is an arbitrary
 * server-determined string, consisting of one to 70 characters in the range
 * 0x21 to 0x7E". A space inside what follows the number is therefore
 * "information after the unique-id" (P3_E_UIDL_ENTRY), never a uid octet,
 * even with P3_LENIENT_UID. */
static P3_COLD int uidl_full(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid,
                             p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n;
    uint32_t m;
    size_t u = lead_number(s, n, flags, P3_E_UIDL_ENTRY, &m, diag);
    if (u == 0)
        return P3_ERROR;
    size_t e = n;
    if (flags & P3_LENIENT_SPACING)
        while (e > u && s[e - 1] == ' ')
            e--;

    for (size_t k = u; k < e; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == ' ')
            return fail(diag, P3_E_UIDL_ENTRY, k);
        if ((unsigned char)(c - 0x21) > 0x5du && !(flags & P3_LENIENT_UID))
            return fail(diag, P3_E_UID_CHAR, k);
    }
    size_t un = e - u;
    if ((un < P3_MIN_UID || un > P3_MAX_UID) && !(flags & P3_LENIENT_UID))
        return fail(diag, P3_E_UID_LENGTH, un < P3_MIN_UID ? u : u + P3_MAX_UID);
    *msg = m;
    *uid = (p3_slice){s + u, un};
    return 0;
}

/* Up to `max` digits (max <= 19, so no overflow) from s[*i]. Returns the
 * count; *v holds the value. The octet loop of the slow cases. */
static inline size_t digits_loop(const char *s, size_t n, size_t *i, size_t max, uint64_t *v)
{
    size_t a = *i, k = a, lim = n - a < max ? n : a + max;
    uint64_t x = 0;
    for (; k < lim; k++) {
        unsigned d = (unsigned char)s[k] - '0';
        if (d > 9)
            break;
        x = x * 10 + d;
    }
    *i = k;
    *v = x;
    return k - a;
}

/* The same for runs of 1 to 7 digits, eight octets at a time (a digit-by-
 * digit multiply-add chain costs more than the whole line scan). The word
 * is loaded from s[a] when eight octets are there, else from the last eight
 * of the line shifted down (zeros come in, and zero is no digit), so no
 * octet outside s[0..n) is read. Longer runs and short lines take the loop. */
static inline size_t digits(const char *s, size_t n, size_t *i, size_t max, uint64_t *v)
{
    size_t a = *i;
    uint64_t w;
    if (a + 8 <= n) {
        memcpy(&w, s + a, 8);
    } else if (n >= 8 && a < n) {
        memcpy(&w, s + n - 8, 8);
        w >>= 8 * (a - (n - 8));
    } else {
        return digits_loop(s, n, i, max, v);
    }
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    /* Per octet: d = c - '0'; a borrow only runs upward from the first
     * octet below '0', and that octet is flagged itself. */
    uint64_t d = w - ones * '0';
    uint64_t nondigit = ((d + ones * 0x76) | d) & high;
    if (!nondigit)
        return digits_loop(s, n, i, max, v);
    size_t k = (size_t)__builtin_ctzll(nondigit) / 8;
    if (k == 0)
        return 0;
    /* Align the k digits at the top (most significant digit lowest), then
     * combine pairs, quads and the two halves. */
    d <<= 8 * (8 - k);
    d = (d * 10 + (d >> 8)) & 0x00ff00ff00ff00ffu;
    d = (d * 100 + (d >> 16)) & 0x0000ffff0000ffffu;
    d = (d * 10000 + (d >> 32)) & 0xffffffffu;
    *i = a + k;
    *v = d;
    return k;
}

/* The top r octets of a word (1 <= r <= 8), else none. */
static inline uint64_t top_octets(size_t r)
{
    return (~0ull << ((64 - 8 * r) & 63)) & (0 - (uint64_t)(r - 1 < 8));
}

static P3_COLD int list_rest(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets,
                             p3_diag *diag);
static P3_COLD int uidl_rest(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid,
                             p3_diag *diag);

int p3_list_entry(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets, p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n;
    uint64_t m;
    /* The usual listing, "n SP size" with n of 1..7 and size of 1..8 digits
     * and nothing after it, in two words: the first from s, the second the
     * line's last 8 octets, which hold the size at their top. */
    if (n >= 8) {
        size_t k = p3_swar_lead_number(s, &m);
        uint64_t keep = top_octets(n - k - 1);
        uint64_t w2 = p3_load64(s + n - 8);
        if (k && keep && !(p3_swar_nondigit(w2) & keep)) {
            *msg = (uint32_t)m;
            *octets = p3_swar_dec8((w2 ^ (P3_SWAR_ONES * '0')) & keep);
            return 0;
        }
    }
    return list_rest(line, flags, msg, octets, diag);
}

/* Short lines, long numbers, anything after the size: the digit loops,
 * then the full grammar. */
static P3_COLD int list_rest(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets,
                             p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n, i = 0;
    uint64_t m, o;
    /* 1..9 digits SP 1..19 digits, then the end or SP: no overflow possible. */
    if (digits(s, n, &i, 9, &m) && i < n && s[i] == ' ') {
        i++;
        if (digits(s, n, &i, 19, &o) && (i == n || s[i] == ' ')) {
            *msg = (uint32_t)m;
            *octets = o;
            return 0;
        }
    }
    return list_full(line, flags, msg, octets, diag);
}

int p3_uidl_entry(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid, p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n;
    uint64_t m;
    /* The usual listing, "n SP uid" with n of 1..7 digits: the uid is the
     * rest of the line, so it is valid when the first octet outside
     * 0x21..0x7E from its start is the line's end (the mask has every
     * position from the end up set) and its length is 1..70. One mask for
     * any length: no loop whose trip count varies from line to line. */
    if (n >= 8) {
        size_t k = p3_swar_lead_number(s, &m);
        size_t u = k + 1, un = n - u;
        p3_mask128 g = p3_scan_nongraph128(s + u, un);
        size_t first = g.lo ? (size_t)__builtin_ctzll(g.lo) : 64 + (size_t)__builtin_ctzll(g.hi | 1ull << 63);
        if (k && un - 1 < P3_MAX_UID && first == un) {
            *msg = (uint32_t)m;
            *uid = (p3_slice){s + u, un};
            return 0;
        }
    }
    return uidl_rest(line, flags, msg, uid, diag);
}

static P3_COLD int uidl_rest(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid,
                             p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n, i = 0;
    uint64_t m;
    if (digits(s, n, &i, 9, &m) && i < n && s[i] == ' ') {
        size_t u = i + 1, un = n - u;
        /* The SIMD scan plus memchr beat octet and word loops here: uid
         * lengths vary from line to line, and loops on them mispredict. */
        if (un - 1 < P3_MAX_UID && p3_scan_special(s + u, un) == un && !memchr(s + u, ' ', un)) {
            *msg = (uint32_t)m;
            *uid = (p3_slice){s + u, un};
            return 0;
        }
    }
    return uidl_full(line, flags, msg, uid, diag);
}

/* Which of the leniencies in `bits` the line cannot do without: each one
 * whose removal makes the parse fail. Only lines the fast paths decline
 * get here with flags set, so the extra parses cost nothing that counts. */
int p3_list_entry_x(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets,
                    unsigned *lenient, p3_diag *diag)
{
    *lenient = 0;
    int r = p3_list_entry(line, flags, msg, octets, diag);
    uint32_t m;
    uint64_t o;
    if (r == 0 && (flags & P3_LENIENT_SPACING) && p3_list_entry(line, 0, &m, &o, NULL) != 0)
        *lenient = P3_LENIENT_SPACING;
    return r;
}

int p3_uidl_entry_x(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid,
                    unsigned *lenient, p3_diag *diag)
{
    *lenient = 0;
    int r = p3_uidl_entry(line, flags, msg, uid, diag);
    uint32_t m;
    p3_slice u;
    const unsigned bits = flags & (P3_LENIENT_SPACING | P3_LENIENT_UID);
    if (r == 0 && bits && p3_uidl_entry(line, 0, &m, &u, NULL) != 0)
        for (unsigned b = 1; b <= bits; b <<= 1)
            if ((bits & b) && p3_uidl_entry(line, flags & ~b, &m, &u, NULL) != 0)
                *lenient |= b;
    if (r == 0 && bits && !*lenient && p3_uidl_entry(line, 0, &m, &u, NULL) != 0)
        *lenient = bits; /* either one would do; say both */
    return r;
}

/* RFC 2449 section 3:
 *   capability = capa-tag *(SP param) CRLF   ;512 octets maximum
 *   capa-tag   = 1*cchar
 *   cchar      = %x21-2D / %x2F-7F   ;printable ASCII, excluding "."
 *   param      = 1*VCHAR
 * %x7F is in the cchar range but is no printable ASCII (the rule's own
 * comment): it is treated as the control it is, like everywhere else. */
int p3_capa_line(p3_slice line, unsigned flags, p3_capa *out, p3_diag *diag)
{
    const char *s = line.p;
    size_t n = line.n;
    unsigned lenient = 0;
    /* line holds no CRLF: 510 octets of it fill the 512. */
    if (n > P3_MAX_CAPA_LINE - 2) {
        if (!(flags & P3_LENIENT_LONG_LINE))
            return fail(diag, P3_E_LINE_TOO_LONG, P3_MAX_CAPA_LINE - 2);
        lenient |= P3_LENIENT_LONG_LINE;
    }

    for (size_t i = 0; (i += p3_scan_special(s + i, n - i)) < n; i++) {
        unsigned char c = (unsigned char)s[i];
        p3_errno e;
        unsigned bit;
        if (c == 0) {
            e = P3_E_NUL;
            bit = 0;
        } else if (c >= 0x80) {
            e = P3_E_EIGHT_BIT;
            bit = P3_LENIENT_EIGHT_BIT;
        } else if (c == '\r') {
            e = P3_E_BARE_CR;
            bit = P3_LENIENT_BARE_CR;
        } else if (c == '\n') {
            e = P3_E_BARE_LF;
            bit = P3_LENIENT_BARE_LF;
        } else {
            e = P3_E_CTL;
            bit = P3_LENIENT_CTL;
        }
        if (!(flags & bit))
            return fail(diag, e, i);
        lenient |= bit;
    }

    p3_capa c;
    c.nparams = 0;
    size_t i = 0;
    if (n > 0 && s[0] == ' ') {
        if (!(flags & P3_LENIENT_SPACING))
            return fail(diag, P3_E_CAPA_LINE, 0);
        lenient |= P3_LENIENT_SPACING;
        i = skip_spaces(s, 0, n);
    }
    size_t t = i;
    for (; i < n && s[i] != ' '; i++)
        if (s[i] == '.')
            return fail(diag, P3_E_CAPA_LINE, i);
    if (i == t)
        return fail(diag, P3_E_CAPA_LINE, t);
    c.tag = (p3_slice){s + t, i - t};

    /* Here s[i] is a space or i == n. */
    while (i < n) {
        size_t sp = i++;
        if (i == n || s[i] == ' ') {
            if (!(flags & P3_LENIENT_SPACING))
                return fail(diag, P3_E_CAPA_LINE, i == n ? sp : i);
            lenient |= P3_LENIENT_SPACING;
            i = skip_spaces(s, i, n);
            if (i == n)
                break;
        }
        if (c.nparams == P3_MAX_CAPA_PARAMS)
            return fail(diag, P3_E_CAPA_LINE, i);
        size_t a = i;
        i = field_end(s, i, n);
        c.params[c.nparams++] = (p3_slice){s + a, i - a};
    }
    out->tag = c.tag;
    out->nparams = c.nparams;
    memcpy(out->params, c.params, c.nparams * sizeof c.params[0]);
    out->lenient = lenient;
    return 0;
}
