/* Multi-line data (RFC 1939 section 3). The body decoder is a small state
 * machine that lets p3_scan_body jump over everything but the few octets that
 * matter: in well-formed data that is only a dot at the start of a line, so a
 * 16 KiB chunk usually becomes one slice. */
#include "p3_scan.h"
#include "pop3parse.h"

#include <stdint.h>
#include <string.h>

enum {
    ST_BOL = 0, /* at the start of a line (previous octet LF, or none yet) */
    ST_IN,      /* inside a line, previous octet ordinary data */
    ST_CR,      /* previous octet a CR, judged by the next one */
    ST_DOT,     /* a "." at the start of a line, not output (stripped or end) */
    ST_DOTCR,   /* "." CR at the start of a line, not output */
    ST_DONE,    /* the terminator has been consumed */
    ST_ERR
};

/* The data CR of ".\r" + not-LF when the CR came in an earlier buffer. */
static const char cr_octet[1] = {'\r'};

void p3_ml_init(p3_ml *d, unsigned flags, size_t max_line)
{
    memset(d, 0, sizeof *d);
    d->flags = flags;
    d->state = ST_BOL;
    d->err = P3_E_OK;
    if (flags & P3_LENIENT_LONG_LINE)
        d->max_line = SIZE_MAX;
    else
        d->max_line = max_line ? max_line : P3_MAX_RESP_LINE;
}

int p3_ml_done(const p3_ml *d) { return d->state == ST_DONE; }

static ssize_t fail(p3_ml *d, p3_errno e, uint64_t off)
{
    d->err = e;
    d->err_off = off;
    d->state = ST_ERR;
    return P3_ERROR;
}

static unsigned state_after(unsigned char c)
{
    return c == '\n' ? ST_BOL : c == '\r' ? ST_CR : ST_IN;
}

ssize_t p3_ml_body(p3_ml *d, const char *buf, size_t len, p3_slice *out, size_t cap,
                   size_t *nout)
{
    *nout = 0;
    if (d->err != P3_E_OK)
        return P3_ERROR;
    const uint64_t base = d->consumed;
    const unsigned flags = d->flags;
    unsigned st = d->state;
    size_t i = 0, no = 0;
    uint64_t octets = 0;

    while (i < len && st != ST_DONE) {
        if (st == ST_DOT) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '\r') {
                st = ST_DOTCR;
                i++;
            } else if (c == '\n') {
                if (!(flags & P3_LENIENT_BARE_LF))
                    goto bare_lf_i;
                d->lenient |= P3_LENIENT_BARE_LF;
                st = ST_DONE;
                i++;
            } else {
                /* RFC 1939 section 3: "If so and if octets other than CRLF
                 * follow, the first octet of the line (the termination octet)
                 * is stripped away." */
                d->stuffed++;
                st = ST_IN;
            }
            continue;
        }
        if (st == ST_DOTCR) {
            if (buf[i] == '\n') {
                /* "If so and if CRLF immediately follows the termination
                 * character, then the response from the POP server is ended" */
                st = ST_DONE;
                i++;
                continue;
            }
            if (!(flags & P3_LENIENT_BARE_CR)) {
                *nout = no;
                return fail(d, P3_E_BARE_CR, base + i - 1);
            }
            if (no == cap)
                break;
            out[no].p = i ? buf + i - 1 : cr_octet;
            out[no++].n = 1;
            octets++;
            d->lenient |= P3_LENIENT_BARE_CR;
            d->stuffed++;
            st = ST_IN;
            continue;
        }

        /* ST_BOL, ST_IN, ST_CR: one run of data up to the next event. A full
         * out[] stops here unless the run is empty (a dot right away). */
        unsigned char prev = st == ST_BOL ? '\n' : st == ST_CR ? '\r' : 'x';
        if (no == cap && !(st == ST_BOL && buf[i] == '.'))
            break;
        size_t seg = i;
        for (;;) {
            size_t lf;
            size_t k = i + p3_scan_body_lf(buf + i, len - i, prev, &lf);
            d->lines += lf;
            if (k == len) {
                out[no].p = buf + seg;
                out[no++].n = len - seg;
                octets += len - seg;
                st = state_after((unsigned char)buf[len - 1]);
                i = len;
                break;
            }
            unsigned char c = (unsigned char)buf[k];
            unsigned char pc = k == i ? prev : (unsigned char)buf[k - 1];
            if (pc == '\r' && c != '\n') {
                if (!(flags & P3_LENIENT_BARE_CR)) {
                    *nout = no;
                    return fail(d, P3_E_BARE_CR, base + k - 1);
                }
                d->lenient |= P3_LENIENT_BARE_CR;
                i = k;
                prev = 'x'; /* the CR is data now; c is looked at afresh */
                continue;
            }
            if (c == '\n') {
                if (!(flags & P3_LENIENT_BARE_LF)) {
                    *nout = no;
                    return fail(d, P3_E_BARE_LF, base + k);
                }
                d->lenient |= P3_LENIENT_BARE_LF;
                d->lines++;
                i = k + 1;
                prev = '\n';
                continue;
            }
            /* a dot at the start of a line: never output itself */
            if (k > seg) {
                out[no].p = buf + seg;
                out[no++].n = k - seg;
                octets += k - seg;
            }
            i = k + 1;
            st = ST_DOT;
            break;
        }
    }
    d->state = st;
    d->consumed += i;
    d->octets += octets;
    *nout = no;
    return (ssize_t)i;

bare_lf_i:
    *nout = no;
    return fail(d, P3_E_BARE_LF, base + i);
}

/* Everything but a plain CRLF-ended line: errors, leniencies, NEED_MORE,
 * the limit. Kept out of line so the common path saves few registers. */
__attribute__((noinline)) static ssize_t line_slow(p3_ml *d, const char *buf, size_t len,
                                                   p3_slice *line)
{
    line->p = buf;
    line->n = 0;
    if (d->err != P3_E_OK)
        return P3_ERROR;
    if (d->state == ST_DONE)
        return 0;
    const size_t lim = d->max_line;
    const size_t m = len < lim ? len : lim;
    unsigned lenient = 0;
    size_t s = 0, end, eol;
    for (;;) {
        size_t e = s + p3_scan_eol(buf + s, m - s);
        if (e == m) {
            /* No line end where one may still come: the line is too long
             * once the octet where its LF had to be at the latest is not. */
            if (m == lim)
                return fail(d, P3_E_LINE_TOO_LONG, d->consumed + lim - 1);
            return P3_NEED_MORE;
        }
        if (buf[e] == '\n') {
            if (!(d->flags & P3_LENIENT_BARE_LF))
                return fail(d, P3_E_BARE_LF, d->consumed + e);
            lenient |= P3_LENIENT_BARE_LF;
            end = e;
            eol = 1;
            break;
        }
        if (e + 1 >= lim)
            return fail(d, P3_E_LINE_TOO_LONG, d->consumed + lim - 1);
        if (e + 1 >= len)
            return P3_NEED_MORE;
        if (buf[e + 1] == '\n') {
            end = e;
            eol = 2;
            break;
        }
        if (!(d->flags & P3_LENIENT_BARE_CR))
            return fail(d, P3_E_BARE_CR, d->consumed + e);
        lenient |= P3_LENIENT_BARE_CR;
        s = e + 1;
    }
    d->lenient |= lenient;
    d->consumed += end + eol;
    if (end > 0 && buf[0] == '.') {
        if (end == 1) {
            d->state = ST_DONE;
            line->p = buf + 1;
            return (ssize_t)(end + eol);
        }
        d->stuffed++;
        line->p = buf + 1;
        line->n = end - 1;
    } else {
        line->n = end;
    }
    d->lines++;
    d->octets += line->n + eol;
    return (ssize_t)(end + eol);
}

ssize_t p3_ml_line(p3_ml *d, const char *buf, size_t len, p3_slice *line)
{
    /* The common case, one listing line after another: a line of data with
     * its CRLF inside both the buffer and the limit, no leading dot. */
    if (d->state == ST_BOL && len > 0 && buf[0] != '.') {
        size_t m = len < d->max_line ? len : d->max_line;
        size_t e = p3_scan_eol(buf, m);
        if (e + 1 < m && buf[e] == '\r' && buf[e + 1] == '\n') {
            line->p = buf;
            line->n = e;
            d->consumed += e + 2;
            d->lines++;
            d->octets += e + 2;
            return (ssize_t)(e + 2);
        }
    }
    return line_slow(d, buf, len, line);
}

/* Stage 2 of the batch: a plain line is the CR and LF at idx[j], idx[j+1]
 * (j indexes the first line end at or after the line start i), so the next
 * line is found by j += 2 and one load, not by a search that starts at the
 * end of the line before; the counters stay in registers until written
 * back. Anything else (a leading dot, an error, a leniency, the limit, a
 * line not complete in the window) goes to line_slow as in p3_ml_line, so
 * the results cannot differ. After the first line line_slow runs on a copy
 * of d: a line the batch stops before leaves no trace (its error, if it is
 * one, becomes sticky when the next call starts with it). */
ssize_t p3_ml_lines(p3_ml *d, const char *buf, size_t len, p3_slice *lines, size_t cap,
                    size_t *n)
{
    uint16_t idx[P3_EOLIDX_CAP];
    size_t i = 0, k = 0, j = 0, cnt = 0, wb = 0, we = 0; /* idx covers buf[wb..we) */
    const size_t lim = d->max_line;
    const uint64_t c0 = d->consumed;
    uint64_t nl = 0, oc = 0;
    *n = 0;
    while (k < cap) {
        if (__builtin_expect(d->state == ST_BOL && i < len && buf[i] != '.', 1)) {
            if (j + 1 >= cnt && we < len && wb != i) {
                /* The line's end is past the window: index again from i. */
                wb = i;
                we = len - i < P3_EOLIDX_MAX ? len : i + P3_EOLIDX_MAX;
                cnt = p3_scan_eolidx(buf + wb, we - wb, idx);
                j = 0;
            }
            if (__builtin_expect(j + 1 < cnt, 1)) {
                size_t e = wb + idx[j];
                if (__builtin_expect(idx[j + 1] == idx[j] + 1 && buf[e] == '\r' &&
                                         buf[e + 1] == '\n' && e + 2 - i <= lim,
                                     1)) {
                    lines[k].p = buf + i;
                    lines[k].n = e - i;
                    k++;
                    nl++;
                    oc += e + 2 - i;
                    i = e + 2;
                    j += 2;
                    continue;
                }
            }
        }
        d->lines += nl;
        d->octets += oc;
        d->consumed = c0 + i;
        nl = oc = 0;
        ssize_t r;
        if (i == 0) {
            r = line_slow(d, buf, len, &lines[k]);
            if (r <= 0)
                return r;
        } else {
            p3_ml t = *d;
            r = line_slow(&t, buf + i, len - i, &lines[k]);
            if (r <= 0)
                break;
            *d = t;
        }
        i += (size_t)r;
        while (j < cnt && wb + idx[j] < i)
            j++;
        if (d->state == ST_DONE)
            break;
        k++;
    }
    d->lines += nl;
    d->octets += oc;
    d->consumed = c0 + i;
    *n = k;
    return (ssize_t)i;
}

int p3_ml_finish(p3_ml *d)
{
    if (d->state == ST_DONE)
        return 0;
    if (d->err == P3_E_OK) {
        d->err = P3_E_TRUNCATED;
        d->err_off = d->consumed;
        d->state = ST_ERR;
    }
    return P3_ERROR;
}
