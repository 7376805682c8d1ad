/* pop3spec client: a client under test that hangs, floods or exits early
 * gets a verdict in bounded time and leaves no process behind; the store
 * reader and the profile parser do what profiles/clients/README.md says. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl.h"
#include "nt.h"
#include "p3t.h"

static char g_root[256];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void setup(void)
{
    snprintf(g_root, sizeof g_root, "/tmp/p3s-test-client.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_root));
}

static void teardown(void)
{
    nftw(g_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char SCEN[] = "id: fake\n"
                           "title: t\n"
                           "rfc: 1939\n"
                           "section: 3\n"
                           "level: MUST\n"
                           "quote: q\n"
                           "role: client\n"
                           "mailbox: m1\n"
                           "\n"
                           "S: +OK hi\n"
                           "C: USER *\n"
                           "S: +OK\n"
                           "@expect-exit 0\n";

typedef struct result {
    rp_verdict v;
    char reason[512];
    long pid;
    int64_t ms;
} result;

/* Run SCEN with `cmd` as the client's plain command template. */
static result run_fake(const char *cmd, const char *timeout)
{
    char prof[2048];
    snprintf(prof, sizeof prof, "name = fake\ncmd-plain = %s\nstore = files\n"
             "store-path = {outdir}\ntimeout = %s\n", cmd, timeout);
    cl_profile p;
    cl_profile_init(&p);
    char err[512];
    ck_assert_msg(cl_profile_parse(&p, "fake.profile", prof, strlen(prof), err, sizeof err) == 0,
                  "%s", err);
    sc_scenario s;
    sc_error serr;
    ck_assert_msg(sc_parse("fake.scn", SCEN, sizeof SCEN - 1, &s, &serr) == 0, "%s", serr.text);
    char fname[] = "m1", fdata[] = "Subject: x\r\n\r\nbody\r\n";
    cl_fixture fx = {fname, fdata, sizeof fdata - 1};
    cl_env e;
    memset(&e, 0, sizeof e);
    e.prof = &p;
    e.mode = CL_MODE_PLAIN;
    e.user = "u1";
    e.pass = "secretpw";
    e.certdir = g_root;
    e.workroot = g_root;
    e.fix = &fx;
    e.nfix = 1;
    e.timeout_ms = p.timeout_ms;
    rp_run r;
    rp_run_init(&r, "client", "fake", "none");
    rp_run_secret(&r, "secretpw");
    rp_case *c = rp_run_add(&r);
    volatile int stop = 0;
    int64_t t0 = nt_now_ms();
    cl_run_scenario(&s, &e, &r, c, &stop);
    result res;
    memset(&res, 0, sizeof res);
    res.ms = nt_now_ms() - t0;
    res.v = c->verdict;
    snprintf(res.reason, sizeof res.reason, "%s", c->reason ? c->reason : "");
    res.pid = -1;
    for (size_t i = 0; i < c->nio; i++) {
        const char *k = strstr(c->io[i].text, "client pid ");
        if (k)
            res.pid = strtol(k + 11, NULL, 10);
    }
    rp_run_free(&r);
    sc_free(&s);
    cl_profile_free(&p);
    return res;
}

static void assert_group_gone(long pid)
{
    ck_assert_int_gt(pid, 1);
    errno = 0;
    ck_assert_int_eq(kill(-(pid_t)pid, 0), -1);
    ck_assert_int_eq(errno, ESRCH);
}

START_TEST(hanging_client_is_killed_with_its_group)
{
    /* Never connects; leaves a background child in its group. */
    result r = run_fake("sleep 1000 & sleep 1000", "1500ms");
    ck_assert_int_eq(r.v, RP_FAIL);
    ck_assert_msg(strstr(r.reason, "killed") || strstr(r.reason, "did not connect"), "%s",
                  r.reason);
    ck_assert_int_lt(r.ms, 8000);
    assert_group_gone(r.pid);
}
END_TEST

START_TEST(silent_connected_client_is_killed)
{
    /* Connects, reads nothing, sends nothing. */
    result r = run_fake("exec python3 -c 'import socket,time; s=socket.create_connection((\"{host}\","
                        " {port})); time.sleep(1000)'",
                        "1500ms");
    ck_assert_int_eq(r.v, RP_FAIL);
    ck_assert_msg(strstr(r.reason, "killed") || strstr(r.reason, "timeout"), "%s", r.reason);
    ck_assert_int_lt(r.ms, 8000);
    assert_group_gone(r.pid);
}
END_TEST

START_TEST(flooding_client_is_cut_off)
{
    /* An endless line: the receive bound ends the session, not memory. */
    result r = run_fake("exec python3 -c 'import socket,itertools; s=socket.create_connection("
                        "(\"{host}\", {port})); [s.sendall(b\"A\" * 65536) for _ in "
                        "itertools.count()]'",
                        "5s");
    ck_assert_int_eq(r.v, RP_FAIL);
    ck_assert_msg(strstr(r.reason, "without a line end"), "%s", r.reason);
    ck_assert_int_lt(r.ms, 12000);
    assert_group_gone(r.pid);
}
END_TEST

START_TEST(early_exit_gives_a_verdict)
{
    result r = run_fake("exit 3", "20s");
    ck_assert_int_eq(r.v, RP_FAIL);
    ck_assert_msg(strstr(r.reason, "without connecting"), "%s", r.reason);
    ck_assert_int_lt(r.ms, 5000); /* not the 20 s timeout */
    assert_group_gone(r.pid);
}
END_TEST

START_TEST(store_mbox_and_strip_headers)
{
    char path[400];
    snprintf(path, sizeof path, "%s/mbox", g_root);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("From a@b Mon Jan  1 00:00:00 2024\nReceived: by x\n  folded\nSubject: one\n\n"
          ">From here\nbody\n\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nx\n\n",
          f);
    fclose(f);
    cl_profile p;
    cl_profile_init(&p);
    const char *txt = "cmd-plain = true\nstore = mbox\nstore-path = x\nline-ends = lf\n"
                      "strip-headers = Received\n";
    char err[256];
    ck_assert_int_eq(cl_profile_parse(&p, "p", txt, strlen(txt), err, sizeof err), 0);
    cl_stored *st;
    size_t n;
    ck_assert_int_eq(cl_store_collect(&p, path, &st, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(st[0].data, "Subject: one\n\nFrom here\nbody\n");
    ck_assert_str_eq(st[1].data, "Subject: two\n\nx\n");
    size_t wn;
    char *w = cl_store_expect(&p, "Subject: two\r\n\r\nx\r\n", 19, &wn);
    ck_assert_str_eq(w, st[1].data);
    free(w);
    cl_store_free(st, n);
    cl_profile_free(&p);
}
END_TEST

START_TEST(profile_errors)
{
    cl_profile p;
    cl_profile_init(&p);
    char err[512];
    const char *bad = "cmd-plain = x\nstore-path = y\ncolour = red\n";
    ck_assert_int_eq(cl_profile_parse(&p, "p", bad, strlen(bad), err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "p:3: unknown key \"colour\""));
    cl_profile_free(&p);
    const char *none = "store-path = y\n";
    ck_assert_int_eq(cl_profile_parse(&p, "p", none, strlen(none), err, sizeof err), -1);
    cl_profile_free(&p);
    const char *ok = "cmd-plain = x\nstore-path = y\naction-check = --check\n";
    ck_assert_int_eq(cl_profile_parse(&p, "p", ok, strlen(ok), err, sizeof err), 0);
    ck_assert_str_eq(cl_profile_action(&p, "check"), "--check");
    ck_assert_str_eq(cl_profile_action(&p, "fetch"), "");
    ck_assert_ptr_null(cl_profile_action(&p, "fetch-keep"));
    cl_profile_free(&p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("client");
    TCase *t = tcase_create("robustness");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, hanging_client_is_killed_with_its_group);
    tcase_add_test(t, silent_connected_client_is_killed);
    tcase_add_test(t, flooding_client_is_cut_off);
    tcase_add_test(t, early_exit_gives_a_verdict);
    tcase_add_test(t, store_mbox_and_strip_headers);
    tcase_add_test(t, profile_errors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    /* A client that dies while we write must not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    return p3t_run(make_suite());
}
