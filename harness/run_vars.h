/*
 * run_vars.h - the scenario variable store of both interpreters
 * (run_exec.c: pop3spec server, cl_exec.c: pop3spec client): ${name}
 * values that sc_expand / sc_match / sc_expect_* read through
 * run_vars_lookup, captures and @foreach counters write.
 *
 * Contract:
 *  - Names and values are copied; a value is always NUL-terminated after
 *    its vlen octets (it may hold NULs itself).
 *  - Secret values are wiped before they are freed.
 *  - At most `max` variables (run_vars_init); setting one more fails (-1),
 *    replacing an existing one never does for want of room.
 */
#ifndef RUN_VARS_H
#define RUN_VARS_H

#include <stddef.h>
#include <stdint.h>

#include "sc.h"

typedef struct run_var {
    char *name, *val;
    size_t vlen;
    int secret;
} run_var;

typedef struct run_vars {
    run_var *v;       /* open addressing, cap a power of two */
    size_t n, cap, max;
    int miss;         /* run_vars_lookup met an undefined name (callers
                         clear it before an expansion) */
    const char *user, *pass; /* for ${plain}; NULL: not offered */
} run_vars;

/* An empty store of at most max variables. With user and pass (both
 * kept by pointer, they must outlive the store), ${plain} and
 * ${plain.AUTHZID} are computed on first use: the AUTH PLAIN message of
 * RFC 4616, [authzid] NUL user NUL pass, in base64 (secret). */
void run_vars_init(run_vars *vs, size_t max, const char *user, const char *pass);
void run_vars_free(run_vars *vs);

/* Set name[0..n) to val[0..vlen). 0, or -1 (out of memory or room). */
int run_vars_set(run_vars *vs, const char *name, size_t n, const char *val, size_t vlen,
                 int secret);
/* The same with NUL-terminated name and value. */
int run_vars_setz(run_vars *vs, const char *name, const char *val, int secret);
/* The same with a decimal number. */
int run_vars_setu(run_vars *vs, const char *name, uint64_t v);

/* sc_lookup_fn over the store; ctx is the run_vars. 1 found (value and
 * secret set), 0 undefined (miss set). */
int run_vars_lookup(void *ctx, const char *name, size_t n, p3_slice *value, int *secret);

/* The APOP digest of RFC 1939 section 7: MD5 of a (the greeting's
 * timestamp) followed by b (the shared secret), as 32 lower-case hex
 * digits and a NUL. 0, or -1 with out "" (the digest failed). */
int run_md5_hex(const char *a, size_t an, const char *b, size_t bn, char out[33]);

#endif
