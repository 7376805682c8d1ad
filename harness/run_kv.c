/* The profile line reader shared by both runners (run_kv.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_kv.h"

void run_kv_init(run_kv *kv, const char *path, const char *buf, size_t len, int expand,
                 size_t keymax)
{
    memset(kv, 0, sizeof *kv);
    kv->path = path;
    kv->buf = buf;
    kv->len = len;
    kv->expand = expand;
    kv->keymax = keymax && keymax <= sizeof kv->key ? keymax : sizeof kv->key;
}

/* $NAME at the start of the value: the environment's value, then the rest. */
static int expand_value(run_kv *kv, char *err, size_t errlen)
{
    const char *v = kv->v;
    size_t vn = kv->vn, k = 1;
    while (k < vn && ((v[k] >= 'A' && v[k] <= 'Z') || (v[k] >= 'a' && v[k] <= 'z') ||
                      (v[k] >= '0' && v[k] <= '9') || v[k] == '_'))
        k++;
    char name[128];
    const char *e = NULL;
    if (k > 1 && k - 1 < sizeof name) {
        memcpy(name, v + 1, k - 1);
        name[k - 1] = 0;
        e = getenv(name);
    }
    if (!e || !*e || strlen(e) + (vn - k) >= sizeof kv->xv) {
        snprintf(err, errlen, "%s:%u: \"%.*s\": the environment variable is not set", kv->path,
                 kv->line, (int)(k > 60 ? 60 : k), v);
        return -1;
    }
    size_t en = strlen(e);
    memcpy(kv->xv, e, en);
    memmove(kv->xv + en, v + k, vn - k);
    kv->v = kv->xv;
    kv->vn = en + vn - k;
    return 0;
}

int run_kv_next(run_kv *kv, char *err, size_t errlen)
{
    while (kv->pos < kv->len) {
        kv->line++;
        size_t end = kv->pos;
        while (end < kv->len && kv->buf[end] != '\n')
            end++;
        const char *s = kv->buf + kv->pos;
        size_t n = end - kv->pos;
        kv->pos = end + 1;
        if (n && s[n - 1] == '\r')
            n--;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
                snprintf(err, errlen, "%s:%u: control character 0x%02x in the profile", kv->path,
                         kv->line, (unsigned char)s[i]);
                return -1;
            }
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        const char *eq = memchr(s, '=', n);
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected \"key = value\", got \"%.*s\"", kv->path,
                     kv->line, (int)(n > 60 ? 60 : n), s);
            return -1;
        }
        size_t kn = (size_t)(eq - s);
        while (kn && (s[kn - 1] == ' ' || s[kn - 1] == '\t'))
            kn--;
        kv->v = eq + 1;
        kv->vn = n - (size_t)(kv->v - s);
        while (kv->vn && (*kv->v == ' ' || *kv->v == '\t'))
            kv->v++, kv->vn--;
        if (kv->expand && kv->vn && kv->v[0] == '$' && expand_value(kv, err, errlen))
            return -1;
        if (kn == 0 || kn >= kv->keymax) {
            snprintf(err, errlen, "%s:%u: missing or over-long key before \"=\"", kv->path,
                     kv->line);
            return -1;
        }
        memcpy(kv->key, s, kn);
        kv->key[kn] = 0;
        return 1;
    }
    return 0;
}

int run_kv_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *b = malloc(RUN_KV_MAX_FILE);
    if (!b) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(b, 1, RUN_KV_MAX_FILE, f);
    int big = n == RUN_KV_MAX_FILE && fgetc(f) != EOF;
    fclose(f);
    if (big) {
        free(b);
        snprintf(err, errlen, "%s: larger than 64 KiB: not a profile", path);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

char *run_kv_dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

int run_kv_set_str(char **dst, const char *v, size_t n)
{
    free(*dst);
    *dst = run_kv_dupn(v, n);
    return *dst ? 0 : -1;
}

int run_kv_parse_time(const char *v, size_t n, uint32_t max_ms, uint32_t *ms)
{
    size_t k = 0;
    uint64_t x = 0;
    /* Bounded while reading, so no number of digits can overflow. */
    while (k < n && v[k] >= '0' && v[k] <= '9') {
        x = x * 10 + (uint64_t)(v[k] - '0');
        if (x > max_ms)
            return -1;
        k++;
    }
    if (k == 0)
        return -1;
    uint64_t mult;
    if (k == n || (n - k == 1 && v[k] == 's'))
        mult = 1000;
    else if (n - k == 2 && v[k] == 'm' && v[k + 1] == 's')
        mult = 1;
    else if (n - k == 1 && v[k] == 'm')
        mult = 60000;
    else
        return -1;
    if (x * mult > max_ms || x * mult == 0)
        return -1;
    *ms = (uint32_t)(x * mult);
    return 0;
}
