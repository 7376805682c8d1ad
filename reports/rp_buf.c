#include "rp_buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rp_buf_free(rp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

void rp_put(rp_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void rp_puts(rp_buf *b, const char *z)
{
    if (z)
        rp_put(b, z, strlen(z));
}

void rp_putu(rp_buf *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rp_put(b, tmp + i, sizeof tmp - i);
}

void rp_putms(rp_buf *b, double ms)
{
    if (!(ms >= 0))
        ms = 0;
    unsigned long long us = (unsigned long long)(ms * 1000.0 + 0.5);
    rp_putu(b, us / 1000);
    char frac[4] = {'.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10),
                    (char)('0' + us % 10)};
    rp_put(b, frac, 4);
}

void rp_put_xml(rp_buf *b, const char *z)
{
    if (!z)
        return;
    for (const unsigned char *s = (const unsigned char *)z; *s; s++) {
        switch (*s) {
        case '<': rp_puts(b, "&lt;"); break;
        case '>': rp_puts(b, "&gt;"); break;
        case '&': rp_puts(b, "&amp;"); break;
        case '"': rp_puts(b, "&quot;"); break;
        case '\'': rp_puts(b, "&#39;"); break;
        default:
            /* XML 1.0 forbids most control characters even as references;
             * transcript text is already escaped, so this only guards. */
            if (*s < 0x20 && *s != '\n' && *s != '\t')
                rp_puts(b, "?");
            else
                rp_put(b, (const char *)s, 1);
        }
    }
}

void rp_put_json(rp_buf *b, const char *z)
{
    static const char hex[] = "0123456789abcdef";
    if (!z)
        return;
    for (const unsigned char *s = (const unsigned char *)z; *s; s++) {
        switch (*s) {
        case '"': rp_puts(b, "\\\""); break;
        case '\\': rp_puts(b, "\\\\"); break;
        case '\n': rp_puts(b, "\\n"); break;
        case '\r': rp_puts(b, "\\r"); break;
        case '\t': rp_puts(b, "\\t"); break;
        default:
            if (*s < 0x20 || *s >= 0x7f) {
                char u[6] = {'\\', 'u', '0', '0', hex[*s >> 4], hex[*s & 15]};
                rp_put(b, u, 6);
            } else {
                rp_put(b, (const char *)s, 1);
            }
        }
    }
}

int rp_buf_save(const rp_buf *b, const char *path, char *err, size_t errlen)
{
    if (b->oom) {
        snprintf(err, errlen, "%s: out of memory while building the report", path);
        return -1;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int ok = fwrite(b->p ? b->p : "", 1, b->n, f) == b->n;
    ok &= fflush(f) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
