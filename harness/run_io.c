/* Session I/O shared by both interpreters (run_io.h). */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "run_io.h"

ssize_t run_io_fill(nt_buffer *in, nt_conn *c, int64_t dl, volatile int *stop)
{
    if (!stop)
        return nt_buffer_fill(in, c, dl);
    for (;;) {
        int64_t now = nt_now_ms();
        int64_t slice = dl - now > 200 ? now + 200 : dl;
        ssize_t r = nt_buffer_fill(in, c, slice);
        if (r != NT_TIMEOUT || slice >= dl || *stop)
            return r;
    }
}

int run_io_read_line(nt_buffer *in, nt_conn *c, int64_t dl, volatile int *stop, size_t *len)
{
    for (;;) {
        const char *d = nt_buffer_data(in);
        size_t n = nt_buffer_len(in);
        const char *lf = n ? memchr(d, '\n', n) : NULL;
        if (lf) {
            *len = (size_t)(lf - d) + 1;
            return 1;
        }
        ssize_t r = run_io_fill(in, c, dl, stop);
        if (r > 0)
            continue;
        if (r == 0) {
            *len = n;
            return n ? 2 : 0;
        }
        return (int)r;
    }
}

void run_io_close(nt_conn **c, nt_buffer *in, int *open, int abort)
{
    if (*c) {
        if (abort)
            nt_abort(*c);
        else
            nt_close(*c);
    }
    *c = NULL;
    /* The buffer exists exactly while the session is open. */
    if (*open)
        nt_buffer_free(in);
    *open = 0;
}

void run_io_sleep_ms(uint32_t ms, volatile int *stop)
{
    if (!stop) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        return;
    }
    int64_t end = nt_deadline(ms);
    while (!*stop) {
        int64_t left = end - nt_now_ms();
        if (left <= 0)
            return;
        if (left > 200)
            left = 200;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}
