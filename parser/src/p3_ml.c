/* Multi-line data (RFC 1939 section 3). The body decoder is a small state
 * machine that lets p3_scan_body_dots jump over everything but the few octets
 * that matter: in well-formed data that is only a dot at the start of a
 * line. The AVX-512 scan goes on past stuffed dots and hands back where
 * they are (the slices are cut there), so a 16 KiB chunk is one scan; its
 * hint, kept in the p3_ml between calls, tells it how the response went so
 * far. */
#include "p3_scan.h"
#include "p3_util.h"
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
            /* Stuffed dots the scan went past: each ends a slice. One slot
             * of out[] stays free for the slice that ends where it stopped. */
            size_t lf, nd, dots[16], room = cap - no - (no < cap);
            size_t k = i + p3_scan_body_dots(buf + i, len - i, prev, &lf, dots,
                                             room < 16 ? room : 16, &nd, &d->scan_hint);
            d->lines += lf;
            for (size_t t = 0; t < nd; t++) {
                size_t at = i + dots[t];
                out[no].p = buf + seg;
                out[no++].n = at - seg;
                octets += at - seg;
                seg = at + 1;
            }
            d->stuffed += nd;
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

/* The entry calls past their fast paths: the line as p3_ml_line takes it,
 * then the entry with d's flags. uid == NULL selects LIST. */
__attribute__((noinline, cold)) static ssize_t entry_slow(p3_ml *d, const char *buf, size_t len,
                                                    uint32_t *msg, uint64_t *octets, p3_slice *uid,
                                                    p3_diag *diag)
{
    const uint64_t c0 = d->consumed;
    p3_slice line;
    ssize_t r = p3_ml_line(d, buf, len, &line);
    if (r == P3_ERROR) {
        if (diag) {
            diag->code = d->err;
            diag->offset = (size_t)(d->err_off - c0);
            diag->skip = 0;
        }
        return r;
    }
    if (r <= 0 || d->state == ST_DONE)
        return r;
    unsigned lenient;
    p3_diag dg;
    int e = uid ? p3_uidl_entry_x(line, d->flags, msg, uid, &lenient, &dg)
                : p3_list_entry_x(line, d->flags, msg, octets, &lenient, &dg);
    if (e != 0) {
        if (diag) {
            diag->code = dg.code;
            diag->offset = (size_t)(line.p - buf) + dg.offset;
            diag->skip = (size_t)r;
        }
        return P3_ERROR;
    }
    d->lenient |= lenient;
    return r;
}

/* Six arguments each, so the fast paths end in a plain jump to them. */
__attribute__((noinline)) static ssize_t list_slow(p3_ml *d, const char *buf, size_t len,
                                                   uint32_t *msg, uint64_t *octets, p3_diag *diag)
{
    return entry_slow(d, buf, len, msg, octets, NULL, diag);
}

__attribute__((noinline)) static ssize_t uidl_slow(p3_ml *d, const char *buf, size_t len,
                                                   uint32_t *msg, p3_slice *uid, p3_diag *diag)
{
    return entry_slow(d, buf, len, msg, NULL, uid, diag);
}

ssize_t p3_ml_list(p3_ml *d, const char *buf, size_t len, uint32_t *msg, uint64_t *octets,
                   p3_diag *diag)
{
    /* "n SP size CRLF" with n of 1..7 and size of 1..8 digits, in two
     * words: every octet before the CR is a digit or the one SP, so no
     * scan for the line end is needed. Reads up to buf[17]. */
    if (d->state == ST_BOL && len >= 24) {
        uint64_t m;
        size_t k = p3_swar_lead_number(buf, &m);
        uint64_t w = p3_load64(buf + k + 1);
        uint64_t nd = p3_swar_nondigit(w);
        /* digits of the size: 8 when the word holds no non-digit */
        size_t j = ((size_t)__builtin_ctzll(nd | 1ull << 63) >> 3) + (nd == 0);
        size_t e = k + 1 + j;
        if (k && j && buf[e] == '\r' && buf[e + 1] == '\n' && e + 2 <= d->max_line) {
            *msg = (uint32_t)m;
            *octets = p3_swar_dec8((w ^ (P3_SWAR_ONES * '0')) << ((64 - 8 * j) & 63));
            d->consumed += e + 2;
            d->lines++;
            d->octets += e + 2;
            return (ssize_t)(e + 2);
        }
    }
    return list_slow(d, buf, len, msg, octets, diag);
}

ssize_t p3_ml_uidl(p3_ml *d, const char *buf, size_t len, uint32_t *msg, p3_slice *uid,
                   p3_diag *diag)
{
    /* "n SP uid CRLF" with n of 1..7 digits: the uid runs to the first
     * octet outside 0x21..0x7E, which must be the CR of the line end (one
     * mask over 128 octets from the uid's start covers the longest uid). */
    if (d->state == ST_BOL && len >= 8) {
        uint64_t m;
        size_t k = p3_swar_lead_number(buf, &m);
        size_t u = k + 1;
        p3_mask128 g = p3_scan_nongraph128(buf + u, len - u);
        size_t un = g.lo ? (size_t)__builtin_ctzll(g.lo)
                         : 64 + (size_t)__builtin_ctzll(g.hi | 1ull << 63);
        size_t e = u + un;
        if (k && un - 1 < P3_MAX_UID && e + 1 < len && buf[e] == '\r' && buf[e + 1] == '\n' &&
            e + 2 <= d->max_line) {
            *msg = (uint32_t)m;
            uid->p = buf + u;
            uid->n = un;
            d->consumed += e + 2;
            d->lines++;
            d->octets += e + 2;
            return (ssize_t)(e + 2);
        }
    }
    return uidl_slow(d, buf, len, msg, uid, diag);
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
