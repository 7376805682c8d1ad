/* Scan listings, unique-id listings and capability lines (p3_entry.c).
 * Every input is a slice placed with p3t_guard so that it ends at a guard
 * page: a read past line.n faults. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

#define ALL_LENIENT 0x7ffu

static p3_slice guarded(const char *s, size_t n) { return (p3_slice){p3t_guard(s, n), n}; }

/* ---------------------------------------------------------------------------
 * LIST (RFC 1939 section 5, scan listing).
 */

static void list_ok(const char *z, unsigned flags, uint32_t msg, uint64_t octets)
{
    uint32_t m = 0xdeadbeef;
    uint64_t o = 0xdeadbeef;
    p3_diag d;
    p3t_poison(&d, sizeof d);
    int r = p3_list_entry(guarded(z, strlen(z)), flags, &m, &o, &d);
    ck_assert_msg(r == 0, "\"%s\": %s at %zu", z, p3_errno_name(d.code), d.offset);
    ck_assert_uint_eq(m, msg);
    ck_assert_uint_eq(o, octets);
    ck_assert(p3t_is_poison(&d, sizeof d));
}

static void list_bad(const char *z, unsigned flags, p3_errno code, size_t offset)
{
    uint32_t m = 7;
    uint64_t o = 9;
    p3_diag d;
    int r = p3_list_entry(guarded(z, strlen(z)), flags, &m, &o, &d);
    ck_assert_msg(r == P3_ERROR, "\"%s\": accepted", z);
    ck_assert_msg(d.code == code && d.offset == offset && d.skip == 0,
                  "\"%s\": got %s at %zu, want %s at %zu", z, p3_errno_name(d.code), d.offset,
                  p3_errno_name(code), offset);
    ck_assert_uint_eq(m, 7);
    ck_assert_uint_eq(o, 9);
}

START_TEST(list_entries)
{
    /* RFC 1939 section 5 examples: "S: 1 120", "S: 2 200" and the
     * single-line "+OK 2 200". */
    list_ok("1 120", 0, 1, 120);
    list_ok("2 200", 0, 2, 200);
    /* "This memo makes no requirement on what follows the message size" */
    list_ok("1 120 From: someone", 0, 1, 120);
    list_ok("1 120 ", 0, 1, 120);
    list_ok("0001 0", 0, 1, 0);

    /* 32-bit message number, 64-bit size: N-1, N, N+1. */
    list_ok("4294967294 18446744073709551614", 0, 4294967294u, 18446744073709551614u);
    list_ok("4294967295 18446744073709551615", 0, 4294967295u, 18446744073709551615u);
    list_bad("4294967296 1", 0, P3_E_NUMBER_RANGE, 9);
    list_bad("42949672950 1", 0, P3_E_NUMBER_RANGE, 10);
    list_bad("1 18446744073709551616", 0, P3_E_NUMBER_RANGE, 21);
    list_bad("1 99999999999999999999", 0, P3_E_NUMBER_RANGE, 21);
    list_ok("1 4294967296", 0, 1, 4294967296u);

    /* Structure. */
    list_bad("", 0, P3_E_LIST_ENTRY, 0);
    list_bad("1", 0, P3_E_LIST_ENTRY, 1);
    list_bad("1 ", 0, P3_E_LIST_ENTRY, 2);
    list_bad(" 1 120", 0, P3_E_LIST_ENTRY, 0);
    list_bad("1  120", 0, P3_E_LIST_ENTRY, 2);
    list_bad(" ", 0, P3_E_LIST_ENTRY, 0);
    /* Numbers. */
    list_bad("x 120", 0, P3_E_NUMBER, 0);
    list_bad("1x 120", 0, P3_E_NUMBER, 1);
    list_bad("1 12o", 0, P3_E_NUMBER, 4);
    list_bad("1 120\t", 0, P3_E_NUMBER, 5);
    list_bad("1\t120", 0, P3_E_NUMBER, 1);
    list_bad("+1 120", 0, P3_E_NUMBER_SIGN, 0);
    list_bad("1 -120", 0, P3_E_NUMBER_SIGN, 2);
    /* A non-digit after an overflow is the report. */
    list_bad("99999999999x 1", 0, P3_E_NUMBER, 11);

    /* SPACING: runs and leading spaces. */
    list_ok("1  120", P3_LENIENT_SPACING, 1, 120);
    list_ok("   1 \x20 120", P3_LENIENT_SPACING, 1, 120);
    list_bad("   ", P3_LENIENT_SPACING, P3_E_LIST_ENTRY, 3);
    list_bad("1    ", P3_LENIENT_SPACING, P3_E_LIST_ENTRY, 5);
    list_bad("1 x", ALL_LENIENT, P3_E_NUMBER, 2);

    /* NULL diag. */
    uint32_t m;
    uint64_t o;
    ck_assert_int_eq(p3_list_entry(guarded("1", 1), 0, &m, &o, NULL), P3_ERROR);
    ck_assert_int_eq(p3_list_entry(guarded("x 1", 3), 0, &m, &o, NULL), P3_ERROR);
    /* Empty slice with a NULL pointer. */
    ck_assert_int_eq(p3_list_entry((p3_slice){NULL, 0}, 0, &m, &o, NULL), P3_ERROR);
}
END_TEST

/* ---------------------------------------------------------------------------
 * UIDL (RFC 1939 section 7, unique-id listing).
 */

static void uidl_ok_n(const char *s, size_t n, unsigned flags, uint32_t msg, size_t uoff,
                      size_t ulen)
{
    uint32_t m = 0xdeadbeef;
    p3_slice uid = {NULL, 12345};
    p3_diag d;
    p3t_poison(&d, sizeof d);
    p3_slice line = guarded(s, n);
    int r = p3_uidl_entry(line, flags, &m, &uid, &d);
    ck_assert_msg(r == 0, "\"%.*s\": %s at %zu", (int)n, s, p3_errno_name(d.code), d.offset);
    ck_assert_uint_eq(m, msg);
    ck_assert_msg(uid.p == line.p + uoff && uid.n == ulen, "\"%.*s\": uid at %td len %zu",
                  (int)n, s, uid.p - line.p, uid.n);
    ck_assert(p3t_is_poison(&d, sizeof d));
}

static void uidl_ok(const char *z, unsigned flags, uint32_t msg, const char *uid)
{
    const char *at = strstr(z, uid);
    ck_assert_ptr_nonnull(at);
    uidl_ok_n(z, strlen(z), flags, msg, (size_t)(at - z), strlen(uid));
}

static void uidl_bad_n(const char *s, size_t n, unsigned flags, p3_errno code, size_t offset)
{
    uint32_t m = 7;
    p3_slice uid = {NULL, 12345};
    p3_diag d;
    int r = p3_uidl_entry(guarded(s, n), flags, &m, &uid, &d);
    ck_assert_msg(r == P3_ERROR, "\"%.*s\": accepted", (int)n, s);
    ck_assert_msg(d.code == code && d.offset == offset && d.skip == 0,
                  "\"%.*s\": got %s at %zu, want %s at %zu", (int)n, s, p3_errno_name(d.code),
                  d.offset, p3_errno_name(code), offset);
    ck_assert_uint_eq(m, 7);
    ck_assert(uid.p == NULL && uid.n == 12345);
}

static void uidl_bad(const char *z, unsigned flags, p3_errno code, size_t offset)
{
    uidl_bad_n(z, strlen(z), flags, code, offset);
}

START_TEST(uidl_rfc_examples)
{
    uidl_ok("1 whqtswO00WBw418f9t5JxYwZ", 0, 1, "whqtswO00WBw418f9t5JxYwZ");
    uidl_ok("2 QhdPYR:00WBw1Ph7x7", 0, 2, "QhdPYR:00WBw1Ph7x7");
    /* The edges of 0x21..0x7E. */
    uidl_ok("3 !~", 0, 3, "!~");
    uidl_ok("4294967295 x", 0, 4294967295u, "x");
    uidl_bad("4294967296 x", 0, P3_E_NUMBER_RANGE, 9);
    uidl_bad("x1 abc", 0, P3_E_NUMBER, 0);
    uidl_bad("-1 abc", 0, P3_E_NUMBER_SIGN, 0);
}
END_TEST

START_TEST(uidl_structure)
{
    uidl_bad("", 0, P3_E_UIDL_ENTRY, 0);
    uidl_bad("1", 0, P3_E_UIDL_ENTRY, 1);
    uidl_bad(" 1 abc", 0, P3_E_UIDL_ENTRY, 0);
    /* "No information follows the unique-id": a space is never part of it,
     * whatever the leniencies. */
    uidl_bad("1 abc def", 0, P3_E_UIDL_ENTRY, 5);
    uidl_bad("1 abc def", P3_LENIENT_UID, P3_E_UIDL_ENTRY, 5);
    uidl_bad("1 abc def", ALL_LENIENT, P3_E_UIDL_ENTRY, 5);
    uidl_bad("1 abc ", 0, P3_E_UIDL_ENTRY, 5);
    uidl_bad("1  abc", 0, P3_E_UIDL_ENTRY, 2);
    /* SPACING: leading, runs, trailing. */
    uidl_ok("1 abc ", P3_LENIENT_SPACING, 1, "abc");
    uidl_ok("1   abc", P3_LENIENT_SPACING, 1, "abc");
    uidl_ok("  1 abc   ", P3_LENIENT_SPACING, 1, "abc");
    uidl_bad("1   ", P3_LENIENT_SPACING, P3_E_UID_LENGTH, 4);
    uidl_bad("   ", P3_LENIENT_SPACING, P3_E_UIDL_ENTRY, 3);
    uidl_bad("1 a b", P3_LENIENT_SPACING, P3_E_UIDL_ENTRY, 3);
    /* NULL diag. */
    uint32_t m;
    p3_slice u;
    ck_assert_int_eq(p3_uidl_entry(guarded("1", 1), 0, &m, &u, NULL), P3_ERROR);
}
END_TEST

START_TEST(uidl_length)
{
    /* "consisting of one to 70 characters": 0, 1, 69, 70, 71. */
    char line[200];
    memcpy(line, "9 ", 2);
    memset(line + 2, 'u', 100);

    uidl_bad_n(line, 2, 0, P3_E_UID_LENGTH, 2);
    uidl_ok_n(line, 2, P3_LENIENT_UID, 9, 2, 0);
    uidl_ok_n(line, 3, 0, 9, 2, 1);
    uidl_ok_n(line, 2 + 69, 0, 9, 2, 69);
    uidl_ok_n(line, 2 + 70, 0, 9, 2, 70);
    uidl_bad_n(line, 2 + 71, 0, P3_E_UID_LENGTH, 2 + 70);
    uidl_bad_n(line, 2 + 100, 0, P3_E_UID_LENGTH, 2 + 70);
    uidl_ok_n(line, 2 + 71, P3_LENIENT_UID, 9, 2, 71);
    uidl_ok_n(line, 2 + 100, P3_LENIENT_UID, 9, 2, 100);
    /* Every length from 1 to 70 is fine (each tail of the 8-octet steps). */
    for (size_t k = 1; k <= 70; k++)
        uidl_ok_n(line, 2 + k, 0, 9, 2, k);
}
END_TEST

START_TEST(uidl_octets)
{
    /* Each octet value, at each place of a 70-octet unique-id (the word
     * loop and the tail loop both see it). */
    char line[80];
    memcpy(line, "5 ", 2);
    for (unsigned c = 0; c < 256; c++) {
        for (size_t at = 0; at < 70; at++) {
            memset(line + 2, 'Q', 70);
            line[2 + at] = (char)c;
            if (c >= 0x21 && c <= 0x7e) {
                uidl_ok_n(line, 72, 0, 5, 2, 70);
            } else if (c == ' ') {
                uidl_bad_n(line, 72, P3_LENIENT_UID, P3_E_UIDL_ENTRY, 2 + at);
            } else {
                uidl_bad_n(line, 72, 0, P3_E_UID_CHAR, 2 + at);
                uidl_ok_n(line, 72, P3_LENIENT_UID, 5, 2, 70);
            }
        }
    }
    /* The first of two bad octets is the one reported. */
    uidl_bad("1 a\x01\x80", 0, P3_E_UID_CHAR, 3);
    /* A bad octet before a space: the earlier one wins... */
    uidl_bad("1 a\x01 b", 0, P3_E_UID_CHAR, 3);
    /* ...unless UID lifts it; then the space is found. */
    uidl_bad("1 a\x01 b", P3_LENIENT_UID, P3_E_UIDL_ENTRY, 4);
    /* Length is judged after the octets. */
    char big[100];
    memcpy(big, "1 ", 2);
    memset(big + 2, 'z', 90);
    big[2 + 80] = '\t';
    uidl_bad_n(big, 92, 0, P3_E_UID_CHAR, 82);
    uidl_bad_n(big, 92, P3_LENIENT_CTL, P3_E_UID_CHAR, 82); /* CTL is for lines, UID for uids */
}
END_TEST

/* ---------------------------------------------------------------------------
 * The fast paths of LIST and UIDL against a plain model of the strict
 * grammar, on random lines rich in digits, spaces and edge octets.
 */

static int model_num(const char *p, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (x > (max - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

START_TEST(random_against_model)
{
    static const char alpha[] = "0123456789000000000      x!~\x7f\x80\xff";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    char line[100];
    for (int iter = 0; iter < 100000; iter++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        size_t n = (size_t)(seed % 90);
        uint64_t r = seed;
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            line[i] = alpha[(r >> 33) % (sizeof alpha - 1)];
        }
        /* Sometimes a well-formed UIDL tail of random VCHARs. */
        const char *sp = memchr(line, ' ', n);
        if (sp && (seed & 4))
            for (size_t i = (size_t)(sp - line) + 1; i < n; i++) {
                r = r * 6364136223846793005u + 1442695040888963407u;
                line[i] = (char)(0x21 + (r >> 33) % 94);
            }

        /* Model: the first field, one space, the rest. */
        uint64_t m1 = 0, m2 = 0;
        size_t f1 = sp ? (size_t)(sp - line) : n;
        int num1 = sp && model_num(line, f1, UINT32_MAX, &m1);
        const char *rest = sp ? sp + 1 : NULL;
        size_t rn = sp ? n - f1 - 1 : 0;
        const char *sp2 = rest ? memchr(rest, ' ', rn) : NULL;
        size_t f2 = sp2 ? (size_t)(sp2 - rest) : rn;
        int list_want = num1 && model_num(rest, f2, UINT64_MAX, &m2);
        int uidl_want = num1 && rn >= 1 && rn <= 70;
        for (size_t i = 0; uidl_want && i < rn; i++)
            uidl_want = rest[i] >= 0x21 && rest[i] <= 0x7e;

        p3_slice g = guarded(line, n);
        uint32_t msg = 0;
        uint64_t oct = 0;
        int got = p3_list_entry(g, 0, &msg, &oct, NULL) == 0;
        ck_assert_msg(got == list_want, "LIST \"%.*s\": got %d want %d", (int)n, line, got,
                      list_want);
        if (got)
            ck_assert(msg == m1 && oct == m2);
        p3_slice uid = {NULL, 0};
        got = p3_uidl_entry(g, 0, &msg, &uid, NULL) == 0;
        ck_assert_msg(got == uidl_want, "UIDL \"%.*s\": got %d want %d", (int)n, line, got,
                      uidl_want);
        if (got)
            ck_assert(msg == m1 && uid.p == g.p + f1 + 1 && uid.n == rn);
    }
}
END_TEST

/* ---------------------------------------------------------------------------
 * CAPA (RFC 2449 sections 3, 5 and 6).
 */

static void capa_ok_n(const char *s, size_t n, unsigned flags, const char *tag,
                      const char *const *params, unsigned nparams, unsigned lenient)
{
    p3_capa c;
    p3_diag d;
    p3t_poison(&c, sizeof c);
    p3t_poison(&d, sizeof d);
    int r = p3_capa_line(guarded(s, n), flags, &c, &d);
    ck_assert_msg(r == 0, "\"%.*s\": %s at %zu", (int)n, s, p3_errno_name(d.code), d.offset);
    ck_assert_msg(p3t_slice_is(c.tag, tag), "\"%.*s\": tag \"%.*s\"", (int)n, s, (int)c.tag.n,
                  c.tag.p);
    ck_assert_uint_eq(c.nparams, nparams);
    for (unsigned i = 0; i < nparams; i++)
        ck_assert_msg(p3t_slice_is(c.params[i], params[i]), "\"%.*s\": param %u \"%.*s\"", (int)n, s,
                      i, (int)c.params[i].n, c.params[i].p);
    /* Only the params in use are written. */
    ck_assert(p3t_is_poison(&c.params[nparams], (P3_MAX_CAPA_PARAMS - nparams) * sizeof c.params[0]));
    ck_assert_msg(c.lenient == lenient, "\"%.*s\": lenient %#x want %#x", (int)n, s, c.lenient,
                  lenient);
    ck_assert(p3t_is_poison(&d, sizeof d));
}

#define CAPA_OK(z, flags, tag, lenient, ...)                                                     \
    do {                                                                                         \
        static const char *const ps_[] = {NULL, __VA_ARGS__};                                    \
        capa_ok_n(z, strlen(z), flags, tag, ps_ + 1, (unsigned)(sizeof ps_ / sizeof ps_[0] - 1), \
                  lenient);                                                                      \
    } while (0)

static void capa_bad_n(const char *s, size_t n, unsigned flags, p3_errno code, size_t offset)
{
    p3_capa c;
    p3_diag d;
    p3t_poison(&c, sizeof c);
    int r = p3_capa_line(guarded(s, n), flags, &c, &d);
    ck_assert_msg(r == P3_ERROR, "\"%.*s\": accepted", (int)n, s);
    ck_assert_msg(d.code == code && d.offset == offset && d.skip == 0,
                  "\"%.*s\": got %s at %zu, want %s at %zu", (int)n, s, p3_errno_name(d.code),
                  d.offset, p3_errno_name(code), offset);
    ck_assert(p3t_is_poison(&c, sizeof c));
}

static void capa_bad(const char *z, unsigned flags, p3_errno code, size_t offset)
{
    capa_bad_n(z, strlen(z), flags, code, offset);
}

START_TEST(capa_rfc_examples)
{
    /* RFC 2449 section 5. */
    CAPA_OK("TOP", 0, "TOP", 0);
    CAPA_OK("USER", 0, "USER", 0);
    CAPA_OK("SASL CRAM-MD5 KERBEROS_V4", 0, "SASL", 0, "CRAM-MD5", "KERBEROS_V4");
    CAPA_OK("RESP-CODES", 0, "RESP-CODES", 0);
    CAPA_OK("LOGIN-DELAY 900", 0, "LOGIN-DELAY", 0, "900");
    CAPA_OK("PIPELINING", 0, "PIPELINING", 0);
    CAPA_OK("EXPIRE 60", 0, "EXPIRE", 0, "60");
    CAPA_OK("UIDL", 0, "UIDL", 0);
    CAPA_OK("IMPLEMENTATION Shlemazle-Plotz-v302", 0, "IMPLEMENTATION", 0, "Shlemazle-Plotz-v302");
    /* RFC 2449 section 6: arguments described there. */
    CAPA_OK("EXPIRE NEVER", 0, "EXPIRE", 0, "NEVER");
    CAPA_OK("EXPIRE 0 USER", 0, "EXPIRE", 0, "0", "USER");
    CAPA_OK("LOGIN-DELAY 900 USER", 0, "LOGIN-DELAY", 0, "900", "USER");
    /* RFC 5034 section 6. */
    CAPA_OK("SASL DIGEST-MD5 GSSAPI ANONYMOUS", 0, "SASL", 0, "DIGEST-MD5", "GSSAPI", "ANONYMOUS");
    CAPA_OK("STLS", 0, "STLS", 0);
    CAPA_OK("IMPLEMENTATION BlurdyBlurp POP3 server", 0, "IMPLEMENTATION", 0, "BlurdyBlurp",
            "POP3", "server");
    CAPA_OK("SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS", 0, "SASL", 0, "PLAIN", "DIGEST-MD5",
            "GSSAPI", "ANONYMOUS");
    /* RFC 6856 sections 2 and 3; RFC 3206 AUTH-RESP-CODE. */
    CAPA_OK("UTF8", 0, "UTF8", 0);
    CAPA_OK("UTF8 USER", 0, "UTF8", 0, "USER");
    CAPA_OK("LANG", 0, "LANG", 0);
    CAPA_OK("AUTH-RESP-CODE", 0, "AUTH-RESP-CODE", 0);
    /* "." is excluded from the tag only. */
    CAPA_OK("IMPLEMENTATION v1.2.3", 0, "IMPLEMENTATION", 0, "v1.2.3");
    CAPA_OK("X-!~ .", 0, "X-!~", 0, ".");
}
END_TEST

START_TEST(capa_errors)
{
    capa_bad("", 0, P3_E_CAPA_LINE, 0);
    capa_bad(".", 0, P3_E_CAPA_LINE, 0);
    capa_bad(".TOP", 0, P3_E_CAPA_LINE, 0);
    capa_bad("X.Y", 0, P3_E_CAPA_LINE, 1);
    capa_bad("X.Y", ALL_LENIENT, P3_E_CAPA_LINE, 1);
    /* Single spaces only (RFC 2449 section 3: capa-tag *(SP param)). */
    capa_bad("TOP ", 0, P3_E_CAPA_LINE, 3);
    capa_bad(" TOP", 0, P3_E_CAPA_LINE, 0);
    capa_bad("SASL  PLAIN", 0, P3_E_CAPA_LINE, 5);
    capa_bad("SASL PLAIN  ", 0, P3_E_CAPA_LINE, 11);
    capa_bad(" ", 0, P3_E_CAPA_LINE, 0);
    CAPA_OK("TOP ", P3_LENIENT_SPACING, "TOP", P3_LENIENT_SPACING);
    CAPA_OK("  TOP", P3_LENIENT_SPACING, "TOP", P3_LENIENT_SPACING);
    CAPA_OK("SASL  PLAIN   LOGIN  ", P3_LENIENT_SPACING, "SASL", P3_LENIENT_SPACING, "PLAIN",
            "LOGIN");
    CAPA_OK("SASL PLAIN", P3_LENIENT_SPACING, "SASL", 0, "PLAIN");
    capa_bad("   ", P3_LENIENT_SPACING, P3_E_CAPA_LINE, 3);
}
END_TEST

START_TEST(capa_octets)
{
    capa_bad_n("TOP\0", 4, 0, P3_E_NUL, 3);
    capa_bad_n("A \0", 3, ALL_LENIENT, P3_E_NUL, 2);
    capa_bad("IMPLEMENTATION caf\xc3\xa9", 0, P3_E_EIGHT_BIT, 18);
    CAPA_OK("IMPLEMENTATION caf\xc3\xa9", P3_LENIENT_EIGHT_BIT, "IMPLEMENTATION",
            P3_LENIENT_EIGHT_BIT, "caf\xc3\xa9");
    capa_bad("X a\tb", 0, P3_E_CTL, 3);
    capa_bad("X\x7f", 0, P3_E_CTL, 1);
    CAPA_OK("X a\tb\x7f", P3_LENIENT_CTL, "X", P3_LENIENT_CTL, "a\tb\x7f");
    capa_bad("X a\rb", 0, P3_E_BARE_CR, 3);
    CAPA_OK("X a\rb", P3_LENIENT_BARE_CR, "X", P3_LENIENT_BARE_CR, "a\rb");
    capa_bad("X a\nb", 0, P3_E_BARE_LF, 3);
    CAPA_OK("X a\nb", P3_LENIENT_BARE_LF, "X", P3_LENIENT_BARE_LF, "a\nb");
    /* CTL does not lift CR or LF. */
    capa_bad("X a\rb", P3_LENIENT_CTL, P3_E_BARE_CR, 3);
    /* NULL diag. */
    p3_capa c;
    ck_assert_int_eq(p3_capa_line(guarded("", 0), 0, &c, NULL), P3_ERROR);
}
END_TEST

START_TEST(capa_limits)
{
    /* 16 parameters fit, the 17th does not. */
    CAPA_OK("X 1 2 3 4 5 6 7 8 9 a b c d e f g", 0, "X", 0, "1", "2", "3", "4", "5", "6", "7",
            "8", "9", "a", "b", "c", "d", "e", "f", "g");
    /*       0123456789012345678901234567890123 */
    capa_bad("X 1 2 3 4 5 6 7 8 9 a b c d e f g h", 0, P3_E_CAPA_LINE, 34);
    capa_bad("X 1 2 3 4 5 6 7 8 9 a b c d e f g  h", P3_LENIENT_SPACING, P3_E_CAPA_LINE, 35);
    CAPA_OK("X 1 2 3 4 5 6 7 8 9 a b c d e f g  ", P3_LENIENT_SPACING, "X", P3_LENIENT_SPACING,
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f", "g");

    /* "Each capability line is limited to 512 octets (including the
     * CRLF)": 510 octets of line. */
    char line[1100];
    memcpy(line, "IMPLEMENTATION ", 15);
    memset(line + 15, 'v', sizeof line - 15);
    for (size_t n = 509; n <= 510; n++) {
        p3_capa c;
        ck_assert_int_eq(p3_capa_line(guarded(line, n), 0, &c, NULL), 0);
        ck_assert_uint_eq(c.nparams, 1);
        ck_assert_uint_eq(c.params[0].n, n - 15);
        ck_assert_uint_eq(c.lenient, 0);
    }
    capa_bad_n(line, 511, 0, P3_E_LINE_TOO_LONG, 510);
    capa_bad_n(line, 1100, 0, P3_E_LINE_TOO_LONG, 510);
    p3_capa c;
    ck_assert_int_eq(p3_capa_line(guarded(line, 1100), P3_LENIENT_LONG_LINE, &c, NULL), 0);
    ck_assert_uint_eq(c.params[0].n, 1100 - 15);
    ck_assert_uint_eq(c.lenient, P3_LENIENT_LONG_LINE);
    ck_assert_int_eq(p3_capa_line(guarded(line, 510), P3_LENIENT_LONG_LINE, &c, NULL), 0);
    ck_assert_uint_eq(c.lenient, 0);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("entry");
    TCase *tc = tcase_create("list_uidl");
    tcase_add_test(tc, list_entries);
    tcase_add_test(tc, uidl_rfc_examples);
    tcase_add_test(tc, uidl_structure);
    tcase_add_test(tc, uidl_length);
    tcase_add_test(tc, uidl_octets);
    tcase_add_test(tc, random_against_model);
    suite_add_tcase(s, tc);
    tc = tcase_create("capa");
    tcase_add_test(tc, capa_rfc_examples);
    tcase_add_test(tc, capa_errors);
    tcase_add_test(tc, capa_octets);
    tcase_add_test(tc, capa_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
