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

/* Run scenario text scn (or the scenario file path when scn is NULL)
 * with `cmd` as the client's command template in every mode; TLS with
 * test certificates made in g_root. */
static result run_scn(const char *scn, const char *path, const char *cmd, cl_mode mode,
                      const char *timeout)
{
    char prof[2048];
    snprintf(prof, sizeof prof, "name = fake\ncmd-plain = %s\ncmd-stls = %s\ncmd-implicit = %s\n"
             "store = files\nstore-path = {outdir}\ntimeout = %s\n", cmd, cmd, cmd, timeout);
    cl_profile p;
    cl_profile_init(&p);
    char err[512];
    ck_assert_msg(cl_profile_parse(&p, "fake.profile", prof, strlen(prof), err, sizeof err) == 0,
                  "%s", err);
    sc_scenario s;
    sc_error serr;
    if (scn)
        ck_assert_msg(sc_parse("fake.scn", scn, strlen(scn), &s, &serr) == 0, "%s", serr.text);
    else
        ck_assert_msg(sc_parse_file(path, &s, &serr) == 0, "%s", serr.text);
    char fname[] = "m1", fdata[] = "Subject: x\r\n\r\nbody\r\n";
    cl_fixture fx = {fname, fdata, sizeof fdata - 1};
    cl_fixture *fix = &fx;
    size_t nfix = 1;
    char fixdir[512];
    if (!scn) {
        snprintf(fixdir, sizeof fixdir, "%s/scenarios/client/fixtures", P3S_SOURCE_DIR);
        ck_assert_msg(cl_fixtures_load(fixdir, &fix, &nfix, err, sizeof err) == 0, "%s", err);
    }
    char certdir[400];
    snprintf(certdir, sizeof certdir, "%s/certs", g_root);
    mkdir(certdir, 0700);
    ck_assert_msg(nt_cert_make_dir(certdir, err, sizeof err) == 0, "%s", err);
    struct nt_tls_ctx *ctx[3];
    static const char *const leaf[3] = {"server", "unknown-ca", "wrong-host"};
    for (int i = 0; i < 3; i++) {
        char cert[500], key[500];
        snprintf(cert, sizeof cert, "%s/%s.pem", certdir, leaf[i]);
        snprintf(key, sizeof key, "%s/%s.key", certdir, leaf[i]);
        ctx[i] = nt_tls_server_ctx(cert, key, err, sizeof err);
        ck_assert_msg(ctx[i] != NULL, "%s", err);
    }
    cl_env e;
    memset(&e, 0, sizeof e);
    e.prof = &p;
    e.mode = mode;
    e.user = "u1";
    e.pass = "secretpw";
    e.certdir = certdir;
    e.workroot = g_root;
    e.tls_good = ctx[0];
    e.tls_unknown = ctx[1];
    e.tls_wrong = ctx[2];
    e.fix = fix;
    e.nfix = nfix;
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
    for (size_t i = 0; i < c->nio && getenv("P3T_VERBOSE"); i++)
        fprintf(stderr, "  %c%d %s\n", c->io[i].dir, c->io[i].session, c->io[i].text);
    rp_run_free(&r);
    sc_free(&s);
    cl_profile_free(&p);
    for (int i = 0; i < 3; i++)
        nt_tls_ctx_free(ctx[i]);
    if (fix != &fx)
        cl_fixtures_free(fix, nfix);
    return res;
}

static result run_fake(const char *cmd, const char *timeout)
{
    return run_scn(SCEN, NULL, cmd, CL_MODE_PLAIN, timeout);
}

/* A scripted client: python3 with the code in g_root/client.py, which gets
 * host, port and the CA file as sys.argv[1..3]. */
static const char *fake_client(const char *code)
{
    static char cmd[600];
    char path[400];
    snprintf(path, sizeof path, "%s/client.py", g_root);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("import socket, ssl, sys, base64\n"
          "s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
          "f = s.makefile('rb')\n"
          "def line():\n"
          "    return f.readline().decode().rstrip('\\r\\n')\n"
          "def cmd(t):\n"
          "    s.sendall(t.encode() + b'\\r\\n')\n"
          "    return line()\n",
          f);
    fputs(code, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "exec python3 %s {host} {port} {cafile}", path);
    return cmd;
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

#define HDR(id, level)                                                                             \
    "id: " id "\ntitle: t\nrfc: 5034\nsection: 4\nlevel: " level "\nquote: q\nrole: client\n"   \
    "mailbox: m1\n"

/* A SASL response inside a scripted AUTH exchange is no command (no
 * "malformed command line"), and the scripted +OK after it logs in (STAT
 * afterwards is no state finding). */
START_TEST(scripted_auth_exchange)
{
    const char *scn = HDR("auth", "MUST") "\n"
                      "S: +OK hi\n"
                      "C: AUTH PLAIN\n"
                      "S: +\\s\n"
                      "C: {r:b64}\n"
                      "S: +OK logged in\n"
                      "C: STAT\n"
                      "S: +OK 0 0\n"
                      "@expect-exit 0\n";
    const char *code = "line()\n"
                       "assert cmd('AUTH PLAIN') == '+ '\n"
                       "r = cmd(base64.b64encode(b'\\0u1\\0secretpw').decode())\n"
                       "assert r.startswith('+OK'), r\n"
                       "assert cmd('STAT').startswith('+OK')\n"
                       "cmd('QUIT')\n";
    result r = run_scn(scn, NULL, fake_client(code), CL_MODE_PLAIN, "10s");
    ck_assert_msg(r.v == RP_PASS, "%s: %s", rp_verdict_name(r.v), r.reason);
}
END_TEST

/* "*" and "" are SASL responses too; the default responder ends an
 * exchange the script opened: "*" is cancelled with -ERR, valid PLAIN
 * credentials log in. */
START_TEST(auth_exchange_default_responder)
{
    const char *scn = HDR("auth2", "MUST") "\n"
                      "S: +OK hi\n"
                      "C: AUTH PLAIN\n"
                      "S: +\\s\n"
                      "@expect-exit 0\n";
    const char *code = "line()\n"
                       "assert cmd('AUTH PLAIN') == '+ '\n"
                       "r = cmd('*')\n"
                       "assert r.startswith('-ERR'), r\n"
                       "assert cmd('AUTH PLAIN') == '+ '\n"
                       "r = cmd(base64.b64encode(b'\\0u1\\0secretpw').decode())\n"
                       "assert r.startswith('+OK'), r\n"
                       "cmd('QUIT')\n";
    result r = run_scn(scn, NULL, fake_client(code), CL_MODE_PLAIN, "10s");
    ck_assert_msg(r.v == RP_PASS, "%s: %s", rp_verdict_name(r.v), r.reason);
    /* A line that is not base64 inside the exchange is a finding. */
    const char *bad = "line()\n"
                      "assert cmd('AUTH PLAIN') == '+ '\n"
                      "cmd('not base64!')\n"
                      "cmd('QUIT')\n";
    r = run_scn(scn, NULL, fake_client(bad), CL_MODE_PLAIN, "10s");
    ck_assert_int_eq(r.v, RP_FAIL);
    ck_assert_msg(strstr(r.reason, "malformed SASL response"), "%s", r.reason);
}
END_TEST

/* @starttls or-close (client role): a client that refuses the handshake
 * after octets injected behind the +OK ends the scenario safely. */
START_TEST(starttls_or_close_refusal_passes)
{
    const char *scn = HDR("orclose", "MUST") "requires: STLS\n\n"
                      "S: +OK hi\n"
                      "C: STLS\n"
                      "S: +OK go\\r\\n-ERR injected\\r\\n\n"
                      "@raw\n"
                      "@starttls or-close\n"
                      "@expect-stored m1\n"
                      "@expect-exit 0\n";
    const char *code = "import time\n"
                       "line()\n"
                       "s.sendall(b'STLS\\r\\n')\n"
                       "time.sleep(0.3)\n"
                       "d = s.recv(4096)\n"
                       "s.close()\n"
                       "sys.exit(1 if b'injected' in d else 0)\n";
    result r = run_scn(scn, NULL, fake_client(code), CL_MODE_STLS, "10s");
    ck_assert_msg(r.v == RP_PASS, "%s: %s", rp_verdict_name(r.v), r.reason);
}
END_TEST

/* A scripted CAPA answer is the answer to every later CAPA of the run,
 * on later connections too. */
START_TEST(scripted_capa_sticks)
{
    const char *scn = HDR("capa", "MUST") "\n"
                      "S: +OK hi\n"
                      "C: CAPA\n"
                      "S: +OK\n"
                      "S* USER\n"
                      "S* .odd\n"
                      "S: .\n"
                      "C: QUIT\n"
                      "S: +OK bye\n"
                      "@expect-exit 0\n";
    const char *code = "def capa():\n"
                       "    assert cmd('CAPA').startswith('+OK')\n"
                       "    l = []\n"
                       "    while True:\n"
                       "        x = line()\n"
                       "        if x == '.': return l\n"
                       "        l.append(x)\n"
                       "line()\n"
                       "assert capa() == ['USER', '..odd']\n"
                       "cmd('QUIT')\n"
                       "s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
                       "f = s.makefile('rb')\n"
                       "line()\n"
                       "c = capa()\n"
                       "cmd('QUIT')\n"
                       "sys.exit(0 if c == ['USER', '..odd'] else 7)\n";
    result r = run_scn(scn, NULL, fake_client(code), CL_MODE_PLAIN, "10s");
    ck_assert_msg(r.v == RP_PASS, "%s: %s", rp_verdict_name(r.v), r.reason);
}
END_TEST

/* requires: tls-required is met by the "STLS required" and implicit
 * templates only. */
START_TEST(requires_tls_required)
{
    const char *scn = HDR("tlsreq", "MUST") "requires: tls-required\n\nS: +OK\n";
    const char *prof = "cmd-plain = a\ncmd-stls = b\ncmd-stls-opt = c\ncmd-implicit = d\n"
                       "store-path = x\n";
    cl_profile p;
    cl_profile_init(&p);
    char err[256];
    ck_assert_int_eq(cl_profile_parse(&p, "p", prof, strlen(prof), err, sizeof err), 0);
    sc_scenario s;
    sc_error serr;
    ck_assert_msg(sc_parse("t.scn", scn, strlen(scn), &s, &serr) == 0, "%s", serr.text);
    cl_env e;
    memset(&e, 0, sizeof e);
    e.prof = &p;
    static const int met[CL_MODE__COUNT] = {0, 1, 0, 1};
    for (int m = 0; m < CL_MODE__COUNT; m++) {
        e.mode = (cl_mode)m;
        char why[200] = "";
        ck_assert_msg(cl_requires_unmet(&s, &e, why, sizeof why) == !met[m], "mode %s: %s",
                      cl_mode_name((cl_mode)m), why);
    }
    sc_free(&s);
    cl_profile_free(&p);
}
END_TEST

/* Implicit TLS with a certificate the client must refuse: a client that
 * completes the handshake, checks, and closes has refused it. */
START_TEST(implicit_bad_cert_close_is_refusal)
{
    const char *scn = HDR("implbad", "MUST") "requires: implicit-tls\n\n"
                      "@tls cert=unknown-ca\n"
                      "S: +OK hi\n"
                      "C: USER *\n"
                      "S: +OK\n"
                      "@expect-no-command USER *\n"
                      "@expect-exit nonzero\n";
    const char *code = "ctx = ssl.create_default_context()\n"
                       "ctx.check_hostname = False\n"
                       "ctx.verify_mode = ssl.CERT_NONE\n"
                       "t = ctx.wrap_socket(s, server_hostname='localhost')\n"
                       "t.close()\n"
                       "sys.exit(2)\n";
    result r = run_scn(scn, NULL, fake_client(code), CL_MODE_IMPLICIT, "10s");
    ck_assert_msg(r.v == RP_PASS, "%s: %s", rp_verdict_name(r.v), r.reason);
}
END_TEST

/* Regression: a MAY scenario whose first wire step is C:, and a client that
 * exits without connecting, once crashed in need_conn. */
START_TEST(may_scenario_client_exits_without_connecting)
{
    char path[600];
    snprintf(path, sizeof path, "%s/scenarios/client/data/cl-data-list-size-larger.scn",
             P3S_SOURCE_DIR);
    result r = run_scn(NULL, path, "exit 8", CL_MODE_PLAIN, "10s");
    ck_assert_int_eq(r.v, RP_INFO);
    ck_assert_msg(strstr(r.reason, "without connecting"), "%s", r.reason);
    ck_assert_int_lt(r.ms, 5000);
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
    tcase_add_test(t, scripted_auth_exchange);
    tcase_add_test(t, auth_exchange_default_responder);
    tcase_add_test(t, starttls_or_close_refusal_passes);
    tcase_add_test(t, scripted_capa_sticks);
    tcase_add_test(t, requires_tls_required);
    tcase_add_test(t, implicit_bad_cert_close_is_refusal);
    tcase_add_test(t, may_scenario_client_exits_without_connecting);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    /* A client that dies while we write must not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    return p3t_run(make_suite());
}
