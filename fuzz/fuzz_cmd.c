/* fuzz_cmd: p3_cmd_parse over a stream of command lines. Input: 2 flag
 * bytes (leniencies), then the stream. Oracles: lengths and slices inside
 * the input, nargs bounded, leniency bits only from flags, a line that needed
 * no leniency parses the same in strict mode, and p3_cmd_format output of a
 * strict success parses back to the same kind and arguments. */
#include "fz.h"

static void same_cmd(const p3_cmd *a, const p3_cmd *b)
{
    FZ_CHECK(a->kind == b->kind);
    FZ_CHECK(a->nargs == b->nargs);
    for (unsigned i = 0; i < a->nargs; i++)
        FZ_CHECK(fz_same(a->args[i], b->args[i]));
}

static void roundtrip(const p3_cmd *c)
{
    char kw[64], out[512];
    p3_diag d;
    if (c->keyword.n >= sizeof kw)
        return;
    memcpy(kw, c->keyword.p, c->keyword.n);
    kw[c->keyword.n] = '\0';
    ssize_t n = p3_cmd_format(out, sizeof out, c->kind, kw, c->args, c->nargs, &d);
    if (n == P3_ERROR) {
        FZ_CHECK(d.code > P3_E_OK && d.code < P3_E__COUNT);
        return;
    }
    FZ_CHECK(n > 0 && (size_t)n <= sizeof out);
    char *again = fz_dup(out, (size_t)n);
    p3_cmd c2;
    ssize_t r = p3_cmd_parse(again, (size_t)n, 0, &c2, &d);
    FZ_CHECK(r == n);
    same_cmd(c, &c2);
    free(again);
}

static void check_line(const char *line, size_t n, unsigned flags, const p3_cmd *c)
{
    FZ_CHECK((unsigned)c->kind < P3_CMD__COUNT);
    FZ_CHECK(c->nargs <= P3_MAX_ARGS);
    FZ_CHECK((c->lenient & ~flags) == 0);
    FZ_CHECK(c->keyword.n > 0 && fz_inside(c->keyword, line, n));
    FZ_CHECK(fz_inside(c->rest, line, n));
    for (unsigned i = 0; i < c->nargs; i++)
        FZ_CHECK(fz_inside(c->args[i], line, n));
    if (c->kind != P3_CMD_UNKNOWN)
        FZ_CHECK(p3_slice_ieq(c->keyword, p3_cmd_keyword(c->kind)));
    if (c->lenient == 0) {
        if (flags) {
            p3_cmd s;
            p3_diag d;
            FZ_CHECK(p3_cmd_parse(line, n, 0, &s, &d) == (ssize_t)n);
            same_cmd(c, &s);
        }
        roundtrip(c);
    }
}

static ssize_t one(const char *p, size_t n, unsigned flags, p3_diag *d)
{
    p3_cmd c;
    ssize_t r = p3_cmd_parse(p, n, flags, &c, d);
    if (r > 0 && (size_t)r <= n)
        check_line(p, (size_t)r, flags, &c);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_lines(data, size, one);
}
