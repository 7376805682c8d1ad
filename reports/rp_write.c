/* The three report writers and the terminal summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rp.h"
#include "rp_buf.h"

static const char *nz(const char *z) { return z ? z : ""; }

static int same(const char *a, const char *b) { return strcmp(nz(a), nz(b)) == 0; }

/* Natural order: runs of digits compare by value, so RFC "1939" comes
 * before "2449" and section "8.1.2" before "13". */
static int natcmp(const char *a, const char *b)
{
    a = nz(a);
    b = nz(b);
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t na = 0, nb = 0;
            while (a[na] >= '0' && a[na] <= '9')
                na++;
            while (b[nb] >= '0' && b[nb] <= '9')
                nb++;
            if (na != nb)
                return na < nb ? -1 : 1;
            int c = memcmp(a, b, na);
            if (c)
                return c;
            a += na;
            b += nb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return (*a != 0) - (*b != 0);
}

static int group_cmp(const rp_case *x, const rp_case *y)
{
    int c = natcmp(x->rfc, y->rfc);
    return c ? c : natcmp(x->section, y->section);
}

/* Groups are (rfc, section) pairs, each named by the index of its first
 * case, sorted by RFC and then section in natural order (the summary, the
 * JUnit suites and the HTML sections all list them so). Returns the array
 * of first indexes (free() it) with *count groups, or NULL when out of
 * memory. */
static size_t *groups(const rp_run *r, size_t *count)
{
    size_t *first = malloc((r->ncases + 1) * sizeof *first);
    if (!first)
        return NULL;
    size_t ng = 0;
    for (size_t i = 0; i < r->ncases; i++) {
        size_t g;
        for (g = 0; g < ng; g++)
            if (same(r->cases[first[g]].rfc, r->cases[i].rfc) &&
                same(r->cases[first[g]].section, r->cases[i].section))
                break;
        if (g == ng)
            first[ng++] = i;
    }
    /* insertion sort: a few dozen groups, and it keeps equal keys stable */
    for (size_t g = 1; g < ng; g++) {
        size_t v = first[g], h = g;
        for (; h > 0 && group_cmp(&r->cases[first[h - 1]], &r->cases[v]) > 0; h--)
            first[h] = first[h - 1];
        first[h] = v;
    }
    *count = ng;
    return first;
}

static int in_group(const rp_run *r, size_t first, size_t i)
{
    return same(r->cases[first].rfc, r->cases[i].rfc) &&
           same(r->cases[first].section, r->cases[i].section);
}

static void group_name(rp_buf *b, const rp_case *c)
{
    rp_puts(b, "RFC ");
    rp_puts(b, c->rfc ? c->rfc : "?");
    if (c->section && *c->section) {
        rp_puts(b, " section ");
        rp_puts(b, c->section);
    }
}

static void transcript_text(rp_buf *b, const rp_case *c, int xml)
{
    for (size_t k = 0; k < c->nio; k++) {
        const rp_io *io = &c->io[k];
        char head[8] = {io->dir, (char)('0' + (io->session % 10)), ':', ' ', 0};
        rp_puts(b, head);
        if (xml)
            rp_put_xml(b, io->text);
        else
            rp_puts(b, io->text);
        rp_puts(b, "\n");
    }
    if (c->truncated)
        rp_puts(b, "(transcript truncated)\n");
}

int rp_write_junit(const rp_run *r, const char *path, char *err, size_t errlen)
{
    rp_buf b = {0};
    size_t counts[RP__COUNT];
    rp_run_counts(r, counts);
    size_t ng;
    size_t *first = groups(r, &ng);
    if (!first) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rp_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pop3spec\" tests=\"");
    rp_putu(&b, r->ncases);
    rp_puts(&b, "\" failures=\"");
    rp_putu(&b, counts[RP_FAIL]);
    rp_puts(&b, "\" errors=\"");
    rp_putu(&b, counts[RP_ERROR]);
    rp_puts(&b, "\" skipped=\"");
    rp_putu(&b, counts[RP_SKIP]);
    rp_puts(&b, "\" time=\"");
    rp_putms(&b, r->duration_ms / 1000.0);
    rp_puts(&b, "\">\n");
    for (size_t g = 0; g < ng; g++) {
        size_t t = 0, f = 0, e = 0, s = 0;
        double ms = 0;
        for (size_t i = first[g]; i < r->ncases; i++) {
            if (!in_group(r, first[g], i))
                continue;
            const rp_case *c = &r->cases[i];
            t++;
            f += c->verdict == RP_FAIL;
            e += c->verdict == RP_ERROR;
            s += c->verdict == RP_SKIP;
            ms += c->duration_ms;
        }
        rp_puts(&b, "  <testsuite name=\"");
        rp_buf name = {0};
        group_name(&name, &r->cases[first[g]]);
        rp_put_xml(&b, name.p);
        rp_buf_free(&name);
        rp_puts(&b, "\" tests=\"");
        rp_putu(&b, t);
        rp_puts(&b, "\" failures=\"");
        rp_putu(&b, f);
        rp_puts(&b, "\" errors=\"");
        rp_putu(&b, e);
        rp_puts(&b, "\" skipped=\"");
        rp_putu(&b, s);
        rp_puts(&b, "\" time=\"");
        rp_putms(&b, ms / 1000.0);
        rp_puts(&b, "\">\n");
        for (size_t i = first[g]; i < r->ncases; i++) {
            if (!in_group(r, first[g], i))
                continue;
            const rp_case *c = &r->cases[i];
            rp_puts(&b, "    <testcase classname=\"pop3spec.");
            rp_put_xml(&b, nz(r->role));
            rp_puts(&b, ".rfc");
            rp_put_xml(&b, nz(c->rfc));
            rp_puts(&b, "\" name=\"");
            rp_put_xml(&b, nz(c->id));
            rp_puts(&b, "\" file=\"");
            rp_put_xml(&b, nz(c->file));
            rp_puts(&b, "\" time=\"");
            rp_putms(&b, c->duration_ms / 1000.0);
            rp_puts(&b, "\">\n      <properties><property name=\"verdict\" value=\"");
            rp_puts(&b, rp_verdict_name(c->verdict));
            rp_puts(&b, "\"/><property name=\"level\" value=\"");
            rp_put_xml(&b, nz(c->level));
            rp_puts(&b, "\"/><property name=\"requirement\" value=\"RFC ");
            rp_put_xml(&b, nz(c->rfc));
            rp_puts(&b, " ");
            rp_put_xml(&b, nz(c->section));
            rp_puts(&b, "\"/></properties>\n");
            const char *tag = c->verdict == RP_FAIL    ? "failure"
                              : c->verdict == RP_ERROR ? "error"
                              : c->verdict == RP_SKIP  ? "skipped"
                                                       : NULL;
            if (tag) {
                rp_puts(&b, "      <");
                rp_puts(&b, tag);
                rp_puts(&b, " message=\"");
                rp_put_xml(&b, nz(c->reason));
                rp_puts(&b, "\"");
                if (c->verdict != RP_SKIP) {
                    rp_puts(&b, " type=\"");
                    rp_puts(&b, rp_verdict_name(c->verdict));
                    rp_puts(&b, "\">");
                    rp_puts(&b, "RFC ");
                    rp_put_xml(&b, nz(c->rfc));
                    rp_puts(&b, " section ");
                    rp_put_xml(&b, nz(c->section));
                    rp_puts(&b, " (");
                    rp_put_xml(&b, nz(c->level));
                    rp_puts(&b, "): ");
                    rp_put_xml(&b, nz(c->quote));
                    rp_puts(&b, "\nexpected: ");
                    rp_put_xml(&b, nz(c->expected));
                    rp_puts(&b, "\ngot: ");
                    rp_put_xml(&b, nz(c->got));
                    rp_puts(&b, "\n</");
                    rp_puts(&b, tag);
                    rp_puts(&b, ">\n");
                } else {
                    rp_puts(&b, "/>\n");
                }
            }
            rp_puts(&b, "      <system-out>");
            rp_puts(&b, rp_verdict_name(c->verdict));
            rp_puts(&b, ": ");
            rp_put_xml(&b, nz(c->reason));
            rp_puts(&b, "\n");
            transcript_text(&b, c, 1);
            rp_puts(&b, "</system-out>\n    </testcase>\n");
        }
        rp_puts(&b, "  </testsuite>\n");
    }
    rp_puts(&b, "</testsuites>\n");
    free(first);
    int rc = rp_buf_save(&b, path, err, errlen);
    rp_buf_free(&b);
    return rc;
}

static void json_str(rp_buf *b, const char *key, const char *z, int comma)
{
    rp_puts(b, "\"");
    rp_puts(b, key);
    rp_puts(b, "\":");
    if (z) {
        rp_puts(b, "\"");
        rp_put_json(b, z);
        rp_puts(b, "\"");
    } else {
        rp_puts(b, "null");
    }
    if (comma)
        rp_puts(b, ",");
}

int rp_write_json(const rp_run *r, const char *path, char *err, size_t errlen)
{
    rp_buf b = {0};
    size_t counts[RP__COUNT];
    rp_run_counts(r, counts);
    rp_puts(&b, "{\"schema\":\"pop3spec-report/1\",");
    json_str(&b, "tool", r->tool, 1);
    json_str(&b, "role", r->role, 1);
    json_str(&b, "target", r->target, 1);
    json_str(&b, "tls_mode", r->tls_mode, 1);
    rp_puts(&b, "\"tls_verification\":");
    rp_puts(&b, r->insecure ? "false," : "true,");
    json_str(&b, "started", r->started, 1);
    rp_puts(&b, "\"duration_ms\":");
    rp_putms(&b, r->duration_ms);
    rp_puts(&b, ",\"interrupted\":");
    rp_puts(&b, r->interrupted ? "true" : "false");
    rp_puts(&b, ",\"counts\":{");
    for (int v = 0; v < RP__COUNT; v++) {
        rp_puts(&b, v ? ",\"" : "\"");
        rp_puts(&b, rp_verdict_name((rp_verdict)v));
        rp_puts(&b, "\":");
        rp_putu(&b, counts[v]);
    }
    rp_puts(&b, "},\"notes\":[");
    for (size_t i = 0; i < r->nnotes; i++) {
        rp_puts(&b, i ? ",\"" : "\"");
        rp_put_json(&b, r->notes[i]);
        rp_puts(&b, "\"");
    }
    rp_puts(&b, "],\n\"cases\":[\n");
    for (size_t i = 0; i < r->ncases; i++) {
        const rp_case *c = &r->cases[i];
        rp_puts(&b, i ? ",\n{" : "{");
        json_str(&b, "id", c->id, 1);
        json_str(&b, "title", c->title, 1);
        json_str(&b, "file", c->file, 1);
        json_str(&b, "rfc", c->rfc, 1);
        json_str(&b, "section", c->section, 1);
        json_str(&b, "level", c->level, 1);
        json_str(&b, "quote", c->quote, 1);
        json_str(&b, "role", c->role, 1);
        rp_puts(&b, "\"tags\":[");
        for (size_t k = 0; k < c->ntags; k++) {
            rp_puts(&b, k ? ",\"" : "\"");
            rp_put_json(&b, c->tags[k]);
            rp_puts(&b, "\"");
        }
        rp_puts(&b, "],");
        json_str(&b, "verdict", rp_verdict_name(c->verdict), 1);
        json_str(&b, "reason", c->reason, 1);
        json_str(&b, "expected", c->expected, 1);
        json_str(&b, "got", c->got, 1);
        rp_puts(&b, "\"line\":");
        rp_putu(&b, c->line > 0 ? (unsigned)c->line : 0);
        rp_puts(&b, ",\"duration_ms\":");
        rp_putms(&b, c->duration_ms);
        rp_puts(&b, ",\"transcript_truncated\":");
        rp_puts(&b, c->truncated ? "true" : "false");
        rp_puts(&b, ",\"transcript\":[");
        for (size_t k = 0; k < c->nio; k++) {
            const rp_io *io = &c->io[k];
            char dir[2] = {io->dir, 0};
            rp_puts(&b, k ? ",{" : "{");
            json_str(&b, "dir", dir, 1);
            rp_puts(&b, "\"session\":");
            rp_putu(&b, io->session > 0 ? (unsigned)io->session : 0);
            rp_puts(&b, ",\"t_ms\":");
            rp_putms(&b, io->t_ms);
            rp_puts(&b, ",\"redacted\":");
            rp_puts(&b, io->redacted ? "true," : "false,");
            json_str(&b, "text", io->text, 0);
            rp_puts(&b, "}");
        }
        rp_puts(&b, "]}");
    }
    rp_puts(&b, "\n]}\n");
    int rc = rp_buf_save(&b, path, err, errlen);
    rp_buf_free(&b);
    return rc;
}

static const char *const verdict_css[RP__COUNT] = {"pass", "fail", "warn", "info", "skip", "error"};

int rp_write_html(const rp_run *r, const char *path, char *err, size_t errlen)
{
    rp_buf b = {0};
    size_t counts[RP__COUNT];
    rp_run_counts(r, counts);
    size_t ng;
    size_t *first = groups(r, &ng);
    if (!first) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rp_puts(&b,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<title>pop3spec report</title>\n<style>\n"
            "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
            "th{background:#f4f4f4}.n{text-align:right}"
            ".pass{color:#176f2c}.fail{color:#b00020;font-weight:bold}.warn{color:#a15c00;font-weight:bold}"
            ".info{color:#1d5fa8}.skip{color:#777}.error{color:#6a1b9a;font-weight:bold}"
            "pre{background:#f8f8f8;border:1px solid #ddd;padding:.6em;overflow-x:auto;font-size:12px}"
            "blockquote{border-left:3px solid #ccc;margin:.5em 0;padding-left:.8em;color:#444;white-space:pre-wrap}"
            "details{margin:.6em 0;border:1px solid #e4e4e4;padding:.4em .8em}summary{cursor:pointer}"
            ".banner{background:#fff3cd;border:1px solid #e0c060;padding:.5em 1em}\n"
            "</style></head><body>\n<h1>pop3spec report</h1>\n<table>");
    const char *meta[][2] = {{"tool", r->tool},   {"role", r->role},       {"target", r->target},
                             {"TLS", r->tls_mode}, {"started", r->started}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        rp_puts(&b, "<tr><th>");
        rp_puts(&b, meta[i][0]);
        rp_puts(&b, "</th><td>");
        rp_put_xml(&b, nz(meta[i][1]));
        rp_puts(&b, "</td></tr>");
    }
    rp_puts(&b, "<tr><th>duration</th><td>");
    rp_putms(&b, r->duration_ms / 1000.0);
    rp_puts(&b, " s</td></tr></table>\n");
    if (r->insecure)
        rp_puts(&b, "<p class=\"banner\">TLS certificate and host-name verification was turned OFF "
                    "for this run (--insecure).</p>\n");
    if (r->interrupted)
        rp_puts(&b, "<p class=\"banner\">The run was interrupted: scenarios after the last one "
                    "listed did not run.</p>\n");
    for (size_t i = 0; i < r->nnotes; i++) {
        rp_puts(&b, "<p class=\"banner\">");
        rp_put_xml(&b, r->notes[i]);
        rp_puts(&b, "</p>\n");
    }
    rp_puts(&b, "<h2>Summary</h2>\n<table><tr><th>requirement</th><th>level</th>");
    for (int v = 0; v < RP__COUNT; v++) {
        rp_puts(&b, "<th class=\"");
        rp_puts(&b, verdict_css[v]);
        rp_puts(&b, "\">");
        rp_puts(&b, rp_verdict_name((rp_verdict)v));
        rp_puts(&b, "</th>");
    }
    rp_puts(&b, "</tr>\n");
    static const char *const levels[] = {"MUST", "SHOULD", "MAY"};
    for (size_t g = 0; g < ng; g++) {
        for (size_t l = 0; l < 4; l++) {
            size_t cnt[RP__COUNT] = {0}, any = 0;
            for (size_t i = first[g]; i < r->ncases; i++) {
                const rp_case *c = &r->cases[i];
                if (!in_group(r, first[g], i))
                    continue;
                int match = l < 3 ? same(c->level, levels[l])
                                  : !(same(c->level, "MUST") || same(c->level, "SHOULD") ||
                                      same(c->level, "MAY"));
                if (match) {
                    cnt[c->verdict]++;
                    any++;
                }
            }
            if (!any)
                continue;
            rp_puts(&b, "<tr><td>");
            rp_buf name = {0};
            group_name(&name, &r->cases[first[g]]);
            rp_put_xml(&b, name.p);
            rp_buf_free(&name);
            rp_puts(&b, "</td><td>");
            rp_puts(&b, l < 3 ? levels[l] : "other");
            rp_puts(&b, "</td>");
            for (int v = 0; v < RP__COUNT; v++) {
                rp_puts(&b, "<td class=\"n\">");
                if (cnt[v])
                    rp_putu(&b, cnt[v]);
                rp_puts(&b, "</td>");
            }
            rp_puts(&b, "</tr>\n");
        }
    }
    rp_puts(&b, "<tr><th colspan=\"2\">total</th>");
    for (int v = 0; v < RP__COUNT; v++) {
        rp_puts(&b, "<th class=\"n\">");
        rp_putu(&b, counts[v]);
        rp_puts(&b, "</th>");
    }
    rp_puts(&b, "</tr></table>\n<h2>Scenarios</h2>\n");
    for (size_t i = 0; i < r->ncases; i++) {
        const rp_case *c = &r->cases[i];
        int open = c->verdict != RP_PASS && c->verdict != RP_SKIP;
        rp_puts(&b, open ? "<details open><summary>" : "<details><summary>");
        rp_puts(&b, "<span class=\"");
        rp_puts(&b, verdict_css[c->verdict]);
        rp_puts(&b, "\">");
        rp_puts(&b, rp_verdict_name(c->verdict));
        rp_puts(&b, "</span> <code>");
        rp_put_xml(&b, nz(c->id));
        rp_puts(&b, "</code> ");
        rp_put_xml(&b, nz(c->title));
        rp_puts(&b, " <small>(RFC ");
        rp_put_xml(&b, nz(c->rfc));
        rp_puts(&b, " section ");
        rp_put_xml(&b, nz(c->section));
        rp_puts(&b, ", ");
        rp_put_xml(&b, nz(c->level));
        rp_puts(&b, ")</small></summary>\n<blockquote>");
        rp_put_xml(&b, nz(c->quote));
        rp_puts(&b, "</blockquote>\n<p>");
        rp_put_xml(&b, nz(c->reason));
        if (c->file) {
            rp_puts(&b, " <small>(");
            rp_put_xml(&b, c->file);
            if (c->line > 0) {
                rp_puts(&b, ":");
                rp_putu(&b, (unsigned)c->line);
            }
            rp_puts(&b, ")</small>");
        }
        rp_puts(&b, "</p>\n");
        if (c->expected || c->got) {
            rp_puts(&b, "<table><tr><th>expected</th><td><code>");
            rp_put_xml(&b, nz(c->expected));
            rp_puts(&b, "</code></td></tr><tr><th>got</th><td><code>");
            rp_put_xml(&b, nz(c->got));
            rp_puts(&b, "</code></td></tr></table>\n");
        }
        if (c->nio) {
            rp_puts(&b, "<pre>");
            transcript_text(&b, c, 1);
            rp_puts(&b, "</pre>\n");
        }
        rp_puts(&b, "</details>\n");
    }
    rp_puts(&b, "</body></html>\n");
    free(first);
    int rc = rp_buf_save(&b, path, err, errlen);
    rp_buf_free(&b);
    return rc;
}

static int join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int rp_write_all(const rp_run *r, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    /* mkdir -p: a CI job points --report at a folder that does not exist. */
    if (join(path, sizeof path, dir, ""))
        return snprintf(err, errlen, "%s: path too long", dir), -1;
    for (char *q = path + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        *q = '/';
    }
    if (join(path, sizeof path, dir, "junit.xml") || rp_write_junit(r, path, err, errlen))
        return -1;
    if (join(path, sizeof path, dir, "report.json") || rp_write_json(r, path, err, errlen))
        return -1;
    if (join(path, sizeof path, dir, "report.html") || rp_write_html(r, path, err, errlen))
        return -1;
    return 0;
}

void rp_print_summary(const rp_run *r, FILE *out, int color)
{
    static const char *const colors[RP__COUNT] = {"\033[32m", "\033[1;31m", "\033[1;33m",
                                                   "\033[36m", "\033[2m",    "\033[1;35m"};
    const char *reset = color ? "\033[0m" : "";
    size_t ng;
    size_t *first = groups(r, &ng);
    if (!first) {
        fprintf(out, "\n(no summary: out of memory)\n");
        return;
    }
    fprintf(out, "\n%-28s %5s %5s %5s %5s %5s %5s\n", "requirement", "PASS", "FAIL", "WARN", "INFO",
            "SKIP", "ERROR");
    for (size_t g = 0; g < ng; g++) {
        size_t cnt[RP__COUNT] = {0};
        for (size_t i = first[g]; i < r->ncases; i++)
            if (in_group(r, first[g], i))
                cnt[r->cases[i].verdict]++;
        rp_buf name = {0};
        group_name(&name, &r->cases[first[g]]);
        fprintf(out, "%-28s", name.p ? name.p : "");
        rp_buf_free(&name);
        for (int v = 0; v < RP__COUNT; v++) {
            if (cnt[v] && color && v != RP_PASS)
                fprintf(out, " %s%5zu%s", colors[v], cnt[v], reset);
            else
                fprintf(out, " %5zu", cnt[v]);
        }
        fputc('\n', out);
    }
    size_t counts[RP__COUNT];
    rp_run_counts(r, counts);
    fprintf(out, "%-28s", "total");
    for (int v = 0; v < RP__COUNT; v++)
        fprintf(out, " %5zu", counts[v]);
    fputc('\n', out);
    int any = 0;
    for (size_t i = 0; i < r->ncases; i++) {
        const rp_case *c = &r->cases[i];
        if (c->verdict == RP_PASS || c->verdict == RP_SKIP || c->verdict == RP_INFO)
            continue;
        if (!any++)
            fputc('\n', out);
        fprintf(out, "%s%-5s%s %s (RFC %s section %s, %s): %s\n", color ? colors[c->verdict] : "",
                rp_verdict_name(c->verdict), reset, nz(c->id), nz(c->rfc), nz(c->section),
                nz(c->level), nz(c->reason));
    }
    if (r->insecure)
        fprintf(out, "\nnote: TLS verification was turned off (--insecure)\n");
    if (r->interrupted)
        fprintf(out, "\nnote: the run was interrupted; the reports hold what ran\n");
    free(first);
}
