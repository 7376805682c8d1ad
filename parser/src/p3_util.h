/*
 * p3_util.h - small helpers shared by the parser's grammar files (private).
 */
#ifndef P3_UTIL_H
#define P3_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "pop3parse.h"

/* Plain decimal: one or more digits, nothing else. Returns P3_E_OK,
 * P3_E_NUMBER (empty or a non-digit), P3_E_NUMBER_SIGN (leading + or -) or
 * P3_E_NUMBER_RANGE (does not fit). *bad is the offset of the offending
 * octet (for RANGE, the first digit that overflowed). Leading zeros are
 * decimal and accepted. */
p3_errno p3_dec_u32(const char *p, size_t n, uint32_t *out, size_t *bad);
p3_errno p3_dec_u64(const char *p, size_t n, uint64_t *out, size_t *bad);

/* p3_list_entry / p3_uidl_entry that also tell which leniencies the entry
 * needed (*lenient, 0 when it is valid without any). */
int p3_list_entry_x(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets,
                    unsigned *lenient, p3_diag *diag);
int p3_uidl_entry_x(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid,
                    unsigned *lenient, p3_diag *diag);

static inline unsigned char p3_lower(unsigned char c)
{
    return (unsigned char)(c | ((unsigned char)(c - 'A') < 26u ? 0x20 : 0));
}

#endif
