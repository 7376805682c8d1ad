/* The runner against hostile and broken servers: a stall, a flood, garbage,
 * an endless multi-line response, a reset, a slow drip, a TLS failure. Each
 * must end the scenario with FAIL or ERROR within a bounded time, never a
 * hang or a crash. Also: profiles parse strictly with file:line errors. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "nt.h"
#include "p3t.h"
#include "run.h"
#include "run_expect.h"
#include "run_int.h"

typedef enum { H_STALL, H_FLOOD, H_GARBAGE, H_ENDLESS_ML, H_RESET, H_DRIP, H_PLAIN } hmode;

typedef struct hostile {
    nt_listener *l;
    hmode mode;
    pthread_t th;
    volatile int stop;
} hostile;

static void *serve(void *arg)
{
    hostile *h = arg;
    nt_conn *c = NULL;
    char err[256];
    if (nt_accept(h->l, &c, nt_deadline(10000), err, sizeof err) != 0)
        return NULL;
    char buf[65536];
    int64_t end = nt_deadline(8000);
    switch (h->mode) {
    case H_STALL:
        while (!h->stop && nt_now_ms() < end)
            usleep(10000);
        break;
    case H_FLOOD:
        memset(buf, 'A', sizeof buf);
        nt_write_all(c, "+OK ", 4, end);
        while (!h->stop && nt_now_ms() < end && nt_write_all(c, buf, sizeof buf, nt_deadline(200)) == 0)
            ;
        break;
    case H_GARBAGE:
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (char)(i * 131 + 7);
        nt_write_all(c, buf, 4096, end);
        while (!h->stop && nt_now_ms() < end)
            usleep(10000);
        break;
    case H_ENDLESS_ML: {
        nt_write_all(c, "+OK hi\r\n", 8, end);
        ssize_t n = nt_read(c, buf, sizeof buf, end); /* LIST */
        (void)n;
        nt_write_all(c, "+OK\r\n", 5, end);
        size_t k = 0;
        for (int i = 0; i < 4096; i++) {
            memcpy(buf + k, "1 2\r\n", 5);
            k += 5;
        }
        while (!h->stop && nt_now_ms() < end && nt_write_all(c, buf, k, nt_deadline(200)) == 0)
            ;
        break;
    }
    case H_RESET:
        nt_write_all(c, "+OK hi\r\n", 8, end);
        nt_read(c, buf, sizeof buf, end);
        nt_abort(c);
        return NULL;
    case H_DRIP:
        /* One octet every 50 ms: each read succeeds, the line never ends. */
        while (!h->stop && nt_now_ms() < end && nt_write_all(c, "+", 1, end) == 0)
            usleep(50000);
        break;
    case H_PLAIN:
        nt_write_all(c, "+OK plaintext where TLS was expected\r\n", 38, end);
        while (!h->stop && nt_now_ms() < end)
            usleep(10000);
        break;
    }
    nt_close(c);
    return NULL;
}

static const char *const SCN = "id: hostile\n"
                               "title: t\nrfc: 1939\nsection: 3\nlevel: MUST\nquote: q\n"
                               "role: server\n\n"
                               "S: +OK *\n"
                               "C: LIST\n"
                               "S: +OK *\n"
                               "@each e {n:num} {s:num}\n"
                               "S: .\n"
                               "C: QUIT\n"
                               "S: +OK *\n";

static rp_verdict run_against(hmode mode, run_tls tls, int64_t *elapsed, char *reason, size_t rlen)
{
    hostile h = {0};
    char err[256];
    h.l = nt_listen("127.0.0.1", 0, err, sizeof err);
    ck_assert_msg(h.l != NULL, "%s", err);
    h.mode = mode;
    pthread_create(&h.th, NULL, serve, &h);

    sc_scenario s;
    sc_error se;
    ck_assert_int_eq(sc_parse("hostile.scn", SCN, strlen(SCN), &s, &se), 0);
    run_profile p;
    run_profile_init(&p);
    p.host = strdup("127.0.0.1");
    p.port = nt_listener_port(h.l);
    p.tls = tls;
    p.timeout_ms = 500;
    run_target t;
    ck_assert_int_eq(run_target_init(&t, &p, "u", "secret-pw", err, sizeof err), 0);
    rp_run r;
    rp_run_init(&r, "server", "hostile", "none");
    rp_case *c = rp_run_add(&r);
    volatile int stop = 0;
    int64_t t0 = nt_now_ms();
    run_scenario(&s, &t, &r, c, &stop);
    *elapsed = nt_now_ms() - t0;
    rp_verdict v = c->verdict;
    snprintf(reason, rlen, "%s", c->reason ? c->reason : "");
    h.stop = 1;
    pthread_join(h.th, NULL);
    nt_listener_close(h.l);
    rp_run_free(&r);
    run_target_free(&t);
    run_profile_free(&p);
    sc_free(&s);
    return v;
}

/* why: the reason must name the bound that stopped the read; where two
 * bounds race (time and size), why2 is the other one. */
static void expect_bad2(hmode mode, run_tls tls, rp_verdict want, const char *why, const char *why2)
{
    int64_t ms;
    char reason[512];
    rp_verdict v = run_against(mode, tls, &ms, reason, sizeof reason);
    ck_assert_msg(v == want, "mode %d: verdict %s (%s), expected %s", mode, rp_verdict_name(v), reason,
                  rp_verdict_name(want));
    ck_assert_msg(strstr(reason, why) != NULL || (why2 && strstr(reason, why2) != NULL),
                  "mode %d: reason \"%s\" lacks \"%s\"", mode, reason, why);
    /* 500 ms per step; the whole scenario is bounded well below the
     * hostile server's own 8 s. */
    ck_assert_msg(ms < 4000, "mode %d took %lld ms", mode, (long long)ms);
}

static void expect_bad(hmode mode, run_tls tls, rp_verdict want, const char *why)
{
    expect_bad2(mode, tls, want, why, NULL);
}

START_TEST(stall) { expect_bad(H_STALL, RUN_TLS_NONE, RP_FAIL, "timed out"); }
END_TEST
START_TEST(flood) { expect_bad(H_FLOOD, RUN_TLS_NONE, RP_FAIL, "no line end within"); }
END_TEST
START_TEST(garbage) { expect_bad(H_GARBAGE, RUN_TLS_NONE, RP_FAIL, "malformed"); }
END_TEST
START_TEST(endless_multiline)
{
    expect_bad2(H_ENDLESS_ML, RUN_TLS_NONE, RP_FAIL, "timed out", "without a terminator");
}
END_TEST
START_TEST(reset) { expect_bad(H_RESET, RUN_TLS_NONE, RP_FAIL, "reset the connection"); }
END_TEST
START_TEST(drip) { expect_bad(H_DRIP, RUN_TLS_NONE, RP_FAIL, "timed out"); }
END_TEST
START_TEST(tls_failure) { expect_bad(H_PLAIN, RUN_TLS_IMPLICIT, RP_ERROR, "TLS handshake failed"); }
END_TEST

START_TEST(profile_errors)
{
    struct {
        const char *text, *want;
    } cases[] = {
        {"host = x\nport = 0\n", "p.profile:2: port: expected a port number"},
        {"host = x\ntls = maybe\n", "p.profile:2: tls: expected none, stls or implicit"},
        {"host = x\nbogus = 1\n", "p.profile:2: unknown key \"bogus\""},
        {"# c\n\nhost\n", "p.profile:3: expected \"key = value\""},
        {"port = 110\n", "p.profile: no \"host\""},
        {"host = x\nuser-env = 9BAD\n", "p.profile:2: user-env: expected an environment variable name"},
        {"host = x\ntimeout = 2h\n", "p.profile:2: timeout: expected a duration"},
        {"host = $P3S_SURELY_UNSET_VAR\n", "p.profile:1: \"$P3S_SURELY_UNSET_VAR\": the environment variable is not set"},
        {"host = x\x01\n", "p.profile:1: control character 0x01"},
        {"host = x\nlogin = maybe\n", "p.profile:2: login: expected yes or no"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_profile p;
        run_profile_init(&p);
        char err[512] = "";
        ck_assert_int_eq(run_profile_parse(&p, "p.profile", cases[i].text, strlen(cases[i].text),
                                           err, sizeof err), -1);
        ck_assert_msg(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: %s", i, err);
        run_profile_free(&p);
    }
    run_profile p;
    run_profile_init(&p);
    char err[512] = "";
    setenv("P3S_TEST_PORT", "1995", 1);
    const char *ok = "name = n\nhost = h\nport = $P3S_TEST_PORT\ntls = implicit\nverify = no\n"
                     "disposable-mailbox = yes\ntimeout = 250ms\nproperty = x-y\nlogin = no\n";
    ck_assert_int_eq(run_profile_parse(&p, "ok.profile", ok, strlen(ok), err, sizeof err), 0);
    ck_assert_uint_eq(p.port, 1995);
    ck_assert_int_eq(p.tls, RUN_TLS_IMPLICIT);
    ck_assert_int_eq(p.insecure, 1);
    ck_assert_int_eq(p.disposable, 1);
    ck_assert_uint_eq(p.timeout_ms, 250);
    ck_assert_int_eq(p.no_login, 1);
    ck_assert_int_eq(run_profile_has(&p, "x-y"), 1);
    ck_assert_int_eq(run_profile_has(&p, "x-z"), 0);
    run_profile_free(&p);
}
END_TEST

/* Every profile in profiles/ loads (the Dovecot ones with stand-in values
 * for the variables scripts/conformance-dovecot sets). */
START_TEST(shipped_profiles_load)
{
    const char *src = getenv("P3S_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    setenv("P3S_DOVECOT_PORT", "110", 1);
    setenv("P3S_DOVECOT_TLS_PORT", "995", 1);
    setenv("P3S_DOVECOT_DIR", "/nonexistent", 1);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/profiles", src);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 8, ".profile"))
            continue;
        char path[8192], err[512] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        run_profile p;
        run_profile_init(&p);
        ck_assert_msg(run_profile_load(&p, path, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(p.builtin || (p.host && *p.host), "%s: no host", path);
        run_profile_free(&p);
        n++;
    }
    closedir(d);
    ck_assert_uint_ge(n, 7); /* builtin, 3 x dovecot, gmail, outlook, qq */
}
END_TEST

/* A target that cannot be reached (its listen queue is full, so SYNs are
 * dropped and connects time out, as with a host that drops them): discovery
 * fails to connect, and every scenario is ERROR at once instead of each
 * waiting for its own connect to time out. */
START_TEST(unreachable_target)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 0), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(200000);
    char port[16], dir[] = "/tmp/p3s-unreach.XXXXXX", scen[4200];
    snprintf(port, sizeof port, "%u", (unsigned)ntohs(a.sin_port));
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(scen, sizeof scen, "%s/scenarios/server", getenv("P3S_SOURCE_DIR"));
    setenv("POP3SPEC_USER", "u", 1);
    setenv("POP3SPEC_PASS", "secret-pw", 1);
    char *argv[] = {"server", "--host", "127.0.0.1", "--port", port, "--timeout", "1s",
                    "--quiet", "--scenarios", scen, "--report", dir, NULL};
    int64_t t0 = nt_now_ms();
    int rc = run_server_main(12, argv);
    int64_t ms = nt_now_ms() - t0;
    ck_assert_int_eq(rc, 3); /* harness/network errors only */
    /* discovery's connect (3 x the 1 s timeout), not one per scenario */
    ck_assert_msg(ms < 30000, "took %lld ms", (long long)ms);
    char path[4300];
    snprintf(path, sizeof path, "%s/report.json", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char rep[1 << 20];
    size_t n = fread(rep, 1, sizeof rep - 1, f);
    rep[n] = 0;
    fclose(f);
    ck_assert_ptr_nonnull(strstr(rep, "\"PASS\":0,\"FAIL\":0,\"WARN\":0,\"INFO\":0,\"SKIP\":0,\"ERROR\":"));
    ck_assert_ptr_nonnull(strstr(rep, "not run: the target could not be reached"));
    ck_assert_ptr_null(strstr(rep, "secret-pw"));
    const char *names[] = {"report.json", "junit.xml", "report.html"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}
END_TEST

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void add_case(rp_run *r, const char *id, rp_verdict v, const char *reason)
{
    rp_case *c = rp_run_add(r);
    rp_set(&c->id, id);
    rp_case_verdict(r, c, v, 0, reason, NULL, NULL);
}

/* One expectations module for both runners: overlays override per id, a
 * SKIP differs only where SKIP is expected, --slow skips are ignored,
 * entries that did not run are reported unless the run was filtered. */
START_TEST(expectations_overlay)
{
    char base[] = "/tmp/p3s-exp-base.XXXXXX", over[] = "/tmp/p3s-exp-over.XXXXXX";
    close(mkstemp(base));
    close(mkstemp(over));
    write_text(base, "# base\na FAIL  # why\nb INFO\nc WARN\nd INFO\nslow1 INFO\n");
    write_text(over, "a PASS  # taken back\nb WARN\n");
    run_expect x;
    run_expect_init(&x);
    ck_assert_int_eq(run_expect_load(&x, "test", base), 0);
    ck_assert_int_eq(run_expect_load(&x, "test", over), 0);
    rp_run r;
    rp_run_init(&r, "client", "t", "none");
    add_case(&r, "a", RP_PASS, "ok");
    add_case(&r, "b", RP_WARN, "w");
    add_case(&r, "c", RP_SKIP, "not in this mode");  /* listed WARN: a SKIP is no difference */
    add_case(&r, "d", RP_INFO, "i");
    add_case(&r, "slow1", RP_SKIP, "tagged slow (use --slow)");
    FILE *out = tmpfile();
    /* slow1 did not run (a --slow skip): reported when the whole suite ran */
    ck_assert_int_eq(run_expect_compare(&r, &x, 0, out), 1);
    for (size_t i = 0; i < x.n; i++)
        x.e[i].seen = 0;
    ck_assert_int_eq(run_expect_compare(&r, &x, 1, out), 0);
    fclose(out);
    rp_run_free(&r);
    rp_run_init(&r, "client", "t", "none");
    add_case(&r, "a", RP_FAIL, "f"); /* the overlay says PASS */
    out = tmpfile();
    ck_assert_int_eq(run_expect_compare(&r, &x, 1, out), 1);
    fclose(out);
    rp_run_free(&r);
    run_expect_free(&x);
    write_text(over, "e MAYBE\n");
    run_expect_init(&x);
    ck_assert_int_eq(run_expect_load(&x, "test", over), -1);
    run_expect_free(&x);
    unlink(base);
    unlink(over);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("runner");
    TCase *t = tcase_create("hostile");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, stall);
    tcase_add_test(t, flood);
    tcase_add_test(t, garbage);
    tcase_add_test(t, endless_multiline);
    tcase_add_test(t, reset);
    tcase_add_test(t, drip);
    tcase_add_test(t, tls_failure);
    tcase_add_test(t, profile_errors);
    tcase_add_test(t, shipped_profiles_load);
    tcase_add_test(t, unreachable_target);
    tcase_add_test(t, expectations_overlay);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return p3t_run(suite()); }
