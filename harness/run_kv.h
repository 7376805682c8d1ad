/*
 * run_kv.h - the "key = value" line reader of target profiles
 * (run_profile.c) and client profiles (cl_profile.c): one key per line,
 * '#' comment lines, blank lines, spaces around key and value trimmed,
 * control characters refused, every error as "path:line: message".
 */
#ifndef RUN_KV_H
#define RUN_KV_H

#include <stddef.h>
#include <stdint.h>

#define RUN_KV_MAX_FILE 65536 /* profile files are at most 64 KiB */

typedef struct run_kv {
    const char *path, *buf;
    size_t len, pos;
    unsigned line;          /* of the pair just returned */
    int expand;             /* a value starting with $NAME takes NAME's value
                               from the environment (ports, folders a test
                               script made) */
    size_t keymax;          /* keys must be shorter */
    char key[64];
    const char *v;          /* the value: into buf, or into xv when expanded */
    size_t vn;
    char xv[4096];
} run_kv;

/* Read buf[0..len) of path; keymax at most sizeof key. */
void run_kv_init(run_kv *kv, const char *path, const char *buf, size_t len, int expand,
                 size_t keymax);
/* The next pair into kv->key / kv->v / kv->vn: 1; 0 at the end; -1 with
 * "path:line: ..." in err. */
int run_kv_next(run_kv *kv, char *err, size_t errlen);

/* Read a whole profile file (at most RUN_KV_MAX_FILE octets) into a
 * malloc'd buffer. 0, or -1 with "path: ..." in err. */
int run_kv_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

/* The small value helpers of both profile parsers. */

/* A malloc'd NUL-terminated copy of s[0..n), or NULL. */
char *run_kv_dupn(const char *s, size_t n);
/* Replace *dst (freed) by a copy of v[0..n). 0, or -1 (out of memory). */
int run_kv_set_str(char **dst, const char *v, size_t n);
/* A duration: "10s", "500ms", "2m", or plain seconds; more than 0 and at
 * most max_ms. 0 with *ms set, or -1. */
int run_kv_parse_time(const char *v, size_t n, uint32_t max_ms, uint32_t *ms);

#endif
