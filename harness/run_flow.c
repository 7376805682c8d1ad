/* Findings, verdicts and the control steps shared by both interpreters
 * (run_flow.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "run_flow.h"

void run_flow_init(run_flow *f, const sc_scenario *s, size_t max_vars, const char *user,
                   const char *pass)
{
    memset(f, 0, sizeof *f);
    f->s = s;
    f->worst = SC_V_PASS;
    run_vars_init(&f->vars, max_vars, user, pass);
}

void run_flow_free(run_flow *f)
{
    run_vars_free(&f->vars);
}

int run_severity(sc_verdict v)
{
    switch (v) {
    case SC_V_PASS: return 0;
    case SC_V_SKIP: return 1;
    case SC_V_INFO: return 2;
    case SC_V_WARN: return 3;
    case SC_V_FAIL: return 4;
    case SC_V_ERROR: return 5;
    }
    return 5;
}

int run_judge(run_flow *f, const sc_step *st, sc_verdict v, const char *expected, const char *got,
              const char *fmt, ...)
{
    if (run_severity(v) > run_severity(f->worst)) {
        f->worst = v;
        f->decided_line = st ? (int)st->loc.line : 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->reason, sizeof f->reason, fmt, ap);
        va_end(ap);
        snprintf(f->expected, sizeof f->expected, "%s", expected ? expected : "");
        snprintf(f->got, sizeof f->got, "%s", got ? got : "");
    }
    /* FORMAT.md "Verdicts": a failed step ends the scenario, except MAY
     * (@info) steps, which are recorded and the run goes on. */
    return v != SC_V_INFO;
}

int run_harness_error(run_flow *f, const sc_step *st, const char *fmt, const char *detail)
{
    return run_judge(f, st, SC_V_ERROR, NULL, NULL, fmt, detail);
}

int run_flow_assert(run_flow *f, const sc_step *st, run_assert_style style)
{
    char a[1024], b[1024];
    size_t an = 0, bn = 0;
    unsigned xf;
    sc_error err;
    f->vars.miss = 0;
    int ea = sc_expand(st->lhs, st->lhs_len, run_vars_lookup, &f->vars, a, sizeof a, &an, &xf,
                       &err);
    if (st->op == SC_OP_DEFINED || st->op == SC_OP_UNDEFINED) {
        int defined = ea == 0;
        /* Only an undefined name answers "defined?"; any other expansion
         * error is the scenario's fault. */
        if (ea && !f->vars.miss)
            return run_judge(f, st, SC_V_ERROR, NULL, NULL, "%s:%u: %s", f->s->path, st->loc.line,
                             err.msg);
        if (defined == (st->op == SC_OP_DEFINED))
            return 0;
        return run_judge(f, st, sc_step_verdict(f->s, st), st->lhs,
                         defined ? "defined" : "undefined", "%.*s is %s", (int)st->lhs_len,
                         st->lhs, defined ? "defined" : "not defined");
    }
    /* An undefined name is a finding of the step (the value it wanted never
     * came); a malformed template is an ERROR. */
    if (ea || sc_expand(st->rhs, st->rhs_len, run_vars_lookup, &f->vars, b, sizeof b, &bn, &xf,
                        &err))
        return run_judge(f, st, f->vars.miss ? sc_step_verdict(f->s, st) : SC_V_ERROR, NULL, NULL,
                         "%s:%u: %s", f->s->path, st->loc.line, err.msg);
    int r = sc_compare((p3_slice){a, an}, st->op, (p3_slice){b, bn});
    if (r == 1)
        return 0;
    char exp[700], got[700];
    snprintf(exp, sizeof exp, "%.*s %s %.*s", (int)st->lhs_len, st->lhs, sc_op_text(st->op),
             (int)st->rhs_len, st->rhs);
    snprintf(got, sizeof got, "%.*s %s %.*s", (int)an, a, sc_op_text(st->op), (int)bn, b);
    return run_judge(f, st, r < 0 ? SC_V_ERROR : sc_step_verdict(f->s, st),
                     style == RUN_ASSERT_EXPECT_LHS ? st->lhs : exp, got, "assertion failed: %s",
                     got);
}

int run_flow_eval_num(run_flow *f, const char *t, size_t n, uint64_t *out, sc_error *err)
{
    char buf[64];
    size_t bn;
    unsigned xf;
    if (sc_expand(t, n, run_vars_lookup, &f->vars, buf, sizeof buf, &bn, &xf, err))
        return -1;
    uint64_t v = 0;
    /* 19 digits cannot overflow 64 bits. */
    if (!bn || bn > 19)
        return snprintf(err->msg, sizeof err->msg, "not a number: \"%.*s\"", (int)bn, buf), -1;
    for (size_t i = 0; i < bn; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return snprintf(err->msg, sizeof err->msg, "not a number: \"%.*s\"", (int)bn, buf), -1;
        v = v * 10 + (uint64_t)(buf[i] - '0');
    }
    *out = v;
    return 0;
}

int run_flow_foreach(run_flow *f, const sc_step *st, size_t *pc)
{
    uint64_t a, b;
    sc_error err;
    if (run_flow_eval_num(f, st->lhs, st->lhs_len, &a, &err) ||
        run_flow_eval_num(f, st->rhs, st->rhs_len, &b, &err))
        return run_judge(f, st, SC_V_ERROR, NULL, NULL, "%s:%u: @foreach: %s", f->s->path,
                         st->loc.line, err.msg);
    if (a > b) {
        *pc = (size_t)st->link; /* empty range: skip the body */
        return 0;
    }
    if (f->depth >= SC_MAX_NESTING)
        return run_harness_error(f, st, "%s", "@foreach nested too deep");
    f->loop_end[f->depth++] = b;
    run_vars_setu(&f->vars, st->name, a);
    return 0;
}

int run_flow_end(run_flow *f, const sc_step *st, size_t *pc)
{
    const sc_step *fe = &f->s->steps[st->link];
    p3_slice cur;
    int sec;
    if (!f->depth || !run_vars_lookup(&f->vars, fe->name, strlen(fe->name), &cur, &sec))
        return run_harness_error(f, st, "%s", "@end without its loop");
    /* The loop variable holds digits only: run_flow_foreach set it. */
    uint64_t v = 0;
    for (size_t i = 0; i < cur.n; i++)
        v = v * 10 + (uint64_t)(cur.p[i] - '0');
    if (v < f->loop_end[f->depth - 1] && ++f->iterations < SC_MAX_LOOP) {
        run_vars_setu(&f->vars, fe->name, v + 1);
        *pc = (size_t)st->link;
    } else {
        f->depth--;
    }
    return 0;
}

int run_flow_step(run_flow *f, const sc_step *st, size_t *pc, run_assert_style style)
{
    switch (st->kind) {
    case SC_STEP_ASSERT:
        return run_flow_assert(f, st, style);
    case SC_STEP_FOREACH:
        return run_flow_foreach(f, st, pc);
    case SC_STEP_END:
        return run_flow_end(f, st, pc);
    default:
        return run_harness_error(f, st, "step %s is not a control step",
                                 sc_step_kind_name(st->kind));
    }
}

void run_flow_verdict(const run_flow *f, rp_run *r, rp_case *c)
{
    static const rp_verdict map[] = {[SC_V_PASS] = RP_PASS, [SC_V_INFO] = RP_INFO,
                                     [SC_V_WARN] = RP_WARN, [SC_V_FAIL] = RP_FAIL,
                                     [SC_V_SKIP] = RP_SKIP, [SC_V_ERROR] = RP_ERROR};
    if (f->worst == SC_V_PASS)
        rp_case_verdict(r, c, RP_PASS, 0, "all expectations met", NULL, NULL);
    else
        rp_case_verdict(r, c, map[f->worst], f->decided_line, f->reason,
                        f->expected[0] ? f->expected : NULL, f->got[0] ? f->got : NULL);
}

void run_show(char *out, size_t cap, const char *p, size_t n, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (flags & RUN_SHOW_TRIM_ALL)
        while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
            n--;
    else if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
        n -= 2;
    else if (n && p[n - 1] == '\n')
        n--;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if ((flags & RUN_SHOW_CUT_MARK) && o + 5 >= cap && cap > 4)
        memcpy(out + cap - 4, "...", 4), o = cap - 1;
    out[o] = 0;
}
