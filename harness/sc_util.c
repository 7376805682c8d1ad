/*
 * sc_util.c - loading scenario files and the runner-facing helpers of the
 * scenario language (contract in sc.h).
 */
#include "sc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void ferr(sc_error *err, const char *path, const char *what)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    snprintf(err->msg, sizeof err->msg, "%s", what);
    snprintf(err->text, sizeof err->text, "%s: %s", path ? path : "-", what);
}

int sc_parse_file(const char *path, sc_scenario *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        ferr(err, path, strerror(errno));
        return -1;
    }
    /* One octet more than the limit, so that an oversized file is seen. */
    char *buf = malloc(SC_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        ferr(err, path, "out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, SC_MAX_FILE + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        ferr(err, path, "read error");
        return -1;
    }
    int r = sc_parse(path, buf, n, out, err);
    free(buf);
    return r;
}

typedef struct plist {
    char **v;
    size_t n, cap;
} plist;

static int has_scn_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".scn") == 0;
}

static int walk(const char *dir, int depth, plist *l, sc_error *err)
{
    if (depth > 8)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        ferr(err, dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t need = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *full = malloc(need);
        if (!full) {
            ferr(err, dir, "out of memory");
            rc = -1;
            break;
        }
        snprintf(full, need, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(full, &sb) != 0) {
            free(full);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            rc = walk(full, depth + 1, l, err);
            free(full);
        } else if (S_ISREG(sb.st_mode) && has_scn_suffix(e->d_name)) {
            if (l->n == l->cap) {
                size_t nc = l->cap ? l->cap * 2 : 64;
                char **v = realloc(l->v, nc * sizeof *v);
                if (!v) {
                    free(full);
                    ferr(err, dir, "out of memory");
                    rc = -1;
                    break;
                }
                l->v = v;
                l->cap = nc;
            }
            l->v[l->n++] = full;
        } else {
            free(full);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long sc_list_dir(const char *dir, char ***paths, sc_error *err)
{
    plist l = {0};
    *paths = NULL;
    if (walk(dir, 0, &l, err) != 0) {
        sc_paths_free(l.v, l.n);
        return -1;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_str);
    *paths = l.v;
    return (long)l.n;
}

void sc_paths_free(char **paths, size_t n)
{
    if (!paths)
        return;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

sc_verdict sc_step_verdict(const sc_scenario *s, const sc_step *st)
{
    sc_level l = st && st->level ? st->level : s ? s->level : SC_LEVEL_MUST;
    switch (l) {
    case SC_LEVEL_SHOULD: return SC_V_WARN;
    case SC_LEVEL_MAY: return SC_V_INFO;
    default: return SC_V_FAIL;
    }
}

const char *sc_verdict_name(sc_verdict v)
{
    static const char *const N[] = {"PASS", "INFO", "WARN", "FAIL", "SKIP", "ERROR"};
    return (unsigned)v < sizeof N / sizeof N[0] ? N[v] : "?";
}

const char *sc_level_name(sc_level l)
{
    switch (l) {
    case SC_LEVEL_MUST: return "MUST";
    case SC_LEVEL_SHOULD: return "SHOULD";
    case SC_LEVEL_MAY: return "MAY";
    default: return "DEFAULT";
    }
}

const char *sc_step_kind_name(sc_step_kind k)
{
    static const char *const N[] = {
        "?",          "SEND",           "STATUS",         "LINE",         "EACH",
        "ENTRIES",    "BODY",           "CAPA",           "DOT",          "COMMAND",
        "FIXTURE",    "DELAY",          "SESSION",        "CONNECT",      "DROP",
        "CLOSE",      "EXPECT_CLOSE",   "EXPECT_SILENCE", "STARTTLS",     "TLS",
        "ASSERT",     "FOREACH",        "END",            "EXPECT_EXIT",  "EXPECT_STORED",
        "EXPECT_NO_COMMAND", "EXPECT_QUIT"};
    return (unsigned)k < sizeof N / sizeof N[0] ? N[k] : "?";
}

sc_status_result sc_expect_status(const sc_step *st, const char *line, size_t n,
                                  unsigned p3flags, sc_lookup_fn lookup, void *ctx,
                                  sc_capture *caps, size_t capmax, size_t *ncaps,
                                  p3_status *parsed, p3_diag *diag, sc_error *err)
{
    p3_status s;
    p3_diag dg;
    if (ncaps)
        *ncaps = 0;
    memset(&dg, 0, sizeof dg);
    ssize_t r = p3_status_parse(line, n, p3flags, &s, &dg);
    if (r < 0) {
        if (r == P3_NEED_MORE) {
            dg.code = P3_E_TRUNCATED;
            dg.offset = n;
        }
        if (diag)
            *diag = dg;
        return SC_SR_MALFORMED;
    }
    if (parsed)
        *parsed = s;
    int ok;
    switch (st->want) {
    case SC_WANT_OK: ok = s.kind == P3_ST_OK; break;
    case SC_WANT_ERR: ok = s.kind == P3_ST_ERR; break;
    case SC_WANT_ANY: ok = s.kind == P3_ST_OK || s.kind == P3_ST_ERR; break;
    case SC_WANT_CONT: ok = s.kind == P3_ST_CONT; break;
    default: ok = 0;
    }
    if (!ok)
        return SC_SR_STATUS;
    if (st->code_want == SC_CODE_NONE && s.code_kind != P3_RC_NONE)
        return SC_SR_CODE;
    if (st->code_want == SC_CODE_MATCH) {
        if (s.code_kind == P3_RC_NONE)
            return SC_SR_CODE;
        /* Response codes are case-insensitive (RFC 2449 section 8). */
        int m = sc_match(&st->code, s.code.p, s.code.n, SC_M_NOCASE, lookup, ctx, NULL, 0, NULL,
                         err);
        if (m < 0)
            return SC_SR_ERROR;
        if (m == 0)
            return SC_SR_CODE;
    }
    if (st->has_pat) {
        int m = sc_match(&st->pat, s.text.p, s.text.n, 0, lookup, ctx, caps, capmax, ncaps, err);
        if (m < 0)
            return SC_SR_ERROR;
        if (m == 0)
            return SC_SR_TEXT;
    }
    return SC_SR_MATCH;
}

int sc_expect_command(const sc_step *st, const char *line, size_t n, sc_lookup_fn lookup,
                      void *ctx, sc_capture *caps, size_t capmax, size_t *ncaps, sc_error *err)
{
    if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
        n -= 2;
    else if (n >= 1 && line[n - 1] == '\n')
        n -= 1;
    return sc_match(&st->pat, line, n, SC_M_KEYWORD_NOCASE, lookup, ctx, caps, capmax, ncaps,
                    err);
}
