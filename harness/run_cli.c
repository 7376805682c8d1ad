/* The parts of `pop3spec server` and `pop3spec client` that are the same
 * (run_cli.h). */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nt.h"
#include "run_cli.h"

volatile int run_cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    run_cli_stop = 1;
}

void run_cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int run_cli_select_opt(run_select *o, const char *prog, const char *a, const char *v,
                       int with_section)
{
    const char **arr = NULL;
    size_t *n = NULL;
    if (!strcmp(a, "--select"))
        arr = o->sel, n = &o->nsel;
    else if (!strcmp(a, "--tag"))
        arr = o->tags, n = &o->ntags;
    else if (!strcmp(a, "--exclude-tag"))
        arr = o->xtags, n = &o->nxtags;
    else if (!strcmp(a, "--expect"))
        arr = o->expect, n = &o->nexpect;
    if (arr) {
        if (*n >= RUN_CLI_MAX_SEL) {
            fprintf(stderr, "%s: at most %d %s options\n", prog, RUN_CLI_MAX_SEL, a);
            return -1;
        }
        arr[(*n)++] = v;
        return 1;
    }
    const char **val = !strcmp(a, "--rfc")                    ? &o->rfc
                       : !strcmp(a, "--level")                ? &o->level
                       : with_section && !strcmp(a, "--section") ? &o->section
                                                              : NULL;
    if (!val)
        return 0;
    *val = v;
    return 1;
}

int run_cli_check_level(const run_select *o, const char *prog)
{
    if (o->level && strcmp(o->level, "MUST") && strcmp(o->level, "SHOULD") &&
        strcmp(o->level, "MAY")) {
        fprintf(stderr, "%s: --level: expected MUST, SHOULD or MAY\n", prog);
        return -1;
    }
    return 0;
}

static int has_tag(const sc_scenario *s, const char *t)
{
    for (size_t i = 0; i < s->ntags; i++)
        if (!strcmp(s->tags[i], t))
            return 1;
    return 0;
}

int run_cli_selected(const run_select *o, const sc_scenario *s, sc_role role)
{
    if (s->role != role)
        return 0;
    if (o->nsel) {
        int any = 0;
        for (size_t i = 0; i < o->nsel && !any; i++)
            any = !fnmatch(o->sel[i], s->id, 0) || !fnmatch(o->sel[i], s->path, 0) ||
                  strstr(s->path, o->sel[i]) != NULL;
        if (!any)
            return 0;
    }
    if (o->rfc) {
        int any = 0;
        for (unsigned i = 0; i < s->nrfc; i++) {
            char num[16];
            snprintf(num, sizeof num, "%u", s->rfc[i]);
            any |= !strcmp(num, o->rfc);
        }
        if (!any)
            return 0;
    }
    if (o->section && (!s->section || strcmp(s->section, o->section)))
        return 0;
    if (o->level && strcmp(sc_level_name(s->level), o->level))
        return 0;
    for (size_t i = 0; i < o->ntags; i++)
        if (!has_tag(s, o->tags[i]))
            return 0;
    for (size_t i = 0; i < o->nxtags; i++)
        if (has_tag(s, o->xtags[i]))
            return 0;
    return 1;
}

int run_cli_cmp_scen(const void *a, const void *b)
{
    return strcmp(((const sc_scenario *)a)->id, ((const sc_scenario *)b)->id);
}

void run_cli_fill_case(rp_case *c, const sc_scenario *s, const char *role)
{
    rp_set(&c->id, s->id);
    rp_set(&c->title, s->title);
    rp_set(&c->file, s->path);
    char rfc[64] = "";
    size_t k = 0;
    for (unsigned i = 0; i < s->nrfc && k < sizeof rfc; i++)
        k += (size_t)snprintf(rfc + k, sizeof rfc - k, "%s%u", i ? ", " : "", s->rfc[i]);
    rp_set(&c->rfc, rfc);
    rp_set(&c->section, s->section);
    rp_set(&c->level, s->level_text ? s->level_text : sc_level_name(s->level));
    rp_set(&c->quote, s->quote);
    rp_set(&c->role, role);
    for (size_t i = 0; i < s->ntags; i++)
        rp_case_tag(c, s->tags[i]);
}

const char *run_cli_default_dir(const char *sub, char *buf, size_t n)
{
    struct stat st;
    snprintf(buf, n, "scenarios/%s", sub);
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
        return buf;
    snprintf(buf, n, "%s/scenarios/%s", P3S_SOURCE_DIR, sub);
    return buf;
}

void run_cli_list(const sc_scenario *scen, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char rfc[32] = "";
        if (scen[i].nrfc)
            snprintf(rfc, sizeof rfc, "%u", scen[i].rfc[0]);
        printf("%-44s RFC %-5s %-8s %-7s %s\n", scen[i].id, rfc,
               scen[i].section ? scen[i].section : "", sc_level_name(scen[i].level),
               scen[i].title ? scen[i].title : "");
    }
    printf("%zu scenarios\n", n);
}

void run_cli_progress(const rp_case *c, const char *id, size_t done, size_t n, int color, int tty)
{
    static const char *const col[RP__COUNT] = {"\033[32m", "\033[1;31m", "\033[1;33m",
                                                "\033[36m", "\033[2m", "\033[1;35m"};
    int width = n >= 100 ? 3 : 2;
    if (tty)
        fputs("\r\033[K", stdout);
    /* On a terminal a PASS only moves the counter; elsewhere every line
     * stays (logs). */
    if (c->verdict != RP_PASS || !tty)
        printf("[%*zu/%zu] %s%-5s%s %s%s%s\n", width, done, n, color ? col[c->verdict] : "",
               rp_verdict_name(c->verdict), color ? "\033[0m" : "", id,
               c->verdict == RP_PASS ? "" : ": ",
               c->verdict == RP_PASS ? "" : (c->reason ? c->reason : ""));
    if (tty)
        printf("[%*zu/%zu] running... %s", width, done, n, done == n ? "done\n" : "");
    fflush(stdout);
}

int run_cli_finish(rp_run *run, const char *prog, const char *report_dir, int color,
                   const run_select *o, run_expect *exp, int filtered, int no_skip, int rc)
{
    char err[512];
    if (rp_write_all(run, report_dir, err, sizeof err)) {
        fprintf(stderr, "%s: writing reports: %s\n", prog, err);
        rc = 4;
    }
    rp_print_summary(run, stdout, color);
    printf("\nreports: %s/junit.xml %s/report.json %s/report.html\n", report_dir, report_dir,
           report_dir);
    size_t counts[RP__COUNT];
    rp_run_counts(run, counts);
    if (rc == 0)
        rc = counts[RP_FAIL] ? 1 : counts[RP_ERROR] ? 3 : 0;
    if (o->nexpect) {
        int diff = run_expect_compare(run, exp, filtered, stdout);
        printf("expectations (");
        for (size_t i = 0; i < o->nexpect; i++)
            printf("%s%s", i ? " + " : "", o->expect[i]);
        printf("): %s\n", diff ? "DIFFER" : "all met");
        /* Known FAILs and ERRORs are what the files say: only a
         * difference fails the run. */
        rc = diff ? 1 : (rc == 1 || rc == 3) ? 0 : rc;
    }
    if (no_skip)
        for (size_t i = 0; i < run->ncases; i++) {
            const rp_case *c = &run->cases[i];
            /* Slow scenarios are left out unless --slow: not a skip. */
            if (c->verdict == RP_SKIP && !(c->reason && strstr(c->reason, "--slow"))) {
                printf("skipped (--no-skip): %s: %s\n", c->id, c->reason ? c->reason : "");
                rc = 1;
            }
        }
    if (run->interrupted)
        rc = 130;
    return rc;
}

int run_cli_load(const char *prog, const char *dir, const run_select *o, sc_role role,
                 sc_scenario **scenp, size_t *nscen)
{
    *scenp = NULL;
    *nscen = 0;
    char **paths = NULL;
    sc_error serr;
    long np = sc_list_dir(dir, &paths, &serr);
    if (np < 0) {
        fprintf(stderr, "%s: %s\n", prog, serr.text);
        return 2;
    }
    sc_scenario *scen = calloc((size_t)np + 1, sizeof *scen);
    size_t ns = 0;
    int bad = !scen;
    /* Parse them all even after an error: the user sees every broken file
     * at once. */
    for (long i = 0; scen && i < np; i++) {
        if (sc_parse_file(paths[i], &scen[ns], &serr)) {
            fprintf(stderr, "%s\n", serr.text);
            bad = 1;
            continue;
        }
        if (run_cli_selected(o, &scen[ns], role))
            ns++;
        else
            sc_free(&scen[ns]);
    }
    sc_paths_free(paths, (size_t)np);
    if (bad) {
        fprintf(stderr, "%s: scenario errors: nothing was run\n", prog);
        run_cli_free_scen(scen, ns);
        return 2;
    }
    qsort(scen, ns, sizeof *scen, run_cli_cmp_scen);
    for (size_t i = 1; i < ns; i++)
        if (!strcmp(scen[i].id, scen[i - 1].id)) {
            fprintf(stderr, "%s: %s and %s have the same id \"%s\"\n", prog, scen[i - 1].path,
                    scen[i].path, scen[i].id);
            bad = 1;
        }
    if (bad) {
        run_cli_free_scen(scen, ns);
        return 2;
    }
    *scenp = scen;
    *nscen = ns;
    return 0;
}

void run_cli_free_scen(sc_scenario *scen, size_t n)
{
    for (size_t i = 0; scen && i < n; i++)
        sc_free(&scen[i]);
    free(scen);
}

static void run_one(run_jobs *w, size_t i, unsigned job)
{
    const sc_scenario *s = &w->scen[i];
    rp_case *c = &w->run->cases[i];
    int64_t t0 = nt_now_ms();
    w->fn(w->ctx, w->run, s, c, job);
    c->duration_ms = (double)(nt_now_ms() - t0);
    pthread_mutex_lock(&w->mu);
    w->done++;
    if (!w->quiet)
        run_cli_progress(c, s->id, w->done, w->n, w->color, w->tty);
    pthread_mutex_unlock(&w->mu);
}

typedef struct worker_arg {
    run_jobs *w;
    unsigned job;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *a = arg;
    run_jobs *w = a->w;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t i = w->next < w->n && !run_cli_stop ? w->next++ : (size_t)-1;
        pthread_mutex_unlock(&w->mu);
        if (i == (size_t)-1)
            break;
        run_one(w, i, a->job);
    }
    return NULL;
}

void run_cli_run_jobs(run_jobs *w, unsigned jobs)
{
    w->next = w->done = 0;
    pthread_mutex_init(&w->mu, NULL);
    if (jobs > 64)
        jobs = 64;
    /* No more jobs than scenarios; one job runs on this thread. */
    if (jobs > w->n)
        jobs = w->n ? (unsigned)w->n : 1;
    worker_arg wa[64];
    if (jobs <= 1) {
        wa[0] = (worker_arg){w, 0};
        worker(&wa[0]);
    } else {
        pthread_t th[64];
        unsigned started = 0;
        for (unsigned j = 0; j < jobs; j++) {
            wa[j] = (worker_arg){w, j};
            if (pthread_create(&th[j], NULL, worker, &wa[j]))
                break;
            started++;
        }
        if (!started) {
            wa[0] = (worker_arg){w, 0};
            worker(&wa[0]);
        }
        for (unsigned j = 0; j < started; j++)
            pthread_join(th[j], NULL);
    }
    pthread_mutex_destroy(&w->mu);
    if (run_cli_stop) {
        w->run->interrupted = 1;
        /* Keep what ran; scenarios never started are left out. */
        rp_run_truncate(w->run, w->next);
    }
}
