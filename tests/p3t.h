/*
 * p3t.h - helpers shared by the unit tests.
 */
#ifndef P3T_H
#define P3T_H

#include <stddef.h>

#include "pop3parse.h"

/* Copy n octets to memory that ends exactly at an inaccessible guard page and
 * return the copy: reading data[n] faults. The copy stays valid until the
 * next call (one mapping is reused). n may be 0. */
const char *p3t_guard(const void *data, size_t n);

/* Same, but a second, independent region (for tests that need two at once). */
const char *p3t_guard2(const void *data, size_t n);

/* Fill p[0..n) with the poison octet 0xa5; p3t_is_poison: 1 when p[0..n)
 * still holds only that octet (an output the call must not have touched). */
void p3t_poison(void *p, size_t n);
int p3t_is_poison(const void *p, size_t n);

/* 1 when slice s holds exactly the octets of the string z. */
int p3t_slice_is(p3_slice s, const char *z);

/* Run the whole-file Check suite built by make_suite; returns the process
 * exit status (0 when every test passed). */
struct Suite;
int p3t_run(struct Suite *s);

#endif
