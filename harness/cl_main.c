/* pop3spec client: select client scenarios, make test certificates and a
 * throw-away password, run each scenario against the client the profile
 * describes, write the reports, and exit like `pop3spec server`. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cl.h"
#include "nt.h"
#include "run_cli.h"
#include "run_expect.h"

static void usage(FILE *f)
{
    fputs("usage: pop3spec client --profile FILE [options]\n"
          "Runs the client scenarios against a POP3 client program (pop3spec is the server).\n"
          "\n"
          "client:\n"
          "  --profile FILE        client profile (profiles/clients/README.md)\n"
          "  --tls MODE            plain (default), stls (STLS required), stls-opt (STLS if\n"
          "                        offered) or implicit (RFC 8314); picks the cmd-MODE template\n"
          "  --timeout DURATION    per client run, then its process group is killed\n"
          "                        (default: the profile's timeout, else 20s)\n"
          "selection:\n"
          "  --scenarios DIR       scenario folder (default: the installed scenarios/client)\n"
          "  --fixtures DIR        fixture messages (default: SCENARIOS/fixtures)\n"
          "  --select GLOB         scenario id or path glob (repeatable)\n"
          "  --rfc N  --level MUST|SHOULD|MAY  --tag T  --exclude-tag T\n"
          "  --list                show what would run, without launching anything\n"
          "running:\n"
          "  --report DIR          write junit.xml, report.json, report.html (default\n"
          "                        pop3spec-report)\n"
          "  --expect FILE         expected non-PASS verdicts; exit 1 when any differs\n"
          "                        (repeatable: a later file overrides an earlier one per\n"
          "                        scenario, e.g. NAME.expect then NAME-MODE.expect)\n"
          "  --no-skip             exit 1 when a scenario is skipped\n"
          "  --jobs N              scenarios in parallel (1-64, default 1): each has its own\n"
          "                        port, work folder and client process; reports keep\n"
          "                        the scenario order\n"
          "  --keep                keep each scenario's work folder (client config, stored mail)\n"
          "  --color WHEN          auto, always, never\n"
          "  --quiet               no per-scenario lines\n"
          "\n"
          "exit status: 0 no MUST failed; 1 a MUST failed (or --expect differs);\n"
          "2 usage, scenario or profile error; 3 harness errors only; 4 internal error;\n"
          "130 interrupted\n",
          f);
}

typedef struct opts {
    const char *profile, *tls, *scen_dir, *fix_dir, *report, *timeout;
    run_select sel;
    int list, quiet, color, keep, no_skip;
    unsigned jobs;
} opts;

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->color = -1;
    o->report = "pop3spec-report";
    o->jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--list")) { o->list = 1; continue; }
        if (!strcmp(a, "--quiet")) { o->quiet = 1; continue; }
        if (!strcmp(a, "--keep")) { o->keep = 1; continue; }
        if (!strcmp(a, "--no-skip")) { o->no_skip = 1; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "pop3spec client: %s: missing value or unknown option\n", a);
            return -1;
        }
        const char *v = argv[++i];
        int so = run_cli_select_opt(&o->sel, "pop3spec client", a, v, 0);
        if (so < 0)
            return -1;
        if (so)
            continue;
        const char **val = NULL;
        if (!strcmp(a, "--profile")) val = &o->profile;
        else if (!strcmp(a, "--tls")) val = &o->tls;
        else if (!strcmp(a, "--scenarios")) val = &o->scen_dir;
        else if (!strcmp(a, "--fixtures")) val = &o->fix_dir;
        else if (!strcmp(a, "--report")) val = &o->report;
        else if (!strcmp(a, "--timeout")) val = &o->timeout;
        else if (!strcmp(a, "--jobs")) {
            char *end;
            errno = 0;
            unsigned long j = strtoul(v, &end, 10);
            if (errno || end == v || *end || *v == '-' || *v == '+' || j < 1 || j > 64) {
                fprintf(stderr, "pop3spec client: --jobs: expected 1-64, got \"%s\"\n", v);
                return -1;
            }
            o->jobs = (unsigned)j;
            continue;
        } else if (!strcmp(a, "--color")) {
            o->color = !strcmp(v, "always") ? 1 : !strcmp(v, "never") ? 0 : !strcmp(v, "auto") ? -1 : -2;
            if (o->color == -2) {
                fprintf(stderr, "pop3spec client: --color: expected auto, always or never\n");
                return -1;
            }
            continue;
        } else {
            fprintf(stderr, "pop3spec client: unknown option %s (see --help)\n", a);
            return -1;
        }
        *val = v;
    }
    if (!o->profile && !o->list) {
        fprintf(stderr, "pop3spec client: --profile FILE is required (see --help)\n");
        return -1;
    }
    return run_cli_check_level(&o->sel, "pop3spec client");
}

static void one(void *ctx, rp_run *run, const sc_scenario *s, rp_case *c, unsigned job)
{
    const cl_env *env = ctx;
    char reason[256];
    (void)job; /* every scenario has its own listener and work folder */
    if (cl_requires_unmet(s, env, reason, sizeof reason))
        rp_case_verdict(run, c, RP_SKIP, 0, reason, NULL, NULL);
    else
        cl_run_scenario(s, env, run, c, &run_cli_stop);
}

int cl_main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o))
        return 2;
    cl_profile prof;
    cl_profile_init(&prof);
    char err[1024];
    if (o.profile && cl_profile_load(&prof, o.profile, err, sizeof err)) {
        fprintf(stderr, "pop3spec client: %s\n", err);
        cl_profile_free(&prof);
        return 2;
    }
    cl_mode mode = CL_MODE_PLAIN;
    if (o.tls && cl_mode_parse(o.tls, &mode)) {
        fprintf(stderr, "pop3spec client: --tls: expected plain, stls, stls-opt or implicit\n");
        cl_profile_free(&prof);
        return 2;
    }
    if (o.profile && !prof.cmd[mode]) {
        fprintf(stderr, "pop3spec client: %s has no cmd-%s template for --tls %s\n", o.profile,
                cl_mode_name(mode), cl_mode_name(mode));
        cl_profile_free(&prof);
        return 2;
    }
    uint32_t timeout = prof.timeout_ms;
    if (o.timeout && (sc_duration(o.timeout, strlen(o.timeout), &timeout) || timeout == 0)) {
        fprintf(stderr, "pop3spec client: --timeout: expected a duration like 20s or 500ms\n");
        cl_profile_free(&prof);
        return 2;
    }
    char dirbuf[4096];
    const char *dir = o.scen_dir ? o.scen_dir : run_cli_default_dir("client", dirbuf, sizeof dirbuf);
    sc_scenario *scen;
    size_t ns;
    if (run_cli_load("pop3spec client", dir, &o.sel, SC_ROLE_CLIENT, &scen, &ns)) {
        cl_profile_free(&prof);
        return 2;
    }
    int rc = 0;
    cl_fixture *fix = NULL;
    size_t nfix = 0;
    char workroot[512] = "";
    struct nt_tls_ctx *ctx[3] = {NULL, NULL, NULL};
    run_expect exp;
    run_expect_init(&exp);
    if (o.list) {
        run_cli_list(scen, ns);
        goto out;
    }
    char fixbuf[4200];
    const char *fixdir = o.fix_dir;
    if (!fixdir) {
        snprintf(fixbuf, sizeof fixbuf, "%s/fixtures", dir);
        fixdir = fixbuf;
    }
    if (cl_fixtures_load(fixdir, &fix, &nfix, err, sizeof err)) {
        fprintf(stderr, "pop3spec client: fixtures: %s\n", err);
        rc = 2;
        goto out;
    }
    for (size_t i = 0; i < o.sel.nexpect; i++)
        if (run_expect_load(&exp, "pop3spec client", o.sel.expect[i])) {
            rc = 2;
            goto out;
        }
    /* Work root: test certificates, and one folder per scenario with the
     * client's configuration, its password file and what it stored. */
    const char *tmp = getenv("TMPDIR");
    snprintf(workroot, sizeof workroot, "%s/pop3spec-client.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(workroot)) {
        fprintf(stderr, "pop3spec client: mkdtemp %s: %s\n", workroot, strerror(errno));
        workroot[0] = 0;
        rc = 4;
        goto out;
    }
    char certdir[600];
    snprintf(certdir, sizeof certdir, "%s/certs", workroot);
    if (mkdir(certdir, 0700) || nt_cert_make_dir(certdir, err, sizeof err)) {
        fprintf(stderr, "pop3spec client: test certificates: %s\n", err);
        rc = 4;
        goto out;
    }
    static const char *const leaf[3] = {"server", "unknown-ca", "wrong-host"};
    for (int i = 0; i < 3; i++) {
        char cert[700], key[700];
        snprintf(cert, sizeof cert, "%s/%s.pem", certdir, leaf[i]);
        snprintf(key, sizeof key, "%s/%s.key", certdir, leaf[i]);
        if (!(ctx[i] = nt_tls_server_ctx(cert, key, err, sizeof err))) {
            fprintf(stderr, "pop3spec client: TLS context: %s\n", err);
            rc = 4;
            goto out;
        }
    }
    /* A fresh password per run: it exists only in the client's 0600
     * password file and is redacted everywhere else. */
    unsigned char rnd[9];
    char pass[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        fprintf(stderr, "pop3spec client: no random bytes\n");
        rc = 4;
        goto out;
    }
    static const char hex[] = "0123456789abcdef";
    memcpy(pass, "p3s", 3);
    for (size_t i = 0; i < sizeof rnd; i++) {
        pass[3 + 2 * i] = hex[rnd[i] >> 4];
        pass[4 + 2 * i] = hex[rnd[i] & 15];
    }
    pass[3 + 2 * sizeof rnd] = 0;

    cl_env env;
    memset(&env, 0, sizeof env);
    env.prof = &prof;
    env.mode = mode;
    env.user = "p3suser";
    env.pass = pass;
    env.certdir = certdir;
    env.workroot = workroot;
    env.tls_good = ctx[0];
    env.tls_unknown = ctx[1];
    env.tls_wrong = ctx[2];
    env.fix = fix;
    env.nfix = nfix;
    env.timeout_ms = timeout;
    env.keep = o.keep;

    rp_run run;
    char target[600];
    snprintf(target, sizeof target, "%s (%s)", prof.name, o.profile);
    static const char *const tls_names[] = {"none", "stls", "stls-opt", "implicit"};
    rp_run_init(&run, "client", target, tls_names[mode]);
    rp_run_secret(&run, pass);
    int tty = isatty(1);
    int color = o.color == -1 ? tty : o.color;
    if (!o.quiet)
        printf("pop3spec %s: %zu client scenarios against %s, transport %s, timeout %u ms, %u job%s\n",
               P3S_VERSION, ns, prof.name, cl_mode_name(mode), timeout ? timeout : 20000,
               o.jobs, o.jobs > 1 ? "s" : "");
    if (o.keep) {
        char note[700];
        snprintf(note, sizeof note, "work folders kept in %s", workroot);
        rp_run_note(&run, note);
        if (!o.quiet)
            printf("%s\n", note);
    }
    for (size_t i = 0; i < ns; i++)
        run_cli_fill_case(rp_run_add(&run), &scen[i], "client");
    run_cli_catch_signals();
    /* A client that dies while we write must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    int64_t t0 = nt_now_ms();
    run_jobs rj;
    memset(&rj, 0, sizeof rj);
    rj.scen = scen;
    rj.n = ns;
    rj.run = &run;
    rj.fn = one;
    rj.ctx = &env;
    rj.quiet = o.quiet;
    rj.tty = tty;
    rj.color = color;
    run_cli_run_jobs(&rj, o.jobs);
    run.duration_ms = (double)(nt_now_ms() - t0);
    int filtered = o.sel.nsel || o.sel.ntags || o.sel.nxtags || o.sel.rfc || o.sel.level;
    rc = run_cli_finish(&run, "pop3spec client", o.report, color, &o.sel, &exp, filtered,
                        o.no_skip, rc);
    rp_run_free(&run);
    memset(pass, 0, sizeof pass);
out:
    for (int i = 0; i < 3; i++)
        nt_tls_ctx_free(ctx[i]);
    if (workroot[0] && !o.keep)
        cl_rm_tree(workroot);
    cl_fixtures_free(fix, nfix);
    run_expect_free(&exp);
    run_cli_free_scen(scen, ns);
    cl_profile_free(&prof);
    return rc;
}
