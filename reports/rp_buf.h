/*
 * rp_buf.h - a growable output buffer and the escapers shared by the report
 * writers (private to reports/).
 */
#ifndef RP_BUF_H
#define RP_BUF_H

#include <stddef.h>

typedef struct rp_buf {
    char *p;
    size_t n, cap;
    int oom;  /* an allocation failed: contents are incomplete */
} rp_buf;

void rp_buf_free(rp_buf *b);
void rp_put(rp_buf *b, const char *s, size_t n);
void rp_puts(rp_buf *b, const char *z);
void rp_putu(rp_buf *b, unsigned long long v);
void rp_putms(rp_buf *b, double ms); /* "12.345" */
/* Escapers: NULL z writes nothing (JSON: the caller writes null). */
void rp_put_xml(rp_buf *b, const char *z);  /* XML/HTML text and attributes */
void rp_put_json(rp_buf *b, const char *z); /* inside "..." */

/* Write b to path through path.tmp + rename. 0 or -1 with err. */
int rp_buf_save(const rp_buf *b, const char *path, char *err, size_t errlen);

#endif
