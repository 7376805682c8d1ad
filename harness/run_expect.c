/* Expectations files for both runners (run_expect.h). One loader and one
 * comparison, so that a verdict file means the same to `pop3spec server`
 * and `pop3spec client`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run_expect.h"

void run_expect_init(run_expect *x)
{
    memset(x, 0, sizeof *x);
}

void run_expect_free(run_expect *x)
{
    free(x->e);
    run_expect_init(x);
}

static run_expectation *find(run_expect *x, const char *id)
{
    for (size_t i = 0; i < x->n; i++)
        if (!strcmp(x->e[i].id, id))
            return &x->e[i];
    return NULL;
}

int run_expect_load(run_expect *x, const char *prog, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    char line[1024];
    unsigned ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || *s == '\r' || !*s)
            continue;
        char *id = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            s++;
        size_t idn = (size_t)(s - id);
        while (*s == ' ' || *s == '\t')
            s++;
        char *v = s;
        while (*s >= 'A' && *s <= 'Z')
            s++;
        size_t vn = (size_t)(s - v);
        char vv[8] = "";
        int ok = vn && vn < sizeof vv && idn && idn < sizeof x->e[0].id;
        if (ok) {
            memcpy(vv, v, vn);
            vv[vn] = 0;
            ok = !strcmp(vv, "PASS") || !strcmp(vv, "FAIL") || !strcmp(vv, "WARN") ||
                 !strcmp(vv, "INFO") || !strcmp(vv, "SKIP") || !strcmp(vv, "ERROR");
        }
        if (!ok) {
            fprintf(stderr, "%s: %s:%u: expected \"scenario-id VERDICT  # why\"\n", prog, path, ln);
            fclose(f);
            return -1;
        }
        char idz[128];
        memcpy(idz, id, idn);
        idz[idn] = 0;
        run_expectation *e = find(x, idz);
        if (!e) {
            if (x->n >= RUN_EXPECT_MAX) {
                fprintf(stderr, "%s: %s:%u: more than %d expectations\n", prog, path, ln,
                        RUN_EXPECT_MAX);
                fclose(f);
                return -1;
            }
            if (x->n == x->cap) {
                size_t cap = x->cap ? x->cap * 2 : 128;
                run_expectation *ne = realloc(x->e, cap * sizeof *ne);
                if (!ne) {
                    fprintf(stderr, "%s: out of memory\n", prog);
                    fclose(f);
                    return -1;
                }
                x->e = ne;
                x->cap = cap;
            }
            e = &x->e[x->n++];
            memcpy(e->id, idz, idn + 1);
        }
        memcpy(e->verdict, vv, vn + 1);
        e->seen = 0;
    }
    fclose(f);
    return 0;
}

int run_expect_compare(const rp_run *run, run_expect *x, int filtered, FILE *out)
{
    int diff = 0;
    for (size_t i = 0; i < run->ncases; i++) {
        const rp_case *c = &run->cases[i];
        /* Slow scenarios skipped for want of --slow did not run. */
        if (c->verdict == RP_SKIP && c->reason && strstr(c->reason, "--slow"))
            continue;
        run_expectation *e = find(x, c->id);
        if (e)
            e->seen = 1;
        const char *want = e ? e->verdict : "PASS";
        /* A SKIP (a capability absent in this mode, a client lacking a
         * template) is a difference only where the file expects SKIP;
         * --no-skip forbids SKIPs altogether. */
        if (c->verdict == RP_SKIP && strcmp(want, "SKIP"))
            continue;
        if (strcmp(want, rp_verdict_name(c->verdict))) {
            fprintf(out, "expectation differs: %s: expected %s, got %s (%s)\n", c->id, want,
                    rp_verdict_name(c->verdict), c->reason ? c->reason : "");
            diff = 1;
        }
    }
    for (size_t k = 0; k < x->n && !run->interrupted && !filtered; k++)
        if (!x->e[k].seen) {
            fprintf(out, "expectation for a scenario that did not run: %s\n", x->e[k].id);
            diff = 1;
        }
    return diff;
}
