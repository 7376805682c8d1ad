/* Parser runs over the workloads. The checks are kept to a compare or two
 * per entry: they run inside the timed region, and the baseline they are
 * compared with does nothing but find line ends. */
#include "p3b_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pop3parse.h"

#define P3_UNLIKELY_B(x) __builtin_expect(!!(x), 0)

static p3b_api api = P3B_API_SINGLE;

void p3b_set_api(p3b_api a) { api = a; }

/* The whole workload is one buffer; the parser may look only up to `win`,
 * the end of the last chunk "received". Chunk ends are absolute multiples of
 * P3B_CHUNK, as if every read() returned a full chunk. */
typedef struct feed {
    const char *buf;
    size_t pos;
    size_t win;
    size_t total;
} feed;

static void feed_init(feed *f, const char *buf, size_t total)
{
    f->buf = buf;
    f->pos = 0;
    f->total = total;
    f->win = total < P3B_CHUNK ? total : P3B_CHUNK;
}

/* Receive one more chunk. -1 at the end of the input. */
static inline int feed_more(feed *f)
{
    if (f->win == f->total)
        return -1;
    size_t next = (f->win / P3B_CHUNK + 1) * P3B_CHUNK;
    f->win = next < f->total ? next : f->total;
    return 0;
}

static int fail(p3b_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_diag(p3b_err *e, const char *what, size_t base, const p3_diag *dg)
{
    return fail(e, "%s: %s (%s) at offset %zu", what, p3_errno_name(dg->code),
                p3_errno_msg(dg->code), base + dg->offset);
}

/* One status line, asking for more input while the parser needs it. */
static int status_line(feed *f, p3_status *st, p3b_err *e, const char *what)
{
    p3_diag dg;
    ssize_t r;
    while ((r = p3_status_parse(f->buf + f->pos, f->win - f->pos, 0, st, &dg)) == P3_NEED_MORE)
        if (feed_more(f))
            return fail(e, "%s: input ends inside the status line at %zu", what, f->pos);
    if (r < 0)
        return fail_diag(e, what, f->pos, &dg);
    if (st->kind != P3_ST_OK)
        return fail(e, "%s: status line at %zu is not +OK", what, f->pos);
    if (st->lenient)
        return fail(e, "%s: status line at %zu needed leniency 0x%x", what, f->pos, st->lenient);
    f->pos += (size_t)r;
    return 0;
}

static int ml_fail(p3b_err *e, const char *what, const feed *f, const p3_ml *d, ssize_t r)
{
    if (r == P3_NEED_MORE)
        return fail(e, "%s: input ends inside a line at %zu", what, f->pos);
    return fail(e, "%s: %s (%s) at data offset %llu (response data from %zu)", what,
                p3_errno_name(d->err), p3_errno_msg(d->err), (unsigned long long)d->err_off,
                f->pos);
}

/* The text of "+OK <n> octets" starts with n. */
static int leading_u64(p3_slice s, uint64_t *v)
{
    uint64_t x = 0;
    size_t i = 0;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && i < 19)
        x = x * 10 + (uint64_t)(s.p[i++] - '0');
    if (i == 0 || (i < s.n && s.p[i] != ' '))
        return -1;
    *v = x;
    return 0;
}

int p3b_parse_retr(const p3b_w1 *w, const char *name, p3b_err *e)
{
    enum { NOUT = 64 };
    p3_slice out[NOUT];
    feed f;
    uint64_t lines = 0, stuffed = 0;
    feed_init(&f, w->buf.p, w->buf.n);
    for (uint32_t m = 0; m < w->nmsg; m++) {
        p3_status st;
        uint64_t blen;
        if (status_line(&f, &st, e, name))
            return -1;
        if (leading_u64(st.text, &blen) || blen != w->blen[m])
            return fail(e, "%s message %u: status text \"%.*s\" does not give %llu octets", name,
                        m + 1, (int)st.text.n, st.text.p, (unsigned long long)w->blen[m]);
        p3_ml d;
        p3_ml_init(&d, 0, 0);
        uint64_t sum = 0;
        while (!p3_ml_done(&d)) {
            if (f.pos == f.win && feed_more(&f))
                return fail(e, "%s message %u: input ends before its terminator", name, m + 1);
            size_t nout = 0;
            ssize_t c = p3_ml_body(&d, f.buf + f.pos, f.win - f.pos, out, NOUT, &nout);
            if (c < 0)
                return ml_fail(e, name, &f, &d, c);
            if (c == 0 && nout == 0 && !p3_ml_done(&d))
                return fail(e, "%s message %u: p3_ml_body made no progress at %zu", name,
                            m + 1, f.pos);
            for (size_t k = 0; k < nout; k++)
                sum += out[k].n;
            f.pos += (size_t)c;
        }
        if (sum != blen || d.octets != blen || d.lines != w->lines[m] ||
            d.stuffed != w->stuffed[m] || d.lenient)
            return fail(e,
                        "%s message %u: parser gave %llu octets in slices, octets %llu, lines %llu, "
                        "stuffed %llu, lenient 0x%x; generator: %llu octets, %llu lines, "
                        "%llu stuffed",
                        name, m + 1, (unsigned long long)sum, (unsigned long long)d.octets,
                        (unsigned long long)d.lines, (unsigned long long)d.stuffed, d.lenient,
                        (unsigned long long)blen, (unsigned long long)w->lines[m],
                        (unsigned long long)w->stuffed[m]);
        lines += d.lines;
        stuffed += d.stuffed;
    }
    if (f.pos != f.total)
        return fail(e, "%s: %zu octets left after the last message", name, f.total - f.pos);
    if (lines != w->total_lines || stuffed != w->total_stuffed)
        return fail(e, "%s: totals differ (lines %llu, stuffed %llu)", name,
                    (unsigned long long)lines, (unsigned long long)stuffed);
    return 0;
}

/* The window end after one more chunk, or NULL at the end of the input.
 * For the loops below that keep pointers instead of a feed: the fewer
 * values live across the parser call, the fewer the harness spills. */
static const char *next_win(const char *base, const char *win, const char *end)
{
    if (win == end)
        return NULL;
    size_t next = ((size_t)(win - base) / P3B_CHUNK + 1) * P3B_CHUNK;
    return next < (size_t)(end - base) ? base + next : end;
}

/* The end of a W2 listing: the sum of sizes (LIST) or uid lengths (UIDL),
 * the line count and no leniency. Returns p with *winp = win, or NULL with
 * e set. Cold and out of line: inlined, it moved the listing loops' code
 * and cost W2 4 % (alternating runs). */
__attribute__((noinline, cold)) static const char *w2_end(const p3b_w2 *w, int uidl, uint64_t sum,
                                                         const p3_ml *d, const char *what,
                                                         const char *p, const char *win,
                                                         const char **winp, p3b_err *e)
{
    if (sum != (uidl ? w->uid_bytes : w->size_sum) || d->lines != w->n || d->lenient) {
        fail(e, "%s: totals differ (sum %llu, lines %llu, lenient 0x%x)", what,
             (unsigned long long)sum, (unsigned long long)d->lines, d->lenient);
        return NULL;
    }
    *winp = win;
    return p;
}

/* One multi-line listing of w->n entries, pointer-based like W3 (it runs
 * once per entry). uidl selects the UIDL checks, else LIST. Returns the new
 * position, or NULL with e set. */
static const char *w2_listing(const p3b_w2 *w, int uidl, const char *p, const char **winp,
                              p3b_err *e)
{
    const char *const base = w->buf.p, *const end = base + w->buf.n;
    const char *win = *winp;
    const char *what = uidl ? "W2 UIDL" : "W2 LIST";
    p3_ml d;
    p3_slice line;
    p3_diag dg;
    uint64_t sum = 0;
    size_t digits = 1;
    uint32_t next_pow10 = 10;
    p3_ml_init(&d, 0, 0);
    for (uint32_t i = 1;;) {
        ssize_t r = p3_ml_line(&d, p, (size_t)(win - p), &line);
        if (P3_UNLIKELY_B(r < 0)) {
            if (r == P3_NEED_MORE && (win = next_win(base, win, end)) != NULL)
                continue;
            if (r == P3_NEED_MORE)
                fail(e, "%s: input ends inside the line at %td", what, p - base);
            else
                fail(e, "%s: %s (%s) at data offset %llu (line at %td)", what,
                     p3_errno_name(d.err), p3_errno_msg(d.err), (unsigned long long)d.err_off,
                     p - base);
            return NULL;
        }
        if (P3_UNLIKELY_B(i > w->n)) {
            if (!p3_ml_done(&d)) {
                fail(e, "%s: a line at %td where the terminator should be", what, p - base);
                return NULL;
            }
            p += r;
            break;
        }
        if (uidl) {
            /* The uid must be exactly the octets after "<i> " of this line:
             * the bytes are proved by the sha256, so position and length
             * prove the contents. */
            if (i == next_pow10) {
                digits++;
                next_pow10 *= 10;
            }
            uint32_t msg;
            p3_slice uid;
            if (P3_UNLIKELY_B(p3_uidl_entry(line, 0, &msg, &uid, &dg) != 0)) {
                fail_diag(e, "W2 UIDL entry", (size_t)(line.p - base), &dg);
                return NULL;
            }
            if (P3_UNLIKELY_B(msg != i || uid.n != w->uidlen[i] || uid.p != p + digits + 1)) {
                fail(e, "W2 UIDL entry %u at %td: parser gave msg %u, uid of %zu octets at %td", i,
                     p - base, msg, uid.n, uid.p - base);
                return NULL;
            }
            sum += uid.n;
        } else {
            uint32_t msg;
            uint64_t oct;
            if (P3_UNLIKELY_B(p3_list_entry(line, 0, &msg, &oct, &dg) != 0)) {
                fail_diag(e, "W2 LIST entry", (size_t)(line.p - base), &dg);
                return NULL;
            }
            if (P3_UNLIKELY_B(msg != i || oct != w->size[i])) {
                fail(e, "W2 LIST entry %u: parser gave %u %llu, generator %u %u", i, msg,
                     (unsigned long long)oct, i, w->size[i]);
                return NULL;
            }
            sum += oct;
        }
        p += r;
        i++;
    }
    return w2_end(w, uidl, sum, &d, what, p, win, winp, e);
}

/* The same listing through p3_ml_list / p3_ml_uidl: line and entry in
 * one call, the same checks per entry and in total. */
static const char *w2_listing_entry(const p3b_w2 *w, int uidl, const char *p, const char **winp,
                                    p3b_err *e)
{
    const char *const base = w->buf.p, *const end = base + w->buf.n;
    const char *win = *winp;
    const char *what = uidl ? "W2 UIDL" : "W2 LIST";
    p3_ml d;
    p3_diag dg;
    uint64_t sum = 0;
    size_t digits = 1;
    uint32_t next_pow10 = 10;
    p3_ml_init(&d, 0, 0);
    for (uint32_t i = 1;;) {
        uint32_t msg;
        uint64_t oct = 0;
        p3_slice uid = {NULL, 0};
        ssize_t r = uidl ? p3_ml_uidl(&d, p, (size_t)(win - p), &msg, &uid, &dg)
                         : p3_ml_list(&d, p, (size_t)(win - p), &msg, &oct, &dg);
        if (P3_UNLIKELY_B(r <= 0)) {
            if (r == P3_NEED_MORE && (win = next_win(base, win, end)) != NULL)
                continue;
            if (r == P3_NEED_MORE)
                fail(e, "%s: input ends inside the line at %td", what, p - base);
            else if (r == 0)
                fail(e, "%s: parser done before the line at %td", what, p - base);
            else
                fail_diag(e, what, (size_t)(p - base), &dg);
            return NULL;
        }
        if (P3_UNLIKELY_B(p3_ml_done(&d))) {
            if (i != w->n + 1) {
                fail(e, "%s: terminator at %td after %u entries", what, p - base, i - 1);
                return NULL;
            }
            p += r;
            break;
        }
        if (uidl) {
            /* The uid must be exactly the octets after "<i> " of this line
             * (see w2_listing). */
            if (i == next_pow10) {
                digits++;
                next_pow10 *= 10;
            }
            if (P3_UNLIKELY_B(i > w->n || msg != i || uid.n != w->uidlen[i] ||
                              uid.p != p + digits + 1)) {
                fail(e, "W2 UIDL entry %u at %td: parser gave msg %u, uid of %zu octets at %td", i,
                     p - base, msg, uid.n, uid.p - base);
                return NULL;
            }
            sum += uid.n;
        } else {
            if (P3_UNLIKELY_B(i > w->n || msg != i || oct != w->size[i])) {
                fail(e, "W2 LIST entry %u: parser gave %u %llu, generator %u %u", i, msg,
                     (unsigned long long)oct, i, i <= w->n ? w->size[i] : 0);
                return NULL;
            }
            sum += oct;
        }
        p += r;
        i++;
    }
    return w2_end(w, uidl, sum, &d, what, p, win, winp, e);
}

/* The same listing through p3_ml_lines: a batch of lines per call, then
 * the entries of the batch; the same checks per entry and in total. */
static const char *w2_listing_batch(const p3b_w2 *w, int uidl, const char *p, const char **winp,
                                    p3b_err *e)
{
    enum { NB = 512 };
    p3_slice lines[NB];
    const char *const base = w->buf.p, *const end = base + w->buf.n;
    const char *win = *winp;
    const char *what = uidl ? "W2 UIDL" : "W2 LIST";
    p3_ml d;
    p3_diag dg;
    uint64_t sum = 0;
    size_t digits = 1;
    uint32_t next_pow10 = 10;
    uint32_t i = 1;
    p3_ml_init(&d, 0, 0);
    while (!p3_ml_done(&d)) {
        size_t n;
        ssize_t r = p3_ml_lines(&d, p, (size_t)(win - p), lines, NB, &n);
        if (P3_UNLIKELY_B(r <= 0)) {
            if (r == P3_NEED_MORE && (win = next_win(base, win, end)) != NULL)
                continue;
            if (r == P3_NEED_MORE)
                fail(e, "%s: input ends inside the line at %td", what, p - base);
            else
                fail(e, "%s: %s (%s) at data offset %llu (line at %td)", what,
                     p3_errno_name(d.err), p3_errno_msg(d.err), (unsigned long long)d.err_off,
                     p - base);
            return NULL;
        }
        if (P3_UNLIKELY_B(n > w->n - (i - 1))) {
            fail(e, "%s: a line at %td where the terminator should be", what,
                 lines[w->n - (i - 1)].p - base);
            return NULL;
        }
        if (uidl) {
            for (size_t k = 0; k < n; k++, i++) {
                /* The uid must be exactly the octets after "<i> " of this
                 * line (see w2_listing). */
                if (i == next_pow10) {
                    digits++;
                    next_pow10 *= 10;
                }
                uint32_t msg;
                p3_slice uid;
                if (P3_UNLIKELY_B(p3_uidl_entry(lines[k], 0, &msg, &uid, &dg) != 0)) {
                    fail_diag(e, "W2 UIDL entry", (size_t)(lines[k].p - base), &dg);
                    return NULL;
                }
                if (P3_UNLIKELY_B(msg != i || uid.n != w->uidlen[i] ||
                                  uid.p != lines[k].p + digits + 1)) {
                    fail(e, "W2 UIDL entry %u at %td: parser gave msg %u, uid of %zu octets at %td",
                         i, lines[k].p - base, msg, uid.n, uid.p - base);
                    return NULL;
                }
                sum += uid.n;
            }
        } else {
            for (size_t k = 0; k < n; k++, i++) {
                uint32_t msg;
                uint64_t oct;
                if (P3_UNLIKELY_B(p3_list_entry(lines[k], 0, &msg, &oct, &dg) != 0)) {
                    fail_diag(e, "W2 LIST entry", (size_t)(lines[k].p - base), &dg);
                    return NULL;
                }
                if (P3_UNLIKELY_B(msg != i || oct != w->size[i])) {
                    fail(e, "W2 LIST entry %u: parser gave %u %llu, generator %u %u", i, msg,
                         (unsigned long long)oct, i, w->size[i]);
                    return NULL;
                }
                sum += oct;
            }
        }
        p += r;
    }
    if (i != w->n + 1) {
        fail(e, "%s: %u entries, expected %u", what, i - 1, w->n);
        return NULL;
    }
    return w2_end(w, uidl, sum, &d, what, p, win, winp, e);
}

int p3b_parse_w2(const p3b_w2 *w, p3b_err *e)
{
    feed f;
    p3_status st;
    feed_init(&f, w->buf.p, w->buf.n);

    if (status_line(&f, &st, e, "W2 LIST status"))
        return -1;
    uint64_t count;
    if (leading_u64(st.text, &count) || count != w->n)
        return fail(e, "W2 LIST status text does not start with %u", w->n);
    const char *win = f.buf + f.win;
    const char *(*listing)(const p3b_w2 *, int, const char *, const char **, p3b_err *) =
        api == P3B_API_BATCH ? w2_listing_batch : api == P3B_API_LINE ? w2_listing : w2_listing_entry;
    const char *p = listing(w, 0, f.buf + f.pos, &win, e);
    if (!p)
        return -1;
    f.pos = (size_t)(p - f.buf);
    f.win = (size_t)(win - f.buf);
    if (status_line(&f, &st, e, "W2 UIDL status"))
        return -1;
    win = f.buf + f.win;
    p = listing(w, 1, f.buf + f.pos, &win, e);
    if (!p)
        return -1;
    if (p != f.buf + f.total)
        return fail(e, "W2: %td octets left after the UIDL answer", f.buf + f.total - p);
    return 0;
}

/* (kind, has arguments) -> W3 category, -1 for a kind W3 never sends. A
 * table, not a switch: the kinds come in random order, and a jump table's
 * mispredictions would be charged to the parser. */
static signed char w3_cat_tab[P3_CMD__COUNT][2];

static void w3_cat_init(void)
{
    memset(w3_cat_tab, -1, sizeof w3_cat_tab);
    static const struct {
        p3_cmd_kind kind;
        signed char bare, args;
    } map[] = {{P3_CMD_RETR, -1, P3B_RETR}, {P3_CMD_DELE, -1, P3B_DELE},
               {P3_CMD_UIDL, P3B_UIDL, P3B_UIDL_N}, {P3_CMD_LIST, P3B_LIST, P3B_LIST_N},
               {P3_CMD_TOP, -1, P3B_TOP}, {P3_CMD_STAT, P3B_STAT, -1},
               {P3_CMD_NOOP, P3B_NOOP, -1}, {P3_CMD_USER, -1, P3B_USER},
               {P3_CMD_PASS, -1, P3B_PASS}, {P3_CMD_CAPA, P3B_CAPA, -1},
               {P3_CMD_RSET, P3B_RSET, -1}, {P3_CMD_QUIT, P3B_QUIT, -1}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        w3_cat_tab[map[i].kind][0] = map[i].bare;
        w3_cat_tab[map[i].kind][1] = map[i].args;
    }
}

static int w3_check(const p3b_w3 *w, const uint64_t *count, uint64_t num_sum, unsigned lenient,
                    p3b_err *e);

/* W3 through p3_cmd_parse_many: the same counts and sums per command. */
static int w3_batch(const p3b_w3 *w, p3b_err *e)
{
    enum { NB = 128 };
    p3_cmd cmds[NB];
    p3_diag dg;
    uint64_t count[P3B_W3_NCAT] = {0}, count4[4][P3B_W3_NCAT] = {{0}};
    uint64_t num_sum = 0;
    unsigned lenient = 0;
    const char *const base = w->buf.p, *const end = base + w->buf.n;
    const char *p = base;
    const char *win = w->buf.n < P3B_CHUNK ? end : base + P3B_CHUNK;
    w3_cat_init();
    while (p < end) {
        size_t n;
        ssize_t r = p3_cmd_parse_many(p, (size_t)(win - p), 0, cmds, NB, &n, &dg);
        if (P3_UNLIKELY_B(r < 0)) {
            if (r == P3_NEED_MORE && (win = next_win(base, win, end)) != NULL)
                continue;
            if (r == P3_NEED_MORE)
                return fail(e, "W3: input ends inside the line at %td", p - base);
            return fail_diag(e, "W3 command", (size_t)(p - base), &dg);
        }
        /* Four sets of counters, one per k % 4: a batch's commands are
         * counted back to back, and one counter incremented by neighbouring
         * lines would be a chain of dependent memory updates. */
        for (size_t k = 0; k < n; k++) {
            const p3_cmd *c = &cmds[k];
            int cat = (unsigned)c->kind < P3_CMD__COUNT ? w3_cat_tab[c->kind][c->nargs != 0] : -1;
            if (P3_UNLIKELY_B(cat < 0))
                return fail(e, "W3 line at %td: unexpected command kind %d", c->keyword.p - base,
                            (int)c->kind);
            count4[k & 3][cat]++;
            num_sum += (uint64_t)c->num[0] + c->num[1];
            lenient |= c->lenient;
        }
        p += r;
    }
    for (int c = 0; c < P3B_W3_NCAT; c++)
        count[c] = count4[0][c] + count4[1][c] + count4[2][c] + count4[3][c];
    return w3_check(w, count, num_sum, lenient, e);
}

int p3b_parse_w3(const p3b_w3 *w, p3b_err *e)
{
    if (api == P3B_API_BATCH)
        return w3_batch(w, e);
    p3_cmd cmd;
    p3_diag dg;
    uint64_t count[P3B_W3_NCAT] = {0};
    uint64_t num_sum = 0;
    unsigned lenient = 0;
    const char *const base = w->buf.p, *const end = base + w->buf.n;
    const char *p = base;
    const char *win = w->buf.n < P3B_CHUNK ? end : base + P3B_CHUNK;
    w3_cat_init();
    while (p < end) {
        ssize_t r = p3_cmd_parse(p, (size_t)(win - p), 0, &cmd, &dg);
        if (P3_UNLIKELY_B(r < 0)) {
            if (r == P3_NEED_MORE && (win = next_win(base, win, end)) != NULL)
                continue;
            if (r == P3_NEED_MORE)
                return fail(e, "W3: input ends inside the line at %td", p - base);
            return fail_diag(e, "W3 command", (size_t)(p - base), &dg);
        }
        int c = (unsigned)cmd.kind < P3_CMD__COUNT ? w3_cat_tab[cmd.kind][cmd.nargs != 0] : -1;
        if (P3_UNLIKELY_B(c < 0))
            return fail(e, "W3 line at %td: unexpected command kind %d", p - base, (int)cmd.kind);
        count[c]++;
        num_sum += (uint64_t)cmd.num[0] + cmd.num[1];
        lenient |= cmd.lenient;
        p += r;
    }
    return w3_check(w, count, num_sum, lenient, e);
}

static int w3_check(const p3b_w3 *w, const uint64_t *count, uint64_t num_sum, unsigned lenient,
                    p3b_err *e)
{
    uint64_t lines = 0;
    for (int c = 0; c < P3B_W3_NCAT; c++) {
        lines += count[c];
        if (count[c] != w->count[c])
            return fail(e, "W3: parser counted %llu %s, generator %llu", (unsigned long long)count[c],
                        p3b_w3_cat_name[c], (unsigned long long)w->count[c]);
    }
    if (lines != w->lines || num_sum != w->num_sum || lenient)
        return fail(e, "W3: %llu lines, sum of numeric arguments %llu (generator %llu, %llu); "
                       "lenient 0x%x",
                    (unsigned long long)lines, (unsigned long long)num_sum,
                    (unsigned long long)w->lines, (unsigned long long)w->num_sum, lenient);
    return 0;
}
