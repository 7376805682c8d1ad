/* pop3spec server: select scenarios, discover the target, run them (in
 * parallel sessions where that is safe), write the reports, and exit with
 * a status that says whether a MUST failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nt.h"
#include "ref.h"
#include "run.h"
#include "run_cli.h"
#include "run_expect.h"
#include "run_int.h"

static void usage(FILE *f)
{
    fputs("usage: pop3spec server [options]\n"
          "Runs the server scenarios against a POP3 server (pop3spec is the client).\n"
          "With no --profile and no --host, the built-in reference server is the target.\n"
          "\n"
          "target:\n"
          "  --profile FILE        target profile (profiles/README.md)\n"
          "  --builtin             the built-in reference server (default)\n"
          "  --host HOST --port N  a server without a profile file\n"
          "  --tls MODE            none, stls (RFC 2595) or implicit (RFC 8314)\n"
          "  --ca FILE             trusted CA certificates (PEM)\n"
          "  --tls-name NAME       name to verify and send as SNI (default: host)\n"
          "  --insecure            do NOT verify certificates (stated in every report)\n"
          "  --user-env VAR        environment variable with the user (POP3SPEC_USER)\n"
          "  --pass-env VAR        environment variable with the password (POP3SPEC_PASS)\n"
          "  --disposable          the mailbox may be changed (DELE + QUIT scenarios run)\n"
          "  --no-login            no credentials: run only the scenarios that do not log\n"
          "                        in (greeting, CAPA, STLS, commands before login, ...)\n"
          "selection:\n"
          "  --scenarios DIR       scenario folder (default: the installed scenarios/server)\n"
          "  --select GLOB         scenario id or path glob (repeatable)\n"
          "  --rfc N  --section S  --level MUST|SHOULD|MAY  --tag T  --exclude-tag T\n"
          "  --slow                include scenarios tagged slow (minutes each)\n"
          "  --list                show what would run, without connecting\n"
          "running:\n"
          "  --jobs N              scenarios in parallel (built-in target only; default 1)\n"
          "  --timeout DURATION    per read (default 10s)\n"
          "  --report DIR          write junit.xml, report.json, report.html (default\n"
          "                        pop3spec-report)\n"
          "  --expect FILE         expected non-PASS verdicts; exit 1 when any differs\n"
          "                        (a SKIP differs only where the file expects SKIP;\n"
          "                        repeatable: a later file overrides an earlier one per\n"
          "                        scenario)\n"
          "  --no-skip             exit 1 when a scenario is skipped (slow ones aside)\n"
          "  --color WHEN          auto, always, never\n"
          "  --quiet               no per-scenario lines\n"
          "\n"
          "exit status: 0 no MUST failed; 1 a MUST failed (or --expect differs);\n"
          "2 usage, scenario or profile error; 3 harness/network errors only;\n"
          "4 internal error; 130 interrupted\n",
          f);
}

typedef struct opts {
    const char *profile, *host, *tls, *ca, *tls_name, *user_env, *pass_env;
    unsigned port;
    int insecure, builtin, disposable, list, slow, quiet, color, no_skip, no_login;
    const char *scen_dir, *report, *timeout;
    run_select sel;
    unsigned jobs;
} opts;

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    unsigned long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->color = -1;
    o->report = "pop3spec-report";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
#define FLAG(name, field)                                                                          \
    if (!strcmp(a, name)) {                                                                        \
        o->field = 1;                                                                              \
        continue;                                                                                  \
    }
        FLAG("--insecure", insecure)
        FLAG("--builtin", builtin)
        FLAG("--disposable", disposable)
        FLAG("--list", list)
        FLAG("--slow", slow)
        FLAG("--quiet", quiet)
        FLAG("--no-skip", no_skip)
        FLAG("--no-login", no_login)
#undef FLAG
        if (i + 1 >= argc) {
            fprintf(stderr, "pop3spec server: %s: missing value or unknown option\n", a);
            return -1;
        }
        const char *v = argv[++i];
        int so = run_cli_select_opt(&o->sel, "pop3spec server", a, v, 1);
        if (so < 0)
            return -1;
        if (so)
            continue;
        if (!strcmp(a, "--profile")) val = &o->profile;
        else if (!strcmp(a, "--host")) val = &o->host;
        else if (!strcmp(a, "--tls")) val = &o->tls;
        else if (!strcmp(a, "--ca")) val = &o->ca;
        else if (!strcmp(a, "--tls-name")) val = &o->tls_name;
        else if (!strcmp(a, "--user-env")) val = &o->user_env;
        else if (!strcmp(a, "--pass-env")) val = &o->pass_env;
        else if (!strcmp(a, "--scenarios")) val = &o->scen_dir;
        else if (!strcmp(a, "--report")) val = &o->report;
        else if (!strcmp(a, "--timeout")) val = &o->timeout;
        else if (!strcmp(a, "--port")) {
            if (parse_uint(v, 65535, &o->port) || !o->port) {
                fprintf(stderr, "pop3spec server: --port: expected 1-65535, got \"%s\"\n", v);
                return -1;
            }
            continue;
        } else if (!strcmp(a, "--jobs")) {
            if (parse_uint(v, 64, &o->jobs) || !o->jobs) {
                fprintf(stderr, "pop3spec server: --jobs: expected 1-64, got \"%s\"\n", v);
                return -1;
            }
            continue;
        } else if (!strcmp(a, "--color")) {
            o->color = !strcmp(v, "always") ? 1 : !strcmp(v, "never") ? 0 : !strcmp(v, "auto") ? -1 : -2;
            if (o->color == -2) {
                fprintf(stderr, "pop3spec server: --color: expected auto, always or never\n");
                return -1;
            }
            continue;
        } else {
            fprintf(stderr, "pop3spec server: unknown option %s (see --help)\n", a);
            return -1;
        }
        *val = v;
    }
    return run_cli_check_level(&o->sel, "pop3spec server");
}

/* Build the profile from the file and/or the flags (flags win). */
static int make_profile(const opts *o, run_profile *p)
{
    char err[512];
    run_profile_init(p);
    if (o->profile) {
        if (run_profile_load(p, o->profile, err, sizeof err)) {
            fprintf(stderr, "pop3spec server: %s\n", err);
            return -1;
        }
    } else {
        p->path = strdup("-");
        if (!o->host)
            p->builtin = 1;
    }
    if (o->builtin)
        p->builtin = 1;
    if (o->host) {
        free(p->host);
        p->host = strdup(o->host);
        p->builtin = 0;
    }
    if (o->port)
        p->port = o->port;
    if (o->tls) {
        if (!strcmp(o->tls, "none")) p->tls = RUN_TLS_NONE;
        else if (!strcmp(o->tls, "stls")) p->tls = RUN_TLS_STLS;
        else if (!strcmp(o->tls, "implicit")) p->tls = RUN_TLS_IMPLICIT;
        else {
            fprintf(stderr, "pop3spec server: --tls: expected none, stls or implicit\n");
            return -1;
        }
    }
#define STR(flag, field)                                                                           \
    if (flag) {                                                                                    \
        free(p->field);                                                                            \
        p->field = strdup(flag);                                                                   \
    }
    STR(o->ca, ca_file)
    STR(o->tls_name, tls_name)
    STR(o->user_env, user_env)
    STR(o->pass_env, pass_env)
#undef STR
    if (o->insecure)
        p->insecure = 1;
    if (o->disposable)
        p->disposable = 1;
    if (o->no_login)
        p->no_login = 1;
    if (o->timeout) {
        uint32_t ms;
        if (sc_duration(o->timeout, strlen(o->timeout), &ms) || ms == 0) {
            fprintf(stderr, "pop3spec server: --timeout: expected a duration like 10s or 500ms\n");
            return -1;
        }
        p->timeout_ms = ms;
    }
    if (!p->name)
        p->name = strdup(p->builtin ? "builtin reference server" : p->host ? p->host : "?");
    return 0;
}

/* ---- the built-in target ------------------------------------------------ */

typedef struct builtin {
    char root[256];
    char certs[300];
    char users[300];
    char mail[300];
    ref_server *srv;
    unsigned jobs;
} builtin;

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Job j (0-based) logs in as its own user with its own mailbox, so
 * parallel scenarios never meet the exclusive maildrop lock. */
static void job_user(unsigned j, char *user, size_t n)
{
    if (j == 0)
        snprintf(user, n, "mrose");
    else
        snprintf(user, n, "job%u", j);
}

int run_builtin_seed(void *bctx, unsigned job)
{
    builtin *b = bctx;
    char user[32], dir[400];
    job_user(job, user, sizeof user);
    snprintf(dir, sizeof dir, "%s/%s", b->mail, user);
    /* Remove what a destructive scenario left, then write the demo again. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return -1;
    return ref_mailbox_seed(dir);
}

static int builtin_start(builtin *b, unsigned jobs, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    b->jobs = jobs;
    const char *tmp = getenv("TMPDIR");
    snprintf(b->root, sizeof b->root, "%s/pop3spec-ref.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b->root)) {
        snprintf(err, errlen, "mkdtemp %s: %s", b->root, strerror(errno));
        return -1;
    }
    snprintf(b->certs, sizeof b->certs, "%s/certs", b->root);
    snprintf(b->mail, sizeof b->mail, "%s/mail", b->root);
    snprintf(b->users, sizeof b->users, "%s/users", b->root);
    if (mkdir(b->certs, 0700) || mkdir(b->mail, 0700)) {
        snprintf(err, errlen, "mkdir in %s: %s", b->root, strerror(errno));
        return -1;
    }
    if (nt_cert_make_dir(b->certs, err, errlen))
        return -1;
    char users[4096] = "";
    size_t un = 0;
    for (unsigned j = 0; j < jobs; j++) {
        char user[32];
        job_user(j, user, sizeof user);
        /* RFC 1939 section 7's example secret. */
        un += (size_t)snprintf(users + un, sizeof users - un, "%s:tanstaaf\n", user);
        if (run_builtin_seed(b, j)) {
            snprintf(err, errlen, "seeding the demo mailbox in %s failed", b->mail);
            return -1;
        }
    }
    if (write_file(b->users, users)) {
        snprintf(err, errlen, "%s: %s", b->users, strerror(errno));
        return -1;
    }
    char cert[340], key[340];
    snprintf(cert, sizeof cert, "%s/server.pem", b->certs);
    snprintf(key, sizeof key, "%s/server.key", b->certs);
    ref_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.listen_tls = "127.0.0.1:0";
    cfg.mailbox = b->mail;
    cfg.users = b->users;
    cfg.cert = cert;
    cfg.key = key;
    cfg.max_sessions = 256;
    return ref_server_start(&cfg, &b->srv, err, errlen);
}

static void builtin_stop(builtin *b)
{
    if (b->srv)
        ref_server_stop(b->srv);
    b->srv = NULL;
    if (b->root[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->root);
        if (system(cmd) != 0)
            fprintf(stderr, "pop3spec server: could not remove %s\n", b->root);
    }
}

/* ---- credentials ---------------------------------------------------------- */

static char *read_secret_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = 0;
    return strdup(buf);
}

static int credentials(const run_profile *p, char **user, char **pass)
{
    *user = *pass = NULL;
    if (p->user_file && !(*user = read_secret_file(p->user_file))) {
        fprintf(stderr, "pop3spec server: %s: %s\n", p->user_file, strerror(errno));
        return -1;
    }
    if (p->pass_file && !(*pass = read_secret_file(p->pass_file))) {
        fprintf(stderr, "pop3spec server: %s: %s\n", p->pass_file, strerror(errno));
        return -1;
    }
    const char *ue = p->user_env ? p->user_env : "POP3SPEC_USER";
    const char *pe = p->pass_env ? p->pass_env : "POP3SPEC_PASS";
    if (!*user && getenv(ue))
        *user = strdup(getenv(ue));
    if (!*pass && getenv(pe))
        *pass = strdup(getenv(pe));
    if (!*user || !*pass) {
        fprintf(stderr,
                "pop3spec server: no credentials: set %s and %s (or user-file / pass-file in "
                "the profile)\n",
                ue, pe);
        return -1;
    }
    return 0;
}

/* ---- running ------------------------------------------------------------ */

typedef struct work {
    run_target *targets; /* one per job */
    const run_profile *prof;
    builtin *b;
} work;

static int needs_seed(const sc_scenario *s)
{
    for (size_t i = 0; i < s->nrequires; i++)
        if (s->requires[i].kind == SC_REQ_PROP && !strcmp(s->requires[i].name, "disposable-mailbox"))
            return 1;
    for (size_t i = 0; i < s->ntags; i++)
        if (!strcmp(s->tags[i], "destructive"))
            return 1;
    return 0;
}

static int seed_external(const run_profile *p)
{
    if (!p->seed_command)
        return 0;
    int rc = system(p->seed_command);
    return (rc == 0) ? 0 : -1;
}

/* One scenario as job `job`: its requirements, and a fresh mailbox before
 * and after a scenario that changes it. */
static void one(void *ctx, rp_run *run, const sc_scenario *s, rp_case *c, unsigned job)
{
    work *w = ctx;
    char reason[256];
    if (run_requires_unmet(s, &w->targets[job], reason, sizeof reason)) {
        rp_case_verdict(run, c, RP_SKIP, 0, reason, NULL, NULL);
        return;
    }
    int seeded = 0;
    if (needs_seed(s)) {
        seeded = w->b ? run_builtin_seed(w->b, job) : seed_external(w->prof);
        if (seeded != 0)
            rp_case_verdict(run, c, RP_ERROR, 0, "seeding the mailbox failed", NULL, NULL);
    }
    if (seeded == 0)
        run_scenario(s, &w->targets[job], run, c, &run_cli_stop);
    if (needs_seed(s))
        (void)(w->b ? run_builtin_seed(w->b, job) : seed_external(w->prof));
}

int run_server_main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o))
        return 2;
    run_profile prof;
    if (make_profile(&o, &prof)) {
        run_profile_free(&prof);
        return 2;
    }
    char dirbuf[4096];
    const char *dir = o.scen_dir ? o.scen_dir : run_cli_default_dir("server", dirbuf, sizeof dirbuf);
    sc_scenario *scen;
    size_t ns;
    if (run_cli_load("pop3spec server", dir, &o.sel, SC_ROLE_SERVER, &scen, &ns)) {
        run_profile_free(&prof);
        return 2;
    }
    int rc = 0;
    if (o.list) {
        run_cli_list(scen, ns);
        goto out_scen;
    }
    run_expect exp;
    run_expect_init(&exp);
    for (size_t i = 0; i < o.sel.nexpect; i++)
        if (run_expect_load(&exp, "pop3spec server", o.sel.expect[i])) {
            run_expect_free(&exp);
            rc = 2;
            goto out_scen;
        }

    char err[512];
    builtin b;
    int have_builtin = 0;
    unsigned jobs = o.jobs;
    if (!prof.builtin && jobs > 1) {
        fprintf(stderr, "pop3spec server: --jobs %u needs one mailbox per job; an external "
                        "target has one account: running one scenario at a time\n", jobs);
        jobs = 1;
    }
    char *user = NULL, *pass = NULL;
    if (prof.builtin) {
        if (builtin_start(&b, jobs, err, sizeof err)) {
            fprintf(stderr, "pop3spec server: starting the reference server: %s\n", err);
            builtin_stop(&b);
            rc = 4;
            run_expect_free(&exp);
            goto out_scen;
        }
        have_builtin = 1;
        prof.disposable = 1;
        prof.apop = 1;
        prof.messages = 5;
        free(prof.host);
        prof.host = strdup("127.0.0.1");
        if (!prof.ca_file) {
            char ca[400];
            snprintf(ca, sizeof ca, "%s/ca.pem", b.certs);
            prof.ca_file = strdup(ca);
        }
        prof.port = ref_server_port(b.srv, prof.tls == RUN_TLS_IMPLICIT);
        user = strdup("mrose");
        pass = strdup("tanstaaf");
    } else if (prof.no_login) {
        user = strdup("");
        pass = strdup("");
    } else if (credentials(&prof, &user, &pass)) {
        rc = 2;
        run_expect_free(&exp);
        goto out_scen;
    }
    if (!prof.port)
        prof.port = prof.tls == RUN_TLS_IMPLICIT ? 995 : 110;

    char target_name[300];
    snprintf(target_name, sizeof target_name, "%s (%s:%u)", prof.name, prof.host, prof.port);
    rp_run run;
    rp_run_init(&run, "server", target_name, run_tls_name(prof.tls));
    run.insecure = prof.insecure;
    rp_run_secret(&run, pass);
    if (prof.insecure)
        rp_run_note(&run, "TLS certificate and host-name verification was turned off.");
    if (!prof.disposable)
        rp_run_note(&run, "The mailbox is not marked disposable: scenarios that delete mail "
                          "were skipped.");
    if (prof.no_login)
        rp_run_note(&run, "Run without credentials (--no-login or login = no): scenarios that "
                          "log in were skipped.");

    run_target *targets = calloc(jobs, sizeof *targets);
    char **users = calloc(jobs, sizeof *users);
    int64_t t0 = nt_now_ms();
    for (unsigned j = 0; j < jobs; j++) {
        if (have_builtin) {
            char u[32];
            job_user(j, u, sizeof u);
            users[j] = strdup(u);
        } else {
            users[j] = strdup(user);
        }
        if (run_target_init(&targets[j], &prof, users[j], pass, err, sizeof err)) {
            fprintf(stderr, "pop3spec server: %s\n", err);
            rc = 2;
            break;
        }
        if (o.slow)
            targets[j].flags |= RUN_F_SLOW;
    }
    if (rc == 0) {
        /* Discovery once: capabilities and message count decide SKIPs. */
        int dr = run_discover(&targets[0], &run, err, sizeof err);
        if (dr) {
            fprintf(stderr, "pop3spec server: discovery: %s\n", err);
            rp_run_note(&run, err);
        }
        for (unsigned j = 1; j < jobs; j++)
            run_target_copy_discovery(&targets[j], &targets[0]);
        if (!o.quiet)
            printf("pop3spec %s: %zu server scenarios against %s, TLS %s%s, %u job%s\n",
                   P3S_VERSION, ns, target_name, run_tls_name(prof.tls),
                   prof.insecure ? " (verification OFF)" : "", jobs, jobs > 1 ? "s" : "");
        for (size_t i = 0; i < ns; i++)
            run_cli_fill_case(rp_run_add(&run), &scen[i], "server");
        if (dr == RUN_UNREACHABLE) {
            /* Every scenario would wait for its own connect to fail (a
             * minute and more each against a host that drops SYNs). */
            char why[700];
            snprintf(why, sizeof why, "not run: the target could not be reached (%s)", err);
            for (size_t i = 0; i < run.ncases; i++)
                rp_case_verdict(&run, &run.cases[i], RP_ERROR, 0, why, NULL, NULL);
            if (!o.quiet)
                printf("%s: every scenario is ERROR, none was run\n", target_name);
        }
        work w = {targets, &prof, have_builtin ? &b : NULL};
        run_jobs rj;
        memset(&rj, 0, sizeof rj);
        rj.scen = scen;
        rj.n = ns;
        rj.run = &run;
        rj.fn = one;
        rj.ctx = &w;
        rj.quiet = o.quiet;
        rj.tty = isatty(1);
        rj.color = o.color == -1 ? rj.tty : o.color;
        if (dr != RUN_UNREACHABLE) {
            run_cli_catch_signals();
            run_cli_run_jobs(&rj, jobs);
        }
        run.duration_ms = (double)(nt_now_ms() - t0);

        /* Selection by --exclude-tag alone keeps the expectations of the
         * scenarios it left out (as before the shared module). */
        int filtered = o.sel.nsel || o.sel.ntags || o.sel.rfc || o.sel.section || o.sel.level;
        rc = run_cli_finish(&run, "pop3spec server", o.report, rj.color, &o.sel, &exp, filtered,
                            o.no_skip, rc);
    }
    for (unsigned j = 0; j < jobs; j++) {
        run_target_free(&targets[j]);
        free(users[j]);
    }
    free(targets);
    free(users);
    rp_run_free(&run);
    if (pass) {
        memset(pass, 0, strlen(pass));
        free(pass);
    }
    free(user);
    run_expect_free(&exp);
    if (have_builtin)
        builtin_stop(&b);
out_scen:
    run_cli_free_scen(scen, ns);
    run_profile_free(&prof);
    return rc;
}
