/*
 * p3t.h - helpers shared by the unit tests.
 */
#ifndef P3T_H
#define P3T_H

#include <stddef.h>

/* Copy n octets to memory that ends exactly at an inaccessible guard page and
 * return the copy: reading data[n] faults. The copy stays valid until the
 * next call (one mapping is reused). n may be 0. */
const char *p3t_guard(const void *data, size_t n);

/* Same, but a second, independent region (for tests that need two at once). */
const char *p3t_guard2(const void *data, size_t n);

/* Run the whole-file Check suite built by make_suite; returns the process
 * exit status (0 when every test passed). */
struct Suite;
int p3t_run(struct Suite *s);

#endif
