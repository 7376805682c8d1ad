/* fuzz_status: p3_status_parse over a stream of response lines, and on each
 * parsed line p3_greeting_timestamp, p3_stat_text, p3_list_entry and
 * p3_uidl_entry (on the text and on the whole line). Input: 2 flag bytes,
 * then the stream. Oracles: slices inside the input, unique-ids within the
 * RFC bounds unless P3_LENIENT_UID, leniency bits only from flags, a strict
 * +OK/-ERR line survives p3_status_format and a second parse. */
#include "fz.h"

static void sub_parsers(p3_slice s, unsigned flags)
{
    uint32_t n32;
    uint64_t n64;
    p3_slice uid;
    p3_diag d;
    if (p3_stat_text(s, flags, &n32, &n64, &d) == P3_ERROR)
        FZ_CHECK(d.code > P3_E_OK && d.code < P3_E__COUNT);
    if (p3_list_entry(s, flags, &n32, &n64, &d) == P3_ERROR)
        FZ_CHECK(d.code > P3_E_OK && d.code < P3_E__COUNT);
    if (p3_uidl_entry(s, flags, &n32, &uid, &d) == 0) {
        FZ_CHECK(fz_inside(uid, s.p, s.n));
        if (!(flags & P3_LENIENT_UID)) {
            FZ_CHECK(uid.n >= P3_MIN_UID && uid.n <= P3_MAX_UID);
            for (size_t i = 0; i < uid.n; i++)
                FZ_CHECK(uid.p[i] >= 0x21 && uid.p[i] <= 0x7e);
        }
    }
}

static void roundtrip(const p3_status *st)
{
    char out[600];
    p3_diag d;
    ssize_t n = p3_status_format(out, sizeof out, st->kind, st->code, st->text, &d);
    if (n == P3_ERROR)
        return;
    FZ_CHECK(n > 0 && (size_t)n <= sizeof out);
    char *again = fz_dup(out, (size_t)n);
    p3_status s2;
    FZ_CHECK(p3_status_parse(again, (size_t)n, 0, &s2, &d) == n);
    FZ_CHECK(s2.kind == st->kind && s2.code_kind == st->code_kind);
    FZ_CHECK(fz_same(s2.code, st->code) && fz_same(s2.text, st->text));
    free(again);
}

static void check_line(const char *line, size_t n, unsigned flags, const p3_status *st)
{
    FZ_CHECK(st->kind == P3_ST_OK || st->kind == P3_ST_ERR || st->kind == P3_ST_CONT);
    FZ_CHECK((unsigned)st->code_kind < P3_RC__COUNT);
    FZ_CHECK((st->lenient & ~flags) == 0);
    FZ_CHECK(st->line.p == line && st->line.n < n);
    FZ_CHECK(fz_inside(st->code, st->line.p, st->line.n));
    FZ_CHECK(fz_inside(st->text, st->line.p, st->line.n));
    if (st->code_kind == P3_RC_NONE)
        FZ_CHECK(st->code.n == 0);
    if (st->kind == P3_ST_CONT)
        FZ_CHECK(p3_base64_valid(st->text.p, st->text.n));

    p3_slice ts;
    p3_diag d;
    int t = p3_greeting_timestamp(st, &ts, &d);
    FZ_CHECK(t == 0 || t == 1 || t == P3_ERROR);
    if (t == 1)
        FZ_CHECK(ts.n >= 3 && fz_inside(ts, st->line.p, st->line.n));
    if (t == P3_ERROR)
        FZ_CHECK(d.offset <= st->line.n);

    sub_parsers(st->text, flags);
    sub_parsers(st->line, flags);
    if (st->lenient == 0 && st->kind != P3_ST_CONT)
        roundtrip(st);
}

static ssize_t one(const char *p, size_t n, unsigned flags, p3_diag *d)
{
    p3_status st;
    ssize_t r = p3_status_parse(p, n, flags, &st, d);
    if (r > 0 && (size_t)r <= n)
        check_line(p, (size_t)r, flags, &st);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_lines(data, size, one);
}
