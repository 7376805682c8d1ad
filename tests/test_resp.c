/* Status lines, greeting timestamps and STAT answers (p3_resp.c). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

#define ALL_LENIENT 0x7ffu

/* ---------------------------------------------------------------------------
 * Helpers. Every input is placed with p3t_guard so that it ends at a guard
 * page: a read of buf[len] faults.
 */

static ssize_t parse_guarded(const char *s, size_t n, unsigned flags, p3_status *st, p3_diag *d)
{
    const char *g = p3t_guard(s, n);
    return p3_status_parse(g, n, flags, st, d);
}

/* Every proper prefix of s[0..n) gives P3_NEED_MORE and touches no output. */
static void check_prefixes(const char *s, size_t n, unsigned flags)
{
    for (size_t k = 0; k < n; k++) {
        p3_status st;
        p3_diag d;
        p3t_poison(&st, sizeof st);
        p3t_poison(&d, sizeof d);
        ssize_t r = parse_guarded(s, k, flags, &st, &d);
        ck_assert_msg(r == P3_NEED_MORE, "prefix %zu of \"%.*s\": got %zd", k, (int)n, s, r);
        ck_assert(p3t_is_poison(&st, sizeof st));
        ck_assert(p3t_is_poison(&d, sizeof d));
    }
}

struct want {
    p3_status_kind kind;
    p3_resp_code rc;
    const char *code; /* NULL: no "[...]" */
    const char *text;
    unsigned lenient;
};

static void check_status(const p3_status *st, const char *base, size_t linelen, struct want w,
                         const char *what)
{
    ck_assert_msg(st->kind == w.kind, "%s: kind %d", what, st->kind);
    ck_assert_msg(st->code_kind == w.rc, "%s: code_kind %d want %d", what, st->code_kind, w.rc);
    if (w.code) {
        ck_assert_msg(p3t_slice_is(st->code, w.code), "%s: code \"%.*s\"", what, (int)st->code.n,
                      st->code.p);
    } else {
        ck_assert_msg(st->code.n == 0 && st->code.p == NULL, "%s: unexpected code", what);
    }
    ck_assert_msg(p3t_slice_is(st->text, w.text), "%s: text \"%.*s\" want \"%s\"", what,
                  (int)st->text.n, st->text.p, w.text);
    ck_assert_msg(st->line.p == base && st->line.n == linelen, "%s: line %zu want %zu", what,
                  st->line.n, linelen);
    ck_assert_msg(st->lenient == w.lenient, "%s: lenient %#x want %#x", what, st->lenient,
                  w.lenient);
}

/* s[0..n) is one complete line (its line end included). Checks: all proper
 * prefixes need more; the line alone parses to w; the line followed by the
 * start of another line parses the same and consumes only the line. */
static void accept_n(const char *s, size_t n, unsigned flags, struct want w)
{
    size_t linelen = n;
    if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
        linelen = n - 2;
    else if (n >= 1 && s[n - 1] == '\n')
        linelen = n - 1;

    check_prefixes(s, n, flags);

    p3_status st;
    p3_diag d;
    p3t_poison(&d, sizeof d);
    const char *g = p3t_guard(s, n);
    ssize_t r = p3_status_parse(g, n, flags, &st, &d);
    ck_assert_msg(r == (ssize_t)n, "\"%.*s\": got %zd want %zu (diag %s at %zu)", (int)n, s, r, n,
                  r == P3_ERROR ? p3_errno_name(d.code) : "-", d.offset);
    ck_assert_msg(p3t_is_poison(&d, sizeof d), "diag written on success");
    check_status(&st, g, linelen, w, s);

    char *more = malloc(n + 12);
    ck_assert_ptr_nonnull(more);
    memcpy(more, s, n);
    memcpy(more + n, "+OK next\r\n", 10);
    g = p3t_guard(more, n + 10);
    r = p3_status_parse(g, n + 10, flags, &st, &d);
    ck_assert_msg(r == (ssize_t)n, "\"%.*s\" + more: got %zd", (int)n, s, r);
    check_status(&st, g, linelen, w, s);
    free(more);
}

static void accept(const char *z, unsigned flags, struct want w) { accept_n(z, strlen(z), flags, w); }

/* s[0..n) fails with code at offset, skip. Outputs other than diag are not
 * touched. With after_eol, the error is one that needs the whole line, so
 * every proper prefix must still need more. */
static void reject_n(const char *s, size_t n, unsigned flags, p3_errno code, size_t offset,
                     size_t skip, int after_eol)
{
    if (after_eol)
        check_prefixes(s, n, flags);
    p3_status st;
    p3_diag d;
    p3t_poison(&st, sizeof st);
    ssize_t r = parse_guarded(s, n, flags, &st, &d);
    ck_assert_msg(r == P3_ERROR, "\"%.*s\": got %zd want error", (int)n, s, r);
    ck_assert_msg(d.code == code && d.offset == offset && d.skip == skip,
                  "\"%.*s\": got %s at %zu skip %zu, want %s at %zu skip %zu", (int)n, s,
                  p3_errno_name(d.code), d.offset, d.skip, p3_errno_name(code), offset, skip);
    ck_assert(p3t_is_poison(&st, sizeof st));
}

/* Errors judged on the octet itself, before the line end is seen. */
static void reject_now(const char *z, unsigned flags, p3_errno code, size_t offset, size_t skip)
{
    reject_n(z, strlen(z), flags, code, offset, skip, 0);
}

static void reject(const char *z, unsigned flags, p3_errno code, size_t offset, size_t skip)
{
    reject_n(z, strlen(z), flags, code, offset, skip, 1);
}

#define OK(text) ((struct want){P3_ST_OK, P3_RC_NONE, NULL, text, 0})
#define ERR(text) ((struct want){P3_ST_ERR, P3_RC_NONE, NULL, text, 0})
#define CONT(text) ((struct want){P3_ST_CONT, P3_RC_NONE, NULL, text, 0})

/* ---------------------------------------------------------------------------
 * RFC examples.
 */

START_TEST(rfc1939_examples)
{
    /* Every distinct status line of RFC 1939's examples. */
    static const char *const ok_text[] = {
        "",
        "120 octets",
        "2 200",
        "2 320",
        "2 QhdPYR:00WBw1Ph7x7",
        "2 messages (320 octets)",
        "200 octets",
        "POP3 server ready",
        "POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
        "dewey POP3 server signing off",
        "dewey POP3 server signing off (2 messages left)",
        "dewey POP3 server signing off (maildrop empty)",
        "maildrop has 1 message (369 octets)",
        "maildrop has 2 messages (320 octets)",
        "message 1 deleted",
        "message 2 deleted",
        "mrose is a real hoopy frood",
        "mrose's maildrop has 2 messages (320 octets)",
        "scan listing follows",
        "unique-id listing follows",
    };
    static const char *const err_text[] = {
        "maildrop already locked",
        "message 2 already deleted",
        "no such message",
        "no such message, only 2 messages in maildrop",
        "sorry, no mailbox for frated here",
    };
    char line[600];
    for (size_t i = 0; i < sizeof ok_text / sizeof ok_text[0]; i++) {
        size_t tn = strlen(ok_text[i]);
        memcpy(line, "+OK", 3);
        size_t n = 3;
        if (tn) {
            line[n++] = ' ';
            memcpy(line + n, ok_text[i], tn);
            n += tn;
        }
        memcpy(line + n, "\r\n", 3);
        accept(line, 0, OK(ok_text[i]));
    }
    for (size_t i = 0; i < sizeof err_text / sizeof err_text[0]; i++) {
        size_t tn = strlen(err_text[i]);
        memcpy(line, "-ERR ", 5);
        memcpy(line + 5, err_text[i], tn);
        memcpy(line + 5 + tn, "\r\n", 3);
        accept(line, 0, ERR(err_text[i]));
    }
}
END_TEST

START_TEST(rfc2449_rfc3206_codes)
{
    accept("-ERR [IN-USE] Do you have another POP session running?\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_IN_USE, "IN-USE",
                         "Do you have another POP session running?", 0});
    /* RFC 3206 summary: "-ERR [SYS/TEMP] try again later",
     * "-ERR [AUTH] invalid password". */
    accept("-ERR [SYS/TEMP] try again later\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS_TEMP, "SYS/TEMP", "try again later", 0});
    accept("-ERR [AUTH] invalid password\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", "invalid password", 0});
    accept("-ERR [SYS/PERM] mailbox is gone\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS_PERM, "SYS/PERM", "mailbox is gone", 0});
    accept("-ERR [SYS] system error\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS, "SYS", "system error", 0});
    accept("-ERR [LOGIN-DELAY] wait 900 seconds\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_LOGIN_DELAY, "LOGIN-DELAY", "wait 900 seconds", 0});
    /* RFC 6856 section 5: the UTF8 response code. */
    accept("-ERR [UTF8] message needs UTF-8 mode\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_UTF8, "UTF8", "message needs UTF-8 mode", 0});
    /* Codes on +OK, too (RFC 2449 section 8: "+OK" or "-ERR" response). */
    accept("+OK [IN-USE] odd but allowed\r\n", 0,
           (struct want){P3_ST_OK, P3_RC_IN_USE, "IN-USE", "odd but allowed", 0});
}
END_TEST

START_TEST(codes_case_and_hierarchy)
{
    /* "interpreted in a case-insensitive fashion by the client" */
    accept("-ERR [in-use] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_IN_USE, "in-use", "x", 0});
    accept("-ERR [Sys/Temp] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS_TEMP, "Sys/Temp", "x", 0});
    accept("-ERR [sys/perm] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS_PERM, "sys/perm", "x", 0});
    accept("-ERR [login-delay] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_LOGIN_DELAY, "login-delay", "x", 0});
    accept("-ERR [auth] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_AUTH, "auth", "x", 0});
    accept("-ERR [utf8] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_UTF8, "utf8", "x", 0});
    /* "Clients MUST ignore unknown hierarchical detail about the response
     * code." */
    accept("-ERR [SYS/FOO] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_SYS, "SYS/FOO", "x", 0});
    accept("-ERR [SYS/TEMP/DISK] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS_TEMP, "SYS/TEMP/DISK", "x", 0});
    accept("-ERR [SYS/PERMANENT] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_SYS, "SYS/PERMANENT", "x", 0});
    accept("-ERR [IN-USE/OTHER-CLIENT] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_IN_USE, "IN-USE/OTHER-CLIENT", "x", 0});
    accept("-ERR [AUTH/EXPIRED] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH/EXPIRED", "x", 0});
    /* Unknown: kept, reported as unknown. Prefixes of known names are not
     * the known names. */
    accept("-ERR [FOO] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "FOO", "x", 0});
    accept("-ERR [FOO/BAR] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "FOO/BAR", "x", 0});
    accept("-ERR [SYSTEM] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "SYSTEM", "x", 0});
    accept("-ERR [IN] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "IN", "x", 0});
    accept("-ERR [TEMP/SYS] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "TEMP/SYS", "x", 0});
}
END_TEST

START_TEST(code_text_boundaries)
{
    /* text = after "]" and one optional space. */
    accept("-ERR [AUTH]\r\n", 0, (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", "", 0});
    accept("-ERR [AUTH] \r\n", 0, (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", "", 0});
    accept("-ERR [AUTH]bad\r\n", 0, (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", "bad", 0});
    accept("-ERR [AUTH]  two\r\n", 0, (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", " two", 0});
    accept("-ERR [AUTH] [x] y\r\n", 0, (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", "[x] y", 0});
    /* rchar = %x21-2E / %x30-5C / %x5E-7F: "[" and the edges are in. */
    accept("-ERR [A[B] x\r\n", 0, (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "A[B", "x", 0});
    accept("-ERR [!.0\\^~] x\r\n", 0,
           (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "!.0\\^~", "x", 0});
    /* %x7F is an rchar, but a control octet of the line: only with CTL. */
    accept("-ERR [A\x7f] x\r\n", P3_LENIENT_CTL,
           (struct want){P3_ST_ERR, P3_RC_UNKNOWN, "A\x7f", "x", P3_LENIENT_CTL});
    reject_now("-ERR [A\x7f] x\r\n", 0, P3_E_CTL, 7, 13);
    /* A "[" later in the text is free text. */
    accept("+OK text [not a code]\r\n", 0, OK("text [not a code]"));
    /* No space after the status: nothing of a code there. */
    accept("+OK\r\n", 0, OK(""));
    accept("+OK \r\n", 0, OK(""));
    accept("-ERR\r\n", 0, ERR(""));
    accept("-ERR  two spaces\r\n", 0, ERR(" two spaces"));
}
END_TEST

START_TEST(resp_code_errors)
{
    /* Unterminated: the offset is the line end, where "]" was due. */
    reject("-ERR [IN-USE\r\n", 0, P3_E_RESP_CODE, 12, 14);
    reject("-ERR [\r\n", 0, P3_E_RESP_CODE, 6, 8);
    /* Empty levels. */
    reject("-ERR []\r\n", 0, P3_E_RESP_CODE, 6, 9);
    reject("-ERR [SYS/] x\r\n", 0, P3_E_RESP_CODE, 10, 15);
    reject("-ERR [/SYS] x\r\n", 0, P3_E_RESP_CODE, 6, 15);
    reject("-ERR [SYS//TEMP] x\r\n", 0, P3_E_RESP_CODE, 10, 20);
    /* Octets that are no rchar. */
    reject("-ERR [IN USE] x\r\n", 0, P3_E_RESP_CODE, 8, 17);
    reject("+OK [this is text]\r\n", 0, P3_E_RESP_CODE, 9, 20);
    reject("-ERR [A\tB] x\r\n", P3_LENIENT_CTL, P3_E_RESP_CODE, 7, 14);
    reject("-ERR [A\xc3\xa9] x\r\n", P3_LENIENT_EIGHT_BIT, P3_E_RESP_CODE, 7, 14);
    /* Every leniency on does not make a bad code good. */
    reject("-ERR [] x\r\n", ALL_LENIENT, P3_E_RESP_CODE, 6, 11);
}
END_TEST

START_TEST(rfc5034_continuations)
{
    /* RFC 5034 section 6 (the long line is broken there "for editorial
     * clarity only"). */
    accept("+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0"
           "RVFHbTJoaCIscW9wPSJhdXRoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hh"
           "cnNldD11dGYtOA==\r\n",
           0,
           CONT("cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0"
                "RVFHbTJoaCIscW9wPSJhdXRoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hh"
                "cnNldD11dGYtOA=="));
    accept("+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==\r\n", 0,
           CONT("cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA=="));
    /* "an empty server challenge is defined as a line with only a "+",
     * followed by a single space" */
    accept("+ \r\n", 0, CONT(""));
    /* RFC 2195 section 2's CRAM-MD5 challenge, as POP3 sends it. */
    accept("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n", 0,
           CONT("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"));
    accept("+ abc=\r\n", 0, CONT("abc="));
    accept("+ ab==\r\n", 0, CONT("ab=="));
    /* The RFC 5034 section 6 greeting and answers around the exchange. */
    accept("+OK pop.example.com BlurdyBlurp POP3 server ready\r\n", 0,
           OK("pop.example.com BlurdyBlurp POP3 server ready"));
    accept("+OK List of capabilities follows\r\n", 0, OK("List of capabilities follows"));
    accept("+OK Begin TLS negotiation now\r\n", 0, OK("Begin TLS negotiation now"));
    accept("+OK Maildrop locked and ready\r\n", 0, OK("Maildrop locked and ready"));
    /* RFC 2595 section 4 (STLS) and RFC 6856 section 3 (LANG). */
    accept("-ERR Command not permitted when TLS active\r\n", 0,
           ERR("Command not permitted when TLS active"));
    accept("+OK es Idioma cambiado\r\n", 0, OK("es Idioma cambiado"));
    accept("-ERR es Idioma <<UGA>> no es conocido\r\n", 0, ERR("es Idioma <<UGA>> no es conocido"));
    accept("+OK sv Kommandot \"LANG\" lyckades\r\n", 0, OK("sv Kommandot \"LANG\" lyckades"));
}
END_TEST

START_TEST(continuation_errors)
{
    /* "+" alone: RFC 5034 wants the space. */
    reject("+\r\n", 0, P3_E_CONT, 1, 3);
    reject("+\r\n", ALL_LENIENT, P3_E_CONT, 1, 3);
    /* "This line MUST NOT contain any text other than the BASE64-encoded
     * challenge." */
    reject("+ abc\r\n", 0, P3_E_BASE64, 5, 7);      /* length not a multiple of 4 */
    reject("+ ab=c\r\n", 0, P3_E_BASE64, 4, 8);     /* "=" before the end */
    reject("+ abcd efgh\r\n", 0, P3_E_BASE64, 6, 13); /* text after it */
    reject("+ ====\r\n", 0, P3_E_BASE64, 2, 8);
    reject("+ a===\r\n", 0, P3_E_BASE64, 3, 8);
    reject("+  \r\n", 0, P3_E_BASE64, 2, 5);
    reject("+ abc==\r\n", 0, P3_E_BASE64, 7, 9);
    reject("+ ab-_\r\n", 0, P3_E_BASE64, 4, 8); /* base64url is not base64 */
}
END_TEST

START_TEST(status_errors)
{
    reject("\r\n", 0, P3_E_STATUS, 0, 2);
    reject("OK\r\n", 0, P3_E_STATUS, 0, 4);
    reject(".\r\n", 0, P3_E_STATUS, 0, 3);
    reject("* OK IMAP4 Server\r\n", 0, P3_E_STATUS, 0, 19);
    reject("+X\r\n", 0, P3_E_STATUS, 1, 4);
    reject("+O\r\n", 0, P3_E_STATUS, 2, 4);
    reject("+OX\r\n", 0, P3_E_STATUS, 2, 5);
    reject("+oX\r\n", 0, P3_E_STATUS, 2, 5); /* wrong, not merely lower case */
    reject("-\r\n", 0, P3_E_STATUS, 1, 3);
    reject("-ER\r\n", 0, P3_E_STATUS, 3, 5);
    reject("-ERX x\r\n", 0, P3_E_STATUS, 3, 8);
    reject("-OK\r\n", 0, P3_E_STATUS, 1, 5);
    reject("+ERR\r\n", 0, P3_E_STATUS, 1, 6);
    reject("+OX\r\n", ALL_LENIENT, P3_E_STATUS, 2, 5);
}
END_TEST

START_TEST(status_case)
{
    /* RFC 1939 section 3: "Servers MUST send the "+OK" and "-ERR" in upper
     * case." */
    reject("+ok\r\n", 0, P3_E_STATUS_CASE, 1, 5);
    reject("+Ok hi\r\n", 0, P3_E_STATUS_CASE, 2, 8);
    reject("+oK\r\n", 0, P3_E_STATUS_CASE, 1, 5);
    reject("-err\r\n", 0, P3_E_STATUS_CASE, 1, 6);
    reject("-ERr no\r\n", 0, P3_E_STATUS_CASE, 3, 9);
    accept("+ok hi\r\n", P3_LENIENT_STATUS_CASE,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "hi", P3_LENIENT_STATUS_CASE});
    accept("-eRr no\r\n", P3_LENIENT_STATUS_CASE,
           (struct want){P3_ST_ERR, P3_RC_NONE, NULL, "no", P3_LENIENT_STATUS_CASE});
    /* The flag given but not needed: no bit. */
    accept("+OK hi\r\n", P3_LENIENT_STATUS_CASE, OK("hi"));
}
END_TEST

START_TEST(status_space)
{
    reject("+OKfoo\r\n", 0, P3_E_STATUS_SPACE, 3, 8);
    reject("-ERRx\r\n", 0, P3_E_STATUS_SPACE, 4, 7);
    reject("+OK\tfoo\r\n", P3_LENIENT_CTL, P3_E_STATUS_SPACE, 3, 9);
    accept("+OKfoo\r\n", P3_LENIENT_STATUS_SPACE,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "foo", P3_LENIENT_STATUS_SPACE});
    accept("-ERR[AUTH] no\r\n", P3_LENIENT_STATUS_SPACE,
           (struct want){P3_ST_ERR, P3_RC_AUTH, "AUTH", "no", P3_LENIENT_STATUS_SPACE});
    /* Case first, then space; both leniencies recorded. */
    reject("+okfoo\r\n", P3_LENIENT_STATUS_SPACE, P3_E_STATUS_CASE, 1, 8);
    reject("+okfoo\r\n", P3_LENIENT_STATUS_CASE, P3_E_STATUS_SPACE, 3, 8);
    accept("+okfoo\r\n", P3_LENIENT_STATUS_CASE | P3_LENIENT_STATUS_SPACE,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "foo",
                         P3_LENIENT_STATUS_CASE | P3_LENIENT_STATUS_SPACE});
}
END_TEST

START_TEST(special_octets)
{
    /* NUL: always an error, the skip is the line when its LF is there. */
    reject_n("+OK a\0b\r\n", 9, 0, P3_E_NUL, 5, 9, 0);
    reject_n("+OK a\0b\r\n", 9, ALL_LENIENT, P3_E_NUL, 5, 9, 0);
    reject_n("+OK \0", 5, 0, P3_E_NUL, 4, 0, 0);
    reject_n("\0", 1, 0, P3_E_NUL, 0, 0, 0);

    /* 8-bit (RFC 6856 UTF-8 text is the caller's leniency). */
    reject_now("+OK caf\xc3\xa9\r\n", 0, P3_E_EIGHT_BIT, 7, 11);
    accept("+OK caf\xc3\xa9\r\n", P3_LENIENT_EIGHT_BIT,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "caf\xc3\xa9", P3_LENIENT_EIGHT_BIT});
    accept("+OK \xff\x80\r\n", P3_LENIENT_EIGHT_BIT,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "\xff\x80", P3_LENIENT_EIGHT_BIT});

    /* Controls and DEL. */
    reject_now("+OK a\tb\r\n", 0, P3_E_CTL, 5, 9);
    reject_now("+OK a\x7f\r\n", 0, P3_E_CTL, 5, 8);
    reject_now("+OK \x01", 0, P3_E_CTL, 4, 0);
    reject_now("+OK \x1f\r\n", 0, P3_E_CTL, 4, 7);
    accept("+OK a\tb\x7f\x01\r\n", P3_LENIENT_CTL,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "a\tb\x7f\x01", P3_LENIENT_CTL});
    accept("+OK \t\xc3\xa9\r\n", P3_LENIENT_CTL | P3_LENIENT_EIGHT_BIT,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "\t\xc3\xa9",
                         P3_LENIENT_CTL | P3_LENIENT_EIGHT_BIT});
    /* CTL does not lift 8-bit and the other way round. */
    reject_now("+OK \t\xc3\xa9\r\n", P3_LENIENT_CTL, P3_E_EIGHT_BIT, 5, 9);
    reject_now("+OK \t\xc3\xa9\r\n", P3_LENIENT_EIGHT_BIT, P3_E_CTL, 4, 9);

    /* Bare CR. */
    reject_now("+OK a\rb\r\n", 0, P3_E_BARE_CR, 5, 9);
    reject_now("+OK a\rb", 0, P3_E_BARE_CR, 5, 0);
    accept("+OK a\rb\r\n", P3_LENIENT_BARE_CR,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "a\rb", P3_LENIENT_BARE_CR});
    accept("+OK a\r\r\n", P3_LENIENT_BARE_CR,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "a\r", P3_LENIENT_BARE_CR});

    /* Bare LF: the LF ends the line, so the skip is known. */
    reject_now("+OK a\n", 0, P3_E_BARE_LF, 5, 6);
    reject_now("+OK a\nmore", 0, P3_E_BARE_LF, 5, 6);
    reject_now("\n", 0, P3_E_BARE_LF, 0, 1);
    accept("+OK a\n", P3_LENIENT_BARE_LF,
           (struct want){P3_ST_OK, P3_RC_NONE, NULL, "a", P3_LENIENT_BARE_LF});
    accept("-ERR\n", P3_LENIENT_BARE_LF,
           (struct want){P3_ST_ERR, P3_RC_NONE, NULL, "", P3_LENIENT_BARE_LF});
    /* "\r\n" is never a bare anything. */
    accept("+OK a\r\n", P3_LENIENT_BARE_LF | P3_LENIENT_BARE_CR, OK("a"));

    /* Without diag the verdict is the same. */
    ck_assert_int_eq(p3_status_parse(p3t_guard("+OK \0\r\n", 7), 7, 0, NULL, NULL), P3_ERROR);
}
END_TEST

static char *long_line(size_t total, const char *head, const char *eol)
{
    char *s = malloc(total + 1);
    ck_assert_ptr_nonnull(s);
    size_t hn = strlen(head), en = strlen(eol);
    memcpy(s, head, hn);
    memset(s + hn, 'a', total - hn - en);
    memcpy(s + total - en, eol, en);
    s[total] = 0;
    return s;
}

START_TEST(line_limit)
{
    /* RFC 2449 section 4: "512 octets (including the terminating CRLF)". */
    char *s = long_line(511, "+OK ", "\r\n");
    char *text = strndup(s + 4, 505);
    accept_n(s, 511, 0, (struct want){P3_ST_OK, P3_RC_NONE, NULL, text, 0});
    free(text);
    free(s);

    s = long_line(512, "+OK ", "\r\n");
    text = strndup(s + 4, 506);
    accept_n(s, 512, 0, (struct want){P3_ST_OK, P3_RC_NONE, NULL, text, 0});
    free(text);
    free(s);

    s = long_line(513, "+OK ", "\r\n");
    reject_n(s, 513, 0, P3_E_LINE_TOO_LONG, 512, 0, 0);
    /* Judged as soon as 512 octets without a line end are there. */
    reject_n(s, 512, 0, P3_E_LINE_TOO_LONG, 512, 0, 0); /* ends in the CR */
    /* ... and not one octet earlier. */
    ck_assert_int_eq(parse_guarded(s, 511, 0, NULL, NULL), P3_NEED_MORE);
    text = strndup(s + 4, 507);
    accept_n(s, 513, P3_LENIENT_LONG_LINE,
             (struct want){P3_ST_OK, P3_RC_NONE, NULL, text, P3_LENIENT_LONG_LINE});
    free(text);
    free(s);

    /* A bare LF line end is one octet: 511 octets of line fit. */
    s = long_line(512, "+OK ", "\n");
    text = strndup(s + 4, 507);
    accept_n(s, 512, P3_LENIENT_BARE_LF,
             (struct want){P3_ST_OK, P3_RC_NONE, NULL, text, P3_LENIENT_BARE_LF});
    free(text);
    free(s);
    s = long_line(513, "+OK ", "\n");
    reject_n(s, 513, P3_LENIENT_BARE_LF, P3_E_LINE_TOO_LONG, 512, 0, 0);
    free(s);

    /* A bad octet inside a line whose LF lies past the limit: skip 0. */
    s = long_line(600, "+OK \x01", "\r\n");
    reject_n(s, 600, 0, P3_E_CTL, 4, 0, 0);
    free(s);

    /* LONG_LINE: no limit but the buffer. */
    s = long_line(10000, "-ERR ", "\r\n");
    text = strndup(s + 5, 10000 - 7);
    const char *g = p3t_guard(s, 10000);
    p3_status st;
    ck_assert_int_eq(p3_status_parse(g, 10000, P3_LENIENT_LONG_LINE, &st, NULL), 10000);
    ck_assert(p3t_slice_is(st.text, text));
    ck_assert_uint_eq(st.lenient, P3_LENIENT_LONG_LINE);
    ck_assert_int_eq(p3_status_parse(g, 9999, P3_LENIENT_LONG_LINE, &st, NULL), P3_NEED_MORE);
    free(text);
    free(s);
}
END_TEST

START_TEST(need_more_edges)
{
    ck_assert_int_eq(parse_guarded("", 0, 0, NULL, NULL), P3_NEED_MORE);
    ck_assert_int_eq(parse_guarded("+OK\r", 4, 0, NULL, NULL), P3_NEED_MORE);
    /* Errors that need the whole line wait for it. */
    ck_assert_int_eq(parse_guarded("+ok", 3, 0, NULL, NULL), P3_NEED_MORE);
    ck_assert_int_eq(parse_guarded("*", 1, 0, NULL, NULL), P3_NEED_MORE);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Greeting timestamps (RFC 1939 section 7, RFC 2449 section 3).
 */

static p3_status greet(const char *z, unsigned flags)
{
    p3_status st;
    p3_diag d;
    size_t n = strlen(z);
    /* The copy must outlive this call: p3t_guard2 keeps it. */
    const char *g = p3t_guard2(z, n);
    ssize_t r = p3_status_parse(g, n, flags, &st, &d);
    ck_assert_msg(r == (ssize_t)n, "\"%s\": %zd", z, r);
    return st;
}

static void ts_ok(const char *z, unsigned flags, const char *want)
{
    p3_status st = greet(z, flags);
    p3_slice ts;
    p3_diag d;
    p3t_poison(&d, sizeof d);
    ck_assert_int_eq(p3_greeting_timestamp(&st, &ts, &d), 1);
    ck_assert_msg(p3t_slice_is(ts, want), "\"%s\": ts \"%.*s\"", z, (int)ts.n, ts.p);
    ck_assert(ts.p >= st.line.p && ts.p + ts.n <= st.line.p + st.line.n);
    ck_assert(p3t_is_poison(&d, sizeof d));
}

static void ts_none(const char *z, unsigned flags)
{
    p3_status st = greet(z, flags);
    p3_slice ts;
    p3_diag d;
    p3t_poison(&ts, sizeof ts);
    p3t_poison(&d, sizeof d);
    ck_assert_int_eq(p3_greeting_timestamp(&st, &ts, &d), 0);
    ck_assert(p3t_is_poison(&ts, sizeof ts));
    ck_assert(p3t_is_poison(&d, sizeof d));
}

static void ts_bad(const char *z, unsigned flags, size_t offset)
{
    p3_status st = greet(z, flags);
    p3_slice ts;
    p3_diag d;
    p3t_poison(&ts, sizeof ts);
    ck_assert_int_eq(p3_greeting_timestamp(&st, &ts, &d), P3_ERROR);
    ck_assert_msg(d.code == P3_E_TIMESTAMP && d.offset == offset && d.skip == 0,
                  "\"%s\": %s at %zu, want at %zu", z, p3_errno_name(d.code), d.offset, offset);
    ck_assert(p3t_is_poison(&ts, sizeof ts));
}

START_TEST(timestamps)
{
    /* RFC 1939 sections 7 and 9. */
    ts_ok("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", 0,
          "<1896.697170952@dbc.mtview.ca.us>");
    ts_ok("+OK <1@x>\r\n", 0, "<1@x>");
    ts_ok("+OK <1@x> and text after\r\n", 0, "<1@x>");
    ts_ok("+OK [IN-USE] <1@x>\r\n", 0, "<1@x>");
    /* rchar allows "<": a "<" inside the code is no timestamp. */
    ts_ok("+OK [A<B] ready <1@x>\r\n", 0, "<1@x>");
    ts_none("+OK [A<B] ready\r\n", 0);
    /* Every VCHAR but "<" and ">" may be inside; the last "@" splits. */
    ts_ok("+OK <!#$%&'()*+,-./09:;=?@AZ[\\]^_`az{|}~>\r\n", 0,
          "<!#$%&'()*+,-./09:;=?@AZ[\\]^_`az{|}~>");
    ts_ok("+OK <a@b@c>\r\n", 0, "<a@b@c>");

    ts_none("+OK POP3 server ready\r\n", 0);
    ts_none("+OK\r\n", 0);
    ts_none("-ERR no\r\n", 0);

    /*        0123456789 */
    ts_bad("+OK <abc\r\n", 0, 8);      /* no ">": the line end */
    ts_bad("+OK <\r\n", 0, 5);
    ts_bad("+OK <abc>\r\n", 0, 8);     /* no "@": at the ">" */
    ts_bad("+OK <>\r\n", 0, 5);
    ts_bad("+OK <@x>\r\n", 0, 5);      /* empty local part */
    ts_bad("+OK <x@>\r\n", 0, 7);      /* empty domain */
    ts_bad("+OK <a b@c>\r\n", 0, 6);   /* space */
    ts_bad("+OK <a<b@c>\r\n", 0, 6);   /* nested "<" */
    ts_bad("+OK <a\tb@c>\r\n", P3_LENIENT_CTL, 6);
    ts_bad("+OK <a\x7f@c>\r\n", P3_LENIENT_CTL, 6);
    ts_bad("+OK <a\xc3\xa9@c>\r\n", P3_LENIENT_EIGHT_BIT, 6);

    /* A hand-made p3_status without text: the whole line is searched. */
    const char *line = p3t_guard("+OK <1@x>", 9);
    p3_status st = {.kind = P3_ST_OK, .line = {line, 9}, .text = {NULL, 0}};
    p3_slice ts;
    ck_assert_int_eq(p3_greeting_timestamp(&st, &ts, NULL), 1);
    ck_assert(ts.p == line + 4 && ts.n == 5);
    st.line.n = 8; /* cut before ">" */
    ck_assert_int_eq(p3_greeting_timestamp(&st, &ts, NULL), P3_ERROR);
}
END_TEST

/* ---------------------------------------------------------------------------
 * STAT (RFC 1939 section 5, drop listing).
 */

static void stat_ok(const char *z, unsigned flags, uint32_t count, uint64_t octets)
{
    size_t n = strlen(z);
    p3_slice t = {p3t_guard(z, n), n};
    uint32_t c = 0xdeadbeef;
    uint64_t o = 0xdeadbeef;
    p3_diag d;
    p3t_poison(&d, sizeof d);
    ck_assert_msg(p3_stat_text(t, flags, &c, &o, &d) == 0, "\"%s\": %s at %zu", z,
                  p3_errno_name(d.code), d.offset);
    ck_assert_uint_eq(c, count);
    ck_assert_uint_eq(o, octets);
    ck_assert(p3t_is_poison(&d, sizeof d));
}

static void stat_bad(const char *z, unsigned flags, p3_errno code, size_t offset)
{
    size_t n = strlen(z);
    p3_slice t = {p3t_guard(z, n), n};
    uint32_t c = 7;
    uint64_t o = 9;
    p3_diag d;
    ck_assert_int_eq(p3_stat_text(t, flags, &c, &o, &d), P3_ERROR);
    ck_assert_msg(d.code == code && d.offset == offset && d.skip == 0,
                  "\"%s\": got %s at %zu, want %s at %zu", z, p3_errno_name(d.code), d.offset,
                  p3_errno_name(code), offset);
    ck_assert_uint_eq(c, 7);
    ck_assert_uint_eq(o, 9);
}

START_TEST(stat_text)
{
    /* RFC 1939 section 5 example, through the status parser. */
    p3_status st = greet("+OK 2 320\r\n", 0);
    uint32_t c;
    uint64_t o;
    ck_assert_int_eq(p3_stat_text(st.text, 0, &c, &o, NULL), 0);
    ck_assert_uint_eq(c, 2);
    ck_assert_uint_eq(o, 320);

    stat_ok("2 320", 0, 2, 320);
    stat_ok("0 0", 0, 0, 0);
    stat_ok("2 320 more", 0, 2, 320);
    stat_ok("2 320 ", 0, 2, 320);
    stat_ok("007 0320", 0, 7, 320);
    /* 32-bit count, 64-bit size: N-1, N, N+1. */
    stat_ok("4294967294 18446744073709551614", 0, 4294967294u, 18446744073709551614u);
    stat_ok("4294967295 18446744073709551615", 0, 4294967295u, 18446744073709551615u);
    stat_bad("4294967296 1", 0, P3_E_NUMBER_RANGE, 9);
    stat_bad("1 18446744073709551616", 0, P3_E_NUMBER_RANGE, 21);
    stat_ok("1 4294967296", 0, 1, 4294967296u); /* size is not 32-bit */

    stat_bad("", 0, P3_E_STAT_TEXT, 0);
    stat_bad("2", 0, P3_E_STAT_TEXT, 1);
    stat_bad("2 ", 0, P3_E_STAT_TEXT, 2);
    stat_bad("2  320", 0, P3_E_STAT_TEXT, 2);
    stat_bad(" 2 320", 0, P3_E_STAT_TEXT, 0);
    stat_bad("2 messages (320 octets)", 0, P3_E_NUMBER, 2);
    stat_bad("x 320", 0, P3_E_NUMBER, 0);
    stat_bad("2 3x0", 0, P3_E_NUMBER, 3);
    stat_bad("2\t320", 0, P3_E_NUMBER, 1);
    stat_bad("-2 320", 0, P3_E_NUMBER_SIGN, 0);
    stat_bad("2 +320", 0, P3_E_NUMBER_SIGN, 2);

    /* SPACING (no lenient field here: just accepted). */
    stat_ok("2  320", P3_LENIENT_SPACING, 2, 320);
    stat_ok("  2   320", P3_LENIENT_SPACING, 2, 320);
    stat_bad("   ", P3_LENIENT_SPACING, P3_E_STAT_TEXT, 3);
    stat_bad("2   ", P3_LENIENT_SPACING, P3_E_STAT_TEXT, 4);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("resp");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, rfc1939_examples);
    tcase_add_test(tc, rfc2449_rfc3206_codes);
    tcase_add_test(tc, codes_case_and_hierarchy);
    tcase_add_test(tc, code_text_boundaries);
    tcase_add_test(tc, resp_code_errors);
    tcase_add_test(tc, rfc5034_continuations);
    tcase_add_test(tc, continuation_errors);
    tcase_add_test(tc, status_errors);
    tcase_add_test(tc, status_case);
    tcase_add_test(tc, status_space);
    tcase_add_test(tc, special_octets);
    tcase_add_test(tc, line_limit);
    tcase_add_test(tc, need_more_edges);
    suite_add_tcase(s, tc);
    tc = tcase_create("greeting_stat");
    tcase_add_test(tc, timestamps);
    tcase_add_test(tc, stat_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
