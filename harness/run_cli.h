/*
 * run_cli.h - what `pop3spec server` (run_main.c) and `pop3spec client`
 * (cl_main.c) do alike: the selection options, Ctrl-C, the scenario list,
 * the progress line, and the end of a run (reports, summary, expectations,
 * exit status). Each function is used by both, so the two CLIs cannot
 * drift apart.
 */
#ifndef RUN_CLI_H
#define RUN_CLI_H

#include <pthread.h>
#include <stddef.h>

#include "rp.h"
#include "run_expect.h"
#include "sc.h"

#define RUN_CLI_MAX_SEL 64

/* Set (once, never cleared) by SIGINT / SIGTERM after run_cli_catch_signals;
 * every job polls it between steps. */
extern volatile int run_cli_stop;
void run_cli_catch_signals(void);

/* The selection options and the expectations files. */
typedef struct run_select {
    const char *sel[RUN_CLI_MAX_SEL], *tags[RUN_CLI_MAX_SEL], *xtags[RUN_CLI_MAX_SEL];
    const char *expect[RUN_CLI_MAX_SEL];
    size_t nsel, ntags, nxtags, nexpect;
    const char *rfc, *section, *level;
} run_select;

/* Option a with value v: --select, --tag, --exclude-tag, --expect
 * (repeatable), --rfc, --level and, when with_section, --section.
 * 1 handled, 0 not one of these, -1 after printing "prog: ..." to stderr. */
int run_cli_select_opt(run_select *o, const char *prog, const char *a, const char *v,
                       int with_section);
/* --level is MUST, SHOULD or MAY; 0, or -1 after printing. */
int run_cli_check_level(const run_select *o, const char *prog);
/* s has role and passes every selection option. */
int run_cli_selected(const run_select *o, const sc_scenario *s, sc_role role);

/* qsort order of scenarios: by id. */
int run_cli_cmp_scen(const void *a, const void *b);
/* The report case of s (id, title, file, RFC, ..., role, tags). */
void run_cli_fill_case(rp_case *c, const sc_scenario *s, const char *role);
/* scenarios/SUB in the current folder when it exists, else in the source
 * tree (into buf). */
const char *run_cli_default_dir(const char *sub, char *buf, size_t n);
/* --list: one line per scenario, then the count. */
void run_cli_list(const sc_scenario *scen, size_t n);

/* The per-scenario progress line of case c (done of n); the caller holds
 * the lock that orders these lines. */
void run_cli_progress(const rp_case *c, const char *id, size_t done, size_t n, int color, int tty);

/* End of a run: write the reports into report_dir, print the summary,
 * compare with the expectations (filtered: selection options were given),
 * apply --no-skip, and return the exit status (see --help): rc is the
 * status so far (0, or 4 after an internal error). */
int run_cli_finish(rp_run *run, const char *prog, const char *report_dir, int color,
                   const run_select *o, run_expect *exp, int filtered, int no_skip, int rc);

/* Scenarios of dir: parse every file, keep those of role that pass o,
 * sort by id. 0 with *scen / *n (run_cli_free_scen), or 2 (the exit
 * status) after printing "prog: ..." to stderr: the folder cannot be
 * listed, a scenario does not parse (nothing runs then), two have one id. */
int run_cli_load(const char *prog, const char *dir, const run_select *o, sc_role role,
                 sc_scenario **scen, size_t *n);
void run_cli_free_scen(sc_scenario *scen, size_t n);

/* Runs scenario s and gives case c of run its verdict, as job `job` (0 ..). */
typedef void (*run_job_fn)(void *ctx, rp_run *run, const sc_scenario *s, rp_case *c,
                           unsigned job);

/* The scenarios of one run, shared by the --jobs workers. Each worker
 * takes the next scenario index and fills that case, so the report keeps
 * the scenario order whatever order they finish in; only the progress
 * lines (under the lock) come in completion order. */
typedef struct run_jobs {
    const sc_scenario *scen;
    size_t n;
    rp_run *run;          /* its cases 0..n-1 belong to scen 0..n-1 */
    run_job_fn fn;
    void *ctx;
    int quiet, color, tty;
    /* private */
    size_t next, done;
    pthread_mutex_t mu;
} run_jobs;

/* Run every scenario of w in at most `jobs` (1-64) parallel jobs, each
 * case timed and its progress line printed unless quiet; jobs numbered
 * from 0. Stops taking scenarios at Ctrl-C (run_cli_stop): then the run is
 * marked interrupted and keeps only the cases that were started. */
void run_cli_run_jobs(run_jobs *w, unsigned jobs);

#endif
