/* Expectations files: the known non-PASS verdicts of a target, one
 * "scenario-id VERDICT  # RFC reasoning" per line. Same format and rules as
 * `pop3spec server --expect` (run_main.c), kept free of runner state so
 * that both runners can share it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cl.h"

long cl_expect_load(const char *prog, const char *path, cl_expectation *e, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    char line[1024];
    long n = 0;
    unsigned ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || !*s)
            continue;
        char *id = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n')
            s++;
        size_t idn = (size_t)(s - id);
        while (*s == ' ' || *s == '\t')
            s++;
        char *v = s;
        while (*s >= 'A' && *s <= 'Z')
            s++;
        size_t vn = (size_t)(s - v);
        int ok = vn && vn < 8 && idn && idn < 128;
        if (ok) {
            char vv[8];
            memcpy(vv, v, vn);
            vv[vn] = 0;
            ok = !strcmp(vv, "PASS") || !strcmp(vv, "FAIL") || !strcmp(vv, "WARN") ||
                 !strcmp(vv, "INFO") || !strcmp(vv, "SKIP") || !strcmp(vv, "ERROR");
        }
        if (!ok || (size_t)n >= max) {
            fprintf(stderr, "%s: %s:%u: expected \"scenario-id VERDICT  # why\"\n", prog, path,
                    ln);
            fclose(f);
            return -1;
        }
        memcpy(e[n].id, id, idn);
        e[n].id[idn] = 0;
        memcpy(e[n].verdict, v, vn);
        e[n].verdict[vn] = 0;
        e[n].seen = 0;
        n++;
    }
    fclose(f);
    return n;
}

int cl_expect_compare(const rp_run *run, cl_expectation *e, long n, int filtered)
{
    int diff = 0;
    for (size_t i = 0; i < run->ncases; i++) {
        const rp_case *c = &run->cases[i];
        const char *want = "PASS";
        int listed = 0;
        for (long k = 0; k < n; k++)
            if (!strcmp(e[k].id, c->id)) {
                want = e[k].verdict;
                e[k].seen = 1;
                listed = 1;
            }
        /* A SKIP (the client or mode lacks something) is a verdict only
         * where the file says so. */
        if (c->verdict == RP_SKIP && !listed)
            continue;
        if (strcmp(want, rp_verdict_name(c->verdict))) {
            printf("expectation differs: %s: expected %s, got %s (%s)\n", c->id, want,
                   rp_verdict_name(c->verdict), c->reason ? c->reason : "");
            diff = 1;
        }
    }
    for (long k = 0; k < n && !run->interrupted && !filtered; k++)
        if (!e[k].seen) {
            printf("expectation for a scenario that did not run: %s\n", e[k].id);
            diff = 1;
        }
    return diff;
}
