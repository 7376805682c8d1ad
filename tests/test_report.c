/* Reports: redaction of secrets in every output, and the three writers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p3t.h"
#include "rp.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    return p;
}

/* A run whose transcript holds every kind of secret. */
/* The terminal summary (no colour) as a string. */
static void summary_text(const rp_run *r, char *buf, size_t cap)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    rp_print_summary(r, f, 0);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

static void secret_run(rp_run *r)
{
    rp_run_init(r, "server", "127.0.0.1:110", "none");
    ck_assert_int_eq(rp_run_secret(r, "hunter2pass"), 0);
    rp_case *c = rp_run_add(r);
    rp_set(&c->id, "rfc1939-pass-ok");
    rp_set(&c->title, "PASS <after> USER & \"quotes\"");
    rp_set(&c->rfc, "1939");
    rp_set(&c->section, "7");
    rp_set(&c->level, "MUST");
    rp_set(&c->quote, "may only be given in the AUTHORIZATION state");
    const char *lines[][2] = {
        {"S", "+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n"},
        {"C", "USER alice\r\n"},
        {"C", "PASS hunter2pass\r\n"},
        {"S", "-ERR wrong password hunter2pass\r\n"},
        {"C", "APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n"},
        {"C", "AUTH PLAIN AGFsaWNlAGh1bnRlcjJwYXNz\r\n"},
        {"S", "-ERR no\r\n"},
        {"C", "AUTH LOGIN\r\n"},
        {"S", "+ VXNlcm5hbWU6\r\n"},
        {"C", "YWxpY2U=\r\n"},
        {"S", "+ UGFzc3dvcmQ6\r\n"},
        {"C", "aHVudGVyMnBhc3M=\r\n"},
        {"S", "+OK logged in\r\n"},
        {"C", "STAT\r\nPASS pipelined-secret\r\n"},
        {"S", "+OK 2 320\r\n"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        rp_case_add_io(r, c, lines[i][0][0], 1, (double)i, lines[i][1], strlen(lines[i][1]));
    rp_case_verdict(r, c, RP_FAIL, 12, "server echoed hunter2pass", "+OK", "-ERR hunter2pass");
}

START_TEST(redaction_in_transcript)
{
    rp_run r;
    secret_run(&r);
    rp_case *c = &r.cases[0];
    ck_assert_uint_eq(c->nio, 16); /* the pipelined write is two lines */
    ck_assert_str_eq(c->io[2].text, "PASS <redacted>");
    ck_assert_str_eq(c->io[3].text, "-ERR wrong password <redacted>");
    ck_assert_str_eq(c->io[4].text, "APOP alice <redacted>");
    ck_assert_str_eq(c->io[5].text, "AUTH PLAIN <redacted>");
    ck_assert_str_eq(c->io[7].text, "AUTH LOGIN");
    ck_assert_str_eq(c->io[8].text, "+ <redacted>");
    ck_assert_str_eq(c->io[9].text, "<redacted>");
    ck_assert_str_eq(c->io[11].text, "<redacted>");
    ck_assert_str_eq(c->io[12].text, "+OK logged in");
    ck_assert_str_eq(c->io[13].text, "STAT");
    ck_assert_str_eq(c->io[14].text, "PASS <redacted>");
    ck_assert_str_eq(c->io[1].text, "USER alice");
    ck_assert_int_eq(c->io[1].redacted, 0);
    ck_assert_int_eq(c->io[2].redacted, 1);
    ck_assert_str_eq(c->reason, "server echoed <redacted>");
    ck_assert_str_eq(c->got, "-ERR <redacted>");
    rp_run_free(&r);
}
END_TEST

START_TEST(no_secret_in_any_report)
{
    rp_run r;
    secret_run(&r);
    char dir[] = "/tmp/p3s-rpXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char err[256];
    ck_assert_int_eq(rp_write_all(&r, dir, err, sizeof err), 0);
    const char *names[] = {"junit.xml", "report.json", "report.html"};
    const char *secrets[] = {"hunter2pass", "aHVudGVyMnBhc3M", "c4c9334bac560ecc979e58001b3e22fb",
                             "AGFsaWNlAGh1bnRlcjJwYXNz", "pipelined-secret", "VXNlcm5hbWU6"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *text = slurp(path);
        for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
            ck_assert_msg(strstr(text, secrets[k]) == NULL, "%s leaks %s", names[i], secrets[k]);
        ck_assert_ptr_nonnull(strstr(text, "rfc1939-pass-ok"));
        free(text);
        unlink(path);
    }
    char buf[8192];
    summary_text(&r, buf, sizeof buf);
    ck_assert_ptr_null(strstr(buf, "hunter2pass"));
    ck_assert_ptr_nonnull(strstr(buf, "FAIL  rfc1939-pass-ok"));
    rmdir(dir);
    rp_run_free(&r);
}
END_TEST

START_TEST(writers_escape_and_count)
{
    rp_run r;
    rp_run_init(&r, "server", "t<1>", "stls");
    r.insecure = 1;
    rp_verdict vs[] = {RP_PASS, RP_FAIL, RP_WARN, RP_INFO, RP_SKIP, RP_ERROR, RP_PASS};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        rp_case *c = rp_run_add(&r);
        char id[32];
        snprintf(id, sizeof id, "case-%zu", i);
        rp_set(&c->id, id);
        rp_set(&c->rfc, i < 4 ? "1939" : "2449");
        rp_set(&c->section, i < 4 ? "5" : "8");
        rp_set(&c->level, i % 2 ? "SHOULD" : "MUST");
        rp_case_add_io(&r, c, 'S', 1, 0, "+OK \x01\xff<&>\r\n", 11);
        rp_case_verdict(&r, c, vs[i], 3, "why \"q\" <b>", NULL, NULL);
    }
    size_t counts[RP__COUNT];
    rp_run_counts(&r, counts);
    ck_assert_uint_eq(counts[RP_PASS], 2);
    ck_assert_uint_eq(counts[RP_ERROR], 1);
    ck_assert_str_eq(r.cases[0].io[0].text, "+OK \\x01\\xff<&>");
    char dir[] = "/tmp/p3s-rpXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char err[256], path[512];
    ck_assert_int_eq(rp_write_all(&r, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    char *x = slurp(path);
    ck_assert_ptr_nonnull(strstr(x, "<testsuites name=\"pop3spec\" tests=\"7\" failures=\"1\" errors=\"1\" skipped=\"1\""));
    ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"RFC 1939 section 5\" tests=\"4\""));
    ck_assert_ptr_nonnull(strstr(x, "why &quot;q&quot; &lt;b&gt;"));
    ck_assert_ptr_null(strstr(x, "<b>"));
    free(x);
    unlink(path);
    snprintf(path, sizeof path, "%s/report.json", dir);
    char *j = slurp(path);
    ck_assert_ptr_nonnull(strstr(j, "\"tls_verification\":false"));
    ck_assert_ptr_nonnull(strstr(j, "\"counts\":{\"PASS\":2,\"FAIL\":1,\"WARN\":1,\"INFO\":1,\"SKIP\":1,\"ERROR\":1}"));
    ck_assert_ptr_nonnull(strstr(j, "\"text\":\"+OK \\\\x01\\\\xff<&>\""));
    free(j);
    unlink(path);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *h = slurp(path);
    ck_assert_ptr_nonnull(strstr(h, "verification was turned OFF"));
    ck_assert_ptr_nonnull(strstr(h, "t&lt;1&gt;"));
    free(h);
    unlink(path);
    rmdir(dir);
    ck_assert_int_eq(rp_write_all(&r, "/proc/definitely/not/here", err, sizeof err), -1);
    /* mkdir -p stops at the first folder it cannot create, and names it. */
    ck_assert_ptr_nonnull(strstr(err, "/proc/definitely: "));
    rp_run_free(&r);
}
END_TEST

START_TEST(transcript_bounds)
{
    rp_run r;
    rp_run_init(&r, "server", "x", NULL);
    ck_assert_int_eq(rp_run_secret(&r, "ab"), -1);
    rp_case *c = rp_run_add(&r);
    char big[5000];
    memset(big, 'A', sizeof big);
    rp_case_add_io(&r, c, 'S', 1, 0, big, sizeof big);
    ck_assert(strlen(c->io[0].text) < RP_MAX_IO_TEXT + 40);
    ck_assert_ptr_nonnull(strstr(c->io[0].text, "more octets)"));
    for (int i = 0; i < RP_MAX_IO + 10; i++)
        rp_case_add_io(&r, c, 'S', 1, 0, "x\r\n", 3);
    ck_assert_uint_eq(c->nio, RP_MAX_IO);
    ck_assert_int_eq(c->truncated, 1);
    rp_run_free(&r);
}
END_TEST

/* The summary (and the JUnit suites, the HTML sections) list the groups
 * by RFC and section in natural order, not in the order cases ran. */
START_TEST(groups_in_natural_order)
{
    rp_run r;
    rp_run_init(&r, "server", "x", NULL);
    static const char *const in[][2] = {
        {"5034", "4"},   {"1939", "13"},  {"1939", "5, 11"}, {"2449", "8.1.2"}, {"1939", "7"},
        {"2449", "8"},   {"1939", "3"},   {"1939", "5"},     {"2449, 3206", "8"}, {"1939", "13"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        rp_case *c = rp_run_add(&r);
        rp_set(&c->id, "id");
        rp_set(&c->rfc, in[i][0]);
        rp_set(&c->section, in[i][1]);
        rp_case_verdict(&r, c, RP_PASS, 0, "ok", NULL, NULL);
    }
    char buf[8192];
    summary_text(&r, buf, sizeof buf);
    static const char *const want[] = {
        "RFC 1939 section 3 ",    "RFC 1939 section 5 ",     "RFC 1939 section 5, 11 ",
        "RFC 1939 section 7 ",    "RFC 1939 section 13 ",    "RFC 2449 section 8 ",
        "RFC 2449 section 8.1.2", "RFC 2449, 3206 section 8", "RFC 5034 section 4",
    };
    const char *at = buf;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        ck_assert_msg(hit != NULL, "\"%s\" missing or out of order in:\n%s", want[i], buf);
        at = hit + strlen(want[i]);
    }
    /* the two RFC 1939 section 13 cases are one group */
    const char *g13 = strstr(buf, "RFC 1939 section 13 ");
    ck_assert_ptr_nonnull(g13);
    ck_assert_int_eq(strtol(g13 + 28, NULL, 10), 2);
    rp_run_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report");
    TCase *t = tcase_create("report");
    tcase_add_test(t, redaction_in_transcript);
    tcase_add_test(t, no_secret_in_any_report);
    tcase_add_test(t, writers_escape_and_count);
    tcase_add_test(t, transcript_bounds);
    tcase_add_test(t, groups_in_natural_order);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return p3t_run(suite()); }
