#include "rp.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "rp_buf.h"

static const char *const verdict_names[RP__COUNT] = {"PASS", "FAIL", "WARN", "INFO", "SKIP", "ERROR"};

const char *rp_verdict_name(rp_verdict v)
{
    return (unsigned)v < RP__COUNT ? verdict_names[v] : "UNKNOWN";
}

static char *dup(const char *z)
{
    if (!z)
        return NULL;
    size_t n = strlen(z);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, z, n + 1);
    return p;
}

void rp_set(char **field, const char *value)
{
    free(*field);
    *field = dup(value);
}

void rp_run_init(rp_run *r, const char *role, const char *target, const char *tls_mode)
{
    memset(r, 0, sizeof *r);
    rp_set(&r->tool, "pop3spec " P3S_VERSION);
    rp_set(&r->role, role);
    rp_set(&r->target, target);
    rp_set(&r->tls_mode, tls_mode ? tls_mode : "none");
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rp_set(&r->started, ts);
}

static void case_free(rp_case *c)
{
    char **fields[] = {&c->id, &c->title, &c->file, &c->rfc, &c->section, &c->level, &c->quote,
                       &c->role, &c->reason, &c->expected, &c->got};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free(*fields[i]);
    for (size_t i = 0; i < c->ntags; i++)
        free(c->tags[i]);
    free(c->tags);
    for (size_t i = 0; i < c->nio; i++)
        free(c->io[i].text);
    free(c->io);
}

void rp_run_free(rp_run *r)
{
    for (size_t i = 0; i < r->ncases; i++)
        case_free(&r->cases[i]);
    free(r->cases);
    for (size_t i = 0; i < r->nnotes; i++)
        free(r->notes[i]);
    free(r->notes);
    for (size_t i = 0; i < r->nsecrets; i++) {
        /* Wipe before free: the value must not linger in a core dump. */
        OPENSSL_cleanse(r->secrets[i], strlen(r->secrets[i]));
        free(r->secrets[i]);
    }
    free(r->tool);
    free(r->role);
    free(r->target);
    free(r->tls_mode);
    free(r->started);
    memset(r, 0, sizeof *r);
}

void rp_run_note(rp_run *r, const char *note)
{
    char **n = realloc(r->notes, (r->nnotes + 1) * sizeof *n);
    if (!n)
        return;
    r->notes = n;
    r->notes[r->nnotes] = dup(note);
    if (r->notes[r->nnotes])
        r->nnotes++;
}

static int add_secret(rp_run *r, const char *value)
{
    if (!value || strlen(value) < 3 || r->nsecrets >= RP_MAX_SECRETS)
        return -1;
    for (size_t i = 0; i < r->nsecrets; i++)
        if (strcmp(r->secrets[i], value) == 0)
            return 0;
    char *v = dup(value);
    if (!v)
        return -1;
    r->secrets[r->nsecrets++] = v;
    return 0;
}

int rp_run_secret(rp_run *r, const char *value)
{
    if (add_secret(r, value) != 0)
        return -1;
    /* A client that sends the password base64-encoded (AUTH LOGIN) shows
     * it in this form; the three alignments of base64 are not all covered,
     * but the AUTH exchange itself is always redacted. */
    size_t n = strlen(value);
    unsigned char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (b64) {
        EVP_EncodeBlock(b64, (const unsigned char *)value, (int)n);
        add_secret(r, (const char *)b64);
        OPENSSL_cleanse(b64, strlen((char *)b64));
        free(b64);
    }
    return 0;
}

void rp_run_truncate(rp_run *r, size_t n)
{
    while (r->ncases > n)
        case_free(&r->cases[--r->ncases]);
}

rp_case *rp_run_add(rp_run *r)
{
    if (r->ncases == r->capcases) {
        size_t cap = r->capcases ? r->capcases * 2 : 64;
        rp_case *c = realloc(r->cases, cap * sizeof *c);
        if (!c)
            return NULL;
        r->cases = c;
        r->capcases = cap;
    }
    rp_case *c = &r->cases[r->ncases++];
    memset(c, 0, sizeof *c);
    return c;
}

void rp_case_tag(rp_case *c, const char *tag)
{
    char **t = realloc(c->tags, (c->ntags + 1) * sizeof *t);
    if (!t)
        return;
    c->tags = t;
    c->tags[c->ntags] = dup(tag);
    if (c->tags[c->ntags])
        c->ntags++;
}

char *rp_filter(const rp_run *r, const char *text)
{
    if (!text)
        return NULL;
    rp_buf b = {0};
    const char *s = text;
    while (*s) {
        size_t best = 0;
        for (size_t i = 0; i < r->nsecrets; i++) {
            size_t n = strlen(r->secrets[i]);
            if (n > best && strncmp(s, r->secrets[i], n) == 0)
                best = n;
        }
        if (best) {
            rp_puts(&b, "<redacted>");
            s += best;
        } else {
            rp_put(&b, s, 1);
            s++;
        }
    }
    if (!b.p)
        rp_put(&b, "", 0);
    if (b.oom) {
        rp_buf_free(&b);
        return NULL;
    }
    return b.p;
}

void rp_case_verdict(rp_run *r, rp_case *c, rp_verdict v, int line, const char *reason,
                     const char *expected, const char *got)
{
    c->verdict = v;
    c->line = line;
    char *f;
    f = rp_filter(r, reason);
    free(c->reason);
    c->reason = f;
    f = rp_filter(r, expected);
    free(c->expected);
    c->expected = f;
    f = rp_filter(r, got);
    free(c->got);
    c->got = f;
}

static int kw_is(const char *s, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if ((s[i] & ~0x20) != kw[i])
            return 0;
    return n == k || s[k] == ' ';
}

/* Redact one logical line in place into b, by the rules in rp.h. */
static int redact_line(rp_case *c, char dir, const char *s, size_t n, rp_buf *b)
{
    if (dir == 'C') {
        if (kw_is(s, n, "PASS")) {
            rp_put(b, s, 4);
            if (n > 4)
                rp_puts(b, " <redacted>");
            return n > 4;
        }
        if (kw_is(s, n, "APOP")) {
            /* Keep the user name, hide the digest. */
            const char *sp = n > 5 ? memchr(s + 5, ' ', n - 5) : NULL;
            if (!sp) {
                rp_put(b, s, n);
                return 0;
            }
            rp_put(b, s, (size_t)(sp - s));
            rp_puts(b, " <redacted>");
            return 1;
        }
        if (kw_is(s, n, "AUTH")) {
            c->in_auth = n > 4;
            const char *sp = n > 5 ? memchr(s + 5, ' ', n - 5) : NULL;
            if (!sp) {
                rp_put(b, s, n);
                return 0;
            }
            rp_put(b, s, (size_t)(sp - s));
            rp_puts(b, " <redacted>");
            return 1;
        }
        if (c->in_auth) {
            if (n == 1 && s[0] == '*') {
                rp_put(b, s, n);
                return 0;
            }
            rp_puts(b, n ? "<redacted>" : "");
            return n > 0;
        }
        rp_put(b, s, n);
        return 0;
    }
    if (dir == 'S' && c->in_auth) {
        if (n >= 1 && s[0] == '+' && (n == 1 || s[1] == ' ')) {
            rp_puts(b, "+");
            if (n > 2)
                rp_puts(b, " <redacted>");
            else if (n == 2)
                rp_puts(b, " ");
            return n > 2;
        }
        if ((n >= 3 && memcmp(s, "+OK", 3) == 0) || (n >= 4 && memcmp(s, "-ERR", 4) == 0))
            c->in_auth = 0;
    }
    rp_put(b, s, n);
    return 0;
}

static void escape_into(rp_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (out->n >= RP_MAX_IO_TEXT) {
            rp_puts(out, "...(");
            rp_putu(out, n - i);
            rp_puts(out, " more octets)");
            return;
        }
        if (ch == '\\') {
            rp_puts(out, "\\\\");
        } else if (ch < 0x20 || ch >= 0x7f) {
            char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
            rp_put(out, e, 4);
        } else {
            rp_put(out, (const char *)&ch, 1);
        }
    }
}

static void push_io(rp_run *r, rp_case *c, char dir, int session, double t_ms, const char *s,
                    size_t n)
{
    if (c->nio >= RP_MAX_IO) {
        c->truncated = 1;
        return;
    }
    rp_buf red = {0}, esc = {0};
    int redacted = redact_line(c, dir, s, n, &red);
    escape_into(&esc, red.p ? red.p : "", red.n);
    rp_buf_free(&red);
    char *text = rp_filter(r, esc.p ? esc.p : "");
    if (text && esc.p && strcmp(text, esc.p) != 0)
        redacted = 1;
    rp_buf_free(&esc);
    if (!text)
        return;
    if (c->nio == c->capio) {
        size_t cap = c->capio ? c->capio * 2 : 32;
        rp_io *io = realloc(c->io, cap * sizeof *io);
        if (!io) {
            free(text);
            return;
        }
        c->io = io;
        c->capio = cap;
    }
    c->io[c->nio++] = (rp_io){dir, session, t_ms, text, redacted};
}

void rp_case_add_io(rp_run *r, rp_case *c, char dir, int session, double t_ms, const char *bytes,
                    size_t n)
{
    /* One entry per line: a pipelined write of three commands must be
     * redacted command by command. */
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] == '\n') {
            size_t end = i;
            if (end > start && bytes[end - 1] == '\r')
                end--;
            push_io(r, c, dir, session, t_ms, bytes + start, end - start);
            start = i + 1;
        }
    }
    if (start < n || n == 0)
        push_io(r, c, dir, session, t_ms, bytes + start, n - start);
}

void rp_run_counts(const rp_run *r, size_t counts[RP__COUNT])
{
    memset(counts, 0, RP__COUNT * sizeof counts[0]);
    for (size_t i = 0; i < r->ncases; i++)
        if ((unsigned)r->cases[i].verdict < RP__COUNT)
            counts[r->cases[i].verdict]++;
}
