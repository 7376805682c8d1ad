/* The variable store shared by both interpreters (run_vars.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "run_vars.h"

void run_vars_init(run_vars *vs, size_t max, const char *user, const char *pass)
{
    memset(vs, 0, sizeof *vs);
    vs->max = max;
    vs->user = user;
    vs->pass = pass;
}

/* FNV-1a: scenarios are trusted input, so no keyed hash is needed. */
static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The slot of name: its variable, or the free slot where it would go. */
static run_var *slot(run_vars *vs, const char *name, size_t n)
{
    if (!vs->cap)
        return NULL;
    size_t m = vs->cap - 1;
    for (size_t i = (size_t)hash(name, n) & m;; i = (i + 1) & m) {
        run_var *v = &vs->v[i];
        if (!v->name || (strlen(v->name) == n && !memcmp(v->name, name, n)))
            return v;
    }
}

static int grow(run_vars *vs)
{
    size_t cap = vs->cap ? vs->cap * 2 : 256;
    run_var *old = vs->v;
    size_t oldcap = vs->cap;
    run_var *nv = calloc(cap, sizeof *nv);
    if (!nv)
        return -1;
    vs->v = nv;
    vs->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].name)
            *slot(vs, old[i].name, strlen(old[i].name)) = old[i];
    free(old);
    return 0;
}

int run_vars_set(run_vars *vs, const char *name, size_t n, const char *val, size_t vlen,
                 int secret)
{
    run_var *v = slot(vs, name, n);
    if (!v || !v->name) {
        /* A new name: keep the table at most half full so probes stay short. */
        if (vs->n >= vs->max)
            return -1;
        if (vs->n * 2 >= vs->cap) {
            if (grow(vs))
                return -1;
            v = slot(vs, name, n);
        }
    }
    char *val2 = malloc(vlen + 1);
    if (!val2)
        return -1;
    memcpy(val2, val, vlen);
    val2[vlen] = 0;
    if (!v->name) {
        v->name = strndup(name, n);
        if (!v->name) {
            free(val2);
            return -1;
        }
        vs->n++;
    } else {
        if (v->secret)
            memset(v->val, 0, v->vlen);
        free(v->val);
    }
    v->val = val2;
    v->vlen = vlen;
    v->secret = secret;
    return 0;
}

int run_vars_setz(run_vars *vs, const char *name, const char *val, int secret)
{
    return run_vars_set(vs, name, strlen(name), val, strlen(val), secret);
}

int run_vars_setu(run_vars *vs, const char *name, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    return run_vars_set(vs, name, strlen(name), num, (size_t)n, 0);
}

/* ${plain} / ${plain.AUTHZID}: computed on first use and then kept as an
 * ordinary (secret) variable, so the credentials are encoded once. */
static int plain_var(run_vars *vs, const char *name, size_t n)
{
    const char *authz = n > 6 ? name + 6 : "";
    size_t an = n > 6 ? n - 6 : 0;
    size_t un = strlen(vs->user), pn = strlen(vs->pass);
    size_t mn = an + 1 + un + 1 + pn;
    unsigned char *m = malloc(mn), *b = malloc(4 * ((mn + 2) / 3) + 1);
    int rc = -1;
    if (m && b) {
        memcpy(m, authz, an);
        m[an] = 0;
        memcpy(m + an + 1, vs->user, un);
        m[an + 1 + un] = 0;
        memcpy(m + an + 2 + un, vs->pass, pn);
        int bn = EVP_EncodeBlock(b, m, (int)mn);
        rc = run_vars_set(vs, name, n, (const char *)b, (size_t)bn, 1);
        memset(m, 0, mn);
        memset(b, 0, (size_t)bn);
    }
    free(m);
    free(b);
    return rc;
}

int run_vars_lookup(void *ctx, const char *name, size_t n, p3_slice *value, int *secret)
{
    run_vars *vs = ctx;
    run_var *v = slot(vs, name, n);
    if ((!v || !v->name) && vs->user && vs->pass &&
        ((n == 5 && !memcmp(name, "plain", 5)) || (n > 6 && !memcmp(name, "plain.", 6)))) {
        if (plain_var(vs, name, n) == 0)
            v = slot(vs, name, n);
    }
    if (!v || !v->name) {
        vs->miss = 1;
        return 0;
    }
    value->p = v->val;
    value->n = v->vlen;
    *secret = v->secret;
    return 1;
}

void run_vars_free(run_vars *vs)
{
    for (size_t i = 0; i < vs->cap; i++) {
        if (vs->v[i].name) {
            if (vs->v[i].secret)
                memset(vs->v[i].val, 0, vs->v[i].vlen);
            free(vs->v[i].name);
            free(vs->v[i].val);
        }
    }
    free(vs->v);
    vs->v = NULL;
    vs->n = vs->cap = 0;
}

int run_md5_hex(const char *a, size_t an, const char *b, size_t bn, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdn = 0;
    int rc = -1;
    out[0] = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m)
        return -1;
    if (EVP_DigestInit_ex(m, EVP_md5(), NULL) == 1 && EVP_DigestUpdate(m, a, an) == 1 &&
        EVP_DigestUpdate(m, b, bn) == 1 && EVP_DigestFinal_ex(m, md, &mdn) == 1 && mdn == 16) {
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < 16; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[32] = 0;
        rc = 0;
    }
    EVP_MD_CTX_free(m);
    memset(md, 0, sizeof md);
    return rc;
}
