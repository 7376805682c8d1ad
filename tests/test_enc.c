/* Encoders: dot-stuffing round trips through the decoder, and the command and
 * status line formatters with every error. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

#define S(lit) lit, sizeof(lit) - 1
#define SL(lit) ((p3_slice){lit, sizeof(lit) - 1})

/* Stuff in[0..n) in pieces of `piece` octets with out capacity `cap` per
 * call, end it, and return the wire bytes in wire (length *wn). */
static void stuff_all(const char *in, size_t n, size_t piece, size_t cap, char *wire, size_t *wn)
{
    p3_stuffer s;
    p3_stuff_init(&s);
    size_t w = 0, i = 0;
    while (i < n) {
        size_t take = n - i < piece ? n - i : piece, used = 0;
        size_t o = p3_stuff(&s, in + i, take, wire + w, cap, &used);
        ck_assert_uint_le(o, cap);
        ck_assert_uint_le(used, take);
        /* less input taken only when out is full */
        if (used < take)
            ck_assert_uint_eq(o, cap);
        ck_assert(o > 0 || used > 0);
        w += o;
        i += used;
    }
    /* flush anything owed, then the end */
    size_t used, o;
    while ((o = p3_stuff(&s, NULL, 0, wire + w, cap, &used)) > 0)
        w += o;
    o = p3_stuff_end(&s, wire + w, 6);
    ck_assert_uint_ge(o, 3);
    w += o;
    *wn = w;
}

static void decode_all(const char *wire, size_t wn, char *out, size_t *on)
{
    p3_ml d;
    p3_ml_init(&d, 0, 0);
    p3_slice sl[4];
    size_t nout, o = 0, i = 0;
    while (!p3_ml_done(&d)) {
        ssize_t r = p3_ml_body(&d, wire + i, wn - i, sl, 4, &nout);
        ck_assert_int_gt(r, 0);
        i += (size_t)r;
        for (size_t j = 0; j < nout; j++) {
            memcpy(out + o, sl[j].p, sl[j].n);
            o += sl[j].n;
        }
    }
    ck_assert_uint_eq(i, wn);
    *on = o;
}

static void roundtrip(const char *in, size_t n)
{
    char *wire = malloc(2 * n + 16), *back = malloc(2 * n + 16);
    size_t wn, bn, wn1 = 0;
    static const size_t pieces[] = {1, 2, 3, 7, 1000000};
    static const size_t caps[] = {1, 2, 3, 64, 1000000};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++) {
            stuff_all(in, n, pieces[a], caps[b], wire, &wn);
            ck_assert_uint_le(wn, 2 * n + 5);
            if (a == 0 && b == 0)
                wn1 = wn;
            ck_assert_uint_eq(wn, wn1);
            decode_all(wire, wn, back, &bn);
            /* data that did not end in a line end got one added */
            int ended = n == 0 || in[n - 1] == '\n';
            ck_assert_uint_eq(bn, n + (ended ? 0 : 2));
            ck_assert(memcmp(back, in, n) == 0);
            if (!ended)
                ck_assert(memcmp(back + n, "\r\n", 2) == 0);
        }
    free(wire);
    free(back);
}

START_TEST(stuff_examples)
{
    char out[64];
    size_t used;
    p3_stuffer s;
    p3_stuff_init(&s);
    size_t o = p3_stuff(&s, S(".a\r\n..\r\nx.\r\n.\r\n"), out, sizeof out, &used);
    ck_assert_uint_eq(used, 15);
    ck_assert_uint_eq(o, 18);
    ck_assert(memcmp(out, "..a\r\n...\r\nx.\r\n..\r\n", 18) == 0);
    ck_assert_uint_eq(p3_stuff_end(&s, out, sizeof out), 3);
    ck_assert(memcmp(out, ".\r\n", 3) == 0);

    /* no line end at the end: one is added */
    p3_stuff_init(&s);
    ck_assert_uint_eq(p3_stuff(&s, S("abc"), out, sizeof out, &used), 3);
    ck_assert_uint_eq(p3_stuff_end(&s, out, 4), 0); /* cap < 5 */
    ck_assert_uint_eq(p3_stuff_end(&s, out, 5), 5);
    ck_assert(memcmp(out, "\r\n.\r\n", 5) == 0);
    /* the stuffer is at a line start again */
    ck_assert_uint_eq(p3_stuff_end(&s, out, 5), 3);

    /* empty data */
    p3_stuff_init(&s);
    ck_assert_uint_eq(p3_stuff_end(&s, out, 2), 0);
    ck_assert_uint_eq(p3_stuff_end(&s, out, 5), 3);

    /* out full after the stuffing dot: the data dot is owed */
    p3_stuff_init(&s);
    ck_assert_uint_eq(p3_stuff(&s, S(".x"), out, 1, &used), 1);
    ck_assert_uint_eq(used, 1);
    ck_assert_uint_eq(p3_stuff_end(&s, out, 5), 0); /* needs 6 */
    ck_assert_uint_eq(p3_stuff_end(&s, out, 6), 6);
    ck_assert(memcmp(out, ".\r\n.\r\n", 6) == 0);

    /* zero capacity takes nothing */
    p3_stuff_init(&s);
    ck_assert_uint_eq(p3_stuff(&s, S("abc"), out, 0, &used), 0);
    ck_assert_uint_eq(used, 0);
}
END_TEST

START_TEST(stuff_roundtrip)
{
    roundtrip(S(""));
    roundtrip(S("."));
    roundtrip(S(".\r\n"));
    roundtrip(S("..\r\n"));
    roundtrip(S(".x\r\n"));
    roundtrip(S("a\r\n.\r\n.\r\n..\r\n"));
    roundtrip(S("From: a\r\n\r\nbody\r\n.\r\n"));
    roundtrip(S("no line end"));
    roundtrip(S("x\r\n.")); /* ends mid-line after a dot */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    static const char alpha[] = "..\r\nab.\r\n";
    char in[300];
    for (int iter = 0; iter < 300; iter++) {
        size_t n = 0, want = (size_t)iter % 290;
        while (n < want) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x % 3 == 0 && n + 2 <= want) {
                in[n++] = '\r';
                in[n++] = '\n';
            } else {
                char c = alpha[(x >> 11) % 7];
                in[n++] = c == '\r' || c == '\n' ? 'q' : c; /* no bare CR or LF */
            }
        }
        roundtrip(in, n);
    }
}
END_TEST

static ssize_t cmd(char *out, size_t cap, p3_cmd_kind k, const char *unk, const p3_slice *a,
                   unsigned n, p3_diag *d)
{
    memset(d, 0xff, sizeof *d);
    return p3_cmd_format(out, cap, k, unk, a, n, d);
}

#define CMD_ERR(k, unk, args, n, want, off)                                                        \
    do {                                                                                           \
        ck_assert_int_eq(cmd(out, sizeof out, k, unk, args, n, &d), P3_ERROR);                     \
        ck_assert_int_eq(d.code, want);                                                            \
        ck_assert_uint_eq(d.offset, off);                                                          \
    } while (0)

START_TEST(cmd_format)
{
    char out[300];
    p3_diag d;
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_QUIT, NULL, NULL, 0, &d), 6);
    ck_assert(memcmp(out, "QUIT\r\n", 6) == 0);
    p3_slice top[2] = {SL("1"), SL("10")};
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_TOP, NULL, top, 2, &d), 10);
    ck_assert(memcmp(out, "TOP 1 10\r\n", 10) == 0);
    p3_slice pw = SL("tanstaaf with spaces");
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_PASS, NULL, &pw, 1, &d), 27);
    ck_assert(memcmp(out, "PASS tanstaaf with spaces\r\n", 27) == 0);
    p3_slice apop[2] = {SL("mrose"), SL("c4c9334bac560ecc979e58001b3e22fb")};
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_APOP, NULL, apop, 2, &d), 45);
    ck_assert(memcmp(out, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", 45) == 0);
    p3_slice xa = SL("arg");
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_UNKNOWN, "XTND", &xa, 1, &d), 10);
    ck_assert(memcmp(out, "XTND arg\r\n", 10) == 0);
    p3_slice auth[2] = {SL("PLAIN"), SL("=")};
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_AUTH, NULL, auth, 2, &d), 14);
    /* an AUTH initial response may pass 40 octets (RFC 5034: the line limit) */
    static char b64[300];
    memset(b64, 'A', sizeof b64);
    p3_slice auth2[2] = {SL("PLAIN"), {b64, 200}};
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_AUTH, NULL, auth2, 2, &d), 213);
    /* exactly 255 octets fits; cap exactly the length fits */
    p3_slice auth3[2] = {SL("PLAIN"), {b64, 240}};
    ck_assert_int_eq(cmd(out, 253, P3_CMD_AUTH, NULL, auth3, 2, &d), 253);
    p3_slice auth4[2] = {SL("PLAINXX"), {b64, 240}};
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_AUTH, NULL, auth4, 2, &d), 255);

    /* every error */
    CMD_ERR((p3_cmd_kind)P3_CMD__COUNT, NULL, NULL, 0, P3_E_ARGUMENT, 0);
    CMD_ERR(P3_CMD_UNKNOWN, NULL, NULL, 0, P3_E_ARGUMENT, 0);
    CMD_ERR(P3_CMD_USER, NULL, NULL, 1, P3_E_ARGUMENT, 0);
    p3_slice nullarg = {NULL, 3};
    CMD_ERR(P3_CMD_USER, NULL, &nullarg, 1, P3_E_ARGUMENT, 4);
    CMD_ERR(P3_CMD_UNKNOWN, "XY", NULL, 0, P3_E_KEYWORD_LENGTH, 0);
    CMD_ERR(P3_CMD_UNKNOWN, "XTNDS", NULL, 0, P3_E_KEYWORD_LENGTH, 0);
    CMD_ERR(P3_CMD_UNKNOWN, "X D", NULL, 0, P3_E_SPACING, 1);
    CMD_ERR(P3_CMD_UNKNOWN, "X\x80", NULL, 0, P3_E_EIGHT_BIT, 1);
    CMD_ERR(P3_CMD_USER, NULL, NULL, 0, P3_E_TOO_FEW_ARGS, 4);
    CMD_ERR(P3_CMD_QUIT, NULL, &xa, 1, P3_E_TOO_MANY_ARGS, 4);
    p3_slice many[9] = {SL("a"), SL("a"), SL("a"), SL("a"), SL("a"),
                        SL("a"), SL("a"), SL("a"), SL("a")};
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_UNKNOWN, "XTND", many, 8, &d), 22);
    CMD_ERR(P3_CMD_UNKNOWN, "XTND", many, 9, P3_E_TOO_MANY_ARGS, 4);
    p3_slice empty = {"", 0};
    CMD_ERR(P3_CMD_USER, NULL, &empty, 1, P3_E_SPACING, 5);
    p3_slice sp = SL("a b");
    CMD_ERR(P3_CMD_USER, NULL, &sp, 1, P3_E_SPACING, 6);
    p3_slice cr = SL("ab\rc"), lf = SL("ab\nc"), nul = SL("ab\0c"), tab = SL("a\tc"),
             del = SL("a\x7f"), hi = SL("\xc3\xa9");
    CMD_ERR(P3_CMD_USER, NULL, &cr, 1, P3_E_BARE_CR, 7);
    CMD_ERR(P3_CMD_PASS, NULL, &lf, 1, P3_E_BARE_LF, 7);
    CMD_ERR(P3_CMD_USER, NULL, &nul, 1, P3_E_NUL, 7);
    CMD_ERR(P3_CMD_USER, NULL, &tab, 1, P3_E_CTL, 6);
    CMD_ERR(P3_CMD_USER, NULL, &del, 1, P3_E_EIGHT_BIT, 6);
    CMD_ERR(P3_CMD_USER, NULL, &hi, 1, P3_E_EIGHT_BIT, 5);
    p3_slice long41 = {b64, 41}, long40 = {b64, 40};
    CMD_ERR(P3_CMD_USER, NULL, &long41, 1, P3_E_ARG_TOO_LONG, 45);
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_USER, NULL, &long40, 1, &d), 47);
    p3_slice nn = SL("1x"), sign = SL("+1"), big = SL("4294967296"), max = SL("4294967295");
    CMD_ERR(P3_CMD_RETR, NULL, &nn, 1, P3_E_NUMBER, 6);
    CMD_ERR(P3_CMD_RETR, NULL, &sign, 1, P3_E_NUMBER_SIGN, 5);
    CMD_ERR(P3_CMD_RETR, NULL, &big, 1, P3_E_NUMBER_RANGE, 14);
    ck_assert_int_eq(cmd(out, sizeof out, P3_CMD_RETR, NULL, &max, 1, &d), 17);
    p3_slice badb64[2] = {SL("PLAIN"), SL("abc")};
    CMD_ERR(P3_CMD_AUTH, NULL, badb64, 2, P3_E_BASE64, 11);
    p3_slice auth5[2] = {SL("PLAINXXX"), {b64, 240}};
    CMD_ERR(P3_CMD_AUTH, NULL, auth5, 2, P3_E_LINE_TOO_LONG, 254);
    /* P3_E_BUFFER: one short, and nothing */
    ck_assert_int_eq(cmd(out, 5, P3_CMD_QUIT, NULL, NULL, 0, &d), P3_ERROR);
    ck_assert_int_eq(d.code, P3_E_BUFFER);
    ck_assert_int_eq(cmd(out, 6, P3_CMD_QUIT, NULL, NULL, 0, &d), 6);
    ck_assert_int_eq(p3_cmd_format(NULL, 0, P3_CMD_QUIT, NULL, NULL, 0, &d), P3_ERROR);
    ck_assert_int_eq(d.code, P3_E_BUFFER);
    /* diag may be NULL */
    ck_assert_int_eq(p3_cmd_format(out, 5, P3_CMD_QUIT, NULL, NULL, 0, NULL), P3_ERROR);
}
END_TEST

#define ST_ERR(kind, code_, text_, e, off)                                                         \
    do {                                                                                           \
        memset(&d, 0xff, sizeof d);                                                                \
        ck_assert_int_eq(p3_status_format(out, sizeof out, kind, code_, text_, &d), P3_ERROR);     \
        ck_assert_int_eq(d.code, e);                                                               \
        ck_assert_uint_eq(d.offset, off);                                                          \
    } while (0)

START_TEST(status_format)
{
    char out[600];
    p3_diag d;
    p3_slice none = {NULL, 0};
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_OK, none, none, &d), 5);
    ck_assert(memcmp(out, "+OK\r\n", 5) == 0);
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_ERR, SL("SYS/TEMP"),
                                      SL("try later"), &d), 27);
    ck_assert(memcmp(out, "-ERR [SYS/TEMP] try later\r\n", 27) == 0);
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_ERR, SL("IN-USE"), none, &d), 15);
    ck_assert(memcmp(out, "-ERR [IN-USE]\r\n", 15) == 0);
    ck_assert_int_eq(
        p3_status_format(out, sizeof out, P3_ST_OK, none, SL("2 messages (320 octets)"), &d),
        29);
    ck_assert(memcmp(out, "+OK 2 messages (320 octets)\r\n", 29) == 0);
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_CONT, none, none, &d), 4);
    ck_assert(memcmp(out, "+ \r\n", 4) == 0);
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_CONT, none, SL("PDE4OTY+"), &d),
                     12);
    ck_assert(memcmp(out, "+ PDE4OTY+\r\n", 12) == 0);
    /* text may hold "[" after a code, and later on */
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_OK, SL("X"), SL("[y]"), &d), 13);
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_OK, none, SL("a [y]"), &d), 11);
    /* 512 octets exactly fits */
    static char t[600];
    memset(t, 't', sizeof t);
    ck_assert_int_eq(p3_status_format(out, sizeof out, P3_ST_OK, none, (p3_slice){t, 506}, &d),
                     512);

    ST_ERR((p3_status_kind)0, none, none, P3_E_ARGUMENT, 0);
    ST_ERR((p3_status_kind)4, none, none, P3_E_ARGUMENT, 0);
    ST_ERR(P3_ST_OK, ((p3_slice){NULL, 1}), none, P3_E_ARGUMENT, 0);
    ST_ERR(P3_ST_OK, none, ((p3_slice){NULL, 1}), P3_E_ARGUMENT, 0);
    ST_ERR(P3_ST_CONT, SL("X"), none, P3_E_ARGUMENT, 2);
    ST_ERR(P3_ST_CONT, none, SL("abc"), P3_E_BASE64, 2);
    ST_ERR(P3_ST_CONT, none, SL("ab c"), P3_E_SPACING, 4);
    ST_ERR(P3_ST_CONT, none, SL("ab\r\n"), P3_E_BARE_CR, 4);
    ST_ERR(P3_ST_OK, SL("A//B"), none, P3_E_RESP_CODE, 7);
    ST_ERR(P3_ST_OK, SL("/A"), none, P3_E_RESP_CODE, 5);
    ST_ERR(P3_ST_OK, SL("A/"), none, P3_E_RESP_CODE, 6);
    ST_ERR(P3_ST_OK, SL("A]"), none, P3_E_RESP_CODE, 6);
    ST_ERR(P3_ST_OK, SL("A B"), none, P3_E_RESP_CODE, 6);
    ST_ERR(P3_ST_OK, SL("A\x7f"), none, P3_E_RESP_CODE, 6);
    ST_ERR(P3_ST_ERR, none, SL("[SYS]"), P3_E_RESP_CODE, 5);
    ST_ERR(P3_ST_OK, none, SL("a\nb"), P3_E_BARE_LF, 5);
    ST_ERR(P3_ST_OK, SL("X"), SL("a\rb"), P3_E_BARE_CR, 9);
    ST_ERR(P3_ST_OK, none, SL("a\0b"), P3_E_NUL, 5);
    ST_ERR(P3_ST_OK, none, SL("a\tb"), P3_E_CTL, 5);
    ST_ERR(P3_ST_OK, none, SL("a\xffz"), P3_E_EIGHT_BIT, 5);
    ST_ERR(P3_ST_OK, none, ((p3_slice){t, 507}), P3_E_LINE_TOO_LONG, 511);
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(p3_status_format(out, 4, P3_ST_OK, none, none, &d), P3_ERROR);
    ck_assert_int_eq(d.code, P3_E_BUFFER);
    ck_assert_int_eq(p3_status_format(out, 5, P3_ST_OK, none, none, NULL), 5);
    /* the text counts against cap (out is a guard page: an overrun faults) */
    char *g = (char *)p3t_guard("................", 16); /* writable mapping */
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(p3_status_format(g, 16, P3_ST_OK, SL("C"), SL("0123456789"), &d), P3_ERROR);
    ck_assert_int_eq(d.code, P3_E_BUFFER);
    ck_assert_int_eq(p3_status_format(g, 16, P3_ST_OK, SL("C"), SL("012345"), &d), 16);
    ck_assert(memcmp(g, "+OK [C] 012345\r\n", 16) == 0);
    ck_assert_int_eq(p3_status_format(g, 16, P3_ST_CONT, none, SL("AAAAAAAAAAAAAAAA"), &d),
                     P3_ERROR);
    ck_assert_int_eq(d.code, P3_E_BUFFER);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("enc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stuff_examples);
    tcase_add_test(tc, stuff_roundtrip);
    tcase_add_test(tc, cmd_format);
    tcase_add_test(tc, status_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
