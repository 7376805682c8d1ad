/* The scenario language (harness/sc_*.c): every .scn in the tree parses,
 * every kind of syntax error is reported at the right place with the right
 * words, the pattern matcher and its captures, variable expansion, the
 * runner helpers and the limits. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p3t.h"
#include "sc.h"

/* ---------------------------------------------------------------------------
 * Helpers.
 */

/* Headers of 8 lines: the first step is on line 9. */
#define HDR(role)                                  \
    "id: t\n"                                      \
    "title: a test\n"                              \
    "rfc: 1939\n"                                  \
    "section: 3\n"                                 \
    "level: MUST\n"                                \
    "quote: Responses in the POP3 consist of a\n"  \
    "  status indicator and a keyword.\n"          \
    "role: " role "\n"
#define HS HDR("server")
#define HC HDR("client")

static int parse_str(const char *text, sc_scenario *s, sc_error *e)
{
    size_t n = strlen(text);
    const char *g = p3t_guard(text, n); /* reading past the end faults */
    return sc_parse("x.scn", g, n, s, e);
}

/* The parse fails with exactly "x.scn:line:col: " followed by a message
 * containing `want`. */
static void parse_fails(const char *text, unsigned line, unsigned col, const char *want)
{
    sc_scenario s;
    sc_error e;
    int r = parse_str(text, &s, &e);
    ck_assert_msg(r == -1, "parsed although it should fail with %s", want);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "x.scn:%u:%u: ", line, col);
    ck_assert_msg(strncmp(e.text, prefix, strlen(prefix)) == 0, "got \"%s\", want prefix \"%s\"",
                  e.text, prefix);
    ck_assert_msg(strstr(e.msg, want) != NULL, "got \"%s\", want \"%s\"", e.msg, want);
    ck_assert_uint_eq(e.line, line);
    ck_assert_uint_eq(e.col, col);
    ck_assert_ptr_null(s.steps); /* emptied */
    ck_assert_ptr_null(s.id);
    sc_free(&s);
}

static void parse_ok(const char *text, sc_scenario *s)
{
    sc_error e;
    int r = parse_str(text, s, &e);
    ck_assert_msg(r == 0, "parse failed: %s", e.text);
}

/* A fixed table of variables for the lookup callback. */
typedef struct var {
    const char *name, *value;
    int secret;
} var;

static const var VARS[] = {
    {"user", "mrose", 0},       {"pass", "tanstaaf", 1},  {"msg", "2", 0},
    {"i", "3", 0},              {"list.3.size", "120", 0}, {"empty", "", 0},
    {"star", "a*b", 0},         {"ts", "<1896.697170952@dbc.mtview.ca.us>", 0},
    {NULL, NULL, 0}};

static int lookup(void *ctx, const char *name, size_t n, p3_slice *v, int *secret)
{
    const var *t = ctx ? ctx : VARS;
    for (; t->name; t++)
        if (strlen(t->name) == n && memcmp(t->name, name, n) == 0) {
            v->p = t->value;
            v->n = strlen(t->value);
            *secret = t->secret;
            return 1;
        }
    return 0;
}

static int match(const char *pat, const char *text)
{
    sc_capture caps[SC_MAX_CAPTURES];
    size_t nc;
    sc_error e;
    return sc_match_str(pat, text, strlen(text), 0, lookup, NULL, caps, SC_MAX_CAPTURES, &nc,
                        &e);
}

static int cap_is(const sc_capture *c, const char *name, const char *value)
{
    return c->name_len == strlen(name) && memcmp(c->name, name, c->name_len) == 0 &&
           c->value.n == strlen(value) && memcmp(c->value.p, value, c->value.n) == 0;
}

/* ---------------------------------------------------------------------------
 * Every scenario of the suite.
 */
START_TEST(all_scenarios_parse)
{
    const char *root = getenv("P3S_SOURCE_DIR");
    if (!root)
        root = P3S_SOURCE_DIR;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", root);
    char **paths;
    sc_error e;
    long n = sc_list_dir(dir, &paths, &e);
    ck_assert_msg(n >= 6, "found %ld scenarios under %s (%s)", n, dir, n < 0 ? e.text : "");
    int errors = 0;
    char (*ids)[SC_MAX_NAME + 1] = calloc((size_t)n, sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    for (long i = 0; i < n; i++) {
        sc_scenario s;
        if (sc_parse_file(paths[i], &s, &e) != 0) {
            fprintf(stderr, "%s\n", e.text);
            errors++;
            continue;
        }
        /* The directory says the role: scenarios/server/ tests servers. */
        const char *rel = paths[i] + strlen(dir) + 1;
        if ((strncmp(rel, "server/", 7) == 0 && s.role != SC_ROLE_SERVER) ||
            (strncmp(rel, "client/", 7) == 0 && s.role != SC_ROLE_CLIENT)) {
            fprintf(stderr, "%s: role does not match the directory\n", paths[i]);
            errors++;
        }
        for (long j = 0; j < i; j++)
            if (strcmp(ids[j], s.id) == 0) {
                fprintf(stderr, "%s: id \"%s\" used twice\n", paths[i], s.id);
                errors++;
            }
        snprintf(ids[i], sizeof ids[i], "%s", s.id);
        ck_assert_uint_gt(s.nsteps, 0);
        sc_free(&s);
    }
    free(ids);
    sc_paths_free(paths, (size_t)n);
    ck_assert_int_eq(errors, 0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * The AST of the format's constructs.
 */
START_TEST(ast_server)
{
    sc_scenario s;
    parse_ok("# comment\n"
             "id: stat-list\n"
             "title: STAT and LIST\n"
             "rfc: 1939, 2449\n"
             "section: 5\n"
             "level: SHOULD NOT\n"
             "quote: first\n"
             "\tsecond\n"
             "role: server\n"
             "requires: SASL PLAIN, messages>=2, disposable-mailbox, UIDL\n"
             "tags: slow destructive\n"
             "x-note: ignored\n"
             "\n"
             "S: +OK {ts:ts}\r\n"
             "C: PASS ${pass}   \n"
             "@split 2,1 delay=20ms\n"
             "@raw\n"
             "S: -ERR [AUTH] *\n"
             "@info\n"
             "@timeout 3s\n"
             "S: +OK []\n"
             "C: LIST\n"
             "S: * [SYS/*]\n"
             "S* 1 {size:num}\n"
             "@each rest {n:num} {size:num}\n"
             "@entries >= ${min}\n"
             "@body equals=msg1 as=retr\n"
             "S: .\n"
             "@foreach m in 1..${stat.count}\n"
             "  @foreach k in ${m}..2\n"
             "  @end\n"
             "@end\n"
             "@assert ${a} <= 5\n"
             "@assert undefined ${capa.STLS}\n"
             "@session two\n"
             "@connect\n"
             "@session main\n"
             "@drop\n"
             "@expect-silence 2s\n"
             "@expect-close within 1m\n"
             "@delay 250ms\n"
             "@starttls\n"
             "@close\n"
             "S: +\n",
             &s);
    ck_assert_str_eq(s.id, "stat-list");
    ck_assert_str_eq(s.quote, "first second");
    ck_assert_str_eq(s.section, "5");
    ck_assert_str_eq(s.level_text, "SHOULD NOT");
    ck_assert_int_eq(s.level, SC_LEVEL_SHOULD);
    ck_assert_int_eq(s.role, SC_ROLE_SERVER);
    ck_assert_uint_eq(s.nrfc, 2);
    ck_assert_uint_eq(s.rfc[1], 2449);
    ck_assert_uint_eq(s.nrequires, 4);
    ck_assert_int_eq(s.requires[0].kind, SC_REQ_CAPA);
    ck_assert_str_eq(s.requires[0].name, "SASL PLAIN");
    ck_assert_int_eq(s.requires[1].kind, SC_REQ_PROP);
    ck_assert_str_eq(s.requires[1].name, "messages");
    ck_assert_int_eq(s.requires[1].op, SC_OP_GE);
    ck_assert_uint_eq(s.requires[1].value, 2);
    ck_assert_int_eq(s.requires[2].op, SC_OP_NONE);
    ck_assert_uint_eq(s.requires[1].loc.line, 10);
    ck_assert_uint_eq(s.requires[1].loc.col, 23);
    ck_assert_uint_eq(s.ntags, 2);
    ck_assert_str_eq(s.tags[1], "destructive");

    const sc_step *st = s.steps;
    ck_assert_uint_eq(s.nsteps, 27);
    ck_assert_int_eq(st[0].kind, SC_STEP_STATUS);
    ck_assert_uint_eq(st[0].loc.line, 14);
    ck_assert_int_eq(st[0].want, SC_WANT_OK);
    ck_assert_int_eq(st[0].has_pat, 1);
    ck_assert_int_eq(st[1].kind, SC_STEP_SEND);
    ck_assert_str_eq(st[1].text, "PASS ${pass}"); /* trailing blanks removed */
    ck_assert_uint_eq(st[1].flags, SC_F_SECRET | SC_F_RAW);
    ck_assert_uint_eq(st[1].nsplit, 2);
    ck_assert_uint_eq(st[1].split[0], 2);
    ck_assert_uint_eq(st[1].delay_ms, 20);
    ck_assert_int_eq(st[2].want, SC_WANT_ERR);
    ck_assert_int_eq(st[2].code_want, SC_CODE_MATCH);
    ck_assert_int_eq(st[2].level, SC_LEVEL_MAY);
    ck_assert_uint_eq(st[2].timeout_ms, 3000);
    ck_assert_int_eq(st[3].code_want, SC_CODE_NONE);
    ck_assert_int_eq(st[3].has_pat, 0);
    ck_assert_int_eq(st[5].want, SC_WANT_ANY);
    ck_assert_uint_eq(st[5].flags, SC_F_MULTILINE);
    ck_assert_int_eq(st[5].link, 10);
    ck_assert_int_eq(st[6].kind, SC_STEP_LINE);
    ck_assert_int_eq(st[6].link, 5);
    ck_assert_int_eq(st[7].kind, SC_STEP_EACH);
    ck_assert_str_eq(st[7].name, "rest");
    ck_assert_int_eq(st[8].kind, SC_STEP_ENTRIES);
    ck_assert_str_eq(st[8].rhs, "${min}");
    ck_assert_int_eq(st[9].kind, SC_STEP_BODY);
    ck_assert_str_eq(st[9].fixture, "msg1");
    ck_assert_str_eq(st[9].name, "retr");
    ck_assert_int_eq(st[10].kind, SC_STEP_DOT);
    ck_assert_int_eq(st[10].link, 5);
    ck_assert_int_eq(st[11].kind, SC_STEP_FOREACH);
    ck_assert_str_eq(st[11].lhs, "1");
    ck_assert_str_eq(st[11].rhs, "${stat.count}");
    ck_assert_int_eq(st[11].link, 14);
    ck_assert_int_eq(st[12].link, 13);
    ck_assert_int_eq(st[13].link, 12);
    ck_assert_int_eq(st[14].link, 11);
    ck_assert_int_eq(st[15].op, SC_OP_LE);
    ck_assert_int_eq(st[16].op, SC_OP_UNDEFINED);
    ck_assert_int_eq(st[17].kind, SC_STEP_SESSION);
    ck_assert_int_eq(st[18].session, 1);
    ck_assert_int_eq(st[20].kind, SC_STEP_DROP);
    ck_assert_int_eq(st[20].session, 0);
    ck_assert_uint_eq(st[21].delay_ms, 2000);
    ck_assert_uint_eq(st[22].delay_ms, 60000);
    ck_assert_uint_eq(st[23].delay_ms, 250);
    ck_assert_int_eq(st[24].kind, SC_STEP_STARTTLS);
    ck_assert_int_eq(st[26].kind, SC_STEP_STATUS);
    ck_assert_int_eq(st[26].want, SC_WANT_CONT);
    ck_assert_uint_eq(s.nsessions, 2);
    ck_assert_uint_eq(sc_step_verdict(&s, &st[0]), SC_V_WARN);
    ck_assert_uint_eq(sc_step_verdict(&s, &st[2]), SC_V_INFO);
    sc_free(&s);
    sc_free(&s); /* twice is fine */
}
END_TEST

START_TEST(ast_client)
{
    sc_scenario s;
    parse_ok(HC "mailbox: msg1 Dots\n"
                "action: fetch-keep\n"
                "@tls cert=wrong-host\n"
                "S: +OK hi ${ts}\n"
                "C: (user|APOP) *\n"
                "C: PASS *\n"
                "S* .hidden\n"
                "S: .\n"
                "@fixture msg1 stuff=no end=no lines=3\n"
                "@split bytewise\n"
                "@starttls fails\n"
                "@expect-exit nonzero\n"
                "@expect-exit 3\n"
                "@expect-stored msg1 Dots\n"
                "@expect-stored none\n"
                "@expect-no-command PASS *\n"
                "@expect-quit\n",
             &s);
    ck_assert_int_eq(s.role, SC_ROLE_CLIENT);
    ck_assert_str_eq(s.action, "fetch-keep");
    ck_assert_uint_eq(s.nmailbox, 2);
    ck_assert_str_eq(s.mailbox[1], "Dots");
    const sc_step *st = s.steps;
    ck_assert_uint_eq(s.nsteps, 14);
    ck_assert_int_eq(st[0].kind, SC_STEP_TLS);
    ck_assert_str_eq(st[0].name, "wrong-host");
    ck_assert_int_eq(st[1].kind, SC_STEP_SEND);
    ck_assert_int_eq(st[2].kind, SC_STEP_COMMAND);
    ck_assert_uint_eq(st[2].flags, 0);
    ck_assert_uint_eq(st[3].flags, SC_F_SECRET);
    ck_assert_uint_eq(st[4].flags, SC_F_STUFF);
    ck_assert_int_eq(st[5].kind, SC_STEP_SEND);
    ck_assert_str_eq(st[5].text, ".");
    ck_assert_int_eq(st[6].kind, SC_STEP_FIXTURE);
    ck_assert_uint_eq(st[6].flags, SC_F_NOSTUFF | SC_F_NOEND | SC_F_BYTEWISE);
    ck_assert_uint_eq(st[6].num, 3);
    ck_assert_uint_eq(st[7].flags, SC_F_FAILS);
    ck_assert_int_eq(st[8].op, SC_OP_NE);
    ck_assert_int_eq(st[9].op, SC_OP_EQ);
    ck_assert_uint_eq(st[9].num, 3);
    ck_assert_uint_eq(st[10].nargs, 2);
    ck_assert_uint_eq(st[11].nargs, 0);
    ck_assert_int_eq(st[12].kind, SC_STEP_EXPECT_NO_COMMAND);
    ck_assert_int_eq(st[13].kind, SC_STEP_EXPECT_QUIT);

    /* Command judgement: keyword case-insensitive, arguments exact. */
    sc_capture caps[4];
    size_t nc;
    sc_error e;
    ck_assert_int_eq(sc_expect_command(&st[2], "user mrose\r\n", 12, lookup, NULL, caps, 4, &nc,
                                       &e), 1);
    ck_assert_int_eq(sc_expect_command(&st[2], "Apop x y\r\n", 10, lookup, NULL, caps, 4, &nc,
                                       &e), 1);
    ck_assert_int_eq(sc_expect_command(&st[2], "STAT\r\n", 6, lookup, NULL, caps, 4, &nc, &e), 0);
    sc_free(&s);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Syntax errors: place and words.
 */
START_TEST(errors_header)
{
    parse_fails("", 1, 1, "expected header key \"id:\"");
    parse_fails("id: x\n", 2, 1, "expected header key \"title:\"");
    parse_fails("title: t\nwhat is this\n", 2, 5, "expected a header line \"key: value\"");
    parse_fails("  indented\n", 1, 1, "indented line before any header key");
    parse_fails("id: a\nid: b\n", 2, 1, "header key \"id\" given twice (first at line 1)");
    parse_fails("colour: red\n", 1, 1, "unknown header key \"colour\"");
    parse_fails("id:x\n", 1, 4, "expected a space after \"id:\"");
    parse_fails("id: Bad_Id!\ntitle: t\nrfc: 1939\nsection: 1\nlevel: MUST\nquote: q\n"
                "role: server\nC: X\n",
                1, 5, "expected an id of lower-case letters");
    parse_fails("id: t\ntitle: t\nrfc: 1939\nsection: 1\nlevel: MUST\nquote: q\n"
                "role: observer\nC: X\n",
                7, 7, "expected role \"server\"");
    parse_fails("id: t\ntitle: t\nrfc: 1939\nsection: 1\nlevel: MUSTN'T\nquote: q\n"
                "role: server\nC: X\n",
                5, 8, "expected a level: MUST, MUST NOT, SHOULD, SHOULD NOT or MAY");
    parse_fails("id: t\ntitle: t\nrfc: RFC1939\nsection: 1\nlevel: MUST\nquote: q\n"
                "role: server\nC: X\n",
                3, 6, "expected an RFC number");
    parse_fails(HS "requires: STLS, messages=>2\nC: X\n", 9, 25,
                "expected \",\" or a comparison");
    parse_fails(HS "requires: STLS, Sasl\nC: X\n", 9, 18, "expected a capability in upper case");
    parse_fails(HS "mailbox: m1\nC: X\n", 9, 10, "\"mailbox:\" is only for role: client");
    parse_fails(HS, 9, 1, "expected steps (C:, S:, @directive) after the header");
    parse_fails(HS "title: again\nC: X\n", 9, 1, "header key \"title\" given twice");
}
END_TEST

START_TEST(errors_steps)
{
    parse_fails(HS "S: OK fine\n", 9, 4, "expected a status (+OK, -ERR, * or +) after \"S:\"");
    parse_fails(HS "S:\n", 9, 3, "expected a status (+OK, -ERR, * or +) after \"S:\"");
    parse_fails(HS "C:USER x\n", 9, 3, "expected a space after \"C:\"");
    parse_fails(HS "C: A\nX: what\n", 10, 1, "expected a step: \"C:\", \"S:\", \"S*\"");
    parse_fails(HS "S: +OK [SYS/TEMP text\n", 9, 8, "expected \"]\" to close the response code");
    parse_fails(HS "S: +OK  two spaces\n", 9, 8, "expected one space");
    parse_fails(HS "S: +OK {n:number}\n", 9, 11, "expected a capture type: num, word");
    parse_fails(HS "S: +OK {n}\n", 9, 10, "expected \":\" and a capture type");
    parse_fails(HS "S: +OK {n:num} {n:num}\n", 9, 17, "capture {n} appears twice");
    parse_fails(HS "C: RETR ${msg\n", 9, 14, "expected \"}\" to close \"${\"");
    parse_fails(HS "C: RETR ${m sg}\n", 9, 12, "expected a variable name");
    parse_fails(HS "C: RETR \\q\n", 9, 9, "expected an escape");
    parse_fails(HS "C: RETR \\x4\n", 9, 9, "expected an escape");
    parse_fails(HS "S* 1 200\n", 9, 1, "S* outside a multi-line response");
    parse_fails(HS "S: -ERR *\nS* 1 2\n", 10, 1, "a multi-line response starts with");
    parse_fails(HS "S: +OK\nS* 1 2\nC: QUIT\n", 11, 1,
                "expected \"S: .\" to end the multi-line response started at line 9");
    parse_fails(HS "S: +OK\nS* 1 2\n", 11, 1, "expected \"S: .\" to end the multi-line");
    parse_fails(HS "C: QUIT\nS: .\n", 10, 1, "\"S: .\" outside a multi-line response");
    parse_fails(HS "@foreach i in 1..3\nC: X\n", 11, 1, "expected @end for the @foreach at line 9");
    parse_fails(HS "@end\n", 9, 1, "@end without a @foreach");
    parse_fails(HS "@foreach i of 1..3\n@end\n", 9, 12, "expected \"in\" after the loop variable");
    parse_fails(HS "@foreach i in 1-3\n@end\n", 9, 15, "expected a range FROM..TO");
    parse_fails(HS "@delay soon\n", 9, 8, "expected a duration");
    parse_fails(HS "@delay 11m\n", 9, 8, "expected a duration");
    parse_fails(HS "@frobnicate\n", 9, 1, "unknown directive \"@frobnicate\"");
    parse_fails(HS "@raw\n", 9, 1, "@raw modifies the step on the line before it");
    parse_fails(HS "S: +OK\n@raw\n", 10, 1, "must be a line we send");
    parse_fails(HS "C: X\n@split\n", 10, 1, "expected chunk sizes");
    parse_fails(HS "C: X\n@split 2,,3\n", 10, 10, "expected chunk sizes");
    parse_fails(HS "C: X\n@info\n", 10, 1, "must be an expectation");
    parse_fails(HS "@assert ${a} =~ 3\n", 9, 14, "expected a comparison");
    parse_fails(HS "@assert ${a} == 3 4\n", 9, 19, "expected @assert A OP B");
    parse_fails(HS "@assert defined a\n", 9, 17, "expected a variable ${name}");
    parse_fails(HS "@fixture msg1\n", 9, 1, "@fixture is only for role: client");
    parse_fails(HC "@each x *\n", 9, 1, "@each is only for role: server");
    parse_fails(HC "@tls cert=expired\n", 9, 6, "expected cert=good");
    parse_fails(HC "@expect-exit 256\n", 9, 14, "expected 0, nonzero or an exit status");
    parse_fails(HC "@fixture m lines=x\n", 9, 18, "expected a number after lines=");
    parse_fails(HC "@expect-stored\n", 9, 15, "expected fixture names");
    parse_fails(HS "S: +OK\n@body\nS: .\n", 10, 6, "expected equals=FIXTURE");
    parse_fails(HS "S: +OK\n@entries 2\nS: .\n", 10, 1, "expected a comparison and a number");
    parse_fails(HS "C: a\x01" "b\n", 9, 5, "control character");
    parse_fails(HS "C: a\rb\n", 9, 5, "CR not followed by LF");
    parse_fails(HS "@session Main\n", 9, 10, "expected a session name");
    parse_fails(HS "@expect-close in 2s\n", 9, 15, "expected nothing or \"within T\"");
    parse_fails(HS "@starttls now\n", 9, 11, "expected nothing, \"fails\" or \"or-close\"");
}
END_TEST

START_TEST(nul_in_file)
{
    static const char text[] = HS "C: a\0b\n";
    sc_scenario s;
    sc_error e;
    size_t n = sizeof text - 1;
    ck_assert_int_eq(sc_parse("x.scn", p3t_guard(text, n), n, &s, &e), -1);
    ck_assert_str_eq(e.text, "x.scn:9:5: NUL octet in a scenario file");
}
END_TEST

/* ---------------------------------------------------------------------------
 * Matcher.
 */
START_TEST(match_basics)
{
    ck_assert_int_eq(match("", ""), 1);
    ck_assert_int_eq(match("", "x"), 0);
    ck_assert_int_eq(match("*", ""), 1);
    ck_assert_int_eq(match("*", "anything at all"), 1);
    ck_assert_int_eq(match("abc", "abc"), 1);
    ck_assert_int_eq(match("abc", "abcd"), 0); /* whole text */
    ck_assert_int_eq(match("abc", "ABC"), 0);  /* case matters by default */
    ck_assert_int_eq(match("a?c", "abc"), 1);
    ck_assert_int_eq(match("a?c", "ac"), 0);
    ck_assert_int_eq(match("a*c", "ac"), 1);
    ck_assert_int_eq(match("a*c", "abbbbc"), 1);
    ck_assert_int_eq(match("a*c", "abbbbcd"), 0);
    ck_assert_int_eq(match("*a*a*a*b", "aaaaaaaaaaaaaaaaaaab"), 1);
    ck_assert_int_eq(match("a\\*c", "a*c"), 1);
    ck_assert_int_eq(match("a\\*c", "abc"), 0);
    ck_assert_int_eq(match("\\{x\\}", "{x}"), 1);
    ck_assert_int_eq(match("tab\\there", "tab\there"), 1);
    ck_assert_int_eq(match("x\\sy", "x y"), 1);
    ck_assert_int_eq(match("(RETR|TOP) 1 *", "RETR 1 x"), 1);
    ck_assert_int_eq(match("(RETR|TOP) 1*", "TOP 1 10"), 1);
    ck_assert_int_eq(match("(RETR|TOP) 1 *", "DELE 1 x"), 0);
    ck_assert_int_eq(match("ab(|c)", "ab"), 1);  /* empty alternative */
    ck_assert_int_eq(match("ab(|c)", "abc"), 1);
    ck_assert_int_eq(match("2 messages (320 octets)", "2 messages (320 octets)"), 1);
    ck_assert_int_eq(match("(a\\|b|c)", "a|b"), 1);
    ck_assert_int_eq(match("[IN-USE] x", "[IN-USE] x"), 1);
    /* Case folding on request. */
    sc_error e;
    ck_assert_int_eq(sc_match_str("user (ME|you)", "USER me", 7, SC_M_NOCASE, NULL, NULL, NULL, 0,
                                  NULL, &e), 1);
    ck_assert_int_eq(sc_match_str("USER me", "user me", 7, SC_M_KEYWORD_NOCASE, NULL, NULL, NULL,
                                  0, NULL, &e), 1);
    ck_assert_int_eq(sc_match_str("USER me", "user ME", 7, SC_M_KEYWORD_NOCASE, NULL, NULL, NULL,
                                  0, NULL, &e), 0);
    /* Binary text: NUL and 8-bit octets are ordinary octets. */
    ck_assert_int_eq(sc_match_str("a\\x00b*", "a\0b\xff", 4, 0, NULL, NULL, NULL, 0, NULL, &e), 1);
    ck_assert_int_eq(sc_match_str("a?b", "a\0b", 3, 0, NULL, NULL, NULL, 0, NULL, &e), 1);
}
END_TEST

START_TEST(match_captures)
{
    sc_capture c[SC_MAX_CAPTURES];
    size_t nc;
    sc_error e;
    const char *t = "2 320";
    ck_assert_int_eq(sc_match_str("{count:num} {size:num}", t, strlen(t), 0, NULL, NULL, c,
                                  SC_MAX_CAPTURES, &nc, &e), 1);
    ck_assert_uint_eq(nc, 2);
    ck_assert(cap_is(&c[0], "count", "2"));
    ck_assert(cap_is(&c[1], "size", "320"));
    /* num is longest-first but gives digits back when the rest needs them */
    t = "12345";
    ck_assert_int_eq(sc_match_str("{a:num}45", t, 5, 0, NULL, NULL, c, 4, &nc, &e), 1);
    ck_assert(cap_is(&c[0], "a", "123"));
    ck_assert_int_eq(match("{a:num}", ""), 0);
    ck_assert_int_eq(match("{a:num}", "12a"), 0);
    ck_assert_int_eq(match("{a:num}", "18446744073709551615"), 1);
    ck_assert_int_eq(match("{a:num}", "18446744073709551616"), 0); /* > 64 bits */
    /* word, text */
    t = "POP3 server ready";
    ck_assert_int_eq(sc_match_str("{w:word} {rest:text}", t, strlen(t), 0, NULL, NULL, c, 4, &nc,
                                  &e), 1);
    ck_assert(cap_is(&c[0], "w", "POP3"));
    ck_assert(cap_is(&c[1], "rest", "server ready"));
    ck_assert_int_eq(match("{w:word}", ""), 0);
    ck_assert_int_eq(match("{w:word}", "a b"), 0);
    ck_assert_int_eq(match("x{t:text}", "x"), 1);
    /* APOP timestamp anywhere in a greeting */
    t = "POP3 server ready <1896.697170952@dbc.mtview.ca.us> now";
    ck_assert_int_eq(sc_match_str("*{ts:ts}*", t, strlen(t), 0, NULL, NULL, c, 4, &nc, &e), 1);
    ck_assert(cap_is(&c[0], "ts", "<1896.697170952@dbc.mtview.ca.us>"));
    ck_assert_int_eq(match("*{ts:ts}*", "ready <no-at-sign>"), 0);
    ck_assert_int_eq(match("*{ts:ts}*", "ready <>"), 0);
    /* uid: 1-70 octets 0x21-0x7E */
    ck_assert_int_eq(match("1 {u:uid}", "1 whqtswO00WBw418f9t5JxYwZ"), 1);
    ck_assert_int_eq(match("1 {u:uid}", "1 "), 0);
    char longuid[80];
    memset(longuid, 'u', sizeof longuid);
    longuid[0] = '1';
    longuid[1] = ' ';
    ck_assert_int_eq(sc_match_str("1 {u:uid}", longuid, 2 + 70, 0, NULL, NULL, c, 4, &nc, &e), 1);
    ck_assert_int_eq(sc_match_str("1 {u:uid}", longuid, 2 + 71, 0, NULL, NULL, c, 4, &nc, &e), 0);
    /* b64 must be valid base64 as a whole */
    ck_assert_int_eq(match("+ {c:b64}", "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+"), 1);
    ck_assert_int_eq(match("{c:b64}", "abc"), 0);
    ck_assert_int_eq(match("{c:b64}", ""), 1);
    /* anonymous captures match but are not reported */
    t = "7 99";
    ck_assert_int_eq(sc_match_str("{:num} {s:num}", t, 4, 0, NULL, NULL, c, 4, &nc, &e), 1);
    ck_assert_uint_eq(nc, 1);
    ck_assert(cap_is(&c[0], "s", "99"));
    /* too few capture slots is an error, not a silent truncation */
    ck_assert_int_eq(sc_match_str("{a:num} {b:num}", "1 2", 3, 0, NULL, NULL, c, 1, &nc, &e), -1);
    /* no captures reported on failure */
    ck_assert_int_eq(sc_match_str("{a:num} x", "1 y", 3, 0, NULL, NULL, c, 4, &nc, &e), 0);
    ck_assert_uint_eq(nc, 0);
}
END_TEST

START_TEST(match_variables)
{
    ck_assert_int_eq(match("USER ${user}", "USER mrose"), 1);
    ck_assert_int_eq(match("USER ${user}", "USER mrosE"), 0);
    ck_assert_int_eq(match("${i} {s:num}", "3 120"), 1);
    ck_assert_int_eq(match("${list.${i}.size}", "120"), 1); /* nested name */
    ck_assert_int_eq(match("x${empty}y", "xy"), 1);
    ck_assert_int_eq(match("${star}", "a*b"), 1); /* values are literal */
    ck_assert_int_eq(match("${star}", "axb"), 0);
    sc_error e;
    ck_assert_int_eq(sc_match_str("${nope}", "x", 1, 0, lookup, NULL, NULL, 0, NULL, &e), -1);
    ck_assert_str_eq(e.msg, "undefined variable ${nope}");
    ck_assert_int_eq(sc_match_str("${user}", "x", 1, 0, NULL, NULL, NULL, 0, NULL, &e), -1);
}
END_TEST

START_TEST(match_budget)
{
    /* Exponential backtracking is cut off as an error, not a hang. */
    char text[2001];
    memset(text, 'a', 2000);
    text[2000] = 0;
    sc_error e;
    int r = sc_match_str("*a*a*a*a*a*a*a*a*a*a*b", text, 2000, 0, NULL, NULL, NULL, 0, NULL, &e);
    ck_assert_int_eq(r, -1);
    ck_assert(strstr(e.msg, "too complex") != NULL);
}
END_TEST

START_TEST(pattern_compile_errors)
{
    sc_pattern p;
    sc_error e;
    ck_assert_int_eq(sc_pattern_compile("ab{", 3, &p, &e), -1);
    ck_assert_uint_eq(e.col, 4);
    ck_assert_int_eq(sc_pattern_compile("(a|b*)", 6, &p, &e), -1);
    ck_assert(strstr(e.msg, "alternatives are literal") != NULL);
    ck_assert_int_eq(sc_pattern_compile("x\\", 2, &p, &e), -1);
    ck_assert_uint_eq(e.col, 2);
    /* the 17th named capture is one too many */
    char big[512];
    size_t bl = 0;
    for (int i = 0; i < 17; i++)
        bl += (size_t)snprintf(big + bl, sizeof big - bl, "{c%d:num} ", i);
    ck_assert_int_eq(sc_pattern_compile(big, strlen(big), &p, &e), -1);
    ck_assert(strstr(e.msg, "more than 16 captures") != NULL);
    /* more than SC_MAX_PTOKENS parts */
    char many[256];
    memset(many, '?', 200);
    for (int i = 0; i < 200; i += 2)
        many[i] = 'x';
    ck_assert_int_eq(sc_pattern_compile(many, 200, &p, &e), -1);
    ck_assert(strstr(e.msg, "more than 64 parts") != NULL);
    ck_assert_int_eq(sc_pattern_compile("** ok", 5, &p, &e), 0);
    ck_assert_uint_eq(p.ntok, 2); /* ** is one * */
    sc_pattern_free(&p);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Templates.
 */
START_TEST(expand)
{
    char out[64];
    size_t n;
    unsigned xf;
    sc_error e;
    const char *t = "USER ${user}";
    ck_assert_int_eq(sc_expand(t, strlen(t), lookup, NULL, out, sizeof out, &n, &xf, &e), 0);
    ck_assert_uint_eq(n, 10);
    ck_assert(memcmp(out, "USER mrose", 10) == 0);
    ck_assert_uint_eq(xf, 0);
    t = "PASS ${pass}";
    ck_assert_int_eq(sc_expand(t, strlen(t), lookup, NULL, out, sizeof out, &n, &xf, &e), 0);
    ck_assert_uint_eq(xf, SC_X_SECRET);
    t = "a\\r\\n\\x00\\t\\\\\\$\\s$x${list.${i}.size}";
    ck_assert_int_eq(sc_expand(t, strlen(t), lookup, NULL, out, sizeof out, &n, &xf, &e), 0);
    ck_assert_uint_eq(n, 13);
    ck_assert(memcmp(out, "a\r\n\0\t\\$ $x120", 13) == 0);
    /* errors */
    t = "x ${missing}";
    ck_assert_int_eq(sc_expand(t, strlen(t), lookup, NULL, out, sizeof out, &n, &xf, &e), -1);
    ck_assert_str_eq(e.msg, "undefined variable ${missing}");
    ck_assert_uint_eq(e.col, 3);
    t = "${user}${user}";
    ck_assert_int_eq(sc_expand(t, strlen(t), lookup, NULL, out, 9, &n, &xf, &e), -1);
    ck_assert(strstr(e.msg, "expansion longer than 9") != NULL);
    t = "${a${b${c${d${e}}}}}";
    ck_assert_int_eq(sc_template_check(t, strlen(t), &e), -1);
    ck_assert(strstr(e.msg, "nested deeper than 4") != NULL);
    t = "${a${b${c}}}";
    ck_assert_int_eq(sc_template_check(t, strlen(t), &e), 0);
    ck_assert_int_eq(sc_template_check("${}", 3, &e), -1);
    ck_assert_uint_eq(e.col, 3);
    ck_assert_int_eq(sc_template_check("$ and $x are literal", 20, &e), 0);
    /* an empty template expands to nothing */
    ck_assert_int_eq(sc_expand("", 0, NULL, NULL, out, sizeof out, &n, &xf, &e), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Runner helpers.
 */
START_TEST(expect_status)
{
    sc_scenario s;
    parse_ok(HS "S: +OK {count:num} {size:num}\n"
                "S: -ERR [IN-USE] *\n"
                "S: * []\n"
                "S: +OK [sys/*]\n"
                "S: +\n",
             &s);
    sc_capture c[4];
    size_t nc;
    p3_status ps;
    p3_diag dg;
    sc_error e;
    const sc_step *st = s.steps;
#define ST(i, line) \
    sc_expect_status(&st[i], line, strlen(line), 0, lookup, NULL, c, 4, &nc, &ps, &dg, &e)
    ck_assert_int_eq(ST(0, "+OK 2 320\r\n"), SC_SR_MATCH);
    ck_assert_uint_eq(nc, 2);
    ck_assert(cap_is(&c[1], "size", "320"));
    ck_assert_int_eq(ST(0, "+OK two 320\r\n"), SC_SR_TEXT);
    ck_assert_int_eq(ST(0, "-ERR 2 320\r\n"), SC_SR_STATUS);
    ck_assert_int_eq(ST(0, "+ok 2 320\r\n"), SC_SR_MALFORMED); /* strict pop3parse */
    ck_assert_int_eq(dg.code, P3_E_STATUS_CASE);
    ck_assert_int_eq(ST(0, "+OK 2 320\n"), SC_SR_MALFORMED);
    ck_assert_int_eq(ST(0, "+OK 2 320"), SC_SR_MALFORMED); /* no line end */
    ck_assert_int_eq(ST(1, "-ERR [IN-USE] locked\r\n"), SC_SR_MATCH);
    ck_assert_int_eq(ST(1, "-ERR locked\r\n"), SC_SR_CODE);
    ck_assert_int_eq(ST(1, "-ERR [SYS/TEMP] locked\r\n"), SC_SR_CODE);
    ck_assert_int_eq(ST(2, "-ERR no\r\n"), SC_SR_MATCH);
    ck_assert_int_eq(ST(2, "+OK fine\r\n"), SC_SR_MATCH);
    ck_assert_int_eq(ST(2, "+OK [AUTH] fine\r\n"), SC_SR_CODE);
    ck_assert_int_eq(ST(3, "+OK [SYS/TEMP] x\r\n"), SC_SR_MATCH); /* codes ignore case */
    ck_assert_int_eq(ST(3, "+OK [AUTH] x\r\n"), SC_SR_CODE);
    ck_assert_int_eq(ST(4, "+ PDE4OQ==\r\n"), SC_SR_MATCH);
    ck_assert_int_eq(ST(4, "+OK x\r\n"), SC_SR_STATUS);
#undef ST
    sc_free(&s);
}
END_TEST

START_TEST(verdicts_and_compare)
{
    sc_scenario s;
    parse_ok(HDR("server") "S: +OK\n@should\nS: +OK\n@info\nS: +OK\n@must\nS: +OK\n", &s);
    ck_assert_int_eq(sc_step_verdict(&s, &s.steps[0]), SC_V_WARN);
    ck_assert_int_eq(sc_step_verdict(&s, &s.steps[1]), SC_V_INFO);
    ck_assert_int_eq(sc_step_verdict(&s, &s.steps[2]), SC_V_FAIL);
    ck_assert_int_eq(sc_step_verdict(&s, &s.steps[3]), SC_V_FAIL); /* level: MUST */
    s.level = SC_LEVEL_MAY;
    ck_assert_int_eq(sc_step_verdict(&s, &s.steps[3]), SC_V_INFO);
    ck_assert_str_eq(sc_verdict_name(SC_V_SKIP), "SKIP");
    sc_free(&s);

    p3_slice a = {"10", 2}, b = {"9", 1}, x = {"abc", 3}, y = {"abc", 3}, z = {"010", 3};
    ck_assert_int_eq(sc_compare(a, SC_OP_GT, b), 1); /* numeric, not 1 < 9 */
    ck_assert_int_eq(sc_compare(a, SC_OP_LE, b), 0);
    ck_assert_int_eq(sc_compare(a, SC_OP_EQ, z), 1); /* 010 == 10 */
    ck_assert_int_eq(sc_compare(x, SC_OP_EQ, y), 1);
    ck_assert_int_eq(sc_compare(x, SC_OP_NE, a), 1);
    ck_assert_int_eq(sc_compare(x, SC_OP_LT, y), -1);
    uint32_t ms;
    ck_assert_int_eq(sc_duration("250ms", 5, &ms), 0);
    ck_assert_uint_eq(ms, 250);
    ck_assert_int_eq(sc_duration("2s", 2, &ms), 0);
    ck_assert_uint_eq(ms, 2000);
    ck_assert_int_eq(sc_duration("10m", 3, &ms), 0);
    ck_assert_int_eq(sc_duration("11m", 3, &ms), -1);
    ck_assert_int_eq(sc_duration("5", 1, &ms), -1);
    ck_assert_int_eq(sc_duration("ms", 2, &ms), -1);
    ck_assert_int_eq(sc_duration("99999999999999999999s", 21, &ms), -1);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Limits.
 */
START_TEST(limits)
{
    sc_scenario s;
    sc_error e;
    /* file size */
    size_t big = SC_MAX_FILE + 1;
    char *buf = malloc(big);
    ck_assert_ptr_nonnull(buf);
    memset(buf, '#', big);
    ck_assert_int_eq(sc_parse("x.scn", buf, big, &s, &e), -1);
    ck_assert_uint_eq(e.line, 0);
    ck_assert_str_eq(e.text, "x.scn: file larger than 1048576 octets");
    /* line length */
    size_t hl = strlen(HS);
    memcpy(buf, HS, hl);
    memcpy(buf + hl, "C: ", 3);
    memset(buf + hl + 3, 'x', SC_MAX_LINE);
    buf[hl + 3 + SC_MAX_LINE] = '\n';
    ck_assert_int_eq(sc_parse("x.scn", buf, hl + 4 + SC_MAX_LINE, &s, &e), -1);
    ck_assert_str_eq(e.text, "x.scn:9:4097: line longer than 4096 octets");
    /* steps */
    size_t n = hl;
    for (unsigned i = 0; i <= SC_MAX_STEPS; i++) {
        memcpy(buf + n, "C: NOOP\n", 8);
        n += 8;
    }
    ck_assert_int_eq(sc_parse("x.scn", buf, n - 8, &s, &e), 0); /* exactly the limit */
    ck_assert_uint_eq(s.nsteps, SC_MAX_STEPS);
    sc_free(&s);
    ck_assert_int_eq(sc_parse("x.scn", buf, n, &s, &e), -1);
    ck_assert_uint_eq(e.line, 9 + SC_MAX_STEPS);
    ck_assert(strstr(e.msg, "more than 4096 steps") != NULL);
    /* nesting */
    n = hl;
    for (unsigned i = 0; i <= SC_MAX_NESTING; i++) {
        memcpy(buf + n, "@foreach i in 1..2\n", 19);
        n += 19;
    }
    ck_assert_int_eq(sc_parse("x.scn", buf, n, &s, &e), -1);
    ck_assert_uint_eq(e.line, 9 + SC_MAX_NESTING);
    ck_assert(strstr(e.msg, "nested deeper than 8") != NULL);
    free(buf);
    /* sessions */
    parse_fails(HS "@session a\n@session b\n@session c\n@session d\n@session e\n@session f\n"
                   "@session g\n@session h\n",
                16, 10, "more than 8 sessions");
}
END_TEST

START_TEST(crlf_and_no_final_newline)
{
    sc_scenario s;
    parse_ok("id: t\r\ntitle: t\r\nrfc: 1939\r\nsection: 1\r\nlevel: MAY\r\nquote: q\r\n"
             "role: client\r\nS: +OK x\\r\\n",
             &s);
    ck_assert_uint_eq(s.nsteps, 1);
    ck_assert_str_eq(s.steps[0].text, "+OK x\\r\\n");
    ck_assert_uint_eq(s.steps[0].loc.line, 8);
    sc_free(&s);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, all_scenarios_parse);
    tcase_add_test(tc, ast_server);
    tcase_add_test(tc, ast_client);
    tcase_add_test(tc, crlf_and_no_final_newline);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_header);
    tcase_add_test(tc, errors_steps);
    tcase_add_test(tc, nul_in_file);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("match");
    tcase_add_test(tc, match_basics);
    tcase_add_test(tc, match_captures);
    tcase_add_test(tc, match_variables);
    tcase_add_test(tc, match_budget);
    tcase_add_test(tc, pattern_compile_errors);
    tcase_add_test(tc, expand);
    tcase_add_test(tc, expect_status);
    tcase_add_test(tc, verdicts_and_compare);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
