/*
 * ref_int.h - private to ref_*.c: the server structure the session code
 * reads, and the services ref_server.c gives to ref_session.c.
 */
#ifndef REF_INT_H
#define REF_INT_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ref.h"

/* Longest user name (users file, USER, AUTH PLAIN authcid). */
#define REF_MAX_NAME 255

typedef struct ref_user {
    char *name;
    char *pass;
} ref_user;

/* One session. The server shuts its socket down to stop it, and joins its
 * thread: a thread that is merely detached could still be releasing
 * OpenSSL's per-thread state when the process exits. */
typedef struct ref_link {
    struct ref_server *srv;
    int fd;          /* closed (under the lock) when the session ends */
    int tls;         /* implicit TLS */
    int done;        /* the session has ended; only the join is left */
    int threaded;    /* th is a thread to join */
    uint64_t id;
    pthread_t th;
    struct ref_link *next;
} ref_link;

struct ref_server {
    ref_config cfg;          /* strings belong to the caller */
    unsigned timeout;        /* seconds */
    unsigned max_sessions;
    ref_user *users;
    size_t nusers;
    SSL_CTX *tls;            /* NULL without a certificate */
    int lfd[2];              /* plain, implicit TLS; -1 when absent */
    unsigned port[2];
    int wake[2];             /* self-pipe: ref_server_kick */
    pthread_t acceptor;
    int acceptor_started;
    pthread_mutex_t mu;      /* guards everything below */
    pthread_cond_t cv;
    unsigned active;         /* session threads running */
    ref_link *links;
    int stopped;             /* the accept loop has ended */
    ref_stats stats;
    uint64_t last_stamp;     /* makes APOP timestamps unique */
    uint64_t next_id;
    char hostname[128];
};

/* Run one session on a connected socket (blocking). fd stays open: the
 * caller closes it once the session is unregistered, so that
 * ref_server_stop never shuts down a reused descriptor. tls: start with a
 * TLS handshake (implicit TLS, RFC 8314). */
void ref_session_run(ref_server *srv, int fd, int tls, uint64_t id);

/* Password of user name[0..n), or NULL. */
const char *ref_srv_password(const ref_server *srv, const char *name, size_t n);

/* "<pid.time@hostname>", unique per greeting (RFC 1939 section 7). */
void ref_srv_timestamp(ref_server *srv, char *out, size_t cap);

/* Log one line (when cfg.log is set), prefixed with the session id. */
void ref_srv_log(ref_server *srv, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add to a counter of srv->stats under the lock. */
void ref_srv_count(ref_server *srv, uint64_t *field);

#endif
