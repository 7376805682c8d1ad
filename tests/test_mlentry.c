/* Multi-line LIST and UIDL entries in one call: p3_ml_list and p3_ml_uidl
 * against the composition they are defined as (pop3parse.h):
 *
 *   r = p3_ml_line(d, buf, len, &line); for a data line (r > 0, not the
 *   terminator) p3_list_entry / p3_uidl_entry(line, the p3_ml_init flags);
 *   P3_LENIENT_SPACING / P3_LENIENT_UID go into d->lenient when the entry
 *   fails without them; a malformed entry is P3_ERROR with diag {code,
 *   (line.p - buf) + offset, r}, the line consumed and d->err still OK; a
 *   framing error is P3_ERROR with diag {d->err, d->err_off - consumed
 *   before the call, 0}.
 *
 * The composition, fed the whole input under the scalar implementation, is
 * the oracle. The calls under test run under every implementation, fed
 * whole, one octet at a time and split at every position (after
 * P3_NEED_MORE the same octets again with more appended; after an entry
 * error on at buf + skip), every buffer ending at a guard page. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ml_oracle.h"
#include "p3t.h"
#include "pop3parse.h"

#define S(lit) lit, sizeof(lit) - 1

/* Check's ck_assert* mark the point for the parent process (a pipe write)
 * on every pass; the helpers below run millions of times, so they test
 * plainly and call ck_abort_msg only when a check fails. */
#define REQ(c)                                                                                     \
    do {                                                                                           \
        if (!(c))                                                                                  \
            ck_abort_msg("%s:%d: assertion '%s' failed", __FILE__, __LINE__, #c);                  \
    } while (0)
#define REQM(c, ...)                                                                               \
    do {                                                                                           \
        if (!(c))                                                                                  \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

enum { K_LIST = 0, K_UIDL = 1 };
static const char *const kind_name[2] = {"p3_ml_list", "p3_ml_uidl"};

#define SP P3_LENIENT_SPACING
#define UID P3_LENIENT_UID
#define LF P3_LENIENT_BARE_LF
#define CR P3_LENIENT_BARE_CR
#define ALL_LENIENT 0x7ffu

/* Every combination of SPACING, UID and BARE_LF, then BARE_CR (which turns
 * a CR inside a line into data the entry must reject), LONG_LINE (no line
 * limit) and everything. */
static const unsigned all_flags[] = {
    0, SP, UID, LF, SP | UID, SP | LF, UID | LF, SP | UID | LF,
    CR, SP | UID | LF | CR, P3_LENIENT_LONG_LINE, ALL_LENIENT,
};
#define NFLAGS (sizeof all_flags / sizeof all_flags[0])

/* p3_ml_init's max_line: the default (512), and limits that shorter and
 * longer listing lines cross. */
static const size_t all_max[] = {0, 10, 24};
#define NMAX (sizeof all_max / sizeof all_max[0])

static const p3_impl impls[] = {P3_IMPL_SCALAR, P3_IMPL_SSE2, P3_IMPL_AVX2, P3_IMPL_AVX512};
#define NIMPL (sizeof impls / sizeof impls[0])

/* ---------------------------------------------------------------------------
 * Guarded copies. p3t_guard maps a fresh region per call; the split runs
 * make hundreds of thousands of calls, so they copy into one mapping kept
 * for the process instead: the same guarantee, the copy ends exactly at an
 * inaccessible page.
 */
#define GPAGES 16

static const char *gcopy(const char *data, size_t n)
{
    static char *base;
    static size_t room;
    if (!base) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        room = GPAGES * page;
        base = mmap(NULL, room + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQ(base != MAP_FAILED);
        REQ(mprotect(base + room, page, PROT_NONE) == 0);
    }
    REQ(n <= room);
    char *p = base + room - n;
    if (n)
        memmove(p, data, n);
    return p;
}

/* The input with CR, LF and other non-printables escaped, for messages. */
static const char *esc(const char *s, size_t n)
{
    static char out[4 * 600 + 8];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < sizeof out; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r')
            o += (size_t)sprintf(out + o, "\\r");
        else if (c == '\n')
            o += (size_t)sprintf(out + o, "\\n");
        else if (c < 0x20 || c > 0x7e || c == '\\' || c == '"')
            o += (size_t)sprintf(out + o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (n && o + 8 >= sizeof out)
        o += (size_t)sprintf(out + o, "...");
    out[o] = 0;
    return out;
}

/* ---------------------------------------------------------------------------
 * One result of a call, everything the contract defines, offsets relative
 * to the input.
 */
typedef struct ev {
    size_t at; /* input offset of the call's buf */
    ssize_t ret;
    int done;
    uint32_t msg;
    uint64_t octets;      /* LIST */
    size_t uid_at, uid_n; /* UIDL: the unique-id's input offset and length */
    p3_errno code;        /* diag, with P3_ERROR */
    size_t offset, skip;
    uint64_t consumed, octs, lines, stuffed, err_off;
    unsigned lenient;
    p3_errno err;
} ev;

#define MAXEV 1200
typedef struct trace {
    ev e[MAXEV];
    size_t n;
    int finish;
    p3_errno finish_err;
    uint64_t finish_off;
} trace;


#define MSG_POISON 0xdeadbeefu
#define OCT_POISON 0xfeedfacecafef00dull

/* The first cut after `end`, else n. */
static size_t next_end(const size_t *cuts, size_t ncuts, size_t end, size_t n)
{
    for (size_t k = 0; k < ncuts; k++)
        if (cuts[k] > end && cuts[k] < n)
            return cuts[k];
    return n;
}

/* Feed in[0..n) to fn: the first buffer ends at the first cut (or n),
 * P3_NEED_MORE extends it to the next cut, each call's buffer is the
 * unconsumed input up to the current end, copied to end at the guard page.
 * Records every result but the P3_NEED_MOREs that more input answered,
 * checking on the way what the contract says of each kind of result. */
static void drive(mlo_fn fn, int kind, const char *in, size_t n, unsigned flags, size_t max_line,
                  const size_t *cuts, size_t ncuts, int nodiag, trace *t)
{
    p3_ml d;
    p3_ml_init(&d, flags, max_line);
    unsigned extra = 0;
    size_t start = 0, end = ncuts ? cuts[0] : n;
    if (end > n)
        end = n;
    t->n = 0;
    for (int guard = 0;; guard++) {
        REQ(guard < 100000);
        size_t len = end - start;
        const char *buf = gcopy(in + start, len);
        uint32_t msg = MSG_POISON;
        uint64_t oct = OCT_POISON;
        p3_slice uid = {NULL, 12345};
        p3_diag dg;
        p3t_poison(&dg, sizeof dg);
        const p3_ml before = d;
        ssize_t r = fn(kind, &d, flags, buf, len, &msg, &oct, &uid, nodiag ? NULL : &dg, &extra);
        const int out_untouched =
            msg == MSG_POISON && oct == OCT_POISON && uid.p == NULL && uid.n == 12345;
        const int diag_untouched = p3t_is_poison(&dg, sizeof dg);

        if (r == P3_NEED_MORE) {
            /* nothing consumed, nothing written */
            REQM(mlo_same(&before, &d), "%s: NEED_MORE changed d at %zu of \"%s\"", kind_name[kind],
                 start, esc(in, n));
            REQ(out_untouched && diag_untouched);
            if (end < n) {
                end = next_end(cuts, ncuts, end, n);
                continue;
            }
        }
        REQ(t->n < MAXEV);
        ev *e = &t->e[t->n++];
        memset(e, 0, sizeof *e);
        e->at = start;
        e->ret = r;
        e->done = p3_ml_done(&d);
        e->consumed = d.consumed;
        e->octs = d.octets;
        e->lines = d.lines;
        e->stuffed = d.stuffed;
        e->err_off = d.err_off;
        e->err = d.err;
        e->lenient = d.lenient | extra;
        if (r == P3_NEED_MORE)
            break; /* at the end of the input */

        if (r > 0) {
            REQ((size_t)r <= len);
            REQ(d.consumed == before.consumed + (uint64_t)r);
            REQM(diag_untouched, "%s: diag written on success at %zu of \"%s\"", kind_name[kind],
                 start, esc(in, n));
            if (e->done) {
                /* the terminator: the outputs are untouched, and the next
                 * call takes nothing */
                REQM(out_untouched, "%s: outputs written for the terminator in \"%s\"",
                     kind_name[kind], esc(in, n));
                const p3_ml after = d;
                size_t rest = n - start - (size_t)r;
                const char *b2 = gcopy(in + start + (size_t)r, rest);
                ssize_t r2 =
                    fn(kind, &d, flags, b2, rest, &msg, &oct, &uid, nodiag ? NULL : &dg, &extra);
                REQ(r2 == 0);
                REQ(mlo_same(&after, &d));
                break;
            }
            e->msg = msg;
            if (kind == K_LIST) {
                e->octets = oct;
                REQ(uid.p == NULL && uid.n == 12345);
            } else {
                REQ(oct == OCT_POISON);
                REQ(uid.n == 0 || (uid.p >= buf && uid.p + uid.n <= buf + r));
                e->uid_at = uid.n ? start + (size_t)(uid.p - buf) : 0;
                e->uid_n = uid.n;
            }
            start += (size_t)r;
            continue;
        }
        if (r == 0) {
            REQ(p3_ml_done(&d) && mlo_same(&before, &d));
            break;
        }

        REQ(r == P3_ERROR);
        REQM(out_untouched, "%s: outputs written with P3_ERROR at %zu of \"%s\"", kind_name[kind],
             start, esc(in, n));
        if (!nodiag) {
            e->code = dg.code;
            e->offset = dg.offset;
            e->skip = dg.skip;
            REQ(dg.code > P3_E_OK && dg.code < P3_E__COUNT);
        }
        if (d.err != P3_E_OK) {
            /* framing: sticky, nothing consumed, diag {err, offset, 0} */
            REQ(d.consumed == before.consumed);
            REQ(d.err_off >= before.consumed);
            if (!nodiag) {
                REQ(dg.code == d.err);
                REQ(dg.offset == d.err_off - before.consumed);
                REQ(dg.skip == 0);
            }
            const p3_ml after = d;
            p3_diag dg2;
            p3t_poison(&dg2, sizeof dg2);
            ssize_t r2 =
                fn(kind, &d, flags, buf, len, &msg, &oct, &uid, nodiag ? NULL : &dg2, &extra);
            REQ(r2 == P3_ERROR);
            REQ(mlo_same(&after, &d));
            if (!nodiag)
                REQ(dg2.code == dg.code && dg2.offset == dg.offset && dg2.skip == 0);
            break;
        }
        /* entry: the line is consumed (one more line), go on after it */
        size_t skip = (size_t)(d.consumed - before.consumed);
        REQM(skip > 0 && skip <= len, "%s: entry error consumed %zu at %zu of \"%s\"",
             kind_name[kind], skip, start, esc(in, n));
        REQ(d.lines == before.lines + 1);
        REQ(!p3_ml_done(&d));
        if (!nodiag) {
            REQ(dg.skip == skip);
            REQ(dg.offset < skip);
        }
        start += skip;
    }
    t->finish = p3_ml_finish(&d);
    t->finish_err = d.err;
    t->finish_off = d.err_off;
}

static void same_trace(const trace *want, const trace *got, int cmp_diag, int kind, const char *in,
                       size_t n, unsigned flags, size_t max_line, const char *how)
{
    const char *im = p3_impl_name(p3_impl_get());
#define CTX "%s (%s, %s, flags %#x, max_line %zu) on \"%s\""
#define CTXA kind_name[kind], im, how, flags, max_line, esc(in, n)
    size_t k = 0;
    for (; k < want->n && k < got->n; k++) {
        const ev *w = &want->e[k], *g = &got->e[k];
#define SAME(f)                                                                                    \
    REQM(w->f == g->f, CTX ": result %zu (call at %zu): " #f " %lld, composition %lld", CTXA, k,   \
         w->at, (long long)g->f, (long long)w->f)
        SAME(at);
        SAME(ret);
        SAME(done);
        SAME(msg);
        SAME(octets);
        SAME(uid_at);
        SAME(uid_n);
        if (cmp_diag) {
            SAME(code);
            SAME(offset);
            SAME(skip);
        }
        SAME(consumed);
        SAME(octs);
        SAME(lines);
        SAME(stuffed);
        SAME(err);
        SAME(lenient);
        if (w->err != P3_E_OK)
            SAME(err_off);
#undef SAME
    }
    REQM(want->n == got->n, CTX ": %zu results, composition %zu", CTXA, got->n, want->n);
    REQM(want->finish == got->finish && want->finish_err == got->finish_err &&
             want->finish_off == got->finish_off,
         CTX ": p3_ml_finish differs", CTXA);
#undef CTX
#undef CTXA
}

static trace *tw, *tg;

/* How much: level 0 = every combination of SPACING, UID and BARE_LF, and
 * all flags, the default limit and 24, whole, octet by octet and split in
 * the middle (and at every position with flags 0 and the default limit);
 * level 1 = every flag set of all_flags and every limit of all_max, and a
 * few more splits; level 2 = level 1 split at every position. */
static void check_input_kind(int kind, const char *in, size_t n, int level)
{
    static const unsigned few_flags[] = {0,       SP,       UID,           LF,         SP | UID,
                                         SP | LF, UID | LF, SP | UID | LF, ALL_LENIENT};
    static const size_t few_max[] = {0, 24};
    const unsigned *fl = level ? all_flags : few_flags;
    const size_t nfl = level ? NFLAGS : sizeof few_flags / sizeof few_flags[0];
    const size_t *mxs = level ? all_max : few_max;
    const size_t nmx = level ? NMAX : sizeof few_max / sizeof few_max[0];
    size_t *bytes = malloc((n + 1) * sizeof *bytes);
    for (size_t i = 0; i <= n; i++)
        bytes[i] = i;
    for (size_t f = 0; f < nfl; f++) {
        for (size_t mx = 0; mx < nmx; mx++) {
            unsigned flags = fl[f];
            size_t max_line = mxs[mx];
            REQ(p3_impl_set(P3_IMPL_SCALAR) == P3_IMPL_SCALAR);
            drive(mlo_compose, kind, in, n, flags, max_line, NULL, 0, 0, tw);
            for (size_t k = 0; k < NIMPL; k++) {
                if (!p3_impl_available(impls[k]))
                    continue;
                REQ(p3_impl_set(impls[k]) == impls[k]);
                /* the composition itself is the same everywhere */
                drive(mlo_compose, kind, in, n, flags, max_line, NULL, 0, 0, tg);
                same_trace(tw, tg, 1, kind, in, n, flags, max_line, "composition");
                drive(mlo_api, kind, in, n, flags, max_line, NULL, 0, 0, tg);
                same_trace(tw, tg, 1, kind, in, n, flags, max_line, "whole");
                drive(mlo_api, kind, in, n, flags, max_line, NULL, 0, 1, tg);
                same_trace(tw, tg, 0, kind, in, n, flags, max_line, "whole, NULL diag");
                drive(mlo_api, kind, in, n, flags, max_line, bytes, n + 1, 0, tg);
                same_trace(tw, tg, 1, kind, in, n, flags, max_line, "octet by octet");
                if (level >= 2 || (level == 0 && f == 0 && mx == 0)) {
                    for (size_t i = 0; i <= n; i++) {
                        drive(mlo_api, kind, in, n, flags, max_line, &i, 1, 0, tg);
                        same_trace(tw, tg, 1, kind, in, n, flags, max_line, "split");
                    }
                } else {
                    size_t some[] = {n / 2, 1, 7, n > 2 ? n - 2 : 0};
                    size_t nsome = level ? 4 : 1;
                    for (size_t i = 0; i < nsome; i++) {
                        drive(mlo_api, kind, in, n, flags, max_line, &some[i], 1, 0, tg);
                        same_trace(tw, tg, 1, kind, in, n, flags, max_line, "split");
                    }
                }
            }
        }
    }
    p3_impl_set(P3_IMPL_AUTO);
    free(bytes);
}

/* Both calls on the same input: a LIST body is a UIDL body with bad
 * entries and the other way round. */
static void check_input(const char *in, size_t n, int level)
{
    check_input_kind(K_LIST, in, n, level);
    check_input_kind(K_UIDL, in, n, level);
}

static void setup(void)
{
    tw = malloc(sizeof *tw);
    tg = malloc(sizeof *tg);
}

static void teardown(void)
{
    free(tw);
    free(tg);
}

/* ---------------------------------------------------------------------------
 * Stated results: the first call on the input, fed whole at a guard page,
 * under every implementation (and the composition agrees, through
 * check_input).
 */
static int ev_eq(const ev *a, const ev *b)
{
    return a->at == b->at && a->ret == b->ret && a->done == b->done && a->msg == b->msg &&
           a->octets == b->octets && a->uid_at == b->uid_at && a->uid_n == b->uid_n &&
           a->code == b->code && a->offset == b->offset && a->skip == b->skip &&
           a->consumed == b->consumed && a->octs == b->octs && a->lines == b->lines &&
           a->stuffed == b->stuffed && a->err_off == b->err_off && a->lenient == b->lenient &&
           a->err == b->err;
}

static ev first(int kind, const char *in, size_t n, unsigned flags, size_t max_line)
{
    ev r = {0};
    for (size_t k = 0; k < NIMPL; k++) {
        if (!p3_impl_available(impls[k]))
            continue;
        p3_impl_set(impls[k]);
        drive(mlo_api, kind, in, n, flags, max_line, NULL, 0, 0, tg);
        REQ(tg->n >= 1);
        if (k == 0)
            r = tg->e[0];
        else
            REQM(ev_eq(&r, &tg->e[0]), "%s \"%s\": %s differs from scalar", kind_name[kind],
                 esc(in, n), p3_impl_name(impls[k]));
    }
    p3_impl_set(P3_IMPL_AUTO);
    return r;
}

static void list_ok(const char *in, size_t n, unsigned flags, ssize_t ret, uint32_t msg,
                    uint64_t octets, unsigned lenient)
{
    ev e = first(K_LIST, in, n, flags, 0);
    REQM(e.ret == ret && !e.done && e.msg == msg && e.octets == octets && e.lenient == lenient &&
             e.err == P3_E_OK,
         "LIST \"%s\" flags %#x: ret %zd msg %u octets %llu lenient %#x (%s at %zu)", esc(in, n),
         flags, e.ret, e.msg, (unsigned long long)e.octets, e.lenient, p3_errno_name(e.code),
         e.offset);
}

static void uidl_ok(const char *in, size_t n, unsigned flags, ssize_t ret, uint32_t msg,
                    size_t uid_at, size_t uid_n, unsigned lenient)
{
    ev e = first(K_UIDL, in, n, flags, 0);
    REQM(e.ret == ret && !e.done && e.msg == msg && e.uid_at == uid_at && e.uid_n == uid_n &&
             e.lenient == lenient && e.err == P3_E_OK,
         "UIDL \"%s\" flags %#x: ret %zd msg %u uid %zu+%zu lenient %#x (%s at %zu)", esc(in, n),
         flags, e.ret, e.msg, e.uid_at, e.uid_n, e.lenient, p3_errno_name(e.code), e.offset);
}

/* A malformed entry: P3_ERROR, diag {code, offset, skip}, d->err OK, the
 * line consumed. */
static void entry_bad(int kind, const char *in, size_t n, unsigned flags, p3_errno code,
                      size_t offset, size_t skip)
{
    ev e = first(kind, in, n, flags, 0);
    REQM(e.ret == P3_ERROR && e.code == code && e.offset == offset && e.skip == skip &&
             e.err == P3_E_OK && e.consumed == skip && e.lines == 1,
         "%s \"%s\" flags %#x: ret %zd, %s at %zu skip %zu, err %s, consumed %llu; "
         "want %s at %zu skip %zu",
         kind_name[kind], esc(in, n), flags, e.ret, p3_errno_name(e.code), e.offset, e.skip,
         p3_errno_name(e.err), (unsigned long long)e.consumed, p3_errno_name(code), offset, skip);
}

/* A framing error: P3_ERROR, d->err = code, diag {code, offset, 0}. */
static void frame_bad(int kind, const char *in, size_t n, unsigned flags, size_t max_line,
                      p3_errno code, size_t offset)
{
    ev e = first(kind, in, n, flags, max_line);
    REQM(e.ret == P3_ERROR && e.err == code && e.code == code && e.offset == offset &&
             e.skip == 0 && e.consumed == 0,
         "%s \"%s\" flags %#x max_line %zu: ret %zd, %s at %zu skip %zu, err %s; "
         "want %s at %zu",
         kind_name[kind], esc(in, n), flags, max_line, e.ret, p3_errno_name(e.code), e.offset,
         e.skip, p3_errno_name(e.err), p3_errno_name(code), offset);
}

/* ---------------------------------------------------------------------------
 * The tests.
 */

START_TEST(rfc_examples)
{
    /* RFC 1939 section 5, LIST: the multi-line part after "+OK 2 messages
     * (320 octets)". */
    static const char list[] = "1 120\r\n2 200\r\n.\r\n";
    /* RFC 1939 section 7, UIDL. */
    static const char uidl[] = "1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n";
    check_input(S(list), 2);
    check_input(S(uidl), 2);

    for (size_t f = 0; f < NFLAGS; f++) {
        unsigned flags = all_flags[f];
        drive(mlo_api, K_LIST, S(list), flags, 0, NULL, 0, 0, tg);
        ck_assert_uint_eq(tg->n, 3);
        ck_assert(tg->e[0].ret == 7 && tg->e[0].msg == 1 && tg->e[0].octets == 120);
        ck_assert(tg->e[1].ret == 7 && tg->e[1].msg == 2 && tg->e[1].octets == 200);
        ck_assert(tg->e[2].ret == 3 && tg->e[2].done && tg->e[2].consumed == 17);
        ck_assert(tg->e[2].lines == 2 && tg->e[2].octs == 14 && tg->e[2].lenient == 0);
        ck_assert_int_eq(tg->finish, 0);

        drive(mlo_api, K_UIDL, S(uidl), flags, 0, NULL, 0, 0, tg);
        ck_assert_uint_eq(tg->n, 3);
        ck_assert(tg->e[0].ret == 28 && tg->e[0].msg == 1);
        ck_assert(tg->e[0].uid_at == 2 && tg->e[0].uid_n == 24);
        ck_assert(tg->e[1].ret == 22 && tg->e[1].msg == 2);
        ck_assert(tg->e[1].uid_at == 30 && tg->e[1].uid_n == 18);
        ck_assert(tg->e[2].ret == 3 && tg->e[2].done && tg->e[2].consumed == 53);
        ck_assert(tg->e[2].lines == 2 && tg->e[2].lenient == 0);
    }
    /* Each entry as the first line too (short buffers, no terminator). */
    list_ok(S("1 120\r\n"), 0, 7, 1, 120, 0);
    list_ok(S("2 200\r\n.\r\n"), 0, 7, 2, 200, 0);
    uidl_ok(S("2 QhdPYR:00WBw1Ph7x7\r\n"), 0, 22, 2, 2, 18, 0);
}
END_TEST

/* LIST lines of every shape around the fast path ("n SP size CRLF", n of
 * 1..7 and size of 1..8 digits, at least 24 octets in the buffer): numbers
 * of 1..10 and sizes of 1..20 digits, then the line end, a space and text,
 * or junk; alone (the buffer ends with the line), before the terminator,
 * and before more lines (24 octets or more). */
START_TEST(list_shapes)
{
    static const char md[] = "4294967295";
    static const char sd[] = "18446744073709551615";
    static const char *const tails[] = {"", " text", "x", " ", "\r", "\n", "\rx"};
    static const char *const after[] = {"", ".\r\n", "7 7\r\n12345 678\r\n.\r\n"};
    char in[200];
    for (size_t a = 1; a <= 10; a++) {
        for (size_t b = 1; b <= 20; b++) {
            for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                for (size_t x = 0; x < sizeof after / sizeof after[0]; x++) {
                    int n = snprintf(in, sizeof in, "%.*s %.*s%s\r\n%s", (int)a, md, (int)b, sd,
                                     tails[t], after[x]);
                    check_input_kind(K_LIST, in, (size_t)n, 0);
                }
                if (t == 0) {
                    int n = snprintf(in, sizeof in, "%.*s %.*s\r\n", (int)a, md, (int)b, sd);
                    char ms[16], ss[24];
                    snprintf(ms, sizeof ms, "%.*s", (int)a, md);
                    snprintf(ss, sizeof ss, "%.*s", (int)b, sd);
                    list_ok(in, (size_t)n, 0, n, (uint32_t)strtoul(ms, NULL, 10),
                            strtoull(ss, NULL, 10), 0);
                }
            }
        }
    }
    /* The limits of the numbers. */
    list_ok(S("4294967295 18446744073709551615\r\n"), 0, 33, 4294967295u, 18446744073709551615u, 0);
    entry_bad(K_LIST, S("4294967296 1\r\n"), 0, P3_E_NUMBER_RANGE, 9, 14);
    entry_bad(K_LIST, S("1 18446744073709551616\r\n"), 0, P3_E_NUMBER_RANGE, 21, 24);
    list_ok(S("9999999 99999999\r\n.\r\n1 1\r\n"), 0, 18, 9999999, 99999999, 0);
    list_ok(S("0000000 00000000\r\n.\r\n1 1\r\n"), 0, 18, 0, 0, 0);
    list_ok(S("12345678 1\r\n.\r\n1 1\r\n1 1\r\n"), 0, 12, 12345678, 1, 0);
    list_ok(S("1 123456789\r\n.\r\n1 1\r\n1 1\r\n"), 0, 13, 1, 123456789, 0);
    /* "This memo makes no requirement on what follows the message size" */
    list_ok(S("1 120 From: someone\r\n"), 0, 21, 1, 120, 0);
    list_ok(S("1 120 \r\n.\r\n"), 0, 8, 1, 120, 0);
    entry_bad(K_LIST, S("1 120x\r\n"), 0, P3_E_NUMBER, 5, 8);
    entry_bad(K_LIST, S("1 12o\r\n.\r\n1 1\r\n1 1\r\n1 1\r\n"), ALL_LENIENT, P3_E_NUMBER, 4, 7);
    entry_bad(K_LIST, S("x 120\r\n.\r\n"), 0, P3_E_NUMBER, 0, 7);
    entry_bad(K_LIST, S("+1 120\r\n.\r\n"), 0, P3_E_NUMBER_SIGN, 0, 8);
    entry_bad(K_LIST, S("1 -120\r\n.\r\n"), 0, P3_E_NUMBER_SIGN, 2, 8);
    entry_bad(K_LIST, S("1\r\n.\r\n"), 0, P3_E_LIST_ENTRY, 1, 3);
    entry_bad(K_LIST, S("1 \r\n.\r\n"), 0, P3_E_LIST_ENTRY, 2, 4);
    entry_bad(K_LIST, S("\r\n.\r\n"), ALL_LENIENT, P3_E_LIST_ENTRY, 0, 2);
    entry_bad(K_LIST, S("1\t120\r\n"), 0, P3_E_NUMBER, 1, 7);
}
END_TEST

/* UIDL lines around its fast path ("n SP uid CRLF", n of 1..7 digits, the
 * uid 1..70 octets of 0x21..0x7E, 8 octets or more in the buffer): numbers
 * of 1..9 digits, uids of 0..130 octets, clean or with one non-VCHAR octet
 * (controls, DEL, 8-bit, space, CR, LF) at its first, last or a middle
 * position, then the line end or more. */
START_TEST(uidl_shapes)
{
    static const size_t lens[] = {0,  1,  2,  7,  8,  9,   15,  16,  17,  31,  32,  33,  63,  64,
                                  65, 69, 70, 71, 72, 119, 120, 121, 125, 126, 127, 128, 129, 130};
    static const unsigned char bad[] = {0x00, 0x01, 0x09, 0x1f, ' ', 0x7f, 0x80, 0xff, '\r', '\n'};
    static const char *const after[] = {"", ".\r\n", "1 a\r\n.\r\n"};
    char in[300];
    for (size_t a = 1; a <= 9; a++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            size_t ul = lens[l];
            for (size_t x = 0; x < sizeof after / sizeof after[0]; x++) {
                size_t n = 0;
                for (size_t i = 0; i < a; i++)
                    in[n++] = (char)('1' + (i + a) % 9);
                in[n++] = ' ';
                size_t u = n;
                for (size_t i = 0; i < ul; i++)
                    in[n++] = (char)(0x21 + (i * 7 + a) % 94);
                memcpy(in + n, "\r\n", 2);
                n += 2;
                size_t an = strlen(after[x]);
                memcpy(in + n, after[x], an);
                n += an;
                check_input_kind(K_UIDL, in, n, 0);
                if (ul >= 1 && ul <= 70 && x == 0) {
                    char ms[16];
                    snprintf(ms, sizeof ms, "%.*s", (int)a, in);
                    uidl_ok(in, n, 0, (ssize_t)(u + ul + 2), (uint32_t)strtoul(ms, NULL, 10), u, ul,
                            0);
                }
                /* one bad octet at the uid's start, end, or middle */
                if (ul == 0 || (l % 3 != 0 && a % 2 == 0))
                    continue;
                size_t at[] = {0, ul - 1, ul / 2};
                for (size_t p = 0; p < 3; p++) {
                    char keep = in[u + at[p]];
                    in[u + at[p]] = (char)bad[(a + l + p) % sizeof bad];
                    check_input_kind(K_UIDL, in, n, 0);
                    in[u + at[p]] = keep;
                }
            }
        }
    }
}
END_TEST

START_TEST(uidl_stated)
{
    char in[200];
    /* 1, 70, 71 octets (RFC 1939 section 7: "one to 70 characters") */
    uidl_ok(S("3 x\r\n"), 0, 5, 3, 2, 1, 0);
    uidl_ok(S("3 x\r\n.\r\n"), 0, 5, 3, 2, 1, 0);
    uidl_ok(S("1234567 !\r\n.\r\n"), 0, 11, 1234567, 8, 1, 0);
    uidl_ok(S("12345678 !\r\n.\r\n"), 0, 12, 12345678, 9, 1, 0);
    uidl_ok(S("4294967295 ~\r\n"), 0, 14, 4294967295u, 11, 1, 0);
    entry_bad(K_UIDL, S("4294967296 ~\r\n"), 0, P3_E_NUMBER_RANGE, 9, 14);
    memcpy(in, "9 ", 2);
    memset(in + 2, 'u', 100);
    for (size_t ul = 69; ul <= 72; ul++) {
        memcpy(in + 2 + ul, "\r\n.\r\n", 5);
        size_t n = 2 + ul + 5;
        if (ul <= 70) {
            uidl_ok(in, n, 0, (ssize_t)(ul + 4), 9, 2, ul, 0);
            uidl_ok(in, n, UID | SP, (ssize_t)(ul + 4), 9, 2, ul, 0);
        } else {
            entry_bad(K_UIDL, in, n, 0, P3_E_UID_LENGTH, 2 + 70, ul + 4);
            entry_bad(K_UIDL, in, n, SP, P3_E_UID_LENGTH, 2 + 70, ul + 4);
            uidl_ok(in, n, UID, (ssize_t)(ul + 4), 9, 2, ul, UID);
            uidl_ok(in, n, UID | SP | LF, (ssize_t)(ul + 4), 9, 2, ul, UID);
        }
        memset(in + 2, 'u', 100);
    }
    /* empty unique-id */
    entry_bad(K_UIDL, S("1 \r\n.\r\n"), 0, P3_E_UID_LENGTH, 2, 4);
    entry_bad(K_UIDL, S("1 \r\n.\r\n"), SP, P3_E_UID_LENGTH, 2, 4);
    uidl_ok(S("1 \r\n.\r\n"), UID, 4, 1, 0, 0, UID);
    entry_bad(K_UIDL, S("1\r\n.\r\n"), ALL_LENIENT, P3_E_UIDL_ENTRY, 1, 3);
    /* controls and 8-bit in the unique-id */
    entry_bad(K_UIDL,
              S("1 ab\x01"
                "c\r\n.\r\n"),
              0, P3_E_UID_CHAR, 4, 8);
    entry_bad(K_UIDL, S("1 ab\x80\r\n.\r\n"), SP | LF, P3_E_UID_CHAR, 4, 7);
    entry_bad(K_UIDL, S("1 \x7f\r\n.\r\n"), 0, P3_E_UID_CHAR, 2, 5);
    entry_bad(K_UIDL, S("1 a\0b\r\n.\r\n"), 0, P3_E_UID_CHAR, 3, 7);
    entry_bad(K_UIDL, S("1 \xff\r\n"), 0, P3_E_UID_CHAR, 2, 5);
    uidl_ok(S("1 ab\x01"
              "c\r\n.\r\n"),
            UID, 8, 1, 2, 4, UID);
    uidl_ok(S("1 \xff\r\n"), UID | LF, 5, 1, 2, 1, UID);
    /* a CR inside the line: framing, unless BARE_CR; then the uid has it */
    frame_bad(K_UIDL, S("1 ab\rc\r\n.\r\n"), 0, 0, P3_E_BARE_CR, 4);
    frame_bad(K_UIDL, S("1 ab\rc\r\n.\r\n"), UID, 0, P3_E_BARE_CR, 4);
    entry_bad(K_UIDL, S("1 ab\rc\r\n.\r\n"), CR, P3_E_UID_CHAR, 4, 8);
    uidl_ok(S("1 ab\rc\r\n.\r\n"), CR | UID, 8, 1, 2, 4, CR | UID);
    /* spaces: never part of a unique-id; SPACING takes leading, runs and
     * trailing ones */
    entry_bad(K_UIDL, S("1 a b\r\n.\r\n"), ALL_LENIENT, P3_E_UIDL_ENTRY, 3, 7);
    entry_bad(K_UIDL, S("1 abc \r\n.\r\n"), 0, P3_E_UIDL_ENTRY, 5, 8);
    entry_bad(K_UIDL, S("1 abc \r\n.\r\n"), UID, P3_E_UIDL_ENTRY, 5, 8);
    uidl_ok(S("1 abc \r\n.\r\n"), SP, 8, 1, 2, 3, SP);
    uidl_ok(S("1 abc \r\n.\r\n"), SP | UID, 8, 1, 2, 3, SP);
    entry_bad(K_UIDL, S("1  abc\r\n.\r\n"), 0, P3_E_UIDL_ENTRY, 2, 8);
    uidl_ok(S("1  abc\r\n.\r\n"), SP, 8, 1, 3, 3, SP);
    entry_bad(K_UIDL, S(" 1 abc\r\n.\r\n"), UID, P3_E_UIDL_ENTRY, 0, 8);
    uidl_ok(S(" 1 abc\r\n.\r\n"), SP, 8, 1, 3, 3, SP);
    /* both needed */
    uidl_ok(S("  7 a\x01 \r\n.\r\n"), SP | UID, 9, 7, 4, 2, SP | UID);
    entry_bad(K_UIDL, S("  7 a\x01 \r\n.\r\n"), SP, P3_E_UID_CHAR, 5, 9);
    entry_bad(K_UIDL, S("  7 a\x01 \r\n.\r\n"), UID, P3_E_UIDL_ENTRY, 0, 9);
    /* none needed though offered */
    uidl_ok(S("7 abc\r\n.\r\n"), ALL_LENIENT, 7, 7, 2, 3, 0);
    /* a bad octet at each position of a 70-octet unique-id, before the
     * line end or the end of 128 octets */
    memcpy(in, "5 ", 2);
    for (size_t at = 0; at < 70; at++) {
        memset(in + 2, 'Q', 70);
        memcpy(in + 72, "\r\n.\r\n", 5);
        in[2 + at] = (char)(at % 2 ? 0x80 : 0x7f);
        entry_bad(K_UIDL, in, 77, 0, P3_E_UID_CHAR, 2 + at, 74);
        uidl_ok(in, 77, UID, 74, 5, 2, 70, UID);
    }
}
END_TEST

START_TEST(spacing)
{
    entry_bad(K_LIST, S("1  120\r\n.\r\n"), 0, P3_E_LIST_ENTRY, 2, 8);
    entry_bad(K_LIST, S("1  120\r\n.\r\n"), UID | LF | CR, P3_E_LIST_ENTRY, 2, 8);
    list_ok(S("1  120\r\n.\r\n"), SP, 8, 1, 120, SP);
    list_ok(S("1  120\r\n.\r\n"), SP | UID, 8, 1, 120, SP);
    entry_bad(K_LIST, S(" 1 120\r\n.\r\n"), 0, P3_E_LIST_ENTRY, 0, 8);
    list_ok(S(" 1 120\r\n.\r\n"), SP, 8, 1, 120, SP);
    list_ok(S("   1 \x20 120\r\n.\r\n"), ALL_LENIENT, 12, 1, 120, SP);
    list_ok(S("1 120\r\n.\r\n"), ALL_LENIENT, 7, 1, 120, 0);
    /* trailing space: nothing is required after the size, no leniency */
    list_ok(S("1 120   \r\n.\r\n"), SP, 10, 1, 120, 0);
    entry_bad(K_LIST, S("   \r\n.\r\n"), SP, P3_E_LIST_ENTRY, 3, 5);
    entry_bad(K_LIST, S("1    \r\n.\r\n"), SP, P3_E_LIST_ENTRY, 5, 7);
    /* only leniencies this line needed; later lines add theirs */
    static const char two[] = "1 1\r\n2  2\r\n 3 3\r\n.\r\n";
    drive(mlo_api, K_LIST, S(two), SP, 0, NULL, 0, 0, tg);
    ck_assert_uint_eq(tg->n, 4);
    ck_assert_uint_eq(tg->e[0].lenient, 0);
    ck_assert_uint_eq(tg->e[1].lenient, SP);
    ck_assert_uint_eq(tg->e[3].lenient, SP);
    check_input(S(two), 2);
    check_input(S("1 1\r\n2  x\r\n3\t3\r\n4 \x01\r\n 5  5 \r\n.\r\n"), 2);
}
END_TEST

/* Dot-stuffing and the terminator (RFC 1939 section 3). */
START_TEST(dots)
{
    /* ".1 120" is the stuffed line "1 120" */
    list_ok(S(".1 120\r\n.\r\n"), 0, 8, 1, 120, 0);
    ev e = first(K_LIST, S(".1 120\r\n.\r\n"), 0, 0);
    ck_assert(e.stuffed == 1 && e.octs == 7 && e.consumed == 8 && e.lines == 1);
    uidl_ok(S(".1 a.b\r\n.\r\n"), 0, 8, 1, 3, 3, 0);
    /* "..1" is the line ".1": the offset counts the stuffed dot */
    entry_bad(K_LIST, S("..1 120\r\n.\r\n"), 0, P3_E_NUMBER, 1, 9);
    entry_bad(K_UIDL, S("..\r\n.\r\n"), 0, P3_E_NUMBER, 1, 4);
    entry_bad(K_UIDL, S(". 1 a\r\n.\r\n"), 0, P3_E_UIDL_ENTRY, 1, 7);
    uidl_ok(S(". 1 a\r\n.\r\n"), SP, 7, 1, 4, 1, SP);
    /* the terminator: done, outputs untouched (checked in drive) */
    for (int kind = 0; kind < 2; kind++) {
        e = first(kind, S(".\r\n"), 0, 0);
        ck_assert(e.ret == 3 && e.done && e.consumed == 3 && e.lines == 0);
        e = first(kind, S(".\r\n1 1\r\n"), ALL_LENIENT, 0);
        ck_assert(e.ret == 3 && e.done);
        e = first(kind, S(".\n"), LF, 0);
        ck_assert(e.ret == 2 && e.done && e.lenient == LF);
        frame_bad(kind, S(".\n"), 0, 0, P3_E_BARE_LF, 1);
        frame_bad(kind, S(".\rx\r\n"), 0, 0, P3_E_BARE_CR, 1);
        e = first(kind, S(".\r"), 0, 0);
        ck_assert(e.ret == P3_NEED_MORE && e.consumed == 0);
        e = first(kind, S("."), 0, 0);
        ck_assert(e.ret == P3_NEED_MORE);
        e = first(kind, "", 0, 0, 0);
        ck_assert(e.ret == P3_NEED_MORE);
    }
    check_input(S(".1 120\r\n..2 x\r\n.3 abc\r\n..\r\n.\r\n"), 2);
    check_input(S("1 1\r\n.\r\n2 2\r\n"), 2);
    check_input(S(".\n1 1\n"), 2);
    check_input(S(".\r.\r\n.\r\n"), 2);
}
END_TEST

/* Line framing: bare CR, bare LF, the limit. */
START_TEST(framing)
{
    for (int kind = 0; kind < 2; kind++) {
        frame_bad(kind, S("1 1\r20\r\n.\r\n"), 0, 0, P3_E_BARE_CR, 3);
        frame_bad(kind, S("1 120\n.\r\n"), 0, 0, P3_E_BARE_LF, 5);
        frame_bad(kind, S("1 12345\r\n1 2\r\n1 2\r\n1 2\r\n"), 0, 8, P3_E_LINE_TOO_LONG, 7);
        frame_bad(kind, S("1 120\r\n"), 0, 6, P3_E_LINE_TOO_LONG, 5);
        frame_bad(kind, S("1 1200000000000000\r\n"), 0, 10, P3_E_LINE_TOO_LONG, 9);
        /* a line end nowhere within the limit */
        char big[600];
        memset(big, '1', sizeof big);
        big[1] = ' ';
        frame_bad(kind, big, sizeof big, 0, 0, P3_E_LINE_TOO_LONG, 511);
        ev e = first(kind, big, 511, 0, 0);
        ck_assert_int_eq(e.ret, P3_NEED_MORE);
    }
    /* a framing error after a good line: offset from that call's buf */
    for (int kind = 0; kind < 2; kind++) {
        drive(mlo_api, kind, S("1 120\r\n2 200\n.\r\n"), SP | UID, 0, NULL, 0, 0, tg);
        ck_assert_uint_eq(tg->n, 2);
        ck_assert(tg->e[0].ret == 7 && tg->e[1].at == 7 && tg->e[1].ret == P3_ERROR);
        ck_assert(tg->e[1].code == P3_E_BARE_LF && tg->e[1].offset == 5 && tg->e[1].skip == 0);
        ck_assert(tg->e[1].err == P3_E_BARE_LF && tg->e[1].err_off == 12);
    }
    /* exactly at the limit */
    ev e = first(K_LIST, S("1 120\r\n"), 0, 7);
    ck_assert(e.ret == 7 && e.msg == 1 && e.octets == 120);
    e = first(K_LIST, S("1234567 12345678\r\n1 1\r\n1 1\r\n"), 0, 18);
    ck_assert(e.ret == 18 && e.msg == 1234567 && e.octets == 12345678);
    frame_bad(K_LIST, S("1234567 12345678\r\n1 1\r\n1 1\r\n"), 0, 17, P3_E_LINE_TOO_LONG, 16);
    e = first(K_UIDL, S("1 abcdef\r\n.\r\n"), 0, 10);
    ck_assert(e.ret == 10 && e.uid_n == 6);
    frame_bad(K_UIDL, S("1 abcdef\r\n.\r\n"), 0, 9, P3_E_LINE_TOO_LONG, 8);
    e = first(K_UIDL, S("1 abcdef\r\n.\r\n"), P3_LENIENT_LONG_LINE, 9);
    ck_assert(e.ret == 10 && e.uid_n == 6);
    /* leniencies of the line itself */
    list_ok(S("1 120\n.\r\n"), LF, 6, 1, 120, LF);
    uidl_ok(S("1 abc\n.\n"), LF | SP, 6, 1, 2, 3, LF);
    entry_bad(K_LIST, S("1 1\r20\r\n.\r\n"), CR, P3_E_NUMBER, 3, 8);
    list_ok(S("1 1 \r20\r\n.\r\n"), CR, 9, 1, 1, CR);
    /* CR without LF at the end of the buffer: more may come */
    for (int kind = 0; kind < 2; kind++) {
        e = first(kind, S("1 120\r"), 0, 0);
        ck_assert_int_eq(e.ret, P3_NEED_MORE);
        e = first(kind, S("1234567 12345678\r"), 0, 0);
        ck_assert_int_eq(e.ret, P3_NEED_MORE);
    }
    check_input(S("1 120\n2 x\n.\n"), 2);
    check_input(S("1 1\r20\r\n2 2\r\n.\r\n"), 2);
    check_input(S("1 abc\rdef\r\n2 \r\r\n.\r\n"), 2);
    check_input(S("12 1234567890123\r\n1 1\r\n.\r\n"), 2);
    check_input(S("1 12345678901234567890123456789\r\n.\r\n"), 2);
}
END_TEST

/* After a malformed entry the caller goes on at buf + skip. */
START_TEST(continue_after_entry_error)
{
    static const char in[] = "x\r\n1 5\r\n2 abc\r\n\r\n3 7\r\n.\r\n";
    const char *g = p3t_guard(in, sizeof in - 1);
    size_t len = sizeof in - 1;
    p3_ml d;
    p3_diag dg;
    uint32_t m;
    uint64_t o;
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(p3_ml_list(&d, g, len, &m, &o, &dg), P3_ERROR);
    ck_assert(dg.code == P3_E_NUMBER && dg.offset == 0 && dg.skip == 3 && d.err == P3_E_OK);
    g += dg.skip;
    len -= dg.skip;
    ck_assert_int_eq(p3_ml_list(&d, g, len, &m, &o, &dg), 5);
    ck_assert(m == 1 && o == 5);
    g += 5;
    len -= 5;
    ck_assert_int_eq(p3_ml_list(&d, g, len, &m, &o, &dg), P3_ERROR);
    ck_assert(dg.code == P3_E_NUMBER && dg.offset == 2 && dg.skip == 7);
    g += dg.skip;
    len -= dg.skip;
    ck_assert_int_eq(p3_ml_list(&d, g, len, &m, &o, &dg), P3_ERROR);
    ck_assert(dg.code == P3_E_LIST_ENTRY && dg.offset == 0 && dg.skip == 2);
    g += dg.skip;
    len -= dg.skip;
    ck_assert_int_eq(p3_ml_list(&d, g, len, &m, &o, NULL), 5);
    ck_assert(m == 3 && o == 7);
    g += 5;
    len -= 5;
    ck_assert_int_eq(p3_ml_list(&d, g, len, &m, &o, &dg), 3);
    ck_assert(p3_ml_done(&d));
    ck_assert_uint_eq(d.lines, 5);
    ck_assert_uint_eq(d.consumed, sizeof in - 1);
    ck_assert_int_eq(p3_ml_finish(&d), 0);
    check_input(S(in), 2);

    /* UIDL alike, and a framing error after an entry error is sticky */
    static const char u[] = "1 a b\r\n2 ok\r\n3 x\ny\r\n4 z\r\n.\r\n";
    g = p3t_guard(u, sizeof u - 1);
    len = sizeof u - 1;
    p3_slice uid;
    p3_ml_init(&d, 0, 0);
    ck_assert_int_eq(p3_ml_uidl(&d, g, len, &m, &uid, &dg), P3_ERROR);
    ck_assert(dg.code == P3_E_UIDL_ENTRY && dg.offset == 3 && dg.skip == 7);
    ck_assert_int_eq(p3_ml_uidl(&d, g + 7, len - 7, &m, &uid, &dg), 6);
    ck_assert(m == 2 && uid.p == g + 9 && uid.n == 2);
    ck_assert_int_eq(p3_ml_uidl(&d, g + 13, len - 13, &m, &uid, &dg), P3_ERROR);
    ck_assert(dg.code == P3_E_BARE_LF && dg.offset == 3 && dg.skip == 0);
    ck_assert(d.err == P3_E_BARE_LF && d.err_off == 16);
    ck_assert_int_eq(p3_ml_uidl(&d, g + 17, len - 17, &m, &uid, &dg), P3_ERROR);
    ck_assert_int_eq(dg.code, P3_E_BARE_LF);
    ck_assert_int_eq(p3_ml_finish(&d), P3_ERROR);
    check_input(S(u), 2);
}
END_TEST

/* Short buffers: below the 24 octets of the LIST fast path and the 8 of
 * the UIDL one, every prefix of a few bodies. */
START_TEST(short_buffers)
{
    static const char *const bodies[] = {
        "1 2\r\n.\r\n", "1 a\r\n.\r\n", "12 34\r\n.\r\n", "1234567 1\r\n", "1 12345678\r\n",
        "1234567 12345678\r\n", "1 2\r\n3 4\r\n5 6\r\n7 8\r\n", "7 !\r\n8 ~\r\n.\r\n",
        "1 2", "1 2\r", "\r\n", ".", "1 \r\n", " \r\n",
    };
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        size_t n = strlen(bodies[b]);
        for (size_t k = 0; k <= n; k++)
            check_input(bodies[b], k, 2);
    }
}
END_TEST

/* Random bodies rich in digits, spaces, line ends, dots and edge octets. */
START_TEST(random_bodies)
{
    static const char alpha[] = "0123456789 .\r\n\r\n\x01\x7f\x80\xff!~aZ";
    uint64_t x = 0x243f6a8885a308d3u;
    char in[400];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 0, lines = 1 + (size_t)(iter % 7);
        for (size_t l = 0; l < lines && n < 300; l++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t a = 1 + x % 9, b = (x >> 8) % 80;
            for (size_t i = 0; i < a; i++)
                in[n++] = (char)('0' + (x >> (12 + i)) % 10);
            in[n++] = ' ';
            for (size_t i = 0; i < b; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (x % 16 == 0)
                    in[n++] = alpha[(x >> 5) % (sizeof alpha - 1)];
                else if (iter % 2)
                    in[n++] = (char)('0' + (x >> 5) % 10);
                else
                    in[n++] = (char)(0x21 + (x >> 5) % 94);
            }
            if (x % 11 == 0)
                in[n++] = '\n';
            else {
                in[n++] = '\r';
                in[n++] = '\n';
            }
            if (x % 13 == 0)
                in[n++] = '.';
        }
        if (iter % 3)
            n += (size_t)sprintf(in + n, ".\r\n");
        check_input(in, n, 1);
    }
}
END_TEST

/* ---------------------------------------------------------------------------
 * The oracle's own view of "needed" leniencies, on known lines.
 */
START_TEST(oracle_needed)
{
    ck_assert_uint_eq(mlo_needed(K_LIST, (p3_slice){S("1  2")}, SP | UID), SP);
    ck_assert_uint_eq(mlo_needed(K_LIST, (p3_slice){S("1 2")}, SP | UID), 0);
    ck_assert_uint_eq(mlo_needed(K_UIDL, (p3_slice){S(" 1 a\x01")}, SP | UID), SP | UID);
    ck_assert_uint_eq(mlo_needed(K_UIDL, (p3_slice){S("1 a\x01")}, SP | UID), UID);
    ck_assert_uint_eq(mlo_needed(K_UIDL, (p3_slice){S("1 a ")}, SP | UID), SP);
    ck_assert_uint_eq(mlo_needed(K_UIDL, (p3_slice){S("1 a")}, ALL_LENIENT), 0);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("mlentry");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, oracle_needed);
    tcase_add_test(tc, rfc_examples);
    tcase_add_test(tc, list_shapes);
    tcase_add_test(tc, uidl_shapes);
    tcase_add_test(tc, uidl_stated);
    tcase_add_test(tc, spacing);
    tcase_add_test(tc, dots);
    tcase_add_test(tc, framing);
    tcase_add_test(tc, continue_after_entry_error);
    tcase_add_test(tc, short_buffers);
    tcase_add_test(tc, random_bodies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return p3t_run(make_suite()); }
