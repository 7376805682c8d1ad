/* The workload generator of WORKLOADS.md. Every rnd() call is in the order
 * the spec writes it: one call out of place changes every byte after it,
 * and the sha256 check would catch it. */
#define _GNU_SOURCE /* mremap */
#include "p3b_gen.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/evp.h>

const char *const p3b_w3_cat_name[P3B_W3_NCAT] = {
    "RETR n", "DELE n", "UIDL n", "UIDL", "LIST n", "LIST", "TOP n m",
    "STAT",   "NOOP",   "USER",   "PASS", "CAPA",   "RSET", "QUIT"};

const uint64_t p3b_w3_cat_expected[P3B_W3_NCAT] = {
    3001602, 1998265, 801140, 200439, 800700, 200325, 599192,
    499598,  499412,  299464, 300700, 299688, 199963, 299512};

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t next(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Inlined so that every call site divides by a constant (a multiply). */
static inline uint64_t rnd(rng *r, uint64_t n) { return next(r) % n; }

static inline uint64_t uni(rng *r, uint64_t a, uint64_t b) { return a + rnd(r, b - a + 1); }

static uint64_t draw_size(rng *r)
{
    uint64_t p = rnd(r, 100);
    if (p < 10)
        return uni(r, 200, 2047);
    if (p < 80)
        return uni(r, 2048, 51200);
    if (p < 95)
        return uni(r, 51201, 1048576);
    return uni(r, 1048576, 10485760);
}

static uint64_t draw_linelen(rng *r)
{
    uint64_t p = rnd(r, 100);
    if (p < 4)
        return 0;
    if (p < 12)
        return uni(r, 1, 59);
    if (p < 97)
        return uni(r, 60, 80);
    return uni(r, 81, 998);
}

/* Workload buffers are mmap()ed directly rather than malloc()ed: the size
 * is rounded to 2 MiB so that, with huge pages asked for, the kernel can
 * back them with transparent huge pages, and growth is mremap(). */
static int use_huge;

void p3b_gen_hugepages(int on) { use_huge = on; }

int p3b_gen_hugepages_on(void) { return use_huge; }

static size_t round_map(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    return (n + huge - 1) & ~(huge - 1);
}

static int buf_reserve(p3b_buf *b, size_t more)
{
    if (b->cap - b->n >= more)
        return 0;
    size_t cap = round_map(b->n + more > 2 * b->cap ? b->n + more : 2 * b->cap);
    void *p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE)
                   : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    /* Either way explicitly: with the system's THP setting at "always",
     * leaving it alone would give huge pages without --hugepages. */
    madvise(p, cap, use_huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_free(p3b_buf *b)
{
    if (b->p)
        munmap(b->p, b->cap);
    b->p = NULL;
    b->n = b->cap = 0;
}

static inline void put(p3b_buf *b, const char *s, size_t n)
{
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static inline void put_u64(p3b_buf *b, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, tmp + i, sizeof tmp - i);
}

/* Gives back the reserve: one workload is alive at a time, but W3 reserves
 * four times what it uses. */
static void buf_trim(p3b_buf *b)
{
    size_t keep = round_map(b->n ? b->n : 1);
    if (keep < b->cap) {
        munmap(b->p + keep, b->cap - keep);
        b->cap = keep;
    }
}

/* S1's message sizes: short, as in a mailbox of ordinary mail. */
static uint64_t draw_short(rng *r) { return uni(r, 200, 8192); }

/* W1's recipe, with the seed and the size draw as parameters. */
static int gen_retr(p3b_w1 *w, uint64_t seed, uint64_t (*size)(rng *), uint32_t maxmsg)
{
    enum { LIMIT = 67108864 };
    memset(w, 0, sizeof *w);
    rng r = {seed};
    /* The unstuffed body is built first: its length goes in the status line
     * that precedes it. A body line is at most 998 + 2 octets over target. */
    p3b_buf body = {0};
    w->blen = calloc(maxmsg, sizeof *w->blen);
    w->lines = calloc(maxmsg, sizeof *w->lines);
    w->stuffed = calloc(maxmsg, sizeof *w->stuffed);
    if (!w->blen || !w->lines || !w->stuffed || buf_reserve(&w->buf, LIMIT + (1u << 20)))
        goto fail;
    uint64_t cur = 0;
    while (cur < LIMIT) {
        if (w->nmsg == maxmsg)
            goto fail;
        uint64_t target = size(&r);
        if (target > LIMIT - cur)
            target = LIMIT - cur;
        body.n = 0;
        if (buf_reserve(&body, target + 1024))
            goto fail;
        uint64_t lines = 0, stuffed = 0;
        while (body.n < target) {
            uint64_t len = draw_linelen(&r);
            if (len > 0) {
                if (rnd(&r, 100) < 2) {
                    body.p[body.n++] = '.';
                    stuffed++;
                } else {
                    body.p[body.n++] = (char)('A' + rnd(&r, 26));
                }
                for (uint64_t k = 1; k < len; k++)
                    body.p[body.n++] = (char)(0x20 + rnd(&r, 95));
            }
            body.p[body.n++] = '\r';
            body.p[body.n++] = '\n';
            lines++;
        }
        if (buf_reserve(&w->buf, 64 + body.n + stuffed + 3))
            goto fail;
        size_t start = w->buf.n;
        put(&w->buf, "+OK ", 4);
        put_u64(&w->buf, body.n);
        put(&w->buf, " octets\r\n", 9);
        /* Lines are copied whole between the dots that need stuffing. */
        const char *p = body.p, *end = body.p + body.n;
        while (p < end) {
            const char *eol = memchr(p, '\n', (size_t)(end - p)) + 1;
            if (*p == '.')
                w->buf.p[w->buf.n++] = '.';
            put(&w->buf, p, (size_t)(eol - p));
            p = eol;
        }
        put(&w->buf, ".\r\n", 3);
        cur += w->buf.n - start;
        w->blen[w->nmsg] = body.n;
        w->lines[w->nmsg] = lines;
        w->stuffed[w->nmsg] = stuffed;
        w->total_blen += body.n;
        w->total_lines += lines;
        w->total_stuffed += stuffed;
        w->nmsg++;
    }
    buf_free(&body);
    buf_trim(&w->buf);
    return 0;
fail:
    buf_free(&body);
    p3b_free_w1(w);
    return -1;
}

int p3b_gen_w2(p3b_w2 *w)
{
    enum { N = 1000000 };
    memset(w, 0, sizeof *w);
    rng r = {2};
    w->n = N;
    w->size = malloc((N + 1) * sizeof *w->size);
    w->uidlen = malloc(N + 1);
    /* LIST lines: at most 7 + 1 + 8 + 2; UIDL lines: at most 7 + 1 + 70 + 2. */
    if (!w->size || !w->uidlen || buf_reserve(&w->buf, (size_t)N * (18 + 80) + 256))
        goto fail;
    w->size[0] = 0;
    w->uidlen[0] = 0;
    for (uint32_t i = 1; i <= N; i++) {
        w->size[i] = (uint32_t)draw_size(&r);
        w->size_sum += w->size[i];
    }
    put(&w->buf, "+OK ", 4);
    put_u64(&w->buf, N);
    put(&w->buf, " messages (", 11);
    put_u64(&w->buf, w->size_sum);
    put(&w->buf, " octets)\r\n", 10);
    for (uint32_t i = 1; i <= N; i++) {
        put_u64(&w->buf, i);
        w->buf.p[w->buf.n++] = ' ';
        put_u64(&w->buf, w->size[i]);
        put(&w->buf, "\r\n", 2);
    }
    put(&w->buf, ".\r\n+OK\r\n", 8);
    for (uint32_t i = 1; i <= N; i++) {
        uint64_t len = 1 + rnd(&r, 70);
        w->uidlen[i] = (uint8_t)len;
        w->uid_bytes += len;
        put_u64(&w->buf, i);
        w->buf.p[w->buf.n++] = ' ';
        for (uint64_t k = 0; k < len; k++)
            w->buf.p[w->buf.n++] = (char)(0x21 + rnd(&r, 94));
        put(&w->buf, "\r\n", 2);
    }
    put(&w->buf, ".\r\n", 3);
    buf_trim(&w->buf);
    return 0;
fail:
    p3b_free_w2(w);
    return -1;
}

/* Keywords by category in the three cases of the spec: q==0 lower,
 * q==1 Capitalized, else UPPER. */
static const char *const kw_upper[P3B_W3_NCAT] = {
    "RETR", "DELE", "UIDL", "UIDL", "LIST", "LIST", "TOP",
    "STAT", "NOOP", "USER", "PASS", "CAPA", "RSET", "QUIT"};

static enum p3b_w3_cat w3_cat(uint64_t p)
{
    static const uint16_t upto[P3B_W3_NCAT] = {300, 500, 580, 600, 680, 700, 760,
                                               810, 860, 890, 920, 950, 970, 1000};
    unsigned c = 0;
    while (p >= upto[c])
        c++;
    return (enum p3b_w3_cat)c;
}

int p3b_gen_w3(p3b_w3 *w)
{
    enum { N = 10000000 };
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    memset(w, 0, sizeof *w);
    rng r = {3};
    /* Longest line: "PASS " + 32 + CRLF. */
    if (buf_reserve(&w->buf, (size_t)N * 40))
        return -1;
    for (uint32_t line = 0; line < N; line++) {
        uint64_t p = rnd(&r, 1000);
        uint64_t q = rnd(&r, 10);
        enum p3b_w3_cat c = w3_cat(p);
        const char *kw = kw_upper[c];
        size_t kwlen = strlen(kw);
        for (size_t k = 0; k < kwlen; k++) {
            char ch = kw[k];
            if (q == 0 || (q == 1 && k > 0))
                ch = (char)(ch | 0x20);
            w->buf.p[w->buf.n++] = ch;
        }
        switch (c) {
        case P3B_RETR:
        case P3B_DELE:
        case P3B_UIDL_N:
        case P3B_LIST_N: {
            uint64_t n = 1 + rnd(&r, 5000);
            w->num_sum += n;
            w->buf.p[w->buf.n++] = ' ';
            put_u64(&w->buf, n);
            break;
        }
        case P3B_TOP: {
            uint64_t n = 1 + rnd(&r, 5000);
            uint64_t m = rnd(&r, 201);
            w->num_sum += n + m;
            w->buf.p[w->buf.n++] = ' ';
            put_u64(&w->buf, n);
            w->buf.p[w->buf.n++] = ' ';
            put_u64(&w->buf, m);
            break;
        }
        case P3B_USER: {
            uint64_t len = 3 + rnd(&r, 18);
            w->buf.p[w->buf.n++] = ' ';
            for (uint64_t k = 0; k < len; k++)
                w->buf.p[w->buf.n++] = alnum[rnd(&r, 36)];
            break;
        }
        case P3B_PASS: {
            uint64_t len = 8 + rnd(&r, 25);
            w->buf.p[w->buf.n++] = ' ';
            for (uint64_t k = 0; k < len; k++)
                w->buf.p[w->buf.n++] = (char)(0x21 + rnd(&r, 94));
            break;
        }
        default:
            break;
        }
        put(&w->buf, "\r\n", 2);
        w->count[c]++;
        w->lines++;
    }
    buf_trim(&w->buf);
    return 0;
}

int p3b_gen_w1(p3b_w1 *w) { return gen_retr(w, 1, draw_size, 4096); }

int p3b_gen_s1(p3b_w1 *w) { return gen_retr(w, 4, draw_short, 32768); }

void p3b_free_w1(p3b_w1 *w)
{
    buf_free(&w->buf);
    free(w->blen);
    free(w->lines);
    free(w->stuffed);
    memset(w, 0, sizeof *w);
}

void p3b_free_w2(p3b_w2 *w)
{
    buf_free(&w->buf);
    free(w->size);
    free(w->uidlen);
    memset(w, 0, sizeof *w);
}

void p3b_free_w3(p3b_w3 *w)
{
    buf_free(&w->buf);
    memset(w, 0, sizeof *w);
}

int p3b_sha256_hex(const void *p, size_t n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -1;
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}
