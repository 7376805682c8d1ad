/*
 * p3b_parse.h - the parser side of the benchmark: each function runs the
 * public parser over a whole generated workload, fed in P3B_CHUNK windows as
 * a socket reader would see it, and checks every result against the
 * generator's totals while it runs (so the check is inside the timing).
 */
#ifndef P3B_PARSE_H
#define P3B_PARSE_H

#include <stddef.h>

#include "p3b_gen.h"

/* The read size of the simulated socket. */
#define P3B_CHUNK 16384u

typedef struct p3b_err {
    char msg[256];
} p3b_err;

/* Which parser entry points W2 and W3 use: one call per line (W2:
 * p3_ml_list / p3_ml_uidl, line and entry in one pass; W3: p3_cmd_parse),
 * two calls per line for W2 (p3_ml_line, then p3_list_entry /
 * p3_uidl_entry; W3 as single), or the batch forms (p3_ml_lines then the
 * entries, p3_cmd_parse_many). The checks are the same. Default
 * P3B_API_SINGLE, the fastest on the development machine (see
 * bench/README.md). */
typedef enum p3b_api { P3B_API_SINGLE = 0, P3B_API_BATCH = 1, P3B_API_LINE = 2 } p3b_api;
void p3b_set_api(p3b_api api);

/* Each returns 0 when everything the parser produced matches the generator,
 * or -1 with e->msg saying what differed and where. */
/* RETR responses (W1, S1); name starts the messages. */
int p3b_parse_retr(const p3b_w1 *w, const char *name, p3b_err *e);
int p3b_parse_w2(const p3b_w2 *w, p3b_err *e);
int p3b_parse_w3(const p3b_w3 *w, p3b_err *e);

#endif
