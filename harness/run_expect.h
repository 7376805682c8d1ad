/*
 * run_expect.h - expectations files, shared by `pop3spec server` and
 * `pop3spec client`: the known non-PASS verdicts of a target, one
 * "scenario-id VERDICT  # RFC reasoning" line each ('#' lines and blank
 * lines are comments; VERDICT is PASS, FAIL, WARN, INFO, SKIP or ERROR).
 *
 * Contract:
 *  - Several files may be loaded into one set, in order: a later file's
 *    line for an id replaces the earlier one (a per-mode overlay over a
 *    base file; "id PASS" takes an expectation back).
 *  - Comparing: a scenario not in the set is expected to PASS; a SKIP is a
 *    difference only where the set expects SKIP; a SKIP for want of
 *    --slow is ignored altogether; an entry whose scenario is not in the
 *    run is a difference unless the run was filtered or interrupted.
 */
#ifndef RUN_EXPECT_H
#define RUN_EXPECT_H

#include <stddef.h>
#include <stdio.h>

#include "rp.h"

#define RUN_EXPECT_MAX 4096 /* entries in one set */

typedef struct run_expectation {
    char id[128];
    char verdict[8];
    int seen;
} run_expectation;

typedef struct run_expect {
    run_expectation *e;
    size_t n, cap;
} run_expect;

void run_expect_init(run_expect *x);
void run_expect_free(run_expect *x);

/* Add path's lines to x (overriding ids already there). 0, or -1 after
 * printing "prog: path:line: ..." (or "prog: path: reason") to stderr. */
int run_expect_load(run_expect *x, const char *prog, const char *path);

/* Compare the run's verdicts with x (see the contract), printing each
 * difference to out. filtered: the selection options left scenarios out.
 * Returns 1 when anything differs, else 0. */
int run_expect_compare(const rp_run *run, run_expect *x, int filtered, FILE *out);

#endif
