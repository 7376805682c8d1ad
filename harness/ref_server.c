#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "ref_int.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------
 * Users file.
 */

static void free_users(ref_server *srv)
{
    for (size_t i = 0; i < srv->nusers; i++) {
        OPENSSL_cleanse(srv->users[i].pass, strlen(srv->users[i].pass));
        free(srv->users[i].name);
        free(srv->users[i].pass);
    }
    free(srv->users);
    srv->users = NULL;
    srv->nusers = 0;
}

/* A user name must fit a USER argument: printable ASCII, no space
 * (RFC 1939 section 3), and it may name a sub-directory, so no "/". */
static int valid_user(const char *s, size_t n)
{
    if (n == 0 || n > REF_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F || s[i] == '/')
            return 0;
    return 1;
}

static int load_users(ref_server *srv, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(err, errlen, "users file %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, ucap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0 || line[0] == '#')
            continue;
        char *colon = memchr(line, ':', len);
        size_t ulen = colon ? (size_t)(colon - line) : 0;
        if (!colon || !valid_user(line, ulen) || len - ulen - 1 == 0) {
            set_err(err, errlen, "users file %s line %u: expected user:password", path, lineno);
            rc = -1;
            break;
        }
        if (srv->nusers == ucap) {
            size_t ncap = ucap ? ucap * 2 : 8;
            ref_user *nu = realloc(srv->users, ncap * sizeof *nu);
            if (!nu) {
                rc = -1;
                set_err(err, errlen, "out of memory");
                break;
            }
            srv->users = nu;
            ucap = ncap;
        }
        ref_user *u = &srv->users[srv->nusers];
        u->name = strndup(line, ulen);
        u->pass = strndup(colon + 1, len - ulen - 1);
        if (!u->name || !u->pass) {
            free(u->name);
            free(u->pass);
            rc = -1;
            set_err(err, errlen, "out of memory");
            break;
        }
        srv->nusers++;
    }
    if (line) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    fclose(f);
    return rc;
}

const char *ref_srv_password(const ref_server *srv, const char *name, size_t n)
{
    for (size_t i = 0; i < srv->nusers; i++)
        if (strlen(srv->users[i].name) == n && memcmp(srv->users[i].name, name, n) == 0)
            return srv->users[i].pass;
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Services for sessions.
 */

void ref_srv_timestamp(ref_server *srv, char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    /* RFC 1939 section 7: "the timestamp MUST be different each time the
     * POP3 server issues a banner greeting"; threads of one process share
     * the pid, so the clock part is forced to increase. */
    pthread_mutex_lock(&srv->mu);
    if (now <= srv->last_stamp)
        now = srv->last_stamp + 1;
    srv->last_stamp = now;
    pthread_mutex_unlock(&srv->mu);
    snprintf(out, cap, "<%ld.%llu@%s>", (long)getpid(), (unsigned long long)now, srv->hostname);
}

void ref_srv_log(ref_server *srv, uint64_t id, const char *fmt, ...)
{
    if (!srv->cfg.log)
        return;
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&srv->mu);
    fprintf(srv->cfg.log, "ref[%llu]: %s\n", (unsigned long long)id, buf);
    fflush(srv->cfg.log);
    pthread_mutex_unlock(&srv->mu);
}

void ref_srv_count(ref_server *srv, uint64_t *field)
{
    pthread_mutex_lock(&srv->mu);
    (*field)++;
    pthread_mutex_unlock(&srv->mu);
}

/* ---------------------------------------------------------------------------
 * Listeners.
 */

static int parse_port(const char *s, unsigned *port)
{
    unsigned v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > 65535)
            return -1;
    }
    *port = v;
    return 0;
}

/* "HOST:PORT", "[v6]:PORT". */
static int open_listener(const char *spec, int *fd_out, unsigned *port_out, char *err,
                         size_t errlen)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon) {
        set_err(err, errlen, "listen address %s: expected HOST:PORT", spec);
        return -1;
    }
    size_t hlen = (size_t)(colon - spec);
    const char *h = spec;
    if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    unsigned port;
    if (hlen == 0 || hlen >= sizeof host || parse_port(colon + 1, &port) != 0) {
        set_err(err, errlen, "listen address %s: expected HOST:PORT", spec);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        set_err(err, errlen, "listen address %s: %s", spec, gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_err(err, errlen, "listen %s: %s", spec, strerror(saved));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

static int write_port_file(const ref_server *srv, char *err, size_t errlen)
{
    const char *path = srv->cfg.port_file;
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        set_err(err, errlen, "port file name too long");
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        set_err(err, errlen, "port file %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (srv->lfd[0] >= 0)
        fprintf(f, "pop3 %u\n", srv->port[0]);
    if (srv->lfd[1] >= 0)
        fprintf(f, "pop3s %u\n", srv->port[1]);
    /* rename() makes the file appear complete: a test polling for it never
     * reads half of it. */
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        set_err(err, errlen, "port file %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Accept loop.
 */

/* The session has ended: close its socket under the lock, so that
 * ref_server_stop never shuts down a descriptor number already reused. */
static void finish(ref_server *srv, ref_link *l)
{
    pthread_mutex_lock(&srv->mu);
    close(l->fd);
    l->fd = -1;
    l->done = 1;
    srv->active--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

static void *session_thread(void *p)
{
    ref_link *l = p;
    ref_session_run(l->srv, l->fd, l->tls, l->id);
    finish(l->srv, l);
    return NULL;
}

/* Join and free the sessions that have ended (all of them when `all`,
 * waiting for the rest first). */
static void reap(ref_server *srv, int all)
{
    ref_link *gone = NULL;
    pthread_mutex_lock(&srv->mu);
    if (all)
        while (srv->active)
            pthread_cond_wait(&srv->cv, &srv->mu);
    for (ref_link **pp = &srv->links; *pp;) {
        ref_link *l = *pp;
        if (l->done) {
            *pp = l->next;
            l->next = gone;
            gone = l;
        } else {
            pp = &l->next;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    while (gone) {
        ref_link *next = gone->next;
        if (gone->threaded)
            pthread_join(gone->th, NULL);
        free(gone);
        gone = next;
    }
}

static void refuse(int fd)
{
    /* RFC 3206: SYS/TEMP, "likely temporary". */
    static const char msg[] = "-ERR [SYS/TEMP] too many sessions, try again later\r\n";
    ssize_t w = send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
    (void)w;
    close(fd);
}

static void *accept_loop(void *p)
{
    ref_server *srv = p;
    for (;;) {
        struct pollfd pfd[3];
        int idx[3];
        nfds_t n = 0;
        pfd[n].fd = srv->wake[0];
        pfd[n].events = POLLIN;
        idx[n++] = -1;
        for (int i = 0; i < 2; i++) {
            if (srv->lfd[i] >= 0) {
                pfd[n].fd = srv->lfd[i];
                pfd[n].events = POLLIN;
                idx[n++] = i;
            }
        }
        int r = poll(pfd, n, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[0].revents)
            break;
        int done = 0;
        for (nfds_t k = 1; k < n && !done; k++) {
            if (!(pfd[k].revents & POLLIN))
                continue;
            int tls = idx[k];
            int fd = accept4(srv->lfd[tls], NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            reap(srv, 0);
            pthread_mutex_lock(&srv->mu);
            srv->stats.sessions++;
            uint64_t id = ++srv->next_id;
            int full = srv->active >= srv->max_sessions;
            ref_link *l = full ? NULL : calloc(1, sizeof *l);
            if (l) {
                l->srv = srv;
                l->fd = fd;
                l->tls = tls;
                l->id = id;
                l->threaded = !srv->cfg.once;
                l->next = srv->links;
                srv->links = l;
                srv->active++;
            }
            pthread_mutex_unlock(&srv->mu);
            if (!l) {
                ref_srv_log(srv, id, "refused: %s", full ? "too many sessions" : "out of memory");
                refuse(fd);
                continue;
            }
            if (!l->threaded) {
                /* --once: this connection is the whole run. */
                session_thread(l);
                done = 1;
                break;
            }
            if (pthread_create(&l->th, NULL, session_thread, l) != 0) {
                l->threaded = 0;
                ref_srv_log(srv, id, "refused: cannot start a thread");
                pthread_mutex_lock(&srv->mu);
                shutdown(l->fd, SHUT_RDWR);
                pthread_mutex_unlock(&srv->mu);
                finish(srv, l);
            }
        }
        if (done)
            break;
    }
    pthread_mutex_lock(&srv->mu);
    srv->stopped = 1;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Public API.
 */

static void destroy(ref_server *srv)
{
    for (int i = 0; i < 2; i++)
        if (srv->lfd[i] >= 0)
            close(srv->lfd[i]);
    if (srv->wake[0] >= 0)
        close(srv->wake[0]);
    if (srv->wake[1] >= 0)
        close(srv->wake[1]);
    SSL_CTX_free(srv->tls);
    free_users(srv);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
}

static SSL_CTX *make_tls(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        set_err(err, errlen, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        set_err(err, errlen, "TLS: cannot use certificate %s: %s", cert,
                ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        set_err(err, errlen, "TLS: cannot use key %s: %s", key,
                ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int ref_server_start(const ref_config *cfg, ref_server **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->mailbox || !cfg->users || (!cfg->listen && !cfg->listen_tls)) {
        set_err(err, errlen, "a mailbox, a users file and a listen address are required");
        return -1;
    }
    if (cfg->listen_tls && !cfg->cert) {
        set_err(err, errlen, "implicit TLS needs a certificate and a key");
        return -1;
    }
    ref_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    srv->cfg = *cfg;
    srv->timeout = cfg->timeout ? cfg->timeout : 600;
    srv->max_sessions = cfg->max_sessions ? cfg->max_sessions : 64;
    srv->lfd[0] = srv->lfd[1] = -1;
    srv->wake[0] = srv->wake[1] = -1;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);

    /* The greeting's timestamp needs a host name that fits an RFC 822
     * msg-id: keep letters, digits, "-" and "." only. */
    char hn[256] = "";
    gethostname(hn, sizeof hn - 1);
    size_t k = 0;
    for (size_t i = 0; hn[i] && k + 1 < sizeof srv->hostname; i++) {
        char c = hn[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.')
            srv->hostname[k++] = c;
    }
    srv->hostname[k] = '\0';
    if (k == 0 || srv->hostname[0] == '.' || srv->hostname[k - 1] == '.')
        snprintf(srv->hostname, sizeof srv->hostname, "localhost");

    /* Every write uses MSG_NOSIGNAL, but OpenSSL writes with write(2). */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);

    if (load_users(srv, cfg->users, err, errlen) != 0)
        goto fail;
    if (cfg->cert) {
        srv->tls = make_tls(cfg->cert, cfg->key ? cfg->key : cfg->cert, err, errlen);
        if (!srv->tls)
            goto fail;
    }
    if (cfg->listen && open_listener(cfg->listen, &srv->lfd[0], &srv->port[0], err, errlen) != 0)
        goto fail;
    if (cfg->listen_tls &&
        open_listener(cfg->listen_tls, &srv->lfd[1], &srv->port[1], err, errlen) != 0)
        goto fail;
    if (pipe2(srv->wake, O_CLOEXEC) != 0) {
        set_err(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (cfg->port_file && write_port_file(srv, err, errlen) != 0)
        goto fail;
    if (pthread_create(&srv->acceptor, NULL, accept_loop, srv) != 0) {
        set_err(err, errlen, "cannot start the accept thread");
        goto fail;
    }
    srv->acceptor_started = 1;
    *out = srv;
    return 0;
fail:
    destroy(srv);
    return -1;
}

unsigned ref_server_port(const ref_server *srv, int tls)
{
    return srv->lfd[tls ? 1 : 0] >= 0 ? srv->port[tls ? 1 : 0] : 0;
}

void ref_server_kick(ref_server *srv)
{
    char c = 'x';
    ssize_t w = write(srv->wake[1], &c, 1);
    (void)w;
}

void ref_server_wait(ref_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    while (!srv->stopped)
        pthread_cond_wait(&srv->cv, &srv->mu);
    pthread_mutex_unlock(&srv->mu);
}

void ref_server_stop(ref_server *srv)
{
    if (!srv)
        return;
    ref_server_kick(srv);
    if (srv->acceptor_started)
        pthread_join(srv->acceptor, NULL);
    pthread_mutex_lock(&srv->mu);
    /* A session blocked in a read sees end of stream: it ends like a
     * dropped connection, without the UPDATE state (RFC 1939 section 6). */
    for (ref_link *l = srv->links; l; l = l->next)
        if (!l->done)
            shutdown(l->fd, SHUT_RDWR);
    pthread_mutex_unlock(&srv->mu);
    reap(srv, 1);
    destroy(srv);
}

void ref_server_stats(ref_server *srv, ref_stats *out)
{
    pthread_mutex_lock(&srv->mu);
    *out = srv->stats;
    pthread_mutex_unlock(&srv->mu);
}
