/*
 * ml_oracle.h - the reference for p3_ml_list / p3_ml_uidl, built from
 * public calls only (p3_ml_line, then p3_list_entry / p3_uidl_entry), as
 * their contract in pop3parse.h defines them. Shared by the unit test
 * (tests/test_mlentry.c) and the fuzz target (fuzz/fuzz_ml_entry.c), so
 * that both hold the parser to one definition.
 */
#ifndef ML_ORACLE_H
#define ML_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pop3parse.h"

/* The two ways to read one entry, interchangeable: the call under test
 * (mlo_api) and the composition (mlo_compose). uidl: 0 LIST, 1 UIDL. */
typedef ssize_t (*mlo_fn)(int uidl, p3_ml *d, unsigned flags, const char *buf, size_t len,
                          uint32_t *msg, uint64_t *octets, p3_slice *uid, p3_diag *diag,
                          unsigned *extra);

static inline ssize_t mlo_api(int uidl, p3_ml *d, unsigned flags, const char *buf, size_t len,
                              uint32_t *msg, uint64_t *octets, p3_slice *uid, p3_diag *diag,
                              unsigned *extra)
{
    (void)flags; /* p3_ml_list / p3_ml_uidl use d's flags */
    (void)extra; /* and report the entry's leniencies in d->lenient */
    return uidl ? p3_ml_uidl(d, buf, len, msg, uid, diag)
                : p3_ml_list(d, buf, len, msg, octets, diag);
}

static inline int mlo_entry(int uidl, p3_slice line, unsigned flags, uint32_t *msg,
                            uint64_t *octets, p3_slice *uid, p3_diag *diag)
{
    return uidl ? p3_uidl_entry(line, flags, msg, uid, diag)
                : p3_list_entry(line, flags, msg, octets, diag);
}

/* Which of SPACING (and UID for UIDL) the entry cannot do without: each
 * bit whose removal from the flags makes the parse fail, and both when the
 * line is accepted with either one alone but not with neither (as
 * p3_uidl_entry_x documents). */
static inline unsigned mlo_needed(int uidl, p3_slice line, unsigned flags)
{
    const unsigned bits = flags & (P3_LENIENT_SPACING | (uidl ? P3_LENIENT_UID : 0));
    unsigned need = 0;
    uint32_t m;
    uint64_t o;
    p3_slice u;
    for (unsigned b = P3_LENIENT_SPACING; b <= P3_LENIENT_UID; b <<= 1)
        if ((bits & b) && mlo_entry(uidl, line, flags & ~b, &m, &o, &u, NULL) != 0)
            need |= b;
    if (bits && !need && mlo_entry(uidl, line, flags & ~bits, &m, &o, &u, NULL) != 0)
        need = bits;
    return need;
}

/* One call of the composition, with the signature of p3_ml_list /
 * p3_ml_uidl plus uidl (0 LIST, 1 UIDL) and *extra, to which the entry's
 * leniencies are added (d->lenient stays the line decoder's). */
static inline ssize_t mlo_compose(int uidl, p3_ml *d, unsigned flags, const char *buf, size_t len,
                                  uint32_t *msg, uint64_t *octets, p3_slice *uid, p3_diag *diag,
                                  unsigned *extra)
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
    if (r <= 0 || p3_ml_done(d))
        return r;
    p3_diag dg;
    if (mlo_entry(uidl, line, flags, msg, octets, uid, &dg) != 0) {
        if (diag) {
            diag->code = dg.code;
            diag->offset = (size_t)(line.p - buf) + dg.offset;
            diag->skip = (size_t)r;
        }
        return P3_ERROR;
    }
    *extra |= mlo_needed(uidl, line, flags);
    return r;
}

/* Every field of two line decoders a caller may read. */
static inline int mlo_same(const p3_ml *a, const p3_ml *b)
{
    return a->consumed == b->consumed && a->octets == b->octets && a->lines == b->lines &&
           a->stuffed == b->stuffed && a->err_off == b->err_off && a->lenient == b->lenient &&
           a->err == b->err && p3_ml_done(a) == p3_ml_done(b);
}

#endif
