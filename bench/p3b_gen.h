/*
 * p3b_gen.h - the benchmark's workload generator (bench/ only, not a library
 * API). Produces W1, W2 and W3 of shared/bench/WORKLOADS.md bit-exactly in
 * one contiguous heap buffer each, together with the generator's own totals
 * the benchmark checks the parser against.
 */
#ifndef P3B_GEN_H
#define P3B_GEN_H

#include <stddef.h>
#include <stdint.h>

/* Published sizes, counts and sums of WORKLOADS.md. */
#define P3B_W1_BYTES    67108923u
#define P3B_W1_MESSAGES 128u
#define P3B_W1_LINES    837382u
#define P3B_W1_STUFFED  16031u
#define P3B_W1_SHA256   "741d64ce7e6eefb2686444063fb2b6b2bfde3f9c2a56c1bb5baebc894003652e"

#define P3B_W2_BYTES    58259026u
#define P3B_W2_ENTRIES  1000000u
#define P3B_W2_SIZE_SUM UINT64_C(389564448701)
#define P3B_W2_SHA256   "78264026c36596dd7bd6a4ff14caa9c76c131216752c961dda63b667f586feac"

#define P3B_W3_BYTES    105932217u
#define P3B_W3_LINES    10000000u
#define P3B_W3_SHA256   "bfe7cd4d311399ae92f18da07f2a37246d6cfb61e5564a694f8ca1f14955ba09"

/* S1 (p3b_gen_s1): pop3bench's own, from its generator; the same from gcc
 * and clang builds. */
#define P3B_S1_BYTES    67108937u
#define P3B_S1_MESSAGES 15573u
#define P3B_S1_LINES    831437u
#define P3B_S1_STUFFED  15815u
#define P3B_S1_SHA256   "2e13960a2b12b946e8ee57909d34bb3b20e3e0bc5903121c38c0a3dae127eafa"

/* The command kinds of W3, in the order WORKLOADS.md lists them. UIDL and
 * LIST with and without an argument are counted apart. */
enum p3b_w3_cat {
    P3B_RETR, P3B_DELE, P3B_UIDL_N, P3B_UIDL, P3B_LIST_N, P3B_LIST, P3B_TOP, P3B_STAT,
    P3B_NOOP, P3B_USER, P3B_PASS, P3B_CAPA, P3B_RSET, P3B_QUIT, P3B_W3_NCAT
};

/* "RETR", "UIDL n", ... for messages. */
extern const char *const p3b_w3_cat_name[P3B_W3_NCAT];
/* The per-kind counts WORKLOADS.md publishes. */
extern const uint64_t p3b_w3_cat_expected[P3B_W3_NCAT];

typedef struct p3b_buf {
    char *p;
    size_t n;
    size_t cap;
} p3b_buf;

/* W1: RETR responses. Per message i (0-based): blen[i] unstuffed body octets
 * (CRLFs included), lines[i] body lines, stuffed[i] lines that start with a
 * dot (so are sent with one more). */
typedef struct p3b_w1 {
    p3b_buf buf;
    uint32_t nmsg;
    uint64_t *blen;
    uint64_t *lines;
    uint64_t *stuffed;
    uint64_t total_lines;
    uint64_t total_stuffed;
    uint64_t total_blen;
} p3b_w1;

/* W2: the LIST answer then the UIDL answer. size[i] and uidlen[i] for
 * i = 1..n (index 0 unused). */
typedef struct p3b_w2 {
    p3b_buf buf;
    uint32_t n;
    uint32_t *size;
    uint8_t *uidlen;
    uint64_t size_sum;
    uint64_t uid_bytes;
} p3b_w2;

/* W3: command lines. count[] per p3b_w3_cat; num_sum is the sum of every
 * numeric argument (n, and m of TOP). */
typedef struct p3b_w3 {
    p3b_buf buf;
    uint64_t lines;
    uint64_t count[P3B_W3_NCAT];
    uint64_t num_sum;
} p3b_w3;

/* Ask for transparent huge pages on the workload buffers generated from now
 * on (madvise MADV_HUGEPAGE; the kernel may still decline). Off by default:
 * then the buffers are marked MADV_NOHUGEPAGE, so that 4 KiB pages are used
 * whatever the system's THP setting. */
void p3b_gen_hugepages(int on);
/* Whether huge pages are asked for (else 4 KiB pages are). */
int p3b_gen_hugepages_on(void);

/* Generate a workload. Return 0, or -1 when memory runs out (nothing to
 * free then). */
int p3b_gen_w1(p3b_w1 *w);
int p3b_gen_w2(p3b_w2 *w);
int p3b_gen_w3(p3b_w3 *w);
/* S1, not in WORKLOADS.md: W1's recipe with seed 4 and every message size
 * U[200,8192] (in W1 most messages are 2 KiB to 1 MiB and the mean is about
 * 0.5 MiB). It measures what W1 cannot: the cost of a message's start and
 * end, the status line and a new p3_ml, and how far the body scan goes
 * past a terminator. Freed with p3b_free_w1. */
int p3b_gen_s1(p3b_w1 *w);

void p3b_free_w1(p3b_w1 *w);
void p3b_free_w2(p3b_w2 *w);
void p3b_free_w3(p3b_w3 *w);

/* Lower-case hex sha256 of p[0..n) into hex[65] (NUL-terminated), through
 * OpenSSL EVP. Returns 0, or -1 when OpenSSL fails. */
int p3b_sha256_hex(const void *p, size_t n, char hex[65]);

#endif
