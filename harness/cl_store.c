/* What a client stored, read back in the form the profile declares, so that
 * it can be compared octet for octet with the messages that were served. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cl.h"

typedef struct coll {
    cl_stored *v;
    size_t n;
    size_t total;
} coll;

static int read_all(const char *path, size_t budget, char **out, size_t *n, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (!b) {
            fclose(f);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (len == cap) {
            if (cap >= budget) {
                fclose(f);
                free(b);
                snprintf(err, errlen, "%s: more than %u octets stored in all", path,
                         CL_MAX_STORED_OCTETS);
                return -1;
            }
            cap *= 2;
            char *nb = realloc(b, cap + 1);
            if (!nb)
                free(b);
            b = nb;
            continue;
        }
        size_t k = fread(b + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    fclose(f);
    b[len] = 0;
    *out = b;
    *n = len;
    return 0;
}

/* The end of the line starting at i (one past its LF, or n). */
static size_t line_end(const char *d, size_t n, size_t i)
{
    const char *lf = memchr(d + i, '\n', n - i);
    return lf ? (size_t)(lf - d) + 1 : n;
}

static int is_blank_line(const char *d, size_t s, size_t e)
{
    size_t k = e - s;
    return (k == 1 && d[s] == '\n') || (k == 2 && d[s] == '\r' && d[s + 1] == '\n') || k == 0;
}

/* Remove the header fields the client adds (strip-headers), with their
 * continuation lines, from the header section only. In place. */
static void strip_headers(const cl_profile *p, char *d, size_t *n)
{
    if (!p->nstrip)
        return;
    size_t in = 0, out = 0, len = *n;
    int dropping = 0, in_header = 1;
    while (in < len) {
        size_t e = line_end(d, len, in);
        int keep = 1;
        if (in_header) {
            if (is_blank_line(d, in, e)) {
                in_header = 0;
                dropping = 0;
            } else if (d[in] == ' ' || d[in] == '\t') {
                keep = !dropping;
            } else {
                dropping = 0;
                const char *colon = memchr(d + in, ':', e - in);
                if (colon) {
                    size_t nl = (size_t)(colon - (d + in));
                    for (size_t i = 0; i < p->nstrip; i++)
                        if (strlen(p->strip[i]) == nl && !strncasecmp(p->strip[i], d + in, nl))
                            dropping = 1;
                }
                keep = !dropping;
            }
        }
        if (keep) {
            memmove(d + out, d + in, e - in);
            out += e - in;
        }
        in = e;
    }
    *n = out;
}

static int add(coll *c, const cl_profile *p, const char *name, const char *data, size_t n,
               size_t raw)
{
    if (c->n >= CL_MAX_STORED)
        return -1;
    cl_stored *s = &c->v[c->n];
    s->name = strdup(name);
    s->data = malloc(n + 1);
    if (!s->name || !s->data) {
        free(s->name);
        free(s->data);
        return -1;
    }
    memcpy(s->data, data, n);
    s->data[n] = 0;
    s->len = n;
    s->raw_len = raw;
    strip_headers(p, s->data, &s->len);
    s->data[s->len] = 0;
    c->n++;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in dir (names starting with "." left out),
 * sorted by name; prefix goes before the names shown ("new/"). */
static int collect_dir(coll *c, const cl_profile *p, const char *dir, const char *prefix,
                       char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1);
    char *names[CL_MAX_STORED + 1];
    size_t nn = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (nn >= CL_MAX_STORED) {
            snprintf(err, errlen, "%s: more than %d stored files", dir, CL_MAX_STORED);
            rc = -1;
            break;
        }
        names[nn] = strdup(de->d_name);
        if (!names[nn]) {
            rc = -1;
            break;
        }
        nn++;
    }
    closedir(d);
    qsort(names, nn, sizeof names[0], cmp_name);
    for (size_t i = 0; i < nn && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        char *data;
        size_t n;
        size_t budget = CL_MAX_STORED_OCTETS - c->total;
        if (read_all(path, budget, &data, &n, err, errlen)) {
            rc = -1;
            break;
        }
        c->total += n;
        char shown[512];
        snprintf(shown, sizeof shown, "%s%s", prefix, names[i]);
        if (add(c, p, shown, data, n, n)) {
            snprintf(err, errlen, "%s: too many stored messages", dir);
            rc = -1;
        }
        free(data);
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    return rc;
}

/* mbox: messages start with a "From " line at the start of the file or of
 * a line; the empty line before the next "From " is the separator's. With
 * mbox-quoting = rd, ">From " (any number of ">") loses one ">". */
static int collect_mbox(coll *c, const cl_profile *p, const char *path, char *err, size_t errlen)
{
    char *d;
    size_t n;
    struct stat st;
    if (stat(path, &st) && errno == ENOENT)
        return 0;
    if (read_all(path, CL_MAX_STORED_OCTETS, &d, &n, err, errlen))
        return -1;
    char *msg = malloc(n + 1);
    if (!msg) {
        free(d);
        return -1;
    }
    size_t i = 0, k = 0;
    int have = 0, rc = 0;
    unsigned num = 0;
    while (i <= n && rc == 0) {
        int at_end = i == n;
        int from = !at_end && n - i >= 5 && !memcmp(d + i, "From ", 5);
        if (at_end || from) {
            if (have) {
                /* The separator's empty line. */
                if (k >= 2 && msg[k - 1] == '\n' && msg[k - 2] == '\n')
                    k--;
                else if (k >= 4 && !memcmp(msg + k - 4, "\r\n\r\n", 4))
                    k -= 2;
                char name[32];
                snprintf(name, sizeof name, "mbox #%u", ++num);
                if (add(c, p, name, msg, k, k)) {
                    snprintf(err, errlen, "%s: too many stored messages", path);
                    rc = -1;
                }
            }
            if (at_end)
                break;
            have = 1;
            k = 0;
            i = line_end(d, n, i);
            continue;
        }
        size_t e = line_end(d, n, i);
        size_t s = i;
        if (p->mbox_rd && d[s] == '>') {
            size_t q = s;
            while (q < e && d[q] == '>')
                q++;
            if (e - q >= 5 && !memcmp(d + q, "From ", 5))
                s++;
        }
        if (have) {
            memcpy(msg + k, d + s, e - s);
            k += e - s;
        }
        i = e;
    }
    free(msg);
    free(d);
    return rc;
}

int cl_store_collect(const cl_profile *p, const char *path, cl_stored **out, size_t *n, char *err,
                     size_t errlen)
{
    coll c = {calloc(CL_MAX_STORED, sizeof(cl_stored)), 0, 0};
    *out = NULL;
    *n = 0;
    if (!c.v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc;
    if (p->store == CL_STORE_MBOX) {
        rc = collect_mbox(&c, p, path, err, errlen);
    } else if (p->store == CL_STORE_MAILDIR) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/new", path);
        rc = collect_dir(&c, p, sub, "new/", err, errlen);
        snprintf(sub, sizeof sub, "%s/cur", path);
        if (rc == 0)
            rc = collect_dir(&c, p, sub, "cur/", err, errlen);
    } else {
        rc = collect_dir(&c, p, path, "", err, errlen);
    }
    *out = c.v;
    *n = c.n;
    return rc;
}

void cl_store_free(cl_stored *s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++) {
        free(s[i].name);
        free(s[i].data);
    }
    free(s);
}

char *cl_store_expect(const cl_profile *p, const char *msg, size_t n, size_t *outn)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p->lf && msg[i] == '\r' && i + 1 < n && msg[i + 1] == '\n')
            continue;
        o[k++] = msg[i];
    }
    o[k] = 0;
    *outn = k;
    return o;
}
