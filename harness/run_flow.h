/*
 * run_flow.h - what both scenario interpreters (run_exec.c: pop3spec
 * server, cl_exec.c: pop3spec client) do alike around the wire: the
 * findings and the verdict they decide, @assert, @foreach ... @end, and
 * the escaped "got" text of a received line.
 *
 * Contract:
 *  - The worst finding (run_severity) decides the verdict; of equally bad
 *    ones the first keeps its reason, expected and got.
 *  - Every judging function returns what the interpreter's step loop
 *    needs: nonzero when the scenario must stop (FORMAT.md "Verdicts": any
 *    failed step but a MAY / @info one), 0 to go on.
 *  - Nothing here does I/O; texts are cut to their buffers.
 */
#ifndef RUN_FLOW_H
#define RUN_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "rp.h"
#include "run_vars.h"
#include "sc.h"

typedef struct run_flow {
    const sc_scenario *s;
    run_vars vars;
    sc_verdict worst;   /* SC_V_PASS until a finding */
    int decided_line;   /* scenario line of the deciding finding, or 0 */
    char reason[512];
    char expected[512];
    char got[640];
    /* @foreach state: the end value of every open loop, innermost last */
    uint64_t loop_end[SC_MAX_NESTING + 1];
    unsigned depth;
    size_t iterations;  /* loop turns so far, bounded by SC_MAX_LOOP */
} run_flow;

/* Start scenario s: PASS so far, an empty store (see run_vars_init). */
void run_flow_init(run_flow *f, const sc_scenario *s, size_t max_vars, const char *user,
                   const char *pass);
void run_flow_free(run_flow *f);

/* PASS 0 < SKIP < INFO < WARN < FAIL < ERROR 5 (unknown: 5). */
int run_severity(sc_verdict v);

/* Record a finding of verdict v at step st (NULL: not at a step), reason
 * from fmt. Returns 1 when the scenario must stop (v is not INFO). */
int run_judge(run_flow *f, const sc_step *st, sc_verdict v, const char *expected, const char *got,
              const char *fmt, ...);
/* run_judge with ERROR and fmt taking one %s, detail. */
int run_harness_error(run_flow *f, const sc_step *st, const char *fmt, const char *detail);

/* How @assert reports a failed comparison in "expected". */
typedef enum run_assert_style {
    RUN_ASSERT_EXPECT_ALL = 0, /* "lhs op rhs" as written (pop3spec server) */
    RUN_ASSERT_EXPECT_LHS = 1  /* the left-hand side only (pop3spec client) */
} run_assert_style;

/* Step @assert (with defined / undefined). Returns as run_judge, 0 when
 * the assertion holds. */
int run_flow_assert(run_flow *f, const sc_step *st, run_assert_style style);

/* Expand template t[0..n) and read it as a decimal number of at most 19
 * digits. 0, or -1 with err set. */
int run_flow_eval_num(run_flow *f, const char *t, size_t n, uint64_t *out, sc_error *err);

/* Step @foreach at *pc: sets the loop variable, or moves *pc to the
 * loop's @end for an empty range. Step @end: the next turn (moves *pc
 * back to the @foreach) or leaves the loop. Both return as run_judge. */
int run_flow_foreach(run_flow *f, const sc_step *st, size_t *pc);
int run_flow_end(run_flow *f, const sc_step *st, size_t *pc);

/* Steps @assert, @foreach and @end (other kinds: ERROR). Returns as
 * run_judge. */
int run_flow_step(run_flow *f, const sc_step *st, size_t *pc, run_assert_style style);

/* The case's verdict from the findings (PASS: "all expectations met"). */
void run_flow_verdict(const run_flow *f, rp_run *r, rp_case *c);

/* run_show flags */
#define RUN_SHOW_CUT_MARK 1u  /* a cut copy ends in "..." */
#define RUN_SHOW_TRIM_ALL 2u  /* drop every trailing CR and LF (default: one
                                 final CRLF or LF) */

/* Printable copy of p[0..n) into out (cap octets, NUL-terminated): octets
 * outside 0x20..0x7e as \xHH, the line end dropped, cut to fit. */
void run_show(char *out, size_t cap, const char *p, size_t n, unsigned flags);

#endif
