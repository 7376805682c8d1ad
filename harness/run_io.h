/*
 * run_io.h - the connection chores both interpreters (run_exec.c,
 * cl_exec.c) do alike on one session: waiting for octets, reading a line,
 * closing, pausing.
 *
 * Contract: every wait ends by its deadline dl (nt.h). With a stop flag
 * (not NULL), waits are cut into slices of at most 200 ms and end early
 * once *stop is set (Ctrl-C), so that even a 10-minute @expect-silence
 * ends promptly; with NULL they are one plain wait.
 */
#ifndef RUN_IO_H
#define RUN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "nt.h"

/* nt_buffer_fill, cut into slices when stop is given: its result (octets,
 * 0 at the end of the stream, NT_TIMEOUT, NT_ERR, NT_FULL). */
ssize_t run_io_fill(nt_buffer *in, nt_conn *c, int64_t dl, volatile int *stop);

/* One line of in (filled from c as needed): 1 (*len includes the LF), 2
 * (a partial line, then the end of the stream: *len octets), 0 (end of
 * stream, nothing pending), NT_TIMEOUT, NT_ERR, NT_FULL. The line stays
 * in the buffer. */
int run_io_read_line(nt_buffer *in, nt_conn *c, int64_t dl, volatile int *stop, size_t *len);

/* Close *c (abort: a TCP reset) and free in when *open; then *c is NULL
 * and *open 0. Safe to call again. */
void run_io_close(nt_conn **c, nt_buffer *in, int *open, int abort);

/* Sleep ms milliseconds (less when *stop gets set or, without stop, when
 * a signal arrives). */
void run_io_sleep_ms(uint32_t ms, volatile int *stop);

#endif
