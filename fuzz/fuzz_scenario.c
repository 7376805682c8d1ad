/*
 * fuzz_scenario.c - the scenario parser (harness/sc_parse.c) on any input,
 * as a file named "fuzz.scn". Oracle: it returns success with at least one
 * step, or an error whose line and column lie inside the input (line 0 only
 * for an oversized file); everything it allocates is freed (LeakSanitizer).
 * Patterns of a parsed scenario are also run through the matcher against
 * the input's first line, and templates through the expander.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int any_value(void *ctx, const char *name, size_t n, p3_slice *v, int *secret)
{
    (void)ctx;
    if (n && name[0] == 'u')
        return 0; /* some variables are undefined */
    v->p = "1";
    v->n = 1;
    *secret = n && name[0] == 'p';
    return 1;
}

/* Length of line `line` (1-based) of buf, without its LF; -1 if none. */
static long line_len(const char *buf, size_t len, unsigned line)
{
    size_t pos = 0;
    for (unsigned l = 1; l < line; l++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return -1;
        pos = (size_t)(nl - buf) + 1;
    }
    const char *nl = memchr(buf + pos, '\n', len - pos);
    return nl ? nl - (buf + pos) : (long)(len - pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    sc_scenario s;
    sc_error e;
    if (sc_parse("fuzz.scn", buf, size, &s, &e) == 0) {
        if (s.nsteps == 0 || s.nsteps > SC_MAX_STEPS || !s.id || !s.steps)
            abort();
        size_t first = size;
        const char *nl = memchr(buf, '\n', size);
        if (nl)
            first = (size_t)(nl - buf);
        for (size_t i = 0; i < s.nsteps && i < 64; i++) {
            const sc_step *st = &s.steps[i];
            if (st->loc.line == 0 || st->loc.col == 0)
                abort();
            sc_capture caps[SC_MAX_CAPTURES];
            size_t nc;
            sc_error me;
            if (st->has_pat) {
                int r = sc_match(&st->pat, buf, first, 0, any_value, NULL, caps, SC_MAX_CAPTURES,
                                 &nc, &me);
                if (r == 1)
                    for (size_t k = 0; k < nc; k++)
                        if (caps[k].value.p < buf || caps[k].value.p + caps[k].value.n > buf + first)
                            abort();
            }
            if (st->text) {
                char out[512];
                size_t on;
                unsigned xf;
                (void)sc_expand(st->text, st->text_len, any_value, NULL, out, sizeof out, &on, &xf,
                                &me);
            }
        }
        sc_free(&s);
        return 0;
    }
    if (s.steps || s.id || s.nsteps)
        abort(); /* a failed parse leaves the scenario empty */
    if (e.line == 0) {
        if (size <= SC_MAX_FILE)
            abort();
        return 0;
    }
    long ll = line_len(buf, size, e.line);
    if (ll < 0 || e.col == 0 || e.col > (unsigned long)ll + 1)
        abort();
    return 0;
}
