/*
 * fz.h - helpers shared by the fuzz targets (not a target itself).
 * FZ_CHECK aborts with __builtin_trap() when an oracle is violated; parser
 * diagnostics are never a reason to abort.
 */
#ifndef FZ_H
#define FZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                             \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "oracle violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            __builtin_trap();                                                      \
        }                                                                          \
    } while (0)

/* Every leniency bit the header defines. */
#define FZ_ALL_FLAGS ((1u << 11) - 1u)

/* An exact-size heap copy, so that ASan sees any read past the end. */
static inline char *fz_dup(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

/* s lies inside [base, base + n); an empty slice may point anywhere. */
static inline int fz_inside(p3_slice s, const char *base, size_t n)
{
    if (s.n == 0)
        return 1;
    return s.p >= base && s.n <= n && (size_t)(s.p - base) <= n - s.n;
}

static inline int fz_same(p3_slice a, p3_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* A recorder of results, for targets whose oracle compares two runs value
 * by value. It is bookkeeping, not code under test: no coverage hooks. */
#if defined(__clang__)
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

typedef struct fz_rec {
    uint64_t *v;
    size_t n, cap;
} fz_rec;

FZ_NOCOV static inline void fz_put(fz_rec *r, uint64_t x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v)
            abort();
    }
    r->v[r->n++] = x;
}

/* Two flag bytes from the front of the input. */
static inline unsigned fz_flags(const uint8_t **data, size_t *size)
{
    unsigned f = 0;
    if (*size >= 2) {
        f = ((unsigned)(*data)[0] | (unsigned)(*data)[1] << 8) & FZ_ALL_FLAGS;
        *data += 2;
        *size -= 2;
    } else {
        *data += *size;
        *size = 0;
    }
    return f;
}

/* Where the caller resumes after a P3_ERROR: diag.skip, or through the
 * next LF when skip is 0. Returns the new offset (len when no LF). */
static inline size_t fz_skip(const char *buf, size_t off, size_t len, const p3_diag *d)
{
    if (d->skip)
        return off + d->skip;
    const char *lf = memchr(buf + off, '\n', len - off);
    return lf ? (size_t)(lf - buf) + 1 : len;
}

/* Sanity of a diagnostic for a call on n octets. */
static inline void fz_diag_ok(const p3_diag *d, size_t n)
{
    FZ_CHECK(d->code > P3_E_OK && d->code < P3_E__COUNT);
    FZ_CHECK(d->offset <= n);
    FZ_CHECK(d->skip <= n);
}

/* One line of a line stream: parse p[0..n) with the leniencies in flags
 * and check what came out. Returns what the parser returned (a length,
 * P3_NEED_MORE or P3_ERROR with *d set); checks only on success. */
typedef ssize_t (*fz_line_fn)(const char *p, size_t n, unsigned flags, p3_diag *d);

/* The driver of the line-stream targets: 2 flag bytes, then lines parsed
 * one after the other from an exact-size copy. A success must consume
 * 1..rest octets; a diagnostic must be sane, and parsing resumes where
 * fz_skip says; P3_NEED_MORE ends the stream. */
static inline int fz_lines(const uint8_t *data, size_t size, fz_line_fn line)
{
    unsigned flags = fz_flags(&data, &size);
    char *buf = fz_dup(data, size);
    size_t off = 0;
    while (off < size) {
        p3_diag d;
        size_t rem = size - off;
        ssize_t r = line(buf + off, rem, flags, &d);
        if (r == P3_NEED_MORE)
            break;
        if (r == P3_ERROR) {
            fz_diag_ok(&d, rem);
            off = fz_skip(buf, off, size, &d);
            continue;
        }
        FZ_CHECK(r > 0 && (size_t)r <= rem);
        off += (size_t)r;
    }
    free(buf);
    return 0;
}

/* A tiny deterministic PRNG for split points and capacities. */
static inline uint32_t fz_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#endif
