/* nt_conn.c - TCP connections, the loopback listener and the bounded buffer. */
#define _GNU_SOURCE /* accept4 */
#include "nt_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

int64_t nt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t nt_deadline(int64_t ms)
{
    if (ms < 0)
        return NT_NO_DEADLINE;
    int64_t now = nt_now_ms();
    if (ms > NT_NO_DEADLINE - now)
        return NT_NO_DEADLINE;
    return now + ms;
}

void nt__err(nt_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

void nt__errbuf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int nt__wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        int timeout;
        if (deadline == NT_NO_DEADLINE) {
            timeout = -1;
        } else {
            int64_t left = deadline - nt_now_ms();
            if (left < 0)
                left = 0;
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, timeout);
        if (r > 0)
            return 1;
        if (r == 0) {
            if (deadline != NT_NO_DEADLINE && nt_now_ms() >= deadline)
                return NT_TIMEOUT;
            continue;
        }
        if (errno != EINTR)
            return NT_ERR;
    }
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static void format_addr(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        port = ntohs(s4->sin_port);
        snprintf(out, cap, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
        snprintf(out, cap, "[%s]:%u", ip, port);
    } else if (cap) {
        out[0] = '\0';
    }
}

nt_conn *nt_conn_from_fd(int fd, const char *host)
{
    nt_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (host) {
        c->host = strdup(host);
        if (!c->host) {
            free(c);
            return NULL;
        }
    }
    c->fd = fd;
    set_nonblock(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        format_addr((struct sockaddr *)&ss, c->peer, sizeof c->peer);
    return c;
}

/* One address: 0 connected (*fdp set), NT_TIMEOUT, NT_ERR with errno. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fdp)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0)
        return NT_ERR;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        *fdp = fd;
        return 0;
    }
    if (errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return NT_ERR;
    }
    int r = nt__wait(fd, POLLOUT, deadline);
    if (r != 1) {
        int e = errno;
        close(fd);
        errno = e;
        return r;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr) {
        close(fd);
        errno = soerr;
        return NT_ERR;
    }
    *fdp = fd;
    return 0;
}

nt_conn *nt_connect(const char *host, unsigned port, int64_t deadline, char *err, size_t errlen)
{
    if (!host || !*host || port == 0 || port > 65535) {
        nt__errbuf(err, errlen, "connect: invalid host or port");
        return NULL;
    }
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0) {
        nt__errbuf(err, errlen, "resolve %s: %s", host, gai_strerror(g));
        return NULL;
    }
    int fd = -1, r = NT_ERR, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = connect_one(ai, deadline, &fd);
        if (r == 0 || r == NT_TIMEOUT)
            break;
        e = errno;
    }
    freeaddrinfo(res);
    if (r == NT_TIMEOUT) {
        nt__errbuf(err, errlen, "connect %s:%u: timed out", host, port);
        return NULL;
    }
    if (r != 0) {
        nt__errbuf(err, errlen, "connect %s:%u: %s", host, port, strerror(e));
        return NULL;
    }
    nt_conn *c = nt_conn_from_fd(fd, host);
    if (!c) {
        close(fd);
        nt__errbuf(err, errlen, "connect: out of memory");
    }
    return c;
}

ssize_t nt_read(nt_conn *c, void *buf, size_t cap, int64_t deadline)
{
    if (cap == 0) {
        nt__err(c, "read: zero-size buffer");
        return NT_ERR;
    }
    if (c->ssl)
        return nt__tls_read(c, buf, cap, deadline);
    for (;;) {
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            nt__err(c, "read: %s", strerror(errno));
            return NT_ERR;
        }
        int w = nt__wait(c->fd, POLLIN, deadline);
        if (w == NT_TIMEOUT) {
            nt__err(c, "read: timed out");
            return NT_TIMEOUT;
        }
        if (w == NT_ERR) {
            nt__err(c, "poll: %s", strerror(errno));
            return NT_ERR;
        }
    }
}

int nt_write_all(nt_conn *c, const void *buf, size_t n, int64_t deadline)
{
    const char *p = buf;
    c->written = 0;
    if (c->ssl) {
        return nt__tls_write(c, p, n, deadline);
    }
    while (c->written < n) {
        ssize_t w = send(c->fd, p + c->written, n - c->written, MSG_NOSIGNAL);
        if (w > 0) {
            c->written += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            nt__err(c, "write: %s", strerror(errno));
            return NT_ERR;
        }
        int r = nt__wait(c->fd, POLLOUT, deadline);
        if (r == NT_TIMEOUT) {
            nt__err(c, "write: timed out after %zu of %zu octets", c->written, n);
            return NT_TIMEOUT;
        }
        if (r == NT_ERR) {
            nt__err(c, "poll: %s", strerror(errno));
            return NT_ERR;
        }
    }
    return 0;
}

int nt_write_chunked(nt_conn *c, const void *buf, size_t n, size_t chunk, int gap_ms,
                     int64_t deadline)
{
    if (chunk == 0 || chunk >= n)
        return nt_write_all(c, buf, n, deadline);
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < chunk ? n - done : chunk;
        int r = nt_write_all(c, p + done, k, deadline);
        done += c->written;
        if (r != 0) {
            c->written = done;
            return r;
        }
        if (done < n && gap_ms > 0) {
            struct timespec ts = {.tv_sec = gap_ms / 1000, .tv_nsec = (long)(gap_ms % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
        }
    }
    c->written = done;
    return 0;
}

size_t nt_written(const nt_conn *c)
{
    return c->written;
}

size_t nt_pending(const nt_conn *c)
{
    if (!c->ssl)
        return 0;
    int p = SSL_pending(c->ssl);
    return p > 0 ? (size_t)p : 0;
}

int nt_wait_readable(nt_conn *c, int64_t deadline)
{
    if (nt_pending(c) > 0)
        return 1;
    int r = nt__wait(c->fd, POLLIN, deadline);
    if (r == NT_TIMEOUT)
        nt__err(c, "read: timed out");
    else if (r == NT_ERR)
        nt__err(c, "poll: %s", strerror(errno));
    return r;
}

int nt_shutdown_write(nt_conn *c)
{
    if (c->ssl) {
        ERR_clear_error();
        nt__tls_shutdown(c); /* close_notify; the peer's is not waited for */
    }
    if (shutdown(c->fd, SHUT_WR) < 0) {
        nt__err(c, "shutdown: %s", strerror(errno));
        return NT_ERR;
    }
    return 0;
}

static void conn_free(nt_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->host);
    free(c->sni);
    free(c);
}

void nt_close(nt_conn *c)
{
    if (!c)
        return;
    if (c->ssl)
        nt__tls_free(c, 1);
    conn_free(c);
}

void nt_abort(nt_conn *c)
{
    if (!c)
        return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (c->ssl)
        nt__tls_free(c, 0);
    conn_free(c);
}

const char *nt_errmsg(const nt_conn *c)
{
    return c->err;
}

int nt_fd(const nt_conn *c)
{
    return c->fd;
}

const char *nt_peer(const nt_conn *c)
{
    return c->peer;
}

const char *nt_host(const nt_conn *c)
{
    return c->host;
}

/* ------------------------------------------------------------------------- */

struct nt_listener {
    int fd;
    unsigned port;
};

nt_listener *nt_listen(const char *addr, unsigned port, char *err, size_t errlen)
{
    if (!addr)
        addr = "127.0.0.1";
    if (port > 65535) {
        nt__errbuf(err, errlen, "listen: invalid port %u", port);
        return NULL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else {
        nt__errbuf(err, errlen, "listen: not an IP address: %s", addr);
        return NULL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        nt__errbuf(err, errlen, "socket: %s", strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
        nt__errbuf(err, errlen, "listen %s:%u: %s", addr, port, strerror(errno));
        close(fd);
        return NULL;
    }
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        nt__errbuf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    nt_listener *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        nt__errbuf(err, errlen, "listen: out of memory");
        return NULL;
    }
    l->fd = fd;
    l->port = ss.ss_family == AF_INET ? ntohs(s4->sin_port) : ntohs(s6->sin6_port);
    return l;
}

unsigned nt_listener_port(const nt_listener *l)
{
    return l->port;
}

int nt_listener_fd(const nt_listener *l)
{
    return l->fd;
}

int nt_accept(nt_listener *l, nt_conn **out, int64_t deadline, char *err, size_t errlen)
{
    *out = NULL;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            *out = nt_conn_from_fd(fd, NULL);
            if (!*out) {
                close(fd);
                nt__errbuf(err, errlen, "accept: out of memory");
                return NT_ERR;
            }
            return 0;
        }
        /* A client that connected and reset before accept is not our error. */
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            nt__errbuf(err, errlen, "accept: %s", strerror(errno));
            return NT_ERR;
        }
        int r = nt__wait(l->fd, POLLIN, deadline);
        if (r == NT_TIMEOUT) {
            nt__errbuf(err, errlen, "accept: timed out");
            return NT_TIMEOUT;
        }
        if (r == NT_ERR) {
            nt__errbuf(err, errlen, "poll: %s", strerror(errno));
            return NT_ERR;
        }
    }
}

void nt_listener_close(nt_listener *l)
{
    if (!l)
        return;
    close(l->fd);
    free(l);
}

/* ------------------------------------------------------------------------- */

int nt_buffer_init(nt_buffer *b, size_t initial, size_t max)
{
    memset(b, 0, sizeof *b);
    if (max == 0)
        return NT_ERR;
    if (initial == 0)
        initial = 1;
    if (initial > max)
        initial = max;
    b->buf = malloc(initial);
    if (!b->buf)
        return NT_ERR;
    b->cap = initial;
    b->max = max;
    return 0;
}

void nt_buffer_free(nt_buffer *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

const char *nt_buffer_data(const nt_buffer *b)
{
    return b->buf + b->start;
}

size_t nt_buffer_len(const nt_buffer *b)
{
    return b->end - b->start;
}

void nt_buffer_consume(nt_buffer *b, size_t n)
{
    size_t len = b->end - b->start;
    if (n >= len) {
        b->start = b->end = 0;
        return;
    }
    b->start += n;
}

size_t nt_buffer_clear(nt_buffer *b)
{
    size_t len = b->end - b->start;
    b->start = b->end = 0;
    return len;
}

/* Make room for `want` more octets at the end: compact first (cheap, keeps
 * memory flat for a steady stream of lines), grow only when still short. */
static size_t make_room(nt_buffer *b, size_t want)
{
    size_t len = b->end - b->start;
    if (b->cap - b->end >= want)
        return b->cap - b->end;
    if (b->start > 0) {
        memmove(b->buf, b->buf + b->start, len);
        b->start = 0;
        b->end = len;
    }
    if (b->cap - b->end >= want || b->cap >= b->max)
        return b->cap - b->end;
    size_t ncap = b->cap * 2 < b->cap ? b->max : b->cap * 2;
    if (ncap < len + want)
        ncap = len + want;
    if (ncap > b->max)
        ncap = b->max;
    char *nb = realloc(b->buf, ncap);
    if (nb) {
        b->buf = nb;
        b->cap = ncap;
    }
    return b->cap - b->end;
}

int nt_buffer_append(nt_buffer *b, const void *p, size_t n)
{
    size_t len = b->end - b->start;
    if (n > b->max - len)
        return NT_FULL;
    if (make_room(b, n) < n)
        return NT_ERR;
    memcpy(b->buf + b->end, p, n);
    b->end += n;
    return 0;
}

ssize_t nt_buffer_fill(nt_buffer *b, nt_conn *c, int64_t deadline)
{
    if (b->end - b->start >= b->max)
        return NT_FULL;
    size_t room = make_room(b, 4096);
    if (room == 0) {
        nt__err(c, "read: out of memory");
        return NT_ERR;
    }
    ssize_t n = nt_read(c, b->buf + b->end, room, deadline);
    if (n > 0)
        b->end += (size_t)n;
    return n;
}
