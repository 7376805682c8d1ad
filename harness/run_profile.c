#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "run_kv.h"

/* timeout = ...: a server may be slow, but an hour is surely a typo. */
#define RUN_PROFILE_MAX_TIMEOUT_MS 3600000u

void run_profile_init(run_profile *p)
{
    memset(p, 0, sizeof *p);
    p->messages = -1;
}

void run_profile_free(run_profile *p)
{
    char **f[] = {&p->path,     &p->name,      &p->host,      &p->ca_file,     &p->tls_name,
                  &p->user_env, &p->pass_env,  &p->user_file, &p->pass_file, &p->seed_command};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        free(*f[i]);
    for (size_t i = 0; i < p->nprops; i++)
        free(p->props[i]);
    run_profile_init(p);
}

const char *run_tls_name(run_tls t)
{
    return t == RUN_TLS_STLS ? "stls" : t == RUN_TLS_IMPLICIT ? "implicit" : "none";
}

/* Paths may start with $NAME (an environment variable, e.g. a folder a
 * test script made): "$P3S_DOVECOT_DIR/certs/ca.pem". */
static int set_path(char **dst, const char *v, size_t n, const char **bad)
{
    if (n && v[0] == '$') {
        size_t k = 1;
        while (k < n && v[k] != '/')
            k++;
        char name[128];
        if (k - 1 == 0 || k - 1 >= sizeof name) {
            *bad = "a path or $VARIABLE/path";
            return 0;
        }
        memcpy(name, v + 1, k - 1);
        name[k - 1] = 0;
        const char *e = getenv(name);
        if (!e || !*e) {
            *bad = "a path whose $VARIABLE is set in the environment";
            return 0;
        }
        size_t en = strlen(e);
        char *p = malloc(en + (n - k) + 1);
        if (!p)
            return -1;
        memcpy(p, e, en);
        memcpy(p + en, v + k, n - k);
        p[en + n - k] = 0;
        free(*dst);
        *dst = p;
        return 0;
    }
    return run_kv_set_str(dst, v, n);
}

static int parse_bool(const char *v, size_t n, int *out)
{
    if ((n == 3 && !memcmp(v, "yes", 3)) || (n == 4 && !memcmp(v, "true", 4)) ||
        (n == 1 && v[0] == '1')) {
        *out = 1;
        return 0;
    }
    if ((n == 2 && !memcmp(v, "no", 2)) || (n == 5 && !memcmp(v, "false", 5)) ||
        (n == 1 && v[0] == '0')) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int parse_num(const char *v, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long x = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (unsigned long)(v[i] - '0');
        if (x > max)
            return -1;
    }
    *out = x;
    return 0;
}

static int is_env_name(const char *v, size_t n)
{
    if (n == 0 || (v[0] >= '0' && v[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
            return 0;
    return 1;
}

int run_profile_has(const run_profile *p, const char *name)
{
    if (!strcmp(name, "disposable-mailbox"))
        return p->disposable;
    if (!strcmp(name, "apop"))
        return p->apop;
    for (size_t i = 0; i < p->nprops; i++)
        if (!strcmp(p->props[i], name))
            return 1;
    return 0;
}

int run_profile_parse(run_profile *p, const char *path, const char *buf, size_t len, char *err,
                      size_t errlen)
{
    if (run_kv_set_str(&p->path, path, strlen(path)))
        goto oom;
    run_kv kv;
    /* A value may start with $NAME: an environment variable set by a test
     * script (ports, folders). */
    run_kv_init(&kv, path, buf, len, 1, 40);
    int more;
    while ((more = run_kv_next(&kv, err, errlen)) == 1) {
        const char *key = kv.key, *v = kv.v;
        size_t vn = kv.vn;
        unsigned line = kv.line;
        unsigned long num;
        int b;
        const char *bad = NULL;
#define KEY(k) (!strcmp(key, k))
        if (KEY("name")) {
            if (run_kv_set_str(&p->name, v, vn))
                goto oom;
        } else if (KEY("host")) {
            if (vn == 0)
                bad = "a host name or address";
            else if (run_kv_set_str(&p->host, v, vn))
                goto oom;
        } else if (KEY("port")) {
            if (parse_num(v, vn, 65535, &num) || num == 0)
                bad = "a port number 1-65535";
            else
                p->port = (unsigned)num;
        } else if (KEY("tls")) {
            if (vn == 4 && !memcmp(v, "none", 4))
                p->tls = RUN_TLS_NONE;
            else if (vn == 4 && !memcmp(v, "stls", 4))
                p->tls = RUN_TLS_STLS;
            else if (vn == 8 && !memcmp(v, "implicit", 8))
                p->tls = RUN_TLS_IMPLICIT;
            else
                bad = "none, stls or implicit";
        } else if (KEY("ca-file")) {
            if (set_path(&p->ca_file, v, vn, &bad))
                goto oom;
        } else if (KEY("tls-name")) {
            if (run_kv_set_str(&p->tls_name, v, vn))
                goto oom;
        } else if (KEY("verify")) {
            if (parse_bool(v, vn, &b))
                bad = "yes or no";
            else
                p->insecure = !b;
        } else if (KEY("user-env") || KEY("pass-env")) {
            if (!is_env_name(v, vn))
                bad = "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
            else if (run_kv_set_str(KEY("user-env") ? &p->user_env : &p->pass_env, v, vn))
                goto oom;
        } else if (KEY("user-file") || KEY("pass-file")) {
            if (set_path(KEY("user-file") ? &p->user_file : &p->pass_file, v, vn, &bad))
                goto oom;
        } else if (KEY("seed-command")) {
            if (run_kv_set_str(&p->seed_command, v, vn))
                goto oom;
        } else if (KEY("disposable-mailbox")) {
            if (parse_bool(v, vn, &b))
                bad = "yes or no";
            else
                p->disposable = b;
        } else if (KEY("builtin")) {
            if (parse_bool(v, vn, &b))
                bad = "yes or no";
            else
                p->builtin = b;
        } else if (KEY("login")) {
            if (parse_bool(v, vn, &b))
                bad = "yes or no";
            else
                p->no_login = !b;
        } else if (KEY("apop")) {
            if (parse_bool(v, vn, &b))
                bad = "yes or no";
            else
                p->apop = b;
        } else if (KEY("messages")) {
            if (parse_num(v, vn, 10000000ul, &num))
                bad = "a message count";
            else
                p->messages = (long)num;
        } else if (KEY("timeout")) {
            if (run_kv_parse_time(v, vn, RUN_PROFILE_MAX_TIMEOUT_MS, &p->timeout_ms))
                bad = "a duration such as 10s, 500ms or 1m (at most 1 hour)";
        } else if (KEY("property")) {
            if (vn == 0)
                bad = "a property name";
            else if (p->nprops >= RUN_MAX_PROPS)
                bad = "at most 32 properties";
            else if (!(p->props[p->nprops++] = run_kv_dupn(v, vn)))
                goto oom;
        } else {
            snprintf(err, errlen,
                     "%s:%u: unknown key \"%s\" (keys: name host port tls ca-file tls-name verify "
                     "user-env pass-env user-file pass-file seed-command disposable-mailbox "
                     "builtin login apop messages timeout property)",
                     path, line, key);
            return -1;
        }
#undef KEY
        if (bad) {
            snprintf(err, errlen, "%s:%u: %s: expected %s, got \"%.*s\"", path, line, key, bad,
                     (int)(vn > 60 ? 60 : vn), v);
            return -1;
        }
    }
    if (more < 0)
        return -1;
    if (!p->builtin && !p->host) {
        snprintf(err, errlen, "%s: no \"host\" (or \"builtin = yes\")", path);
        return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

int run_profile_load(run_profile *p, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t n;
    if (run_kv_read_file(path, &buf, &n, err, errlen))
        return -1;
    int rc = run_profile_parse(p, path, buf, n, err, errlen);
    free(buf);
    return rc;
}
