/* Client profiles: "key = value" lines, the same style as server profiles
 * (run_profile.c); the keys are in profiles/clients/README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl.h"
#include "run_kv.h"

static const char *const MODE_NAMES[CL_MODE__COUNT] = {"plain", "stls", "stls-opt", "implicit"};

const char *cl_mode_name(cl_mode m)
{
    return (unsigned)m < CL_MODE__COUNT ? MODE_NAMES[m] : "?";
}

int cl_mode_parse(const char *s, cl_mode *out)
{
    for (int i = 0; i < CL_MODE__COUNT; i++)
        if (!strcmp(s, MODE_NAMES[i])) {
            *out = (cl_mode)i;
            return 0;
        }
    /* "none" is what `pop3spec server --tls` calls plain. */
    if (!strcmp(s, "none")) {
        *out = CL_MODE_PLAIN;
        return 0;
    }
    return -1;
}

void cl_profile_init(cl_profile *p)
{
    memset(p, 0, sizeof *p);
    p->mbox_rd = 1;
}

void cl_profile_free(cl_profile *p)
{
    free(p->path);
    free(p->name);
    for (int i = 0; i < CL_MODE__COUNT; i++)
        free(p->cmd[i]);
    for (size_t i = 0; i < p->nactions; i++) {
        free(p->action_flags[i]);
        free(p->action_names[i]);
    }
    free(p->store_path);
    for (size_t i = 0; i < p->nstrip; i++)
        free(p->strip[i]);
    for (size_t i = 0; i < p->nsupports; i++)
        free(p->supports[i]);
    for (size_t i = 0; i < p->nprops; i++)
        free(p->props[i]);
    cl_profile_init(p);
}

const char *cl_profile_action(const cl_profile *p, const char *name)
{
    for (size_t i = 0; i < p->nactions; i++)
        if (!strcmp(p->action_names[i], name))
            return p->action_flags[i];
    return strcmp(name, "fetch") ? NULL : "";
}

/* Split v on commas and/or spaces into items (no empty ones). */
static int split_list(const char *v, size_t n, char **items, size_t max, size_t *count, int upper)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t s = i;
        /* Capabilities may hold a space ("SASL PLAIN"): only commas split
         * them. Header names and properties split on spaces too. */
        while (i < n && v[i] != ',' && (upper || (v[i] != ' ' && v[i] != '\t')))
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e == s)
            continue;
        if (*count >= max)
            return -1;
        char *it = run_kv_dupn(v + s, e - s);
        if (!it)
            return -1;
        if (upper)
            for (char *q = it; *q; q++)
                if (*q >= 'a' && *q <= 'z')
                    *q = (char)(*q - 'a' + 'A');
        items[(*count)++] = it;
    }
    return 0;
}

int cl_profile_parse(cl_profile *p, const char *path, const char *buf, size_t len, char *err,
                     size_t errlen)
{
    if (run_kv_set_str(&p->path, path, strlen(path)))
        goto oom;
    run_kv kv;
    /* Command templates are shell text: "$" is left alone. */
    run_kv_init(&kv, path, buf, len, 0, 64);
    int more;
    while ((more = run_kv_next(&kv, err, errlen)) == 1) {
        const char *key = kv.key, *v = kv.v;
        size_t vn = kv.vn;
        unsigned line = kv.line;
        const char *bad = NULL;
        int rc = 0;
        if (!strcmp(key, "name")) {
            rc = run_kv_set_str(&p->name, v, vn);
        } else if (!strcmp(key, "cmd-plain")) {
            rc = run_kv_set_str(&p->cmd[CL_MODE_PLAIN], v, vn);
        } else if (!strcmp(key, "cmd-stls")) {
            rc = run_kv_set_str(&p->cmd[CL_MODE_STLS], v, vn);
        } else if (!strcmp(key, "cmd-stls-opt")) {
            rc = run_kv_set_str(&p->cmd[CL_MODE_STLS_OPT], v, vn);
        } else if (!strcmp(key, "cmd-implicit")) {
            rc = run_kv_set_str(&p->cmd[CL_MODE_IMPLICIT], v, vn);
        } else if (!strncmp(key, "action-", 7) && key[7]) {
            const char *an = key + 7;
            for (const char *q = an; *q && !bad; q++)
                if (!((*q >= 'a' && *q <= 'z') || *q == '-'))
                    bad = "an action name of a-z and \"-\" after \"action-\"";
            if (!bad && cl_profile_action(p, an) && p->nactions &&
                strcmp(an, "fetch") != 0)
                bad = "each action once";
            if (!bad && p->nactions >= CL_MAX_ACTIONS)
                bad = "at most 8 actions";
            if (!bad) {
                p->action_names[p->nactions] = run_kv_dupn(an, strlen(an));
                p->action_flags[p->nactions] = run_kv_dupn(v, vn);
                if (!p->action_names[p->nactions] || !p->action_flags[p->nactions])
                    goto oom;
                p->nactions++;
            }
        } else if (!strcmp(key, "store")) {
            if (vn == 5 && !memcmp(v, "files", 5))
                p->store = CL_STORE_FILES;
            else if (vn == 7 && !memcmp(v, "maildir", 7))
                p->store = CL_STORE_MAILDIR;
            else if (vn == 4 && !memcmp(v, "mbox", 4))
                p->store = CL_STORE_MBOX;
            else
                bad = "files, maildir or mbox";
        } else if (!strcmp(key, "store-path")) {
            rc = run_kv_set_str(&p->store_path, v, vn);
        } else if (!strcmp(key, "line-ends")) {
            if (vn == 4 && !memcmp(v, "crlf", 4))
                p->lf = 0;
            else if (vn == 2 && !memcmp(v, "lf", 2))
                p->lf = 1;
            else
                bad = "crlf or lf";
        } else if (!strcmp(key, "mbox-quoting")) {
            if (vn == 2 && !memcmp(v, "rd", 2))
                p->mbox_rd = 1;
            else if (vn == 4 && !memcmp(v, "none", 4))
                p->mbox_rd = 0;
            else
                bad = "rd or none";
        } else if (!strcmp(key, "strip-headers")) {
            if (split_list(v, vn, p->strip, CL_MAX_STRIP, &p->nstrip, 0))
                bad = "at most 16 header names";
        } else if (!strcmp(key, "supports")) {
            if (split_list(v, vn, p->supports, CL_MAX_PROPS, &p->nsupports, 1))
                bad = "at most 32 capabilities";
        } else if (!strcmp(key, "property")) {
            if (split_list(v, vn, p->props, CL_MAX_PROPS, &p->nprops, 0))
                bad = "at most 32 properties";
        } else if (!strcmp(key, "exit-ok")) {
            unsigned x = 0;
            if (vn == 0 || vn > 3)
                bad = "an exit status 0-255";
            for (size_t i = 0; i < vn && !bad; i++) {
                if (v[i] < '0' || v[i] > '9')
                    bad = "an exit status 0-255";
                x = x * 10 + (unsigned)(v[i] - '0');
            }
            if (!bad && x > 255)
                bad = "an exit status 0-255";
            p->exit_ok = (int)x;
        } else if (!strcmp(key, "timeout")) {
            if (run_kv_parse_time(v, vn, SC_MAX_DURATION_MS, &p->timeout_ms))
                bad = "a duration like 20s, 1500ms or 1m (at most 10 minutes)";
        } else {
            snprintf(err, errlen,
                     "%s:%u: unknown key \"%s\" (expected name, cmd-plain, cmd-stls, cmd-stls-opt, "
                     "cmd-implicit, action-NAME, store, store-path, line-ends, strip-headers, "
                     "mbox-quoting, exit-ok, timeout, supports, property)",
                     path, line, key);
            return -1;
        }
        if (rc)
            goto oom;
        if (bad) {
            snprintf(err, errlen, "%s:%u: %s: expected %s", path, line, key, bad);
            return -1;
        }
    }
    if (more < 0)
        return -1;
    int any = 0;
    for (int i = 0; i < CL_MODE__COUNT; i++)
        any |= p->cmd[i] != NULL;
    if (!any) {
        snprintf(err, errlen, "%s: no command template (cmd-plain, cmd-stls, cmd-stls-opt or "
                 "cmd-implicit)", path);
        return -1;
    }
    if (!p->store_path) {
        snprintf(err, errlen, "%s: store-path is required (where the client stores mail)", path);
        return -1;
    }
    if (!p->name && run_kv_set_str(&p->name, path, strlen(path)))
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

int cl_profile_load(cl_profile *p, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t n;
    if (run_kv_read_file(path, &buf, &n, err, errlen))
        return -1;
    int rc = cl_profile_parse(p, path, buf, n, err, errlen);
    free(buf);
    return rc;
}
